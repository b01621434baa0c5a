"""Search by meaning (issue 18): related terms learned from the library itself (LSA over
the similarity model's TF-IDF), fused with keyword search below the exact matches, each hit
saying why; identifier queries rank as before; filters hold; a missing, damaged or
unlearnable model is keyword search, never an error."""

from __future__ import annotations

import json
import logging
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nbshelf.library import Library
from nbshelf.search.service import SearchResults
from nbshelf.similar.related import RELATED_FILE
from tests.core.meaning_library import MERGE_ONLY, write_topic_notebooks
from tests.helpers import run_cli, write_notebook


@pytest.fixture
def shelf(library: Library, share: Path) -> Library:
    """51 notebooks in six topics (and two about csv files), synced: the sync fits the
    similarity model and the related terms with it."""
    write_topic_notebooks(share)
    library.add_source(share, name="team")
    library.sync()
    return library


def related_file(lib: Library) -> Path:
    return lib.root / "similar" / RELATED_FILE


def by_title(result: SearchResults, title: str):  # noqa: ANN201 - a SearchHit or None
    return next((h for h in result.hits if h.title == title), None)


def test_a_word_learned_from_the_library_finds_the_notebook_that_only_says_merge(
    shelf: Library,
) -> None:
    result = shelf.search("combine")
    exact = [h for h in result.hits if not h.by_meaning]
    # every exact match says "combine"; they come first, and the count is theirs alone
    assert result.total == len(exact) == 8 and result.hits[: len(exact)] == exact
    hit = by_title(result, MERGE_ONLY)
    assert hit is not None and hit.by_meaning and not hit.partial
    assert "merge" in hit.reason and "combine" in hit.reason and hit.reason.startswith("about:")
    assert hit.best_cell == 4  # the cell that merges and joins, not the title or the prose
    assert result.meaning_total >= 1
    assert all(not h.by_meaning and h.reason == "" and h.best_cell is None for h in exact)
    payload = result.to_json()
    row = next(r for r in payload["results"] if r["title"] == MERGE_ONLY)
    assert (row["by_meaning"], row["best_cell"]) == (True, 4) and row["reason"] == hit.reason
    assert payload["meaning_total"] == result.meaning_total
    # keyword search alone does not find it: the words are not there
    assert by_title(shelf.search("combine", meaning=False), MERGE_ONLY) is None
    assert shelf.search("combine", meaning=False).meaning_total == 0


def test_the_app_list_carries_meaning_hits_and_their_reasons(shelf: Library) -> None:
    found = shelf.search_matches("combine", limit=200)
    merge_only = next(h.id for h in shelf.search("combine").hits if h.title == MERGE_ONLY)
    assert merge_only in found.ids[found.total:] and "merge" in found.reasons[merge_only]
    assert found.total == 8 and found.meaning_total >= 1
    plain = shelf.search_matches("combine", limit=200, meaning=False)
    assert merge_only not in plain.ids and not plain.reasons
    ids, total = shelf.search_ids("combine", meaning=False)
    assert merge_only not in ids and total == 8


@pytest.mark.parametrize("query", ["pd.read_csv", "read_csv", "read csv"])
def test_identifier_queries_rank_exactly_as_without_meaning(shelf: Library, query: str) -> None:
    words = shelf.search(query, meaning=False)
    both = shelf.search(query)
    before = [(h.id, h.partial, h.missing) for h in words.hits]
    assert [(h.id, h.partial, h.missing) for h in both.hits[: len(before)]] == before
    assert both.hits[0].title == "Reading CSV files"
    assert all(h.by_meaning and not h.partial for h in both.hits[len(before):])
    assert both.total == words.total
    ids = shelf.search_matches(query, limit=200)
    assert ids.ids[: len(words.hits)] == [h.id for h in words.hits]


