"""``Library``: the one facade the CLI, the UI and the tests talk to.

It opens a library folder (a writer takes ``<library>/lock`` for its lifetime; a read-only
one takes no lock and never writes, so ``show`` and ``problems`` work while the app syncs),
resolves a notebook reference once per call, and orchestrates work that crosses domains (a
sync brings the index and the similarity model along; a publish syncs what it wrote). The
work itself is done by its services, each in its domain's package:

==================  =====================================================
``lib.sources``     ``nbshelf.sources.service.Sources``
``lib.notebooks``   ``nbshelf.notebook.service.Notebooks``
``lib.searching``   ``nbshelf.search.service.SearchService``
``lib.similarity``  ``nbshelf.similar.Similarity``
``lib.running``     ``nbshelf.run.service.Running``
``lib.checking``    ``nbshelf.health.service.HealthService``
``lib.publishing``  ``nbshelf.publish.service.Publishing``
==================  =====================================================

The services are named for what they do (``searching``, ``running``, ``checking``) because
the plain verbs (``search``, ``runs``, ``health``) are the facade's methods of the command
line's contract. ``Library`` is not thread-safe: the UI runs every call on one worker thread.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Collection
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Engine

from nbshelf.catalog.db import open_engine
from nbshelf.catalog.models import Source, SourceKind
from nbshelf.errors import LibraryError, NbshelfError, NotFound, storage_error
from nbshelf.library.lock import WriterLock
from nbshelf.notebook.service import Notebooks
from nbshelf.progress import ProgressFn
from nbshelf.records import (
    NotebookHealth,
    NotebookInfo,
    NotebookRow,
    ProblemInfo,
    SourceInfo,
    SyncReport,
    VersionInfo,
)
from nbshelf.resources import demo_folder
from nbshelf.run.runbook import RunBook, RunInfo, RunPlan
from nbshelf.run.service import Running
from nbshelf.sources.service import Sources
from nbshelf.sources.sync import ProgressFn as SyncProgressFn
from nbshelf.sources.sync import SyncProgress
from nbshelf.store import BlobStore, CompactReport, atomic_write

if TYPE_CHECKING:
    # Search (Whoosh, the analyzers), running (jupyter_client, nbclient), health, rendering
    # and publishing load on first use: the app's start path opens the library to list it
    # and needs none of them.
    from nbshelf.catalog.settings import Settings
    from nbshelf.health.service import HealthService
    from nbshelf.notebook.diff import CellChange
    from nbshelf.publish.preflight import Preflight
    from nbshelf.publish.service import Publishing
    from nbshelf.publish.share import Prepared, PublishResult
    from nbshelf.run.execution import CellEvent, RunResult
    from nbshelf.run.kernels import KernelChoice
    from nbshelf.run.parameters import Parameter
    from nbshelf.run.record import PreparedNotebook
    from nbshelf.search.index import SearchIndex
    from nbshelf.search.progressive import ProgressiveIndex
    from nbshelf.search.service import (
        IdMatches,
        Searching,
        SearchResults,
        SearchService,
        Snippet,
    )
    from nbshelf.similar import Similarity, SimilarNotebook

CATALOG_NAME = "catalog.sqlite"
#: Present while a library's first similarity model is being learned (written when a sync
#: begins without a model, removed when the model is saved): readers then say the similar
#: notebooks are still being learned (``nbshelf.similar.service.LEARNING_SUFFIX``).
LEARNING_MARKER = "similar.learning"
#: Told (holder's pid, seconds) when a writer starts waiting for the writer lock.
WaitFn = Callable[[int | None, float], None]
SIMILAR_FOLDER = "similar"


def default_library_dir() -> Path:
    """The library used when none is named: ``$NBSHELF_LIBRARY``, else the user data folder."""
    env = os.environ.get("NBSHELF_LIBRARY")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("nbshelf", appauthor=False)) / "library"


def library_exists(root: Path) -> bool:
    """True when ``root`` holds a catalog."""
    return (root / CATALOG_NAME).is_file()


def open_library(root: Path | None = None, *, readonly: bool = False, wait: float = 0.0,
                 on_wait: WaitFn | None = None, demo: bool | None = None) -> Library:
    """Open a library the way the CLI and the app do on start.

    A library that does not exist yet is created. The default library (no folder named)
    also gets the demo source, synced, so a new user sees a useful library at once; with
    ``demo`` (the app) any new or empty library folder does. A writer waits up to ``wait``
    seconds for another writer (``on_wait`` is told once).
    """
    first_run = root is None and not os.environ.get("NBSHELF_LIBRARY")
    if demo is not None:
        first_run = demo
    root = root if root is not None else default_library_dir()
    if not library_exists(root):
        with Library.open(root, wait=wait, on_wait=on_wait) as lib:
            if first_run and demo_folder().is_dir():
                lib.add_source(demo_folder(), name="demo", kind=SourceKind.DEMO)
                lib.sync()
    return Library.open(root, readonly=readonly, wait=wait, on_wait=on_wait)


def _index_progress(progress: SyncProgressFn | None) -> ProgressFn | None:
    """Index-building progress reported through sync's callback, as phase "index"."""
    if progress is None:
        return None
    report = progress

    def forward(done: int, total: int, _message: str) -> None:
        report(SyncProgress("search index", "index", done, done, total))

    return forward


