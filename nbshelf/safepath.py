"""Paths from outside (pack entries, manifests, publish targets) kept inside their folder.

Two checks, used at two moments. ``check_relpath`` looks at the words of a relative path when
it arrives (a pack's manifest, ``--as``) and refuses every form that could mean somewhere else
on some system: absolute, a drive letter, a backslash, a NUL, an empty, ``.`` or ``..`` segment.
``inside`` is used where a file is written: it resolves the target the way the operating
system will (symbolic links included) and refuses it unless it is still under the folder. The
second check holds even when a bad path got into a catalog some other way.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from nbshelf.errors import NbshelfError

#: Longest relative path accepted from outside (Windows' classic MAX_PATH is 260).
MAX_RELPATH = 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
# Characters no path from outside may hold: NUL ends a C string (the name would be cut short)
# and the other control characters hide what a name says in listings and messages.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UnsafePath(NbshelfError):
    """A path from outside would lead out of the folder it belongs to."""


def check_relpath(rel: str, *, what: str = "path") -> str:
    """Return ``rel`` if it is a plain relative POSIX path; raise ``UnsafePath`` otherwise.

    Args:
        rel: the path as it came (a manifest's entry, a pack's file name, ``--as``).
        what: how messages name it ("pack entry", "target").
    """
    shown = _shown(rel)
    if not isinstance(rel, str) or not rel:
        raise UnsafePath(f"the {what} is empty")
    if len(rel) > MAX_RELPATH:
        raise UnsafePath(f"the {what} {shown} is longer than {MAX_RELPATH} characters")
    if _CONTROL.search(rel):
        raise UnsafePath(f"the {what} {shown} holds a control character (such as NUL)")
    if "\\" in rel:
        raise UnsafePath(f"the {what} {shown} holds a backslash; paths here use '/'")
    if rel.startswith("/") or _DRIVE.match(rel):
        raise UnsafePath(f"the {what} {shown} is absolute; it must be relative to its folder")
    for part in rel.split("/"):
        if part in ("", ".", ".."):
            raise UnsafePath(
                f"the {what} {shown} has an empty, '.' or '..' part; it could lead out of "
                "its folder")
    return rel


def inside(root: str | Path, rel: str, *, what: str = "path") -> Path:
    """The file ``rel`` under ``root``, checked to stay there once links are followed.

    The words are checked first (``check_relpath``); then the target's real path (symbolic
    links in its existing folders resolved, as the write will follow them) must lie under
    the real path of ``root``.

    Raises:
        UnsafePath: the path is malformed or leads out of ``root``.
    """
    check_relpath(rel, what=what)
    base = os.path.realpath(root)
    target = os.path.realpath(os.path.join(base, rel))
    try:
        escaped = os.path.commonpath([base, target]) != base or target == base
    except ValueError:  # Windows: another drive (a junction to D:) shares no path at all
        escaped = True
    if escaped:
        raise UnsafePath(
            f"the {what} {_shown(rel)} leads out of {root} (through a symbolic link); "
            "nothing was written there")
    return Path(target)


def _shown(rel: object) -> str:
    """A path as messages quote it: control characters visible, long ones cut."""
    text = repr(rel) if not isinstance(rel, str) else "'" + _CONTROL.sub("?", rel) + "'"
    return text if len(text) <= 120 else text[:117] + "...'"
