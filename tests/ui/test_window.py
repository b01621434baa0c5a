"""The main window over real temporary libraries, driven the way a user drives it."""

from __future__ import annotations

import shutil

from PySide6.QtCore import QItemSelectionModel, QRect, Qt

from nbshelf.library import Library
from nbshelf.ui.models import Column
from nbshelf.ui.window import MainWindow
from tests.helpers import write_notebook
from tests.ui.uihelpers import SHARE_TITLES as TITLES
from tests.ui.uihelpers import open_window, run_js


def query(text: str):
    """A ``loaded`` check: the list now answers ``text``."""
    return lambda result: result.query.text == text


def select(qtbot, window: MainWindow, title: str) -> None:
    model = window.model
    qtbot.waitUntil(
        lambda: all(model.record(r) is not None for r in range(model.rowCount())), timeout=10000
    )
    row = next(r for r in range(model.rowCount()) if model.record(r).title == title)
    window.table.selectionModel().setCurrentIndex(
        model.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    qtbot.waitUntil(lambda: window.pane.info is not None and window.pane.info.title == title,
                    timeout=10000)


def test_an_empty_library_shows_the_hint_then_add_and_sync_fill_the_list(
    qtbot, runner_for, library_dir, make_share
):
    window = open_window(qtbot, runner_for, library_dir)
    assert window.list_stack.currentWidget() is window.empty_state
    assert "Add a folder or USB stick" in window.empty_state.text.text()
    share = make_share("team", TITLES)
    progress: list[tuple[str, int, int]] = []
    window.syncer.progressed.connect(lambda *args: progress.append(args))
    dialog = window.show_sources()
    dialog.add_requested.emit(str(share))  # what the folder picker does with its answer
    qtbot.waitUntil(lambda: window.model.rowCount() == len(TITLES), timeout=30000)
    qtbot.waitUntil(lambda: not window.syncer.running, timeout=30000)
    # the progress spoke of this sync; its last word (a 3-notebook sync is fast: the bar's
    # timer may show only that) is the copy or, once the list and search are ready, the fit
    stages = ("Syncing team", "Making notebooks searchable", "Learning which notebooks")
    assert progress and all(text.startswith(stages) for text, _d, _t in progress)
    assert progress[-1][0].startswith(("Syncing team", "Learning which notebooks are alike"))
    assert window.list_stack.currentWidget() is window.table
    assert not window.sync_bar.isVisible() and not window.sync_cancel.isVisible()
    assert "Sync finished: 3 added" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: window.counts.text() == "3 notebooks · 1 source", timeout=10000)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=10000)
    qtbot.waitUntil(lambda: dialog.model.record(0).last_sync is not None, timeout=10000)
    assert dialog.model.data(dialog.model.index(0, 3)) == "just now"


def test_selecting_a_notebook_shows_its_header_and_names_the_window(
    qtbot, runner_for, synced
):
    window = open_window(qtbot, runner_for, synced)
    select(qtbot, window, "Mango prices")
    header = window.pane.header
    assert header.title.text() == "Mango prices"
    assert header.values["Source"].text() == "share"
    assert header.values["Path"].text() == "002-mango-prices.ipynb"
    assert header.values["Kernel"].text() == "python3 (Python)"
    assert header.values["Versions"].text() == "1"
    assert window.windowTitle() == "Mango prices — nbshelf"
    assert window.pane.history_model.rowCount() == 1
    assert window.pane.tabs.tabText(2) == "History (1)"
    assert "Data" in window.pane.view.outline.text()  # the headings, until the viewer lands


