"""Bugs reach the user: ``sys.excepthook`` writes the traceback to the crash log and shows it.

Known errors (``NbshelfError``) never come here; they are short messages shown where they
happen. Anything else is a bug: it goes to ``crash.log`` (the same file the CLI writes) and to
a dialog whose details can be copied into a bug report.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from nbshelf import __version__
from nbshelf.records import iso_time

log = logging.getLogger(__name__)


def log_folder() -> Path:
    """Where nbshelf writes its logs (the user's log folder)."""
    import platformdirs

    return Path(platformdirs.user_log_dir("nbshelf", appauthor=False))


def write_crash_log(details: str) -> Path | None:
    """Append a traceback to ``crash.log``; returns its path (None if it cannot be written)."""
    path = log_folder() / "crash.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"--- {iso_time(time.time())} nbshelf {__version__} (app)\n{details}")
    except OSError as err:
        log.error("cannot write the crash log %s: %s", path, err)
        return None
    return path


class CrashHandler:
    """The app's ``sys.excepthook``.

    Args:
        parent: returns the window to put the dialog over (or None).
        end: for unattended runs (``NBSHELF_QUIT_AFTER_START``): instead of a dialog that
            nobody would close, print the traceback to stderr and call ``end(70)``
            (``QApplication.exit``).
    """

    EXIT_CODE = 70

    def __init__(
        self,
        parent: Callable[[], QWidget | None],
        *,
        end: Callable[[int], None] | None = None,
    ) -> None:
        self._parent = parent
        self._end = end
        self._showing = False
        self._previous = sys.excepthook

    def install(self) -> None:
        """Become ``sys.excepthook``."""
        self._previous = sys.excepthook
        sys.excepthook = self

    def uninstall(self) -> None:
        """Put the previous hook back."""
        if sys.excepthook is self:
            sys.excepthook = self._previous

    def __call__(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self._previous(exc_type, exc, tb)
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("a bug reached the crash handler:\n%s", details)
        where = write_crash_log(details)
        if self._end is not None:
            sys.stderr.write(details)
            self._end(self.EXIT_CODE)
            return
        if self._showing:
            return  # one dialog at a time; the log has every one
        self._showing = True
        try:
            self._show(exc, details, where)
        finally:
            self._showing = False

    def _show(self, exc: BaseException, details: str, where: Path | None) -> None:
        saved = f"The details were saved to {where}." if where else ""
        box = QMessageBox(self._parent())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("nbshelf hit a bug")
        box.setText(
            "Something went wrong inside nbshelf. Your library is safe; the last action may "
            "not have finished."
        )
        box.setInformativeText(f"{type(exc).__name__}: {exc}\n\n{saved}".strip())
        box.setDetailedText(details)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        box.exec()
