"""Runs in the window (issue 15): the kernel refusal, per-notebook live output rendered as the
viewer renders it, the Stop button, and a run record's own header.

Real library, real ipykernel, real widgets offscreen. The machine has no R kernel.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel

from nbshelf.library import Library
from nbshelf.resources import demo_folder
from nbshelf.run.kernels import installed_kernels
from nbshelf.ui.running import RunDialog
from nbshelf.ui.window import MainWindow
from tests.helpers import make_notebook, write_notebook
from tests.ui.uihelpers import open_window, run_js, shoot

R_SENTENCE = "This notebook is written in R, and no R kernel is installed on this computer."

# A cell that makes an 8×8 PNG in the kernel and displays it, then an HTML table: what
# a plotting or a pandas cell shows, without either library.
PICTURE = """\
import struct, zlib
from IPython.display import HTML, Image, display

def chunk(kind, data):
    return (struct.pack('>I', len(data)) + kind + data
            + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))

rows = b''.join(b'\\x00' + b'\\xff\\x00\\x00' * 8 for _ in range(8))
png = (b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 8, 8, 8, 2, 0, 0, 0))
       + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))
display(Image(data=png))
display(HTML('<table><tr><th>region</th><th>sales</th></tr>'
             '<tr><td>north</td><td>4242</td></tr></table>'))
"""
WAIT = "import time\nfor _ in range(40):\n    time.sleep(0.1)\nprint('slept')"
LONG = "import time\nprint('going')\nfor _ in range(600):\n    time.sleep(0.1)"


@pytest.fixture
def shelf(library_dir: Path, share: Path) -> Path:
    shutil.copy(demo_folder() / "r" / "sales_by_region.ipynb", share / "sales_by_region.ipynb")
    write_notebook(share / "a.ipynb", title="Picture run", code=[PICTURE, WAIT])
    write_notebook(share / "b.ipynb", title="Other notebook", code=["print('b here')"])
    long = make_notebook(title="Long run", code=["n = 1", LONG])
    long.cells[1].metadata["tags"] = ["parameters"]
    write_notebook(share / "long.ipynb", long)
    with Library.open(library_dir) as lib:
        lib.add_source(share, name="team")
        lib.sync()
    return library_dir


def select(qtbot: Any, window: MainWindow, title: str) -> int:
    model = window.model
    qtbot.waitUntil(lambda: model.rowCount() > 0 and all(
        model.record(r) is not None for r in range(model.rowCount())), timeout=10000)
    row = next(r for r in range(model.rowCount()) if model.record(r).title == title)
    window.table.selectionModel().setCurrentIndex(
        model.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    qtbot.waitUntil(lambda: window.pane.info is not None and window.pane.info.title == title,
                    timeout=10000)
    assert window.pane.notebook_id is not None
    return window.pane.notebook_id


def in_page(qtbot: Any, window: MainWindow, script: str, timeout: float = 30.0) -> Any:
    """Poll a script in the Runs tab's page until it answers something true."""
    viewer = window.pane.runs_tab.viewer
    assert viewer is not None
    for _ in range(int(timeout / 0.2)):
        value = run_js(qtbot, viewer, script)
        if value:
            return value
        qtbot.wait(200)
    return value


def with_dialog(act: Any) -> None:
    """Do ``act(dialog)`` with the run dialog once it is up (it runs modal)."""
    dialog = QApplication.activeModalWidget()
    if not isinstance(dialog, RunDialog):
        QTimer.singleShot(50, lambda: with_dialog(act))
        return
    act(dialog)


def runs_of(root: Path, notebook_id: int) -> list[Any]:
    with Library.open(root, readonly=True) as lib:
        return lib.runs(notebook_id)


