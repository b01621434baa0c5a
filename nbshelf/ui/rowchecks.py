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

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QTableView

from nbshelf.library import Library
from nbshelf.records import NotebookHealth
from nbshelf.ui.models import LibraryModel
from nbshelf.ui.onscreen import OnScreenRows, Work
from nbshelf.ui.tasks import TaskRunner


@dataclass(frozen=True)
class RowChecks:
    """What the read lane found for some rows."""

    health: list[NotebookHealth]
    markings: dict[int, str]


def check_rows(library: Library, ids: list[int]) -> RowChecks:
    """Health and markings of these notebooks (read lane)."""
    return RowChecks(library.health(ids=ids), library.markings(ids))


class RowChecker(OnScreenRows):
    """Checks the rows on screen that have no health yet, while it is active.

    The window turns it on once the first rows show and whenever a sync starts, and off when
    a full check's answer is in the list (an answer on its way from before is then dropped:
    the full check's is newer). A failed check leaves the rows as they are: the full check
    after the sync still comes, and says what is wrong.

    Signals:
        checked(): some rows' health and markings are in the list.
    """

    checked = Signal()

    def __init__(
        self, runner: TaskRunner, model: LibraryModel, view: QTableView,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(runner, model, view, label="Check rows", parent=parent)

    def _needs(self, notebook_id: int) -> bool:
        return notebook_id not in self._model.health

    def _work(self, ids: list[int]) -> Work:
        return lambda lib, _job: check_rows(lib, ids)

    def _landed(self, answer: RowChecks) -> None:
        self._model.add_health(answer.health)
        self._model.add_markings(answer.markings)
        self.checked.emit()
