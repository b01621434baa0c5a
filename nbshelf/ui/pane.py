"""The notebook pane: header, the rendered view's slot, and Similar / History / Runs tabs."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nbshelf.errors import NbshelfError, SimilarLearning
from nbshelf.library import Library
from nbshelf.records import NotebookInfo, VersionInfo
from nbshelf.ui import fmt
from nbshelf.ui.findbar import NEXT_KEYS, PREVIOUS_KEYS, FindBar
from nbshelf.ui.hits import best_cell, mark_page
from nbshelf.ui.models import RecordColumn, RecordModel
from nbshelf.ui.runstab import RunsTab
from nbshelf.ui.tasks import Changes, Job, TaskRunner

if TYPE_CHECKING:
    from nbshelf.render.highlight_terms import MarkedPage
    from nbshelf.ui.viewer import NotebookViewer

MUTED = "color: palette(placeholder-text);"
# The page stylesheet's .nbs-marking colours: the app's banner reads as an exported page's.
BANNER_BACKGROUND = "#7a1f1f"
BANNER_FOREGROUND = "#ffffff"


def _label(text: str = "", *, selectable: bool = True, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(wrap)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def placeholder(title: str, text: str) -> QWidget:
    """A calm centred note standing where there is nothing to show yet."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.addStretch(1)
    head = _label(title, selectable=False)
    head.setAlignment(Qt.AlignmentFlag.AlignCenter)
    head.setStyleSheet("font-size: 12pt; font-weight: 600;")
    body = _label(text, selectable=False)
    body.setAlignment(Qt.AlignmentFlag.AlignCenter)
    body.setStyleSheet(MUTED)
    layout.addWidget(head)
    layout.addWidget(body)
    layout.addStretch(2)
    return box


class Header(QWidget):
    """Title, where the notebook lives, and the facts a user scans first."""

    FIELDS = ("Source", "Path", "Kernel", "Modified", "Size", "Cells", "Versions")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 8)
        layout.setSpacing(6)
        self.title = _label()
        self.title.setObjectName("notebookTitle")
        self.title.setStyleSheet("font-size: 15pt; font-weight: 600;")
        layout.addWidget(self.title)
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(3)
        self.values: dict[str, QLabel] = {}
        for row, name in enumerate(self.FIELDS):
            key = _label(name, selectable=False, wrap=False)
            key.setStyleSheet(MUTED)
            key.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            value = _label()
            grid.addWidget(key, row, 0)
            grid.addWidget(value, row, 1)
            self.values[name] = value
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        self.note = _label()
        self.note.setStyleSheet("color: #9a6700;")
        self.note.hide()
        layout.addWidget(self.note)

    def set_info(self, info: NotebookInfo) -> None:
        """Show ``info``."""
        self.title.setText(info.title)
        kernel = info.kernel or "unknown"
        if info.language:
            kernel = f"{kernel} ({fmt.language(info.language)})"
        cells = info.cells
        text = {
            "Source": info.source,
            "Path": info.path,
            "Kernel": kernel,
            "Modified": fmt.when(info.mtime),
            "Size": fmt.size(info.size),
            "Cells": f"{cells.get('total', 0)} — {cells.get('code', 0)} code, "
            f"{cells.get('markdown', 0)} markdown",
            "Versions": str(info.versions),
        }
        for name, value in text.items():
            self.values[name].setText(value)
        notes = []
        if info.removed_at is not None:
            notes.append(f"Removed from its source on {fmt.when(info.removed_at)}; "
                         "the library keeps its versions.")
        if info.also_at:
            places = ", ".join(f"{p.source}: {p.path}" for p in info.also_at[:3])
            more = f" and {len(info.also_at) - 3} more" if len(info.also_at) > 3 else ""
            notes.append(f"Also at {places}{more}.")
        if info.schema_warning:
            notes.append(f"Breaks the notebook format: {info.schema_warning}")
        self.note.setText("\n".join(notes))
        self.note.setVisible(bool(notes))


