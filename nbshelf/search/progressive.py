"""Searchable while syncing: the index takes in what a sync has committed, batch by batch.

A first sync of a big share copies for minutes. Instead of building the whole index after the
copy, the writer hands each committed batch's contents (the catalog's ``index_pending`` queue)
to one worker process, which writes their documents and commits them to the index while the
sync copies the next batch: both cores work, and a reader (a second window, ``nbshelf search``)
finds each round's notebooks as soon as it commits.

The queue stays the record of what the index lacks. The worker never clears it: after a round
commits, the writer clears a content only if its places (the part of its document the catalog
can change: a later batch may find the same content at another path) are still those the
document was made from, in a transaction of the writer's own between two of the sync's. A kill
at any moment therefore leaves an index that holds only contents the catalog committed, and a
queue that names everything the index may lack; the next sync takes the rest in.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete

from nbshelf.catalog.models import IndexPending
from nbshelf.catalog.pending import mark_pending, pending_hashes
from nbshelf.catalog.queries import in_chunks, present_hashes, present_places
from nbshelf.search.index import PlaceKey, SearchIndex, place_key

log = logging.getLogger(__name__)

#: Most contents in one round, until the index holds more: a round may take in as many as
#: the index holds. Rounds are smaller while the worker keeps up (each takes what the sync
#: committed since the last one); when it lags they double, so a big share ends in about
#: log2(n / ROUND_MIN) segments, which need no merging (``merge_small_ones``).
ROUND_MIN = 2000

#: Told after each round, and every ``WORKING_EVERY`` seconds of the copy's last round:
#: contents the index took in so far during this sync, contents still queued for it, and of
#: those how many the round under way has written (not searchable before its commit).
RoundFn = Callable[[int, int, int], None]
#: How often a long last round says how far it has got (s): at 100,000 notebooks it takes
#: minutes, and a bar that does not move looks stuck.
WORKING_EVERY = 0.5


class ProgressiveIndex:
    """Takes a sync's committed batches into the index in a worker process, as they commit.

    Made by the writer when a sync's first batch commits (``start``), told of each later
    commit (``committed``), and ended when the copy is done (``finish``), which waits until
    the queue is empty (or the sync was cancelled). Everything but the rounds runs on the
    sync's thread; rounds are handed to the worker by a thread of this object's own.
    """

    def __init__(self, index: SearchIndex, engine: Engine, catalog: Path,
                 on_round: RoundFn | None = None, procs: int = 1) -> None:
        self.index = index
        self.procs = procs
        self.engine = engine
        self.catalog = catalog
        self.on_round = on_round
        self._pool: ProcessPoolExecutor | None = None
        self._halt: EventType | None = None
        self._written: Any = None  # shared with the worker: documents the round wrote so far
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._draining = False
        self._lock = threading.Lock()  # the rounds done and not cleared, and clearing them
        self._done: list[dict[str, PlaceKey]] = []
        self._indexed: set[str] = set()
        self._error: BaseException | None = None

    @property
    def searchable(self) -> int:
        """Contents this sync has made searchable so far."""
        return len(self._indexed)

    def start(self) -> None:
        """Queue everything when there is no usable index (then put an empty one in place),
        and start the worker. On the sync's thread, between two of its transactions."""
        if not self.index.is_current():
            # The queue first: a kill between the two leaves the old index, still not
            # current, which the next refresh rebuilds whole.
            with self.engine.begin() as conn:
                mark_pending(conn, present_hashes(conn))
            self.index.close()
            self.index.create_empty()
        context = multiprocessing.get_context("spawn")  # safe beside the app's Qt threads
        self._halt = context.Event()  # a cancelled sync: the round under way stops too
        self._written = context.RawValue("q", 0)  # one writer (the worker), one reader
        self._pool = ProcessPoolExecutor(1, mp_context=context, initializer=_worker_started,
                                         initargs=(os.getpid(), self._halt, self._written))
        # The worker starts here (on the sync's thread, which outlives every round: a
        # Linux child told to die with its parent dies with the thread that started it).
        self._pool.submit(_warm_up)
        self._thread = threading.Thread(target=self._run, name="nbshelf-index-rounds",
                                        daemon=True)
        self._thread.start()

    def committed(self) -> None:
        """A batch of the sync committed: clear what the finished rounds took in, and let the
        next round start. On the sync's thread, between two of its transactions."""
        self._clear_done()
        self._wake.set()

    def copy_done(self) -> None:
        """The copy is over: the rounds go on, without waiting for commits, until the queue
        is empty (the sync's thread meanwhile does other work, such as the similarity fit)."""
        with self._lock:
            self._draining = True
        self._clear_done()
        self._wake.set()

    def finish(self, *, stop: bool) -> BaseException | None:
        """Wait until the queue is taken in (``stop``: only for the round under way), clear
        what was taken in and stop the worker. Returns what went wrong in a round, if
        anything did (the caller then catches the index up itself)."""
        with self._lock:
            self._draining = True
        if stop:
            self._stop.set()
            if self._halt is not None:
                self._halt.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self._clear_done()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self.index.close()  # its searcher predates the worker's commits
        return self._error

    # -- the rounds (on this object's thread) ------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                hashes = self._next_round()
                if not hashes:
                    if self._draining:
                        return
                    self._wake.wait()
                    self._wake.clear()
                    continue
                self._take_in(hashes)
        except BaseException as err:  # noqa: BLE001 - handed to the sync, which catches up
            log.warning("the index could not take in a sync's batch: %s", err)
            self._error = err

    def _next_round(self) -> list[str]:
        """The queued contents no finished round holds yet: while the copy goes on, none
        until as many as are searchable already are queued (the first round takes what the
        first batch committed), and at most that many or ``ROUND_MIN``; after it, all."""
        with self.engine.connect() as conn:
            queued = pending_hashes(conn)
        with self._lock:
            taken = {digest for done in self._done for digest in done}
        wanted = [digest for digest in queued if digest not in taken]
        with self._lock:
            draining = self._draining
        if draining:
            return wanted  # the last round: all of it, in two processes (``_take_in``)
        if self.searchable and len(wanted) < self.searchable:
            return []  # wait for more: rounds at least double, so segments stay few
        return wanted[:max(ROUND_MIN, self.searchable)]

    def _take_in(self, hashes: list[str]) -> None:
        assert self._pool is not None
        with self._lock:
            # The copy is over and its core free: a big last round is written by two
            # processes (Whoosh's own multiprocess writer, forked by the worker, which runs
            # no threads), beside the similarity fit.
            procs = self.procs if self._draining and len(hashes) >= ROUND_MIN else 1
            last = self._draining
        self._written.value = 0
        future = self._pool.submit(_take_in, str(self.index.folder), str(self.catalog),
                                   str(self.index.store.root), hashes, procs)
        tell = self.on_round if last else None
        waiting = self._still_queued() if tell is not None else 0
        while True:
            try:
                used = future.result(timeout=WORKING_EVERY)
                break
            except TimeoutError:
                if tell is not None:  # the last round: say how far it has got
                    tell(self.searchable, waiting, min(int(self._written.value), len(hashes)))
        with self._lock:
            self._done.append(used)
            self._indexed.update(digest for digest, where in used.items() if where)
            draining = self._draining
        if draining:  # the copy is over: no transaction of the sync's to wait for
            self._clear_done()
        if self.on_round is not None:
            self.on_round(self.searchable, self._still_queued(), 0)

    def _still_queued(self) -> int:
        """Queued contents no round has taken in yet: the queue as it is now (the sync may
        have committed more since this round was chosen), less what the rounds hold but
        the sync has not cleared yet."""
        with self.engine.connect() as conn:
            queued = pending_hashes(conn)
        with self._lock:
            return sum(1 for digest in queued if digest not in self._indexed)

    def _clear_done(self) -> None:
        """Take off the queue each content of the finished rounds whose places are still
        the ones its document was made from; the others stay queued for the next round."""
        with self._lock:
            done, self._done = self._done, []
            if not done:
                return
            used: dict[str, PlaceKey] = {}
            for one in done:
                used.update(one)
            with self.engine.begin() as conn:
                now = present_places(conn, list(used))
                unchanged = [d for d, where in used.items()
                             if place_key(now.get(d, [])) == where]
                for chunk in in_chunks(unchanged):
                    conn.execute(delete(IndexPending).where(IndexPending.hash.in_(chunk)))


