"""The errors nbshelf raises on purpose.

Each one carries a message a user can act on. The CLI prints it and exits 1; the UI shows it
with copyable details. Anything else that escapes is a bug and goes to the crash handler.
"""

from __future__ import annotations


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


class SourceError(NbshelfError):
    """A source cannot be added, found, relocated or removed as asked."""


class SourceUnavailable(SourceError):
    """A source's folder is not reachable now (USB stick unplugged, share not mounted)."""


class NotFound(NbshelfError):
    """A notebook reference (id, path, SOURCE:PATH) matches nothing in the library."""


class NotebookInvalid(NbshelfError):
    """A file cannot be read as a notebook at all.

    Attributes:
        kind: the problem kind recorded for it (``invalid-json``, ``not-a-notebook``, ...).
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
