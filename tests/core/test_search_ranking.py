"""Ranking of identifier-like queries: code that calls the name, in the library's languages,
comes before notebooks that only have its words (issue 15, point 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbshelf.library import Library
from nbshelf.search import ranking
from nbshelf.search.analysis import called_names
from nbshelf.search.query import parse
from nbshelf.search.ranking import called_forms
from nbshelf.search.service import top_matches
from tests.helpers import write_notebook

JULIA = {"kernelspec": {"name": "julia-1.10", "language": "julia", "display_name": "Julia"},
         "language_info": {"name": "julia"}}


#: A notebook's other work: long notebooks, where a call is one line among many.
WORK = [f"step{i} = monthly.rolling({i + 2}).mean()\nstep{i}.plot(title='window {i + 2}')"
        for i in range(8)]


@pytest.fixture
def mostly_python(library: Library, share: Path) -> Library:
    """Three long Python notebooks that call ``pd.read_csv(`` once among other work, two
    that do not, and one short Julia notebook that reads its CSV file with ``CSV.read`` and
    says "read" and "CSV" often (on words alone it is the best match: short, and full of
    both words)."""
    for name, topic in (("sales", "revenue by region"), ("churn", "customer churn"),
                        ("traffic", "road traffic counts")):
        write_notebook(
            share / "python" / f"{name}.ipynb", title=f"Analysis of {topic}",
            markdown=[f"We look at {topic} over the last five years, month by month, "
                      "and compare the seasons with each other."],
            code=["import pandas as pd\nimport numpy as np",
                  f"df = pd.read_csv('{name}.txt')",
                  "monthly = df.groupby('month').sum()\nmonthly.plot()",
                  *WORK],
        )
    for name in ("weather", "budget"):  # notebooks with neither word, as most are
        write_notebook(share / "python" / f"{name}.ipynb", title=f"Notes on {name}",
                       code=WORK[:4])
    write_notebook(
        share / "julia" / "load.ipynb", title="Read a CSV file",
        markdown=["Read the CSV: CSV.jl reads CSV files fast. Read CSV, read CSV again."],
        code=["using CSV, DataFrames\ndf = CSV.read(\"data.csv\", DataFrame)",
              "by_month = combine(groupby(df, :month), :x => sum)"],
        metadata=JULIA,
    )
    library.add_source(share, name="team")
    library.sync()
    return library


def languages(library: Library, query: str) -> list[str | None]:
    return [hit.language for hit in library.search(query).hits]


@pytest.mark.parametrize("query", ["read csv", "read_csv", "pd.read_csv",
                                   "read csv OR csv*"])  # the last: as the window types it
def test_python_notebooks_calling_read_csv_rank_above_julias_csv_read(
    mostly_python: Library, query: str
) -> None:
    found = languages(mostly_python, query)
    assert found[:3] == ["python"] * 3, found
    if query.startswith("read csv"):
        assert found[3:] == ["julia"]  # still found: only the order changed


def test_a_name_both_languages_call_ranks_the_dominant_language_first(
    mostly_python: Library,
) -> None:
    # Julia's notebook calls groupby( once too, and is the shortest (on words alone, the
    # best): Python, most of the library, comes first.
    found = languages(mostly_python, "groupby")
    assert found == ["python", "python", "python", "julia"], found


def test_the_order_is_the_words_order_without_the_bonuses(
    mostly_python: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the bonuses change: without them, the Julia notebook full of the words is first.
    monkeypatch.setattr(ranking, "LANGUAGE_BONUS", 0.0)
    assert languages(mostly_python, "groupby")[0] == "julia"  # all four call it
    monkeypatch.setattr(ranking, "CALL_BONUS", 0.0)
    assert languages(mostly_python, "read csv")[0] == "julia"


def test_prose_queries_are_not_reordered(mostly_python: Library) -> None:
    # "month" is no name anything calls: the query is searched as it always was.
    searcher = mostly_python.index.searcher()
    query = parse("month").query
    assert not searcher.doc_frequency("calls", "month")
    assert ranking.ranked(searcher, "month", query) is query
    scores = {h["hash"]: h.score for h in top_matches(searcher, query, None)}
    hits = mostly_python.search("month").hits
    assert len(hits) == len(scores) > 1
    assert [round(h.score, 6) for h in hits] == sorted(
        (round(s, 6) for s in scores.values()), reverse=True)


def test_called_names_and_the_forms_a_query_spells() -> None:
    code = ("df = pd.read_csv('x.csv')\nCSV.read(f, DataFrame)\nif (x): print(1)\n"
            "m = df.groupby('a').sum()\nread.csv('a.csv')")
    assert called_names(code) == ["readcsv", "pdreadcsv", "read", "csvread", "groupby",
                                  "dfgroupby", "sum", "csv"]
    assert called_forms("read csv") == ["readcsv"]
    assert called_forms("train test split") == ["traintest", "testsplit", "traintestsplit"]
    assert called_forms("read_csv") == ["readcsv"]
    assert called_forms("lang:julia read csv -foo") == ["readcsv"]
    assert called_forms('"read csv"') == []


def test_a_lone_word_written_more_than_called_is_not_taken_for_a_name(
    library: Library, share: Path
) -> None:
    for i in range(3):
        write_notebook(share / f"prose{i}.ipynb", title=f"Notes {i}",
                       markdown=["Then we plot the data and look at the plot."])
    write_notebook(share / "calls.ipynb", title="Plotting", code=["plt.plot([1, 2])"])
    library.add_source(share, name="team")
    library.sync()
    searcher = library.index.searcher()
    plot = parse("plot").query
    assert searcher.doc_frequency("calls", "plot") == 1
    assert ranking.ranked(searcher, "plot", plot) is plot  # a word here: BM25 alone
    assert ranking.ranked(searcher, "plt.plot", plot) is not plot  # clearly a name