class _SyncIndexing:
    """The search index during one sync: nothing until the copy's first batch commits, then
    a ``ProgressiveIndex`` taking each batch in; and the sync's progress, told how much of
    it is searchable so far."""

    def __init__(self, lib: Library, progress: SyncProgressFn | None) -> None:
        self._lib = lib
        self._progress = progress
        self._rounds: ProgressiveIndex | None = None
        self._last: SyncProgress | None = None
        self._draining = False
        self._fit: tuple[int, int] | None = None  # (done, total) while the model is fitted
        self._rounds_done = False  # the copy is over and the rounds took everything in
        self._told = threading.Lock()  # progress comes from the sync's and the rounds' threads

    @property
    def started(self) -> bool:
        """True once the rounds have begun (a batch of the copy committed)."""
        return self._rounds is not None

    def committed(self) -> None:
        """A batch of the copy committed (on the sync's thread)."""
        if self._rounds is None:
            self._rounds = self._lib.searching.progressive(
                self._lib.root / CATALOG_NAME, self._on_round, _index_procs())
            self._rounds.start()
        self._rounds.committed()

    def progress(self, progress: SyncProgress) -> None:
        """The copy's progress, with what is searchable once the rounds have begun."""
        self._last = progress
        if self._progress is not None and self._rounds is not None:
            progress = replace(progress, searchable=self._rounds.searchable)
        self._tell(progress)

    def copy_done(self) -> None:
        """The copy is over: the rounds take in the rest meanwhile."""
        self._draining = True
        if self._rounds is not None:
            self._rounds.copy_done()
            self._on_round(self._rounds.searchable, self._lib.index_behind(), 0)

    def fitting(self, done: int, total: int, _message: str) -> None:
        """The similarity fit's progress (on the sync's thread): once the index has taken
        everything in, that fit is all the sync still waits for, and the progress says so."""
        self._fit = (done, total)
        if self._searchable_all():
            self._tell_learning()

    def fit_over(self) -> None:
        """The fit ended (or there was none to do)."""
        self._fit = None

    def _searchable_all(self) -> bool:
        return self._rounds is None or self._rounds_done

    def finish(self, *, stop: bool) -> None:
        """Wait for the rounds (``stop``: the one under way only); a round that failed is
        logged, and the writer's ``refresh_index`` catches up instead."""
        if self._rounds is not None:
            self._rounds.finish(stop=stop)

    def _on_round(self, searchable: int, waiting: int, writing: int) -> None:
        if self._draining and self._last is not None:
            # ``scanned``: taken in or being written; ``searchable``: committed
            self._tell(SyncProgress("search index", "index", searchable + writing,
                                    self._last.copied, searchable + waiting, searchable))
            if waiting == 0:
                self._rounds_done = True
                if self._fit is not None:
                    self._tell_learning()

    def _tell_learning(self) -> None:
        fit = self._fit
        if fit is None or self._last is None:
            return
        searchable = None if self._rounds is None else self._rounds.searchable
        self._tell(SyncProgress("similar notebooks", "learn", fit[0], self._last.copied,
                                fit[1], searchable))

    def _tell(self, progress: SyncProgress) -> None:
        if self._progress is not None:
            with self._told:
                self._progress(progress)


def _forward_event(source: threading.Event, target: threading.Event) -> None:
    """Set ``target`` when ``source`` is set; return once either is."""
    while not target.is_set():
        if source.wait(0.2):
            target.set()


F = TypeVar("F", bound=Callable[..., Any])


def writer(method: F) -> F:
    """Declares a method that writes: on a read-only ``Library`` it raises ``LibraryError``
    before doing anything."""

    @functools.wraps(method)
    def guarded(self: Library, *args: Any, **kwargs: Any) -> Any:
        if self._lock is None:
            raise LibraryError("this library was opened read-only")
        return method(self, *args, **kwargs)

    return cast(F, guarded)


