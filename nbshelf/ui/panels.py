"""The Sources dialog and the Problems panel. Each reloads itself when told what changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nbshelf.errors import NbshelfError
from nbshelf.library import Library
from nbshelf.records import ProblemInfo, SourceInfo
from nbshelf.ui import fmt
from nbshelf.ui.models import RecordColumn, RecordModel
from nbshelf.ui.tasks import Changes, Job, Lane, TaskRunner

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


def status_text(source: SourceInfo) -> str:
    """The Status column: ``Available``, or ``Unavailable — last seen <when>`` (the last
    sync that reached it): an unplugged source's last sync is not news of it."""
    if source.available:
        return "Available"
    seen = fmt.ago(source.last_sync) if source.last_sync is not None else "never"
    return f"Unavailable — last seen {seen}"


def last_sync_text(source: SourceInfo) -> str:
    """The Last sync column: blank for an unavailable source (its Status says when)."""
    return fmt.ago(source.last_sync) if source.available else "—"


def removal_text(source: SourceInfo) -> str:
    """What removing ``source`` does, in plain words, for the confirmation."""
    notebooks = fmt.count(source.notebooks, "notebook")
    return (
        f"Remove the source “{source.name}” from your library?\n\n"
        f"Its {notebooks} leave the library: they are no longer listed or searchable, and "
        "the copies and versions nbshelf kept of them are deleted.\n\n"
        f"Nothing in the folder {source.path} is changed or deleted; you can add it again "
        "later."
    )