# -- the worker process ------------------------------------------------------------------------

_PARENT: list[int] = []
_HALT: list[EventType] = []
_WRITTEN: list[Any] = []
_OPEN: dict[tuple[str, str, str], SearchIndex] = {}


def _worker_started(parent: int, halt: EventType, written: Any) -> None:
    """In the worker: remember the writer and its halt, and on Linux die with the writer (a
    worker that outlived a killed writer could commit beside the next one)."""
    from nbshelf.library.lock import _die_with_parent

    _PARENT.append(parent)
    _HALT.append(halt)
    _WRITTEN.append(written)
    _die_with_parent()
    if os.getppid() != parent:
        # the writer died before the line above: no signal will come, and the task queue
        # (whose write end this process holds too) would keep it waiting forever
        os._exit(1)
    if hasattr(os, "register_at_fork"):  # the multiprocess writer's processes die with it
        os.register_at_fork(after_in_child=_die_with_parent)


def _warm_up() -> None:
    """Load what a round needs before the first one is due."""
    import nbshelf.search.index  # noqa: F401


def _still_wanted() -> bool:
    """The writer is alive and has not cancelled its sync (asked before each document: the
    count of documents the round has written so far is kept here too)."""
    if _WRITTEN:
        _WRITTEN[0].value += 1
    if _HALT and _HALT[0].is_set():
        return False
    return not _PARENT or os.getppid() == _PARENT[0]


def _take_in(folder: str, catalog: str, blobs: str, hashes: list[str],
             procs: int) -> dict[str, PlaceKey]:
    """In the worker: write these contents' documents into the index, one commit."""
    key = (folder, catalog, blobs)
    index = _OPEN.get(key)
    if index is None:
        from nbshelf.catalog.db import open_engine
        from nbshelf.store import BlobStore

        index = _OPEN[key] = SearchIndex(Path(folder), open_engine(Path(catalog), readonly=True),
                                         BlobStore(Path(blobs)))
    try:
        return index.take_in(hashes, still_wanted=_still_wanted, procs=procs)
    finally:
        with contextlib.suppress(Exception):
            index.close()  # the writer may swap the folder after the sync: hold no file
