"""File → Export…: the dialog, the export on the read lane, the status bar's answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nbshelf.library import Library
from nbshelf.ui.exporting import ExportDialog
from nbshelf.ui.window import MainWindow
from tests.ui.uihelpers import open_window


@pytest.fixture
def synced(library_dir: Path, make_share: Any) -> Path:
    with Library.open(library_dir) as lib:
        lib.add_source(make_share("share", ["Traffic forecast"]))
        lib.sync()
    return library_dir


def show_first(qtbot: Any, window: MainWindow) -> int:
    with Library.open(window.library_root, readonly=True) as lib:
        notebook_id = lib.resolve("share:000-traffic-forecast.ipynb")
    with qtbot.waitSignal(window.pane.shown, timeout=20000):
        window.open_notebook(notebook_id)
    return notebook_id


def export(qtbot: Any, window: MainWindow, path: Path, to: str, **kwargs: Any) -> str:
    dialog = window.export_shown()
    assert isinstance(dialog, ExportDialog)
    status = window.statusBar()
    dialog.export_to(path, to, **kwargs)
    qtbot.waitUntil(lambda: status.currentMessage().startswith(("Exported", "Not exported")),
                    timeout=20000)
    return str(status.currentMessage())


@pytest.mark.parametrize(("to", "name", "marker"), [
    ("html", "report.html", b"<html"),
    ("markdown", "notes.md", b"## Data"),
])
def test_export_the_shown_notebook(qtbot: Any, runner_for: Any, synced: Path, tmp_path: Path,
                                   to: str, name: str, marker: bytes) -> None:
    window = open_window(qtbot, runner_for, synced)
    show_first(qtbot, window)
    assert window.export_action.isEnabled()
    target = tmp_path / "out" / name
    message = export(qtbot, window, target, to)
    assert message == f"Exported to {target}"
    assert target.is_file()
    assert marker in target.read_bytes()


def test_an_existing_file_is_refused_unless_confirmed(qtbot: Any, runner_for: Any,
                                                      synced: Path, tmp_path: Path) -> None:
    window = open_window(qtbot, runner_for, synced)
    show_first(qtbot, window)
    target = tmp_path / "nb.md"
    target.write_text("mine", encoding="utf-8")
    assert export(qtbot, window, target, "markdown", overwrite=True) == f"Exported to {target}"
    assert "## Data" in target.read_text(encoding="utf-8")


def test_the_dialog_suggests_the_notebooks_name(qtbot: Any, runner_for: Any, synced: Path,
                                               tmp_path: Path) -> None:
    window = open_window(qtbot, runner_for, synced)
    show_first(qtbot, window)
    window._export_folder = tmp_path
    dialog = window.export_shown()
    assert dialog is not None
    assert dialog.choices()[:2] == ("html", tmp_path / "000-traffic-forecast.html")
    dialog.format.setCurrentIndex(0)  # the script, named after the notebook's language
    assert dialog.format.currentText() == "Python script (.py)"
    assert dialog.choices()[1].name == "000-traffic-forecast.py"
    dialog.resize(dialog.sizeHint())
    Path("/tmp/shots").mkdir(exist_ok=True)
    dialog.format.setCurrentIndex(dialog.format.findData("html"))
    dialog.grab().save("/tmp/shots/export.png")
    dialog.reject()


def test_export_is_disabled_with_no_notebook_shown(qtbot: Any, runner_for: Any,
                                                   synced: Path) -> None:
    window = open_window(qtbot, runner_for, synced)
    assert window.pane.info is None
    assert not window.export_action.isEnabled()
    assert window.export_shown() is None
    assert window.export_action.shortcut().toString() == "Ctrl+E"
    assert window.export_action in window.menuBar().actions()[0].menu().actions()