class SourcesDialog(QDialog):
    """Sources: add, sync, rename, relocate and remove them; last sync; unavailable ones
    greyed with when they were last seen.

    Adding and syncing go through the window's sync controller (signals); renaming,
    relocating and removing run here, on the write lane.

    Signals:
        add_requested(str): add this folder as a source (then sync it).
        sync_requested(object): sync these source names (None: all).
        message(str): something to say in the status bar.
    """

    add_requested = Signal(str)
    sync_requested = Signal(object)
    message = Signal(str)

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sources — nbshelf")
        self.resize(900, 380)
        self._runner = runner
        self._writable = False
        self._syncing = False
        self.remove_box: QMessageBox | None = None
        self.rename_box: QInputDialog | None = None
        self.model = RecordModel(
            [
                RecordColumn("Name", lambda s: s.name),
                RecordColumn("Status", status_text, source_status),
                RecordColumn("Notebooks", lambda s: f"{s.notebooks:,}"),
                RecordColumn("Last sync", last_sync_text,
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
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        layout.addWidget(self.view, 1)
        self.empty = QLabel("No sources yet: add a folder to start your library.")
        self.empty.setStyleSheet(MUTED)
        layout.addWidget(self.empty)
        row = QHBoxLayout()
        self.add_button = _button("&Add Folder…", self.pick_folder,
                                  "Add a folder, share or USB stick as a source")
        self.sync_button = _button("S&ync Now", self._sync_clicked,
                                   "Sync the selected source (or all of them)")
        self.rename_button = _button("Re&name…", self.ask_rename,
                                     "Give the selected source another name (F2)")
        self.relocate_button = _button(
            "Re&locate…", self.ask_relocate,
            "The source's folder moved (a USB stick mounted elsewhere): point it there")
        self.remove_button = _button("&Remove…", self.ask_remove,
                                     "Take the selected source out of the library (Delete)")
        for button in (self.add_button, self.sync_button, self.rename_button,
                       self.relocate_button, self.remove_button):
            row.addWidget(button)
        row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        row.addWidget(buttons)
        layout.addLayout(row)
        self._add_key(QKeySequence(Qt.Key.Key_F2), self.ask_rename)
        self._add_key(QKeySequence(QKeySequence.StandardKey.Delete), self.ask_remove)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        runner.changed.connect(self._on_changes)
        self.refresh()

    def _add_key(self, keys: QKeySequence, slot: Callable[[], object]) -> None:
        action = QAction(self.view)
        action.setShortcut(keys)
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        action.triggered.connect(slot)
        self.view.addAction(action)

    def set_writable(self, writable: bool, syncing: bool) -> None:
        """Enable what the library allows now."""
        self._writable = writable
        self._syncing = syncing
        self._update_buttons()

    def selected(self) -> SourceInfo | None:
        """The source selected in the list, if any."""
        rows = self.view.selectionModel().selectedRows()
        return self.model.record(rows[0].row()) if rows else None

    def select(self, name: str) -> None:
        """Select the source called ``name`` (when listed)."""
        for row, source in enumerate(self.model.records()):
            if source.name == name:
                self.view.selectRow(row)
                return

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

    # -- rename, relocate, remove ---------------------------------------------------------

    def ask_rename(self) -> None:
        """Ask for the selected source's new name, then rename it."""
        source = self.selected()
        if source is None or not self._writable:
            return
        box = QInputDialog(self)
        box.setWindowTitle("Rename Source — nbshelf")
        box.setLabelText(f"New name for “{source.name}”:")
        box.setTextValue(source.name)
        box.textValueSelected.connect(lambda text: self.rename(source.name, text))
        self.rename_box = box
        box.open()

    def rename(self, name: str, new_name: str) -> None:
        """Rename the source ``name`` (write lane)."""
        if not new_name.strip() or new_name.strip() == name:
            return
        self._write(
            lambda lib, _job: lib.rename_source(name, new_name), "Rename a source",
            lambda info: f"“{name}” is now called “{info.name}”.",
        )

    def ask_relocate(self) -> None:
        """Ask for the folder the selected source now lives in, then point it there."""
        source = self.selected()
        if source is None or not self._writable:
            return
        folder = QFileDialog.getExistingDirectory(
            self, f"Where is “{source.name}” now?", "", QFileDialog.Option.ShowDirsOnly
        )
        if folder:
            self.relocate(source.name, folder)

    def relocate(self, name: str, folder: str) -> None:
        """Point the source ``name`` at ``folder`` (write lane), then sync it."""

        def done(info: SourceInfo) -> str:
            self.sync_requested.emit([info.name])
            return f"“{info.name}” now reads from {info.path}; syncing it."

        self._write(lambda lib, _job: lib.relocate_source(name, folder),
                    "Relocate a source", done)

    def ask_remove(self) -> None:
        """Ask, in plain words, before removing the selected source."""
        source = self.selected()
        if source is None or not self._writable:
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Remove Source — nbshelf")
        box.setText(removal_text(source))
        remove = box.addButton("Remove Source", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep It", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        remove.clicked.connect(lambda: self.remove(source.name))
        self.remove_box = box
        box.open()

    def remove(self, name: str) -> None:
        """Take the source ``name`` out of the library (write lane)."""
        self._write(lambda lib, _job: lib.remove_source(name), "Remove a source",
                    lambda _freed: f"Removed the source “{name}”; its folder was not touched.")

    def _write(self, fn: Callable[[Library, Job], Any], label: str,
               said: Callable[[Any], str]) -> None:
        def failed(err: NbshelfError) -> None:
            QMessageBox.warning(self, f"{label} — nbshelf", _sentence(str(err)))

        self._runner.task(fn, lane=Lane.WRITE, label=label).on_success(
            lambda result: self.message.emit(said(result))
        ).on_failure(failed).with_changes(
            Changes(notebooks=True, sources=True, problems=True)
        ).start()

    # -- internals -------------------------------------------------------------------------

    def _sync_clicked(self) -> None:
        source = self.selected()
        self.sync_requested.emit([source.name] if source is not None else None)

    def _update_buttons(self) -> None:
        chosen = self.selected()
        has_rows = self.model.rowCount() > 0
        self.add_button.setEnabled(self._writable)
        self.sync_button.setEnabled(
            self._writable and not self._syncing and has_rows)
        editable = self._writable and chosen is not None and chosen.kind != "opened"
        self.rename_button.setEnabled(editable)
        self.relocate_button.setEnabled(editable and chosen is not None
                                        and chosen.kind not in ("demo", "pack"))
        self.remove_button.setEnabled(self._writable and chosen is not None)

    def _show(self, sources: list[SourceInfo]) -> None:
        chosen = self.selected()
        self.model.set_records(sources)
        if chosen is not None:
            self.select(chosen.name)
        self.empty.setVisible(not sources)
        self._update_buttons()

    def _on_changes(self, changes: Changes) -> None:
        if changes.sources and self.isVisible():
            self.refresh()


def _sentence(text: str) -> str:
    """A core message (``there is no folder at …``) as a sentence on its own."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _button(text: str, slot: Callable[[], object], tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    button.clicked.connect(slot)
    return button


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