def test_keyboard_search_filters_and_esc_clears(qtbot, runner_for, synced):
    window = open_window(qtbot, runner_for, synced)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.search.hasFocus()
    with qtbot.waitSignal(window.model.loaded, timeout=10000, check_params_cb=query("churn")):
        qtbot.keyClicks(window.search, "churn")
    assert window.model.rowCount() == 1
    assert window.counts.text().startswith("1 of 3 notebooks")
    qtbot.keyClick(window.search, Qt.Key.Key_Down)
    assert window.table.hasFocus()
    qtbot.waitUntil(lambda: window.windowTitle() == "Churn analysis — nbshelf", timeout=10000)
    with qtbot.waitSignal(window.model.loaded, timeout=10000, check_params_cb=query("")):
        qtbot.keyClick(window.table, Qt.Key.Key_Escape)
    assert window.search.text() == ""
    assert window.model.rowCount() == 3
    # The shown notebook stays selected when the filter goes.
    assert window.model.notebook_id(window.table.currentIndex().row()) == window.pane.info.id
    with qtbot.waitSignal(window.model.loaded, timeout=10000, check_params_cb=query("nope")):
        window.search.setText("nope")
    assert window.list_stack.currentWidget() is window.no_match_state


def test_sorting_from_the_header(qtbot, runner_for, synced):
    window = open_window(qtbot, runner_for, synced)
    with qtbot.waitSignal(
        window.model.loaded, timeout=10000, check_params_cb=lambda r: r.query.descending
    ):
        window.table.sortByColumn(Column.TITLE, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: window.model.record(0) is not None, timeout=10000)
    assert window.model.record(0).title == "Traffic forecast"


def test_opening_files_in_and_out_of_the_library(qtbot, runner_for, synced, tmp_path):
    window = open_window(qtbot, runner_for, synced)
    window.open_file(tmp_path / "share" / "000-traffic-forecast.ipynb")
    qtbot.waitUntil(lambda: window.windowTitle() == "Traffic forecast — nbshelf", timeout=10000)
    assert window.table.currentIndex().isValid()

    loose = write_notebook(tmp_path / "downloads" / "loose.ipynb", title="Loose")
    window.open_file(loose)
    pane = window.pane
    # it joins the library as an opened file
    qtbot.waitUntil(lambda: window.windowTitle() == "Loose — nbshelf", timeout=10000)
    qtbot.waitUntil(lambda: window.model.row_of(pane.info.id) >= 0, timeout=10000)
    assert window.model.notebook_id(window.table.currentIndex().row()) == pane.info.id
    window.open_file(tmp_path / "missing.ipynb")
    assert "cannot be opened" in pane.message_title.text()
    assert window.windowTitle() == "nbshelf"


def test_problems_and_unavailable_sources_are_shown(
    qtbot, runner_for, library_dir, make_share, tmp_path
):
    stick = make_share("stick", ["On the stick"])
    share = make_share("share", TITLES)
    (share / "broken.ipynb").write_text("{ not json", encoding="utf-8")
    with Library.open(library_dir) as lib:
        lib.add_source(stick)
        lib.add_source(share)
        lib.sync()
    shutil.move(stick, tmp_path / "unplugged")
    window = open_window(qtbot, runner_for, library_dir)
    qtbot.waitUntil(lambda: window.problems.model.rowCount() == 2, timeout=10000)
    kinds = {p.kind for p in window.problems.model.records()}
    assert kinds == {"invalid-json", "source-unavailable"}
    assert window.problems_button.text() == "2 problems"
    window.problems_button.click()
    assert window.problems_dock.isVisible()
    dialog = window.show_sources()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2, timeout=10000)
    muted = {
        dialog.model.record(r).name: dialog.model.data(
            dialog.model.index(r, 0), Qt.ItemDataRole.ForegroundRole
        )
        is not None
        for r in range(2)
    }
    assert muted == {"stick": True, "share": False}
    # Its notebook stays in the library.
    assert window.model.rowCount() == len(TITLES) + 1


def test_a_library_in_use_elsewhere_opens_read_only(qtbot, runner_for, synced):
    holder = Library.open(synced)
    try:
        window = open_window(qtbot, runner_for, synced)
        assert window.model.rowCount() == len(TITLES)
        assert not window.sync_action.isEnabled()
        assert "Read-only" in window.statusBar().currentMessage()
        window.close()
    finally:
        holder.close()