def test_an_r_notebook_without_an_r_kernel_is_refused_in_one_sentence(
    qtbot: Any, runner_for: Any, shelf: Path
) -> None:
    assert not any(k.language == "r" for k in installed_kernels())
    window = open_window(qtbot, runner_for, shelf)
    notebook_id = select(qtbot, window, "Sales by region (R)")
    seen: dict[str, Any] = {}

    def look_then_press_enter(dialog: RunDialog) -> None:
        texts = [label.text() for label in dialog.findChildren(QLabel)]
        seen["sentences"] = sum(text.count("no R kernel is installed") for text in texts)
        seen["said"] = any(text.startswith(R_SENTENCE) and "IRkernel" in text for text in texts)
        seen["run enabled"] = dialog.run_button.isEnabled()
        seen["kernel"] = (dialog.kernel.currentData(), dialog.kernel.isEnabled())
        seen["anyway"] = (dialog.run_anyway.isVisibleTo(dialog), dialog.run_anyway.isChecked())
        seen["cancel is default"] = dialog.cancel_button.isDefault()
        shoot(qtbot, dialog, "runs-refusal")
        qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter: the default button

    QTimer.singleShot(50, lambda: with_dialog(look_then_press_enter))
    window.run_action.trigger()  # Ctrl+R
    qtbot.waitUntil(lambda: "cancel is default" in seen, timeout=30000)
    assert seen["sentences"] == 1 and seen["said"]
    assert seen["run enabled"] is False
    assert seen["kernel"] == (None, False)  # Python is not preselected: nothing is
    assert seen["anyway"] == (True, False)
    assert seen["cancel is default"]
    qtbot.wait(500)
    assert not window.runs.running
    assert runs_of(shelf, notebook_id) == []


def test_running_it_anyway_is_a_deliberate_choice_and_works(
    qtbot: Any, runner_for: Any, shelf: Path
) -> None:
    window = open_window(qtbot, runner_for, shelf)
    notebook_id = select(qtbot, window, "Sales by region (R)")
    seen: dict[str, Any] = {}

    def insist(dialog: RunDialog) -> None:
        dialog.run_anyway.setChecked(True)
        seen["button"] = (dialog.run_button.text(), dialog.run_button.isEnabled(),
                          dialog.run_button.isDefault())
        seen["kernels"] = [dialog.kernel.itemData(i) for i in range(dialog.kernel.count())]
        shoot(qtbot, dialog, "runs-refusal-anyway")
        dialog.kernel.setCurrentIndex(dialog.kernel.findData("python3"))
        dialog.run_button.click()

    QTimer.singleShot(50, lambda: with_dialog(insist))
    window.run_action.trigger()
    qtbot.waitUntil(lambda: "kernels" in seen, timeout=30000)
    qtbot.waitUntil(lambda: window.runs.running, timeout=30000)
    assert seen["button"] == ("Run Anyway", True, False)  # never what Enter does
    assert "python3" in seen["kernels"]
    qtbot.waitUntil(lambda: not window.runs.running, timeout=90000)
    runs = runs_of(shelf, notebook_id)
    assert [(r.kernel, r.status) for r in runs] == [("python3", "error")]

    # the same kernel, not insisted on: the library refuses it and records nothing
    with qtbot.waitSignal(window.runs.finished, timeout=30000) as ended:
        window.runs.start(notebook_id, "python3", {})
    assert ended.args[1] is None and ended.args[2].startswith("This notebook is written in R")
    assert len(runs_of(shelf, notebook_id)) == 1


