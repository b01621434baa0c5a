"""Running a notebook from the app: the run dialog and the run in progress.

A run takes three steps so the library stays free while a kernel works: ``begin_run`` on the
write lane (the run is recorded), the kernel on a thread of its own (cell events come back
as queued signals), ``finish_run`` on the write lane (the outcome is recorded).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
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

from nbshelf.errors import KernelMissing, NbshelfError
from nbshelf.library import Library
from nbshelf.notebook import normalize_language
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

log = logging.getLogger(__name__)


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
    language: str | None = None  # the language the notebook declares, as people write it
    fitting: list[str] | None = None  # the kernels of that language; None: any kernel fits


def gather_setup(lib: Library, notebook_id: int) -> RunSetup:
    """Everything the dialog needs, read on the library's read lane.

    The picker offers the kernels of the notebook's language, the one it would run in first;
    when there is none, ``missing_kernel`` says so in one sentence with what to do.
    """
    from nbshelf.run.kernels import kernels_for, language_label, no_kernel_sentence
    from nbshelf.run.runbook import written_in

    info = lib.show(notebook_id)
    installed = lib.kernels()
    kernels = [(k.name, k.label) for k in installed]
    language = normalize_language(written_in(lib.read_version(notebook_id)))
    fitting = [k.name for k in kernels_for(language, installed)]
    missing = None
    try:
        chosen: str | None = lib.kernel_for(notebook_id).name
    except KernelMissing:
        chosen = None
        missing = no_kernel_sentence(language, info.kernel)
    if chosen not in fitting:  # its own kernel by name, but of another language
        chosen = fitting[0] if fitting else None
    try:
        parameters = [(p.name, str(p.default), str(p.type)) for p in lib.parameters(notebook_id)]
    except NbshelfError:
        parameters = []
    health = next(iter(lib.health(notebook_id)), None)
    file = notebook_file(lib.notebooks.folder_of(notebook_id), info.path)
    return RunSetup(info.title, kernels, chosen, missing, parameters, health, notebook_id, file,
                    language_label(language), fitting if language else None)


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
        if setup.missing_kernel:  # why it cannot run here comes first, once
            refusal = QLabel(setup.missing_kernel)
            refusal.setObjectName("kernelRefusal")
            refusal.setWordWrap(True)
            refusal.setStyleSheet("color: #8a4b00; font-weight: 600;")
            layout.addWidget(refusal)
        form = QFormLayout()
        self.kernel = QComboBox()
        self.kernel.setAccessibleName("Kernel")
        form.addRow("&Kernel", self.kernel)
        # Insisting on another language's kernel is a deliberate, separate choice: never the
        # default, never what Enter does.
        self.run_anyway = QCheckBox("Run &anyway in a kernel of another language")
        code = f"Its {setup.language} code" if setup.language else "Its code"
        self.anyway_note = QLabel(f"{code} will most likely fail there, and the failed run "
                                  "is kept with this notebook's runs.")
        self.anyway_note.setWordWrap(True)
        self.anyway_note.setStyleSheet("color: #a40e26;")
        self.anyway_note.hide()
        self.run_anyway.toggled.connect(self.anyway_note.setVisible)
        self.run_anyway.toggled.connect(self._fill_kernels)  # after: it sizes the dialog
        form.addRow("", self.run_anyway)
        form.addRow("", self.anyway_note)
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
        self.run_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.run_button.setText("Run")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        others = [name for name, _label in setup.kernels if name not in self._fitting()]
        self.run_anyway.setVisible(not self._fitting() and bool(others))
        self._fill_kernels()

    def _fitting(self) -> list[str]:
        """The kernels of the notebook's language (all of them when it declares none)."""
        if self._setup.fitting is None:
            return [name for name, _label in self._setup.kernels]
        return self._setup.fitting

    @property
    def insists(self) -> bool:
        """True when the user chose to run it in a kernel of another language."""
        return self.run_anyway.isChecked() and not self._fitting()

    def _fill_kernels(self) -> None:
        """The picker: the kernels of the notebook's language, its own first; when there is
        none, nothing to pick and no Run, unless the user ticks "Run anyway"."""
        fitting = self._fitting()
        shown = fitting or ([name for name, _label in self._setup.kernels]
                            if self.run_anyway.isChecked() else [])
        labels = dict(self._setup.kernels)
        self.kernel.clear()
        for name in shown:
            self.kernel.addItem(labels.get(name, name), name)
        if not shown:
            self.kernel.setPlaceholderText(f"No {self._setup.language or 'suitable'} kernel "
                                           "is installed")
            self.kernel.setCurrentIndex(-1)
        else:
            chosen = self._setup.chosen
            self.kernel.setCurrentIndex(shown.index(chosen) if chosen in shown else 0)
        self.kernel.setEnabled(bool(shown))
        self.run_button.setEnabled(bool(shown))
        self.run_button.setText("Run Anyway" if self.insists else "Run")
        normal = bool(fitting)
        # Enter runs only a notebook in a kernel of its own language; else it cancels.
        self.run_button.setAutoDefault(normal)
        self.run_button.setDefault(normal)
        self.cancel_button.setDefault(not normal)
        self.adjustSize()  # the note under "Run anyway" comes and goes

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
    """What may stop the run, besides a missing kernel (the dialog says that first)."""
    notes: list[str] = []
    # health's kernel-missing detail and messages say the sentence above again, at length
    quiet = ("ok", "never-run", "stale", "kernel-missing")
    if setup.health is not None and setup.health.status not in quiet:
        detail = setup.health.detail.rstrip(". ")
        notes.append(f"Before you run it: {detail}.")
        notes.extend(m for m in setup.health.messages if m.rstrip(". ") != detail)
    return notes


