"""What the window tests share: a main window opened on a library, as the app opens it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWebEngineCore import QWebEngineScript

from nbshelf.ui.viewer import NotebookViewer
from nbshelf.ui.window import MainWindow

#: How long a test waits for a page to load or a script to answer.
LOAD_TIMEOUT_MS = 30_000


def open_window(qtbot: Any, runner_for: Any, root: Path, *, until: str = "ready",
                timeout: int = 30000) -> MainWindow:
    """A shown window on ``root`` once its signal ``until`` fired (``ready``: first rows;
    ``health_checked``: the first background health check landed)."""
    runner = runner_for(root)
    window = MainWindow(runner, root)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(getattr(window, until), timeout=timeout):
        runner.start()
    return window


def run_js(qtbot: Any, viewer: NotebookViewer, script: str) -> Any:
    """Evaluate in the app's isolated world (page scripts are off) and return the result."""
    result: list[Any] = []
    viewer.page().runJavaScript(
        script, QWebEngineScript.ScriptWorldId.ApplicationWorld, result.append
    )
    qtbot.waitUntil(lambda: bool(result), timeout=LOAD_TIMEOUT_MS)
    return result[0]
