"""The content-addressed blob store: every notebook version, by the hash of its bytes.

Blobs are immutable. A blob is written to a temporary file in its final folder, flushed to
disk and renamed into place, so a kill at any moment leaves either no blob or a whole one;
leftover temporary files are removed the next time a writer opens the library.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import time
from pathlib import Path

_TMP_SUFFIX = ".tmp"
#: ``atomic_write``'s temporary files are ``.NAME.nbshelf-XXXXXXXX.tmp`` (``mkstemp``'s eight
#: random characters): specific enough that nbshelf can tell its own leftovers on a share
#: from another tool's ``.NAME.tmp`` or a user's file, and remove only its own.
_TMP_MARK = ".nbshelf-"
TEMP_NAME = re.compile(r"\A\..+" + re.escape(_TMP_MARK) + r"[a-z0-9_]{8}"
                       + re.escape(_TMP_SUFFIX) + r"\Z", re.DOTALL)


#: A temporary file of nbshelf's older than this (seconds) is a killed writer's leftover:
#: a live write keeps touching its file, and no publish takes minutes between two writes.
STALE_TEMP_S = 300


class BlobStore:
    """Blobs under ``<library>/blobs/ab/cdef….ipynb``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        """Where the blob with this hash lives (whether or not it exists)."""
        return self.root / digest[:2] / f"{digest[2:]}.ipynb"

    def has(self, digest: str) -> bool:
        """True when the blob is in the store."""
        return self.path(digest).is_file()

    def read(self, digest: str) -> bytes:
        """The bytes of a blob; ``FileNotFoundError`` when it is missing."""
        return self.path(digest).read_bytes()

    def put(self, digest: str, data: bytes) -> bool:
        """Store ``data`` under ``digest`` atomically; return False if it was already there."""
        target = self.path(digest)
        if target.is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data)
        return True

    def delete(self, digest: str) -> None:
        """Remove a blob that nothing references any more."""
        with contextlib.suppress(FileNotFoundError):
            self.path(digest).unlink()

    def remove_leftovers(self) -> int:
        """Delete temporary files a killed writer left behind; return how many."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for folder in self.root.iterdir():
            if folder.is_dir():
                for tmp in folder.glob(f"*{_TMP_SUFFIX}"):
                    tmp.unlink(missing_ok=True)
                    removed += 1
        return removed


def shared_file_mode(existing: Path) -> int:
    """The mode a file written for others should have: the old file's, else the default
    the user's umask gives new files (so colleagues can read what is published)."""
    try:
        return existing.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def temp_prefix(name: str) -> str:
    """The start of the name of a temporary file written for ``name`` (``TEMP_NAME``)."""
    return f".{name}{_TMP_MARK}"


def atomic_write(target: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``target`` so that readers see the old file or the whole new one.

    Args:
        target: the file to write.
        data: its new content.
        mode: permission bits for the file; None leaves the temporary file's private 0600
            (right for the library, wrong on a share: see ``shared_file_mode``).
    """
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=temp_prefix(target.name),
                               suffix=_TMP_SUFFIX)
    try:
        if mode is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove_stale_temps(folder: str | Path, older_than: float = STALE_TEMP_S) -> int:
    """Remove the temporary files killed nbshelf writes left in ``folder``; return how many.

    Only nbshelf's own (``.NAME.nbshelf-XXXXXXXX.tmp``, see ``store.TEMP_NAME``), only
    regular files (never a link), only when untouched for ``older_than`` seconds: another
    computer may be writing a young one right now. Not recursive. Sync can call it for each
    folder of a folder source; nothing here fails for a folder that is gone or unreadable.
    """
    removed = 0
    cutoff = time.time() - older_than
    try:
        with os.scandir(folder) as entries:
            leftovers = [e for e in entries if TEMP_NAME.match(e.name)]
    except OSError:
        return 0
    for entry in leftovers:
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue  # gone meanwhile, or not ours to remove: the next publish tries again
    return removed
