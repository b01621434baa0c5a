"""The core of forgiving search (issue 15, point 4): the typed last word as a prefix,
corrections that keep the query's syntax, plain-text snippets, and marks in a rendered page
that touch text only."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat import v4

from nbshelf.library import Library
from nbshelf.render import render_notebook
from nbshelf.render.highlight_terms import mark_terms
from nbshelf.search.marks import TermMarks
from nbshelf.search.plaintext import markdown_text, tex_text
from nbshelf.search.typed import as_you_type
from tests.helpers import write_notebook


@pytest.mark.parametrize(("typed", "searched"), [
    ("regre", "regre OR regre*"),
    ("linear regre", "linear regre OR regre*"),
    ("regression ", "regression"),  # a space ends the word: exact
    ('"linear regre', '"linear regre'),  # inside an open quote
    ("lang:pyth", "lang:pyth"),
    ("-regre", "-regre"),
    ("tens*", "tens*"),
    ("pivot OR", "pivot OR"),
    ("data the", "data the"),  # a stop word
    ("np", "np"),  # too short to expand
    ("pd.read_csv", "pd.read_csv OR pd.read_csv*"),
])
def test_the_last_word_typed_is_also_a_prefix(typed: str, searched: str) -> None:
    assert as_you_type(typed) == searched


@pytest.mark.parametrize(("markdown", "plain"), [
    ("**Chapter 9 – Unsupervised Learning**", "Chapter 9 – Unsupervised Learning"),
    ("Ships wait at the <b>harbour</b> &amp; the locks", "Ships wait at the harbour & the locks"),
    ("The *loss* is $\\alpha \\cdot x^{2}$", "The loss is α · x^2"),
    ("$$\\frac{a}{b+1}$$ and $\\sum_{i} \\beta_i$", "a/(b+1) and ∑_i β_i"),
    ("# Title\n- item one\n1. item _two_\n> quoted", "Title item one item two quoted"),
    ("Call `pd.read_csv` on *file_name*", "Call pd.read_csv on file_name"),
    ("| a | b |\n|---|---|\n| 1 | 2 |", "a b 1 2"),
    ("See [the docs](http://x.org/a_b) ![a plot](plot.png)", "See the docs a plot"),
    ("costs \\$5, not `$x$`", "costs $5, not $x$"),  # an escaped dollar, code kept as is
    ("<!-- hidden --> shown<br/>next", "shown next"),
])
def test_markdown_reads_as_plain_text(markdown: str, plain: str) -> None:
    assert markdown_text(markdown) == plain


def test_tex_becomes_characters() -> None:
    assert tex_text("\\mathbf{x}^{2} \\leq \\infty") == "x^2 ≤ ∞"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab *_`#<>[]()$\\|~&-=!\n:/")), max_size=80))
def test_plain_text_never_fails_nor_leaves_a_stand_in(text: str) -> None:
    plain = markdown_text(text)
    assert isinstance(plain, str) and "\ue000" not in plain and "\ue001" not in plain


def _spans(query: str, text: str) -> list[str]:
    return [text[a:b] for a, b in TermMarks(query).spans(text)]


def test_the_words_are_found_as_the_search_matched_them() -> None:
    text = "df = pd.read_csv(path); CSV.read(f) reads the csv; regressions, LinearRegression"
    assert _spans("read csv", text) == ["read_csv", "CSV", "read", "reads", "csv"]
    assert _spans("regression", text) == ["regressions", "LinearRegression"]
    assert _spans("regre", text) == ["regressions", "LinearRegression"]  # typed: a prefix
    assert _spans("csv -read", text) == ["read_csv", "CSV", "csv"]  # not the excluded word
    assert TermMarks("lang:python").empty


def _page(*cells: str) -> str:
    nb = v4.new_notebook()
    nb.cells = [v4.new_markdown_cell(c) for c in cells]
    nb.cells.append(v4.new_code_cell("model = LinearRegression()  # regression"))
    return render_notebook(nb, asset_base="nbshelf://app/")


class _Text(HTMLParser):
    """The page as a browser reads it: its tags, and its text outside marks."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _read(page: str) -> _Text:
    reader = _Text()
    reader.feed(page)
    return reader


