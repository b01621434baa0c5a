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
