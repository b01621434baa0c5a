"""An exclusive lock on one file of a share, made of a lock file next to it.

Publishing reads the target (has someone else changed it?) and then replaces it; without a
lock two publishers can both read the old file and both replace it, and one edit is lost.
File locks (``flock``, ``fcntl``) are not trustworthy on SMB and NFS folders, so the lock is a
hidden file, ``.NAME.nbshelf-lock``, created with ``O_CREAT | O_EXCL`` (atomic on local disks,
SMB and NFSv3+). It holds who took it (host, pid, time, a random token) as JSON.

A publisher killed while holding it leaves it behind. It is taken over only when provably
stale: it was taken on this computer by a process that is gone, or it is older than
``STALE_AFTER_S``. Taking over is race-free the way Mercurial breaks its locks: the stale
lock is removed only under a second lock (``.NAME.nbshelf-lock.break``, the same kind of
lock, held for a moment) after reading it again, and a holder gives its lock up under that
same second lock, so the file removed is always the stale one that was judged, never a fresh
lock someone took meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from nbshelf.errors import NbshelfError

log = logging.getLogger(__name__)

#: How long ``acquire`` waits for another publisher before refusing (seconds).
WAIT_S = 5.0
#: A lock older than this is taken over whoever holds it (seconds): far above any publish.
STALE_AFTER_S = 600.0
LOCK_SUFFIX = ".nbshelf-lock"
_BREAK_SUFFIX = ".break"
#: How deep locks guarding the removal of stale locks may nest (a breaker killed while
#: breaking leaves a stale ``.break`` that a ``.break.break`` removes, and so on).
_MAX_DEPTH = 3
_POLL_S = (0.005, 0.05)  # random pause between tries: short, spread so racers interleave


class LockBusy(NbshelfError):
    """Another process holds the lock of a file on the share."""


@dataclass(frozen=True)
class Holder:
    """What a lock file says about who holds it."""

    host: str
    pid: int
    time: float
    token: str


def lock_path(target: Path) -> Path:
    """The hidden lock file of ``target``, next to it (a sync never catalogues it)."""
    return target.with_name(f".{target.name}{LOCK_SUFFIX}")


class ShareLock:
    """An exclusive lock on ``target``, held from ``acquire()`` to ``release()``.

    Use it as a context manager; the lock file is removed on the way out, whatever happened.
    """

    def __init__(self, target: Path, *, wait: float | None = None,
                 stale_after: float | None = None) -> None:
        self.target = target
        self.path = lock_path(target)
        self.wait = WAIT_S if wait is None else wait
        self.stale_after = STALE_AFTER_S if stale_after is None else stale_after
        self._token: str | None = None

    def __enter__(self) -> ShareLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._token is not None

    def acquire(self) -> None:
        """Take the lock, waiting up to ``wait`` seconds for another holder.

        Raises:
            LockBusy: another process holds it (and it is not stale) after the wait.
            OSError: the folder refuses the lock file (read-only, full, gone).
        """
        deadline = time.monotonic() + self.wait
        while True:
            token = _try_take(self.path, self.stale_after, 0)
            if token is not None:
                self._token = token
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(_pause())
        holder = _read(self.path)
        who = f" (by {holder.host}, process {holder.pid}, since " \
              f"{time.strftime('%H:%M:%S', time.localtime(holder.time))})" if holder else ""
        raise LockBusy(
            f"another publish to this file is in progress{who}; nothing was written. Try "
            f"again in a moment. If no publish is running, its lock ({self.path}) is taken "
            f"over once it is {self.stale_after / 60:.0f} minutes old"
        )

    def release(self) -> None:
        """Give the lock up (idempotent); its file goes only if it is still this one's."""
        if self._token is None:
            return
        token, self._token = self._token, None
        try:
            _give_up(self.path, token, self.stale_after)
        except OSError as err:  # never hide why the publish stopped; the lock goes stale
            log.warning("the lock %s could not be removed: %s", self.path, err)


def _pause() -> float:
    low, high = _POLL_S
    return low + (high - low) * secrets.randbelow(1000) / 1000


def _try_take(path: Path, stale_after: float, depth: int) -> str | None:
    """One try: the new lock's token, or None when someone else holds it."""
    token = _create(path)
    if token is not None:
        return token
    holder = _read(path)
    if not _stale(path, holder, stale_after) or depth >= _MAX_DEPTH:
        return None
    if _break(path, holder, stale_after, depth):
        return _create(path)
    return None


def _create(path: Path) -> str | None:
    """Create the lock file exclusively and say who holds it; None if it exists."""
    token = secrets.token_hex(16)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return None
    try:
        content = {"host": socket.gethostname(), "pid": os.getpid(), "time": time.time(),
                   "token": token}
        os.write(fd, json.dumps(content).encode("utf-8"))
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    os.close(fd)
    return token


def _read(path: Path) -> Holder | None:
    """Who holds the lock, or None when it is gone, empty (being written) or unreadable."""
    try:
        data = json.loads(path.read_bytes())
        return Holder(str(data["host"]), int(data["pid"]), float(data["time"]),
                      str(data["token"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _stale(path: Path, holder: Holder | None, stale_after: float) -> bool:
    """True when the lock's holder provably does not hold it any more."""
    if holder is None:
        # No content: its creator is writing it this very moment, or was killed between
        # creating and writing it. Only its age tells the two apart.
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            return False  # gone: the next try creates it
        return age > stale_after
    if time.time() - holder.time > stale_after:
        return True
    return holder.host == socket.gethostname() and not _alive(holder.pid)


def _alive(pid: int) -> bool:
    """False only when no process ``pid`` exists on this computer."""
    if sys.platform == "win32" or pid <= 0:
        return True  # cannot be told safely (os.kill would signal it): wait for the timeout
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _break(path: Path, judged: Holder | None, stale_after: float, depth: int) -> bool:
    """Remove the stale lock ``judged`` at ``path``; False when it could not be done now.

    Under the breaker lock nobody else removes ``path`` (holders give up and breakers break
    only under it) and nobody creates it while it exists, so reading it again and finding
    the same holder proves the file removed is the stale one that was judged.
    """
    breaker = _breaker(path)
    token = _try_take(breaker, stale_after, depth + 1)
    if token is None:
        return False
    try:
        if _read(path) != judged or not _stale(path, judged, stale_after):
            return False
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return True
    finally:
        _remove_own(breaker, token)


def _breaker(path: Path) -> Path:
    return path.with_name(path.name + _BREAK_SUFFIX)


def _give_up(path: Path, token: str, stale_after: float) -> None:
    """Remove our lock file under the breaker lock, unless it was taken over meanwhile."""
    breaker = _breaker(path)
    deadline = time.monotonic() + WAIT_S
    while (guard := _try_take(breaker, stale_after, 1)) is None:
        if time.monotonic() >= deadline:
            # A breaker is stuck (killed mid-break): leave our lock, which is stale as soon
            # as this process ends (for this computer) or after ``stale_after`` (for others).
            log.warning("the lock %s is left behind: %s is held", path, breaker)
            return
        time.sleep(_pause())
    try:
        _remove_own(path, token)
    finally:
        _remove_own(breaker, guard)


def _remove_own(path: Path, token: str) -> None:
    """Remove a lock file if it is still ours. A breaker lock is held for a moment, never
    near ``stale_after``, so nobody takes it over between the check and the removal."""
    holder = _read(path)
    if holder is not None and holder.token == token:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
