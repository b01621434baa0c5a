"""Search hits in the window: snippets under the titles, and a hit opening at its match."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbformat import v4
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWebEngineCore import QWebEngineScript
from PySide6.QtWidgets import QStyleOptionViewItem

from nbshelf.library import Library
from nbshelf.ui import fmt
from nbshelf.ui.hits import MARK_BACKGROUND, HitDelegate, fetch_snippets, fit_parts
from nbshelf.ui.models import Column, LibraryModel, Role
from nbshelf.ui.tasks import Job
from nbshelf.ui.window import MainWindow
from tests.helpers import make_notebook, write_notebook
from tests.ui.uihelpers import open_window

#: Where the long notebook's one mention of the port is: far below the first screen.
PORT_CELL = 41


@pytest.fixture
def synced(library_dir: Path, make_share) -> Path:
    """Three short notebooks, and a long one whose cell 41 uses ``zanzibar`` and ``harbour``
    (its markdown cell 2 says "harbour" too, with markup characters in it)."""
    share = make_share("share", ["Traffic forecast", "Churn analysis", "Mango prices"])
    filler = [f"Paragraph {i}: " + "the quick brown fox jumps over the lazy dog. " * 12
              for i in range(PORT_CELL - 2)]
    nb = make_notebook(
        title="Port congestion",
        markdown=["Ships wait at the <b>harbour</b> & the locks", *filler],
        code=["zanzibar = load_port_calls('harbour')\n    print(zanzibar.head())"],
    )
    nb.cells += [v4.new_markdown_cell(text) for text in filler]  # room to scroll it to the top
    write_notebook(share / "port.ipynb", nb)
    with Library.open(library_dir) as lib:
        lib.add_source(share)
        lib.sync()
    return library_dir


def search(qtbot, window: MainWindow, text: str, *, typed: bool = True) -> None:
    """Type ``text`` into the search bar (or set it) and wait for the list to answer it."""
    with qtbot.waitSignal(window.model.loaded, timeout=10000,
                          check_params_cb=lambda result: result.query.text == text):
        if typed:
            window.search.clear()
            qtbot.keyClicks(window.search, text)
        else:
            window.search.setText(text)


def port_row(window: MainWindow) -> int:
    model = window.model
    return next(r for r in range(model.rowCount())
                if model.record(r) is not None and model.record(r).title == "Port congestion")


def snippets_at(window: MainWindow, row: int):
    return window.model.data(window.model.index(row, Column.TITLE), Role.SNIPPETS)


def marked_words(snippet) -> list[str]:
    return [snippet.text[start:end].lower() for start, end in snippet.highlights]


def test_typing_a_query_shows_each_hit_with_its_snippet_and_the_term_marked(
    qtbot, qtmodeltester, runner_for, synced
):
    window = open_window(qtbot, runner_for, synced)
    table, model = window.table, window.model
    qtmodeltester.check(model)  # keeps watching while the snippets land
    plain_height = table.rowHeight(0)
    option = QStyleOptionViewItem()
    option.font = table.font()
    delegate = table.itemDelegateForColumn(Column.TITLE)
    assert isinstance(delegate, HitDelegate)
    plain_hint = delegate.sizeHint(option, model.index(0, Column.TITLE)).height()

    search(qtbot, window, "zanzibar")
    assert model.mode == "search" and model.rowCount() == 1
    qtbot.waitUntil(lambda: bool(snippets_at(window, 0)), timeout=10000)
    best = snippets_at(window, 0)[0]
    assert best.cell == PORT_CELL and best.kind == "code"
    assert "zanzibar" in marked_words(best)
    assert model.data(model.index(0, Column.TITLE)) == "Port congestion"
    qtmodeltester.check(model)  # in search mode, snippets in

    # Search rows are taller, all of them, and the delegate says so for each cell.
    index = model.index(0, Column.TITLE)
    assert delegate.sizeHint(option, index).height() > plain_hint
    assert table.rowHeight(0) == delegate.row_height(table.font(), True) > plain_height
    # The tooltip lists the snippets with their cells, as text with the term in bold.
    tip = model.data(index, Qt.ItemDataRole.ToolTipRole)
    assert f"cell {PORT_CELL + 1} · code" in tip and "<b>zanzibar</b>" in tip

    # The painted row shows the match on its soft highlight (over either row colour).
    table.viewport().repaint()
    image = table.viewport().grab().toImage()
    palette = table.palette()
    shades = [_over(MARK_BACKGROUND, palette.color(role))
              for role in (QPalette.ColorRole.Base, QPalette.ColorRole.AlternateBase)]
    marked = sum(
        1 for x in range(0, image.width(), 2) for y in range(table.rowHeight(0))
        if any(_near(image.pixelColor(x, y), shade) for shade in shades)
    )
    assert marked > 30

    # Back to all notebooks: one-line rows again.
    search(qtbot, window, "", typed=False)
    assert model.data(model.index(0, Column.TITLE), Role.SNIPPETS) is None
    assert table.rowHeight(0) == plain_height


def test_snippet_text_is_never_read_as_markup(qtbot, runner_for, synced):
    window = open_window(qtbot, runner_for, synced)
    search(qtbot, window, "locks")
    row = port_row(window)
    qtbot.waitUntil(lambda: bool(snippets_at(window, row)), timeout=10000)
    assert snippets_at(window, row)[0].kind == "markdown"
    tip = window.model.data(window.model.index(row, Column.TITLE), Qt.ItemDataRole.ToolTipRole)
    # The cell's HTML tags are taken out of the snippet (issue 15: plain text), and what is
    # left is still escaped: "&" shows as itself, and only the match is bold.
    assert "Ships wait at the harbour &amp; the <b>locks</b>" in tip
    assert "<b>harbour</b>" not in tip and "&lt;b&gt;" not in tip


def test_changing_the_query_replaces_the_snippets(qtbot, runner_for, synced):
    window = open_window(qtbot, runner_for, synced)
    model = window.model
    search(qtbot, window, "zanzibar")
    qtbot.waitUntil(lambda: bool(snippets_at(window, 0)), timeout=10000)
    port_id = model.notebook_id(0)
    old = snippets_at(window, 0)

    with qtbot.waitSignal(model.loaded, timeout=10000,
                          check_params_cb=lambda result: result.query.text == "harbour"):
        with qtbot.waitSignal(model.filtering, timeout=5000):
            window.search.setText("harbour")
        assert not window.snippet_fetcher.active  # nothing for the old text while the new runs
    assert window.snippet_fetcher.active
    row = model.row_of(port_id)
    assert row >= 0
    qtbot.waitUntil(lambda: bool(snippets_at(window, row)), timeout=10000)
    new = snippets_at(window, row)
    assert new != old
    assert all("harbour" in marked_words(s) for s in new)
    assert all("zanzibar" not in marked_words(s) for s in new)
    assert {s.cell for s in new} == {1, PORT_CELL}
    # An answer for the query before, landing late, is dropped.
    model.add_snippets("zanzibar", {port_id: old})
    assert snippets_at(window, row) == new


def test_opening_a_hit_scrolls_the_viewer_to_its_best_cell(qtbot, runner_for, synced):
    window = open_window(qtbot, runner_for, synced)
    search(qtbot, window, "zanzibar")
    qtbot.keyClick(window.search, Qt.Key.Key_Return)  # to the list, first hit selected
    qtbot.waitUntil(lambda: window.pane.info is not None
                    and window.pane.info.title == "Port congestion", timeout=10000)
    viewer = window.pane.view.viewer
    assert viewer is not None
    qtbot.waitUntil(lambda: viewer.page().scrollPosition().y() > 500, timeout=15000)
    # the cell is at the top, its edge just inside the view (the stylesheet's scroll margin)
    assert 8 <= _cell_top(qtbot, viewer, PORT_CELL) <= 16

    # Scrolled away and opened again (Enter): back to the match.
    _run(qtbot, viewer, "window.scrollTo(0, 0)")
    qtbot.waitUntil(lambda: viewer.page().scrollPosition().y() == 0, timeout=5000)
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: viewer.page().scrollPosition().y() > 500, timeout=10000)

    # Opened from the plain list, a notebook opens at its top.
    search(qtbot, window, "", typed=False)
    model = window.model
    qtbot.waitUntil(lambda: all(model.record(r) is not None for r in range(model.rowCount())),
                    timeout=10000)
    row = next(r for r in range(model.rowCount()) if model.record(r).title == "Mango prices")
    window.table.selectionModel().setCurrentIndex(
        model.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    qtbot.waitUntil(lambda: viewer.url().toString().endswith(".html"), timeout=10000)
    qtbot.wait(300)
    assert viewer.page().scrollPosition().y() == 0


def test_a_snippet_elides_and_keeps_its_first_match_in_view(qapp):
    from PySide6.QtGui import QFont, QFontMetrics

    plain = QFontMetrics(QFont())
    bold_font = QFont()
    bold_font.setBold(True)
    bold = QFontMetrics(bold_font)
    text = "lorem ipsum " * 40 + "needle and then some more words " * 5
    at = text.index("needle")
    parts = fmt.marked_parts(text, [(at, at + 6)])
    fitted = fit_parts(parts, plain, bold, 300)
    assert ("needle", True) in fitted
    lead = fitted[0][0]
    assert lead.startswith("…") and lead[1:].split(" ")[0] in ("lorem", "ipsum")  # whole words
    assert fitted[-1][0].endswith("…")
    assert sum((bold if m else plain).horizontalAdvance(t) for t, m in fitted) <= 300
    # Overlapping or outlying offsets are clipped; white space runs become one space.
    assert fmt.marked_parts("a  <b>\n  b", [(3, 6), (4, 99)]) == [
        ("a ", False), ("<b>", True), (" b", True)
    ]


def test_a_cancelled_snippet_request_stops_before_its_next_notebook(synced):
    with Library.open(synced, readonly=True) as lib:
        ids, _total = lib.search_ids("harbour")
        job = Job("Find snippets")
        text, found = fetch_snippets(lib, job, "harbour", ids)
        assert text == "harbour" and {s.cell for s in found[ids[0]]} == {1, PORT_CELL}
        job.cancel()
        assert fetch_snippets(lib, job, "harbour", ids) == ("harbour", {})


def test_the_library_model_without_a_search_has_no_snippets(qtbot, runner_for, synced):
    runner = runner_for(synced)
    runner.start()
    model = LibraryModel(runner)
    with qtbot.waitSignal(model.loaded, timeout=10000):
        model.refresh()
    assert model.search_text == ""
    assert model.data(model.index(0, Column.TITLE), Role.SNIPPETS) is None
    model.add_snippets("", {model.notebook_id(0): []})
    assert model.snippets_of(model.notebook_id(0)) is None


def _over(color: QColor, base: QColor) -> QColor:
    alpha = color.alphaF()
    return QColor(*(round(c * alpha + b * (1 - alpha)) for c, b in (
        (color.red(), base.red()), (color.green(), base.green()), (color.blue(), base.blue()))))


def _near(one: QColor, other: QColor, tolerance: int = 6) -> bool:
    return (abs(one.red() - other.red()) <= tolerance
            and abs(one.green() - other.green()) <= tolerance
            and abs(one.blue() - other.blue()) <= tolerance)


def _run(qtbot, viewer, script: str) -> object:
    """Run ``script`` in the app's isolated world (it runs with the page's JavaScript off)."""
    answers: list[object] = []
    viewer.page().runJavaScript(script, QWebEngineScript.ScriptWorldId.ApplicationWorld,
                                answers.append)
    qtbot.waitUntil(lambda: bool(answers), timeout=5000)
    return answers[0]


def _cell_top(qtbot, viewer, cell: int) -> float:
    top = _run(qtbot, viewer,
               f"document.getElementById('nbs-cell-{cell}').getBoundingClientRect().top")
    assert isinstance(top, int | float)
    return float(top)
