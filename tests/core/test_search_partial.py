"""Forgiving matching (issue 18, first point): when few notebooks have every word of a
query, the best notebooks with most of the words follow the exact ones, marked with what
they lack; a word no notebook mentions is dropped with a note. Filters, phrases and
exclusions stay strict, and identifier queries rank their exact matches as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbshelf.library import Library
from nbshelf.search.partial import PARTIAL_BELOW
from nbshelf.search.query import parse
from nbshelf.search.ranking import ranked
from nbshelf.search.service import SearchResults, top_matches
from tests.helpers import run_cli, write_notebook

JULIA = {"kernelspec": {"name": "julia-1.9", "language": "julia", "display_name": "Julia"}}


@pytest.fixture
def shelf(library: Library, share: Path) -> Library:
    """One notebook with "time series" (and pandas), others with one of the words, one
    with only "resampling" said many times, one with two words lost in a long text, a
    Julia one, and identifiers for "read csv"."""
    write_notebook(share / "ts.ipynb", title="Working with Time Series",
                   markdown=["A time series indexed by dates, resampling by month."],
                   code=["import pandas as pd\ns = pd.Series(range(3)).resample('M').mean()"])
    write_notebook(share / "clock.ipynb", title="Timing code",
                   markdown=["Measure the time a loop takes."], code=["import time"])
    write_notebook(share / "taylor.ipynb", title="Taylor series",
                   markdown=["A power series expansion."],
                   code=["x = 1"])
    write_notebook(share / "power.ipynb", title="Power",
                   markdown=["Power, power and power: " + "power " * 30], code=["y = 2"])
    write_notebook(share / "resample.ipynb", title="Resampling",
                   markdown=["Resampling, resampling and resampling again."], code=["z = 3"])
    write_notebook(share / "notes.ipynb", title="Assorted notes",
                   markdown=["Filler words. " * 60 + "One power here, one series there."])
    write_notebook(share / "julia.ipynb", title="Julia timing",
                   markdown=["The time a Julia loop takes."], code=["@time f()"],
                   metadata=JULIA)
    write_notebook(share / "pivot.ipynb", title="Pivot Tables",
                   markdown=["Summarise revenue by region."],
                   code=["import pandas as pd\ndf = pd.read_csv('sales.csv')"])
    write_notebook(share / "csvjl.ipynb", title="CSV in Julia",
                   code=["using CSV\ndf = CSV.read(\"sales.csv\", DataFrame)"], metadata=JULIA)
    write_notebook(share / "reading.ipynb", title="Reading notes",
                   markdown=["Read the manual before the first run."])
    write_notebook(share / "csvtext.ipynb", title="Plain text tables",
                   markdown=["A csv file is text with commas."])
    library.add_source(share, name="team")
    library.sync()
    return library


def titles(result: SearchResults, *, partial: bool) -> list[str]:
    return [h.title for h in result.hits if h.partial is partial]


def coordination(result: SearchResults, words: int) -> list[tuple[int, float]]:
    """(words matched, score) of each partial hit, in order."""
    return [(words - len(h.missing), h.score) for h in result.hits if h.partial]


def test_partial_matches_follow_the_exact_ones_marked_with_what_they_lack(
    shelf: Library,
) -> None:
    result = shelf.search("time series")
    assert titles(result, partial=False) == ["Working with Time Series"]
    assert result.total == 1 and result.partial_total == 4 and result.partial
    partial = [(h.title, h.missing) for h in result.hits if h.partial]
    assert sorted(partial) == [("Assorted notes", ("time",)), ("Julia timing", ("series",)),
                               ("Taylor series", ("time",)), ("Timing code", ("series",))]
    assert not result.hits[0].partial and all(h.partial for h in result.hits[1:])
    assert result.note is None and result.dropped == []
    json = result.to_json()
    assert json["total"] == 1 and json["partial_total"] == result.partial_total
    assert [r["partial"] for r in json["results"]] == [h.partial for h in result.hits]
    assert json["results"][1]["missing"] == list(result.hits[1].missing)


def test_more_words_matched_rank_first_then_the_score(shelf: Library) -> None:
    result = shelf.search("time series power")
    assert result.total == 0
    ranks = coordination(result, 3)
    assert ranks == sorted(ranks, key=lambda r: (-r[0], -r[1]))
    # "Resampling" says its one word in its title and three times more: it scores more
    # than "Assorted notes", which has two of the words in a long text, yet comes after it.
    result = shelf.search("time series power resampling")
    ranks = coordination(result, 4)
    assert ranks == sorted(ranks, key=lambda r: (-r[0], -r[1]))
    one, two = (next(h for h in result.hits if h.title == title)
                for title in ("Resampling", "Assorted notes"))
    assert len(one.missing) == 3 and len(two.missing) == 2 and one.score > two.score
    assert result.hits.index(two) < result.hits.index(one)


def test_a_word_no_notebook_mentions_is_dropped_with_a_note(shelf: Library) -> None:
    result = shelf.search("forecast time series")
    assert result.total == 0 and result.dropped == ["forecast"]
    assert result.note == "No notebook mentions “forecast”; showing “time series”."
    assert result.hits[0].title == "Working with Time Series"
    assert result.hits[0].missing == ("forecast",)  # every hit lacks it
    assert all(h.partial and "forecast" in h.missing for h in result.hits)
    assert result.partial_total == len(result.hits)
    # Filters, phrases and exclusions stay in what is shown.
    assert shelf.search("zorblax time series -pandas").note == (
        "No notebook mentions “zorblax”; showing “time series -pandas”.")


def test_filters_phrases_and_exclusions_stay_strict(shelf: Library) -> None:
    julia = shelf.search("time series lang:julia")
    assert julia.total == 0 and titles(julia, partial=True) == ["Julia timing"]
    phrase = shelf.search('"power series" expansion resampling')
    assert phrase.total == 0 and titles(phrase, partial=True) == ["Taylor series"]
    assert phrase.hits[0].missing == ("resampling",)
    excluded = shelf.search("time series -pandas")
    assert excluded.total == 0
    assert "Working with Time Series" not in titles(excluded, partial=True)
    assert set(titles(excluded, partial=True)) >= {"Timing code", "Taylor series"}
    prefix = shelf.search("resampl* time series")  # a prefix is no plain word: required
    assert titles(prefix, partial=False) == ["Working with Time Series"]
    assert titles(prefix, partial=True) == []


def test_a_one_word_query_has_no_partial_matches(shelf: Library) -> None:
    assert not shelf.search("resampling").partial
    assert shelf.search("zorblax").hits == [] and shelf.search("zorblax").note is None
    assert shelf.search("zorblax quuxly").hits == []  # no word anywhere: nothing to show


def test_many_exact_matches_need_no_partial_ones(library: Library, share: Path) -> None:
    for i in range(PARTIAL_BELOW):
        write_notebook(share / f"ts{i}.ipynb", title=f"Time series {i}")
    write_notebook(share / "clock.ipynb", title="Timing", markdown=["the time"])
    library.add_source(share, name="team")
    library.sync()
    result = library.search("time series")
    assert result.total == PARTIAL_BELOW and not result.partial and result.partial_total == 0


@pytest.mark.parametrize("query", ["read csv", "pd.read_csv", "read_csv", "csv read"])
def test_identifier_queries_rank_their_exact_matches_as_before(
    shelf: Library, query: str
) -> None:
    # The ranking before partial matches: the exact query with the call bonuses, alone.
    searcher = shelf.index.searcher()
    before = [(h["hash"], round(h.score, 6)) for h in
              top_matches(searcher, ranked(searcher, query, parse(query).query), None)]
    result = shelf.search(query)
    exact = [(shelf.show(h.id).content_hash, round(h.score, 6))
             for h in result.hits if not h.partial]
    assert exact == before and result.total == len(before)
    if query != "csv read":  # (that one spells CSV.read: the Julia notebook first)
        assert titles(result, partial=False)[0] == "Pivot Tables"
    if len(query.split()) > 1:  # "read" alone, "csv" alone: after every exact match
        assert set(titles(result, partial=True)) == {"Reading notes", "Plain text tables"}
        assert all(h.partial for h in result.hits[len(before):])


@pytest.mark.parametrize("query", ["time series", "forecast time series", "read csv",
                                   "time series lang:julia", "time series -pandas",
                                   "resampling", "zorblax", '"region by revenue"'])
def test_search_ids_agree_with_search(shelf: Library, query: str) -> None:
    result = shelf.search(query, limit=50)
    found = shelf.search_matches(query, limit=50)
    assert found.ids == [h.id for h in result.hits]
    assert found.missing == {h.id: h.missing for h in result.hits if h.partial}
    assert (found.total, found.partial_total) == (result.total, result.partial_total)
    assert (found.dropped, found.note) == (result.dropped, result.note)
    assert shelf.search_ids(query, limit=50) == (found.ids, found.total)
    # a pack of a query's notebooks takes its exact matches only
    exact = [h.id for h in result.hits if not h.partial]
    assert shelf.search_ids(query, partial=False) == (exact, result.total)


def test_the_limit_counts_exact_and_partial_hits(shelf: Library) -> None:
    result = shelf.search("time series", limit=2)
    assert len(result.hits) == 2 and result.hits[1].partial
    assert result.partial_total == shelf.search("time series").partial_total
    assert shelf.search_ids("time series", limit=2)[0] == [h.id for h in result.hits]


def test_a_phrase_nothing_has_is_read_as_its_words_lacking_the_phrase(shelf: Library) -> None:
    result = shelf.search('"region by revenue"')
    assert result.total == 0 and result.hits[0].title == "Pivot Tables"
    assert result.hits[0].partial and result.hits[0].missing == ('"region by revenue"',)


def test_the_command_line_lists_partial_matches_under_their_own_line(
    shelf: Library, library_dir: Path
) -> None:
    out = run_cli(library_dir, "search", "forecast time series")
    assert out.code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "No notebook mentions “forecast”; showing “time series”."
    assert "no notebook matches 'forecast time series'" in lines
    at = lines.index(next(line for line in lines
                          if line.startswith("Also matching some of the words")))
    assert "Working with Time Series" in lines[at + 1]
    assert lines[at + 2].strip() == "lacks: forecast"

    mixed = run_cli(library_dir, "search", "time series").stdout.splitlines()
    assert mixed[0] == "1 notebooks:" and "Working with Time Series" in mixed[1]
    also = next(i for i, line in enumerate(mixed) if line.startswith("Also matching"))
    assert also > 1 and "lacks: " in mixed[also + 2]

    report = run_cli(library_dir, "search", "forecast time series", "--json").json
    assert report["total"] == 0 and report["partial_total"] >= 3
    assert report["dropped"] == ["forecast"] and report["note"].startswith("No notebook")
    first = report["results"][0]
    assert first["partial"] is True and first["missing"] == ["forecast"]
    assert isinstance(report["partial_total"], int)
