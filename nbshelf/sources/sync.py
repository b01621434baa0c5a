"""Syncing sources into the library: diff a walk against the catalog, copy what changed.

Order of writes, for a library that survives a kill at any moment: a new content's blob is on
disk (temp file, fsync, rename, on the store's threads; ``BlobStore.flush`` waits for them
and syncs the folders just before the commit) before the transaction that records it
commits, and catalog changes commit in batches. A killed sync leaves a consistent library
holding a prefix of the work; the next sync finds the rest changed and completes it.
"""

from __future__ import annotations

import errno
import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine

from nbshelf.catalog.models import Source, SourceKind
from nbshelf.catalog.syncing import (
    KnownFile,
    add_content,
    add_notebook,
    add_version,
    change_notebook,
    has_content,
    known_files,
    known_problems,
    mark_removed,
    problem_rows,
    record_problems,
    replace_problem,
    set_available,
    touch_file,
)
from nbshelf.crashlog import write_crash_log
from nbshelf.errors import NotebookInvalid
from nbshelf.limits import MAX_NOTEBOOK_BYTES
from nbshelf.notebook import ParsedNotebook, content_hash, parse_notebook
from nbshelf.publish.markings import marking_hint
from nbshelf.sources.manifest import ScanHow, note_walk, scan_source
from nbshelf.sources.packs import MANIFEST, ZIP_ERRORS, PackReader
from nbshelf.sources.scan import FileStat, ProblemRecord, ScanResult, scan_tree
from nbshelf.store import BlobStore, remove_stale_temps

#: A batch of catalog changes commits after this many files or this many seconds.
BATCH_FILES = 200
BATCH_SECONDS = 1.0


@dataclass(frozen=True)
class SyncProgress:
    """Where a sync is: files found so far, files checked, files copied in."""

    source: str
    #: "scan" while walking, "copy" while reading changed files, "index" after (the index
    #: takes in what is left), "learn" when only the similarity model is still being fitted
    phase: str
    scanned: int
    copied: int
    total: int
    #: Contents the search index has taken in so far during this sync (None: the index
    #: catches up only after the copy, as a small sync does).
    searchable: int | None = None


ProgressFn = Callable[[SyncProgress], None]
#: Told after each batch of catalog changes commits while the copy goes on (on the sync's
#: thread, between two transactions): what the batch recorded is visible to readers now.
CommitFn = Callable[[], None]


