"""The errors nbshelf raises on purpose.

Each one carries a message a user can act on. The CLI prints it and exits 1; the UI shows it
with copyable details. Anything else that escapes is a bug and goes to the crash handler.
"""

from __future__ import annotations

import errno
import sqlite3


class NbshelfError(Exception):
    """Base of every error meant for the user: ``str(err)`` is the whole message."""


class LibraryLocked(NbshelfError):
    """Another process holds the library's writer lock."""

    def __init__(self, library: str, pid: int | None) -> None:
        who = f"process {pid}" if pid else "another process"
        super().__init__(
            f"the library {library} is in use by {who}; close it there, or use a read-only command"
        )
        self.pid = pid


class LibraryError(NbshelfError):
    """The library folder cannot be opened or created as asked."""


class StorageError(NbshelfError):
    """The machine refused a write or a read of the library: a full disk, a read-only folder,
    a catalog that is corrupt or locked. Not a bug: the message says what to do, and
    nothing already in the library was lost."""


class BlobDamaged(StorageError, OSError):
    """A stored notebook version (a blob) cannot be read back: truncated, overwritten by
    something else, or claiming to inflate past ``limits.MAX_BLOB_BYTES``.

    Also an ``OSError`` on purpose: the code that skips a lost blob (a missing file) and
    lets the next sync copy it again treats a damaged one the same way.

    Attributes:
        path: the blob's file.
    """

    def __init__(self, path: str, why: str) -> None:
        super().__init__(
            f"the library's stored copy {path} is damaged ({why}); the other notebooks, and "
            "the file in its source, are not affected. Restore the library folder from a "
            "backup; or, for a notebook's current version, delete that file, touch or save "
            "the notebook in its source, and sync: the sync stores it anew"
        )
        self.path = path
        self.why = why

    def __reduce__(self) -> tuple[type[BlobDamaged], tuple[str, str]]:
        # rebuilt from its own arguments when it crosses to another process (a pool)
        return (type(self), (self.path, self.why))


class SourceError(NbshelfError):
    """A source cannot be added, found, relocated or removed as asked."""


class SourceUnavailable(SourceError):
    """A source's folder is not reachable now (USB stick unplugged, share not mounted)."""


class NotFound(NbshelfError):
    """A notebook reference (id, path, SOURCE:PATH) matches nothing in the library."""


class SimilarLearning(NbshelfError):
    """The library's first similarity model is still being fitted (a first sync is under
    way): the similar notebooks come once it is saved."""

    def __init__(self) -> None:
        super().__init__("Similar notebooks will appear when the library has finished "
                         "learning from the new notebooks.")


class NotebookInvalid(NbshelfError):
    """A file cannot be read as a notebook at all.

    Attributes:
        kind: the problem kind recorded for it (``invalid-json``, ``not-a-notebook``, ...).
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class KernelMissing(NbshelfError):
    """No installed kernel runs a notebook's kernel or language.

    Attributes:
        kernel_name: the kernelspec name the notebook asks for, or None.
        language: the notebook's language, or None.
        installed: the kernels that are installed, as "Display name (name)".
    """

    def __init__(self, kernel_name: str | None, language: str | None, installed: list[str]) -> None:
        if kernel_name and language:
            wanted = f"the kernel '{kernel_name}' ({language})"
            other = f" and no other {language} kernel is either"
        elif kernel_name:
            wanted, other = f"the kernel '{kernel_name}'", ""
        else:
            wanted = f"a {language or 'suitable'} kernel"
            other = ""
        listed = ", ".join(installed) if installed else "none"
        super().__init__(
            f"This notebook needs {wanted}, which is not installed on this computer{other}. "
            f"Installed kernels: {listed}. Install the missing kernel, or run the notebook "
            "with one of the installed kernels."
        )
        self.kernel_name = kernel_name
        self.language = language
        self.installed = installed


class ParameterError(NbshelfError):
    """Run parameters that do not fit the notebook's ``parameters`` cell."""


class UnknownParameter(ParameterError):
    """A parameter name the notebook's ``parameters`` cell does not define."""


class BadParameterValue(ParameterError):
    """A parameter value that is not of the type of the parameter's default."""


# What the operating system or SQLite says, and what the user should hear.
_FULL = ("the disk holding the library is full; nothing was lost. Free some space and "
         "sync again")
_OS_MESSAGES = {
    errno.ENOSPC: _FULL,
    errno.EDQUOT: "your disk quota on the drive holding the library is used up; nothing was "
                  "lost. Free some space and sync again",
    errno.EFBIG: "a file of the library grew past the largest file this system lets nbshelf "
                 "write (a file size limit); nothing was lost. Raise the limit or free space, "
                 "and sync again",
    errno.EROFS: "the library is on a read-only disk; nothing was written. Open it from a "
                 "writable folder, or use read-only commands",
    errno.EIO: "the disk holding the library reported an input/output error; nothing more was "
               "written. Check the disk, then sync again",
}
_SQLITE_MESSAGES = (
    ("database or disk is full", _FULL),
    ("readonly database", "the library's catalog cannot be written (a read-only folder or "
                          "file); nothing was written. Open it from a writable folder, or use "
                          "read-only commands"),
    ("database is locked", "the library's catalog is locked by another program; nothing was "
                           "lost. Close that program (or wait for it) and try again"),
    ("malformed", "the library's catalog (catalog.sqlite) is damaged; nothing more was "
                  "written. Restore the library folder from a backup, or move it aside and "
                  "sync again to rebuild it"),
    ("file is not a database", "the library's catalog (catalog.sqlite) is damaged or is not "
                               "a catalog; nothing was written. Restore it from a backup, or "
                               "move the library folder aside and sync again to rebuild it"),
    ("disk i/o error", "the disk holding the library reported an input/output error; nothing "
                       "more was written. Check the disk, then sync again"),
    ("unable to open database file", "the library's catalog cannot be opened (its folder is "
                                     "missing, not writable or full)"),
)


def storage_error(err: BaseException) -> StorageError | None:
    """The ``StorageError`` a machine failure stands for, or None when ``err`` is not one.

    Looks through the chain (SQLAlchemy wraps sqlite3's errors, and an ``OSError`` may be
    the cause of another error) for a full disk, a read-only or damaged library, a lock.
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [err]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, StorageError):
            return current
        if isinstance(current, OSError) and current.errno in _OS_MESSAGES:
            found = StorageError(_OS_MESSAGES[current.errno])
            found.__cause__ = current
            return found
        if isinstance(current, sqlite3.Error):
            text = str(current).lower()
            for needle, message in _SQLITE_MESSAGES:
                if needle in text:
                    found = StorageError(message)
                    found.__cause__ = current
                    return found
        todo += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return None
