"""``Library``: the one facade the CLI, the UI and the tests talk to.

A writer ``Library`` holds ``<library>/lock`` for its lifetime; a read-only one takes no lock
and never writes, so ``show`` and ``problems`` work while the app syncs. ``Library`` is not
thread-safe: the UI runs every call on its single library worker thread.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Collection, Iterable
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session

from nbshelf.catalog.db import open_engine
from nbshelf.catalog.models import Content, Notebook, Problem, Source, Version
from nbshelf.catalog.pending import mark_pending
from nbshelf.errors import LibraryError, NbshelfError, NotFound, SourceError, storage_error
from nbshelf.sources import rules as srcs

if TYPE_CHECKING:
    # Search (Whoosh, the analyzers) and running (jupyter_client, nbclient) load on first
    # use: the app's start path opens the library to list it and needs neither.

    from nbshelf.catalog.settings import Settings
    from nbshelf.health.checks import HealthChecker
    from nbshelf.notebook.diff import CellChange
    from nbshelf.publish.share import Prepared, PublishResult
    from nbshelf.run.execution import CellEvent, RunResult
    from nbshelf.run.kernels import KernelChoice
    from nbshelf.run.parameters import Parameter
    from nbshelf.search.index import ProgressFn as IndexProgressFn
    from nbshelf.search.index import SearchIndex
    from nbshelf.search.service import Searching, SearchResults, Snippet
    from nbshelf.similar import Similarity, SimilarNotebook

from nbshelf.library.lock import WriterLock
from nbshelf.notebook import content_hash, parse_notebook
from nbshelf.records import (
    NotebookHealth,
    NotebookInfo,
    NotebookRow,
    Place,
    ProblemInfo,
    SourceInfo,
    SyncReport,
    VersionInfo,
)
from nbshelf.resources import demo_folder
from nbshelf.run.runbook import RunBook, RunInfo, RunPlan
from nbshelf.sources.scan import FileStat
from nbshelf.sources.sync import (
    OPENED,
    PACK,
    ProgressFn,
    SourceSync,
    SyncProgress,
    record_source_failure,
)
from nbshelf.store import BlobStore, atomic_write, shared_file_mode

CATALOG_NAME = "catalog.sqlite"
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


def open_library(root: Path | None = None, *, readonly: bool = False) -> Library:
    """Open a library the way the CLI and the app do on start.

    A library that does not exist yet is created. The default library (no folder named)
    also gets the demo source, synced, so a new user sees a useful library at once.
    """
    first_run = root is None and not os.environ.get("NBSHELF_LIBRARY")
    root = root if root is not None else default_library_dir()
    if not library_exists(root):
        with Library.open(root) as lib:
            if first_run and demo_folder().is_dir():
                lib.add_source(demo_folder(), name="demo", kind="demo")
                lib.sync()
    return Library.open(root, readonly=readonly)


def _index_progress(progress: ProgressFn | None) -> IndexProgressFn | None:
    """Index-building progress reported through sync's callback, as phase "index"."""
    if progress is None:
        return None
    report = progress

    def forward(done: int, total: int, _message: str) -> None:
        report(SyncProgress("search index", "index", done, done, total))

    return forward


def _forward_event(source: threading.Event, target: threading.Event) -> None:
    """Set ``target`` when ``source`` is set; return once either is."""
    while not target.is_set():
        if source.wait(0.2):
            target.set()


def _reader(store: BlobStore, digest: str) -> Callable[[], bytes]:
    return lambda: store.read(digest)