def test_each_notebook_shows_its_own_run_rendered_live(
    qtbot: Any, runner_for: Any, shelf: Path
) -> None:
    window = open_window(qtbot, runner_for, shelf)
    window.resize(1280, 800)
    tab = window.pane.runs_tab
    a = select(qtbot, window, "Picture run")
    window.runs.start(a, None, {})
    qtbot.waitUntil(lambda: window.pane.tabs.currentIndex() == window.pane.RUNS_TAB,
                    timeout=30000)
    # the picture and the table arrive while the run goes on (the next cell sleeps 4 s)
    assert in_page(qtbot, window, "document.querySelectorAll('main img').length") == 1
    assert in_page(qtbot, window, "document.querySelector('main table') ? "
                   "document.querySelector('main table').innerText : ''").count("4242") == 1
    src = run_js(qtbot, tab.viewer, "document.querySelector('main img').src")
    assert src.startswith("data:image/png;base64,")
    assert "IPython.core.display" not in tab.page_text()
    assert window.runs.running and tab.stop_button.isVisible()
    assert tab.title.text().startswith("Running in ")
    shoot(qtbot, window, "runs-live")

    b = select(qtbot, window, "Other notebook")
    assert b != a
    assert tab.mode == "none" and tab.page_text() == ""
    assert tab.output.currentWidget() is tab.note and not tab.stop_button.isVisible()
    assert tab.title.text() == "No run shown"
    shoot(qtbot, window, "runs-other-notebook")

    select(qtbot, window, "Picture run")
    assert tab.mode == "live" and window.runs.running and tab.stop_button.isVisible()
    assert in_page(qtbot, window, "document.querySelectorAll('main img').length") == 1
    qtbot.waitUntil(lambda: not window.runs.running, timeout=90000)
    qtbot.waitUntil(lambda: tab.title.text().startswith("Finished"), timeout=10000)
    assert in_page(qtbot, window, "document.body.innerText.indexOf('slept') >= 0")
    shoot(qtbot, window, "runs-finished")
    assert not tab.stop_button.isVisible()


def test_the_stop_button_stops_a_long_run_and_it_is_recorded_as_stopped(
    qtbot: Any, runner_for: Any, shelf: Path
) -> None:
    window = open_window(qtbot, runner_for, shelf)
    tab = window.pane.runs_tab
    notebook_id = select(qtbot, window, "Long run")
    window.runs.start(notebook_id, None, {})
    qtbot.waitUntil(lambda: "going" in tab.page_text(), timeout=60000)
    assert tab.stop_button.isVisible() and tab.stop_button.isEnabled()
    with qtbot.waitSignal(window.runs.finished, timeout=30000):
        qtbot.mouseClick(tab.stop_button, Qt.MouseButton.LeftButton)
    assert tab.title.text().startswith("Stopped at cell 3: stopped by the user")
    assert not tab.stop_button.isVisible()
    runs = runs_of(shelf, notebook_id)
    assert [(r.status, r.failed_cell) for r in runs] == [("cancelled", 2)]


def test_a_run_record_shows_its_own_facts_not_the_notebooks(
    qtbot: Any, runner_for: Any, shelf: Path
) -> None:
    window = open_window(qtbot, runner_for, shelf)
    tab = window.pane.runs_tab
    notebook_id = select(qtbot, window, "Long run")
    window.runs.start(notebook_id, "nbshelf-python3", {"n": "7"})
    qtbot.waitUntil(lambda: "going" in tab.page_text(), timeout=60000)
    with qtbot.waitSignal(window.runs.finished, timeout=30000):
        window.runs.stop()
    qtbot.waitUntil(lambda: window.pane.runs_model.rowCount() == 1 and (
        window.pane.runs_model.record(0).status == "cancelled"), timeout=10000)
    table = window.pane.runs_view
    table.setCurrentIndex(window.pane.runs_model.index(0, 0))
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Return)  # open it from the keyboard
    qtbot.waitUntil(lambda: tab.mode == "record" and tab.viewer is not None, timeout=10000)
    run = window.pane.runs_model.record(0)
    assert tab.title.text() == f"Record of run {run.id}: stopped by the user at cell 3"
    shoot(qtbot, window, "runs-record")
    facts = tab.facts.text()
    for expected in ("Ran</span> ", "Kernel</span> nbshelf-python3", "Took</span> ",
                     "Parameters</span> n = 7", "Version</span> the current one"):
        assert expected in facts
    assert window.pane.header.title.text() == "Long run"  # the pane's header is the notebook's
    assert in_page(qtbot, window, "document.body.innerText.indexOf('going') >= 0")
    assert tab.live_button.isVisible()  # back to the last live output of this notebook
