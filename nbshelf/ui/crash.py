"""Bugs reach the user: ``sys.excepthook`` writes the traceback to the crash log and shows it.

Known errors (``NbshelfError``) never come here; they are short messages shown where they
happen. Anything else is a bug: it goes to ``crash.log`` (the same file the CLI writes) and to
a dialog whose details can be copied into a bug report.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from nbshelf.crashlog import log_folder as log_folder  # the app and its tests read it here
from nbshelf.crashlog import write_crash_log

log = logging.getLogger(__name__)


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
        where = write_crash_log(details, who="app")
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
