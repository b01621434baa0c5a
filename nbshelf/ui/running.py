"""Running a notebook from the app: the run dialog and the run in progress.

A run takes three steps so the library stays free while a kernel works: ``begin_run`` on the
write lane (the run is recorded), the kernel on a thread of its own (cell events come back
as queued signals), ``finish_run`` on the write lane (the outcome is recorded).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nbshelf.errors import NbshelfError
from nbshelf.library import Library
from nbshelf.notebook.doctext import output_text
from nbshelf.records import NotebookHealth
from nbshelf.run.parameters import Parameter
from nbshelf.run.presets import (
    Preset,
    form_text,
    form_value,
    load_preset,
    notebook_file,
    save_preset,
)
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
    notebook_id: int | None = None
    notebook_file: Path | None = None  # in its source, for the preset beside it


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
    file = notebook_file(lib.notebooks.folder_of(notebook_id), info.path)
    return RunSetup(info.title, kernels, chosen, missing, parameters, health, notebook_id, file)


class RunDialog(QDialog):
    """Kernel, parameters and what may stop the run, before it starts."""

    def __init__(self, setup: RunSetup, parent: QWidget | None = None, *,
                 runner: TaskRunner | None = None) -> None:
        super().__init__(parent)
        self._setup = setup
        self._runner = runner
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
        self.preset_note = QLabel()
        self.preset_note.setWordWrap(True)
        self.preset_note.setStyleSheet("color: palette(placeholder-text);")
        self.load_preset_button = QPushButton("Load Preset")
        self.load_preset_button.setToolTip(
            "Fill the form from this notebook's preset (the library's, else the "
            "NAME.params.yaml beside the notebook)")
        self.load_preset_button.clicked.connect(self.load_preset)
        self.save_preset_button = QPushButton("Save Preset")
        self.save_preset_button.setToolTip("Keep these values as this notebook's preset, in "
                                           "the library (never in the source folder)")
        self.save_preset_button.clicked.connect(self.save_preset)
        if self.fields and runner is not None and setup.notebook_id is not None:
            row = QHBoxLayout()
            row.addWidget(self.load_preset_button)
            row.addWidget(self.save_preset_button)
            row.addStretch(1)
            form.addRow("Preset", row)
            form.addRow("", self.preset_note)
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


    def form_values(self) -> dict[str, Any]:
        """Every field typed as ``nbshelf run -p`` types it (raises ``ParameterError``)."""
        return {
            name: form_value(Parameter(name, default, kind), self.fields[name].text())
            for name, default, kind in self._setup.parameters
        }

    def fill(self, values: dict[str, Any]) -> list[str]:
        """Put a preset's values in the form; return the names it has no field for."""
        kinds = {name: kind for name, _default, kind in self._setup.parameters}
        for name, value in values.items():
            if name in self.fields:
                field = self.fields[name]
                field.setText(form_text(value, kinds[name]))
                field.setModified(True)  # the run passes it like a value typed in
        return [name for name in values if name not in self.fields]

    def save_preset(self) -> None:
        """Write the form's values as the notebook's preset in the library (in the background)."""
        notebook_id = self._setup.notebook_id
        if self._runner is None or notebook_id is None:
            return
        try:
            values = self.form_values()
        except NbshelfError as err:
            self.preset_note.setText(f"Not saved: {err}")
            return
        self.preset_note.setText("Saving…")

        def save(lib: Library, _job: Job) -> Path:
            return save_preset(lib.root, notebook_id, values)

        self._runner.task(save, label="Save preset").on_success(
            lambda path: self.preset_note.setText(f"Saved to {path}")).on_failure(
            lambda err: self.preset_note.setText(f"Not saved: {err}")).start()

    def load_preset(self) -> None:
        """Fill the form from the notebook's preset (in the background)."""
        notebook_id, file = self._setup.notebook_id, self._setup.notebook_file
        if self._runner is None or notebook_id is None:
            return

        def load(lib: Library, _job: Job) -> Preset | None:
            return load_preset(lib.root, notebook_id, file)

        def loaded(preset: Preset | None) -> None:
            if preset is None:
                self.preset_note.setText("This notebook has no preset yet.")
                return
            unknown = self.fill(preset.values)
            text = f"Loaded {preset.path}"
            if unknown:
                text += f"; not parameters of this notebook: {', '.join(unknown)}"
            self.preset_note.setText(text)

        self._runner.task(load, label="Load preset").on_success(loaded).on_failure(
            lambda err: self.preset_note.setText(f"Not loaded: {err}")).start()


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