def test_meaning_hits_pass_the_query_filters_and_exclusions(shelf: Library) -> None:
    assert by_title(shelf.search("combine"), MERGE_ONLY) is not None
    assert by_title(shelf.search("combine -ledger"), MERGE_ONLY) is None
    kept = shelf.search("combine path:accounts")
    assert [(h.title, h.by_meaning) for h in kept.hits] == [(MERGE_ONLY, True)]
    assert kept.total == 0  # no notebook in that folder says "combine"
    assert not [h for h in shelf.search("combine path:files").hits if h.by_meaning]
    assert not shelf.search('combine "left join" source:nowhere').hits


def test_a_query_the_model_does_not_know_adds_nothing(shelf: Library) -> None:
    assert shelf.search("zyxwvut").hits == [] and shelf.search("zyxwvut").meaning_total == 0
    # filters alone: nothing to read for meaning
    assert not [h for h in shelf.search("path:accounts").hits if h.by_meaning]


def same_as_keywords(lib: Library, query: str) -> None:
    with_meaning = lib.search(query)
    words = lib.search(query, meaning=False)
    assert [h.id for h in with_meaning.hits] == [h.id for h in words.hits]
    assert not any(h.by_meaning for h in with_meaning.hits)
    assert with_meaning.meaning_total == 0 and with_meaning.total == words.total == 8


def test_a_missing_model_is_keyword_search_until_the_next_refit(shelf: Library) -> None:
    """An old library (a similarity model, no related terms): keyword search, no error;
    ``nbshelf reindex`` (any refit) learns them."""
    related_file(shelf).unlink()
    same_as_keywords(shelf, "combine")
    shelf.reindex()
    assert related_file(shelf).is_file()
    assert by_title(shelf.search("combine"), MERGE_ONLY) is not None


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_a_damaged_model_is_keyword_search_with_one_line_in_the_log(
    shelf: Library, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert by_title(shelf.search("combine"), MERGE_ONLY) is not None  # loaded once, good
    path = related_file(shelf)
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"\x00garbage" * 999,
                      "empty": b""}[damage])
    with caplog.at_level(logging.INFO):
        same_as_keywords(shelf, "combine")
        same_as_keywords(shelf, "combine tables")
    said = [r for r in caplog.records if "meaning" in r.getMessage()]
    assert len(said) <= 1 and all(r.levelno <= logging.WARNING for r in said)


def test_a_library_too_small_to_learn_from_searches_by_keyword(
    library: Library, share: Path
) -> None:
    for n in range(6):
        write_notebook(share / f"nb{n}.ipynb", title=f"Combine tables {n}",
                       markdown=["Combine with a merge."], code=["pd.merge(a, b)"])
    write_notebook(share / "join.ipynb", title="Join", code=["a.join(b)"])
    library.add_source(share, name="team")
    library.sync()
    assert (library.root / "similar").is_dir() and not related_file(library).exists()
    result = library.search("combine")
    assert result.total == 6 and not any(h.by_meaning for h in result.hits)


def test_the_related_terms_are_refitted_with_the_similarity_model(
    shelf: Library, share: Path
) -> None:
    # over a tenth of the library is new: the refit is due
    write_topic_notebooks(share / "more", per_topic=1, seed=7, extras=False)
    new = "Totals by region"  # groups and aggregates; never says "summary"
    write_notebook(share / "regions" / "totals.ipynb", title=new,
                   markdown=["Revenue by region and month."],
                   code=["import pandas as pd",
                         "totals = sales.groupby('region').agg(['sum', 'mean'])"])
    shelf.sync(index=False)
    shelf.refresh_index()
    before = related_file(shelf).stat().st_mtime_ns
    assert by_title(shelf.search("summary"), new) is None  # not in the model yet
    assert shelf.refresh_similar()
    assert related_file(shelf).stat().st_mtime_ns != before
    hit = by_title(shelf.search("summary"), new)
    assert hit is not None and hit.by_meaning and "groupby" in hit.reason


