"""The main window: search bar, library list, notebook pane, sources, problems, status bar."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    QSettings,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nbshelf import __version__
from nbshelf.errors import LibraryLocked, NbshelfError, NotFound
from nbshelf.library import Library
from nbshelf.records import NotebookHealth, NotebookInfo, SyncReport
from nbshelf.ui import fmt, status
from nbshelf.ui.autosync import AutoSync
from nbshelf.ui.exporting import ExportDialog
from nbshelf.ui.follow import WriterFollower
from nbshelf.ui.hits import SnippetFetcher
from nbshelf.ui.models import HEADERS, Column, LibraryModel, QueryResult
from nbshelf.ui.packs_dialog import PacksDialog
from nbshelf.ui.pane import NotebookPane
from nbshelf.ui.panels import ProblemsPanel, SourcesDialog
from nbshelf.ui.publishing import (
    PublishChoice,
    PublishDialog,
    PublishSetup,
    gather_publish,
)
from nbshelf.ui.rowchecks import RowChecker
from nbshelf.ui.rowtitle import FolderDelegate, TitleDelegate
from nbshelf.ui.running import RunController, RunDialog, RunSetup, gather_setup
from nbshelf.ui.settings_dialog import LibrarySettings, SettingsDialog
from nbshelf.ui.shortcuts import ShortcutsDialog
from nbshelf.ui.sidebar import Sidebar
from nbshelf.ui.syncing import SyncController
from nbshelf.ui.tasks import Changes, Job, Lane, TaskRunner

log = logging.getLogger(__name__)

APP_NAME = "nbshelf"
#: Typing pauses this long (ms) before the list is filtered.
SEARCH_DELAY_MS = 200
#: Arrow keys through the list load the pane this long (ms) after the cursor stops.
SELECT_DELAY_MS = 60
#: The viewer is made this long (ms) after the first rows show, unless a notebook needs it first.
VIEWER_DELAY_MS = 1000

MUTED = "color: palette(placeholder-text);"


def window_title(info: NotebookInfo | None) -> str:
    """``<notebook title> — nbshelf``, or just ``nbshelf``."""
    return f"{info.title} — {APP_NAME}" if info is not None else APP_NAME


def column_widths(advance: Callable[[str], int]) -> dict[Column, int]:
    """The list's column widths but the title's, from the text width ``advance(text)``:
    each as wide as its header with a sort arrow, or as typical content, whichever is more."""

    def fit(column: Column, *samples: str, icon: int = 0) -> int:
        header = advance(HEADERS[column]) + 26  # the header's margins and sort arrow
        return max(header, max(advance(text) for text in samples) + 10 + icon)

    return {
        # Room for a short folder name; longer ones are elided, whole in the tooltip.
        Column.FOLDER: fit(Column.FOLDER, "reports/2025"),
        Column.SOURCE: fit(Column.SOURCE, "shared-drive"),  # longer names are elided
        Column.LANGUAGE: fit(Column.LANGUAGE, "Python"),
        Column.MODIFIED: fit(Column.MODIFIED, "2026-11-22"),
        Column.HEALTH: fit(Column.HEALTH, *status.WORDS.values(), icon=20),  # dot and gap
        Column.MARKING: fit(Column.MARKING, "OFFICIAL"),
    }


class EmptyState(QWidget):
    """A centred message with an optional button, standing in for an empty list."""

    def __init__(self, title: str, text: str, button: str = "") -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        self.title = QLabel(title)
        self.title.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setStyleSheet(MUTED)
        self.text.setFixedWidth(440)  # a readable line length on a wide window
        self.set_text(text)
        for label in (self.title, self.text):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label, 0, Qt.AlignmentFlag.AlignHCenter)
        self.button = QPushButton(button)
        self.button.setVisible(bool(button))
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.button)
        row.addStretch(1)
        layout.addSpacing(8)
        layout.addLayout(row)
        layout.addStretch(2)

    def set_text(self, text: str) -> None:
        """Change the message (the label keeps the height its wrapped lines need)."""
        self.text.setText(text)
        self.text.setMinimumHeight(max(0, self.text.heightForWidth(self.text.width())))


class MainWindow(QMainWindow):
    """The library window. It owns no library object: everything goes through ``runner``.

    Args:
        runner: the task runner (not started yet, or started).
        library_root: the library folder, for the About box and messages.
        sync_on_start: sync every source once the writer has opened the library.

    Signals:
        ready(): the first list is shown and the start-up sync is over (or was not possible).
        first_rows(): the list has just painted its first loaded rows (start-up timing).
        health_checked(): a background health check's answer is in the list.
    """

    ready = Signal()
    first_rows = Signal()
    health_checked = Signal()

    def __init__(
        self,
        runner: TaskRunner,
        library_root: Path,
        *,
        sync_on_start: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.library_root = library_root
        self.sync_on_start = sync_on_start
        self.setWindowTitle(APP_NAME)
        self.resize(1280, 800)
        self._start_sync_pending = sync_on_start
        self._listed_once = False
        self._ready_sent = False
        self._select_after_load: int | None = None
        self._problem_count = 0
        self._source_count = 0
        self._read_only_reason = ""
        self._first_rows_sent = False
        self._health_job: Job | None = None
        self._health_landed = False
        self._health_again = False

        self.model = LibraryModel(runner, self)
        self.syncer = SyncController(runner, self)
        self._build_search()
        self._build_list()
        self.pane = NotebookPane(runner)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.list_stack)
        self.splitter.addWidget(self.pane)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([640, 420])
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)
        self.problems = ProblemsPanel(runner)
        self.problems_dock = QDockWidget("Problems", self)
        self.problems_dock.setObjectName("problems")
        self.problems_dock.setWidget(self.problems)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.problems_dock)
        self.problems_dock.hide()
        self.sidebar = Sidebar(runner)
        self.sidebar_dock = QDockWidget("Filters", self)
        self.sidebar_dock.setObjectName("filters")
        self.sidebar_dock.setWidget(self.sidebar)
        self.sidebar_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
        )
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.sidebar_dock)
        self.resizeDocks([self.sidebar_dock], [230], Qt.Orientation.Horizontal)
        self.autosync = AutoSync(runner, self.syncer, parent=self)
        self.follower = WriterFollower(runner, self)
        self.row_checker = RowChecker(runner, self.model, self.table, self)
        self.snippet_fetcher = SnippetFetcher(runner, self.model, self.table, self)
        self.row_checker.checked.connect(self._update_marking_column)
        self.sources_dialog: SourcesDialog | None = None
        self._build_status_bar()
        self._build_actions()
        self._build_menus()
        self.restore_layout()

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._apply_search)
        self._select_timer = QTimer(self)
        self._select_timer.setSingleShot(True)
        self._select_timer.setInterval(SELECT_DELAY_MS)
        self._select_timer.timeout.connect(self._load_current)

        self.model.loaded.connect(self._on_loaded)
        self.pane.shown.connect(lambda info: self.setWindowTitle(window_title(info)))
        self.pane.message.connect(lambda text: self.statusBar().showMessage(text, 4000))
        self.runs = RunController(runner, self)
        self.runs.started.connect(self._run_started)
        self.runs.output.connect(self.pane.run_output)
        self.pane.runs_tab.stop_requested.connect(self.runs.stop)
        self.runs.finished.connect(self._run_finished)
        self.pane.add_folder_requested.connect(self.add_folder)
        self.pane.open_requested.connect(self.open_notebook)
        self.problems.counted.connect(self._on_problem_count)
        self.syncer.started.connect(self._on_sync_started)
        self.syncer.progressed.connect(self._on_sync_progress)
        self.syncer.finished.connect(self._on_sync_finished)
        self.syncer.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.autosync.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.sidebar.query_requested.connect(self.run_search)
        runner.opened.connect(self._on_opened)
        runner.failed.connect(self._on_failed)
        runner.changed.connect(self._on_changes)

        self.model.refresh()
        self.problems.refresh()
        self._count_sources()
        # The facets wait for the first rows: counting them must not delay the list.
        self.first_rows.connect(self._start_sidebar)
        # Until the full health check lands (after the start-up sync), the rows on screen
        # get theirs from the read lane; not sooner: it loads the kernel machinery.
        self.first_rows.connect(lambda: self.row_checker.set_active(not self._health_landed))
        # So does the notebook viewer (a web engine view): made soon after, not before.
        self.first_rows.connect(
            lambda: QTimer.singleShot(VIEWER_DELAY_MS, self.pane.view, self.pane.view.ensure_viewer)
        )

    # -- building ----------------------------------------------------------------------------

    def _build_search(self) -> None:
        bar = QToolBar("Search")
        bar.setObjectName("search")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.toggleViewAction().setEnabled(False)
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText("Search notebooks   (Ctrl+K)")
        self.search.textChanged.connect(self._search_edited)
        self.search.returnPressed.connect(self._focus_list)
        self.search.installEventFilter(self)
        wrapper = QWidget()
        layout = QHBoxLayout(wrapper)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.search, 1)
        self.search_hint = QLabel()
        self.search_hint.setStyleSheet(MUTED)
        layout.addWidget(self.search_hint)
        # "Did you mean": shown when a search finds nothing or little and a close, commoner
        # spelling exists; a click (or Tab, Space) searches it instead.
        self._suggested = ""
        self._suggest_job: Job | None = None
        self.suggestion = QPushButton()
        self.suggestion.setObjectName("suggestion")
        self.suggestion.setFlat(True)
        self.suggestion.setCursor(Qt.CursorShape.PointingHandCursor)
        self.suggestion.setStyleSheet("QPushButton#suggestion { color: palette(link); }")
        self.suggestion.clicked.connect(lambda: self.run_search(self._suggested))
        self.suggestion.hide()
        layout.addWidget(self.suggestion)
        self.model.loaded.connect(self._search_answered)
        bar.addWidget(wrapper)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

    def _build_list(self) -> None:
        self.table = QTableView()
        self.table.setObjectName("library")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(Column.TITLE, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().hide()
        # Titles with their file names, and in a search each hit's best snippet beneath.
        self.hit_delegate = TitleDelegate(self.table)
        self.table.setItemDelegateForColumn(Column.TITLE, self.hit_delegate)
        self.folder_delegate = FolderDelegate(self.table)
        self.table.setItemDelegateForColumn(Column.FOLDER, self.folder_delegate)
        # Fixed row heights: the view never measures 50,000 rows. A search's rows are
        # taller, all of them, snippet or not yet (see _set_row_height).
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self._set_row_height(search=False)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # The titles take what the other columns leave; those are as wide as what they show
        # (measured on sample text: measuring rows would read 50,000 of them).
        header.setSectionResizeMode(Column.TITLE, QHeaderView.ResizeMode.Stretch)
        for column, width in column_widths(self.table.fontMetrics().horizontalAdvance).items():
            header.resizeSection(column, width)
        # An always-empty column only takes room from the titles: shown once a notebook has
        # a marking (see _update_marking_column).
        header.setSectionHidden(Column.MARKING, True)
        # Nor does a Source column that says the one source on every row.
        header.setSectionHidden(Column.SOURCE, True)
        self.model.sources_counted.connect(
            lambda count: header.setSectionHidden(Column.SOURCE, count < 2)
        )
        self.table.selectionModel().currentRowChanged.connect(
            lambda _cur, _prev: self._select_timer.start()
        )
        self.table.activated.connect(self._activated)
        self.table.viewport().installEventFilter(self)

        self.opening_state = EmptyState("Opening your library…", str(self.library_root))
        self.empty_state = EmptyState(
            "Your library is empty",
            "Add a folder or USB stick with notebooks. nbshelf keeps a searchable copy of "
            "each one, also when the folder is gone. Folders are only read, never changed.",
            "Add a Folder or USB Stick…",
        )
        self.empty_state.button.clicked.connect(self.show_add_folder)
        self.no_match_state = EmptyState("No match", "", "Clear the Search")
        self.no_match_state.button.clicked.connect(self.search.clear)
        # annotated: __init__ uses it above this method, before mypy could infer its type
        self.list_stack: QStackedWidget = QStackedWidget()
        for widget in (self.opening_state, self.table, self.empty_state, self.no_match_state):
            self.list_stack.addWidget(widget)
        self.list_stack.setCurrentWidget(self.opening_state)

    def _set_row_height(self, search: bool) -> None:
        height = self.hit_delegate.row_height(self.table.font(), search)
        header = self.table.verticalHeader()
        if header.defaultSectionSize() != height:
            header.setDefaultSectionSize(height)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.sync_label = QLabel()
        self.sync_bar = QProgressBar()
        self.sync_bar.setMaximumWidth(180)
        self.sync_bar.setTextVisible(False)
        self.sync_cancel = QPushButton("Cancel")
        self.sync_cancel.setToolTip("Stop the sync (Esc); the next sync finishes the job")
        self.sync_cancel.clicked.connect(self.cancel)
        for widget in (self.sync_label, self.sync_bar, self.sync_cancel):
            widget.hide()
            bar.addPermanentWidget(widget)
        self.counts = QLabel()
        self.counts.setStyleSheet(MUTED)
        bar.addPermanentWidget(self.counts)
        self.problems_button = QToolButton()
        self.problems_button.setAutoRaise(True)
        self.problems_button.clicked.connect(self.show_problems)
        self.problems_button.hide()
        bar.addPermanentWidget(self.problems_button)

    def _action(
        self, text: str, slot: Any, shortcut: Any = None, tip: str = ""
    ) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        if isinstance(shortcut, list):
            action.setShortcuts(shortcut)
        elif shortcut is not None:
            action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        self.addAction(action)  # shortcuts work with the menu bar hidden, too
        return action

    def _build_actions(self) -> None:
        key = QKeySequence
        self.open_file_action = self._action(
            "&Open Notebook File…", self.show_open_file, key.StandardKey.Open
        )
        self.add_folder_action = self._action(
            "&Add Folder or USB Stick…", self.show_add_folder, key("Ctrl+Shift+O")
        )
        self.quit_action = self._action("&Quit", self.close, key.StandardKey.Quit)
        self.find_action = self._action(
            "&Find", self.focus_search, [key("Ctrl+K"), key("Ctrl+F")]
        )
        self.sync_action = self._action(
            "&Sync Now", lambda: self.syncer.sync(), key("F5"),
            "Read new and changed notebooks from every source",
        )
        self.cancel_action = self._action(
            "&Cancel", self.cancel, key(Qt.Key.Key_Escape), "Stop the sync, or clear the filter"
        )
        self.sources_action = self._action(
            "S&ources…", self.show_sources, key("Ctrl+Shift+S")
        )
        self.problems_action = self.problems_dock.toggleViewAction()
        self.problems_action.setText("&Problems")
        self.problems_action.setShortcut(key("Ctrl+Shift+P"))
        self.addAction(self.problems_action)
        self.run_action = self._action(
            "&Run…", self.run_or_stop, key("Ctrl+R"),
            "Run a copy of this notebook in a local kernel (Ctrl+R again stops it)",
        )
        self.report_action = self._action(
            "Re&port View (hide code)", self.toggle_report_view, key("Ctrl+Shift+H"),
            "Show outputs and prose only",
        )
        self.report_action.setCheckable(True)
        self.publish_action = self._action(
            "&Publish to a Share…", self.publish_shown, key("Ctrl+Shift+U"),
            "Write this notebook into a share or USB stick, outputs stripped",
        )
        self.find_in_notebook_action = self._action(
            "Find in &Notebook…", lambda: self.pane.find_in_notebook(), key("Ctrl+Shift+F"),
            "Find words in the notebook shown",
        )
        self.save_search_action = self._action(
            "Save Search as &Shelf…", self.sidebar.ask_save, key("Ctrl+D"),
            "Keep the current search in the sidebar",
        )
        self.sidebar_action = self.sidebar_dock.toggleViewAction()
        self.sidebar_action.setText("&Filters and Shelves")
        self.sidebar_action.setShortcut(key("Ctrl+Shift+L"))
        self.addAction(self.sidebar_action)
        self.copy_path_action = self._action(
            "Copy &Path", self.copy_path, key("Ctrl+Shift+C"),
            "Copy the notebook's path in its source",
        )
        self.about_action = self._action("&About nbshelf", self.show_about)
        self._build_admin_actions()
        self.export_action = self._action(
            "&Export…", self.export_shown, key("Ctrl+E"),
            "Write this notebook as a script, Markdown, an HTML report or a notebook file",
        )
        self.export_action.setEnabled(False)  # until a notebook is shown
        self.export_dialog: ExportDialog | None = None
        self._export_folder = Path.home()
        self.pane.shown.connect(lambda info: self.export_action.setEnabled(info is not None))

    def run_or_stop(self) -> None:
        """Start running the notebook shown (after the run dialog), or stop the run."""
        if self.runs.running:
            self.runs.stop()
            return
        notebook_id = self.pane.notebook_id
        if notebook_id is None:
            self.statusBar().showMessage("Pick a notebook to run first.", 4000)
            return
        if not self.runner.writable:
            self.statusBar().showMessage(self._read_only_reason or "The library is read-only.")
            return

        def ask(setup: RunSetup) -> None:
            dialog = RunDialog(setup, self, runner=self.runner)
            if dialog.exec() == RunDialog.DialogCode.Accepted:
                kernel, parameters = dialog.choices()
                self.runs.start(notebook_id, kernel, parameters, any_language=dialog.insists)

        self.runner.task(lambda lib, _job: gather_setup(lib, notebook_id),
                         label="Prepare run").on_success(ask).on_failure(
            lambda err: self.statusBar().showMessage(str(err), 8000)).start()

    def publish_shown(self) -> None:
        """Publish the notebook shown: the dialog checks everything (warnings, marking, the
        share, the data files) before its button, off the GUI thread."""
        notebook_id = self.pane.notebook_id
        if notebook_id is None:
            self.statusBar().showMessage("Pick a notebook to publish first.", 4000)
            return
        if not self.runner.writable:
            self.statusBar().showMessage(self._read_only_reason or "The library is read-only.")
            return

        def ask(setup: PublishSetup) -> None:
            dialog = PublishDialog(setup, self, runner=self.runner)
            if dialog.exec() == PublishDialog.DialogCode.Accepted:
                self._publish(setup, dialog.choices())

        self.runner.task(lambda lib, _job: gather_publish(lib, notebook_id),
                         label="Prepare publish").on_success(ask).on_failure(
            lambda err: self.statusBar().showMessage(str(err), 8000)).start()

    def _publish(self, setup: PublishSetup, choice: PublishChoice) -> None:
        def publish(lib: Library, _job: Job) -> str:
            result = lib.publish(setup.blob, choice.source, as_path=choice.path or setup.name,
                                 keep_outputs=choice.keep_outputs, force=choice.force,
                                 marking=choice.marking, data=choice.data,
                                 data_from=choice.data_from)
            with_data = f" with {len(result.data)} data files" if result.data else ""
            return f"{result.source}:{result.path}{with_data}"

        def failed(err: NbshelfError) -> None:
            # Imported here: nbshelf.publish.share loads nbformat, which the start path can skip.
            from nbshelf.publish.share import PublishBusy, PublishConflict

            if isinstance(err, PublishConflict) and not isinstance(err, PublishBusy) \
                    and not choice.force:
                # someone changed it between the dialog's check and the write
                again = self._settle_conflict(choice, err.suggested)
                if again is not None:
                    self._publish(setup, again)
                return
            QMessageBox.warning(self, "Not published", str(err))

        self.runner.task(publish, lane=Lane.WRITE, label="Publish").on_success(
            lambda where: self.statusBar().showMessage(f"Published {where}", 8000)
        ).on_failure(failed).with_changes(Changes(notebooks=True, sources=True)).start()

    def _settle_conflict(self, choice: PublishChoice, suggested: str | None
                         ) -> PublishChoice | None:
        """Ask how to publish over someone else's change, in plain words: under a new name,
        replacing theirs, or not at all (None)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Someone else changed it",
                          "Someone changed this notebook on the share since you synced it.",
                          parent=self)
        new_name = PurePosixPath(suggested).name if suggested else ""
        box.setInformativeText(
            (f"Publish under a new name puts yours beside theirs as “{new_name}”. "
             if new_name else "") + "Replace theirs overwrites their version with yours.")
        renamed = box.addButton("Publish under a &new name",
                                QMessageBox.ButtonRole.AcceptRole) if suggested else None
        replace = box.addButton("&Replace theirs", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.exec()
        if renamed is not None and box.clickedButton() is renamed and suggested:
            return dataclasses.replace(choice, path=suggested)
        if box.clickedButton() is replace:
            return dataclasses.replace(choice, force=True)
        return None

    def export_shown(self) -> ExportDialog | None:
        """Export the notebook shown: the dialog chooses the format and the file."""
        info = self.pane.info
        if info is None:
            self.statusBar().showMessage("Pick a notebook to export first.", 4000)
            return None
        if self.export_dialog is not None:
            self.export_dialog.close()
            self.export_dialog.deleteLater()
        dialog = ExportDialog(info, self._export_folder, self)
        self.export_dialog = dialog

        def chosen() -> None:
            to, out, force = dialog.choices()
            self._export_folder = out.parent
            self._export(info.id, to, out, force=force)

        dialog.accepted.connect(chosen)
        dialog.open()
        return dialog

    def _export(self, notebook_id: int, to: str, out: Path, *, force: bool) -> None:
        """``Library.export`` on the read lane (an export only reads the library)."""

        def done(result: dict[str, Any]) -> None:
            notes = result.get("warnings") or []
            extra = f" ({fmt.count(len(notes), 'output')} left out)" if notes else ""
            self.statusBar().showMessage(f"Exported to {result['output']}{extra}", 10000)

        self.statusBar().showMessage(f"Exporting to {out}…")
        self.runner.task(
            lambda lib, _job: lib.export(notebook_id, to, out, force=force),
            lane=Lane.READ, label="Export",
        ).on_success(done).on_failure(
            lambda err: self.statusBar().showMessage(f"Not exported: {err}", 15000)
        ).start()

    def _run_started(self, notebook_id: int, kernel: str, marking: str) -> None:
        self.run_action.setText("Stop &Run")
        self.pane.run_started(notebook_id, kernel, marking)

    def _run_finished(self, notebook_id: int, result: Any, error: str) -> None:
        self.run_action.setText("&Run…")
        outcome = result.status if result is not None else "error"
        self.statusBar().showMessage(f"Run finished: {outcome}", 8000)
        self.pane.run_finished(notebook_id, result, error)
        self.check_health([notebook_id])  # its last run is part of its health

    def toggle_report_view(self) -> None:
        """Hide or show code cells in the notebook view."""
        self.pane.view.set_report_view(self.report_action.isChecked())

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_file_action)
        file_menu.addAction(self.add_folder_action)
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.find_action)
        edit_menu.addAction(self.copy_path_action)
        library_menu = bar.addMenu("&Library")
        library_menu.addAction(self.sync_action)
        library_menu.addAction(self.cancel_action)
        library_menu.addSeparator()
        library_menu.addAction(self.sources_action)
        library_menu.addAction(self.problems_action)
        library_menu.addAction(self.sidebar_action)
        library_menu.addAction(self.save_search_action)
        notebook_menu = bar.addMenu("&Notebook")
        notebook_menu.addAction(self.run_action)
        notebook_menu.addAction(self.report_action)
        notebook_menu.addAction(self.find_in_notebook_action)
        notebook_menu.addAction(self.publish_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.shortcuts_action)
        help_menu.addSeparator()
        help_menu.addAction(self.about_action)
        self._add_admin_menus(file_menu, library_menu, help_menu)
        self._update_actions()

    # -- commands ----------------------------------------------------------------------------

    def run_search(self, text: str) -> None:
        """Show the list for ``text`` now (a shelf or a facet was clicked)."""
        self.search.setText(text)
        self._apply_search()

    def check_health(self, ids: list[int] | None = None) -> None:
        """Check health in the background (the whole library, or these notebooks) and show it
        in the list and the sidebar. On the write lane, which keeps the checks' cache."""
        if ids is not None:
            self.runner.task(
                lambda lib, _job: [h for i in ids for h in lib.health(i)],
                lane=Lane.WRITE if self.runner.writable else Lane.READ,
                label="Check health",
            ).on_success(self._health_updated).on_failure(self._health_failed).start()
            return
        if self._health_job is not None and not self._health_job.done:
            self._health_again = True
            return
        self._health_job = (
            self.runner.task(
                lambda lib, _job: {h.id: h for h in lib.health()},
                lane=Lane.WRITE if self.runner.writable else Lane.READ,
                label="Check health",
            )
            .on_success(self._health_arrived)
            .on_failure(self._health_failed)
            .on_finished(self._health_finished)
            .start()
        )

    def _health_arrived(self, health: Mapping[int, NotebookHealth]) -> None:
        self._health_landed = True
        self.row_checker.set_active(self.syncer.running)  # a sync's new rows still need it
        self.model.set_health(health)
        self.sidebar.set_health(self.model.health)
        self.health_checked.emit()

    def _health_updated(self, health: list[NotebookHealth]) -> None:
        self.model.update_health(health)
        self.sidebar.set_health(self.model.health)
        self.health_checked.emit()

    def _health_failed(self, err: NbshelfError) -> None:
        log.info("health check failed: %s", err)
        self.statusBar().showMessage(f"The health check could not finish: {err}", 8000)

    def _health_finished(self) -> None:
        if self._health_again:
            self._health_again = False
            self.check_health()

    def _load_markings(self) -> None:
        def show(markings: dict[int, str]) -> None:
            self.model.set_markings(markings)
            self._update_marking_column()

        self.runner.task(
            lambda lib, _job: lib.markings(), label="Read markings"
        ).on_success(show).start()

    def _update_marking_column(self) -> None:
        self.table.horizontalHeader().setSectionHidden(Column.MARKING, not self.model.markings)

    def focus_search(self) -> None:
        """Put the cursor in the search bar (Ctrl+K, Ctrl+F)."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def cancel(self) -> None:
        """Esc: stop the run or the sync if one is going, else clear the filter."""
        if self.runs.running:
            self.runs.stop()
            return
        if self.syncer.cancel():
            return
        if self.search.text():
            self.search.clear()
            self.table.setFocus()

    def show_sources(self) -> SourcesDialog:
        """Open the Sources dialog (one, reused)."""
        if self.sources_dialog is None:
            self.sources_dialog = SourcesDialog(self.runner, self)
            self.sources_dialog.add_requested.connect(self.add_folder)
            self.sources_dialog.sync_requested.connect(self.syncer.sync)
            self.sources_dialog.message.connect(
                lambda text: self.statusBar().showMessage(text, 8000))
        else:
            self.sources_dialog.refresh()
        self._update_actions()
        self.sources_dialog.show()
        self.sources_dialog.raise_()
        self.sources_dialog.activateWindow()
        return self.sources_dialog

    def show_problems(self) -> None:
        """Show the Problems panel."""
        self.problems_dock.show()
        self.problems_dock.raise_()

    def show_add_folder(self) -> None:
        """Pick a folder with the folder picker, and add it as a source."""
        self.show_sources().pick_folder()

    def add_folder(self, folder: str) -> None:
        """Add ``folder`` as a source and sync it (the picker's and the message's action)."""
        if not self.runner.writable:
            self._read_only_notice()
            return
        self.syncer.add_folder(folder)

    def show_open_file(self) -> None:
        """Choose a notebook file and show it."""
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self, "Open a notebook", "", "Notebooks (*.ipynb)")
        if path:
            self.open_file(Path(path))

    def open_file(self, path: Path) -> None:
        """Show the notebook at ``path`` (a double-click, or another launch's file).

        A file the library already holds shows at once (read lane); any other one is brought
        in with ``Library.open_file`` on the write lane, where that exists.
        """
        path = Path(os.path.abspath(path))
        if not path.is_file():
            self.pane.show_message(
                f"“{path.name}” cannot be opened",
                f"There is no file at {path}. It may have been moved, or a USB stick removed.",
            )
            return
        self.runner.task(
            lambda lib, _job: lib.resolve(str(path)), label="Find the notebook", urgent=True
        ).on_success(self.open_notebook).on_failure(
            lambda err: self._open_outside(path, err)
        ).start()

    def _open_outside(self, path: Path, err: NbshelfError) -> None:
        if not isinstance(err, NotFound):
            self._on_failed("Open a notebook", err)
            return
        if not self.runner.writable:
            self._not_in_library(path)
            return
        if self.syncer.running:
            self.pane.show_message(
                f"Opening “{path.name}”…",
                "It joins your library as soon as the sync in progress lets it.",
            )
        self.runner.task(
            lambda lib, _job: lib.open_file(path),
            lane=Lane.WRITE,
            label="Open a notebook",
        ).on_success(self.open_notebook).on_failure(
            lambda failure: self.pane.show_message(
                f"“{path.name}” cannot be opened", str(failure)
            )
        ).with_changes(
            lambda notebook_id: Changes(
                notebooks=True, sources=True, problems=True,
                updated_ids=frozenset({notebook_id}),
            )
        ).start()

    def open_notebook(self, notebook_id: int) -> None:
        """Select ``notebook_id`` in the list (clearing a filter that hides it) and show it."""
        self.pane.load(notebook_id)
        row = self.model.row_of(notebook_id)
        if row >= 0:
            self._select_row(row)
        else:
            self._select_after_load = notebook_id
            if self.search.text():
                self.search.clear()
                self._apply_search()
        self.raise_to_front()

    def raise_to_front(self) -> None:
        """Bring the window up (another launch handed us a file)."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def copy_path(self) -> None:
        """Copy the shown notebook's ``SOURCE:PATH`` to the clipboard."""
        from PySide6.QtGui import QGuiApplication

        info = self.pane.info
        if info is not None:
            QGuiApplication.clipboard().setText(f"{info.source}:{info.path}")
            self.statusBar().showMessage(f"Copied {info.source}:{info.path}", 4000)

    def show_about(self) -> None:
        """Version and where the library lives."""
        QMessageBox.about(
            self,
            "About nbshelf",
            f"nbshelf {__version__}\nA library of Jupyter notebooks for isolated "
            f"workstations.\n\nLibrary: {self.library_root}",
        )

    # -- admin tasks: settings, packs, shortcuts, layout ---------------------------------------

    def _build_admin_actions(self) -> None:
        key = QKeySequence
        self._folded, self._folded_for = 0, ""
        self.settings_dialog: SettingsDialog | None = None
        self.packs_dialog: PacksDialog | None = None
        self.settings_action = self._action(
            "Se&ttings…", self.show_settings, key("Ctrl+,"),
            "The marking scheme, how often shares are synced, when a run is stale",
        )
        self.export_pack_action = self._action(
            "E&xport Pack…", lambda: self.show_packs(), key("Ctrl+Shift+E"),
            "Write the notebooks listed (or the one shown) as a pack for a USB stick",
        )
        self.import_pack_action = self._action(
            "&Import Pack…", lambda: self.show_packs(importing=True), key("Ctrl+Shift+I"),
            "Add a pack's notebooks to the library",
        )
        self.shortcuts_action = self._action(
            "&Keyboard Shortcuts", self.show_shortcuts, key("Ctrl+/"),
            "Every key the window answers to",
        )
        self.relevance_action = self._action(
            "Sort by &Relevance", self.sort_by_relevance, key("Ctrl+Shift+R"),
            "Best matches first again, after sorting the search by a column",
        )
        self.tab_actions = [
            self._action(f"Show the &{name} Tab", lambda _=False, i=i: self.show_tab(i),
                         key(f"Alt+{i + 1}"))
            for i, name in enumerate(("Notebook", "Similar", "History", "Runs"))
        ]
        self.table.horizontalHeader().sortIndicatorChanged.connect(
            lambda *_: self._update_relevance())

    def _add_admin_menus(self, file_menu: Any, library_menu: Any, help_menu: Any) -> None:
        file_menu.insertAction(self.quit_action, self.export_pack_action)
        file_menu.insertAction(self.quit_action, self.import_pack_action)
        file_menu.insertSeparator(self.quit_action)
        library_menu.addSeparator()
        library_menu.addAction(self.settings_action)
        view_menu = self.menuBar().addMenu("&View")
        self.menuBar().insertMenu(help_menu.menuAction(), view_menu)
        view_menu.addAction(self.relevance_action)
        view_menu.addSeparator()
        for action in self.tab_actions:
            view_menu.addAction(action)
        self._update_relevance()

    def show_tab(self, index: int) -> None:
        """Show one of the pane's tabs (Alt+1 to Alt+4), keyboard focus on it."""
        if 0 <= index < self.pane.tabs.count():
            self.pane.tabs.setCurrentIndex(index)
            self.pane.tabs.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def sort_by_relevance(self) -> None:
        """Back to the search's own order (best first) after sorting by a column."""
        self.table.sortByColumn(Column.TITLE, Qt.SortOrder.AscendingOrder)
        self._update_relevance()

    def _update_relevance(self) -> None:
        """In a search, title order ascending is the index's ranking: say so by hiding the
        header's arrow, and offer the way back whenever another order is in force."""
        query = self.model.query
        searching = bool(status.split_health(query.text)[0].strip())
        relevance = query.column is Column.TITLE and not query.descending
        self.relevance_action.setEnabled(searching and not relevance)
        self.table.horizontalHeader().setSortIndicatorShown(not (searching and relevance))

    def show_settings(self) -> SettingsDialog:
        """Open the Settings dialog."""
        if self.settings_dialog is not None:
            self.settings_dialog.close()
            self.settings_dialog.deleteLater()
        dialog = SettingsDialog(self.runner, self)
        dialog.saved.connect(self._settings_saved)
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def _settings_saved(self, values: LibrarySettings) -> None:
        self.autosync._set_interval(values.sync_interval_minutes)  # read only at start else
        self._load_markings()  # the scheme decides how markings are spelled
        self.check_health()  # "stale" depends on the setting
        self.statusBar().showMessage("Settings saved.", 4000)

    def show_packs(self, *, importing: bool = False) -> PacksDialog:
        """Open the Packs dialog: export what the list shows, or import a pack."""
        if self.packs_dialog is not None:
            self.packs_dialog.close()
            self.packs_dialog.deleteLater()
        ids = [i for r in range(self.model.rowCount())
               if (i := self.model.notebook_id(r)) is not None]
        text = self.model.query.text.strip()
        what = (f"the {fmt.count(len(ids), 'notebook')} matching “{text}”" if text
                else f"all {fmt.count(len(ids), 'notebook')} of the library")
        info = self.pane.info
        shown = (info.id, info.title) if info is not None else None
        dialog = PacksDialog(self.runner, (ids, what), shown, self._export_folder, self)
        dialog.import_requested.connect(self.add_folder)
        dialog.message.connect(lambda message: self.statusBar().showMessage(message, 8000))
        self.packs_dialog = dialog
        dialog.open()
        (dialog.import_path if importing else dialog.export_button).setFocus()
        return dialog

    def show_shortcuts(self) -> ShortcutsDialog:
        """List every shortcut of the window (read from its actions, so never out of date)."""
        dialog = ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _layout_store(self) -> QSettings:
        # Per library, beside its catalog: each library keeps the layout it was left in.
        return QSettings(str(self.library_root / "window.ini"), QSettings.Format.IniFormat)

    def save_layout(self) -> None:
        """Remember the window's size and place, the splitter and the column widths."""
        if not self.runner.writable or not self.library_root.is_dir():
            return  # a reader leaves the library folder to its writer
        store = self._layout_store()
        # Size and place as numbers, not saveGeometry(): restoring that clamps the window to
        # whatever screen Qt thinks it is on, and loses the size a user chose.
        normal = self.normalGeometry() if self.isMaximized() else self.geometry()
        store.setValue("size", [normal.width(), normal.height()])
        store.setValue("place", [normal.x(), normal.y()])
        store.setValue("maximized", self.isMaximized())
        store.setValue("state", self.saveState())
        store.setValue("splitter", self.splitter.sizes())
        header = self.table.horizontalHeader()
        store.setValue("columns", {
            column.name: header.sectionSize(column) for column in Column
            if header.sectionResizeMode(column) != QHeaderView.ResizeMode.Stretch
            and not header.isSectionHidden(column)  # hidden: 0 wide, its width unknown
        })
        store.sync()

    def restore_layout(self) -> None:
        """Put the window back as it was left (nothing when it never was)."""
        store = self._layout_store()
        size, place = store.value("size"), store.value("place")
        if isinstance(size, list) and len(size) == 2:
            self.resize(int(size[0]), int(size[1]))
        if isinstance(place, list) and len(place) == 2:
            point = QPoint(int(place[0]), int(place[1]))
            if QGuiApplication.screenAt(point) is not None:  # never off every screen
                self.move(point)
        if str(store.value("maximized", "false")).lower() == "true":
            self.setWindowState(Qt.WindowState.WindowMaximized)
        state = store.value("state")
        if state is not None:
            self.restoreState(state)
        sizes = store.value("splitter")
        if isinstance(sizes, list) and len(sizes) == self.splitter.count():
            self.splitter.setSizes([int(size) for size in sizes])
        columns = store.value("columns")
        if isinstance(columns, dict):
            header = self.table.horizontalHeader()
            for column in Column:
                width = columns.get(column.name)
                if width is not None and int(width) > 0:
                    header.resizeSection(column, int(width))

    def handle_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """Answer another launch (see ``nbshelf.ui.instance``)."""
        command = message.get("cmd")
        if command == "open" and isinstance(message.get("file"), str):
            self.open_file(Path(message["file"]))
            self.raise_to_front()
        elif command == "activate":
            self.raise_to_front()
        elif command == "quit":
            QTimer.singleShot(0, self.close)
        elif command != "state":
            return {"ok": False, "error": f"unknown command {command!r}"}
        return {
            "ok": True,
            "title": self.windowTitle(),
            "notebook": self.pane.info.id if self.pane.info is not None else None,
            "ready": self._ready_sent,
        }

    # -- reacting ----------------------------------------------------------------------------

    def eventFilter(self, watched: Any, event: Any) -> bool:
        if (
            not self._first_rows_sent
            and event.type() == QEvent.Type.Paint
            and watched is self.table.viewport()
            and self.list_stack.currentWidget() is self.table
            and self.model.rowCount()
            and self.model.record(max(0, self.table.rowAt(0))) is not None
        ):
            # This paint draws real rows: say so once it is done.
            self._first_rows_sent = True
            QTimer.singleShot(0, self.first_rows.emit)
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Down, Qt.Key.Key_PageDown)
        ):
            self._focus_list()
            return True
        return super().eventFilter(watched, event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self._search_timer.stop()
        self._select_timer.stop()
        self.autosync.stop()
        if self.sources_dialog is not None:
            self.sources_dialog.close()
        self.runner.shutdown()  # cancels a running sync and waits for it to stop
        super().closeEvent(event)

    def _apply_search(self) -> None:
        self._search_timer.stop()
        self.model.set_filter(self.search.text())
        if self.search.text() != self.sidebar.text or not self.sidebar.started:
            self.sidebar.set_query(self.search.text())

    def _focus_list(self) -> None:
        self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if self.model.rowCount() and not self.table.selectionModel().hasSelection():
            self._select_row(0)

    def _select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)

    def _current_id(self) -> int | None:
        index = self.table.selectionModel().currentIndex()
        return self.model.notebook_id(index.row()) if index.isValid() else None

    def _load_current(self) -> None:
        notebook_id = self._current_id()
        if notebook_id is not None and notebook_id != self.pane.notebook_id:
            self.pane.load(notebook_id, find=self.model.search_text)  # a hit opens at its match

    def _activated(self, index: QModelIndex) -> None:
        notebook_id = self.model.notebook_id(index.row())
        if notebook_id is not None:
            self._select_timer.stop()
            if notebook_id != self.pane.notebook_id:
                self.pane.load(notebook_id, find=self.model.search_text)
            else:
                self.pane.reveal(self.model.search_text)  # opened again: back to its match
            self.pane.tabs.setFocus()

    def _start_sidebar(self) -> None:
        if not self.sidebar.started:
            self.sidebar.set_query(self.search.text())

    def _on_loaded(self, result: QueryResult) -> None:
        self._set_row_height(search=bool(self.model.search_text))
        self.sidebar.set_library_size(result.total)
        if not result.ids:
            self._start_sidebar()  # no rows to paint first
        self.pane.setVisible(result.total > 0)  # an empty library needs only the hint
        self._update_search_hint(result)
        if result.total == 0:
            self.list_stack.setCurrentWidget(self.empty_state)
        elif not result.ids:
            self.no_match_state.set_text(
                f"No notebook title contains “{result.query.text.strip()}”."
                if result.mode == "title"
                else f"Nothing matches “{result.query.text.strip()}”."
            )
            self.list_stack.setCurrentWidget(self.no_match_state)
        else:
            self.list_stack.setCurrentWidget(self.table)
        wanted = self._select_after_load
        if wanted is None and self.pane.notebook_id is not None and self._current_id() is None:
            wanted = self.pane.notebook_id  # a reset dropped the selection: put it back
        if wanted is not None and (row := self.model.row_of(wanted)) >= 0:
            self._select_after_load = None
            self._select_row(row)
        self._update_counts()
        self._count_folded(result)
        self._update_relevance()
        if not self._listed_once:
            self._prepare_search()
        self._listed_once = True
        self._begin_start_sync()
        self._check_ready()

    def _prepare_search(self) -> None:
        """Read on the read lane, after the first rows, what the first search typed would
        otherwise wait for (the related-terms model, the index's tables): at 100,000
        notebooks 1-2 s. Again after each sync: its commits make a new index reader."""
        # a failure here is the same one the first search would meet and show: not twice
        self.runner.task(lambda lib, _job: lib.prepare_search(), label="Prepare search"
                         ).on_failure(lambda _err: None).start()

    def _update_search_hint(self, result: QueryResult) -> None:
        text, tip = "", ""
        if result.query.text.strip() and result.mode == "title":
            text = "title filter"
            tip = (
                "The search index is not ready yet (it is built after the first sync): "
                "this box filters titles meanwhile."
            )
        elif result.mode == "search" and result.missing:
            # exact matches are few: the list goes on with those that have some of the words
            text = result.note or (f"{result.matches:,} with every word, "
                                   f"{result.partial_matches:,} with some")
            tip = ("Notebooks with only some of the words follow those with all of them; "
                   "each says what it lacks.")
            if result.reasons:
                tip += " Notebooks about the same thing in other words are among them."
        elif result.mode == "search" and result.reasons:
            text = f"{result.matches:,} with every word, more about the same thing"
            tip = ("Notebooks about the same thing in other words follow those with every "
                   "word; each says why it is listed (learned from this library).")
        elif result.mode == "search" and result.matches > len(result.ids):
            text = f"best {len(result.ids):,} of {result.matches:,}"
        self.search_hint.setText(text)
        self.search_hint.setToolTip(tip)
        self._ask_suggestion(result)

    def _search_edited(self, _text: str) -> None:
        """The query changed: the list follows after a pause in typing; what belonged to
        the query before goes now (a row's tooltip, a "did you mean")."""
        from PySide6.QtWidgets import QToolTip

        QToolTip.hideText()
        self.suggestion.hide()
        self._search_timer.start()

    def _ask_suggestion(self, result: QueryResult) -> None:
        """Look for a better spelling of a search that found nothing or little (read lane)."""
        from nbshelf.ui.hits import FEW_MATCHES, suggest_query

        self.suggestion.hide()
        if self._suggest_job is not None and not self._suggest_job.done:
            self._suggest_job.cancel()
        text, matches = result.query.text, result.matches
        if result.mode != "search" or not text.strip() or matches > FEW_MATCHES:
            return
        self._suggest_job = (
            self.runner.task(lambda lib, _job: suggest_query(lib, text, matches),
                             label="Check the spelling", urgent=True)
            .on_success(lambda found: self._show_suggestion(text, found))
            .on_failure(lambda err: log.info("no spelling suggestion: %s", err))
            .start()
        )

    def _show_suggestion(self, text: str, found: str | None) -> None:
        if not found or text != self.model.query.text or found == text.strip():
            return  # the query moved on meanwhile, or there is nothing better
        self._suggested = found
        self.suggestion.setText(f"Did you mean: {found}?")
        self.suggestion.setToolTip(f"Search for “{found}” instead")
        self.suggestion.show()
        if self.list_stack.currentWidget() is self.no_match_state:
            self.no_match_state.set_text(
                f"Nothing matches “{text.strip()}”. Did you mean “{found}”?")

    def _search_answered(self, result: QueryResult) -> None:
        """A new list: the notebook shown, if it is in it, marks the new search's words."""
        shown, text = self.pane.notebook_id, self.model.search_text
        if shown is not None and text != self.pane.searched and self.model.row_of(shown) >= 0:
            self.pane.reveal(text)  # not for the same search again: the reader stays put

    def _on_opened(self, lane: Lane, error: NbshelfError | None) -> None:
        if lane is Lane.WRITE:
            if isinstance(error, LibraryLocked):
                self._read_only_reason = (
                    f"Read-only: {error}. Sync and adding sources are off until it closes."
                )
                self.statusBar().showMessage(self._read_only_reason)
                self.follower.start()  # its commits shown as they land; the lock tried again
            elif error is None and self.follower.active:
                # the other program let go: this window writes from now on
                self._read_only_reason = ""
                self.follower.stop()
                self.statusBar().showMessage(
                    "The other program has closed the library: sync and adding sources are "
                    "on again.", 8000)
            elif error is not None:
                self._read_only_reason = f"The library cannot be written: {error}"
                self.statusBar().showMessage(self._read_only_reason)
            if error is not None:
                self._start_sync_pending = False
            elif self._start_sync_pending and self._listed_once:
                self._begin_start_sync()
            if not self._start_sync_pending:
                self.check_health()  # else after the start-up sync
                self._load_markings()
            self._update_actions()
        elif error is not None:
            self.opening_state.title.setText("The library cannot be opened")
            self.opening_state.set_text(str(error))
            self.list_stack.setCurrentWidget(self.opening_state)
            self._listed_once = True
            self._begin_start_sync()
        self._check_ready()

    def _begin_start_sync(self) -> None:
        """The start-up sync, once the writer is open and the first list is shown: a sync
        walking 50,000 files would otherwise hold up the first rows."""
        if self._start_sync_pending and self.runner.writable:
            self._start_sync_pending = False
            self.syncer.sync()

    def _on_failed(self, label: str, err: NbshelfError) -> None:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(f"{label} — nbshelf" if label else APP_NAME)
        box.setText(str(err))
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setDetailedText(f"{type(err).__name__}: {err}\nLibrary: {self.library_root}")
        box.open()

    def _not_in_library(self, path: Path) -> None:
        self.pane.show_message(
            f"“{path.name}” is not in your library",
            f"{path}\n\nnbshelf shows the notebooks of its sources, and no source holds this "
            "file yet (if its folder is a source, sync to pick it up). Add its folder as a "
            "source to keep it in your library; the folder is only read, never changed.",
            folder=str(path.parent),
        )
        self.raise_to_front()

    def _on_changes(self, changes: Changes) -> None:
        if changes.sources and not changes.partial:
            self._count_sources()

    def _on_problem_count(self, count: int) -> None:
        self._problem_count = count
        self.problems_button.setText(fmt.count(count, "problem"))
        self.problems_button.setVisible(count > 0)

    def _on_sync_started(self) -> None:
        if self._first_rows_sent:
            self.row_checker.set_active(True)  # its new rows wait for the check after it
        self.sync_label.setText("Syncing…")
        self.sync_bar.setRange(0, 0)
        for widget in (self.sync_label, self.sync_bar, self.sync_cancel):
            widget.show()
        self._update_actions()

    def _on_sync_progress(self, text: str, done: int, total: int) -> None:
        self.sync_label.setText(text)
        if total > 0:
            self.sync_bar.setRange(0, total)
            self.sync_bar.setValue(min(done, total))
        else:
            self.sync_bar.setRange(0, 0)

    def _on_sync_finished(self, text: str, report: SyncReport | None) -> None:
        if report is not None and not (
            report.added or report.updated or report.removed or report.unchanged
            or report.unavailable or report.problems or report.cancelled
        ):
            text = "No sources yet: add a folder or USB stick to fill your library."
        if not self.syncer.running:
            for widget in (self.sync_label, self.sync_bar, self.sync_cancel):
                widget.hide()
        self.statusBar().showMessage(text, 15000)
        self._update_actions()
        self._check_ready()
        if not self.syncer.running:
            self.check_health()
            self._load_markings()
            self._prepare_search()

    def _count_sources(self) -> None:
        def show(count: int) -> None:
            self._source_count = count
            self._update_counts()

        self.runner.task(
            lambda lib, _job: len(lib.list_sources()), label="Count sources"
        ).on_success(show).start()

    def _update_counts(self) -> None:
        shown, total = self.model.rowCount(), self.model.total
        searching = bool(self.model.query.text.strip())
        notebooks = (
            f"{shown:,} of {fmt.count(total, 'notebook')}" if searching
            else fmt.count(total, "notebook")
        )
        folded = self._folded if searching and self._folded_for == self.model.query.text else 0
        tip = ""
        if folded:
            notebooks += f" ({fmt.count(folded, 'identical copy', 'identical copies')} folded)"
            tip = (
                "A notebook found in several places with the same content is listed once, "
                "under its first place; its header names the other places."
            )
        self.counts.setText(f"{notebooks} · {fmt.count(self._source_count, 'source')}")
        self.counts.setToolTip(tip)

    def _count_folded(self, result: QueryResult) -> None:
        """In a search, each content is listed once: count the copies that stand behind
        the rows shown (read lane), so the status bar can say why the numbers differ."""
        text = result.query.text
        if result.mode != "search" or not result.ids:
            self._folded, self._folded_for = 0, text
            return
        ids = list(result.ids)

        def show(count: int) -> None:
            if text == self.model.query.text:
                self._folded, self._folded_for = count, text
                self._update_counts()

        self.runner.task(
            lambda lib, _job: lib.folded_copies(ids), label="Count identical copies"
        ).on_success(show).start()

    def _update_actions(self) -> None:
        writable = self.runner.writable
        self.sync_action.setEnabled(writable and not self.syncer.running)
        self.add_folder_action.setEnabled(writable)
        if self.sources_dialog is not None:
            self.sources_dialog.set_writable(writable, self.syncer.running)
        self.sidebar.set_writable(writable)

    def _read_only_notice(self) -> None:
        self.statusBar().showMessage(
            self._read_only_reason or "The library is still opening.", 8000
        )

    def _check_ready(self) -> None:
        opened = Lane.WRITE in self.runner.open_errors
        if (
            not self._ready_sent
            and self._listed_once
            and opened
            and not self._start_sync_pending
            and not self.syncer.running
        ):
            self._ready_sent = True
            self.ready.emit()
