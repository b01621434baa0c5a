"""Sync and add-source, as the window starts them: one sync at a time, progress, cancel."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal

from nbshelf.errors import NbshelfError
from nbshelf.records import SourceInfo, SyncReport
from nbshelf.sources.sync import SyncProgress
from nbshelf.ui import fmt
from nbshelf.ui.tasks import Changes, Job, Lane, TaskRunner

#: While a sync copies, the list is told to pick up new notebooks at most this often (s).
PARTIAL_EVERY = 2.0


def describe(progress: SyncProgress) -> str:
    """A progress line a user reads at a glance."""
    if progress.phase == "scan":  # while walking, ``total`` counts the files found so far
        return f"Syncing {progress.source}: looking for notebooks ({progress.total:,} found)"
    if progress.phase == "index":  # the copy is done; the index takes in the last rounds
        committed = progress.searchable
        if committed is not None and committed < progress.scanned == progress.total:
            # every document written; the index's commit (its segments) still to come
            return f"Making notebooks searchable: saving the index of {progress.total:,}…"
        return f"Making notebooks searchable: {progress.scanned:,} of {progress.total:,}"
    if progress.phase == "learn":  # every notebook is in and searchable: only the fit is left
        return "Learning which notebooks are alike; the list and search are ready"
    text = (
        f"Syncing {progress.source}: {progress.scanned:,} of {progress.total:,} checked, "
        f"{progress.copied:,} copied"
    )
    if progress.searchable is not None:  # what has landed can be searched already
        text += f"; {progress.searchable:,} searchable"
    return text


def summary(report: SyncReport) -> str:
    """One sentence for the status bar after a sync."""
    if report.cancelled:
        return "Sync cancelled; the next sync picks up where this one stopped."
    parts = [f"{n:,} {word}" for n, word in (
        (report.added, "added"), (report.updated, "updated"), (report.removed, "removed")
    ) if n]
    text = "Sync finished: " + (", ".join(parts) if parts else "nothing new")
    if report.unavailable:
        text += f"; not reachable: {', '.join(report.unavailable)}"
    if report.problems:
        text += f"; {fmt.count(len(report.problems), 'problem')}"
    return text + "."


class SyncController(QObject):
    """Starts syncs and source additions on the write lane and reports on them.

    Signals:
        started(): a sync began.
        progressed(str, int, int): text, done, total (total 0: not known yet).
        finished(str, object): the summary and the ``SyncReport`` (None when it failed).
        message(str): something to show in the status bar.
    """

    started = Signal()
    progressed = Signal(str, int, int)
    finished = Signal(str, object)
    message = Signal(str)

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._job: Job | None = None
        self._queued: set[str] | None = None
        self._queued_all = False
        self._last_partial = 0.0
        self._copied_at_partial = 0

    @property
    def running(self) -> bool:
        """True while a sync is queued or running."""
        return self._job is not None

    def sync(self, names: list[str] | None = None) -> None:
        """Sync these sources (None: all). While one runs, the request waits its turn."""
        if self._job is not None:
            if names is None:
                self._queued_all = True
            else:
                self._queued = (self._queued or set()) | set(names)
            return
        self._last_partial = time.monotonic()
        self._copied_at_partial = 0
        chosen = list(names) if names else None
        self._job = (
            self._runner.task(
                lambda lib, job: lib.sync(chosen, progress=job.progress, cancel=job.cancel_event),
                lane=Lane.WRITE,
                label="Sync",
            )
            .with_progress(self._progress)
            .on_success(self._done)
            .on_failure(self._failed)
            .on_finished(self._next)
            .with_changes(
                lambda report: Changes(
                    notebooks=True,
                    sources=True,
                    problems=True,
                    updated_ids=frozenset(report.changed_ids) | frozenset(report.removed_ids),
                )
            )
            .start()
        )
        self.started.emit()

    def cancel(self) -> bool:
        """Stop the running sync (and forget queued ones); False when none runs."""
        if self._job is None:
            return False
        self._queued, self._queued_all = None, False
        self._job.cancel()
        self.message.emit("Cancelling the sync…")
        return True

    def add_folder(self, folder: str) -> None:
        """Add ``folder`` as a source (or relocate the missing source it is), then sync it."""

        def added(source: SourceInfo) -> None:
            if source.relocated_from:
                self.message.emit(
                    f"“{source.name}” was at {source.relocated_from}; it now reads from "
                    f"{source.path}."
                )
            else:
                self.message.emit(f"Added the source “{source.name}”.")
            self.sync([source.name])

        self._runner.task(
            lambda lib, _job: lib.add_source(folder), lane=Lane.WRITE, label="Add a source"
        ).on_success(added).with_changes(Changes(sources=True, problems=True)).start()

    def _progress(self, progress: SyncProgress) -> None:
        # a fit's steps are uneven (reading is counted, the fit itself is not): a busy bar
        total = progress.total if progress.phase not in ("scan", "learn") else 0
        self.progressed.emit(describe(progress), progress.scanned, total)
        now = time.monotonic()
        if progress.copied > self._copied_at_partial and now - self._last_partial >= PARTIAL_EVERY:
            # Batches commit as the sync goes: let the list show what has landed so far.
            self._last_partial, self._copied_at_partial = now, progress.copied
            self._runner.broadcast(
                Changes(notebooks=True, sources=True, updated_ids=frozenset(), partial=True)
            )

    def _done(self, report: SyncReport) -> None:
        self._job = None
        self.finished.emit(summary(report), report)

    def _failed(self, err: NbshelfError) -> None:
        self._job = None
        self.finished.emit(f"Sync failed: {err}", None)

    def _next(self) -> None:
        self._job = None
        if self._queued_all or self._queued:
            names = None if self._queued_all else sorted(self._queued or ())
            self._queued, self._queued_all = None, False
            self.sync(names)
