"""Running a notebook from the app: the run dialog and the run in progress.

A run takes three steps so the library stays free while a kernel works: ``begin_run`` on the
write lane (the run is recorded), the kernel on a thread of its own (cell events come back
as queued signals), ``finish_run`` on the write lane (the outcome is recorded).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from nbshelf.errors import NbshelfError
from nbshelf.library import Library
from nbshelf.notebook.doctext import output_text
from nbshelf.records import NotebookHealth
from nbshelf.run.runbook import RunBook, RunPlan
from nbshelf.ui.tasks import Job, Lane, TaskRunner


@dataclass
class RunSetup:
    """What the run dialog shows: kernels, the one chosen, parameters, the pre-check."""

    title: str
    kernels: list[tuple[str, str]]  # (name, label)
    chosen: str | None
    missing_kernel: str | None
    parameters: list[tuple[str, str, str]]  # (name, default literal, type)
    health: NotebookHealth | None


def gather_setup(lib: Library, notebook_id: int) -> RunSetup:
    """Everything the dialog needs, read on the library's read lane."""
    info = lib.show(notebook_id)
    kernels = [(k.name, k.label) for k in lib.kernels()]
    try:
        chosen: str | None = lib.kernel_for(notebook_id).name
        missing = None
    except NbshelfError as err:
        chosen, missing = None, str(err)
    try:
        parameters = [(p.name, str(p.default), str(p.type)) for p in lib.parameters(notebook_id)]
    except NbshelfError:
        parameters = []
    health = next(iter(lib.health(notebook_id)), None)
    return RunSetup(info.title, kernels, chosen, missing, parameters, health)


class RunDialog(QDialog):
    """Kernel, parameters and what may stop the run, before it starts."""

    def __init__(self, setup: RunSetup, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Run “{setup.title}”")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.kernel = QComboBox()
        for name, label in setup.kernels:
            self.kernel.addItem(label, name)
        if setup.chosen is not None:
            self.kernel.setCurrentIndex(max(0, self.kernel.findData(setup.chosen)))
        form.addRow("Kernel", self.kernel)
        self.fields: dict[str, QLineEdit] = {}
        for name, default, kind in setup.parameters:
            field = QLineEdit(default)
            field.setToolTip(f"{kind}; the notebook's default is {default}")
            self.fields[name] = field
            form.addRow(name, field)
        layout.addLayout(form)
        for text in _warnings(setup):
            note = QLabel(text)
            note.setWordWrap(True)
            note.setStyleSheet("color: #8a4b00;")
            layout.addWidget(note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Run")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def choices(self) -> tuple[str | None, dict[str, str]]:
        """The kernel chosen, and the parameters whose value differs from the default."""
        values = {name: field.text() for name, field in self.fields.items()
                  if field.isModified()}
        return self.kernel.currentData(), values


def _warnings(setup: RunSetup) -> list[str]:
    notes = []
    if setup.missing_kernel:
        notes.append(setup.missing_kernel)
    if setup.health is not None and setup.health.status not in ("ok", "never-run", "stale"):
        notes.append(f"Before you run it: {setup.health.detail}.")
        notes.extend(setup.health.messages)
    return notes


class RunController(QObject):
    """The run in progress (one at a time): starts it, streams its cells, stops it."""

    started = Signal(int, str)  # notebook id, kernel label
    cell = Signal(int, str)  # cell index (0-based), a line of text: what the cell printed
    finished = Signal(int, object, str)  # notebook id, RunResult or None, error text
    _from_thread = Signal(object, object, str)

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._cancel: threading.Event | None = None
        self._plan: RunPlan | None = None
        self._from_thread.connect(self._deliver)

    @property
    def running(self) -> bool:
        """True while a run is being prepared, runs, or is being recorded."""
        return self._cancel is not None

    def start(self, notebook_id: int, kernel: str | None, parameters: dict[str, str]) -> None:
        """Record the run, then run it on a thread of its own."""
        if self.running:
            return
        self._cancel = threading.Event()

        def begin(lib: Library, _job: Job) -> RunPlan:
            return lib.begin_run(notebook_id, kernel=kernel, parameters=parameters or None)

        self._runner.task(begin, lane=Lane.WRITE, label="Start run").on_success(
            self._launch).on_failure(lambda err: self._ended(notebook_id, None, str(err))).start()

    def stop(self) -> None:
        """Interrupt the running cell and end the run (its record keeps what ran)."""
        if self._cancel is not None:
            self._cancel.set()

    def _launch(self, plan: RunPlan) -> None:
        self._plan = plan
        self.started.emit(plan.notebook_id, plan.kernel.label)
        cancel = self._cancel or threading.Event()

        def work() -> None:
            try:
                result = RunBook.execute(plan, on_event=self._on_event, cancel=cancel)
            except NbshelfError as err:
                self._from_thread.emit(plan, None, str(err))
            except Exception as err:  # noqa: BLE001 - the run is over either way: record it
                self._from_thread.emit(plan, None, f"the run stopped: {err}")
            else:
                self._from_thread.emit(plan, result, "")

        threading.Thread(target=work, name="nbshelf-run", daemon=True).start()

    def _on_event(self, event: Any) -> None:
        """On the run's thread: turn a cell event into lines for the live view."""
        if event.index is None:
            return
        if event.kind == "started":
            self.cell.emit(event.index, f"▶ cell {event.index + 1}")
        elif event.kind == "output" and event.output:
            text = output_text(event.output).rstrip()
            if text:
                self.cell.emit(event.index, text)
        elif event.kind == "error":
            self.cell.emit(event.index, f"✖ cell {event.index + 1}: {event.error}")

    def _deliver(self, plan: RunPlan, result: Any, error: str) -> None:
        def finish(lib: Library, _job: Job) -> None:
            lib.finish_run(plan, result, error or None)

        self._runner.task(finish, lane=Lane.WRITE, label="Record run").on_finished(
            lambda: self._ended(plan.notebook_id, result, error)).start()

    def _ended(self, notebook_id: int, result: Any, error: str) -> None:
        self._cancel = None
        self._plan = None
        self.finished.emit(notebook_id, result, error)