def _index_procs() -> int:
    """Writer processes for a full index build: two where there are cores for them.

    ``NBSHELF_INDEX_PROCS`` overrides it (1 inside the desktop app, where forking a process
    that runs Qt threads is not safe).
    """
    env = os.environ.get("NBSHELF_INDEX_PROCS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return 2 if (os.cpu_count() or 1) >= 2 else 1


class Library:
    """A library folder: catalog, blob store, (for writers) the writer lock, and services."""

    def __init__(self, root: Path, engine: Engine, lock: WriterLock | None) -> None:
        self.root = root
        self.engine = engine
        self.store = BlobStore(root / "blobs")
        self._lock = lock
        self.runbook = RunBook(root / "runs", engine, self.store)
        self.sources = Sources(root, engine, self.store)
        self.notebooks = Notebooks(engine, self.store)
        self.running = Running(self.runbook)
        self._search_service: SearchService | None = None
        self._similarity: Similarity | None = None
        self._checking: HealthService | None = None
        self._publishing: Publishing | None = None

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, root: Path | str, *, readonly: bool = False, wait: float = 0.0,
             on_wait: WaitFn | None = None) -> Library:
        """Open (a writer creates) the library at ``root``; a reader takes no lock and
        never waits, a writer waits up to ``wait`` seconds for another writer to finish.

        Raises:
            LibraryLocked: a writer is asked for while another process writes.
            LibraryError: the folder cannot hold a library, or a read-only open finds none.
            StorageError: the disk refuses (read-only, full) or the catalog is damaged.
        """
        root = Path(root).expanduser().absolute()
        if readonly:
            if not library_exists(root):
                raise LibraryError(f"there is no library at {root}")
            return cls(root, open_engine(root / CATALOG_NAME, readonly=True), None)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise LibraryError(f"cannot create the library folder {root}: {err.strerror}") from None
        lock = WriterLock(root / "lock")
        try:
            lock.acquire(wait, on_wait)
        except OSError as err:  # a read-only disk, a full one: the machine's, not a bug
            raise storage_error(err) or LibraryError(
                f"cannot take the writer lock of {root}: {err.strerror}") from err
        try:
            (root / "blobs").mkdir(exist_ok=True)
            BlobStore(root / "blobs").remove_leftovers()
            engine = open_engine(root / CATALOG_NAME)
        except BaseException as err:
            lock.release()
            storage = storage_error(err) if isinstance(err, Exception) else None
            if storage is not None:
                raise storage from err
            raise
        return cls(root, engine, lock)

    @property
    def readonly(self) -> bool:
        """True when this object may not write."""
        return self._lock is None

    def close(self) -> None:
        """Release the index, the database and the writer lock."""
        if self._search_service is not None:
            self._search_service.close()
        self.engine.dispose()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Library:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the services made on first use ------------------------------------------------------

    @property
    def searching(self) -> SearchService:
        """Search (``<library>/index``), opened on first use."""
        if self._search_service is None:
            from nbshelf.search.service import SearchService

            self._search_service = SearchService(self.root / "index", self.engine, self.store,
                                                 writer=not self.readonly,
                                                 related=self.root / SIMILAR_FOLDER)
        return self._search_service

    @property
    def index(self) -> SearchIndex:
        """The search index (``<library>/index``)."""
        return self.searching.index

    @property
    def _searching(self) -> Searching:
        """The query runner, for tests and benchmarks that clear its cell cache."""
        return self.searching._searching

    @property
    def similarity(self) -> Similarity:
        """The similarity model's keeper (``<library>/similar``), made on first use."""
        if self._similarity is None:
            from nbshelf.similar import Similarity

            self._similarity = Similarity(self.root / SIMILAR_FOLDER, self.engine, self.store)
        return self._similarity

    @property
    def checking(self) -> HealthService:
        """Health checks (their cache in ``<library>/health``), made on first use."""
        if self._checking is None:
            from nbshelf.health.service import HealthService

            # readers use the cache the writer keeps; only a writer saves it
            self._checking = HealthService(self.root / "health", self.engine, self.store,
                                           self.runbook, writer=not self.readonly)
        return self._checking

    @property
    def publishing(self) -> Publishing:
        """Publishing to shares and packs, made on first use."""
        if self._publishing is None:
            from nbshelf.publish.service import Publishing

            self._publishing = Publishing(self.engine, self.store, self.sources,
                                          self.notebooks)
        return self._publishing

    @property
    def settings(self) -> Settings:
        """Typed access to this library's settings."""
        from nbshelf.catalog.settings import Settings

        return Settings(self.engine, readonly=self.readonly)

    # -- sources -----------------------------------------------------------------------------

    @writer
    def add_source(self, path: str | Path, *, name: str | None = None,
                   kind: str = SourceKind.FOLDER) -> SourceInfo:
        """Add a folder as a source, or relocate the missing source it turns out to be.

        Raises:
            SourceError: not a folder, already a source, or nested with the library.
        """
        return self.sources.add(path, name=name, kind=kind)

    @writer
    def open_file(self, path: str | Path) -> int:
        """Bring a notebook file the user opened into the library; return its id.

        A file inside a source is read from there; any other file joins the library as an
        opened file (its own version history, no source folder needed). Either way only
        this one file is read.

        Raises:
            NotFound: not a readable notebook file (the message says why).
        """
        real = Path(os.path.realpath(os.path.abspath(os.path.expanduser(str(path)))))
        if not real.is_file():
            raise NotFound(f"there is no notebook file at {path}")
        owner, relpath = self.sources.owner_of(real)
        self.sources.sync_paths(owner, [relpath])
        self.refresh_index()
        found = self.notebooks.at(owner.id, relpath)
        if found is None:
            reason = self.notebooks.problem_at(owner.id, relpath) or "it could not be read"
            raise NotFound(f"{real} cannot be opened: {reason}")
        return found

    @writer
    def relocate_source(self, name: str, new_path: str | Path, *, _from: str | None = None
                        ) -> SourceInfo:
        """Point a source at the folder it now lives in (a USB stick mounted elsewhere)."""
        return self.sources.relocate(name, new_path, _from=_from)

    @writer
    def rename_source(self, name: str, new_name: str) -> SourceInfo:
        """Give a source another name (its notebooks, settings and history stay); the index,
        which stores source names for ``source:`` searches, catches up before this returns."""
        info = self.sources.rename(name, new_name)
        self.refresh_index()
        return info

    @writer
    def remove_source(self, name: str) -> int:
        """Forget a source and its notebooks; return how many blobs were freed.

        Blobs that another source's notebooks still use are kept.
        """
        return self.sources.remove(name)

    @writer
    def compact_store(self, progress: ProgressFn | None = None,
                      cancel: threading.Event | None = None) -> CompactReport:
        """Rewrite the blobs stored before compression (issue 16) compressed, each one
        atomically; what it read and wrote is in the report. Old blobs read as they are
        without it: this only gives the disk space back. Stopping (``cancel``) keeps what
        was done, and every blob reads."""
        return self.store.compact(progress=progress, cancel=cancel)

    def source_info(self, name: str) -> SourceInfo:
        """One source's current state."""
        return self.sources.info(name)

    def folded_copies(self, ids: list[int]) -> int:
        """How many identical copies elsewhere these notebooks stand for (a search lists
        each content once, under its first place)."""
        return self.sources.copies_beside(ids)

    def list_sources(self) -> list[SourceInfo]:
        """Every source with its path, status, notebook count and last sync."""
        return self.sources.listed()

    @writer
    def write_manifest(self, name: str) -> dict[str, Any]:
        """Walk a folder source and write its share manifest (``nbshelf.sources.manifest``),
        so that syncs of a big share need not walk it."""
        return self.sources.write_manifest(name)

    # -- sync --------------------------------------------------------------------------------

    @writer
    def sync(
        self,
        names: list[str] | None = None,
        *,
        progress: SyncProgressFn | None = None,
        cancel: threading.Event | None = None,
        index: bool = True,
    ) -> SyncReport:
        """Sync the named sources (all by default) into the library.

        A source that fails in a way nobody foresaw is listed as a problem of that source,
        and the others are synced. With ``index`` (the default) the derived data catches up
        before this returns: the search index, and the similarity model when 10% of
        contents are new. A sync big enough to commit in batches makes each batch searchable
        while it copies the next (``nbshelf.search.progressive``); the model is fitted at the
        end, and until a library's first model exists ``similar`` says it is being learned.
        Without ``index``, the changes wait for ``refresh_index`` and ``refresh_similar``.
        """
        cancel = cancel or threading.Event()
        chosen = self.sources.chosen(names)
        report = SyncReport()
        indexing = _SyncIndexing(self, progress) if index else None
        if index and not (self.root / SIMILAR_FOLDER).is_dir():
            atomic_write(self.root / LEARNING_MARKER, b"")  # readers: "still learning"
        try:
            self._sync_sources(chosen, report, cancel, indexing, progress)
        except BaseException:
            if indexing is not None:
                indexing.finish(stop=True)
            raise
        if indexing is None:
            return report
        if report.cancelled:
            indexing.finish(stop=True)  # what the rounds took in stays searchable
            return report
        if not indexing.started:  # a small sync: the index catches up after the copy
            self.refresh_index(progress=_index_progress(progress), cancel=cancel)
        indexing.copy_done()
        changed = report.added or report.updated or report.removed
        # Loading the model to compare it costs ~0.4 s at 50,000 notebooks: only when
        # something changed, or when there is no model yet (it refits at 10% new contents);
        # beside the index's last rounds, in the worker. The folder, not the keeper: making
        # it imports scikit-learn (~1 s of CPU), which a sync that changed nothing needs not.
        if changed or not (self.root / SIMILAR_FOLDER).is_dir():
            try:
                self.refresh_similar(progress=indexing.fitting, cancel=cancel)
            finally:
                indexing.fit_over()
        if indexing.started:
            indexing.finish(stop=cancel.is_set())
            if not cancel.is_set():
                # what the rounds left (nothing, unless a round failed) is taken in here
                self.refresh_index(progress=_index_progress(progress), cancel=cancel)
        # a cancel during the index build or the fit stops them (the catalog is synced;
        # the next sync catches them up): say so
        report.cancelled = cancel.is_set()
        return report

    def _sync_sources(self, chosen: list[Source], report: SyncReport, cancel: threading.Event,
                      indexing: _SyncIndexing | None, progress: SyncProgressFn | None) -> None:
        """Sync each chosen source into ``report`` (the copy: no derived data)."""
        for source in chosen:
            if cancel.is_set():
                report.cancelled = True
                break
            result = self.sources.sync_one(
                source, progress=progress if indexing is None else indexing.progress,
                cancel=cancel, on_commit=None if indexing is None else indexing.committed)
            if result is None:
                continue  # listed as a problem of that source
            report.added += result.added
            report.updated += result.updated
            report.removed += result.removed
            report.unchanged += result.unchanged
            report.changed_ids += result.changed_ids
            report.removed_ids += result.removed_ids
            report.cancelled = report.cancelled or result.cancelled
            if not result.available:
                report.unavailable.append(source.name)
        report.problems = self.problems([s.name for s in chosen])

    # -- search ------------------------------------------------------------------------------

    @writer
    def refresh_index(
        self, progress: ProgressFn | None = None, cancel: threading.Event | None = None
    ) -> int:
        """Bring the search index up to date: rebuilt if missing, old or corrupt, else the
        queued changes applied. Returns the documents written or updated."""
        return self.searching.refresh(progress, cancel, _index_procs())

    @writer
    def reindex(
        self, progress: ProgressFn | None = None, cancel: threading.Event | None = None
    ) -> int:
        """Rebuild the search index and the similarity model from the catalog and the blobs
        (nothing reused: this is what a user runs when something looks wrong); return the
        documents written to the index."""
        written = self.searching.rebuild(progress, cancel, _index_procs())
        if not (cancel is not None and cancel.is_set()):
            self.similarity.rebuild(progress, cancel, procs=_index_procs(), reuse=False)
        return written

    def prepare_search(self) -> None:
        """Read what the first search would otherwise wait for (the related-terms model, the
        index's per-reader tables): the app does this in the background when a library opens
        and after each sync. Never fails for a missing index or model."""
        self.searching.prepare()

    def search(self, text: str, *, limit: int = 20, meaning: bool = True) -> SearchResults:
        """Notebooks matching ``text`` (see ``nbshelf.search.query`` for the syntax), best
        first; with ``meaning``, those close to it in meaning follow the exact matches
        (``nbshelf.search.meaning``; False: keyword search only). A writer catches the index
        up first; a reader answers from what the index has committed (``index_behind`` says
        by how much it lags)."""
        if not self.readonly:
            self.refresh_index()
        rest, only = self._health_filter(text)
        return self.searching.search(rest, limit, only, meaning=meaning)

    def search_ids(self, text: str, *, limit: int | None = None,
                   partial: bool = True, meaning: bool = True) -> tuple[list[int], int]:
        """Ranked notebook ids for ``text`` without snippets (for long result lists), and
        the number of exact matches. Identical copies appear once, under their first place.

        Args:
            text: the query.
            limit: the most ids (None: all).
            partial: list the partial matches after the exact ones, as ``search`` does;
                False for every exact match only (a pack of a query's notebooks).
            meaning: list the notebooks close in meaning too, as ``search`` does.
        """
        found = self.search_matches(text, limit=limit, partial=partial, meaning=meaning)
        return found.ids, found.total

    def search_matches(self, text: str, *, limit: int | None = None,
                       partial: bool = True, meaning: bool = True) -> IdMatches:
        """``search_ids`` with the partial matches told apart: which words each lacks, the
        words no notebook mentions and the note about them (what the app's list shows)."""
        if not self.readonly:
            self.refresh_index()
        rest, only = self._health_filter(text)
        return self.searching.search_ids(rest, limit, only, partial=partial, meaning=meaning)

    def _health_filter(self, text: str) -> tuple[str, set[str] | None]:
        """The query without its ``health:STATUS`` words, and the contents of the notebooks
        whose health is one of those statuses (None when it names none)."""
        from nbshelf.search.query import check_bounds, split_health

        check_bounds(text)
        rest, statuses = split_health(text)
        if not statuses:
            return text, None
        ids = [h.id for h in self.health() if h.status in statuses]
        return rest, self.notebooks.present_hashes(ids)

    def stamp(self) -> tuple[tuple[int, int] | None, ...]:
        """A value that changes when any process commits to the library: a reader (a window
        another program's sync holds read-only) compares it to know when to look again.

        Only file metadata is read: the catalog and its write-ahead log (every commit
        writes one of them), the index folder (each commit adds a table of contents) and
        the library folder (the model is swapped in, the learning marker comes and goes).
        """
        stamps: list[tuple[int, int] | None] = []
        for path in (self.root / CATALOG_NAME, self.root / f"{CATALOG_NAME}-wal",
                     self.root / "index", self.root):
            try:
                st = path.stat()
            except OSError:  # no log yet, or a folder not made yet
                stamps.append(None)
            else:
                stamps.append((st.st_mtime_ns, st.st_size))
        return tuple(stamps)

    def index_behind(self) -> int:
        """How many contents the index has yet to take in (0: it holds the whole catalog)."""
        from nbshelf.catalog.pending import pending_count

        with self.engine.connect() as conn:
            return pending_count(conn)

    def snippets(self, ref: str | int, text: str) -> list[Snippet]:
        """The cells of one notebook that match ``text``, for the rows on screen."""
        info = self.notebooks.show(self.resolve(ref))
        return self.searching.snippets(info.content_hash, text)

    def facets(
        self, text: str, *, ids: Collection[int] | None = None
    ) -> dict[str, dict[str, int]]:
        """Counts by language, source, module and tag for the notebooks matching ``text``.

        Args:
            text: a query (empty: the whole library).
            ids: count only these notebooks' contents: a filter the index does not hold
                (the app's ``health:``) narrows the counts as the query's filters do.
        """
        if not self.readonly:
            self.refresh_index()
        only = None if ids is None else self.notebooks.present_hashes(ids)
        return self.searching.facets(text, only)

    # -- similar -----------------------------------------------------------------------------

    def similar(self, ref: str | int, *, limit: int = 10) -> list[SimilarNotebook]:
        """The notebooks most like this one, copies first, each with reasons.

        The notebook itself is never in its own list; identical copies elsewhere are, as
        relation "same". A missing or stale model is rebuilt (a reader fits one in memory).

        Raises:
            SimilarLearning: a reader asked while the library's first model is being
                learned (a first sync is under way, or was stopped before it ended).
        """
        notebook_id = self.resolve(ref)
        if not self.readonly and self.similarity.model() is None:
            self.refresh_similar()  # a writer keeps the model it fits; a reader fits one in memory
        try:
            return self.similarity.similar(notebook_id, limit)
        except KeyError:
            raise NotFound(f"there is no notebook with id {notebook_id}") from None

    @writer
    def refresh_similar(
        self, progress: ProgressFn | None = None, cancel: threading.Event | None = None
    ) -> bool:
        """Refit the similarity model when the library changed enough (10% new contents);
        until then new notebooks are placed with the current model. True when refitted."""
        return bool(self.similarity.refresh(progress, cancel, procs=_index_procs()))

    # -- notebooks ---------------------------------------------------------------------------

    def resolve(self, ref: str | int) -> int:
        """The catalog id of a notebook named by id, path in a source, or ``SOURCE:PATH``.

        Raises:
            NotFound: nothing matches, or a bare relative path matches several notebooks.
        """
        return self.notebooks.resolve(ref)

    def show(self, ref: str | int) -> NotebookInfo:
        """Everything the catalog knows about one notebook."""
        return self.notebooks.show(self.resolve(ref))

    def history(self, ref: str | int) -> list[VersionInfo]:
        """A notebook's content versions, oldest first; the last one is current."""
        return self.notebooks.history(self.resolve(ref))

    def read_version(self, ref: str | int, number: int | None = None) -> bytes:
        """The bytes of a notebook's version ``number`` (1-based), by default the current one."""
        return self.notebooks.read_version(self.resolve(ref), number)

    def notebook_ids(
        self,
        *,
        order_by: str = "title",
        descending: bool = False,
        title_contains: str | None = None,
        include_removed: bool = False,
    ) -> list[int]:
        """Ids of the library's notebooks in list order, sorted and filtered by SQLite.

        Args:
            order_by: ``title``, ``source``, ``language`` or ``modified``; ties go by title,
                then path.
            descending: reverse the order.
            title_contains: only titles containing this text (any letter case).
            include_removed: list notebooks that vanished from their source too.
        """
        return self.notebooks.ids(order_by=order_by, descending=descending,
                                  title_contains=title_contains,
                                  include_removed=include_removed)

    def notebook_rows(self, ids: list[int]) -> list[NotebookRow]:
        """The list rows of these notebooks, in the order asked (unknown ids are left out)."""
        return self.notebooks.rows(ids)

    def problems(self, names: list[str] | None = None) -> list[ProblemInfo]:
        """Files that are problems, notebooks with schema warnings, unavailable sources."""
        return self.notebooks.problems(names)

    def markings(self, ids: list[int] | None = None) -> dict[int, str]:
        """The control marking of each present notebook that has one (all, or these ids),
        spelled as in the library's ``markings`` setting."""
        return self.notebooks.markings(ids, self.settings.get("markings"),
                                       writer=not self.readonly)

    def diff(self, ref: str | int, old: int | None = None, new: int | None = None, *,
             outputs: bool = False, metadata: bool = False,
             execution_count: bool = False) -> list[CellChange]:
        """Cell changes between two versions (default: the previous and the current one),
        cells paired as nbdime pairs them. Cell types, sources and attachments are always
        compared; outputs, metadata (and cell ids) and execution counts when asked."""
        from nbshelf.notebook.diff import diff_notebooks, read_for_diff

        notebook_id = self.resolve(ref)
        count = len(self.notebooks.history(notebook_id))
        new = count if new is None else new
        old = max(1, new - 1) if old is None else old
        # read_for_diff keeps the files' own cell ids (none in nbformat < 4.5): ids made up
        # on reading would differ between the versions and pair no cell.
        before = read_for_diff(self.notebooks.read_version(notebook_id, old))
        after = read_for_diff(self.notebooks.read_version(notebook_id, new))
        return diff_notebooks(before, after, outputs=outputs, metadata=metadata,
                              execution_count=execution_count)

    # -- viewing -----------------------------------------------------------------------------

    def render(self, ref: str | int, *, version: int | None = None, report_view: bool = False,
               standalone: bool = False) -> str:
        """The notebook as one safe, offline HTML page (scripts never run, nothing loads from
        outside). ``standalone`` inlines the app's styles, for a file any browser opens."""
        from nbshelf.render.service import PageFacts, render_page

        info = self.notebooks.show(self.resolve(ref))
        data = self.notebooks.read_version(info.id, version)
        facts = PageFacts(info.path, info.source, info.kernel, info.mtime, info.size,
                          info.title)
        return render_page(data, facts, self.settings.get("markings"),
                           report_view=report_view, standalone=standalone,
                           folder=self.notebooks.folder_of(info.id))

    def export(self, ref: str | int, to: str, out: str | Path | None = None, *,
               force: bool = False) -> dict[str, Any]:
        """Write the notebook's current version as a ``script``, ``markdown``, ``notebook``
        (nbconvert's exporters) or ``html`` file (``render``'s standalone page, not nbconvert's
        CDN template); see ``nbshelf.notebook.export``. Only reads the library.

        Returns:
            ``{"output": path, "format": to, "bytes": int, "files": [images beside it],
            "warnings": [outputs nbconvert left out]}``.

        Raises:
            NbshelfError: an unknown format, a file that exists (without ``force``) or
                cannot be written; ``NotebookInvalid`` when nbconvert cannot convert it.
        """
        from nbshelf.notebook.export import check_format, export_notebook

        check_format(to)
        info = self.notebooks.show(self.resolve(ref))
        page = self.render(info.id, standalone=True) if to == "html" else None
        data = b"" if page is not None else self.notebooks.read_version(info.id)
        return export_notebook(data, to, name=info.path, out=out, force=force,
                               language=info.language, page=page,
                               folder=self.notebooks.folder_of(info.id))

    def render_run(self, run_id: int, *, report_view: bool = False) -> str:
        """A run record (the executed copy, with its outputs) as a page, like any notebook."""
        from nbshelf.render.service import PageFacts, render_page

        record = self.runbook.get(run_id)
        path = Path(record.record)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise NotFound(f"the record of run {run_id} cannot be read: {err.strerror}") from None
        info = self.notebooks.show(record.notebook_id)
        facts = PageFacts(info.path, info.source, record.kernel, path.stat().st_mtime,
                          len(data), f"{info.title} (run {run_id}, {record.status})")
        return render_page(data, facts, self.settings.get("markings"),
                           report_view=report_view, standalone=False,
                           folder=self.notebooks.folder_of(info.id))

    # -- running -----------------------------------------------------------------------------

    def kernels(self) -> list[KernelChoice]:
        """The kernels a notebook can run in here (nbshelf's own Python kernel included)."""
        return self.running.kernels()

    def kernel_for(self, ref: str | int, kernel: str | None = None) -> KernelChoice:
        """The kernel a notebook would run in: ``kernel`` by name, else its own or one for
        its language (``KernelMissing`` names what is missing and what is installed)."""
        if kernel:
            return self.running.kernel_for(kernel, None, None)
        info = self.notebooks.show(self.resolve(ref))
        return self.running.kernel_for(None, info.kernel, info.language)

    def parameters(self, ref: str | int) -> list[Parameter]:
        """The notebook's papermill parameters (name, type, default, help) for a form."""
        return self.running.parameters(self.notebooks.read_version(self.resolve(ref)))

    def prepare_run(self, ref: str | int, output: str | Path, *, kernel: str | None = None,
                    parameters: dict[str, str] | None = None,
                    values: dict[str, Any] | None = None) -> PreparedNotebook:
        """Write the notebook with its parameters injected to ``output`` without running it
        (papermill's ``--prepare-only``): no kernel needed, no run recorded, no lock taken."""
        return self.running.prepare(self.resolve(ref), output, kernel=kernel,
                                    parameters=parameters, values=values)

    @writer
    def begin_run(self, ref: str | int, *, kernel: str | None = None,
                  parameters: dict[str, str] | None = None, cell_timeout: float | None = None,
                  stop_on_error: bool = True, values: dict[str, Any] | None = None,
                  output: str | Path | None = None, any_language: bool = False) -> RunPlan:
        """Record a run as started; ``RunBook.execute(plan)`` then runs it on any thread.

        ``values`` are parameters already typed (YAML), ``parameters`` text typed after the
        defaults (they win); ``output`` is a second file the record is written to;
        ``any_language``: the user insists on a kernel of another language than the
        notebook's (else ``KernelLanguageMismatch``, nothing recorded)."""
        notebook_id = self.resolve(ref)
        choice = self.kernel_for(notebook_id, kernel)
        return self.running.begin(notebook_id, choice, parameters=parameters,
                                  cell_timeout=cell_timeout, stop_on_error=stop_on_error,
                                  values=values, output=output, any_language=any_language)

    def finish_run(self, plan: RunPlan, result: RunResult | None, error: str | None = None
                   ) -> None:
        """Record how a run begun with ``begin_run`` ended."""
        self.running.finish(plan, result, error)

    def run(self, ref: str | int, *, kernel: str | None = None,
            parameters: dict[str, str] | None = None, cell_timeout: float | None = None,
            stop_on_error: bool = True, on_event: Callable[[CellEvent], None] | None = None,
            cancel: threading.Event | None = None, values: dict[str, Any] | None = None,
            output: str | Path | None = None, any_language: bool = False) -> RunResult:
        """Run a copy of a notebook's current version in a local kernel, and record it
        (``values``, ``output``, ``any_language``: as ``begin_run``).

        Raises:
            KernelMissing: no kernel fits (the message lists the installed ones).
            KernelLanguageMismatch: ``kernel`` runs another language than the notebook's.
            ParameterError: a parameter does not fit the notebook.
        """
        plan = self.begin_run(ref, kernel=kernel, parameters=parameters,
                              cell_timeout=cell_timeout, stop_on_error=stop_on_error,
                              values=values, output=output, any_language=any_language)
        return self.running.execute(plan, on_event=on_event, cancel=cancel)

    def runs(self, ref: str | int) -> list[RunInfo]:
        """A notebook's runs, newest first."""
        return self.running.runs(self.resolve(ref))

    # -- health ------------------------------------------------------------------------------

    def health(
        self, ref: str | int | None = None, *, ids: Collection[int] | None = None
    ) -> list[NotebookHealth]:
        """"Will it run here?" for one notebook, these ``ids`` (those still in the library),
        or the whole library (static checks cached per content and kernel; the last run from
        the run records)."""
        if ref is not None:
            ids = [self.resolve(ref)]
        stale_after = float(self.settings.get("stale_after_days"))
        return self.checking.check(ids, stale_after_days=stale_after)

    @writer
    def health_run(
        self,
        *,
        time_limit: float = 300.0,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> list[NotebookHealth]:
        """Run every notebook that could run here, each for at most ``time_limit`` seconds,
        record the runs, and return the library's health afterwards.

        Notebooks the static check already condemns (no kernel, missing modules, unreadable)
        are not run: their run would only repeat what the check says.
        """
        import dataclasses

        cancel = cancel or threading.Event()
        skip = {"kernel-missing", "missing-deps", "unreadable"}
        todo = [h for h in self.health() if h.status not in skip]
        for done, item in enumerate(todo):
            if cancel.is_set():
                break
            if progress is not None:
                progress(done, len(todo), f"running {item.source}:{item.path}")
            stop = threading.Event()
            timer = threading.Timer(time_limit, stop.set)
            watcher = threading.Thread(target=_forward_event, args=(cancel, stop), daemon=True)
            try:
                plan = self.begin_run(item.id, cell_timeout=time_limit)
            except NbshelfError:
                continue  # no kernel after all: health already says so
            timer.start()
            watcher.start()
            try:
                result = RunBook.execute(plan, cancel=stop)
            except NbshelfError as err:
                self.finish_run(plan, None, str(err))
                continue
            finally:
                timer.cancel()
                stop.set()  # ends the watcher
            if result.status == "cancelled" and not cancel.is_set():
                result = dataclasses.replace(
                    result, status="timeout", error=f"took longer than {time_limit:g} s")
            self.finish_run(plan, result)
        if progress is not None:
            progress(len(todo), len(todo), "done")
        return self.health()

    # -- publishing --------------------------------------------------------------------------

    def prepare_publish(self, file: str | Path, *, keep_outputs: bool = False,
                        marking: str | None = None) -> Prepared:
        """What publishing ``file`` would write: the preview of what is removed and the
        warnings, without writing anything."""
        return self.publishing.prepare(file, keep_outputs=keep_outputs, marking=marking)

    def preflight_publish(self, file: str | Path, source: str, *, as_path: str | None = None,
                          keep_outputs: bool = False, marking: str | None = None,
                          data_from: str | Path | None = None) -> Preflight:
        """Every check a publish makes, made before it and writing nothing: the warnings, the
        marking against the source's rules, whether someone else changed the target (and a
        free name beside it), the data files the notebook reads. Readers may call it.

        Args:
            file: the notebook file.
            source: the target source.
            as_path: the path inside it (default: the file's name).
            keep_outputs: keep the outputs.
            marking: a marking for the copy when the notebook has none.
            data_from: the notebook's folder, where its data files are (default: the
                file's folder).
        """
        return self.publishing.preflight(
            file, source, as_path=as_path, keep_outputs=keep_outputs, marking=marking,
            data_from=Path(file).parent if data_from is None else data_from)

    @writer
    def publish(self, file: str | Path, source: str, *, as_path: str | None = None,
                keep_outputs: bool = False, force: bool = False, marking: str | None = None,
                data: Collection[str] = (), data_from: str | Path | None = None
                ) -> PublishResult:
        """Publish a notebook file into a source folder (a share, a USB stick).

        The conflict check, the write and the catalog's record of what was written happen
        under the target's share lock, so of several publishers of one target exactly one
        wins; the others are refused, none loses an update. The data files named in
        ``data`` (paths the notebook reads, relative to ``data_from``, by default the file's
        folder) are copied first to the same place beside it, each under its own lock.
        ``marking`` marks the published copy when the notebook carries no marking.

        Raises:
            PublishConflict: the target changed since this library last saw it, or another
                publish to it is in progress (``PublishBusy``).
            MarkingRefused: the source does not accept the notebook's marking.
            PublishError: anything else that stops it, in words: the source is not available
                (a share that is not mounted), the target leads out of the source.
        """
        result, _target = self.publishing.publish(file, source, as_path=as_path,
                                                  keep_outputs=keep_outputs, force=force,
                                                  marking=marking, data=data,
                                                  data_from=data_from)
        self.refresh_index()
        result.notebook_id = self.resolve(f"{result.source}:{result.path}")
        return result

    def export_pack(self, out: str | Path, *, ids: list[int] | None = None,
                    query: str | None = None) -> dict[str, Any]:
        """Write the chosen notebooks (by id, or every match of a query) as a pack."""
        chosen = list(ids or [])
        if query:
            chosen += self.search_ids(query, partial=False)[0]  # every exact match
        return self.publishing.export_pack(out, chosen)
