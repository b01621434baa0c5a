"""The library's writer lock: one process writes, any number read.

The lock is an OS file lock on ``<library>/lock`` (``flock`` on POSIX, ``msvcrt`` on Windows):
the OS drops it when the holder dies, so a killed app never leaves a stale lock behind. The
holder's pid is written into the file so a second writer can say who has it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from nbshelf.errors import LibraryLocked


class WriterLock:
    """Holds ``<library>/lock`` until ``release()`` or process exit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._file is not None

    def acquire(self, wait: float = 0.0,
                on_wait: Callable[[int | None, float], None] | None = None) -> None:
        """Take the lock or raise ``LibraryLocked`` naming the process that has it.

        Args:
            wait: how long to keep trying while another process holds it (seconds).
            on_wait: told once (holder's pid, ``wait``) when the lock is held and a wait
                begins, so a terminal can say why nothing happens yet.
        """
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                self._take()
                return
            except LibraryLocked as locked:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise
                if on_wait is not None and not told:
                    on_wait(locked.pid, wait)
                    told = True
                time.sleep(min(0.1, left))

    def _take(self) -> None:
        handle = open(self.path, "a+", encoding="ascii")  # noqa: SIM115 - held open on purpose
        try:
            _lock(handle)
        except OSError as err:
            handle.seek(0)
            text = handle.read().strip()
            handle.close()
            pid = int(text) if text.isdigit() else None
            raise LibraryLocked(str(self.path.parent), pid) from err
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        _watch_forks(self)

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        if self._file is None:
            return
        with contextlib.suppress(OSError):
            self._file.seek(0)
            self._file.truncate()
            _unlock(self._file)
        self._file.close()
        self._file = None


_LOCKS: list[WriterLock] = []
#: In a child, the closed lock files: kept referenced so no finaliser closes them again.
_CLOSED_IN_CHILD: list[object] = []


def _watch_forks(lock: WriterLock) -> None:
    """Make forked children (the index's worker processes) neither keep nor outlive the lock.

    A forked child shares the lock's open file, so a child that outlives a killed writer
    would keep the library locked. In the child the descriptor is closed (never unlocked:
    that would release the parent's lock too), and on Linux the child is killed with its
    parent.
    """
    if not _LOCKS and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_in_child)
    _LOCKS.append(lock)


def _in_child() -> None:
    for lock in _LOCKS:
        if lock._file is not None:
            with contextlib.suppress(OSError):
                os.close(lock._file.fileno())
            _CLOSED_IN_CHILD.append(lock._file)
            lock._file = None
    _LOCKS.clear()
    _die_with_parent()


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)


if sys.platform == "win32":
    import msvcrt

    def _lock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