@dataclass
class SourceSyncResult:
    """What one source's sync changed."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    available: bool = True
    cancelled: bool = False
    #: ids of notebooks whose current content changed (added, updated, reappeared)
    changed_ids: list[int] = field(default_factory=list)
    removed_ids: list[int] = field(default_factory=list)
    #: a folder source: walked, or read with the help of its manifest (``nbshelf.sources.manifest``)
    scan: ScanHow | None = None


class SourceSync:
    """Syncs one source; ``run()`` does the work."""

    def __init__(
        self,
        engine: Engine,
        store: BlobStore,
        source: Source,
        *,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        on_commit: CommitFn | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        self.source_id = source.id
        self.name = source.name
        self.root = source.path
        self.opened = source.kind == OPENED
        self.pack: PackReader | None = None
        self.kind = source.kind
        self.progress = progress
        self.cancel = cancel or threading.Event()
        self.on_commit = on_commit
        self.result = SourceSyncResult()
        self._last_progress = 0.0

    # -- the steps -------------------------------------------------------------------------

    def run(self) -> SourceSyncResult:
        """Walk the source, copy what changed, mark what vanished, record problems."""
        now = time.time()
        if self.opened:
            return self._run_opened(now)
        if self.kind == PACK:
            return self._run_pack(now)
        if not _reachable(self.root):
            self._mark_availability(False)
            self.result.available = False
            return self.result
        scan, self.result.scan = scan_source(
            self.engine, self.name, self.root, now, cancel=self.cancel,
            on_entry=self._scan_progress, walk=scan_tree,
        )
        with self.engine.connect() as conn:
            known = self._known(conn)
            old_problems = self._old_problems(conn)
        if looks_unmounted(scan, any(not k.removed for k in known.values())):
            self._mark_availability(False)
            self.result.available = False
            return self.result
        problems = self._copy_changed(scan, known, old_problems, now)
        complete = not (scan.cancelled or self.cancel.is_set())
        if complete and _reachable(self.root):
            self._mark_removed(scan, known, now)
            for folder in {os.path.dirname(relpath) for relpath in scan.leftovers}:
                remove_stale_temps(os.path.join(self.root, folder))
        self._finish(problems, scan, complete, now)
        if complete and self.result.scan.mode == "walk":
            note_walk(self.engine, self.name, now)
        self.result.cancelled = not complete
        return self.result

    def sync_paths(self, relpaths: list[str]) -> SourceSyncResult:
        """Copy just these files of the source (a file the user opened); nothing else."""
        now = time.time()
        with self.engine.connect() as conn:
            known = self._known(conn)
            old_problems = self._old_problems(conn)
        scan = _stat_files(self.root, relpaths)
        problems = self._copy_changed(scan, known, old_problems, now)
        self._finish(problems, scan, False, now)
        return self.result

    def _run_pack(self, now: float) -> SourceSyncResult:
        """A pack is read from its manifest, and every notebook checked against it."""
        if not os.path.exists(self.root):
            self._mark_availability(False)
            self.result.available = False
            return self.result
        with PackReader.open(Path(self.root)) as self.pack:
            with self.engine.connect() as conn:
                known = self._known(conn)
                old_problems = self._old_problems(conn)
            try:
                present = self.pack.stats()
            except ZIP_ERRORS as err:  # a central directory that lies about its members
                present = {}
                self.pack.problems.append(ProblemRecord(
                    MANIFEST, "pack-damaged", f"the pack's list of files cannot be read ({err})"))
            scan = ScanResult(
                files={rel: st for rel, st in present.items() if rel in self.pack.entries},
                problems=self.pack.problems + self.pack.missing_and_extra(present),
            )
            if not self.pack.entries:
                scan.unlisted.append("")  # a damaged manifest: keep what the library has
            problems = self._copy_changed(scan, known, old_problems, now)
        self.pack = None
        self._mark_removed(scan, known, now)
        self._finish(problems, scan, True, now)
        return self.result

    def _run_opened(self, now: float) -> SourceSyncResult:
        """Opened files are not walked: each known file is looked at again, alone."""
        with self.engine.connect() as conn:
            known = self._known(conn)
            old_problems = self._old_problems(conn)
        scan = _stat_files(self.root, list(known))
        problems = self._copy_changed(scan, known, old_problems, now)
        complete = not self.cancel.is_set()
        if complete:
            self._mark_removed(scan, known, now)
        self._finish(problems, scan, complete, now)
        self.result.cancelled = not complete
        return self.result

    def _known(self, conn: Connection) -> dict[str, KnownFile]:
        return {k.relpath: k for k in known_files(conn, self.source_id)}

    def _old_problems(self, conn: Connection) -> dict[str, ProblemRecord]:
        old: dict[str, ProblemRecord] = {}
        for p in known_problems(conn, self.source_id):
            # the three are written together: all known, or none
            stat = (FileStat(p.size, p.mtime_ns, p.inode)
                    if p.size is not None and p.mtime_ns is not None and p.inode is not None
                    else None)
            old[p.relpath] = ProblemRecord(p.relpath, p.kind, p.message, stat)
        return old

    def _copy_changed(
        self,
        scan: ScanResult,
        known: dict[str, KnownFile],
        old_problems: dict[str, ProblemRecord],
        now: float,
    ) -> list[ProblemRecord]:
        problems = list(scan.problems)
        todo: list[tuple[str, FileStat]] = []
        loose = not scan.exact_inode
        for relpath in sorted(scan.files):
            stat = scan.files[relpath]
            row = known.get(relpath)
            old = old_problems.get(relpath)
            if row is not None and not row.removed and _same(row.stat, stat, loose):
                self.result.unchanged += 1
            elif row is None and old is not None and _same(old.stat, stat, loose):
                problems.append(old)  # the same bad file as last time: not read again
            else:
                todo.append((relpath, stat))
        total = len(scan.files)
        done = total - len(todo)
        self._report("copy", done, total, force=True)
        conn = self.engine.connect()
        try:
            tx = conn.begin()
            batch_start, in_batch = time.monotonic(), 0
            for relpath, stat in todo:
                if self.cancel.is_set():
                    break
                problem = self._copy_one(conn, relpath, stat, known.get(relpath), now)
                if problem is not None:
                    problems.append(problem)
                done += 1
                in_batch += 1
                self._report("copy", done, total)
                if in_batch >= BATCH_FILES or time.monotonic() - batch_start > BATCH_SECONDS:
                    self.store.flush()  # the batch's blobs are durable before it commits
                    tx.commit()
                    if self.on_commit is not None:
                        self.on_commit()  # the search index takes the batch in meanwhile
                    tx = conn.begin()
                    batch_start, in_batch = time.monotonic(), 0
            self.store.flush()
            tx.commit()
        finally:
            conn.close()
        self._report("copy", done, total, force=True)
        return problems

    def _copy_one(
        self, conn: Connection, relpath: str, stat: FileStat, row: KnownFile | None, now: float
    ) -> ProblemRecord | None:
        """Read one new or changed file into the store and catalog; a problem if it is bad."""
        try:
            if self.pack is not None:
                data = self.pack.read_verified(relpath)
            else:
                data, stat = read_stable(os.path.join(self.root, relpath))
        except NotebookInvalid as err:
            return ProblemRecord(relpath, err.kind, err.message, stat)
        digest = content_hash(data)
        if row is not None and not row.removed and row.content_hash == digest:
            # touched but not changed: remember the new stat so it is not read again
            touch_file(conn, row.id, stat.size, stat.mtime_ns, stat.inode)
            if not self.store.has(digest):
                # lost from disk, or deleted being damaged (BlobDamaged says to touch the
                # file): we have its bytes in hand
                self.store.put(digest, data, later=True)
            self.result.unchanged += 1
            return None
        if not has_content(conn, digest):
            try:
                parsed = parse_notebook(data, relpath.rsplit("/", 1)[-1], digest=digest)
            except NotebookInvalid as err:
                return ProblemRecord(relpath, err.kind, err.message, stat)
            self.store.put(digest, data, later=True)  # durable at the batch's commit
            add_content(conn, _content_values(parsed, len(data)))
        elif not self.store.has(digest):
            self.store.put(digest, data, later=True)  # lost from disk; we have its bytes
        self._record_version(conn, relpath, stat, row, digest, now)
        return None

    def _record_version(
        self,
        conn: Connection,
        relpath: str,
        stat: FileStat,
        row: KnownFile | None,
        digest: str,
        now: float,
    ) -> None:
        file_values = {"size": stat.size, "mtime_ns": stat.mtime_ns, "inode": stat.inode}
        if row is None:
            notebook_id = add_notebook(conn, self.source_id, relpath, digest, now, file_values)
            self.result.added += 1
        else:
            notebook_id = row.id
            change_notebook(conn, row, digest, now, file_values)
            if row.removed:
                self.result.added += 1
            else:
                self.result.updated += 1
            if row.content_hash == digest:
                self.result.changed_ids.append(notebook_id)
                return  # reappeared with the same content: no new version
        add_version(conn, notebook_id, digest, now, stat.mtime_ns)
        self.result.changed_ids.append(notebook_id)

    def _mark_removed(self, scan: ScanResult, known: dict[str, KnownFile], now: float) -> None:
        gone_rows = [
            k
            for relpath, k in known.items()
            if not k.removed and relpath not in scan.files and scan.covers(relpath)
        ]
        if not gone_rows:
            return
        mark_removed(self.engine, gone_rows, now)
        self.result.removed = len(gone_rows)
        self.result.removed_ids = [k.id for k in gone_rows]

    def _finish(
        self, problems: list[ProblemRecord], scan: ScanResult, complete: bool, now: float
    ) -> None:
        rows = problem_rows(self.source_id,
                            ((p.relpath, p.kind, p.message, p.stat) for p in problems), now)
        record_problems(self.engine, self.source_id, rows, complete=complete, now=now)

    def _mark_availability(self, available: bool) -> None:
        set_available(self.engine, self.source_id, available)

    # -- progress --------------------------------------------------------------------------

    def _scan_progress(self, entries: int) -> None:
        self._report("scan", 0, entries)

    def _report(self, phase: str, done: int, total: int, *, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if not force and now - self._last_progress < 0.05:
            return
        self._last_progress = now
        copied = self.result.added + self.result.updated
        self.progress(SyncProgress(self.name, phase, done, copied, total))


def record_source_failure(engine: Engine, source_id: int, err: BaseException) -> None:
    """List an unforeseen failure of one source's sync as a problem of that source.

    The sync of the other sources goes on; the traceback goes to the crash log, since an
    error nobody foresaw is a bug to report even when the user can carry on.
    """
    where = write_crash_log(traceback.format_exc())
    told = f"; the details are in {where}" if where else ""
    message = (f"this source could not be synced ({type(err).__name__}: {err}). The other "
               f"sources were synced, and what the library had of this one is kept{told}")
    [row] = problem_rows(source_id, [("", SYNC_FAILED, message, None)], time.time())
    replace_problem(engine, source_id, SYNC_FAILED, row)


#: The problem kind of a source whose sync failed in a way nobody foresaw.
SYNC_FAILED = "sync-failed"


def _content_values(parsed: ParsedNotebook, size: int) -> dict[str, object]:
    s = parsed.summary
    return {
        "hash": parsed.content_hash,
        "size": size,
        "title": s.title,
        "headings": s.headings,
        "kernel_name": s.kernel_name,
        "language": s.language,
        "nbformat": s.nbformat,
        "nbformat_minor": s.nbformat_minor,
        "n_cells": s.n_cells,
        "n_code": s.n_code,
        "n_markdown": s.n_markdown,
        "n_raw": s.n_raw,
        "imports": s.imports,
        "source_hash": s.source_hash,
        "schema_error": s.schema_error,
        "marking": marking_hint(parsed.raw),
    }


#: The kinds sync treats apart (kept here for the modules that import them from sync).
OPENED = SourceKind.OPENED
PACK = SourceKind.PACK


def _same(known: tuple[int, int, int] | None, found: FileStat, loose: bool) -> bool:
    """The file is as the catalog knows it (``known``: size, mtime, inode); ``loose``: a stat
    without an inode (0, from a manifest) is compared on size and mtime only."""
    if known == found:
        return True
    return (
        loose and found.inode == 0 and known is not None
        and known[0] == found.size and known[1] == found.mtime_ns
    )


def _stat_files(root: str, relpaths: list[str]) -> ScanResult:
    """A scan of just these files: present ones with their stat, unreachable folders kept."""
    scan = ScanResult()
    for relpath in relpaths:
        path = os.path.join(root, relpath)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            if not os.path.isdir(os.path.dirname(path)):
                scan.unlisted.append(relpath)  # its folder is gone (a stick unplugged): keep it
            continue
        except OSError as err:
            scan.problems.append(
                ProblemRecord(relpath, "unreadable", f"the file cannot be read ({err.strerror})")
            )
            scan.unlisted.append(relpath)
            continue
        scan.files[relpath] = FileStat(st.st_size, st.st_mtime_ns, st.st_ino)
    return scan


def looks_unmounted(scan: ScanResult, catalog_has_present: bool) -> bool:
    """True for a folder source that is there but not really: no notebook found (and no
    folder left unlisted) where the catalog holds present notebooks of it. Most likely the
    empty mount point of a share that is not mounted; sync calls it unavailable rather than
    marking everything removed, and publish refuses to write into it.

    A walk that could not list the source folder itself ("" unlisted: a share that stopped
    answering after it was found) did not see the source either: it is unavailable too,
    and its last sync stays the last time it was really seen.

    Args:
        scan: a walk of the source folder.
        catalog_has_present: the catalog holds notebooks of the source not marked removed.
    """
    if "" in scan.unlisted:
        return True
    return not scan.files and not scan.unlisted and catalog_has_present


def _reachable(root: str) -> bool:
    try:
        with os.scandir(root):
            return True
    except OSError:
        return False


def read_stable(path: str) -> tuple[bytes, FileStat]:
    """Read a whole file, checking it did not change while it was read.

    Raises:
        NotebookInvalid: the file vanished, cannot be read, is too large, or changed meanwhile.
    """
    try:
        with open(path, "rb") as handle:
            before = os.fstat(handle.fileno())
            if before.st_size > MAX_NOTEBOOK_BYTES:
                raise NotebookInvalid(
                    "too-large",
                    f"the file is {before.st_size / 2**20:,.0f} MB; nbshelf reads notebooks up "
                    f"to {MAX_NOTEBOOK_BYTES // 2**20} MB",
                )
            data = handle.read()
            after = os.fstat(handle.fileno())
    except FileNotFoundError:
        raise NotebookInvalid(
            "vanished", "the file disappeared while the sync was reading it"
        ) from None
    except IsADirectoryError:
        raise NotebookInvalid(
            "not-a-file", "this is a folder named like a notebook, not a notebook file"
        ) from None
    except PermissionError:
        raise NotebookInvalid("unreadable", "the file cannot be read (permission denied)") from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise NotebookInvalid("symlink-loop", "symbolic links form a loop; skipped") from None
        raise NotebookInvalid(
            "unreadable", f"the file cannot be read ({err.strerror or err})"
        ) from None
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(
        data
    ) != after.st_size:
        raise NotebookInvalid(
            "changed-while-reading",
            "the file changed while it was being read; it will be read again at the next sync",
        )
    return data, FileStat(after.st_size, after.st_mtime_ns, after.st_ino)