class MarkingBanner(QLabel):
    """A strip showing the control marking of the page on screen, drawn by Qt beside the web
    view, never inside it.

    Issue 13: a markdown cell with negative margins and ``opacity`` painted a fake
    "UNCLASSIFIED" strip over the page's own TOP SECRET banner. Whatever a page paints stays
    inside the web view's rectangle; this strip is another widget outside it, so no page can
    cover, move or restyle it. Hidden when there is no marking.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("markingBanner")
        self.setTextFormat(Qt.TextFormat.PlainText)  # a marking is text, never markup
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAccessibleName("Marking")
        font = QFont(self.font())
        font.setBold(True)
        font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 108)
        self.setFont(font)
        self.setStyleSheet(
            f"QLabel#markingBanner {{ background: {BANNER_BACKGROUND}; "
            f"color: {BANNER_FOREGROUND}; padding: 4px 8px; }}"
        )
        self.hide()

    def set_marking(self, marking: str) -> None:
        """Show ``marking``; hide the strip when it is empty."""
        self.setText(marking)
        self.setVisible(bool(marking))


class ViewSlot(QStackedWidget):
    """Where the rendered notebook goes. Until its page is ready: a placeholder with the
    notebook's outline (its headings, which the catalog already has).

    The viewer (a web engine view) is made when first needed, not at start: it costs a few
    hundred milliseconds that the first window should not wait for.

    The page's marking is drawn outside the viewer (see :class:`MarkingBanner`): this slot
    says which marking is on screen. A page never shows under another page's marking: when
    the next page's marking differs from the one the viewer shows, the placeholder stands in
    until the next page has loaded.

    Signals:
        viewer_created(NotebookViewer): the viewer now exists.
        marking_shown(str): the marking of what is on screen now ("" for none).
    """

    viewer_created = Signal(object)
    marking_shown = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        box = QWidget()
        box.setBackgroundRole(QPalette.ColorRole.Base)  # a page to read, like the viewer's
        box.setAutoFillBackground(True)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(24, 18, 24, 18)
        note = _label("Rendering the notebook…", selectable=False)
        note.setStyleSheet(MUTED)
        layout.addWidget(note)
        self.outline_title = _label("Outline", selectable=False)
        self.outline_title.setStyleSheet("font-weight: 600; margin-top: 10px;")
        layout.addWidget(self.outline_title)
        self.outline = QLabel()
        self.outline.setTextFormat(Qt.TextFormat.RichText)
        self.outline.setWordWrap(True)
        self.outline.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.outline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.outline, 1)
        self.addWidget(box)

        self.viewer: NotebookViewer | None = None
        self.report_view = False
        self.viewer_marking = ""  # the marking of the page the viewer shows
        self._next_marking: str | None = None  # a page with another marking is loading
        self.currentChanged.connect(lambda _index: self.marking_shown.emit(self.marking))

    @property
    def marking(self) -> str:
        """The marking of what is on screen ("" for none, or for the placeholder)."""
        on_screen = self.viewer is not None and self.currentWidget() is self.viewer
        return self.viewer_marking if on_screen else ""

    def ensure_viewer(self) -> NotebookViewer:
        """The viewer, made now if it was not yet."""
        if self.viewer is None:
            from nbshelf.ui.viewer import NotebookViewer

            self.viewer = NotebookViewer(self)
            self.viewer.page_ready.connect(self._page_ready)
            self.addWidget(self.viewer)
            self.viewer_created.emit(self.viewer)
        return self.viewer

    def show_page(self, page: str, cell: int | None = None) -> None:
        """Show the rendered notebook (the outline stays up until a page is ready), at
        ``cell`` when given."""
        viewer = self.ensure_viewer()
        # Imported here, not at start: the page module pulls in the markdown renderer (the
        # page was rendered by now, so it is loaded already).
        from nbshelf.render.page import page_marking

        marking = page_marking(page)
        viewer.show_html(page, cell)
        if self._next_marking is None and marking == self.viewer_marking:
            # Until it has loaded, the viewer may still show the page before: same marking.
            self.setCurrentWidget(viewer)
        else:
            self._next_marking = marking
            self.show_outline()

    def _page_ready(self) -> None:
        if self._next_marking is None or self.viewer is None:
            return
        self.viewer_marking, self._next_marking = self._next_marking, None
        if self.currentWidget() is self.viewer:
            self.marking_shown.emit(self.marking)
        else:
            self.setCurrentWidget(self.viewer)

    def show_outline(self) -> None:
        """Back to the outline, while a new notebook renders."""
        self.setCurrentIndex(0)

    def set_report_view(self, on: bool) -> None:
        """Hide code cells (outputs and prose only), for readers who do not read code."""
        self.report_view = on
        if self.viewer is not None:
            self.viewer.set_report_view(on)

    def set_info(self, info: NotebookInfo) -> None:
        """Show what there is to show of ``info``."""
        items = "".join(f"<li>{html.escape(h)}</li>" for h in info.headings[:60])
        self.outline_title.setVisible(bool(items))
        self.outline.setText(f"<ul style='margin-left:-20px'>{items}</ul>" if items else "")


class HistoryDiff(QStackedWidget):
    """The History tab's rendered diff: a note until a page is ready, then the page in a
    viewer of its own (made when first needed), its marking in strips outside it.

    A page never shows under another page's marking: the note stands in until the next page
    has loaded, and the strips change with it.
    """

    NOTE = "Pick a version to see what changed from the one before it."
    #: the viewer now exists (NotebookViewer)
    viewer_created = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the viewer inside takes the focus
        self.note = _label(self.NOTE, selectable=False)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setStyleSheet(MUTED)
        self.addWidget(self.note)
        self._page_box = QWidget()
        layout = QVBoxLayout(self._page_box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.top_banner = MarkingBanner()
        self.bottom_banner = MarkingBanner()
        layout.addWidget(self.top_banner)
        layout.addWidget(self.bottom_banner)
        self.addWidget(self._page_box)
        self.viewer: NotebookViewer | None = None
        self._marking: str | None = None  # the marking of the page loading

    def show_note(self, text: str = "") -> None:
        """Show ``text`` (the hint when empty) in place of a page."""
        self._marking = None
        self.note.setText(text or self.NOTE)
        self.setCurrentWidget(self.note)

    def show_page(self, page: str) -> None:
        """Load a page made by ``render_diff_page``; it shows once loaded."""
        from nbshelf.render.page import page_marking

        if self.viewer is None:
            from nbshelf.ui.viewer import NotebookViewer

            self.viewer = NotebookViewer()
            self.viewer.page_ready.connect(self._page_ready)
            layout = self._page_box.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.insertWidget(1, self.viewer, 1)
            self.viewer_created.emit(self.viewer)
        self._marking = page_marking(page)
        self.viewer.show_html(page)

    def _page_ready(self) -> None:
        if self._marking is None:
            return  # a note was asked for since: it stays up
        for banner in (self.top_banner, self.bottom_banner):
            banner.set_marking(self._marking)
        self._marking = None
        self.setCurrentWidget(self._page_box)


def _run_columns() -> list[RecordColumn]:
    return [
        RecordColumn("Status", lambda r: r.status),
        RecordColumn("Started", lambda r: fmt.when(r.started)),
        RecordColumn("Cells", lambda r: str(r.cells_run)),
        RecordColumn("Stopped at", lambda r: "" if r.failed_cell is None
                     else f"cell {r.failed_cell + 1}"),
        RecordColumn("Version", lambda r: "current" if r.current_version else "older"),
        RecordColumn("Error", lambda r: r.error or ""),  # last: the long one takes the rest
    ]


def _similar_columns() -> list[RecordColumn]:
    def tip(hit: dict[str, Any]) -> str:
        return (f"{hit.get('title', '')}\n{hit.get('source', '')}: {hit.get('path', '')}\n"
                f"{_reasons(hit)}")

    # No Relation column: the reasons say it ("identical content", "near copy: ..."), and
    # the pane is narrow; the tooltip has everything.
    return [
        RecordColumn("Title", lambda h: str(h.get("title", "")), tip),
        RecordColumn("Source", lambda h: str(h.get("source", "")), tip),
        RecordColumn("Why", _reasons, tip),
    ]


def _reasons(hit: dict[str, Any]) -> str:
    return "; ".join(map(str, hit.get("reasons", [])))


def _version_columns() -> list[RecordColumn]:
    return [
        RecordColumn("#", lambda v: f"{v.number}{' (current)' if v.current else ''}"),
        RecordColumn("Seen", lambda v: fmt.when(v.seen_at)),
        RecordColumn("Modified", lambda v: fmt.when(v.mtime)),
        RecordColumn("Size", lambda v: fmt.size(v.size)),
        RecordColumn("Title", lambda v: v.title),
    ]


def _table(model: RecordModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    view.setShowGrid(False)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.horizontalHeader().setDefaultAlignment(
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    )
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    # The last column (the long text) takes what the others leave, elided, its tooltip
    # whole: never a horizontal scroll bar that hides it.
    header.setSectionResizeMode(model.columnCount() - 1, QHeaderView.ResizeMode.Stretch)
    return view


def _similar_table(model: RecordModel) -> QTableView:
    """The Similar tab's table: the reasons wrap onto more lines rather than being cut."""
    view = _table(model)
    view.setWordWrap(True)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    # Titles and reasons share what the source leaves: a long title is elided (whole in
    # the tooltip) rather than squeezing the reasons into a column of single words.
    view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return view


