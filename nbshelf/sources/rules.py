"""Rules about source folders: where one may be, and recognising a moved one by its content.

A USB stick is ``E:\\`` today and ``F:\\`` tomorrow; nbshelf writes nothing into a source, so it
recognises a moved source by what it holds: the relative paths and sizes of its notebooks,
confirmed by the hashes of a few of them.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

from nbshelf.errors import SourceError
from nbshelf.sources.scan import scan_tree

#: Share of a missing source's notebooks a folder must hold (same path and size) to be it.
MATCH_SHARE = 0.8
#: How many matching files are read to confirm the match by hash.
HASH_SAMPLE = 5


def real_folder(path: str | Path) -> Path:
    """The resolved folder a user named; ``SourceError`` if it is not a folder."""
    folder = Path(os.path.realpath(os.path.abspath(os.path.expanduser(str(path)))))
    if not folder.exists():
        raise SourceError(f"there is no folder at {path}")
    if not folder.is_dir():
        raise SourceError(f"{path} is a file, not a folder; add the folder that holds it")
    return folder


def is_within(inner: Path, outer: Path) -> bool:
    """True when ``inner`` is ``outer`` or lies below it (both resolved)."""
    return inner == outer or outer in inner.parents


def check_not_nested(folder: Path, library_root: Path) -> None:
    """Refuse a source inside the library folder, or a library inside the source."""
    library = Path(os.path.realpath(library_root))
    if is_within(library, folder):
        raise SourceError(
            f"the library folder {library} is inside {folder}; a library cannot live in one "
            "of its sources (nbshelf never writes into sources). Choose a folder that does not "
            "contain the library, or move the library with --library"
        )
    if is_within(folder, library):
        raise SourceError(
            f"{folder} is inside the library folder {library}; add the original folder instead"
        )


def reachable(path: str) -> bool:
    """True when the folder can be listed now (or, for a zip pack, the file is there)."""
    if os.path.isfile(path):
        return True
    try:
        with os.scandir(path):
            return True
    except OSError:
        return False


def present(path: str) -> bool:
    """True when a source looks plugged in: reachable, and (a folder) not empty. An empty
    mount point of a share that is not mounted is reachable but not present."""
    if os.path.isfile(path):
        return True
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is not None
    except OSError:
        return False


def clean_name(wanted: str) -> str:
    """A source name as ``SOURCE:PATH`` references can use it: no colon, slash or spaces."""
    return re.sub(r"[:/\\\s]+", "-", wanted.strip()).strip("-")


def unique_name(wanted: str, taken: Iterable[str]) -> str:
    """A source name from ``wanted`` that no other source has (``name``, ``name-2``, ...)."""
    base = clean_name(wanted) or "source"
    names = set(taken)
    if base not in names:
        return base
    n = 2
    while f"{base}-{n}" in names:
        n += 1
    return f"{base}-{n}"


def match_share(folder: Path, notebooks: dict[str, tuple[int, str]]) -> float:
    """How well ``folder`` holds a source's notebooks: 0 (not at all) to 1.

    Args:
        folder: the candidate folder.
        notebooks: the missing source's present notebooks, relpath -> (size, content hash).
    """
    if not notebooks:
        return 0.0
    scan = scan_tree(str(folder))
    same_size = [
        rel for rel, st in scan.files.items() if rel in notebooks and notebooks[rel][0] == st.size
    ]
    share = len(same_size) / len(notebooks)
    if share < MATCH_SHARE:
        return share
    sample = sorted(same_size)[:: max(1, len(same_size) // HASH_SAMPLE)][:HASH_SAMPLE]
    for rel in sample:
        try:
            digest = hashlib.sha256((folder / rel).read_bytes()).hexdigest()
        except OSError:
            return 0.0
        if digest != notebooks[rel][1]:
            return 0.0
    return share