def test_marks_wrap_text_only_and_leave_everything_else_as_it_was() -> None:
    page = _page(
        "A <span title='regression here'>regression</span> &amp; regression&nbsp;line",
        "$regression = \\alpha$ and <svg><text>regression</text></svg>",
        "<a href='#regression' id='nbs-hit-1'>a fake hit</a>",
    )
    marked = mark_terms(page, TermMarks("regression").spans)
    # prose twice, the code cell's name and comment; not the formula, not the picture
    assert marked.count == 4 and marked.cells == [0, 0, 3, 3]
    before, after = _read(page), _read(marked.page)
    # the same tags and attributes, in order, plus the marks
    assert [t for t in after.tags if t[0] != "mark" and t[0] != "style"] == [
        t for t in before.tags if t[0] != "style"]
    assert [dict(a)["id"] for t, a in after.tags if t == "mark"] == [
        "nbs-hit-1", "nbs-hit-2", "nbs-hit-3", "nbs-hit-4"]
    # the text reads the same once the marks are taken out
    assert re.sub(r"</?mark[^>]*>", "", marked.page.replace(
        marked.page[marked.page.index("<style>mark"):marked.page.index("</head>")], "")) == page
    # the notebook could not plant a mark's id: the sanitizer dropped it
    assert page.count('id="nbs-hit-1"') == 0 and marked.page.count('id="nbs-hit-1"') == 1
    assert marked.first_in(1) == 3 and marked.first_in(None) == 1 and marked.first_in(9) == 1


def test_a_page_without_the_words_is_unchanged() -> None:
    page = _page("Nothing to see")
    marked = mark_terms(page, TermMarks("zanzibar").spans)
    assert marked.page == page and marked.count == 0 and marked.first_in(0) == 0


@pytest.fixture
def spelled(library: Library, share: Path) -> Library:
    """Six notebooks about regression (a word code has whole, where prose has only its
    stem), and one with the typo "regresion"."""
    for i in range(6):
        write_notebook(share / f"reg{i}.ipynb", title=f"Regression {i}",
                       markdown=["A regression of sales on price."],
                       code=["from sklearn.linear_model import LinearRegression"])
    write_notebook(share / "typo.ipynb", title="Notes",
                   markdown=["A quick regresion check."])
    library.add_source(share, name="team")
    library.sync()
    return library


def test_a_correction_keeps_the_query_s_filters_and_syntax(spelled: Library) -> None:
    result = spelled.search("lang:python regrssion -julia")
    assert result.total == 0 and result.suggestion == "lang:python regression -julia"
    assert spelled.searching.suggest("regrssion sales", typing=True) == "regression sales"


def test_a_rare_spelling_is_corrected_only_when_asked_for_few_matches(
    spelled: Library,
) -> None:
    assert spelled.search("regresion").total == 1
    assert spelled.search("regresion").suggestion is None  # the command line: it matched
    assert spelled.searching.suggest("regresion", rare=2) == "regression"
    assert spelled.searching.suggest("regression", rare=2) is None  # common: no typo


def test_a_word_being_typed_is_no_typo(spelled: Library) -> None:
    assert spelled.searching.suggest("regr", typing=True) is None  # starts known words
    assert spelled.searching.suggest("regressoin", typing=True) == "regression"


def test_a_typed_prefix_finds_what_a_prefix_finds_whole_words_first(spelled: Library) -> None:
    from nbshelf.search.matchers import BestPrefix, PreloadedPrefix
    from nbshelf.search.service import top_matches

    searcher = spelled.index.searcher()
    for prefix in ("regr", "regres", "sal", "pri"):
        typed = {h["hash"] for h in top_matches(searcher, BestPrefix("body", prefix), None)}
        plain = {h["hash"] for h in top_matches(searcher, PreloadedPrefix("body", prefix), None)}
        assert typed == plain and typed
    # typed "regresion" (the typo, a whole word of one notebook) is that notebook first
    hits = spelled.search("regresion OR regresion*").hits
    assert hits[0].title == "Notes"
