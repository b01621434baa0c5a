"""What the window tests share: a main window opened on a library, as the app opens it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWebEngineCore import QWebEngineScript

from nbshelf.ui.viewer import NotebookViewer
from nbshelf.ui.window import MainWindow

#: How long a test waits for a page to load or a script to answer.
LOAD_TIMEOUT_MS = 30_000
#: The three notebooks of the ``synced`` fixture's one source, "share".
SHARE_TITLES = ["Traffic forecast", "Churn analysis", "Mango prices"]
#: A folder to save what the tests saw, to look at (unset: nothing is saved). Run the UI
#: tests under Xvfb with ``QT_QPA_PLATFORM=xcb NBSHELF_TEST_SHOTS=DIR`` for real-screen pictures.
SHOTS = os.environ.get("NBSHELF_TEST_SHOTS")


def shoot(qtbot: Any, widget: Any, name: str) -> None:
    """Save ``widget`` as ``NAME.png`` in ``NBSHELF_TEST_SHOTS`` when that is set."""
    if not SHOTS:
        return
    qtbot.wait(150)  # let the last paint land
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


def open_window(qtbot: Any, runner_for: Any, root: Path, *, until: str = "ready",
                timeout: int = 30000) -> MainWindow:
    """A shown window on ``root`` once its signal ``until`` fired (``ready``: first rows;
    ``health_checked``: the first background health check landed)."""
    runner = runner_for(root)
    window = MainWindow(runner, root)
    qtbot.addWidget(window)
    window.show()
    if QGuiApplication.platformName() != "offscreen":
        # On a real (Xvfb) screen with no window manager nothing activates a window, and
        # window shortcuts (F3, Ctrl+R) only reach the active one.
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=5000)
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