class NotebookPane(QWidget):
    """The right-hand side: one notebook, or a hint, or a message about a file.

    Signals:
        shown(NotebookInfo | None): the notebook now shown (None: none).
        add_folder_requested(str): the user asked to add this folder as a source.
        open_requested(int): the user asked to open another notebook (a similar one).
    """

    shown = Signal(object)
    add_folder_requested = Signal(str)
    #: a short message for the status bar ("Copied the code of cell 4")
    message = Signal(str)
    open_requested = Signal(int)

    EMPTY, NOTEBOOK, MESSAGE = range(3)
    RUNS_TAB = 3  # Notebook, Similar, History, Runs

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._serial = 0
        self._job: Job | None = None
        self.notebook_id: int | None = None
        self.info: NotebookInfo | None = None
        self._folder = ""
        self._find = ""  # the search the notebook was opened from: it opens at the best match
        self._page_shown = False  # the rendered page of ``notebook_id`` is in the viewer

        self.stack = QStackedWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        self.stack.addWidget(
            placeholder("No notebook selected", "Pick one in the list to see it here.")
        )

        page = QWidget()
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.setSpacing(0)
        self.header = Header()
        page_layout.addWidget(self.header)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet("color: palette(mid);")
        page_layout.addWidget(line)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.view = ViewSlot()
        reading = QWidget()
        reading_layout = QVBoxLayout(reading)
        reading_layout.setContentsMargins(0, 0, 0, 0)
        reading_layout.setSpacing(0)
        # The find bar: the words of the search the notebook was opened from (marked in
        # the page), or words typed in it; F3 / Shift+F3 step through them.
        self.find_row = FindBar()
        self.find_bar = self.find_row.edit
        self.find_row.step.connect(self._find_step)
        self.find_row.closed.connect(self._find_closed)
        self.find_bar.textEdited.connect(self._find_edited)
        self.find_row.hide()
        reading_layout.addWidget(self.find_row)
        self._hits = 0  # marks of the search in the page shown
        self._hit = 0  # the mark on screen (from 1), 0 before the first step
        self._first_hit = 0  # where the first step goes: the first mark in the best cell
        self._find_typed = False  # the bar holds the user's words, not the search's
        self.find_next_action = self._find_action("Find &Next", NEXT_KEYS, backward=False)
        self.find_previous_action = self._find_action("Find Pre&vious", PREVIOUS_KEYS,
                                                      backward=True)
        # The marking, above and below the rendered page and outside it: no page can reach
        # these (issue 13), and they always name the marking of the page on screen.
        self.top_banner = MarkingBanner()
        self.bottom_banner = MarkingBanner()
        for banner in (self.top_banner, self.bottom_banner):
            self.view.marking_shown.connect(banner.set_marking)
        reading_layout.addWidget(self.top_banner)
        reading_layout.addWidget(self.view, 1)
        reading_layout.addWidget(self.bottom_banner)
        self.tabs.addTab(reading, "Notebook")
        self.view.viewer_created.connect(
            lambda viewer: viewer.navigation_blocked.connect(self._link_clicked)
        )
        self.view.viewer_created.connect(lambda viewer: viewer.text_found.connect(self._text_found))
        self.similar_model = RecordModel(_similar_columns())
        self.similar_view = _similar_table(self.similar_model)
        self.similar_view.doubleClicked.connect(self._open_similar)
        # Until the library's first model is learned (a first sync) this says so, in place
        # of an empty list.
        self.similar_note = QLabel()
        self.similar_note.setWordWrap(True)
        self.similar_note.setMargin(12)
        self.similar_note.hide()
        similar_page = QWidget()
        similar_layout = QVBoxLayout(similar_page)
        similar_layout.setContentsMargins(0, 0, 0, 0)
        similar_layout.addWidget(self.similar_note)
        similar_layout.addWidget(self.similar_view, 1)
        self.tabs.addTab(similar_page, "Similar")
        self.history_model = RecordModel(_version_columns())
        self.history_view = _table(self.history_model)
        self.history_view.selectionModel().currentRowChanged.connect(self._show_version_diff)
        self.history_diff = HistoryDiff()
        history_page = QWidget()
        history_layout = QVBoxLayout(history_page)
        history_layout.setContentsMargins(0, 0, 0, 0)
        history_layout.setSpacing(0)
        history_layout.addWidget(self.history_view, 1)
        history_layout.addWidget(self.history_diff, 2)
        # Tab goes from the version list to the page (the viewer is made when first needed).
        self.history_diff.viewer_created.connect(
            lambda viewer: QWidget.setTabOrder(self.history_view, viewer))
        self.tabs.addTab(history_page, "History")
        self.runs_model = RecordModel(_run_columns())
        self.runs_view = _table(self.runs_model)
        # Its live output, a run's record and the list of runs, per notebook (runstab.py).
        self.runs_tab = RunsTab(self.runs_view, MarkingBanner(), MarkingBanner())
        self.runs_tab.open_requested.connect(self._open_run)
        self.tabs.addTab(self.runs_tab, "Runs")
        page_layout.addWidget(self.tabs, 1)
        self.stack.addWidget(page)

        message = QWidget()
        message_layout = QVBoxLayout(message)
        message_layout.setContentsMargins(32, 32, 32, 32)
        self.message_title = _label()
        self.message_title.setStyleSheet("font-size: 14pt; font-weight: 600;")
        self.message_text = _label()
        self.message_button = QPushButton()
        self.message_button.clicked.connect(
            lambda: self.add_folder_requested.emit(self._folder)
        )
        button_row = QHBoxLayout()
        button_row.addWidget(self.message_button)
        button_row.addStretch(1)
        message_layout.addWidget(self.message_title)
        message_layout.addWidget(self.message_text)
        message_layout.addLayout(button_row)
        message_layout.addStretch(1)
        self.stack.addWidget(message)

        runner.changed.connect(self._on_changes)

    # -- what the window asks ------------------------------------------------------------------

    def load(self, notebook_id: int | None, find: str = "") -> None:
        """Show this notebook (None: the "select one" hint). Reads on the read lane.

        Args:
            notebook_id: the notebook.
            find: the search it was opened from: the page opens at the cell of its best
                snippet for that text (at its top when none matches).
        """
        self.notebook_id = notebook_id
        self._find = find
        self._page_shown = False
        self._serial += 1
        if self._job is not None and not self._job.done:
            self._job.cancel()
        if notebook_id is None:
            self.info = None
            self.stack.setCurrentIndex(self.EMPTY)
            self.shown.emit(None)
            return
        serial = self._serial
        self._job = (
            self._runner.task(
                lambda lib, _job: (lib.show(notebook_id), lib.history(notebook_id)),
                label="Show notebook",
            )
            .on_success(lambda result: self._loaded(serial, *result))
            .on_failure(lambda err: self._load_failed(serial, err))
            .start()
        )
        self._load_similar(serial, notebook_id)
        self._load_runs(serial, notebook_id)
        if notebook_id != self.runs_tab.notebook_id:
            self.runs_tab.show_for(notebook_id)  # this notebook's run, never another's

    def reveal(self, find: str) -> None:
        """Scroll the notebook shown to its best snippet's cell for ``find`` (a search hit
        opened again); for another search than the page's, render it again with that
        search's words marked (none for no search)."""
        notebook_id, serial = self.notebook_id, self._serial
        if notebook_id is None or (not find and not self._find):
            return
        if find != self._find:
            self._find = find
            if self.info is not None and self.info.id == notebook_id:
                self._render(serial, notebook_id)  # opens at the best cell, marks in place
            return

        def done(cell: int | None) -> None:
            viewer = self.view.viewer
            if serial == self._serial and self._page_shown and cell is not None and viewer:
                self._hit = 0  # back to the start: the next step is the cell's first match
                viewer.scroll_to_cell(cell)

        # best_cell answers None for a notebook whose snippets cannot be read: no failure.
        self._runner.task(
            lambda lib, _job: best_cell(lib, notebook_id, find), label="Find the best match"
        ).on_success(done).start()

    # -- history ---------------------------------------------------------------------------------

    def _show_version_diff(self, current: Any, _previous: Any = None) -> None:
        """What changed in the picked version since the one before it, cell by cell, as a
        rendered page (made on the read lane, shown in the History tab's viewer)."""
        version = self.history_model.record(current.row()) if current.isValid() else None
        notebook_id = self.notebook_id
        if version is None or notebook_id is None:
            return
        if version.number == 1:
            self.history_diff.show_note("The first version this library saw.")
            return
        serial = self._serial
        self.history_diff.show_note(f"Comparing version {version.number - 1} with "
                                    f"{version.number}…")

        def diff(lib: Library, _job: Job) -> str:
            from nbshelf.notebook.diff import read_for_diff
            from nbshelf.publish.markings import notebook_marking
            from nbshelf.render.diffpage import render_diff_page

            old, new = version.number - 1, version.number
            changes = lib.diff(notebook_id, old, new, outputs=True)
            before = read_for_diff(lib.read_version(notebook_id, old))
            after = read_for_diff(lib.read_version(notebook_id, new))
            marking = notebook_marking(after, lib.settings.get("markings")) or ""
            return render_diff_page(changes, before, after, title=f"Version {old} → {new}",
                                    old_label=f"version {old}", new_label=f"version {new}",
                                    marking=marking)

        def done(page: str) -> None:
            if serial == self._serial:
                self.history_diff.show_page(page)

        def failed(err: NbshelfError) -> None:
            if serial == self._serial:
                self.history_diff.show_note(str(err))

        self._runner.task(diff, label="Compare versions").on_success(done).on_failure(
            failed).start()

    # -- runs ----------------------------------------------------------------------------------

    def run_started(self, notebook_id: int, kernel: str, marking: str = "") -> None:
        """A run began: its notebook's Runs tab shows it (brought forward if on screen)."""
        self.runs_tab.run_started(notebook_id, kernel, marking)
        if notebook_id == self.notebook_id:
            self.tabs.setCurrentIndex(self.RUNS_TAB)
            self._load_runs(self._serial, notebook_id)  # it is listed as running

    def run_output(self, notebook_id: int, key: int, section: str) -> None:
        """One cell's rendered section of the run of ``notebook_id``, new or changed."""
        self.runs_tab.run_output(notebook_id, key, section)

    def run_finished(self, notebook_id: int, result: Any, error: str) -> None:
        """The run ended: say how, and list it with the others."""
        self.runs_tab.run_finished(notebook_id, result, error)
        if notebook_id == self.notebook_id:
            self._load_runs(self._serial, notebook_id)

    def _load_runs(self, serial: int, notebook_id: int) -> None:
        def done(runs: list[Any]) -> None:
            if serial == self._serial:
                self.runs_model.set_records(runs)
                self.tabs.setTabText(self.RUNS_TAB, f"Runs ({len(runs)})" if runs else "Runs")

        self._runner.task(lambda lib, _job: lib.runs(notebook_id), label="Runs").on_success(
            done).on_failure(lambda _err: done([])).start()

    def _open_run(self, run: Any) -> None:
        """Show a run's record in the Runs tab, under a header of the run's own facts."""
        serial = self._serial

        def done(page: str) -> None:
            if serial == self._serial:
                self.runs_tab.show_record(run, page)

        self._runner.task(lambda lib, _job: lib.render_run(run.id), label="Show run").on_success(
            done).on_failure(lambda err: self.message.emit(str(err))).start()

    def find_in_notebook(self) -> None:
        """Show the find bar over the rendered notebook and put the cursor in it."""
        self.tabs.setCurrentIndex(0)
        self.find_row.show()
        self.find_bar.setFocus()
        self.find_bar.selectAll()

    @property
    def searched(self) -> str:
        """The search the notebook shown was opened from (its words are marked in the page)."""
        return self._find

    def find_next(self) -> None:
        """The next match of the find bar's words (F3): the search's marks in the page, or
        the words typed in the bar."""
        self._find_step(False)

    def find_previous(self) -> None:
        """The match before (Shift+F3)."""
        self._find_step(True)

    def _find_action(self, text: str, keys: tuple[str, ...], *, backward: bool) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.triggered.connect(lambda: self._find_step(backward))
        self.addAction(action)  # window-wide: the list may have the focus
        return action

    def _find_step(self, backward: bool) -> None:
        viewer = self.view.viewer
        if viewer is None or not self._page_shown:
            return
        self.tabs.setCurrentIndex(0)
        if self._find_typed or not self._hits:
            if self.find_bar.text():
                self.find_row.show()
                viewer.find_text(self.find_bar.text(), backward=backward)
            return
        if not self._hit:  # the first step: the first match in the cell the page opened at
            self._hit = self._first_hit if not backward else (self._first_hit - 2) % self._hits + 1
        else:
            self._hit = (self._hit + (-2 if backward else 0)) % self._hits + 1
        self.find_row.show()
        self.find_row.show_count(self._hit, self._hits)
        viewer.show_hit(self._hit)

    def _show_hits(self, find: str, marked: MarkedPage, cell: int | None) -> None:
        """The page shown has ``marked.count`` marks of the search ``find``: the bar says
        so (and stays closed when the page was opened from no search)."""
        self._hits, self._hit = marked.count, 0
        self._first_hit = marked.first_in(cell)
        if self._find_typed and self.find_row.isVisible():
            return  # the user's own words stay in the bar
        self._find_typed = False
        if not find.strip():
            self.find_row.hide()
            return
        self.find_bar.setText(find.strip())
        self.find_row.show_count(0, marked.count)
        self.find_row.show()

    def _find_edited(self, _text: str) -> None:
        self._find_typed = True  # the bar now finds what is typed in it, not the marks
        self.find_row.clear_count()

    def _find_closed(self) -> None:
        self._find_typed = False
        if self.view.viewer is not None:
            self.view.viewer.find_text("")  # the view's own highlight goes with the bar

    def _text_found(self, current: int, total: int) -> None:
        if self._find_typed:
            self.find_row.show_count(current, total)

    def _link_clicked(self, url: Any) -> None:
        """The page's own "Copy" links; every other link stays blocked (nothing leaves)."""
        parts = url.path().strip("/").split("/")
        if url.scheme() != "nbshelf" or len(parts) != 2 or parts[0] != "copy":
            return
        if not parts[1].isdigit() or self.notebook_id is None:
            return
        index, notebook_id = int(parts[1]), self.notebook_id

        def source(lib: Library, _job: Job) -> str:
            from nbshelf.notebook import iter_cells, parse_notebook

            raw = parse_notebook(lib.read_version(notebook_id), "x.ipynb", validate=False).raw
            return list(iter_cells(raw))[index].source

        def copied(text: str) -> None:
            from PySide6.QtGui import QGuiApplication

            QGuiApplication.clipboard().setText(text)
            self.message.emit(f"Copied the code of cell {index + 1}")

        self._runner.task(source, label="Copy cell").on_success(copied).start()

    def show_message(self, title: str, text: str, folder: str = "") -> None:
        """A message in place of a notebook; with ``folder``, offer to add it as a source."""
        self.notebook_id = None
        self.info = None
        self._serial += 1
        self._folder = folder
        self.message_title.setText(title)
        self.message_text.setText(text)
        self.message_button.setText(f"Add the folder “{Path(folder).name or folder}”…")
        self.message_button.setVisible(bool(folder))
        self.stack.setCurrentIndex(self.MESSAGE)
        self.shown.emit(None)

    # -- internals ---------------------------------------------------------------------------

    def _loaded(self, serial: int, info: NotebookInfo, history: list[VersionInfo]) -> None:
        if serial != self._serial:
            return
        self.info = info
        self.header.set_info(info)
        self.view.set_info(info)
        self.view.show_outline()
        self.view.ensure_viewer()
        self._render(serial, info.id)
        self.history_model.set_records(list(reversed(history)))  # newest first
        self.history_diff.show_note()
        self.tabs.setTabText(2, f"History ({len(history)})")
        self.stack.setCurrentIndex(self.NOTEBOOK)
        self.shown.emit(info)

    def _render(self, serial: int, notebook_id: int) -> None:
        report_view, find = self.view.report_view, self._find

        def render(lib: Library, _job: Job) -> tuple[MarkedPage, int | None]:
            page = lib.render(notebook_id, report_view=report_view)
            cell = best_cell(lib, notebook_id, find) if find else None
            return mark_page(page, find), cell  # the search's words marked in the page

        def done(result: tuple[MarkedPage, int | None]) -> None:
            if serial == self._serial:
                marked, cell = result
                self.view.show_page(marked.page, cell)
                self._page_shown = True
                self._show_hits(find, marked, cell)

        self._runner.task(render, label="Render notebook").on_success(done).on_failure(
            lambda _err: None
        ).start()

    def _load_failed(self, serial: int, err: NbshelfError) -> None:
        if serial == self._serial:
            self.show_message("This notebook cannot be shown", str(err))

    def _load_similar(self, serial: int, notebook_id: int) -> None:
        def fetch(lib: Library, _job: Job) -> list[dict[str, object]]:
            return [hit.to_json() for hit in lib.similar(notebook_id, limit=20)]

        def done(hits: list[dict[str, object]]) -> None:
            if serial == self._serial:
                self.similar_model.set_records(hits)

        def failed(err: NbshelfError) -> None:
            done([])
            if serial == self._serial and isinstance(err, SimilarLearning):
                self.similar_note.setText(str(err))
                self.similar_note.show()

        self.similar_model.set_records([])
        self.similar_note.hide()
        self._runner.task(fetch, label="Similar notebooks").on_success(done).on_failure(
            failed
        ).start()

    def _open_similar(self, index: Any) -> None:
        hit = self.similar_model.record(index.row())
        if hit is not None and "id" in hit:
            self.open_requested.emit(int(hit["id"]))

    def _on_changes(self, changes: Changes) -> None:
        if not changes.notebooks or self.notebook_id is None or changes.partial:
            return
        if changes.updated_ids is None or self.notebook_id in changes.updated_ids:
            self.load(self.notebook_id, self._find)  # still at its match, if it was
