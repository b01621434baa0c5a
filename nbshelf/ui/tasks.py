"""Background work for the app: one runner, results back on the GUI thread.

The runner has two lanes, each one ``QThread`` that owns one ``Library`` object for its whole
life (``Library`` is not thread-safe, so each object stays on the thread that opened it):

- the **write** lane owns the writer ``Library`` (STYLE.md's single writer): sync, add source,
  and later index, run and publish;
- the **read** lane owns a read-only ``Library`` on the same folder, so that browsing (list
  rows, a notebook's header, history, problems) stays live while a long sync holds the write
  lane. SQLite in WAL mode lets it read what each sync batch has committed.

When another program holds the writer lock, the write lane has no library and the app only
reads; ``retry_writer`` asks the lane to try again (the window does while it waits), and
``opened`` fires a second time, without an error, once it has the library.

Workers never touch widgets. A task's callbacks run on the GUI thread through a queued signal;
progress values are polled by a GUI timer at most every ``PROGRESS_INTERVAL_MS`` and only the
latest value is shown, so a worker may report progress as often as it likes.

Usage::

    Task(runner, lambda lib, job: lib.sync(progress=job.progress, cancel=job.cancel_event),
         lane=Lane.WRITE, label="Sync")
        .with_progress(show_progress)
        .on_success(show_report)
        .with_changes(lambda report: Changes(notebooks=True, ...))
        .start()

After a task that changed the library, the runner broadcasts :class:`Changes` on its
``changed`` signal; each view decides for itself whether to refresh (Anki's ``OpChanges``).
"""

from __future__ import annotations

import enum
import itertools
import logging
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from nbshelf.errors import LibraryError, LibraryLocked, NbshelfError, storage_error
from nbshelf.library import Library

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Progress callbacks run at most this often (ms); a worker may report far more often.
PROGRESS_INTERVAL_MS = 100


class _Reopen:
    """Queued on the write lane: try to open the library again (``TaskRunner.retry_writer``)."""


_REOPEN = _Reopen()


class Lane(enum.Enum):
    """Which worker thread, and so which ``Library`` object, runs a task."""

    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class Changes:
    """What an operation changed, broadcast so that each view can decide to refresh.

    Attributes:
        notebooks: the set of notebooks or their catalog rows may have changed.
        sources: sources were added, removed, relocated or synced (counts, last sync time).
        problems: the problem list may have changed.
        updated_ids: notebooks whose content changed; ``None`` means "unknown: any of them".
            An empty set means only additions and removals happened.
        partial: sent while an operation is still running (a sync's batches landing).
    """

    notebooks: bool = False
    sources: bool = False
    problems: bool = False
    updated_ids: frozenset[int] | None = None
    partial: bool = False

    def __or__(self, other: Changes) -> Changes:
        if self.updated_ids is None or other.updated_ids is None:
            ids: frozenset[int] | None = None
        else:
            ids = self.updated_ids | other.updated_ids
        return Changes(
            notebooks=self.notebooks or other.notebooks,
            sources=self.sources or other.sources,
            problems=self.problems or other.problems,
            updated_ids=ids,
            partial=self.partial and other.partial,
        )


