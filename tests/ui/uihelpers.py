"""What the window tests share: a main window opened on a library, as the app opens it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbshelf.ui.window import MainWindow


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
