"""The filter sidebar: shelves (saved searches) and facets with counts for the current query.

Clicking a facet adds its filter to the search (``lang:julia``, ``source:team``,
``import:pandas``, ``tag:x``, ``health:failing``) or, when the search has it already, takes it
out. Clicking a shelf runs its query. The sidebar only asks: the window owns the search bar.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QFont, QGuiApplication, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QListView,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from nbshelf.library import Library
from nbshelf.records import NotebookHealth
from nbshelf.ui import fmt, status
from nbshelf.ui.models import (
    ROOT,
    ROW_FLAGS,
    AnyIndex,
    RecordColumn,
    RecordModel,
    Role,
    SafeTableModel,
)
from nbshelf.ui.tasks import Changes, Job, Lane, TaskRunner

log = logging.getLogger(__name__)

_ROOT = ROOT
MUTED = "color: palette(placeholder-text);"

#: The facet groups: (key in ``Library.facets``, heading, the query filter it adds).
GROUPS = (
    ("language", "Language", "lang"),
    ("source", "Source", "source"),
    ("import", "Module", "import"),
    ("tag", "Tag", "tag"),
    ("health", "Health", "health"),
)
#: Values shown per group (the most frequent); the full lists are long on big libraries.
PER_GROUP = 8
#: Shelves shown without scrolling.
SHELF_ROWS = 8


@dataclass(frozen=True)
class Facet:
    """One line of the facet list: a group heading, or a value with its count."""

    group: str
    label: str
    term: str = ""  # the filter this value adds to the query; empty for a heading
    count: int = 0
    active: bool = False
    expander: bool = False  # "12 more…" / "Fewer": shows or hides the group's other values

    @property
    def heading(self) -> bool:
        """True for a group's heading line."""
        return not self.term and not self.expander


@dataclass(frozen=True)
class Shelf:
    """A saved search: the setting ``shelves`` keeps each as ``Name = query``."""

    name: str
    query: str

    @classmethod
    def parse(cls, entry: str) -> Shelf:
        """Read one ``Name = query`` entry (a bare query names itself)."""
        name, sep, query = entry.partition("=")
        if not sep:
            return cls(entry.strip(), entry.strip())
        return cls(name.strip() or query.strip(), query.strip())

    def entry(self) -> str:
        """The setting's form of this shelf."""
        return f"{self.name} = {self.query}"


def filter_token(prefix: str, value: str) -> str:
    """``lang:julia``: the filter a facet value stands for (quoted if it has spaces)."""
    value = value.lower()
    return f'{prefix}:"{value}"' if any(c.isspace() for c in value) else f"{prefix}:{value}"


def toggle_filter(text: str, token: str) -> str:
    """``text`` with ``token`` added at the end, or taken out when it is there already."""
    words = text.split()
    kept = [w for w in words if w.lower() != token.lower()]
    if len(kept) == len(words):
        kept.append(token)
    return " ".join(kept)


def active_filters(text: str) -> set[str]:
    """The lower-cased words of ``text`` (a facet is active when its token is one)."""
    return {w.lower() for w in text.split()}


@dataclass(frozen=True)
class FacetCounts:
    """What the read lane found for a query: index facets (None: no index yet) and health."""

    text: str
    groups: dict[str, dict[str, int]] | None
    health: dict[str, int] | None


def count_facets(
    library: Library, job: Job, text: str, health: Mapping[int, NotebookHealth]
) -> FacetCounts:
    """Facet counts for ``text`` (read lane).

    A ``health:`` filter narrows every group, as the query's own filters do: the index does
    not know health, so it counts among the notebooks the last check gave that health.
    """
    from nbshelf.search.index import IndexUnavailable  # Whoosh: loaded here, off the start path
    from nbshelf.search.typed import as_you_type

    rest, statuses = status.split_health(text)
    rest = as_you_type(rest)  # counted as the list searches it: the last word as a prefix too
    allowed = {i for i, h in health.items() if h.status in statuses} if statuses else None
    groups: dict[str, dict[str, int]] | None
    try:
        found = library.facets(rest, ids=allowed)
    except IndexUnavailable:
        groups = None
    else:
        # every index group, empty when it has no values: the health group is counted below
        groups = {key: dict(found.get(key, {})) for key, _, _ in GROUPS if key != "health"}
    if job.cancelled or not health:
        return FacetCounts(text, groups, None)
    matching: set[int] | None = None
    if rest:
        try:
            # the exact matches, as the facet counts above have them
            matching = set(library.search_ids(rest, limit=None, partial=False)[0])
        except IndexUnavailable:
            matching = None
    counted = Counter(
        h.status for i, h in health.items()
        if (matching is None or i in matching) and (allowed is None or i in allowed)
    )
    return FacetCounts(text, groups, dict(counted))


