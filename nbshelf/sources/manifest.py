"""Share manifests: a big share's notebook list in one file, so a re-sync need not walk it.

Listing 100,000 files over a slow network share costs a directory listing per folder and a
stat per notebook, each a round trip. A share can instead carry ``.nbshelf-manifest.json`` at
its root (hidden: the walk and Jupyter's file browser skip it), holding every notebook
``relpath -> [size, mtime_ns, sha256]`` and every folder ``relpath -> mtime_ns``. Sync then
stats each folder instead of listing it, and takes a folder's notebooks from the manifest
when the folder's mtime is the one recorded: adding, removing or renaming an entry changes
its folder's mtime, and so does Jupyter's default (atomic) save, which writes a ``.~name``
backup beside the file and removes it.

What is trusted, folder by folder (anything else is listed, exactly as the walk does):

* the folder's mtime equals the recorded one, and
* it is older than the manifest file by more than ``RACY_NS`` (a change within the same
  timestamp tick as the moment the manifest was written would not move the mtime; both
  times come from the share's own clock), and
* the folder was plain when recorded: no links, nothing the walk reports as a problem
  (those folders are recorded as ``null``: always listed, so problems are found as before).

The root is always listed (writing the manifest changes its mtime). A folder that changed
is listed, and its new subfolders walked, so a stale manifest costs only the changed part.

Known limit: a file rewritten in place (same name, no temporary file; e.g. Jupyter with
``use_atomic_writing = False``, or ``cp`` over an existing file) does not change its folder's
mtime, so a manifest-assisted sync does not see it. Hence sync walks the whole source when
the last full walk is older than ``FULL_WALK_AFTER_S`` (24 h), stored in the catalog's
settings table as ``source:<name>:last_walk``. Folder mtimes on FAT/exFAT sticks written by
Windows are not kept up to date either: use manifests on network shares, not on sticks.

nbshelf writes a manifest only on explicit user actions: ``nbshelf source write-manifest``
(a full walk; hashes come from the catalog when the file's size and mtime match it, so only
new or changed files are read) and ``publish``, which refreshes the folders it wrote into
when the share has a manifest. Sync only reads it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import Any

import orjson
from sqlalchemy import Engine

from nbshelf import __version__
from nbshelf.catalog.settings import last_walk
from nbshelf.catalog.settings import note_walk as note_walk  # re-exported: sync and tests
from nbshelf.errors import NbshelfError
from nbshelf.limits import MAX_NOTEBOOK_BYTES
from nbshelf.safepath import UnsafePath, check_relpath
from nbshelf.sources.scan import FileStat, ProblemRecord, ScanResult, is_notebook_name, scan_tree
from nbshelf.store import atomic_write, shared_file_mode

log = logging.getLogger(__name__)

MANIFEST_NAME = ".nbshelf-manifest.json"
FORMAT = 1
#: A folder changed this close before the manifest was written is listed anyway (FAT keeps
#: 2-second times; ext4 and NTFS tick every few ms; 3 s covers both).
RACY_NS = 3_000_000_000
#: A sync walks the whole source when its last full walk is older than this.
FULL_WALK_AFTER_S = 24 * 3600

#: What the library knows of a file: its content hash when (relpath, size, mtime) match.
HashLookup = Callable[[str, FileStat], str | None]


class ManifestError(NbshelfError):
    """A manifest that exists but cannot be read or is not one nbshelf understands."""


@dataclass
class Manifest:
    """A loaded manifest."""

    folders: dict[str, int | None]
    notebooks: dict[str, tuple[int, int, str]]
    written: str = ""
    #: the manifest file's own mtime: the share's clock at the time it was written
    file_mtime_ns: int = 0
    _files_in: dict[str, dict[str, FileStat]] = field(default_factory=dict, repr=False)
    _folders_in: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def index(self) -> None:
        """Group notebooks and folders by the folder that holds them (for the scan)."""
        files_in: dict[str, dict[str, FileStat]] = {prefix: {} for prefix in self.folders}
        folders_in: dict[str, list[str]] = {prefix: [] for prefix in self.folders}
        for relpath, (size, mtime_ns, _digest) in self.notebooks.items():
            files_in[_parent(relpath)][relpath] = FileStat(size, mtime_ns, 0)
        for prefix in self.folders:
            if prefix:
                folders_in[_parent(prefix)].append(prefix.rsplit("/", 1)[-1])
        self._files_in, self._folders_in = files_in, folders_in

    def to_bytes(self) -> bytes:
        """The file's content."""
        doc = {
            "format": FORMAT,
            "generator": f"nbshelf {__version__}",
            "written": datetime.now(UTC).isoformat(timespec="seconds"),
            "folders": self.folders,
            "notebooks": {k: list(v) for k, v in self.notebooks.items()},
        }
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


