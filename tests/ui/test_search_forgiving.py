"""Forgiving search in the window (issue 15, point 4): the last word typed matches as a
prefix, "did you mean" for a misspelt query, the search's words marked in the page with
next/previous, plain-text snippets that use their row's width, no stale tooltip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nbformat import v4
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QToolTip

from nbshelf.library import Library
from nbshelf.ui import fmt
from nbshelf.ui.hits import fit_parts, snippet_font
from nbshelf.ui.models import Column, Role
from nbshelf.ui.window import MainWindow
from tests.helpers import make_notebook, write_notebook
from tests.ui.uihelpers import LOAD_TIMEOUT_MS, open_window, run_js, shoot

#: The regression notebook's markdown cell: markdown, HTML and TeX markup around its words.
MARKED_UP = ("We fit a **regression** line by <b>ordinary</b> least squares; "
             "$\\alpha$ is its slope and $\\beta_0$ its intercept, as in any textbook.")


@pytest.fixture
def synced(library_dir: Path, make_share) -> Path:
    """A regression notebook (its words in a title, prose with markup, and code), one that
    only has a name starting with "regress" ("regressor"), and three others."""
    share = make_share("share", ["Traffic forecast", "Churn analysis", "Mango prices"])
    nb = make_notebook(
        title="Linear regression",
        markdown=[MARKED_UP, "Filler paragraph. " * 40],
        code=["from sklearn.linear_model import LinearRegression\n"
              "model = LinearRegression().fit(X, y)  # the regression itself"],
    )
    nb.cells += [v4.new_markdown_cell("More about the regression line and its residuals.")]
    write_notebook(share / "regression.ipynb", nb)
    write_notebook(share / "boost.ipynb", title="Gradient boosting",
                   code=["from sklearn.ensemble import GradientBoostingRegressor\n"
                         "regressor = GradientBoostingRegressor().fit(X, y)"])
    with Library.open(library_dir) as lib:
        lib.add_source(share)
        lib.sync()
    return library_dir


def type_query(qtbot, window: MainWindow, text: str) -> None:
    """Type ``text`` key by key into the search bar and wait for the list to answer it."""
    with qtbot.waitSignal(window.model.loaded, timeout=10000,
                          check_params_cb=lambda result: result.query.text == text):
        window.search.clear()
        qtbot.keyClicks(window.search, text)


def titles(window: MainWindow) -> list[str]:
    model = window.model
    return [model.data(model.index(r, Column.TITLE)) for r in range(model.rowCount())]


def snippets_at(window: MainWindow, row: int):
    return window.model.data(window.model.index(row, Column.TITLE), Role.SNIPPETS)


def row_titled(window: MainWindow, title: str) -> int:
    return titles(window).index(title)


def test_the_last_word_typed_matches_as_a_prefix(qtbot, runner_for, synced):
    window = open_window(qtbot, runner_for, synced)
    type_query(qtbot, window, "regre")
    assert window.list_stack.currentWidget() is window.table  # not "No match"
    assert set(titles(window)) == {"Linear regression", "Gradient boosting"}
    # The snippet marks the words the prefix found.
    row = row_titled(window, "Linear regression")
    qtbot.waitUntil(lambda: bool(snippets_at(window, row)), timeout=10000)
    best = snippets_at(window, row)[0]
    assert {best.text[a:b].lower() for a, b in best.highlights} & {"regression",
                                                                    "linearregression"}
    shoot(qtbot, window, "search-prefix")
    # Whole words rank first: "regress" is a whole word (stem) of the regression notebook
    # and only the start of "regressor".
    type_query(qtbot, window, "regress")
    assert titles(window) == ["Linear regression", "Gradient boosting"]

    # A space after the word ends it: exact again, as the command line always is.
    type_query(qtbot, window, "regre ")
    assert window.list_stack.currentWidget() is window.no_match_state
    with Library.open(synced, readonly=True) as lib:
        assert lib.search("regre").total == 0


def test_a_misspelt_query_offers_the_word_it_meant(qtbot, runner_for, synced):
    window = open_window(qtbot, runner_for, synced)
    type_query(qtbot, window, "regresion")
    assert window.list_stack.currentWidget() is window.no_match_state
    qtbot.waitUntil(window.suggestion.isVisible, timeout=10000)
    assert window.suggestion.text() == "Did you mean: regression?"
    assert "Did you mean “regression”?" in window.no_match_state.text.text()
    assert window.suggestion.focusPolicy() != Qt.FocusPolicy.NoFocus  # Tab reaches it
    shoot(qtbot, window, "search-did-you-mean")

    with qtbot.waitSignal(window.model.loaded, timeout=10000,
                          check_params_cb=lambda r: r.query.text == "regression"):
        qtbot.mouseClick(window.suggestion, Qt.MouseButton.LeftButton)
    assert window.search.text() == "regression"
    assert titles(window)[0] == "Linear regression"
    assert not window.suggestion.isVisible()

    # A word being typed is not a typo: "regre" starts known words, nothing is offered.
    type_query(qtbot, window, "regre")
    qtbot.wait(500)
    assert not window.suggestion.isVisible()


def test_the_search_words_are_marked_in_the_page_with_next_and_previous(
    qtbot, runner_for, synced
):
    window = open_window(qtbot, runner_for, synced)
    type_query(qtbot, window, "regression")
    qtbot.keyClick(window.search, Qt.Key.Key_Return)  # to the list, first hit selected
    pane = window.pane
    qtbot.waitUntil(lambda: pane.info is not None and pane.info.title == "Linear regression",
                    timeout=10000)
    qtbot.waitUntil(lambda: pane.find_row.isVisible(), timeout=LOAD_TIMEOUT_MS)
    viewer = pane.view.viewer
    assert viewer is not None
    def marked() -> list[str]:
        found = run_js(qtbot, viewer, "JSON.stringify(Array.from(document.querySelectorAll("
                                      "'mark.nbs-hit')).map(m => m.textContent))")
        return json.loads(found) if isinstance(found, str) and found else []

    qtbot.waitUntil(lambda: bool(marked()), timeout=LOAD_TIMEOUT_MS)
    marks = marked()
    # title, prose (bold), code (LinearRegression twice, the comment), the last cell
    assert len(marks) >= 5 and {"regression", "LinearRegression"} <= set(marks)
    assert pane.find_bar.text() == "regression"
    assert pane.find_row.count.text() == f"{len(marks)} matches"
    # The marks are in text only: the code cell keeps its highlighted tokens around them.
    code = run_js(qtbot, viewer, "document.querySelector('mark.nbs-hit + *, pre mark')"
                                 " ? document.querySelector('pre').innerText : ''")
    assert "LinearRegression().fit(X, y)" in code
    shoot(qtbot, window, "search-highlight")

    def target() -> str:
        return run_js(qtbot, viewer, "(document.querySelector(':target')||{}).id||''")

    # F3: the first match of the cell the page opened at (the best snippet's), then on.
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_F3)
    qtbot.waitUntil(lambda: viewer.url().fragment().startswith("nbs-hit-"), timeout=10000)
    first = int(viewer.url().fragment().removeprefix("nbs-hit-"))
    assert pane.find_row.count.text() == f"{first} of {len(marks)}"
    qtbot.waitUntil(lambda: target() == f"nbs-hit-{first}", timeout=10000)
    qtbot.keyClick(window.table, Qt.Key.Key_F3)
    second = first % len(marks) + 1
    qtbot.waitUntil(lambda: target() == f"nbs-hit-{second}", timeout=10000)
    assert pane.find_row.count.text() == f"{second} of {len(marks)}"
    # Shift+F3 and the previous button step back; Ctrl+G is next too.
    qtbot.keyClick(window.table, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: target() == f"nbs-hit-{first}", timeout=10000)
    qtbot.mouseClick(pane.find_row.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: target() == f"nbs-hit-{second}", timeout=10000)
    qtbot.keyClick(window.table, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: target() == f"nbs-hit-{second % len(marks) + 1}", timeout=10000)

    # Words typed in the bar are found with the view's own find, counted the same way.
    pane.find_bar.setFocus()
    pane.find_bar.selectAll()
    qtbot.keyClicks(pane.find_bar, "residuals")
    with qtbot.waitSignal(viewer.text_found, timeout=LOAD_TIMEOUT_MS):
        qtbot.keyClick(pane.find_bar, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: pane.find_row.count.text() == "1 of 1", timeout=10000)

    # Another search with the notebook still shown: its page marks the new words.
    type_query(qtbot, window, "slope")
    qtbot.waitUntil(lambda: marked() == ["slope"], timeout=LOAD_TIMEOUT_MS)


def test_snippets_are_plain_text_and_fill_their_row(qtbot, runner_for, synced):
    window = open_window(qtbot, runner_for, synced)
    type_query(qtbot, window, "ordinary")
    qtbot.waitUntil(lambda: bool(snippets_at(window, 0)), timeout=10000)
    snippet = snippets_at(window, 0)[0]
    assert snippet.kind == "markdown"
    for markup in ("**", "<b>", "</b>", "$", "\\alpha"):
        assert markup not in snippet.text
    assert "regression line by ordinary least squares; α is its slope" in snippet.text
    assert snippet.text[slice(*snippet.highlights[0])] == "ordinary"

    # What the row paints: the text pieces that fit its width, around the match.
    table = window.table
    room = table.columnWidth(Column.TITLE) - 8  # less the cell's margins
    small = snippet_font(table.font())
    plain, bold_font = QFontMetrics(small), QFont(small)
    bold_font.setBold(True)
    bold = QFontMetrics(bold_font)
    painted = fit_parts(fmt.marked_parts(snippet.text, snippet.highlights), plain, bold, room)
    text = "".join(part for part, _ in painted)
    assert "ordinary" in text and not any(m in text for m in ("**", "<b>", "$"))
    # The line is full: the excerpt is longer than any row, elided at both ends.
    used = sum((bold if marked else plain).horizontalAdvance(part) for part, marked in painted)
    assert room * 0.85 <= used <= room
    assert text.startswith("…") and text.endswith("…")
    # The match is centred: context on both sides of it.
    before = plain.horizontalAdvance(text[: text.index("ordinary")])
    assert room * 0.15 <= before <= room * 0.6  # whole words: up to half the room


def test_a_tooltip_of_the_query_before_goes_when_the_query_changes(
    qtbot, runner_for, synced
):
    window = open_window(qtbot, runner_for, synced)
    type_query(qtbot, window, "regression")
    qtbot.waitUntil(lambda: bool(snippets_at(window, 0)), timeout=10000)
    tip = window.model.data(window.model.index(0, Column.TITLE), Qt.ItemDataRole.ToolTipRole)
    viewport = window.table.viewport()
    QToolTip.showText(viewport.mapToGlobal(QPoint(20, 10)), tip, viewport)
    qtbot.waitUntil(QToolTip.isVisible, timeout=5000)
    qtbot.wait(1000)
    assert QToolTip.isVisible()  # it stays while nothing happens
    qtbot.keyClicks(window.search, " line")
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=1000)  # it fades out at once
