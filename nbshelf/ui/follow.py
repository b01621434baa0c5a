"""A window that another program holds read-only keeps up with it.

While ``nbshelf sync`` (or a second window) writes the library, this window's list, search
and panels would otherwise stay as they were when it opened, and it would stay read-only
after the other program closed. Every few seconds the read lane compares the library's
stamp (file metadata only: ``Library.stamp``); when the other program committed, the views
are told, as a sync's batches tell them; and the write lane tries the writer lock again.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from nbshelf.library import Library
from nbshelf.ui.tasks import Changes, Job, TaskRunner

#: How often a read-only window looks for the other program's commits and its lock (ms).
FOLLOW_EVERY_MS = 2000

Stamp = tuple[tuple[int, int] | None, ...]
#: What another program may have changed: every view reads itself again.
EVERYTHING = Changes(notebooks=True, sources=True, problems=True, updated_ids=None)


class WriterFollower(QObject):
    """Looks for another writer's commits and for the writer lock being free."""

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._stamp: Stamp | None = None
        self._unsettled = False  # changes seen that the views took in as partial only
        self._asking: Job | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(FOLLOW_EVERY_MS)
        self._timer.timeout.connect(self._look)

    @property
    def active(self) -> bool:
        """True while the window is read-only because another program writes."""
        return self._timer.isActive()

    def start(self) -> None:
        """Begin following (the writer lock was taken by another program)."""
        self._stamp, self._unsettled = None, False
        self._timer.start()
        self._look()  # the stamp to compare with

    def stop(self) -> None:
        """The window writes again: nothing more to follow; the views read everything again
        (the other program may have changed anything before it let go)."""
        if self._timer.isActive():
            self._timer.stop()
            self._runner.broadcast(EVERYTHING)

    def _look(self) -> None:
        if self._asking is not None and not self._asking.done:
            return  # the read lane is busy (a long search): the next tick asks again
        self._asking = (
            self._runner.task(_stamp_of, label="Look for changes")
            .on_success(self._compare)
            .on_failure(lambda _err: None)  # a stamp it cannot read: asked again next tick
            .start()
        )
        self._runner.retry_writer()

    def _compare(self, stamp: Stamp) -> None:
        before, self._stamp = self._stamp, stamp
        if before is None or not self.active:
            return
        if stamp != before:
            # as a sync's batches landing: new rows and counts shown, the open notebook kept
            self._unsettled = True
            self._runner.broadcast(
                Changes(notebooks=True, sources=True, updated_ids=frozenset(), partial=True)
            )
        elif self._unsettled:
            # quiet again (the other program's sync ended): everything may have changed,
            # as after a sync of the window's own
            self._unsettled = False
            self._runner.broadcast(EVERYTHING)


def _stamp_of(library: Library, _job: Job) -> Stamp:
    return library.stamp()
