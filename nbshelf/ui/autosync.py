"""Sync without being asked: at an interval for folders and shares, and when a source's folder
appears (a USB stick plugged in, a share mounted).

Whether a folder is there is asked on a thread of its own, never on the GUI thread nor on a
library lane: a dead network mount can take seconds to answer ``stat``, and neither the window
nor the list may wait for it.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QTimer, Signal

from nbshelf.library import Library
from nbshelf.records import SourceInfo
from nbshelf.sources import present
from nbshelf.ui.syncing import SyncController
from nbshelf.ui.tasks import Changes, Job, Lane, TaskRunner

#: How often the folders of unavailable sources are looked for (seconds).
POLL_SECONDS = 3.0
#: Sources the interval leaves alone: the demo never changes, opened files have no folder.
NOT_ON_INTERVAL = {"demo", "opened"}


class SourceWatcher(QObject):
    """Looks every ``interval`` seconds, on its own thread, for the folders it is given.

    Signals:
        appeared(str): the folder of this source is there now (it stops being watched).
    """

    appeared = Signal(str)

    def __init__(self, interval: float | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval = POLL_SECONDS if interval is None else interval
        self._watched: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, sources: dict[str, str]) -> None:
        """Watch these sources (name → folder) instead of the ones watched so far."""
        with self._lock:
            self._watched = dict(sources)
        if sources and self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(
                target=self._run, name="nbshelf-source-watch", daemon=True
            )
            self._thread.start()

    def watched(self) -> dict[str, str]:
        """The sources being looked for."""
        with self._lock:
            return dict(self._watched)

    def stop(self) -> None:
        """End the thread (it may be in the middle of a slow ``stat``: not waited for long)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for name, path in self.watched().items():
                if self._stop.is_set():
                    return
                if present(path):  # an empty mount point is not back yet
                    with self._lock:
                        if self._watched.get(name) != path:
                            continue  # the list changed meanwhile
                        del self._watched[name]
                    self.appeared.emit(name)  # queued to the GUI thread


class AutoSync(QObject):
    """Starts syncs on its own: every ``sync_interval_minutes`` (a library setting; 0 = off)
    and as soon as an unavailable source's folder appears.

    Signals:
        message(str): something to tell the user in the status bar.
    """

    message = Signal(str)

    def __init__(
        self,
        runner: TaskRunner,
        syncer: SyncController,
        *,
        poll_seconds: float | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._syncer = syncer
        self._sources: list[SourceInfo] = []
        self.interval_minutes = 0
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.tick)
        self.watcher = SourceWatcher(poll_seconds, self)
        self.watcher.appeared.connect(self._appeared)
        runner.opened.connect(self._opened)
        runner.changed.connect(self._on_changes)

    def stop(self) -> None:
        """No more syncs of its own (the window is closing)."""
        self.timer.stop()
        self.watcher.stop()

    def tick(self) -> None:
        """The interval is up: sync the folder sources that are there now."""
        names = [
            s.name for s in self._sources if s.available and s.kind not in NOT_ON_INTERVAL
        ]
        if names and self._runner.writable:
            self._syncer.sync(names)

    def refresh(self) -> None:
        """Read the sources again (read lane) and look for the unavailable ones."""
        self._runner.task(
            lambda lib, _job: lib.list_sources(), label="Watch sources"
        ).on_success(self._show_sources).start()

    def _opened(self, lane: Lane, error: object) -> None:
        if lane is not Lane.WRITE or error is not None:
            return

        def interval(lib: Library, _job: Job) -> int:
            return int(lib.settings.get("sync_interval_minutes"))

        self._runner.task(interval, label="Read the sync interval").on_success(
            self._set_interval
        ).start()
        self.refresh()

    def _set_interval(self, minutes: int) -> None:
        self.interval_minutes = max(0, minutes)
        if self.interval_minutes:
            self.timer.start(self.interval_minutes * 60_000)
        else:
            self.timer.stop()

    def _show_sources(self, sources: list[SourceInfo]) -> None:
        self._sources = sources
        if not self._runner.writable:
            return
        watched = self.watcher.watched()
        self.watcher.watch(
            {s.name: s.path for s in sources if not s.available and s.kind != "opened"}
        )
        # A folder that came back between two looks of the watcher: this read saw it first.
        for source in sources:
            if source.available and source.name in watched:
                self._appeared(source.name)

    def _appeared(self, name: str) -> None:
        if not self._runner.writable:
            return
        self.message.emit(f"“{name}” is back: syncing it.")
        self._syncer.sync([name])

    def _on_changes(self, changes: Changes) -> None:
        if changes.sources and not changes.partial:
            self.refresh()