class Job:
    """A started task as its worker function and its starter see it.

    The worker calls :meth:`progress` and checks :attr:`cancel_event`; the GUI calls
    :meth:`cancel`.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.cancel_event = threading.Event()
        self.done = False
        self._serial = 0
        # (serial, value): one attribute, so the GUI thread always reads a consistent pair.
        self._latest: tuple[int, Any] = (0, None)

    def progress(self, value: Any) -> None:
        """Report progress (worker thread). Cheap: the GUI shows only the latest value."""
        self._serial += 1
        self._latest = (self._serial, value)

    def cancel(self) -> None:
        """Ask the work to stop (any thread). A task not yet started will not start."""
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        """True once cancellation was asked for."""
        return self.cancel_event.is_set()


class Task(Generic[T]):
    """A function to run on a lane, and what to do on the GUI thread when it ends.

    ``fn(library, job)`` runs on the lane's thread. ``on_success(result)`` runs on the GUI
    thread. A :class:`NbshelfError` goes to ``on_failure(err)``, or, without one, to the
    runner's ``failed`` signal (the window shows it). Any other exception is a bug and goes
    to ``sys.excepthook`` (the crash dialog and the log). ``on_finished()`` always runs last.
    """

    def __init__(
        self,
        runner: TaskRunner,
        fn: Callable[[Library, Job], T],
        *,
        lane: Lane = Lane.READ,
        label: str = "",
        urgent: bool = False,
    ) -> None:
        self.runner = runner
        self.fn = fn
        self.lane = lane
        self.urgent = urgent
        self.job = Job(label or getattr(fn, "__name__", "task"))
        self._success: Callable[[T], None] | None = None
        self._failure: Callable[[NbshelfError], None] | None = None
        self._finished: Callable[[], None] | None = None
        self._progress: Callable[[Any], None] | None = None
        self._changes: Changes | Callable[[T], Changes] | None = None
        self._shown_serial = 0

    def on_success(self, callback: Callable[[T], None]) -> Task[T]:
        """Call ``callback(result)`` on the GUI thread when ``fn`` returns."""
        self._success = callback
        return self

    def on_failure(self, callback: Callable[[NbshelfError], None]) -> Task[T]:
        """Call ``callback(err)`` on the GUI thread when ``fn`` raises an ``NbshelfError``."""
        self._failure = callback
        return self

    def on_finished(self, callback: Callable[[], None]) -> Task[T]:
        """Call ``callback()`` on the GUI thread after the task ends, however it ends."""
        self._finished = callback
        return self

    def with_progress(self, callback: Callable[[Any], None]) -> Task[T]:
        """Call ``callback(value)`` on the GUI thread with the latest progress, throttled."""
        self._progress = callback
        return self

    def with_changes(self, changes: Changes | Callable[[T], Changes]) -> Task[T]:
        """Broadcast these changes (or ``changes(result)``) after a success."""
        self._changes = changes
        return self

    def start(self) -> Job:
        """Queue the task on its lane; returns its job (to cancel it)."""
        self.runner._submit(self)
        return self.job

    def _show_progress(self) -> None:
        serial, value = self.job._latest
        if self._progress is not None and serial != self._shown_serial:
            self._shown_serial = serial
            self._progress(value)


Opener = Callable[[], Library]


class _Lane(QThread):
    """One worker thread owning one ``Library``; runs queued tasks one at a time.

    Urgent tasks (what the user is looking at: the list's rows) go before the others; tasks
    of equal urgency run in the order they came. Stopping goes before everything.
    """

    def __init__(self, lane: Lane, opener: Opener, runner: TaskRunner) -> None:
        super().__init__()
        self.lane = lane
        self.setObjectName(f"nbshelf-{lane.value}")
        self._opener = opener
        self._runner = runner
        self._queue: queue.PriorityQueue[tuple[int, int, Task[Any] | _Reopen | None]] = (
            queue.PriorityQueue()
        )
        self._serial = itertools.count()

    def submit(self, task: Task[Any] | _Reopen | None) -> None:
        if task is None:
            priority = -1
        else:
            priority = 0 if isinstance(task, _Reopen) or task.urgent else 1
        self._queue.put((priority, next(self._serial), task))

    def run(self) -> None:
        library: Library | None = None
        open_error: NbshelfError | None = None
        try:
            library = self._opener()
        except NbshelfError as err:
            open_error = err
        except Exception as err:
            # a full disk, a damaged catalog: told plainly; anything else is a bug in opening:
            # the crash dialog, and tasks get a clear error
            open_error = storage_error(err)
            if open_error is None:
                self._runner._post_bug(err)
                open_error = LibraryError(
                    f"the library could not be opened ({type(err).__name__})")
        self._runner._post(lambda: self._runner._lane_opened(self.lane, open_error))
        try:
            while (task := self._queue.get()[2]) is not None:
                if isinstance(task, _Reopen):
                    if library is None and isinstance(open_error, LibraryLocked):
                        library, open_error = self._reopen(open_error)
                    continue
                self._runner._execute(task, library, open_error)
        finally:
            if library is not None:
                library.close()

    def _reopen(self, locked: LibraryLocked) -> tuple[Library | None, NbshelfError | None]:
        """Try the opener again after ``locked``; tell the runner only when it opened."""
        try:
            library = self._opener()
        except LibraryLocked as err:
            return None, err  # still held: the window asks again later
        except NbshelfError as err:
            return None, err  # not locked any more, but not openable either: keep reading
        except Exception:  # noqa: BLE001 - as at the first open: reading only is safe
            log.warning("the library could not be reopened for writing", exc_info=True)
            return None, locked
        self._runner._post(lambda: self._runner._lane_opened(self.lane, None))
        return library, None


class TaskRunner(QObject):
    """Runs library work on the two lanes and brings results back to the GUI thread.

    Signals:
        changed(Changes): after an operation changed the library.
        failed(str, NbshelfError): a task's ``NbshelfError`` that it did not handle itself.
        opened(Lane, NbshelfError | None): a lane opened its library (or could not).
        activity(): the set of running tasks changed.
    """

    changed = Signal(object)
    failed = Signal(str, object)
    opened = Signal(object, object)
    activity = Signal()
    _deliver = Signal(object)

    def __init__(
        self, open_writer: Opener, open_reader: Opener, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._lanes = {
            Lane.WRITE: _Lane(Lane.WRITE, open_writer, self),
            Lane.READ: _Lane(Lane.READ, open_reader, self),
        }
        self._active: list[Task[Any]] = []
        self._closed = False
        self.open_errors: dict[Lane, NbshelfError | None] = {}
        self._deliver.connect(self._run_delivered, Qt.ConnectionType.QueuedConnection)
        self._timer = QTimer(self)
        self._timer.setInterval(PROGRESS_INTERVAL_MS)
        self._timer.timeout.connect(self._poll_progress)

    # -- GUI thread ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the write lane; the read lane starts once the writer has opened (created)
        the library, so that it finds a catalog to read."""
        self._lanes[Lane.WRITE].start()

    def task(
        self,
        fn: Callable[[Library, Job], T],
        *,
        lane: Lane = Lane.READ,
        label: str = "",
        urgent: bool = False,
    ) -> Task[T]:
        """A new task on this runner (same as ``Task(runner, fn, ...)``)."""
        return Task(self, fn, lane=lane, label=label, urgent=urgent)

    def broadcast(self, changes: Changes) -> None:
        """Tell every view what changed (also used for partial changes during a sync)."""
        if not self._closed:
            self.changed.emit(changes)

    def retry_writer(self) -> None:
        """Ask the write lane to open the library again if another program held it; when it
        can, ``opened(Lane.WRITE, None)`` fires and the app may write."""
        if not self._closed and isinstance(self.open_errors.get(Lane.WRITE), LibraryLocked):
            self._lanes[Lane.WRITE].submit(_REOPEN)

    @property
    def writable(self) -> bool:
        """False when the writer could not open (another process writes): the app reads only."""
        return self.open_errors.get(Lane.WRITE, LibraryError("not open yet")) is None

    def running(self) -> list[Job]:
        """Jobs queued or running, oldest first."""
        return [t.job for t in self._active]

    def cancel_all(self) -> None:
        """Ask every queued or running job to stop."""
        for task in self._active:
            task.job.cancel()

    def shutdown(self) -> None:
        """Cancel everything, let each lane close its library, and wait for the threads."""
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        self.cancel_all()
        for lane in self._lanes.values():
            lane.submit(None)
        for lane in self._lanes.values():
            if lane.isRunning():
                # Sync checks its cancel event between files: this returns promptly.
                lane.wait()

    def _submit(self, task: Task[Any]) -> None:
        if self._closed:
            # The app is closing: late requests (a timer's, a repaint's) have nobody to serve.
            log.debug("task %s dropped: the runner is shut down", task.job.label)
            task.job.cancel()
            task.job.done = True
            return
        self._active.append(task)
        if task._progress is not None and not self._timer.isActive():
            self._timer.start()
        self._lanes[task.lane].submit(task)
        self.activity.emit()

    @Slot(object)
    def _run_delivered(self, closure: Callable[[], None]) -> None:
        if not self._closed:
            closure()

    def _lane_opened(self, lane: Lane, error: NbshelfError | None) -> None:
        self.open_errors[lane] = error
        if lane is Lane.WRITE:
            self._lanes[Lane.READ].start()
        self.opened.emit(lane, error)

    def _poll_progress(self) -> None:
        watching = False
        for task in list(self._active):
            if task._progress is not None:
                watching = True
                task._show_progress()
        if not watching:
            self._timer.stop()

    def _finish(self, task: Task[Any], outcome: Callable[[], None]) -> None:
        task.job.done = True
        if task in self._active:
            self._active.remove(task)
        try:
            task._show_progress()  # the last value, so a finished bar shows where it ended
            outcome()
        finally:
            if task._finished is not None:
                task._finished()
            self.activity.emit()

    def _succeeded(self, task: Task[Any], result: Any) -> None:
        def outcome() -> None:
            if task._success is not None:
                task._success(result)
            changes = task._changes
            if changes is not None:
                self.broadcast(changes(result) if callable(changes) else changes)

        self._finish(task, outcome)

    def _failed(self, task: Task[Any], err: NbshelfError) -> None:
        def outcome() -> None:
            if task._failure is not None:
                task._failure(err)
            else:
                self.failed.emit(task.job.label, err)

        self._finish(task, outcome)

    def _crashed(self, task: Task[Any], err: BaseException) -> None:
        self._finish(task, lambda: sys.excepthook(type(err), err, err.__traceback__))

    def _cancelled(self, task: Task[Any]) -> None:
        self._finish(task, lambda: None)

    # -- worker threads --------------------------------------------------------------------

    def _post(self, closure: Callable[[], None]) -> None:
        """Run ``closure`` on the GUI thread (callable from any thread)."""
        self._deliver.emit(closure)

    def _post_bug(self, err: BaseException) -> None:
        self._post(lambda: sys.excepthook(type(err), err, err.__traceback__))

    def _execute(
        self, task: Task[Any], library: Library | None, open_error: NbshelfError | None
    ) -> None:
        if task.job.cancelled:
            self._post(lambda: self._cancelled(task))
            return
        try:
            if library is None:
                raise open_error or LibraryError("the library is not open")
            result = task.fn(library, task.job)
        except NbshelfError as err:
            # ``err`` is unbound when the block ends: the call takes it now.
            self._post(partial(self._failed, task, err))
        except Exception as err:
            # a full disk, a damaged catalog: the machine's failure, told like any other
            # known error; anything else is a bug in the task: the crash dialog shows it
            storage = storage_error(err)
            if storage is not None:
                self._post(partial(self._failed, task, storage))
                return
            log.debug("task %s raised a bug", task.job.label, exc_info=True)
            self._post(partial(self._crashed, task, err))
        else:
            self._post(lambda: self._succeeded(task, result))
