"""The one way long work reports progress and learns it should stop.

Index builds, similarity fits, health runs and packs report ``(done, total, message)``
through a ``ProgressFn`` and stop when their ``threading.Event`` is set; a sync reports the
richer ``SyncProgress`` (its phase, files found, copied) through its own callback, and the
index build inside it is forwarded to that callback as phase "index". Work that was
stopped says so in what it returns (``SyncReport.cancelled``) or raises ``Cancelled``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from nbshelf.errors import Cancelled

#: Told how far long work is: ``(done, total, message)``.
ProgressFn = Callable[[int, int, str], None]

__all__ = ["Cancelled", "Progress", "ProgressFn", "check_cancel"]


class Progress(Protocol):
    """What a long task is given: where to report, and whether to stop (the UI's ``Job``
    and the command line's progress line both are one)."""

    def report(self, done: int, total: int, message: str) -> None:
        """How far the work is."""

    @property
    def cancelled(self) -> bool:
        """True once the user asked to stop."""


def check_cancel(cancel: threading.Event | None, what: str) -> None:
    """Raise ``Cancelled`` when ``cancel`` is set (``what`` names the work stopped)."""
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"{what} was cancelled; nothing was lost, and running it again "
                        "finishes it")
