"""The index's packed postings (issue 16): smaller on disk, the same answers.

``IndexCodec`` keeps each block's weights and values packed instead of pickled. Searching an
index written that way must find the same notebooks with the same scores, phrases included,
as Whoosh's own block format; and an index of the older format is rebuilt on its own.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from whoosh.codec.whoosh3 import W3Codec

from nbshelf.library import Library
from nbshelf.search.index import INDEX_VERSION, IndexCodec
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