def test_selecting_a_notebook_renders_it_and_report_view_hides_code(qtbot, runner_for, synced):
    window = open_window(qtbot, runner_for, synced)
    select(qtbot, window, "Mango prices")
    viewer = window.pane.view.viewer
    assert viewer is not None
    qtbot.waitUntil(lambda: window.pane.view.currentWidget() is viewer, timeout=15000)
    page_text: list[str] = []

    def read() -> bool:
        viewer.page().toPlainText(page_text.append)
        return bool(page_text) and "Mango prices" in page_text[-1]

    qtbot.waitUntil(read, timeout=15000)
    assert "Results" in page_text[-1] and "print('hello')" in page_text[-1]
    assert viewer.interceptor.blocked == []
    window.report_action.trigger()
    assert window.pane.view.report_view is True

    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QGuiApplication

    QGuiApplication.clipboard().clear()
    viewer.load(QUrl("nbshelf://app/copy/3"))  # what clicking the code cell's "Copy" does
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == "print('hello')",
                    timeout=10000)
    assert "Copied the code of cell 4" in window.statusBar().currentMessage()
    window.find_in_notebook_action.trigger()
    assert window.pane.find_bar.isVisible() and window.pane.find_bar.hasFocus()


def test_running_a_notebook_streams_its_cells_and_lists_the_run(qtbot, runner_for, synced):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    window = open_window(qtbot, runner_for, synced)
    select(qtbot, window, "Mango prices")

    def accept_the_run_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(50, accept_the_run_dialog)
            return
        assert "Mango prices" in dialog.windowTitle()
        dialog.accept()

    QTimer.singleShot(50, accept_the_run_dialog)
    window.run_action.trigger()  # Ctrl+R
    runs = window.pane.runs_tab
    qtbot.waitUntil(lambda: runs.title.text().startswith("Finished"), timeout=90000)
    assert "Cell 4 · done" in runs.page_text() and "hello" in runs.page_text()
    # the run is listed from its start ("running"), then as it ended
    qtbot.waitUntil(lambda: window.pane.runs_model.rowCount() == 1 and (
        window.pane.runs_model.record(0).status != "running"), timeout=10000)
    assert window.pane.runs_model.record(0).status == "ok"
    assert window.run_action.text() == "&Run…"


def test_publishing_from_the_app_previews_then_writes_stripped(
    qtbot, runner_for, synced, tmp_path
):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    outbox = tmp_path / "outbox"
    outbox.mkdir()
    with Library.open(synced) as lib:
        lib.add_source(outbox, name="outbox")
    window = open_window(qtbot, runner_for, synced)
    select(qtbot, window, "Mango prices")
    seen: list[str] = []

    def publish_to_the_outbox() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(50, publish_to_the_outbox)
            return
        seen.append(dialog.preview.text())
        dialog.source.setCurrentText("outbox")
        dialog.path.setText("shared/mango.ipynb")
        dialog.accept()

    QTimer.singleShot(50, publish_to_the_outbox)
    window.publish_action.trigger()
    qtbot.waitUntil(lambda: (outbox / "shared" / "mango.ipynb").is_file(), timeout=30000)
    assert seen and seen[0].startswith("Publishing ")
    qtbot.waitUntil(lambda: "Published outbox:shared/mango.ipynb"
                    in window.statusBar().currentMessage(), timeout=10000)