def _notebook_folder(source_path: str, kind: str, relpath: str) -> Path | None:
    """The notebook's folder in its source, or None when it is not reachable now."""
    folder = (Path(PurePosixPath(relpath).parent) if kind == OPENED
              else Path(source_path) / PurePosixPath(relpath).parent)
    return folder if folder.is_dir() else None


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
    """A library folder: catalog, blob store and (for writers) the writer lock."""

    def __init__(self, root: Path, engine: Engine, lock: WriterLock | None) -> None:
        self.root = root
        self.engine = engine
        self.store = BlobStore(root / "blobs")
        self._lock = lock
        self._index: SearchIndex | None = None
        self._search: Searching | None = None
        self.runbook = RunBook(root / "runs", engine, self.store)
        self._similarity: Similarity | None = None
        self._health: HealthChecker | None = None

    @property
    def index(self) -> SearchIndex:
        """The search index (``<library>/index``), made on first use."""
        if self._index is None:
            from nbshelf.search.index import SearchIndex

            self._index = SearchIndex(self.root / "index", self.engine, self.store)
            if not self.readonly:
                # Locks a killed writer left; before this process writes the index.
                self._index.clear_stale_locks()
        return self._index

    @property
    def _searching(self) -> Searching:
        if self._search is None:
            from nbshelf.search.service import Searching

            self._search = Searching(self.engine, self.store)
        return self._search

    @classmethod
    def open(cls, root: Path | str, *, readonly: bool = False) -> Library:
        """Open (a writer creates) the library at ``root``.

        Raises:
            LibraryLocked: a writer is asked for while another process writes.
            LibraryError: the folder cannot hold a library, or a read-only open finds none.
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
            lock.acquire()
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
        if self._index is not None:
            self._index.close()
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

    def _require_writer(self) -> None:
        if self._lock is None:
            raise LibraryError("this library was opened read-only")

    # -- sources -----------------------------------------------------------------------------

    def add_source(
        self, path: str | Path, *, name: str | None = None, kind: str = "folder"
    ) -> SourceInfo:
        """Add a folder as a source, or relocate the missing source it turns out to be.

        Raises:
            SourceError: not a folder, already a source, or nested with the library.
        """
        self._require_writer()
        from nbshelf.sources.packs import is_pack

        candidate = Path(os.path.realpath(os.path.abspath(os.path.expanduser(str(path)))))
        if is_pack(candidate):
            kind = PACK
            folder = candidate
        else:
            folder = srcs.real_folder(path)
        srcs.check_not_nested(folder, self.root)
        with Session(self.engine) as session:
            existing = list(session.scalars(select(Source)))
        for source in existing:
            if source.kind == OPENED:
                continue
            other = Path(os.path.realpath(source.path))
            if other == folder:
                raise SourceError(f"{folder} is already in the library as source '{source.name}'")
            if srcs.reachable(source.path) and (
                srcs.is_within(folder, other) or srcs.is_within(other, folder)
            ):
                raise SourceError(
                    f"{folder} overlaps source '{source.name}' ({source.path}); "
                    "a notebook can belong to one source only"
                )
        moved = None if kind == PACK else self._find_moved_source(folder, existing)
        if moved is not None:
            return self.relocate_source(moved.name, folder, _from=moved.path)
        source_name = srcs.unique_name(name or folder.name or "source", (s.name for s in existing))
        with self.engine.begin() as conn:
            conn.execute(
                insert(Source).values(
                    name=source_name,
                    path=str(folder),
                    kind=kind,
                    added_at=time.time(),
                    last_sync=None,
                    available=True,
                )
            )
        return self.source_info(source_name)

    def open_file(self, path: str | Path) -> int:
        """Bring a notebook file the user opened into the library; return its id.

        A file inside a source is read from there; any other file joins the library as an
        opened file (its own version history, no source folder needed). Either way only
        this one file is read.

        Raises:
            NotFound: not a readable notebook file (the message says why).
        """
        self._require_writer()
        real = Path(os.path.realpath(os.path.abspath(os.path.expanduser(str(path)))))
        if not real.is_file():
            raise NotFound(f"there is no notebook file at {path}")
        with Session(self.engine) as session:
            sources = list(session.scalars(select(Source)))
        owner = next(
            (s for s in sources if s.kind != OPENED and srcs.reachable(s.path)
             and srcs.is_within(real, Path(os.path.realpath(s.path)))),
            None,
        )
        if owner is not None:
            relpath = real.relative_to(os.path.realpath(owner.path)).as_posix()
        else:
            owner = self._opened_source(sources)
            relpath = real.as_posix()
        SourceSync(self.engine, self.store, owner).sync_paths([relpath])
        self.refresh_index()
        with self.engine.connect() as conn:
            found = conn.execute(
                select(Notebook.id).where(
                    Notebook.source_id == owner.id, Notebook.relpath == relpath
                )
            ).first()
            if found is None:
                problem = conn.execute(
                    select(Problem.message).where(
                        Problem.source_id == owner.id, Problem.relpath == relpath
                    )
                ).first()
                reason = problem.message if problem else "it could not be read"
                raise NotFound(f"{real} cannot be opened: {reason}")
        return int(found.id)

    def _opened_source(self, sources: list[Source]) -> Source:
        existing = next((s for s in sources if s.kind == OPENED), None)
        if existing is not None:
            return existing
        name = srcs.unique_name("opened", (s.name for s in sources))
        with self.engine.begin() as conn:
            conn.execute(insert(Source).values(
                name=name, path="", kind=OPENED, added_at=time.time(), last_sync=None,
                available=True,
            ))
        with Session(self.engine) as session:
            return session.scalars(select(Source).where(Source.kind == OPENED)).one()

    def _find_moved_source(self, folder: Path, existing: list[Source]) -> Source | None:
        best: tuple[float, Source] | None = None
        for source in existing:
            if source.kind == OPENED or srcs.reachable(source.path):
                continue
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(Notebook.relpath, Notebook.size, Notebook.content_hash).where(
                        Notebook.source_id == source.id, Notebook.removed_at.is_(None)
                    )
                )
                notebooks = {r.relpath: (r.size, r.content_hash) for r in rows}
            share = srcs.match_share(folder, notebooks)
            if share >= srcs.MATCH_SHARE and (best is None or share > best[0]):
                best = (share, source)
        return best[1] if best else None

    def relocate_source(
        self, name: str, new_path: str | Path, *, _from: str | None = None
    ) -> SourceInfo:
        """Point a source at the folder it now lives in (a USB stick mounted elsewhere)."""
        self._require_writer()
        folder = srcs.real_folder(new_path)
        srcs.check_not_nested(folder, self.root)
        source = self._source(name)
        with self.engine.begin() as conn:
            clash = conn.execute(
                select(Source.name).where(Source.path == str(folder), Source.id != source.id)
            ).first()
            if clash:
                raise SourceError(f"{folder} is already the folder of source '{clash.name}'")
            conn.execute(
                update(Source)
                .where(Source.id == source.id)
                .values(path=str(folder), available=True)
            )
        info = self.source_info(name)
        return SourceInfo(**{**info.__dict__, "relocated_from": _from or source.path})

    def remove_source(self, name: str) -> int:
        """Forget a source and its notebooks; return how many blobs were freed.

        Blobs that another source's notebooks still use are kept.
        """
        self._require_writer()
        source = self._source(name)
        with self.engine.begin() as conn:
            ids = select(Notebook.id).where(Notebook.source_id == source.id)
            mark_pending(
                conn,
                conn.execute(
                    select(Notebook.content_hash).where(Notebook.source_id == source.id)
                ).scalars(),
            )
            conn.execute(delete(Version).where(Version.notebook_id.in_(ids)))
            conn.execute(delete(Notebook).where(Notebook.source_id == source.id))
            conn.execute(delete(Problem).where(Problem.source_id == source.id))
            conn.execute(delete(Source).where(Source.id == source.id))
            used = select(Version.content_hash).union(select(Notebook.content_hash))
            orphans = list(
                conn.execute(select(Content.hash).where(Content.hash.not_in(used))).scalars()
            )
            conn.execute(delete(Content).where(Content.hash.in_(orphans)))
        # Files go after the commit: a kill in between leaves unused blobs, never missing ones.
        for digest in orphans:
            self.store.delete(digest)
        return len(orphans)

    def _source(self, name: str) -> Source:
        with Session(self.engine) as session:
            source = session.scalars(select(Source).where(Source.name == name)).one_or_none()
            if source is None:
                names = ", ".join(session.scalars(select(Source.name))) or "none yet"
                raise SourceError(f"there is no source named '{name}' (sources: {names})")
            return source

    def source_info(self, name: str) -> SourceInfo:
        """One source's current state."""
        return next(s for s in self.list_sources() if s.name == name)

    def list_sources(self) -> list[SourceInfo]:
        """Every source with its path, status, notebook count and last sync."""
        with self.engine.connect() as conn:
            counts = dict(
                conn.execute(
                    select(Notebook.source_id, func.count())
                    .where(Notebook.removed_at.is_(None))
                    .group_by(Notebook.source_id)
                ).all()
            )
            sources = conn.execute(select(Source).order_by(Source.name)).all()
        return [
            SourceInfo(
                name=s.name,
                path=s.path,
                kind=s.kind,
                available=s.kind == OPENED or srcs.reachable(s.path),
                notebooks=counts.get(s.id, 0),
                last_sync=s.last_sync,
            )
            for s in sources
        ]

    # -- sync --------------------------------------------------------------------------------

    def sync(
        self,
        names: list[str] | None = None,
        *,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        index: bool = True,
    ) -> SyncReport:
        """Sync the named sources (all by default) into the library.

        With ``index`` (the default) the derived data catches up before this returns: the
        search index, and the similarity model when 10% of contents are new. Without it,
        the changes wait for ``refresh_index`` and ``refresh_similar``.
        """
        self._require_writer()
        cancel = cancel or threading.Event()
        with Session(self.engine) as session:
            query = select(Source).order_by(Source.name)
            if names:
                query = query.where(Source.name.in_(names))
            chosen = list(session.scalars(query))
        missing = set(names or ()) - {s.name for s in chosen}
        if missing:
            raise SourceError(f"there is no source named {', '.join(sorted(missing))}")
        report = SyncReport()
        for source in chosen:
            if cancel.is_set():
                report.cancelled = True
                break
            try:
                result = SourceSync(
                    self.engine, self.store, source, progress=progress, cancel=cancel
                ).run()
            except Exception as err:
                # One source that fails in a way nobody foresaw must not stop the others; a
                # failing machine (a full disk) stops them all, since none could be written.
                storage = storage_error(err)
                if storage is not None:
                    raise storage from err
                record_source_failure(self.engine, source.id, err)
                continue
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
        if index and not report.cancelled:
            self.refresh_index(progress=_index_progress(progress), cancel=cancel)
            # Loading the model to compare it costs ~0.4 s at 50,000 notebooks: only when
            # something changed, or when there is no model yet. It refits at 10% new contents.
            changed = report.added or report.updated or report.removed
            # The folder, not the keeper: making it imports scikit-learn (~1 s of CPU), which
            # a sync that changed nothing has no use for.
            if changed or not (self.root / SIMILAR_FOLDER).is_dir():
                self.refresh_similar(cancel=cancel)
        return report

    # -- search ------------------------------------------------------------------------------

    def refresh_index(
        self, progress: IndexProgressFn | None = None, cancel: threading.Event | None = None
    ) -> int:
        """Bring the search index up to date: rebuilt if missing, old or corrupt, else the
        queued changes applied. Returns the documents written or updated."""
        self._require_writer()
        if not self.index.is_current():
            return self.index.rebuild(progress, cancel, procs=_index_procs())
        return self.index.update_pending()

    def reindex(
        self, progress: IndexProgressFn | None = None, cancel: threading.Event | None = None
    ) -> int:
        """Rebuild the search index and the similarity model from the catalog and the blobs
        (nothing reused: this is what a user runs when something looks wrong); return the
        documents written to the index."""
        self._require_writer()
        written = self.index.rebuild(progress, cancel, procs=_index_procs())
        if not (cancel is not None and cancel.is_set()):
            self.similarity.rebuild(progress, cancel, procs=_index_procs(), reuse=False)
        return written

    def search(self, text: str, *, limit: int = 20) -> SearchResults:
        """Notebooks matching ``text`` (see ``nbshelf.search.query`` for the syntax), best first."""
        if not self.readonly:
            self.refresh_index()
        return self._searching.search(self.index.searcher(), text, limit=limit)

    def search_ids(self, text: str, *, limit: int | None = None) -> tuple[list[int], int]:
        """Ranked notebook ids for ``text`` without snippets (for long result lists), and
        the total. Identical copies appear once, under their first place."""
        if not self.readonly:
            self.refresh_index()
        return self._searching.search_ids(self.index.searcher(), text, limit=limit)

    def snippets(self, ref: str | int, text: str) -> list[Snippet]:
        """The cells of one notebook that match ``text``, for the rows on screen."""
        from nbshelf.search.index import IndexUnavailable

        info = self.show(ref)
        try:
            searcher = self.index.searcher()
        except IndexUnavailable:
            searcher = None  # not built yet: the snippets come from the notebook itself
        return self._searching.snippets_of(searcher, info.content_hash, text)

    # -- similar -------------------------------------------------------------------------------

    @property
    def similarity(self) -> Similarity:
        """The similarity model's keeper (``<library>/similar``), made on first use."""
        if self._similarity is None:
            from nbshelf.similar import Similarity

            self._similarity = Similarity(self.root / SIMILAR_FOLDER, self.engine, self.store)
        return self._similarity

    def similar(self, ref: str | int, *, limit: int = 10) -> list[SimilarNotebook]:
        """The notebooks most like this one, copies first, each with reasons.

        The notebook itself is never in its own list; identical copies elsewhere are, as
        relation "same". A missing or stale model is rebuilt (a reader fits one in memory).
        """
        notebook_id = self.resolve(ref)
        if not self.readonly and self.similarity.model() is None:
            self.refresh_similar()  # a writer keeps the model it fits; a reader fits one in memory
        try:
            return self.similarity.similar(notebook_id, limit)
        except KeyError:
            raise NotFound(f"there is no notebook with id {notebook_id}") from None

    def refresh_similar(
        self, progress: IndexProgressFn | None = None, cancel: threading.Event | None = None
    ) -> bool:
        """Refit the similarity model when the library changed enough (10% new contents);
        until then new notebooks are placed with the current model. True when refitted."""
        self._require_writer()
        return bool(self.similarity.refresh(progress, cancel, procs=_index_procs()))

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
        only = None if ids is None else self._content_hashes(ids)
        return self._searching.facets(self.index.searcher(), text, only)

    def _content_hashes(self, ids: Iterable[int]) -> set[str]:
        """The current contents of these notebooks (removed ones left out)."""
        wanted = list(ids)
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                found.update(conn.execute(
                    select(Notebook.content_hash)
                    .where(Notebook.id.in_(wanted[start : start + 500]))
                    .where(Notebook.removed_at.is_(None))
                ).scalars())
        return found

    def problems(self, names: list[str] | None = None) -> list[ProblemInfo]:
        """Files that are problems, notebooks with schema warnings, unavailable sources."""
        found: list[ProblemInfo] = []
        with self.engine.connect() as conn:
            sources = conn.execute(select(Source.id, Source.name, Source.path, Source.kind)).all()
            wanted = {s.id: s for s in sources if names is None or s.name in names}
            for s in wanted.values():
                if s.kind != OPENED and not srcs.reachable(s.path):
                    found.append(
                        ProblemInfo(
                            s.name,
                            "",
                            "source-unavailable",
                            f"the folder {s.path} is not reachable (a USB stick unplugged or a "
                            "share not mounted?); its notebooks stay in the library",
                        )
                    )
            rows = conn.execute(
                select(Problem.source_id, Problem.relpath, Problem.kind, Problem.message)
                .where(Problem.source_id.in_(wanted))
                .order_by(Problem.relpath)
            )
            for r in rows:
                found.append(ProblemInfo(wanted[r.source_id].name, r.relpath, r.kind, r.message))
            schema_rows = conn.execute(
                select(Notebook.source_id, Notebook.relpath, Content.schema_error)
                .join(Content, Content.hash == Notebook.content_hash)
                .where(
                    # the few bad contents first (a partial index): reading every content
                    # row of a 50,000-notebook library would cost more than the whole sync
                    Notebook.content_hash.in_(
                        select(Content.hash).where(Content.schema_error.is_not(None))
                    ),
                    Notebook.source_id.in_(wanted),
                    Notebook.removed_at.is_(None),
                )
                .order_by(Notebook.relpath)
            )
            for w in schema_rows:
                found.append(
                    ProblemInfo(
                        wanted[w.source_id].name,
                        w.relpath,
                        "schema-warning",
                        f"catalogued, but it breaks the notebook format: {w.schema_error}",
                    )
                )
        return found

    # -- running -----------------------------------------------------------------------------

    def kernels(self) -> list[KernelChoice]:
        """The kernels a notebook can run in here (nbshelf's own Python kernel included)."""
        from nbshelf.run.kernels import installed_kernels

        return installed_kernels()

    def kernel_for(self, ref: str | int, kernel: str | None = None) -> KernelChoice:
        """The kernel a notebook would run in: ``kernel`` by name, else its own or one for
        its language (``KernelMissing`` names what is missing and what is installed)."""
        from nbshelf.run.kernels import choose_kernel, get_kernel

        if kernel:
            return get_kernel(kernel)
        info = self.show(ref)
        return choose_kernel(info.kernel, info.language)

    def parameters(self, ref: str | int) -> list[Parameter]:
        """The notebook's papermill parameters (name, default, type) for a form."""
        from nbshelf.run.execution import read_for_run
        from nbshelf.run.parameters import notebook_parameters

        return notebook_parameters(read_for_run(self.read_version(ref)))

    def begin_run(self, ref: str | int, *, kernel: str | None = None,
                  parameters: dict[str, str] | None = None, cell_timeout: float | None = None,
                  stop_on_error: bool = True) -> RunPlan:
        """Record a run as started; ``RunBook.execute(plan)`` then runs it on any thread."""
        self._require_writer()
        notebook_id = self.resolve(ref)
        choice = self.kernel_for(notebook_id, kernel)
        return self.runbook.begin(notebook_id, choice, parameters=parameters,
                                  cell_timeout=cell_timeout, stop_on_error=stop_on_error)

    def finish_run(self, plan: RunPlan, result: RunResult | None, error: str | None = None
                   ) -> None:
        """Record how a run begun with ``begin_run`` ended."""
        self.runbook.finish(plan, result, error)

    def run(self, ref: str | int, *, kernel: str | None = None,
            parameters: dict[str, str] | None = None, cell_timeout: float | None = None,
            stop_on_error: bool = True, on_event: Callable[[CellEvent], None] | None = None,
            cancel: threading.Event | None = None) -> RunResult:
        """Run a copy of a notebook's current version in a local kernel, and record it.

        Raises:
            KernelMissing: no kernel fits (the message lists the installed ones).
            ParameterError: a parameter does not fit the notebook.
        """
        plan = self.begin_run(ref, kernel=kernel, parameters=parameters,
                              cell_timeout=cell_timeout, stop_on_error=stop_on_error)
        try:
            result = RunBook.execute(plan, on_event=on_event, cancel=cancel)
        except NbshelfError as err:
            self.finish_run(plan, None, str(err))
            raise
        except BaseException:
            self.finish_run(plan, None, "the run was stopped")
            raise
        self.finish_run(plan, result)
        return result

    def runs(self, ref: str | int) -> list[RunInfo]:
        """A notebook's runs, newest first."""
        return self.runbook.list(self.resolve(ref))

    def health(
        self, ref: str | int | None = None, *, ids: Collection[int] | None = None
    ) -> list[NotebookHealth]:
        """"Will it run here?" for one notebook, these ``ids`` (those still in the library),
        or the whole library (static checks cached per content and kernel; the last run from
        the run records)."""
        import math

        from nbshelf.catalog.settings import Settings
        from nbshelf.health.checks import HealthChecker, HealthInput, health_status, status_detail

        if self._health is None:
            # readers use the cache the writer keeps; only a writer saves it
            self._health = HealthChecker(cache_dir=self.root / "health")
        if ref is not None:
            ids = [self.resolve(ref)]
        rows = self._health_rows(ids)
        inputs = [
            HealthInput(r.content_hash, _reader(self.store, r.content_hash),
                        _notebook_folder(r.path, r.kind, r.relpath),
                        PurePosixPath(r.relpath).name)
            for r in rows
        ]
        reports = self._health.check(inputs)
        if not self.readonly:
            self._health.save()
        last = self.runbook.last_runs()
        max_age = float(Settings(self.engine).get("stale_after_days")) or math.inf
        found = []
        for r, report in zip(rows, reports, strict=True):
            run = last.get(r.id)
            summary = run.summary() if run else None
            status = health_status(report, summary, run is not None and not run.current_version,
                                   max_age)
            found.append(NotebookHealth(
                r.id, r.name, r.relpath, r.title, status, status_detail(status, report, summary),
                report.kernel, report.missing_modules, report.missing_files, report.messages,
                run.to_json() if run else None,
            ))
        return found

    def health_run(
        self,
        *,
        time_limit: float = 300.0,
        progress: IndexProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> list[NotebookHealth]:
        """Run every notebook that could run here, each for at most ``time_limit`` seconds,
        record the runs, and return the library's health afterwards.

        Notebooks the static check already condemns (no kernel, missing modules, unreadable)
        are not run: their run would only repeat what the check says.
        """
        import dataclasses

        self._require_writer()
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

    def _health_rows(self, ids: Collection[int] | None) -> list[Any]:
        query = (
            select(Notebook.id, Notebook.relpath, Notebook.content_hash, Source.name,
                   Source.path, Source.kind, Content.title)
            .join(Source, Source.id == Notebook.source_id)
            .join(Content, Content.hash == Notebook.content_hash)
            .where(Notebook.removed_at.is_(None))
            .order_by(Source.name, Notebook.relpath)
        )
        with self.engine.connect() as conn:
            if ids is None:
                return list(conn.execute(query).all())
            wanted = list(ids)
            rows: list[Any] = []
            for start in range(0, len(wanted), 500):  # SQLite caps an IN list's size
                rows += conn.execute(query.where(Notebook.id.in_(wanted[start : start + 500])))
            return rows

    # -- viewing -------------------------------------------------------------------------------

    def render(self, ref: str | int, *, version: int | None = None, report_view: bool = False,
               standalone: bool = False) -> str:
        """The notebook as one safe, offline HTML page (scripts never run, nothing loads from
        outside). ``standalone`` inlines the app's styles, for a file any browser opens."""
        info = self.show(ref)
        data = self.read_version(info.id, version)
        return self._render_bytes(data, info.path, info.source, info.kernel, info.mtime,
                                  info.size, info.title, report_view=report_view,
                                  standalone=standalone,
                                  folder=self._folder_of(info.id))

    def render_run(self, run_id: int, *, report_view: bool = False) -> str:
        """A run record (the executed copy, with its outputs) as a page, like any notebook."""
        record = self.runbook.get(run_id)
        path = Path(record.record)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise NotFound(f"the record of run {run_id} cannot be read: {err.strerror}") from None
        info = self.show(record.notebook_id)
        return self._render_bytes(data, info.path, info.source, record.kernel,
                                  path.stat().st_mtime, len(data),
                                  f"{info.title} (run {run_id}, {record.status})",
                                  report_view=report_view, standalone=False,
                                  folder=self._folder_of(info.id))

    def _folder_of(self, notebook_id: int) -> Path | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(Notebook.relpath, Source.path, Source.kind)
                .join(Source, Source.id == Notebook.source_id)
                .where(Notebook.id == notebook_id)
            ).one()
        return _notebook_folder(row.path, row.kind, row.relpath)

    def _render_bytes(self, data: bytes, path: str, source: str, kernel: str | None,
                      mtime: float, size: int, title: str, *, report_view: bool,
                      standalone: bool, folder: Path | None) -> str:
        from datetime import UTC, datetime

        from nbshelf.publish.markings import notebook_marking
        from nbshelf.render import APP_ASSET_BASE, RenderHeader, render_notebook

        raw = parse_notebook(data, path, validate=False).raw
        header = RenderHeader(
            title=title, source=source, path=path, kernel=kernel or "",
            modified=datetime.fromtimestamp(mtime, UTC), size=size,
            marking=notebook_marking(raw, self.settings.get("markings")) or "",
        )
        return render_notebook(raw, base_dir=folder, header=header, report_view=report_view,
                               asset_base=None if standalone else APP_ASSET_BASE)

    # -- publishing ----------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """Typed access to this library's settings."""
        from nbshelf.catalog.settings import Settings

        return Settings(self.engine)

    def prepare_publish(self, file: str | Path, *, keep_outputs: bool = False) -> Prepared:
        """What publishing ``file`` would write: the preview of what is removed and the
        warnings, without writing anything."""
        from nbshelf.publish.share import PublishError, prepare

        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise PublishError(f"cannot read {file}: {err.strerror}") from None
        return prepare(data, path.name, keep_outputs=keep_outputs,
                       scheme=self.settings.get("markings"))

    def publish(self, file: str | Path, source: str, *, as_path: str | None = None,
                keep_outputs: bool = False, force: bool = False) -> PublishResult:
        """Publish a notebook file into a source folder (a share, a USB stick).

        The conflict check, the write and the catalog's record of what was written happen
        under the target's share lock, so of several publishers of one target exactly one
        wins; the others are refused, none loses an update.

        Raises:
            PublishConflict: the target changed since this library last saw it, or another
                publish to it is in progress (``PublishBusy``).
            MarkingRefused: the source does not accept the notebook's marking.
            PublishError: anything else that stops it, in words: the source is not available
                (a share that is not mounted), the target leads out of the source.
        """
        from nbshelf.publish.markings import check_publishable
        from nbshelf.publish.share import (
            PublishError,
            PublishResult,
            check_conflict,
            resolve_target,
            target_lock,
            target_relpath,
        )
        from nbshelf.store import remove_stale_temps

        self._require_writer()
        prepared = self.prepare_publish(file, keep_outputs=keep_outputs)
        target_source = self._source(source)
        if target_source.kind == OPENED or not srcs.reachable(target_source.path):
            raise PublishError(f"source '{source}' is not a folder that can be written now")
        relpath = target_relpath(Path(file).name, as_path)
        where = f"{source}:{relpath}"
        check_publishable(
            prepared.marking, self.settings.get("markings"), target=f"source '{source}'",
            required=self.settings.get("marking_required", source),
            ceiling=self.settings.get("marking_ceiling", source),
        )
        self._refuse_unmounted(target_source)
        with self.engine.connect() as conn:
            last_seen = conn.execute(
                select(Notebook.content_hash).where(
                    Notebook.source_id == target_source.id, Notebook.relpath == relpath
                )
            ).scalar_one_or_none()
        shown = Path(target_source.path) / relpath
        target = resolve_target(target_source.path, relpath, where)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise PublishError(f"cannot write {where}: {err.strerror or err}") from None
        # again, now that its folders exist: one made meanwhile must not be a link out
        target = resolve_target(target_source.path, relpath, where)
        remove_stale_temps(target.parent)
        new_hash = content_hash(prepared.data)
        with target_lock(target, where):
            existed = check_conflict(target, last_seen, new_hash, force=force, where=where)
            try:
                unchanged = existed and target.read_bytes() == prepared.data
                if not unchanged:
                    atomic_write(target, prepared.data, mode=shared_file_mode(target))
            except OSError as err:
                raise PublishError(f"cannot write {where}: {err.strerror or err}") from None
            # the library now "last saw" what it wrote there, read before anyone else may
            # write it: a later change by others is caught, never taken for ours
            SourceSync(self.engine, self.store, target_source).sync_paths([relpath])
        self._refresh_manifest(target_source, relpath)
        self.refresh_index()
        return PublishResult(source, relpath, str(shown), prepared.stripped, prepared.leaks,
                             prepared.marking, overwrote=existed and not unchanged,
                             unchanged=unchanged, notebook_id=self.resolve(where))

    def _refuse_unmounted(self, source: Source) -> None:
        """Refuse a folder source that sync would call unavailable (``looks_unmounted``): a
        publish into the empty mount point of a share that is not mounted would "succeed"
        on the local disk, and the next sync would take every other notebook for removed.

        Cheap where it matters: a folder with a notebook at its top needs no walk.
        """
        from nbshelf.publish.share import PublishError
        from nbshelf.sources.scan import ScanResult, is_notebook_name, scan_tree
        from nbshelf.sources.sync import looks_unmounted

        with self.engine.connect() as conn:
            present = conn.execute(
                select(Notebook.id).where(Notebook.source_id == source.id,
                                          Notebook.removed_at.is_(None)).limit(1)
            ).first() is not None
        if not present:
            return
        try:
            with os.scandir(source.path) as entries:
                top = [e for e in entries if not e.name.startswith(".")]
        except OSError:
            top = None  # the walk says what it can
        def plain_notebook(entry: os.DirEntry[str]) -> bool:
            """A file the walk would surely list: ``*.ipynb``, regular, a valid name."""
            try:
                entry.name.encode("utf-8")
                return is_notebook_name(entry.name) and entry.is_file(follow_symlinks=False)
            except (UnicodeEncodeError, OSError):
                return False

        if top is not None and any(plain_notebook(e) for e in top):
            return
        scan = ScanResult() if top == [] else scan_tree(source.path)
        if looks_unmounted(scan, present):
            raise PublishError(
                f"source '{source.name}' is not available: its folder {source.path} is empty, "
                "but the library holds notebooks from it. The share is probably not mounted "
                "(or the stick not plugged in); nothing was written. Mount it and publish again"
            )

    def write_manifest(self, name: str) -> dict[str, Any]:
        """Walk a folder source and write its share manifest (``nbshelf.sources.manifest``), so that
        syncs of a big share need not walk it."""
        from nbshelf.sources.manifest import write_manifest

        source = self._source(name)
        if source.kind in (OPENED, PACK) or not srcs.reachable(source.path):
            raise SourceError(f"source '{name}' is not a folder that can be written now")
        try:
            written = write_manifest(source.path, self._catalog_hashes(source))
        except OSError as err:
            raise SourceError(f"cannot write the manifest of '{name}': {err.strerror}") from None
        return {"source": name, **written.to_json()}

    def _refresh_manifest(self, source: Source, relpath: str) -> None:
        """Keep the share's manifest (if it has one) current after a publish; a failure
        leaves it stale, which sync notices, so it never fails the publish."""
        from nbshelf.sources.manifest import log as manifest_log
        from nbshelf.sources.manifest import refresh_folders

        try:
            refresh_folders(source.path, relpath, self._catalog_hashes(source))
        except OSError as err:
            manifest_log.warning("the manifest of '%s' was not updated: %s", source.name, err)

    def _catalog_hashes(self, source: Source) -> Callable[[str, FileStat], str | None]:
        """The content hash the catalog knows for a file of ``source`` in this state."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Notebook.relpath, Notebook.size, Notebook.mtime_ns,
                       Notebook.content_hash)
                .where(Notebook.source_id == source.id, Notebook.removed_at.is_(None))
            ).all()
        known = {r.relpath: (r.size, r.mtime_ns, r.content_hash) for r in rows}

        def lookup(relpath: str, stat: FileStat) -> str | None:
            size, mtime_ns, digest = known.get(relpath, (None, None, None))
            return digest if (size, mtime_ns) == (stat.size, stat.mtime_ns) else None

        return lookup

    def markings(self, ids: list[int] | None = None) -> dict[int, str]:
        """The control marking of each present notebook that has one (all, or these ids),
        spelled as in the library's ``markings`` setting."""
        from nbshelf.publish.markings import marking_hint, read_hint

        query = (
            select(Notebook.id, Content.hash, Content.marking)
            .join(Content, Content.hash == Notebook.content_hash)
            .where(Notebook.removed_at.is_(None))
        )
        if ids is not None:
            query = query.where(Notebook.id.in_(ids))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        hints = {r.hash: r.marking for r in rows if r.marking is not None}
        for digest in {r.hash for r in rows if r.marking is None}:
            # catalogued before markings were stored: read once (and kept, by a writer)
            try:
                raw = parse_notebook(self.store.read(digest), "x.ipynb", validate=False).raw
                hints[digest] = marking_hint(raw)
            except (OSError, NbshelfError):
                hints[digest] = ""
            if not self.readonly:
                with self.engine.begin() as conn:
                    conn.execute(update(Content).where(Content.hash == digest)
                                 .values(marking=hints[digest]))
        scheme = self.settings.get("markings")
        found = {r.id: read_hint(hints[r.hash], scheme) for r in rows}
        return {notebook_id: m for notebook_id, m in found.items() if m}

    def export_pack(self, out: str | Path, *, ids: list[int] | None = None,
                    query: str | None = None) -> dict[str, Any]:
        """Write the chosen notebooks (by id, or every match of a query) as a pack."""
        from nbshelf.publish.markings import notebook_marking
        from nbshelf.sources.packs import PackEntry, PackError, entry_path, write_pack

        chosen = list(ids or [])
        if query:
            chosen += self.search_ids(query)[0]
        if not chosen:
            raise PackError("nothing to pack: name notebooks with --ids or a query that matches")
        scheme = self.settings.get("markings")
        entries = []
        opened = {s.name for s in self.list_sources() if s.kind == OPENED}
        for notebook_id in dict.fromkeys(chosen):
            info = self.show(notebook_id)
            # checked before anything is read or written: a bad path fails the whole export
            inner = entry_path(info.source, info.path, opened=info.source in opened)
            data = self.store.read(info.content_hash)
            raw = parse_notebook(data, info.path, validate=False).raw
            entries.append((PackEntry(inner, info.title,
                                      info.content_hash, len(data),
                                      notebook_marking(raw, scheme), info.source, info.path,
                                      info.versions), data))
        written = write_pack(Path(out), entries)
        return {"pack": str(written), "notebooks": len(entries)}

    def diff(self, ref: str | int, old: int | None = None, new: int | None = None, *,
             outputs: bool = False, metadata: bool = False) -> list[CellChange]:
        """Cell changes between two versions (default: the previous and the current one)."""
        from nbshelf.notebook.diff import diff_notebooks
        from nbshelf.run.execution import read_for_run

        count = len(self.history(ref))
        new = count if new is None else new
        old = max(1, new - 1) if old is None else old
        before = read_for_run(self.read_version(ref, old))
        after = read_for_run(self.read_version(ref, new))
        return diff_notebooks(before, after, outputs=outputs, metadata=metadata)

    # -- notebooks ---------------------------------------------------------------------------

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
        keys: dict[str, Any] = {
            "title": func.lower(Content.title),
            "source": func.lower(Source.name),
            "language": func.coalesce(Content.language, ""),
            "modified": Notebook.mtime_ns,
        }
        if order_by not in keys:
            raise ValueError(f"cannot order notebooks by {order_by!r}")
        primary = [keys[order_by].desc() if descending else keys[order_by]]
        query = (
            select(Notebook.id)
            .join(Content, Content.hash == Notebook.content_hash)
            .join(Source, Source.id == Notebook.source_id)
            .order_by(*primary, func.lower(Content.title), Notebook.relpath)
        )
        if not include_removed:
            query = query.where(Notebook.removed_at.is_(None))
        if title_contains:
            escaped = title_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(Content.title.ilike(f"%{escaped}%", escape="\\"))
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def notebook_rows(self, ids: list[int]) -> list[NotebookRow]:
        """The list rows of these notebooks, in the order asked (unknown ids are left out)."""
        found: dict[int, NotebookRow] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                rows = conn.execute(
                    select(
                        Notebook.id,
                        Content.title,
                        Source.name,
                        Notebook.relpath,
                        Content.language,
                        Notebook.mtime_ns,
                        Content.size,
                        Notebook.removed_at,
                    )
                    .join(Content, Content.hash == Notebook.content_hash)
                    .join(Source, Source.id == Notebook.source_id)
                    .where(Notebook.id.in_(ids[start : start + 500]))
                )
                for r in rows:
                    found[r.id] = NotebookRow(
                        r.id, r.title, r.name, r.relpath, r.language, r.mtime_ns / 1e9, r.size,
                        r.removed_at is not None,
                    )
        return [found[i] for i in ids if i in found]

    def resolve(self, ref: str | int) -> int:
        """The catalog id of a notebook named by id, path in a source, or ``SOURCE:PATH``.

        Raises:
            NotFound: nothing matches, or a bare relative path matches several notebooks.
        """
        with self.engine.connect() as conn:
            if isinstance(ref, int) or str(ref).isdigit():
                found = conn.execute(select(Notebook.id).where(Notebook.id == int(ref))).first()
                if found:
                    return int(found.id)
                raise NotFound(f"there is no notebook with id {ref}")
            text = str(ref)
            sources = conn.execute(select(Source.id, Source.name, Source.path, Source.kind)).all()
            candidates: list[tuple[int, str]] = []
            name, sep, rest = text.partition(":")
            for s in sources:
                if sep and name == s.name:
                    candidates.append((s.id, rest.replace("\\", "/").strip("/")))
            if not candidates:
                real = Path(os.path.realpath(os.path.abspath(text)))
                for s in sources:
                    if s.kind == OPENED:
                        candidates.append((s.id, real.as_posix()))
                        continue
                    root = Path(os.path.realpath(s.path))
                    if srcs.is_within(real, root) and real != root:
                        candidates.append((s.id, real.relative_to(root).as_posix()))
            for source_id, relpath in candidates:
                found = conn.execute(
                    select(Notebook.id).where(
                        Notebook.source_id == source_id, Notebook.relpath == relpath
                    )
                ).first()
                if found:
                    return int(found.id)
            loose = conn.execute(
                select(Notebook.id).where(Notebook.relpath == text.replace("\\", "/"))
            ).all()
            if len(loose) == 1:
                return int(loose[0].id)
            if len(loose) > 1:
                raise NotFound(f"{text} is in several sources; name one as SOURCE:{text}")
        raise NotFound(
            f"no notebook in the library matches {text!r} (give an id, a path inside a source, "
            "or SOURCE:RELATIVE/PATH; run sync if the file is new)"
        )

    def show(self, ref: str | int) -> NotebookInfo:
        """Everything the catalog knows about one notebook."""
        notebook_id = self.resolve(ref)
        with Session(self.engine) as conn:
            row = conn.execute(
                select(Notebook, Content, Source.name)
                .join(Content, Content.hash == Notebook.content_hash)
                .join(Source, Source.id == Notebook.source_id)
                .where(Notebook.id == notebook_id)
            ).one()
            nb, content, source_name = row
            versions = conn.execute(
                select(func.count()).where(Version.notebook_id == notebook_id)
            ).scalar_one()
            places = conn.execute(
                select(Notebook.id, Source.name, Notebook.relpath, Notebook.removed_at)
                .join(Source, Source.id == Notebook.source_id)
                .where(Notebook.content_hash == nb.content_hash, Notebook.id != notebook_id)
                .order_by(Source.name, Notebook.relpath)
            ).all()
            last_sync = conn.execute(
                select(Source.last_sync).where(Source.id == nb.source_id)
            ).scalar_one()
        last_seen = nb.last_seen if nb.removed_at else max(nb.last_seen, last_sync or 0)
        return NotebookInfo(
            id=nb.id,
            source=source_name,
            path=nb.relpath,
            title=content.title,
            headings=list(content.headings),
            kernel=content.kernel_name,
            language=content.language,
            nbformat=f"{content.nbformat}.{content.nbformat_minor}",
            cells={
                "total": content.n_cells,
                "code": content.n_code,
                "markdown": content.n_markdown,
                "raw": content.n_raw,
            },
            imports=list(content.imports),
            size=content.size,
            mtime=nb.mtime_ns / 1e9,
            content_hash=content.hash,
            first_seen=nb.first_seen,
            last_seen=last_seen,
            removed_at=nb.removed_at,
            versions=versions,
            also_at=[Place(p.id, p.name, p.relpath, p.removed_at is not None) for p in places],
            schema_warning=content.schema_error,
            blob=str(self.store.path(content.hash)),
        )

    def history(self, ref: str | int) -> list[VersionInfo]:
        """A notebook's content versions, oldest first; the last one is current."""
        notebook_id = self.resolve(ref)
        with Session(self.engine) as conn:
            current = conn.execute(
                select(Notebook.content_hash).where(Notebook.id == notebook_id)
            ).scalar_one()
            rows = conn.execute(
                select(Version, Content.title, Content.size)
                .join(Content, Content.hash == Version.content_hash)
                .where(Version.notebook_id == notebook_id)
                .order_by(Version.seen_at, Version.id)
            ).all()
        return [
            VersionInfo(
                number=i,
                content_hash=v.content_hash,
                seen_at=v.seen_at,
                mtime=v.mtime_ns / 1e9,
                title=title,
                size=size,
                current=(i == len(rows) and v.content_hash == current),
            )
            for i, (v, title, size) in enumerate(rows, start=1)
        ]

    def read_version(self, ref: str | int, number: int | None = None) -> bytes:
        """The bytes of a notebook's version ``number`` (1-based), by default the current one."""
        versions = self.history(ref)
        if number is None:
            return self.store.read(self.show(ref).content_hash)
        if not 1 <= number <= len(versions):
            raise NotFound(f"the notebook has versions 1 to {len(versions)}, not {number}")
        return self.store.read(versions[number - 1].content_hash)