def test_the_command_line_lists_meaning_hits_under_their_own_heading(
    shelf: Library, library_dir: Path
) -> None:
    shelf.close()
    out = run_cli(library_dir, "search", "combine")
    assert out.code == 0, out.stderr
    head, _, rest = out.stdout.partition("Also about the same thing:")
    assert "8 notebooks:" in head and MERGE_ONLY not in head
    assert MERGE_ONLY in rest and "about: " in rest and "merge" in rest and "(cell 5)" in rest
    as_json = json.loads(run_cli(library_dir, "search", "combine", "--json").stdout)
    row = next(r for r in as_json["results"] if r["title"] == MERGE_ONLY)
    assert row["by_meaning"] is True and row["best_cell"] == 4 and "merge" in row["reason"]
    assert as_json["total"] == 8 and as_json["meaning_total"] >= 1
    words = run_cli(library_dir, "search", "combine", "--words-only", "--json")
    assert words.code == 0
    plain = json.loads(words.stdout)
    assert not any(r["by_meaning"] for r in plain["results"]) and plain["meaning_total"] == 0
    assert "Also about" not in run_cli(library_dir, "search", "combine", "--words-only").stdout


def test_words_side_by_side_come_first_among_the_exact_matches_by_meaning(
    library: Library, share: Path
) -> None:
    """Among notebooks with every word, the one that says the question's words together
    ("warehouse inventory") is about it; one that says them apart more often ranks first
    by BM25 alone. Groups never mix: every exact match still precedes the partial ones."""
    write_topic_notebooks(share)
    write_notebook(share / "stock" / "apart.ipynb", title="Stock notes",
                   markdown=["The warehouse keeps a list. Inventory is counted weekly; the "
                             "warehouse staff count inventory by hand.",
                             "Each warehouse reports inventory."])
    write_notebook(share / "stock" / "together.ipynb", title="Stock levels",
                   markdown=["We load the warehouse inventory once."])
    write_notebook(share / "stock" / "half.ipynb", title="Stock moves",
                   markdown=["Every warehouse has a loading bay."])
    library.add_source(share, name="team")
    library.sync()
    words = [h.title for h in library.search("warehouse inventory", meaning=False).hits]
    assert words[:2] == ["Stock notes", "Stock levels"]  # BM25: more mentions first
    found = library.search("warehouse inventory")
    assert [h.title for h in found.hits[:2]] == ["Stock levels", "Stock notes"]
    assert found.total == 2 and [h.partial for h in found.hits[:3]] == [False, False, True]
    assert found.hits[2].title == "Stock moves"


def test_filters_are_checked_for_the_candidates_only_with_the_same_answer(
    shelf: Library,
) -> None:
    """``members`` (the filter check of meaning and partial hits) agrees with running the
    filter over the whole index; and each model row's document number with the index's."""
    from whoosh import query as wq

    from nbshelf.search.meaning import _document_numbers
    from nbshelf.search.partial import members

    searcher = shelf.searching.index.searcher()
    model = shelf._searching.meaning.model()
    assert model is not None
    numbers = _document_numbers(searcher, model)
    assert [None if n < 0 else int(n) for n in numbers] == [
        searcher.document_number(hash=h) for h in model.hashes]
    everything = list(range(searcher.doc_count_all()))
    for query in (wq.Term("lang", "python"), wq.Term("path", "accounts"),
                  wq.Or([wq.Term("body", "merg"), wq.Term("body", "plot")])):
        whole = set(searcher.docs_for_query(query))
        assert members(searcher, query, everything) == whole
        some = everything[::3]
        assert members(searcher, query, reversed(some)) == whole & set(some)
    assert members(searcher, wq.Term("lang", "python"), []) == set()


@pytest.mark.parametrize("pair", ["time series", "summary statistics", "left join",
                                  "read csv", "merge datasets", "series time"])
