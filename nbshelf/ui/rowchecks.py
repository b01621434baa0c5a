"""Health and markings for the rows on screen, while the full check has not landed.

The full health check runs on the write lane after the start-up sync (the writer keeps the
checks' cache), and each sync's new notebooks wait for the check after it: without this,
the list would show rows with empty Health and Marking cells for as long as a sync runs.
This fills in the rows on screen from the read lane as they appear: a screenful at a time,
so its cost follows what the user looks at, not the size of the library (checking a whole
50,000-notebook library here would compete with the sync for the interpreter, and the
writer would check it all again).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QTableView

from nbshelf.errors import NbshelfError
from nbshelf.library import Library
from nbshelf.records import NotebookHealth
from nbshelf.ui import features
from nbshelf.ui.models import LibraryModel
from nbshelf.ui.tasks import Job, TaskRunner

log = logging.getLogger(__name__)

#: A scroll or a list update settles this long (ms) before the rows on screen are checked.
CHECK_DELAY_MS = 120
#: Rows below the screen checked with it, so that a short scroll finds them filled in.
MARGIN = 20


@dataclass(frozen=True)
class RowChecks:
    """What the read lane found for some rows."""

    health: list[NotebookHealth]
    markings: dict[int, str]


def check_rows(library: Library, ids: list[int]) -> RowChecks:
    """Health and markings of these notebooks (read lane)."""
    health = library.health(ids=ids) if features.available("health") else []
    markings = features.markings(library, ids) if features.available("markings") else {}
    return RowChecks(health, markings)


class RowChecker(QObject):
    """Checks the rows on screen that have no health yet, while it is active.

    The window turns it on once the first rows show and whenever a sync starts, and off when
    a full check's answer is in the list.

    Signals:
        checked(): some rows' health and markings are in the list.
    """

    checked = Signal()

    def __init__(
        self, runner: TaskRunner, model: LibraryModel, view: QTableView,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._model = model
        self._view = view
        self._active = False
        self._tried: set[int] = set()  # asked once per activation, whatever the answer
        self._job: Job | None = None
        self._again = False
        self._serial = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(CHECK_DELAY_MS)
        self._timer.timeout.connect(self._check)
        model.loaded.connect(self.poke)  # a sync's batch landed, a filter or sort changed
        view.verticalScrollBar().valueChanged.connect(self.poke)

    @property
    def active(self) -> bool:
        """True while rows on screen are being filled in."""
        return self._active

    def set_active(self, on: bool) -> None:
        """Start filling in the rows on screen, or stop (a full check's answer is in)."""
        if on == self._active:
            return
        self._active = on
        self._serial += 1  # an answer on its way from before is dropped
        self._tried.clear()
        if on:
            self.poke()
        else:
            self._timer.stop()
            if self._job is not None:
                self._job.cancel()

    def poke(self) -> None:
        """The rows on screen may have changed: check them soon."""
        if self._active:
            self._timer.start()

    def _on_screen(self) -> list[int]:
        """Ids of the rows on screen (and a few below) with no health and not yet asked."""
        rows = self._model.rowCount()
        if not rows:
            return []
        first = max(0, self._view.rowAt(0))
        last = self._view.rowAt(self._view.viewport().height() - 1)
        last = rows - 1 if last < 0 else min(rows - 1, last + MARGIN)
        health = self._model.health
        ids = (self._model.notebook_id(row) for row in range(first, last + 1))
        return [i for i in ids if i is not None and i not in health and i not in self._tried]

    def _check(self) -> None:
        if not self._active:
            return
        if self._job is not None:
            self._again = True  # one request at a time: the next one when this one ends
            return
        ids = self._on_screen()
        if not ids:
            return
        self._tried.update(ids)
        serial = self._serial
        self._job = (
            self._runner.task(lambda lib, _job: check_rows(lib, ids), label="Check rows")
            .on_success(lambda found: self._landed(serial, found))
            .on_failure(lambda err: self._failed(err))
            .on_finished(self._finished)
            .start()
        )

    def _landed(self, serial: int, found: RowChecks) -> None:
        if serial != self._serial:
            return  # a full check answered meanwhile: it is newer
        self._model.add_health(found.health)
        self._model.add_markings(found.markings)
        self.checked.emit()

    @staticmethod
    def _failed(err: NbshelfError) -> None:
        # The full check after the sync still comes, and says what is wrong.
        log.info("checking the rows on screen failed: %s", err)

    def _finished(self) -> None:
        self._job = None
        if self._again:
            self._again = False
            self.poke()
