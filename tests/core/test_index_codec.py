"""The index's packed postings (issue 16): smaller on disk, the same answers.

``IndexCodec`` keeps each block's weights and values packed instead of pickled. Searching an
index written that way must find the same notebooks with the same scores, phrases included,
as Whoosh's own block format; and an index of the older format is rebuilt on its own.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import TEXT, Schema
from whoosh.index import FileIndex
from whoosh.searching import Searcher

from nbshelf.library import Library
from nbshelf.search.index import INDEX_VERSION, IndexCodec, forget_blocks
from nbshelf.search.rerank import term_positions
from tests.helpers import write_notebook

QUERIES = ["revenue", "groupby", '"read csv"', "region month", "pd.read_csv", "forecast*",
           "title:forecast", "import:pandas", "plot OR chart"]


def fill(lib: Library, share: Path) -> None:
    """Notebooks of varied prose and code, as a team's share has (a seeded vocabulary)."""
    lib.add_source(share, name="team")
    rng = random.Random(16)
    words = [f"{a}{b}" for a in ("rev", "reg", "mon", "sal", "for", "cas", "plo")
             for b in ("enue", "ion", "th", "es", "ecast", "t", "ting", "ual", "ar")]
    for i in range(80):
        prose = " ".join(rng.choice(words) for _ in range(rng.randint(20, 400)))
        write_notebook(
            share / f"team{i % 4}" / f"nb{i:02}.ipynb", title=f"Forecast {i} for region {i % 5}",
            markdown=[f"Summarise revenue by region and month, take {i}. {prose}"],
            code=["import pandas as pd\ndf = pd.read_csv('sales.csv')",
                  f"df.groupby('region').sum()  # {i}", "df.plot(kind='bar')" * (i % 4)])


def answers(lib: Library) -> list[list[tuple[str, float, int]]]:
    found = []
    for query in QUERIES:
        hits = lib.search(query, limit=100).hits
        found.append([(h.path, round(h.score, 5), len(h.snippets)) for h in hits])
    return found


def index_bytes(library_dir: Path) -> int:
    return sum(p.stat().st_size for p in (library_dir / "index").glob("*"))


def test_packed_postings_give_whooshs_answers_in_less_room(
        library: Library, share: Path, library_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    fill(library, share)
    library.sync()
    packed, packed_bytes = answers(library), index_bytes(library_dir)
    with monkeypatch.context() as patched:  # the same index, in Whoosh's own block format
        patched.setattr(IndexCodec, "postings_writer", W3Codec.postings_writer)
        patched.setattr(IndexCodec, "postings_reader", W3Codec.postings_reader)
        library.reindex()
        pickled, pickled_bytes = answers(library), index_bytes(library_dir)
    assert all(found for found in packed)  # every query finds something
    assert packed == pickled
    assert packed_bytes < 0.95 * pickled_bytes  # ~10% here; a fifth on a 10k share


def test_an_index_of_the_older_format_is_rebuilt(library: Library, share: Path,
                                                 library_dir: Path) -> None:
    fill(library, share)
    library.sync()
    expected = answers(library)
    library.close()
    (library_dir / "index" / "VERSION").write_text(str(int(INDEX_VERSION) - 1))
    with Library.open(library_dir) as lib:
        assert answers(lib) == expected
    assert (library_dir / "index" / "VERSION").read_text() == INDEX_VERSION


#: Words of the twin indexes: from one in every document to one in a few, so a word's
#: postings run from one block to a dozen (a block holds 128).
TWIN_WORDS = [f"w{k}" for k in range(12)]
TWIN_DOCS = 1500


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FileIndex]:
    """The same documents in two indexes: nbshelf's packed blocks, and Whoosh's own."""
    rng = random.Random(18)
    weights = [1 / (k + 1) ** 1.5 for k in range(len(TWIN_WORDS))]
    docs = [" ".join(rng.choices(TWIN_WORDS, weights, k=rng.randint(1, 40)))
            for _ in range(TWIN_DOCS)]
    found = {}
    for name, codec in (("packed", IndexCodec()), ("whoosh", W3Codec())):
        folder = tmp_path_factory.mktemp(name)
        index = whoosh_index.create_in(folder, Schema(body=TEXT(phrase=True)))
        writer = index.writer(codec=codec)
        for doc in docs:
            writer.add_document(body=doc)
        writer.commit()
        found[name] = index
    return found


def walk(searcher: Searcher, word: str) -> dict[int, list[int]]:
    """Every posting of ``word``, one step at a time: its documents and positions."""
    matcher = searcher.postings("body", word)
    found = {}
    while matcher.is_active():
        found[matcher.id()] = list(matcher.value_as("positions"))
        matcher.next()
    return found


@settings(max_examples=60, deadline=None)
@given(word=st.sampled_from(TWIN_WORDS),
       wanted=st.lists(st.integers(0, TWIN_DOCS - 1), unique=True).map(sorted))
def test_skipping_through_packed_postings_lands_where_whooshs_own_do(
        twins: dict[str, FileIndex], word: str, wanted: list[int]) -> None:
    """The word-pair check (``rerank.term_positions``) skips to chosen documents through
    the packed blocks: within a block by binary search, block headers read whole, blocks
    kept for the next reader. It must find the positions a step-by-step walk of Whoosh's
    own format finds, and each skip must land on the first posting at or after its
    target, across block ends."""
    with twins["packed"].searcher() as packed, twins["whoosh"].searcher() as own:
        everything = walk(own, word)
        assert len(everything) > 128 or word != "w0"  # the common words span blocks
        assert walk(packed, word) == everything
        expected = {d: everything[d] for d in wanted if d in everything}
        for _ in range(2):  # cold, then from the kept blocks
            assert {d: list(p) for d, p in term_positions(packed, word, wanted).items()} \
                == expected
        forget_blocks()
        ids = sorted(everything)
        matcher = packed.postings("body", word)
        for target in wanted:
            if not matcher.is_active():
                assert target > ids[-1]
                continue
            matcher.skip_to(target)
            after = [d for d in ids if d >= target]
            if after:
                assert matcher.is_active() and matcher.id() == after[0]
                assert list(matcher.value_as("positions")) == everything[after[0]]
            else:
                assert not matcher.is_active()


def test_a_block_header_longer_than_read_at_once_is_read_as_whoosh_reads_it(
        twins: dict[str, FileIndex], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("nbshelf.search.index._HEADER_BYTES", 8)  # cuts every header short
    forget_blocks()
    with twins["packed"].searcher() as packed, twins["whoosh"].searcher() as own:
        for word in TWIN_WORDS:
            assert walk(packed, word) == walk(own, word)