def test_words_side_by_side_are_those_a_phrase_query_finds(shelf: Library, pair: str) -> None:
    from nbshelf.search.matchers import ExactPhrase
    from nbshelf.search.query import BODY, field_terms
    from nbshelf.search.rerank import _side_by_side, term_positions

    def side_by_side(terms: list[str], docnums: list[int]) -> set[int]:
        return _side_by_side([term_positions(searcher, t, docnums) for t in terms])

    searcher = shelf.searching.index.searcher()
    terms = field_terms("markdown", pair)
    everything = list(range(searcher.doc_count_all()))
    whole = set(searcher.docs_for_query(ExactPhrase(BODY, terms)))
    assert whole or pair == "series time"  # the pairs the topics say are found
    assert side_by_side(terms, everything) == whole
    some = everything[1::2]
    assert side_by_side(terms, some) == whole & set(some)


@pytest.mark.parametrize("query", ["combine", "lang:python combine tables", "pd.merge"])
def test_preparing_search_ahead_changes_no_answer(shelf: Library, query: str) -> None:
    """The app prepares search when a library opens (the model, the index's tables):
    answers are those of a reader that did not."""
    with Library.open(shelf.root, readonly=True) as cold, \
            Library.open(shelf.root, readonly=True) as warm:
        warm.prepare_search()
        got, expected = warm.search(query), cold.search(query)
        assert [(h.id, h.by_meaning, h.partial, h.reason) for h in got.hits] == [
            (h.id, h.by_meaning, h.partial, h.reason) for h in expected.hits]
        assert (got.total, got.meaning_total) == (expected.total, expected.meaning_total)
    assert by_title(got, MERGE_ONLY) is not None or query != "combine"


@pytest.mark.parametrize("state", ["new", "no model", "damaged model", "no index"])
def test_preparing_search_never_fails(library: Library, share: Path, state: str) -> None:
    if state != "new":
        write_topic_notebooks(share)
        library.add_source(share, name="team")
        library.sync()
    if state == "no model":
        related_file(library).unlink()
    elif state == "damaged model":
        related_file(library).write_bytes(b"\x00garbage" * 999)
    elif state == "no index":
        shutil.rmtree(library.root / "index")
    with Library.open(library.root, readonly=True) as reader:
        reader.prepare_search()
        if state in ("no model", "damaged model"):
            assert not any(h.by_meaning for h in reader.search("combine").hits)


QUESTION_WORDS = ["time", "series", "merge", "combine", "tables", "left", "join", "the", "a",
                  "per", "category", "summary", "statistics", "Time", "数据", "np.linspace",
                  "read_csv", "don't", "x"]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # read, never changed
@given(words=st.lists(st.sampled_from(QUESTION_WORDS), min_size=1, max_size=7),
       pick=st.randoms(use_true_random=False))
# a middle word more common than both its neighbours, in notebooks with only one of its pairs
@example(words=["time", "series", "merge"], pick=random.Random(0))
def test_word_pairs_side_by_side_agree_with_phrase_queries(
    shelf: Library, words: list[str], pick: random.Random
) -> None:
    """Any question a user types: each candidate's share of the question's word pairs
    written side by side is the share of those pairs a phrase query finds in it (terms
    walked once, rarest first, and only where a pair can still stand, must not change it)."""
    from whoosh import query as wq

    from nbshelf.search.matchers import ExactPhrase
    from nbshelf.search.query import BODY, field_terms, parse
    from nbshelf.search.rerank import adjacent_pairs, adjacent_shares

    searcher = shelf.searching.index.searcher()
    everything = list(range(searcher.doc_count_all()))
    docnums = pick.sample(everything, pick.randint(1, len(everything)))
    pairs = adjacent_pairs(parse(" ".join(words)))
    expected = [0.0] * len(docnums)
    for first, second in pairs:
        terms = field_terms("markdown", f"{first} {second}")
        phrase = (ExactPhrase(BODY, terms) if len(terms) > 1
                  else wq.Term(BODY, terms[0]) if terms else wq.NullQuery)
        holding = set(searcher.docs_for_query(phrase))
        expected = [e + (d in holding) / len(pairs) for e, d in zip(expected, docnums,
                                                                     strict=True)]
    assert adjacent_shares(searcher, pairs, docnums).tolist() == pytest.approx(expected)