def test_history_tab_shows_what_changed_between_versions(qtbot, runner_for, synced, tmp_path):
    import os

    import nbformat

    path = next((tmp_path / "share").glob("*mango-prices.ipynb"))
    nb = nbformat.read(path, 4)
    nb.cells.append(nbformat.v4.new_markdown_cell("## New"))  # an edit: the other cells keep ids
    nbformat.write(nb, path)
    os.utime(path, ns=(1, 7_000_000_000_000_000_000))
    with Library.open(synced) as lib:
        lib.sync()
    window = open_window(qtbot, runner_for, synced)
    select(qtbot, window, "Mango prices")
    window.pane.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: window.pane.history_model.rowCount() == 2, timeout=10000)
    window.pane.history_view.selectRow(0)  # the newest version
    history = window.pane.history_diff
    qtbot.waitUntil(lambda: history.viewer is not None and history.currentWidget() is not
                    history.note, timeout=30000)

    def page_text() -> str:
        return str(run_js(qtbot, history.viewer, "document.body.innerText"))

    qtbot.waitUntil(lambda: "added" in page_text(), timeout=30000)
    diff = page_text()
    assert "+ ## New" in diff or "+## New" in diff
    assert "removed" not in diff and "modified" not in diff


def test_titles_get_the_room_beside_the_filters_and_markings_show_when_there_are_some(
    qtbot, runner_for, synced, tmp_path
):
    window = open_window(qtbot, runner_for, synced)
    table = window.table
    assert window.sidebar_dock.isVisible()
    shown = [c for c in Column if not table.isColumnHidden(c)]
    assert Column.MARKING not in shown  # no notebook has one: no empty column
    widths = {c: table.columnWidth(c) for c in shown}
    assert widths[Column.TITLE] == max(widths.values())
    assert widths[Column.TITLE] >= table.viewport().width() / 3
    row = window.model.row_of(window.model.notebook_id(0))
    assert "Modified 20" in window.model.data(window.model.index(row, Column.MODIFIED),
                                              Qt.ItemDataRole.ToolTipRole)

    write_notebook(tmp_path / "share" / "marked.ipynb", title="Marked report",
                   metadata={"nbshelf": {"marking": "OFFICIAL"}})
    window.syncer.sync()
    model = window.model
    qtbot.waitUntil(lambda: any((rec := model.record(r)) and rec.title == "Marked report"
                                for r in range(model.rowCount())), timeout=30000)
    qtbot.waitUntil(lambda: not table.isColumnHidden(Column.MARKING), timeout=30000)
    select(qtbot, window, "Marked report")
    row = table.currentIndex().row()
    assert window.model.data(window.model.index(row, Column.MARKING)) == "OFFICIAL"
    assert table.columnWidth(Column.TITLE) >= table.viewport().width() / 4


def test_the_similar_tab_shows_each_reason_whole(qtbot, runner_for, library_dir, make_share):
    copies = ["Traffic forecast", "Traffic forecast for the northern region in winter",
              "Traffic forecast copy"]
    with Library.open(library_dir) as lib:
        lib.add_source(make_share("share", copies))
        lib.sync()
    window = open_window(qtbot, runner_for, library_dir)
    select(qtbot, window, "Traffic forecast")
    pane = window.pane
    pane.tabs.setCurrentIndex(1)
    view, model = pane.similar_view, pane.similar_model
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=60000)
    qtbot.wait(50)  # the rows take their wrapped heights
    why = model.columnCount() - 1
    assert model.headerData(why, Qt.Orientation.Horizontal) == "Why"
    assert view.horizontalScrollBar().maximum() == 0  # nothing hidden sideways
    assert view.columnViewportPosition(why) + view.columnWidth(why) <= view.viewport().width()
    metrics = view.fontMetrics()
    for row in range(model.rowCount()):
        reasons = model.data(model.index(row, why))
        assert reasons
        needed = metrics.boundingRect(
            QRect(0, 0, view.columnWidth(why) - 8, 10_000),
            Qt.TextFlag.TextWordWrap, reasons,
        ).height()
        assert view.rowHeight(row) >= needed  # every line of the reasons is shown
        assert reasons in model.data(model.index(row, 0), Qt.ItemDataRole.ToolTipRole)