class FacetModel(SafeTableModel):
    """The facet list: headings and values, two columns (label, count). Replaced whole."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._facets: list[Facet] = []

    def set_facets(self, facets: Sequence[Facet]) -> None:
        """Show these lines instead."""
        self.beginResetModel()
        self._facets = list(facets)
        self.endResetModel()

    def facet(self, row: int) -> Facet | None:
        """The line at ``row``, or None."""
        return self._facets[row] if 0 <= row < len(self._facets) else None

    def facets(self) -> list[Facet]:
        """Every line, in order."""
        return list(self._facets)

    def rowCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._facets)

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else 2

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        facet = self.facet(index.row()) if index.isValid() else None
        if facet is None:
            return Qt.ItemFlag.NoItemFlags
        if facet.heading:
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren
        return ROW_FLAGS

    def _headers(self) -> Sequence[str]:
        return ("Filter", "Notebooks")

    def _data(self, index: AnyIndex, role: int) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        facet = self.facet(index.row())
        if facet is None or index.column() not in (0, 1):
            return None
        column = index.column()
        if role == Role.RECORD:
            return facet
        if facet.expander:
            return self._expander_data(facet, column, role)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return facet.label
            return "" if facet.heading else f"{facet.count:,}"
        if facet.heading:
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(True)
                return font
            return None
        if role == Qt.ItemDataRole.CheckStateRole and column == 0:
            return Qt.CheckState.Checked if facet.active else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DecorationRole and column == 0 and facet.group == "health":
            return status.icon(facet.term.partition(":")[2])
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 1:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.ToolTipRole:
            verb = "Remove" if facet.active else "Show only"
            return f"{verb} {facet.term} ({fmt.count(facet.count, 'notebook')})"
        return None


    @staticmethod
    def _expander_data(facet: Facet, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return facet.label if column == 0 else ""
        if role == Qt.ItemDataRole.ForegroundRole:
            return QGuiApplication.palette().color(QPalette.ColorRole.Link)
        if role == Qt.ItemDataRole.ToolTipRole:
            return ("Show only the most frequent" if facet.label == FEWER
                    else "Show every value of this group")
        return None


#: The expander's label when a group shows all its values.
FEWER = "Fewer"


def facet_lines(counts: FacetCounts, text: str,
                expanded: frozenset[str] = frozenset()) -> list[Facet]:
    """The facet list for ``counts``, with the filters of ``text`` marked active (they stay
    listed even when nothing else matches, so they can be clicked off). A group with more
    than ``PER_GROUP`` values shows the most frequent and a "N more…" line, or all of them
    and "Fewer" when it is in ``expanded``."""
    active = active_filters(text)
    lines: list[Facet] = []
    for key, heading, prefix in GROUPS:
        values = (counts.health if key == "health" else (counts.groups or {}).get(key)) or {}
        if key == "health":
            ordered = sorted(values.items(), key=lambda kv: status.rank(kv[0]))
        else:
            ordered = sorted(values.items(), key=lambda kv: (-kv[1], kv[0].casefold()))
        hidden = len(ordered) - PER_GROUP
        shown = ordered if key in expanded else ordered[:PER_GROUP]
        tokens = {filter_token(prefix, v) for v, _ in shown}
        for word in sorted(active):
            name, sep, value = word.partition(":")
            if sep and value and _prefix_of(name) == prefix and word not in tokens:
                shown.append((value.strip('"'), values.get(value, 0)))
        if not shown:
            continue
        lines.append(Facet(key, heading))
        for value, count in shown:
            token = filter_token(prefix, value)
            lines.append(Facet(key, _label(key, value), token, count, token in active))
        if hidden > 0:
            label = FEWER if key in expanded else f"{hidden:,} more…"
            lines.append(Facet(key, label, expander=True))
    return lines


def _prefix_of(name: str) -> str:
    aliases = {"language": "lang", "imports": "import", "module": "import", "tags": "tag"}
    return aliases.get(name, name)


def _label(group: str, value: str) -> str:
    if group == "language":
        return fmt.language(value)
    if group == "health":
        return status.word(value)
    return value


class Sidebar(QWidget):
    """Shelves and facets, beside the list.

    Signals:
        query_requested(str): run this search (a shelf clicked, a facet toggled).
    """

    query_requested = Signal(str)

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._text = ""
        self._health: Mapping[int, NotebookHealth] = {}
        self._facet_job: Job | None = None
        self._counts: FacetCounts | None = None
        self.expanded: set[str] = set()
        self._serial = 0
        self._writable = False
        self._empty = False
        self.started = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)

        layout.addWidget(_heading("Shelves"))
        self.shelf_model = RecordModel(
            [RecordColumn("Shelf", lambda s: s.name, lambda s: f"{s.name}: {s.query}")]
        )
        self.shelves = QListView()
        self.shelves.setObjectName("shelves")
        self.shelves.setModel(self.shelf_model)
        self.shelves.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.shelves.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.shelves.clicked.connect(self._shelf_clicked)
        self.shelves.activated.connect(self._shelf_clicked)
        remove = QAction("Remove Shelf", self.shelves)
        remove.setShortcut(QKeySequence.StandardKey.Delete)
        remove.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        remove.triggered.connect(self.remove_selected)
        self.shelves.addAction(remove)
        self.shelves.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        layout.addWidget(self.shelves)
        self.no_shelves = QLabel("Save a search to keep it here.")
        self.no_shelves.setWordWrap(True)
        self.no_shelves.setStyleSheet(MUTED)
        layout.addWidget(self.no_shelves)
        row = QHBoxLayout()
        self.save_button = QPushButton("Save Search…")
        self.save_button.setToolTip("Keep the current search as a shelf (Ctrl+D)")
        self.save_button.clicked.connect(self.ask_save)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected shelf (Delete)")
        self.remove_button.clicked.connect(self.remove_selected)
        row.addWidget(self.save_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout.addLayout(row)

        layout.addSpacing(8)
        layout.addWidget(_heading("Filters"))
        self.facet_note = QLabel()
        self.facet_note.setWordWrap(True)
        self.facet_note.setStyleSheet(MUTED)
        layout.addWidget(self.facet_note)
        self.facet_model = FacetModel(self)
        self.facets = QTreeView()
        self.facets.setObjectName("facets")
        self.facets.setModel(self.facet_model)
        self.facets.setRootIsDecorated(False)
        self.facets.setUniformRowHeights(True)
        self.facets.setHeaderHidden(True)
        self.facets.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.facets.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.facets.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        header = self.facets.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Sized from the counts (see _show_facets): ResizeToContents would also make room for
        # the hidden header's "Notebooks", and take it from the labels.
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        self.facets.clicked.connect(self._facet_clicked)
        self.facets.activated.connect(self._facet_clicked)
        layout.addWidget(self.facets, 1)
        layout.addStretch(0)  # an empty facet list is hidden: the rest stays at the top

        self._update_buttons()
        runner.changed.connect(self._on_changes)
        self.load_shelves()

    # -- what the window asks ----------------------------------------------------------------

    @property
    def text(self) -> str:
        """The search the facets count for."""
        return self._text

    def set_query(self, text: str) -> None:
        """The search changed (debounced by the window): count facets for it."""
        self._text = text
        self.started = True
        self._mark_shelf()
        self._update_buttons()
        self.refresh_facets()

    def set_health(self, health: Mapping[int, NotebookHealth]) -> None:
        """A health check finished: count its statuses too."""
        self._health = health
        if self.started:
            self.refresh_facets()

    def set_library_size(self, total: int) -> None:
        """How many notebooks the library holds (from the list). An empty library has no
        counts, and its index is not opened before there is something in it: a searcher
        opened on an empty Whoosh index cannot be refreshed later."""
        empty = total == 0
        if empty != self._empty:
            self._empty = empty
            if self.started:
                self.refresh_facets()

    def set_writable(self, writable: bool) -> None:
        """Shelves are saved in the library: only a writer may change them."""
        self._writable = writable
        self._update_buttons()

    def refresh_facets(self) -> None:
        """Count the facets again (read lane); an older count still on its way is dropped."""
        if self._facet_job is not None and not self._facet_job.done:
            self._facet_job.cancel()
        self._serial += 1
        serial, text, health = self._serial, self._text, self._health
        if self._empty:
            self._show_facets(serial, FacetCounts(text, {}, None))
            return
        self._facet_job = (
            self._runner.task(
                lambda lib, job: count_facets(lib, job, text, health), label="Count filters"
            )
            .on_success(lambda counts: self._show_facets(serial, counts))
            .start()
        )

    def load_shelves(self) -> None:
        """Read the shelves from the library's settings (read lane)."""
        self._runner.task(
            lambda lib, _job: list(lib.settings.get("shelves")), label="Read shelves"
        ).on_success(self._show_shelves).start()

    def add_shelf(self, name: str, query: str) -> None:
        """Save ``query`` as the shelf ``name`` (replacing one of that name), write lane."""
        shelf = Shelf(name.replace("=", "-").strip() or query.strip(), query.strip())
        if not shelf.query:
            return

        def save(lib: Library, _job: Job) -> list[str]:
            kept = [e for e in lib.settings.get("shelves") if Shelf.parse(e).name != shelf.name]
            lib.settings.set("shelves", [*kept, shelf.entry()])
            return list(lib.settings.get("shelves"))

        self._runner.task(save, lane=Lane.WRITE, label="Save a shelf").on_success(
            self._show_shelves
        ).start()

    def remove_shelf(self, name: str) -> None:
        """Forget the shelf ``name`` (write lane)."""

        def remove(lib: Library, _job: Job) -> list[str]:
            kept = [e for e in lib.settings.get("shelves") if Shelf.parse(e).name != name]
            lib.settings.set("shelves", kept)
            return kept

        self._runner.task(remove, lane=Lane.WRITE, label="Remove a shelf").on_success(
            self._show_shelves
        ).start()

    def remove_selected(self) -> None:
        """Remove the shelf selected in the list."""
        shelf = self._selected_shelf()
        if shelf is not None and self._writable:
            self.remove_shelf(shelf.name)

    def ask_save(self) -> None:
        """Ask for a name, and save the current search under it."""
        if not self._text.strip() or not self._writable:
            return
        name, ok = QInputDialog.getText(
            self, "Save Search", "Keep this search on a shelf named:", text=self._text.strip()
        )
        if ok and name.strip():
            self.add_shelf(name, self._text)

    # -- internals ---------------------------------------------------------------------------

    def _selected_shelf(self) -> Shelf | None:
        rows = self.shelves.selectionModel().selectedRows()
        return self.shelf_model.record(rows[0].row()) if rows else None

    def _show_shelves(self, entries: list[str]) -> None:
        self.shelf_model.set_records([Shelf.parse(e) for e in entries if e.strip()])
        count = self.shelf_model.rowCount()
        self.no_shelves.setVisible(count == 0)
        self.shelves.setVisible(count > 0)
        if count:  # as tall as its shelves, up to a screenful of them
            row = max(self.shelves.sizeHintForRow(0), self.fontMetrics().height() + 4)
            frame = 2 * self.shelves.frameWidth() + 2
            self.shelves.setFixedHeight(min(count, SHELF_ROWS) * row + frame)
        self._mark_shelf()

    def _mark_shelf(self) -> None:
        """Select the shelf whose query is the search shown (none when it is another)."""
        wanted = " ".join(self._text.split())
        selection = self.shelves.selectionModel()
        for row, shelf in enumerate(self.shelf_model.records()):
            if " ".join(shelf.query.split()) == wanted and wanted:
                self.shelves.setCurrentIndex(self.shelf_model.index(row, 0))
                break
        else:
            selection.clearSelection()
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.save_button.setEnabled(self._writable and bool(self._text.strip()))
        self.remove_button.setEnabled(
            self._writable and self.shelves.selectionModel().hasSelection()
        )

    def _shelf_clicked(self, index: QModelIndex) -> None:
        shelf = self.shelf_model.record(index.row())
        if shelf is not None:
            self.query_requested.emit(shelf.query)
        self._update_buttons()

    def _facet_clicked(self, index: QModelIndex) -> None:
        facet = self.facet_model.facet(index.row())
        if facet is not None and facet.expander:
            self.expanded.symmetric_difference_update({facet.group})
            if self._counts is not None:
                self._show_facets(self._serial, self._counts)
                self._focus_expander(facet.group)
        elif facet is not None and not facet.heading:
            self.query_requested.emit(toggle_filter(self._text, facet.term))

    def _focus_expander(self, group: str) -> None:
        """Keep the keyboard on the group's expander after it changed the list."""
        for row, facet in enumerate(self.facet_model.facets()):
            if facet.expander and facet.group == group:
                self.facets.setCurrentIndex(self.facet_model.index(row, 0))
                self.facets.scrollTo(self.facet_model.index(row, 0))

    def _show_facets(self, serial: int, counts: FacetCounts) -> None:
        if serial != self._serial:
            return
        self._counts = counts
        self.facet_model.set_facets(facet_lines(counts, self._text, frozenset(self.expanded)))
        self.facets.setVisible(self.facet_model.rowCount() > 0)
        self.facets.header().resizeSection(1, max(24, self.facets.sizeHintForColumn(1)))
        rest = status.split_health(self._text)[0].strip()
        if self._empty:
            note = "Counts of languages, sources, modules and tags appear here once the "
            note += "library has notebooks."
        elif counts.groups is None:
            note = (
                "Language, source, module and tag counts appear once the search index is "
                "built (after the first sync)."
            )
        elif rest:
            note = f"Counts for “{rest}”. Click one to narrow the search; again to undo."
        else:
            note = "Counts for the whole library. Click one to show only those notebooks."
        if not self._health and not self._empty:
            note += " Health counts follow the background check."
        self.facet_note.setText(note)

    def _on_changes(self, changes: Changes) -> None:
        if changes.notebooks and not changes.partial and self.started:
            self.refresh_facets()


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: 600;")
    return label