@dataclass
class ScanHow:
    """How a source was scanned, for the sync result, the log and the benchmark."""

    mode: str = "walk"  # "walk" | "manifest"
    reason: str = ""  # why a walk: "no manifest", "bad manifest", "due", "first"
    folders_trusted: int = 0  # taken from the manifest (a stat, no listing)
    folders_listed: int = 0  # listed: always-listed, changed, new, or racy
    folders_changed: int = 0  # recorded with another mtime: the manifest is stale there
    folders_new: int = 0  # not in the manifest at all


# -- reading -----------------------------------------------------------------------------------


def manifest_path(root: str | Path) -> Path:
    """Where a source's manifest lives."""
    return Path(root) / MANIFEST_NAME


def load(root: str | Path) -> Manifest | None:
    """The source's manifest; None when it has none.

    Raises:
        ManifestError: it exists but is unreadable, not JSON, or not a manifest.
    """
    path = manifest_path(root)
    try:
        with open(path, "rb") as handle:
            mtime_ns = os.fstat(handle.fileno()).st_mtime_ns
            data = handle.read(MAX_NOTEBOOK_BYTES + 1)  # capped on bytes read, not on stat
        if len(data) > MAX_NOTEBOOK_BYTES:
            raise ManifestError(f"is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ManifestError(f"cannot be read ({err.strerror or err})") from None
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise ManifestError(f"is not valid JSON ({err})") from None
    manifest = _validated(doc)
    manifest.file_mtime_ns = mtime_ns
    return manifest


def _validated(doc: Any) -> Manifest:
    if not isinstance(doc, dict):
        raise ManifestError("is not a manifest (not a JSON object)")
    if doc.get("format") != FORMAT:
        raise ManifestError(
            f"has format {doc.get('format')!r}; this nbshelf reads format {FORMAT}"
        )
    folders, notebooks = doc.get("folders"), doc.get("notebooks")
    if not isinstance(folders, dict) or not isinstance(notebooks, dict) or "" not in folders:
        raise ManifestError("is not a manifest (no folders or notebooks)")
    for prefix, mtime in folders.items():
        if not (mtime is None or _is_int(mtime)) or (prefix and _parent(prefix) not in folders):
            raise ManifestError(f"is damaged (folder entry {prefix!r})")
        if prefix:
            _check_inside(prefix)
    checked: dict[str, tuple[int, int, str]] = {}
    for relpath, entry in notebooks.items():
        if not (
            isinstance(entry, list)
            and len(entry) == 3
            and _is_int(entry[0])
            and _is_int(entry[1])
            and isinstance(entry[2], str)
            and _parent(relpath) in folders
            and relpath not in folders
        ):
            raise ManifestError(f"is damaged (notebook entry {relpath!r})")
        _check_inside(relpath)
        checked[relpath] = (entry[0], entry[1], entry[2])
    written = doc.get("written")
    return Manifest(folders, checked, written if isinstance(written, str) else "")


def _check_inside(relpath: str) -> None:
    """A manifest on a share is written by anyone: its paths must name files of the share."""
    try:
        check_relpath(relpath, what="manifest entry")
    except UnsafePath as err:
        raise ManifestError(f"is damaged ({err})") from None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parent(relpath: str) -> str:
    return relpath.rsplit("/", 1)[0] if "/" in relpath else ""


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


# -- syncing with it ---------------------------------------------------------------------------


def scan_source(
    engine: Engine,
    name: str,
    root: str,
    now: float,
    *,
    cancel: Any = None,
    on_entry: Callable[[int], None] | None = None,
    walk: Callable[..., ScanResult] = scan_tree,
) -> tuple[ScanResult, ScanHow]:
    """Scan a folder source: with its manifest when it has a usable one and a full walk is
    not due, else by walking it. A bad manifest is reported as a problem, never fatal.

    ``walk`` is ``scan.scan_tree`` (passed in so that a caller's wrapper sees every walk).
    """
    last = last_walk(engine, name)
    problem: ProblemRecord | None = None
    manifest: Manifest | None = None
    reason = "first" if last is None else "due" if now - last >= FULL_WALK_AFTER_S else ""
    if not reason:
        try:
            manifest = load(root)
        except ManifestError as err:
            message = (
                f"the share's manifest ({MANIFEST_NAME}) {err}; it is ignored and the share "
                f"walked instead. 'nbshelf source write-manifest {name}' writes a new one"
            )
            log.warning("source %s: %s", name, message)
            problem = ProblemRecord(MANIFEST_NAME, "bad-manifest", message)
            reason = "bad manifest"
        if manifest is None and not reason:
            reason = "no manifest"
    if manifest is None:
        scan = walk(root, cancel=cancel, on_entry=on_entry)
        if problem is not None:
            scan.problems.append(problem)
        return scan, ScanHow("walk", reason)
    how = ScanHow("manifest")
    manifest.index()
    scan = walk(root, cancel=cancel, on_entry=on_entry, known=_Trust(manifest, how))
    scan.exact_inode = False
    if how.folders_changed or how.folders_new:
        log.info(
            "source %s: the manifest is stale in %d folders (%d changed, %d new since it was "
            "written %s); those were listed, %d folders taken from it",
            name, how.folders_changed + how.folders_new, how.folders_changed, how.folders_new,
            manifest.written or "?", how.folders_trusted,
        )
    return scan, how


class _Trust:
    """The scan's ``known`` hook: a folder's content from the manifest, when trusted."""

    def __init__(self, manifest: Manifest, how: ScanHow) -> None:
        self.manifest = manifest
        self.how = how
        self.racy_from = manifest.file_mtime_ns - RACY_NS

    def __call__(
        self, prefix: str, st: os.stat_result
    ) -> tuple[dict[str, FileStat], list[str]] | None:
        if prefix not in self.manifest.folders:
            self.how.folders_new += 1
        else:
            recorded = self.manifest.folders[prefix]
            if recorded is not None and st.st_mtime_ns == recorded:
                if recorded < self.racy_from:
                    self.how.folders_trusted += 1
                    return self.manifest._files_in[prefix], self.manifest._folders_in[prefix]
            elif recorded is not None:
                self.how.folders_changed += 1
        self.how.folders_listed += 1
        return None


# -- writing it --------------------------------------------------------------------------------


@dataclass
class Written:
    """What ``write_manifest`` wrote."""

    path: str
    notebooks: int = 0
    folders: int = 0
    always_listed: int = 0  # folders recorded as "always list" (links, problems, unreadable)
    hashed: int = 0  # files read to hash them (the rest: hash known from the catalog)
    bytes: int = 0

    def to_json(self) -> dict[str, Any]:
        """The CLI's report."""
        return dict(self.__dict__)


@dataclass
class _Folder:
    mtime_ns: int | None
    notebooks: dict[str, tuple[int, int, str]]
    subfolders: list[str]
    hashed: int = 0


def write_manifest(root: str | Path, hashes: HashLookup) -> Written:
    """Walk the source in full and write its manifest atomically."""
    folders: dict[str, int | None] = {}
    notebooks: dict[str, tuple[int, int, str]] = {}
    written = Written(str(manifest_path(root)))
    stack = [""]
    while stack:
        prefix = stack.pop()
        try:
            folder = _describe(Path(root), prefix, hashes)
        except OSError:
            folders[prefix] = None  # cannot be listed: sync lists it and reports why
            continue
        folders[prefix] = None if prefix == "" else folder.mtime_ns
        notebooks.update(folder.notebooks)
        written.hashed += folder.hashed
        stack.extend(_join(prefix, name) for name in folder.subfolders)
    data = _save(root, Manifest(folders, notebooks))
    written.notebooks, written.folders, written.bytes = len(notebooks), len(folders), len(data)
    written.always_listed = sum(1 for m in folders.values() if m is None)
    return written


def refresh_folders(root: str | Path, relpath: str, hashes: HashLookup) -> bool:
    """After publishing ``relpath``, bring the manifest's record of the folders that hold it
    up to date (each one listed again, so a colleague's change there is recorded too, never
    hidden). Returns False when the share has no usable manifest (nothing is written then).

    Two publishers racing can lose one's update (last writer wins). That is safe: a folder
    whose recorded mtime is then out of date is merely stale, and sync lists it.
    """
    try:
        manifest = load(root)
    except ManifestError as err:
        log.warning("the manifest of %s %s; not updated", root, err)
        return False
    if manifest is None:
        return False
    parts = relpath.split("/")[:-1]
    chain = [""] + ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for prefix in chain:
        try:
            folder: _Folder | None = _describe(Path(root), prefix, hashes)
        except OSError:
            folder = None
        _replace_content(manifest, prefix, folder)
    _save(root, manifest)
    return True


def _replace_content(manifest: Manifest, prefix: str, folder: _Folder | None) -> None:
    """Record what listing ``prefix`` found: its notebooks, and no more of the subfolders
    that are gone (with everything under them)."""
    for relpath in [r for r in manifest.notebooks if _parent(r) == prefix]:
        del manifest.notebooks[relpath]
    if folder is None:
        manifest.folders[prefix] = None  # cannot be listed: sync lists it and says why
        return
    manifest.folders[prefix] = None if prefix == "" else folder.mtime_ns
    manifest.notebooks.update(folder.notebooks)
    present = {_join(prefix, name) for name in folder.subfolders}
    for sub in present:
        # a subfolder we have no record of (made by someone else): sync lists it
        manifest.folders.setdefault(sub, None)
    gone = [f for f in manifest.folders if f and _parent(f) == prefix and f not in present]
    for sub in gone:
        below = sub + "/"
        for f in [f for f in manifest.folders if f == sub or f.startswith(below)]:
            del manifest.folders[f]
        for r in [r for r in manifest.notebooks if r.startswith(below)]:
            del manifest.notebooks[r]


def _describe(root: Path, prefix: str, hashes: HashLookup) -> _Folder:
    """Stat a folder, then list it: its notebooks (with hashes), its subfolders, and its
    mtime, or None when it holds anything but plain folders and regular notebook files.

    The stat comes before the listing: a change made after it moves the mtime past the
    recorded one, so it is never hidden.

    Raises:
        OSError: the folder cannot be listed.
    """
    path = root / prefix if prefix else root
    st = os.stat(path)
    with os.scandir(path) as entries:
        listing = list(entries)
    folder = _Folder(st.st_mtime_ns, {}, [])
    plain = True
    for entry in listing:
        name = entry.name
        if name.startswith("."):
            continue  # the walk skips hidden names: so does the manifest
        try:
            name.encode("utf-8")
            if entry.is_symlink():
                plain = False
                continue
            if entry.is_dir(follow_symlinks=False):
                plain = plain and not is_notebook_name(name)
                folder.subfolders.append(name)
                continue
            if not is_notebook_name(name):
                continue
            est = entry.stat(follow_symlinks=False)
        except (UnicodeEncodeError, OSError):
            plain = False
            continue
        if not S_ISREG(est.st_mode):
            plain = False
            continue
        relpath = _join(prefix, name)
        stat = FileStat(est.st_size, est.st_mtime_ns, est.st_ino)
        digest = hashes(relpath, stat)
        if digest is None:
            digest = _hash_file(entry.path, stat)
            folder.hashed += 1
        if digest is None:
            plain = False  # changing or unreadable now: sync lists the folder
            continue
        folder.notebooks[relpath] = (stat.size, stat.mtime_ns, digest)
    if not plain:
        folder.mtime_ns = None
    return folder


def _hash_file(path: str, stat: FileStat) -> str | None:
    try:
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
            after = os.fstat(handle.fileno())
    except OSError:
        return None
    if (after.st_size, after.st_mtime_ns) != (stat.size, stat.mtime_ns):
        return None
    return digest


def _save(root: str | Path, manifest: Manifest) -> bytes:
    data = manifest.to_bytes()
    target = manifest_path(root)
    atomic_write(target, data, mode=shared_file_mode(target))
    return data


def remove(root: str | Path) -> None:
    """Delete a source's manifest (tests and the benchmark)."""
    with contextlib.suppress(FileNotFoundError):
        manifest_path(root).unlink()
