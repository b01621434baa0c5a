"""Work for the rows on screen: fetched from the read lane as the user scrolls and filters.

Some of what the library list shows is too costly to read for every row of a list of 50,000
(a notebook's health before the full check, a search hit's snippets). :class:`OnScreenRows`
asks for it for the rows on screen, and a margin below them, once a scroll or a list update
has settled: a batch at a time, one request at a time, so its cost follows what the user
looks at, not the size of the list. Subclasses say which rows still need it, what the read
lane runs for a batch, and what to do with the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QTableView

from nbshelf.errors import NbshelfError
from nbshelf.library import Library
from nbshelf.ui.models import LibraryModel
from nbshelf.ui.tasks import Job, TaskRunner

log = logging.getLogger(__name__)

#: A scroll or a list update settles this long (ms) before the rows on screen are looked at.
SETTLE_MS = 120
#: Rows below the screen fetched with it, so that a short scroll finds them filled in.
MARGIN = 20

Work = Callable[[Library, Job], Any]


class OnScreenRows(QObject):
    """Fetches something for the rows on screen that lack it, while active.

    Subclasses implement :meth:`_needs`, :meth:`_work` and :meth:`_landed`.

    Args:
        runner: the task runner (its read lane does the work).
        model: the list's model (ids by row).
        view: the list (which rows are on screen; its scrolling pokes).
        label: the tasks' label.
        settle_ms: how long a scroll or a list update settles before a request.
        batch: the most ids one request asks for (None: all the rows on screen); the next
            batch follows as soon as a request ends, top rows first.
        urgent: the requests go before the read lane's other waiting work (see ``Task``).
    """

    def __init__(
        self,
        runner: TaskRunner,
        model: LibraryModel,
        view: QTableView,
        *,
        label: str,
        settle_ms: int = SETTLE_MS,
        batch: int | None = None,
        urgent: bool = False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner, self._model, self._view = runner, model, view
        self._label, self._batch, self._urgent = label, batch, urgent
        self._active = False
        self._tried: set[int] = set()  # asked once since the last restart, whatever the answer
        self._job: Job | None = None
        # The rows on screen changed while a request ran; the last request left rows on
        # screen for the next batch.
        self._again = self._more = False
        self._serial = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(settle_ms)
        self._timer.timeout.connect(self._request)
        model.loaded.connect(self.poke)  # new rows, a filter or a sort
        view.verticalScrollBar().valueChanged.connect(self.poke)

    @property
    def active(self) -> bool:
        """True while rows on screen are being filled in."""
        return self._active

    @property
    def busy(self) -> bool:
        """True while a request is queued or running."""
        return self._job is not None

    def set_active(self, on: bool) -> None:
        """Start filling in the rows on screen, or stop."""
        if on != self._active:
            self._active = on
            self.restart()

    def restart(self) -> None:
        """Forget which rows were asked for, and drop the answer of a request on its way (what
        it asked is out of date): ask again for the rows on screen, if active."""
        self._serial += 1
        self._tried.clear()
        self._more = False
        if self._job is not None:
            self._job.cancel()
        if self._active:
            self.poke()
        else:
            self._timer.stop()

    def retry(self) -> None:
        """Ask again for the rows that were asked for and still lack it (their notebooks
        changed), keeping the answer on its way."""
        self._tried.clear()
        self.poke()

    def poke(self) -> None:
        """The rows on screen may have changed: look at them soon."""
        if self._active:
            self._timer.start()

    # -- what subclasses say ---------------------------------------------------------------

    def _needs(self, notebook_id: int) -> bool:
        """True when this notebook's row still lacks what this fetches (GUI thread)."""
        raise NotImplementedError

    def _work(self, ids: list[int]) -> Work:
        """What the read lane runs for these ids: ``fn(library, job) -> answer``. It runs on
        another thread: take copies of what it needs, here."""
        raise NotImplementedError

    def _landed(self, answer: Any) -> None:
        """Show the answer of a request still current (GUI thread)."""
        raise NotImplementedError

    def _failed(self, err: NbshelfError) -> None:
        """A request failed; by default the rows stay as they are (and are not asked again
        until the next restart)."""
        log.info("%s failed: %s", self._label, err)

    # -- internals -------------------------------------------------------------------------

    def _on_screen(self) -> list[int]:
        """Ids of the rows on screen (and a few below) that need it and were not asked for."""
        rows = self._model.rowCount()
        if not rows:
            return []
        first = max(0, self._view.rowAt(0))
        last = self._view.rowAt(self._view.viewport().height() - 1)
        last = rows - 1 if last < 0 else min(rows - 1, last + MARGIN)
        ids = (self._model.notebook_id(row) for row in range(first, last + 1))
        return [i for i in ids if i is not None and i not in self._tried and self._needs(i)]

    def _request(self) -> None:
        if not self._active:
            return
        if self._job is not None:
            self._again = True  # one request at a time: the next one when this one ends
            return
        ids = self._on_screen()
        self._more = self._batch is not None and len(ids) > self._batch
        if self._batch is not None:
            ids = ids[: self._batch]
        if not ids:
            return
        self._tried.update(ids)
        serial = self._serial
        self._job = (
            self._runner.task(self._work(ids), label=self._label, urgent=self._urgent)
            .on_success(lambda answer: self._arrived(serial, answer))
            .on_failure(self._failed)
            .on_finished(self._finished)
            .start()
        )

    def _arrived(self, serial: int, answer: Any) -> None:
        if serial == self._serial:  # else a restart came since: the answer is out of date
            self._landed(answer)

    def _finished(self) -> None:
        self._job = None
        if self._again:
            self._again = False
            self.poke()
        elif self._more:
            self._request()  # the rest of the screen: nothing to wait for
