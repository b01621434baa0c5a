"""The History tab: a version picked in the list shows what changed as a rendered cell diff."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from PySide6.QtCore import Qt

from nbshelf.library import Library
from tests.helpers import write_notebook
from tests.ui.test_window import select
from tests.ui.uihelpers import LOAD_TIMEOUT_MS, open_window, run_js

HISTORY_TAB = 2


@pytest.fixture
def two_versions(library_dir: Path, tmp_path: Path) -> Path:
    """A library holding "Mango prices" twice: its code cell's second line changed."""
    path = write_notebook(tmp_path / "share" / "mango.ipynb", title="Mango prices",
                          code=["prices = load()\nprices.plot()\nprint('done')"])
    with Library.open(library_dir) as lib:
        lib.add_source(tmp_path / "share")
        lib.sync()
    nb = nbformat.read(path, 4)
    nb.cells[-1].source = "prices = load()\nprices.plot(kind='bar')\nprint('done')"
    nb.cells.append(nbformat.v4.new_markdown_cell("<b>Notes</b> & <script>x</script>"))
    nbformat.write(nb, path)
    os.utime(path, ns=(1, 7_000_000_000_000_000_000))
    with Library.open(library_dir) as lib:
        lib.sync()
    return library_dir


def test_history_tab_shows_the_changed_lines_marked(qtbot: Any, runner_for: Any,
                                                    two_versions: Path) -> None:
    window = open_window(qtbot, runner_for, two_versions)
    window.resize(1100, 800)
    select(qtbot, window, "Mango prices")
    pane = window.pane
    pane.tabs.setCurrentIndex(HISTORY_TAB)
    qtbot.waitUntil(lambda: pane.history_model.rowCount() == 2, timeout=10000)
    assert pane.tabs.tabText(HISTORY_TAB) == "History (2)"
    assert pane.history_diff.currentWidget() is pane.history_diff.note

    pane.history_view.setFocus()
    pane.history_view.selectRow(0)  # the newest version, picked from the keyboard's place
    qtbot.waitUntil(lambda: pane.history_diff.viewer is not None
                    and pane.history_diff.currentWidget() is not pane.history_diff.note,
                    timeout=LOAD_TIMEOUT_MS)
    viewer = pane.history_diff.viewer
    assert viewer is not None and viewer.isVisible()

    marked = json.loads(run_js(qtbot, viewer, """(function(){
        function rows(kind){ return Array.from(document.querySelectorAll('.nbs-diff-' + kind))
            .map(function(e){ return e.textContent; }); }
        return JSON.stringify({del: rows('del'), add: rows('add'), same: rows('same'),
                heads: Array.from(document.querySelectorAll('.nbs-diff-where'))
                    .map(function(e){ return e.textContent; }),
                scripts: document.querySelectorAll('script').length,
                text: document.body.innerText});
    })()"""))
    assert marked["del"] == ["-prices.plot()\n"]
    assert "+prices.plot(kind='bar')\n" in marked["add"]
    assert "+<b>Notes</b> & <script>x</script>\n" in marked["add"]  # shown as text
    assert " prices = load()\n" in marked["same"]
    assert marked["heads"] == ["Cell 2", "Cell 3"]
    assert marked["scripts"] == 0
    assert "Version 1 → 2" in marked["text"]
    assert viewer.interceptor.blocked == []

    qtbot.wait(1500)  # the first paint of the web view, for the screenshot
    os.makedirs("/tmp/shots", exist_ok=True)
    window.grab().save("/tmp/shots/history.png")

    # The version list keeps working from the keyboard: the first version has no diff.
    qtbot.keyClick(pane.history_view, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: pane.history_diff.currentWidget() is pane.history_diff.note,
                    timeout=10000)
    assert pane.history_diff.note.text() == "The first version this library saw."
