"""Walking a source folder: which notebook files it holds, and which entries are problems.

The walk reads no file content: it collects each notebook's (size, mtime, inode) so that sync
can skip unchanged files. It skips hidden folders (``.ipynb_checkpoints``, ``.git``) and never
follows a link out of the source, and it remembers the folders it could not list so that
nothing under them is taken for removed.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from stat import S_ISREG
from typing import NamedTuple

from nbshelf.store import TEMP_NAME

NOTEBOOK_SUFFIX = ".ipynb"


class FileStat(NamedTuple):
    """What identifies one state of a file without reading it (a tuple: compared in C, as
    a re-sync compares one per notebook)."""

    size: int
    mtime_ns: int
    inode: int


@dataclass(frozen=True)
class ProblemRecord:
    """A file that is not (or not fully) a readable notebook, in words a user can act on."""

    relpath: str
    kind: str
    message: str
    stat: FileStat | None = None


@dataclass
class ScanResult:
    """The outcome of walking one source."""

    files: dict[str, FileStat] = field(default_factory=dict)
    problems: list[ProblemRecord] = field(default_factory=list)
    #: Folders (relative, "" for the root) that could not be listed: keep what was under them.
    unlisted: list[str] = field(default_factory=list)
    #: nbshelf's own temporary files seen on the way (``store.TEMP_NAME``): a killed
    #: publish's leftovers, which sync removes once they are old.
    leftovers: list[str] = field(default_factory=list)
    entries_seen: int = 0
    cancelled: bool = False
    #: False when some stats come from a share manifest (``nbshelf.sources.manifest``), which
    #: records no inodes: those files (inode 0) are compared to the catalog on size and mtime.
    exact_inode: bool = True

    def covers(self, relpath: str) -> bool:
        """True when ``relpath`` lies in a part of the tree the walk really listed."""
        for folder in self.unlisted:
            if folder == "" or relpath == folder or relpath.startswith(folder + "/"):
                return False
        return True


#: Given a folder (relative path, and its ``os.stat``), its notebooks and subfolder names
#: when they are known without listing it (a share manifest), else None: list it.
KnownFolder = Callable[[str, os.stat_result], tuple[dict[str, FileStat], list[str]] | None]


def is_notebook_name(name: str) -> bool:
    """True for ``*.ipynb`` names, in any letter case (Windows shares keep ``.IPYNB``)."""
    return name.lower().endswith(NOTEBOOK_SUFFIX)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def _printable(name: str) -> str:
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def scan_tree(
    root: str,
    *,
    cancel: threading.Event | None = None,
    on_entry: Callable[[int], None] | None = None,
    known: KnownFolder | None = None,
) -> ScanResult:
    """Walk the folder ``root`` and return its notebook files and problems.

    Args:
        root: the source folder (already known to exist).
        cancel: set to stop early; the result then has ``cancelled`` and is partial.
        on_entry: called now and then with the number of entries seen so far.
        known: asked before each folder is listed; a folder it answers for is not listed
            (it stats the folder instead), see ``KnownFolder``.
    """
    result = ScanResult()
    real_root = os.path.realpath(root)
    visited = {_dir_key(real_root)}
    stack: list[tuple[str, str]] = [(root, "")]  # (path, relpath)
    unseen: set[str] = set()  # folders ``known`` gave, not yet checked against ``visited``
    while stack:
        if cancel is not None and cancel.is_set():
            result.cancelled = True
            break
        path, prefix = stack.pop()
        if known is None or not _known_folder(path, prefix, known, visited, result, stack, unseen):
            _list_folder(path, prefix, real_root, visited, result, stack)
        if on_entry is not None:
            on_entry(result.entries_seen)
    return result


def _list_folder(
    path: str,
    prefix: str,
    real_root: str,
    visited: set[tuple[int, int]],
    result: ScanResult,
    stack: list[tuple[str, str]],
) -> None:
    try:
        with os.scandir(path) as entries:
            listing = list(entries)
    except OSError as err:
        _unlisted_folder(result, prefix, err)
        return
    for entry in listing:
        result.entries_seen += 1
        child = _scan_entry(entry, prefix, real_root, visited, result)
        if child is not None:
            stack.append(child)


def _known_folder(
    path: str,
    prefix: str,
    known: KnownFolder,
    visited: set[tuple[int, int]],
    result: ScanResult,
    stack: list[tuple[str, str]],
    unseen: set[str],
) -> bool:
    """Take a folder's content from ``known`` instead of listing it; False: list it.

    ``known`` answers only for plain folders (no links, no problem entries), so its
    subfolders are real folders, reached once; one already reached through a link elsewhere
    is reported as the walk reports it.
    """
    try:
        st = os.stat(path)
    except OSError:
        unseen.discard(prefix)
        return False  # listing it says why
    if prefix in unseen:  # given by a known folder: check it as the parent's listing would
        unseen.discard(prefix)
        key = (st.st_dev, st.st_ino)
        if key in visited:
            result.problems.append(
                ProblemRecord(
                    prefix,
                    "symlink-loop",
                    "symbolic link leads back to a folder already scanned; skipped",
                )
            )
            return True
        visited.add(key)
    listing = known(prefix, st)
    if listing is None:
        return False
    files, folders = listing
    result.files.update(files)
    result.entries_seen += len(files) + len(folders)
    for name in folders:
        relpath = _join(prefix, name)
        unseen.add(relpath)
        stack.append((os.path.join(path, name), relpath))
    return True


def _unlisted_folder(result: ScanResult, prefix: str, err: OSError) -> None:
    result.unlisted.append(prefix)
    where = f"the folder {prefix}" if prefix else "the source folder"
    reason = "permission denied" if isinstance(err, PermissionError) else (err.strerror or err)
    message = f"{where} cannot be listed ({reason}); its notebooks are kept as they were"
    result.problems.append(ProblemRecord(prefix or ".", "unreadable", message))


def _scan_entry(
    entry: os.DirEntry[str],
    prefix: str,
    real_root: str,
    visited: set[tuple[int, int]],
    result: ScanResult,
) -> tuple[str, str] | None:
    """Record one directory entry; return a folder to descend into, if it is one."""
    name = entry.name
    if name.startswith("."):
        if TEMP_NAME.match(name):
            result.leftovers.append(_join(prefix, name))
        return None  # hidden files and folders: .ipynb_checkpoints, .git, .Trash-1000
    relpath = _join(prefix, name)
    notebook_name = is_notebook_name(name)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        if notebook_name or entry.is_dir():
            result.problems.append(_bad_name(relpath))
        return None
    if entry.is_symlink():
        return _scan_link(entry, relpath, notebook_name, real_root, visited, result)
    try:
        if entry.is_dir(follow_symlinks=False):
            return _folder(entry.path, relpath, notebook_name, entry.path, visited, result)
        if notebook_name:
            _notebook_file(entry.path, relpath, entry.stat(follow_symlinks=False), result)
    except OSError as err:
        if notebook_name:
            result.problems.append(_unreadable(relpath, err))
    return None


def _scan_link(
    entry: os.DirEntry[str],
    relpath: str,
    notebook_name: bool,
    real_root: str,
    visited: set[tuple[int, int]],
    result: ScanResult,
) -> tuple[str, str] | None:
    try:
        target_stat = os.stat(entry.path)
    except OSError as err:
        if not notebook_name:
            return None
        if err.errno == errno.ELOOP:
            result.problems.append(
                ProblemRecord(relpath, "symlink-loop", "symbolic links form a loop; skipped")
            )
        else:
            target = _printable(os.readlink(entry.path)) if os.path.islink(entry.path) else "?"
            result.problems.append(
                ProblemRecord(
                    relpath,
                    "broken-link",
                    f"symbolic link points to {target}, which does not exist",
                )
            )
        return None
    real = os.path.realpath(entry.path)
    if real != real_root and not real.startswith(real_root + os.sep):
        if notebook_name:
            result.problems.append(
                ProblemRecord(
                    relpath,
                    "link-outside-source",
                    f"symbolic link leads outside the source (to {_printable(real)}); skipped",
                )
            )
        return None
    if os.path.isdir(real):
        return _folder(entry.path, relpath, notebook_name, real, visited, result)
    if notebook_name:
        _notebook_file(entry.path, relpath, target_stat, result)
    return None


def _folder(
    path: str,
    relpath: str,
    notebook_name: bool,
    real: str,
    visited: set[tuple[int, int]],
    result: ScanResult,
) -> tuple[str, str] | None:
    if notebook_name:
        result.problems.append(
            ProblemRecord(
                relpath, "not-a-file", "this is a folder named like a notebook, not a notebook file"
            )
        )
    key = _dir_key(real)
    if key in visited:
        result.problems.append(
            ProblemRecord(
                relpath,
                "symlink-loop",
                "symbolic link leads back to a folder already scanned; skipped",
            )
        )
        return None
    visited.add(key)
    return (path, relpath)


def _notebook_file(path: str, relpath: str, st: os.stat_result, result: ScanResult) -> None:
    if not S_ISREG(st.st_mode):
        result.problems.append(
            ProblemRecord(relpath, "not-a-file", "this is not a regular file (a device or a pipe)")
        )
        return
    result.files[relpath] = FileStat(st.st_size, st.st_mtime_ns, st.st_ino)


def _dir_key(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (-1, hash(path))
    return (st.st_dev, st.st_ino)


def _bad_name(relpath: str) -> ProblemRecord:
    return ProblemRecord(
        _printable(relpath),
        "bad-filename",
        f"the name {_printable(relpath.rsplit('/', 1)[-1])!r} is not valid UTF-8 text; "
        "rename it so nbshelf (and Jupyter) can read it",
    )


def _unreadable(relpath: str, err: OSError) -> ProblemRecord:
    reason = "permission denied" if isinstance(err, PermissionError) else (err.strerror or str(err))
    return ProblemRecord(relpath, "unreadable", f"the file cannot be read ({reason})")