class _LiveFeed:
    """Renders a run's cell events into page sections on a thread of its own.

    The run's thread only queues each event (it must keep reading the kernel); this thread
    takes what has queued up since its last turn, renders each changed cell once, and hands
    the sections on. A cell printing ten thousand lines costs a few renders, not ten thousand.
    """

    def __init__(self, notebook_id: int, language: str | None,
                 send: Callable[[int, int, str], None]) -> None:
        self._notebook_id = notebook_id
        self._language = language
        self._send = send
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="nbshelf-run-render",
                                        daemon=True)
        self._thread.start()

    def put(self, event: Any) -> None:
        """On the run's thread: queue one ``CellEvent``."""
        self._queue.put(event)

    def close(self, timeout: float = 10.0) -> None:
        """Render what is queued, then stop (waits up to ``timeout`` seconds)."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _work(self) -> None:
        from nbshelf.ui.liverun import LiveRender

        render = LiveRender(self._language)
        while True:
            batch = [self._queue.get()]
            with contextlib.suppress(queue.Empty):
                while True:
                    batch.append(self._queue.get_nowait())
            changed: dict[int, None] = {}  # in order, once each
            for event in batch:
                if event is not None:
                    changed[render.feed(event)] = None
            for key in changed:
                self._send(self._notebook_id, key, self._section(render, key))
            if None in batch:
                return

    @staticmethod
    def _section(render: Any, key: int) -> str:
        try:
            return str(render.section(key))
        except Exception:  # one output that cannot be shown must not end the live view
            log.exception("the live output of cell %d could not be rendered", key)
            return (f'<section class="nbs-cell" id="nbs-cell-{key}"><div class="nbs-placeholder">'
                    "this cell's output could not be shown</div></section>")


def _marking_of(lib: Library, data: bytes) -> str:
    """The notebook's marking, for the strips around its live output ("" for none)."""
    from nbshelf.notebook.reading import parse_notebook
    from nbshelf.publish.markings import notebook_marking

    try:
        raw = parse_notebook(data, "run.ipynb", validate=False).raw
    except NbshelfError:
        return ""
    return notebook_marking(raw, lib.settings.get("markings")) or ""


class RunController(QObject):
    """The run in progress (one at a time): starts it, streams its cells, stops it.

    Signals:
        started(int, str, str): notebook id, the kernel's display name, the notebook's
            marking.
        output(int, int, str): notebook id, the cell's index in the run record, the cell's
            section as the viewer shows it (HTML, rendered off the GUI thread). A cell's
            section comes again, whole, each time it changes.
        finished(int, object, str): notebook id, ``RunResult`` or None, error text.
    """

    started = Signal(int, str, str)
    output = Signal(int, int, str)
    finished = Signal(int, object, str)
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

    @property
    def notebook_id(self) -> int | None:
        """The notebook being run, once its run is recorded as started."""
        return self._plan.notebook_id if self._plan is not None else None

    def start(self, notebook_id: int, kernel: str | None, parameters: dict[str, str], *,
              any_language: bool = False) -> None:
        """Record the run, then run it on a thread of its own.

        ``any_language``: the user insists on a kernel of another language than the
        notebook's (else the library refuses it, and the run ends before it starts).
        """
        if self.running:
            return
        self._cancel = threading.Event()

        def begin(lib: Library, _job: Job) -> tuple[RunPlan, str]:
            plan = lib.begin_run(notebook_id, kernel=kernel, parameters=parameters or None,
                                 any_language=any_language)
            return plan, _marking_of(lib, plan.data)

        self._runner.task(begin, lane=Lane.WRITE, label="Start run").on_success(
            lambda begun: self._launch(*begun)).on_failure(
            lambda err: self._ended(notebook_id, None, str(err))).start()

    def stop(self) -> None:
        """Interrupt the running cell and end the run (its record keeps what ran)."""
        if self._cancel is not None:
            self._cancel.set()

    def _launch(self, plan: RunPlan, marking: str) -> None:
        self._plan = plan
        self.started.emit(plan.notebook_id, plan.kernel.display_name, marking)
        cancel = self._cancel or threading.Event()
        feed = _LiveFeed(plan.notebook_id, plan.kernel.language, self.output.emit)

        def work() -> None:
            try:
                result = RunBook.execute(plan, on_event=feed.put, cancel=cancel)
            except NbshelfError as err:
                feed.close()
                self._from_thread.emit(plan, None, str(err))
            except Exception as err:  # noqa: BLE001 - the run is over either way: record it
                feed.close()
                self._from_thread.emit(plan, None, f"the run stopped: {err}")
            else:
                feed.close()  # its last sections reach the window before the outcome
                self._from_thread.emit(plan, result, "")

        threading.Thread(target=work, name="nbshelf-run", daemon=True).start()

    def _deliver(self, plan: RunPlan, result: Any, error: str) -> None:
        def finish(lib: Library, _job: Job) -> None:
            lib.finish_run(plan, result, error or None)

        self._runner.task(finish, lane=Lane.WRITE, label="Record run").on_finished(
            lambda: self._ended(plan.notebook_id, result, error)).start()

    def _ended(self, notebook_id: int, result: Any, error: str) -> None:
        self._cancel = None
        self._plan = None
        self.finished.emit(notebook_id, result, error)
