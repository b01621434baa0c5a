"""The Sources dialog and the Problems panel. Each reloads itself when told what changed."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nbshelf.records import ProblemInfo, SourceInfo
from nbshelf.ui import fmt
from nbshelf.ui.models import RecordColumn, RecordModel
from nbshelf.ui.tasks import Changes, TaskRunner

MUTED = "color: palette(placeholder-text);"


def _table(model: RecordModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setShowGrid(False)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.horizontalHeader().setDefaultAlignment(
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    )
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return view


def source_status(source: SourceInfo) -> str:
    """``available``, or what an unavailable source means for the user."""
    return "available" if source.available else "unavailable — not plugged in or not mounted"


class SourcesDialog(QDialog):
    """Sources: add a folder, sync now, last sync time; unavailable sources greyed.

    The dialog only asks; the window's sync controller does the work.

    Signals:
        add_requested(str): add this folder as a source (then sync it).
        sync_requested(object): sync these source names (None: all).
    """

    add_requested = Signal(str)
    sync_requested = Signal(object)

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sources — nbshelf")
        self.resize(820, 360)
        self._runner = runner
        self.model = RecordModel(
            [
                RecordColumn("Name", lambda s: s.name),
                RecordColumn("Status", lambda s: "available" if s.available else "unavailable",
                             source_status),
                RecordColumn("Notebooks", lambda s: f"{s.notebooks:,}"),
                RecordColumn("Last sync", lambda s: fmt.ago(s.last_sync),
                             lambda s: fmt.when(s.last_sync) or "never synced"),
                RecordColumn("Folder", lambda s: s.path),
            ],
            muted=lambda s: not s.available,
        )
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Sources are folders nbshelf reads notebooks from: a network share, a USB stick, "
            "a local folder. They are only read, never changed. A source that is not plugged "
            "in stays in the library, greyed, with all its notebooks."
        )
        intro.setWordWrap(True)
        intro.setStyleSheet(MUTED)
        layout.addWidget(intro)
        self.view = _table(self.model)
        layout.addWidget(self.view, 1)
        self.empty = QLabel("No sources yet: add a folder to start your library.")
        self.empty.setStyleSheet(MUTED)
        layout.addWidget(self.empty)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add Folder…")
        self.add_button.clicked.connect(self.pick_folder)
        self.sync_button = QPushButton("Sync Now")
        self.sync_button.clicked.connect(self._sync_clicked)
        row.addWidget(self.add_button)
        row.addWidget(self.sync_button)
        row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        row.addWidget(buttons)
        layout.addLayout(row)
        runner.changed.connect(self._on_changes)
        self.refresh()

    def set_writable(self, writable: bool, syncing: bool) -> None:
        """Enable what the library allows now."""
        self.add_button.setEnabled(writable)
        self.sync_button.setEnabled(writable and not syncing and self.model.rowCount() > 0)

    def refresh(self) -> None:
        """Read the sources again (read lane)."""
        self._runner.task(lambda lib, _job: lib.list_sources(), label="List sources").on_success(
            self._show
        ).start()

    def pick_folder(self) -> None:
        """Ask for a folder with the folder picker and add it."""
        folder = QFileDialog.getExistingDirectory(
            self, "Add a folder or USB stick", "", QFileDialog.Option.ShowDirsOnly
        )
        if folder:
            self.add_requested.emit(folder)

    def _sync_clicked(self) -> None:
        rows = {i.row() for i in self.view.selectionModel().selectedRows()}
        names = [self.model.record(r).name for r in sorted(rows)]
        self.sync_requested.emit(names or None)

    def _show(self, sources: list[SourceInfo]) -> None:
        self.model.set_records(sources)
        self.empty.setVisible(not sources)
        self.sync_button.setEnabled(self.add_button.isEnabled() and bool(sources))

    def _on_changes(self, changes: Changes) -> None:
        if changes.sources and self.isVisible():
            self.refresh()


class ProblemsPanel(QWidget):
    """Files that could not be read, schema warnings and unreachable sources.

    Signals:
        counted(int): how many problems there are, after each reload.
    """

    counted = Signal(int)

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self.model = RecordModel(
            [
                RecordColumn("Source", lambda p: p.source),
                RecordColumn("File", lambda p: p.path or "(the whole source)"),
                RecordColumn("Kind", lambda p: p.kind),
                RecordColumn("What is wrong", lambda p: p.message),
            ]
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        self.summary = QLabel()
        self.summary.setStyleSheet(MUTED)
        self.view = _table(self.model)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        copy = QPushButton("Copy")
        copy.setToolTip("Copy the selected problems (or all) as text")
        copy.clicked.connect(self.copy)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(copy)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self.view.addAction(self._copy_action())
        runner.changed.connect(self._on_changes)

    def _copy_action(self) -> QAction:
        action = QAction("Copy", self.view)
        action.setShortcut(QKeySequence.StandardKey.Copy)
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        action.triggered.connect(self.copy)
        return action

    def refresh(self) -> None:
        """Read the problems again (read lane)."""
        self._runner.task(lambda lib, _job: lib.problems(), label="List problems").on_success(
            self._show
        ).start()

    def copy(self) -> None:
        """Put the selected problems (all if none is selected) on the clipboard as text."""
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        records = [self.model.record(r) for r in rows] or self.model.records()
        text = "\n".join(
            f"{p.source}\t{p.path}\t{p.kind}\t{p.message}" for p in records if p is not None
        )
        QGuiApplication.clipboard().setText(text)

    def _show(self, problems: list[ProblemInfo]) -> None:
        self.model.set_records(problems)
        if problems:
            self.summary.setText(
                f"{fmt.count(len(problems), 'problem')}. Each file listed was skipped or "
                "catalogued with a warning; the rest of its source synced normally."
            )
        else:
            self.summary.setText("No problems: every file in every source reads as a notebook.")
        self.counted.emit(len(problems))

    def _on_changes(self, changes: Changes) -> None:
        if changes.problems and not changes.partial:
            self.refresh()
