"""Item models: the library list over notebook ids, and small tables of records.

``LibraryModel`` holds only the ordered ids of what the list shows. Rows are fetched lazily, a
block at a time, through the task runner's read lane the first time a view asks for them, and
kept in a cache; until then a row shows a muted placeholder. Filtering and sorting run on the
read lane too (:class:`RowIndex`), so the GUI thread never does I/O, and with 50,000 notebooks
only the visible rows are ever fetched for the default order.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QGuiApplication, QPalette

from nbshelf.library import Library
from nbshelf.records import NotebookHealth, NotebookRow
from nbshelf.ui import fmt, status
from nbshelf.ui.tasks import Changes, Job, TaskRunner

if TYPE_CHECKING:  # the search module loads Whoosh: not on the start path
    from nbshelf.search.service import IdMatches, Snippet

log = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
ROOT = _ROOT  # the invisible root index, for other models' default arguments
#: The flags of a row one can select in the app's flat tables.
ROW_FLAGS = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
)


class Column(IntEnum):
    """The library list's columns."""

    TITLE = 0  # the file name follows the title, muted (``Role.FILE_NAME``, rowtitle.py)
    FOLDER = 1
    SOURCE = 2
    LANGUAGE = 3
    MODIFIED = 4
    HEALTH = 5
    MARKING = 6


HEADERS = {
    Column.TITLE: "Title",
    Column.FOLDER: "Folder",
    Column.SOURCE: "Source",
    Column.LANGUAGE: "Language",
    Column.MODIFIED: "Modified",
    Column.HEALTH: "Health",
    Column.MARKING: "Marking",
}
HEADER_TIPS = {
    Column.TITLE: "The notebook's title, and its file name after it.",
    Column.FOLDER: "The notebook's folder inside its source.",
    Column.HEALTH: "Will it run here? Checked in the background after each sync and run; "
    "hover a cell for what to fix.",
    Column.MARKING: "The notebook's control marking (its first line or its metadata).",
}

Health = Mapping[int, NotebookHealth]


#: Rows read with a query's ids (a screenful or two); the rest load lazily, a block at a time.
PRIMED_ROWS = 100


class Role(IntEnum):
    """Data roles beyond Qt's own."""

    NOTEBOOK_ID = Qt.ItemDataRole.UserRole + 1
    RECORD = Qt.ItemDataRole.UserRole + 2  # the NotebookRow, or None while it loads
    SORT = Qt.ItemDataRole.UserRole + 3
    LOADED = Qt.ItemDataRole.UserRole + 4
    #: The text the list is a full-text search for ("" when it is not one): any column.
    SEARCH_TEXT = Qt.ItemDataRole.UserRole + 5
    #: The title cell's snippets for that search, best first (``list[Snippet]``, maybe
    #: empty), or None while they load or when the list is no search.
    SNIPPETS = Qt.ItemDataRole.UserRole + 6
    #: The notebook's file name (no ``.ipynb``), shown after its title; None while it loads.
    FILE_NAME = Qt.ItemDataRole.UserRole + 7
    #: In a search, the words of the query a partial match lacks (``tuple[str, ...]``);
    #: None for an exact match, or when the list is no search.
    MISSING = Qt.ItemDataRole.UserRole + 8
    #: In a search, why a notebook found by meaning is listed ("about: merge, join — close
    #: to “combine”"); None for a match by its words, or when the list is no search.
    REASON = Qt.ItemDataRole.UserRole + 9


_HEALTH_ROLES = (
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole,
)


@dataclass(frozen=True)
class ListQuery:
    """What the list shows: a filter text and a sort order."""

    text: str = ""
    column: Column = Column.TITLE
    descending: bool = False


@dataclass(frozen=True)
class QueryResult:
    """A query's answer, computed on the read lane.

    Attributes:
        ids: the notebooks to show, in order.
        rows: rows already read for some of them (to prime the cache), or None.
        total: how many notebooks the library holds (unfiltered).
        mode: ``all``; ``search`` (full text); ``title`` (a title filter, while the search
            index is not built yet or where search is not part of the build).
        matches: how many notebooks match the text (search shows only the best of them).
        searched: in ``search`` mode, the text given to the index (health filters taken
            out): what the rows' snippets are for.
        partial_matches: in ``search`` mode, how many notebooks match some of the words only
            (the best of them are listed after the exact matches).
        missing: the words each partial match lacks, by id.
        note: what the search says about words no notebook mentions, or None.
        reasons: why each notebook found by meaning is listed, by id.
        meaning_matches: in ``search`` mode, how many notebooks are close in meaning (not
            exact matches; the best of them are listed after the exact ones).
    """

    query: ListQuery
    ids: list[int]
    rows: dict[int, NotebookRow] | None
    total: int
    mode: str
    matches: int = 0
    searched: str = ""
    partial_matches: int = 0
    missing: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    note: str | None = None
    reasons: Mapping[int, str] = field(default_factory=dict)
    meaning_matches: int = 0


def _sort_key(
    column: Column, health: Health | None = None, markings: Mapping[int, str] | None = None
) -> Callable[[NotebookRow], Any] | None:
    """A simple key (fast C comparisons while the sort holds the GIL). Sorts start from the
    catalog's title order and are stable, so equal keys stay in title order."""
    if column is Column.HEALTH and health:
        return lambda r: status.rank(h.status if (h := health.get(r.id)) else None)
    if column is Column.MARKING and markings:
        return lambda r: markings.get(r.id, "\uffff").casefold()
    if column is Column.FOLDER:
        return lambda r: (folder_of(r.path).casefold(), file_name(r.path).casefold())
    if column is Column.SOURCE:
        return lambda r: r.source.casefold()
    if column is Column.LANGUAGE:
        return lambda r: (r.language or "\uffff").casefold()
    if column is Column.MODIFIED:
        return lambda r: r.mtime
    return None  # title, and the columns with no data yet: the catalog's title order


#: What starts a partial match's mark.
LACKS = "lacks: "


def lacks_text(words: tuple[str, ...]) -> str:
    """What a partial match's row says it lacks: ``lacks: forecast, series``."""
    return LACKS + ", ".join(words)


def file_name(path: str) -> str:
    """The file name of a notebook's path in its source, without ``.ipynb``: every file in
    the list is a notebook, and the column is narrow (the tooltip has the whole path)."""
    name = PurePosixPath(path).name
    return name[: -len(".ipynb")] if name.lower().endswith(".ipynb") else name


def folder_of(path: str) -> str:
    """The folder of a notebook's path in its source ("" at the source's top)."""
    parent = str(PurePosixPath(path).parent)
    return "" if parent == "." else parent


def row_tooltip(record: NotebookRow) -> str:
    """What a row's cells say on hover: the title, where it lives, and an unplugged source."""
    tip = f"{record.title}\n{record.source}: {record.path}"
    if not record.available:
        tip += (f"\nThe source “{record.source}” could not be reached at its last sync; "
                "the library keeps its notebooks.")
    return tip


class RowIndex:
    """Every list row, kept on the read lane so that filtering and sorting need no query per
    keystroke. Touch it only from read-lane tasks (they run one at a time, in order)."""

    def __init__(self) -> None:
        self._rows: dict[int, NotebookRow] | None = None
        self._stale: set[int] = set()

    def invalidate(self, ids: frozenset[int] | None) -> None:
        """Forget these rows (``None``: all of them); they are read again when next needed."""
        if ids is None:
            self._rows = None
            self._stale.clear()
        elif self._rows is not None:
            self._stale |= ids

    def rows(self, library: Library, order: list[int]) -> dict[int, NotebookRow]:
        """The rows of ``order`` (the library's current ids), reading only what is missing."""
        if self._rows is None:
            self._rows = {r.id: r for r in library.notebook_rows(order)}
            self._stale.clear()
            return self._rows
        wanted = set(order)
        for gone in [i for i in self._rows if i not in wanted]:
            del self._rows[gone]
        need = [i for i in order if i not in self._rows or i in self._stale]
        self._stale.clear()
        if need:
            self._rows.update((r.id, r) for r in library.notebook_rows(need))
        return self._rows


def run_query(
    library: Library,
    job: Job,
    index: RowIndex,
    query: ListQuery,
    health: Health | None = None,
    markings: Mapping[int, str] | None = None,
) -> QueryResult:
    """Compute what the list shows for ``query`` (read lane).

    With text: full-text search when the index can answer (best first: exact matches,
    then partial ones and those close in meaning, as the core orders them; unless the user
    sorted by another column), else a title filter. ``health:STATUS`` filters keep only the
    notebooks ``health`` (the last background check) gives that status.
    """
    order = library.notebook_ids()  # by title, then path
    text, statuses = status.split_health(query.text)
    text = text.strip()
    allowed: set[int] | None = None
    if statuses:
        allowed = {i for i, h in (health or {}).items() if h.status in statuses}
    sort_key = _sort_key(query.column, health, markings)
    if not text and sort_key is None:
        ids = order if allowed is None else [i for i in order if i in allowed]
        ids = ids[::-1] if query.descending else ids
        return QueryResult(query, ids, _first_rows(library, ids), len(order), "all", len(ids))
    mode, matches = "all", 0
    chosen: list[int] | None = None
    found: IdMatches | None = None
    if text:
        mode = "title"
        # Here, not at the top: Whoosh loads with the first search, off the start path.
        from nbshelf.search.index import IndexUnavailable
        from nbshelf.search.query import QueryTooLong
        from nbshelf.search.typed import as_you_type

        # the last word typed matches as a prefix too ("regre" lists "regression")
        typed = as_you_type(status.split_health(query.text)[0])
        try:
            # exact matches, then (when they are few) those with some of the words
            found = library.search_matches(typed, limit=200 if allowed is None else None)
            chosen, matches = found.ids, found.total
            if allowed is not None:  # every match, to keep those of the wanted health
                chosen = [i for i in chosen if i in allowed]
                matches = sum(1 for i in chosen
                              if i not in found.missing and i not in found.reasons)
            mode = "search"
        except IndexUnavailable:
            pass  # the writer builds the index after its first sync: filter titles now
        except QueryTooLong:
            pass  # a pasted wall of text: no title holds it either, so "No match"
    searched = text if mode == "search" else ""
    forgiving = _forgiving(found, chosen) if mode == "search" else {}
    if mode == "search" and sort_key is None and not query.descending:
        chosen = chosen or []
        return QueryResult(query, chosen, _first_rows(library, chosen), len(order), mode, matches,
                           searched, **forgiving)
    rows = index.rows(library, order)
    if chosen is None:
        needle = text.casefold()
        chosen = [
            i for i in order
            if i in rows and needle in rows[i].title.casefold()
            and (allowed is None or i in allowed)
        ]
        matches = len(chosen)
    chosen = [i for i in chosen if i in rows]
    if job.cancelled:
        return QueryResult(query, [], None, len(order), mode, 0)
    if mode == "search":  # back to title order first, as the other sorts expect
        chosen.sort(key=lambda i: (rows[i].title.casefold(), rows[i].path))
    if sort_key is not None:
        keys = {i: sort_key(rows[i]) for i in chosen}
        chosen.sort(key=keys.__getitem__, reverse=query.descending)  # stable both ways
    elif query.descending:
        chosen.reverse()
    return QueryResult(query, chosen, {i: rows[i] for i in chosen}, len(order), mode, matches,
                       searched, **forgiving)


def _forgiving(found: IdMatches | None, chosen: list[int] | None) -> dict[str, Any]:
    """The partial matches of a search among the ids listed: how many, what each lacks, and
    the note about the words no notebook mentions (``QueryResult``'s fields)."""
    if found is None:
        return {}
    listed = set(chosen or ())
    missing = {i: words for i, words in found.missing.items() if i in listed}
    reasons = {i: why for i, why in found.reasons.items() if i in listed}
    return {"partial_matches": found.partial_total, "missing": missing, "note": found.note,
            "reasons": reasons, "meaning_matches": found.meaning_total}


def _first_rows(library: Library, ids: list[int]) -> dict[int, NotebookRow]:
    """The rows of the first block, read with the ids: the list paints them at once, without
    asking again (on a 50,000-notebook library the first screen shows that much sooner)."""
    return {r.id: r for r in library.notebook_rows(ids[:PRIMED_ROWS])} if PRIMED_ROWS else {}


def _runs(positions: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted positions as (first, last) runs of consecutive numbers."""
    runs: list[tuple[int, int]] = []
    for p in sorted(set(positions)):
        if runs and runs[-1][1] == p - 1:
            runs[-1] = (runs[-1][0], p)
        else:
            runs.append((p, p))
    return runs


class SafeTableModel(QAbstractTableModel):
    """A table model whose ``data()`` never raises: subclasses implement ``_data``.

    A view calls ``data()`` thousands of times a second: a bug there is logged and the cell
    shows nothing, rather than an exception out of ``paintEvent``.
    """

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        try:
            return self._data(index, role)
        except Exception:
            log.exception("%s.data(%s, %s, %s)", type(self).__name__, index.row(),
                          index.column(), role)
            return None

    def _data(self, index: AnyIndex, role: int) -> Any:
        raise NotImplementedError

    def _headers(self) -> Sequence[str]:
        """The column titles (subclasses that show a header say them)."""
        return ()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        headers = self._headers()
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(headers)
        ):
            return headers[section]
        return None


class LibraryModel(SafeTableModel):
    """The library list: notebook ids in display order, rows fetched lazily in blocks.

    Signals:
        loaded(QueryResult): a query's ids are in place (counts, empty state, selection).
        filtering(str): a new filter text is set; its list is on its way.
    """

    loaded = Signal(object)
    filtering = Signal(str)
    #: How many sources the library has (at start and after each change of sources): the
    #: Source column says something only when there are two or more.
    sources_counted = Signal(int)

    #: Rows read per request; a screenful is ~40, so one request covers a scroll or two.
    BLOCK = 200
    #: Above this many separate insert/remove runs a change becomes one model reset.
    MAX_RUNS = 64

    def __init__(self, runner: TaskRunner, parent: Any = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._ids: list[int] = []
        self._pos: dict[int, int] | None = None
        self._rows: dict[int, NotebookRow] = {}
        self._missing: set[int] = set()  # ids the catalog no longer knows: never re-asked
        self._requested: set[int] = set()
        self._index = RowIndex()
        self._query = ListQuery()
        self._query_job: Job | None = None
        self._query_serial = 0
        self.total = 0
        self.mode = "all"
        self.loading = False
        self._health: Health = {}
        self._markings: Mapping[int, str] = {}
        self.source_count: int | None = None  # until first counted
        # The snippets of the rows of the current search, by id: all for ``search_text``.
        self.search_text = ""
        self._snippets: dict[int, list[Snippet]] = {}
        # The words each partial match of the current search lacks, by id (others: exact).
        self._lacking: Mapping[int, tuple[str, ...]] = {}
        # Why each notebook found by meaning is listed, by id.
        self._reasons: Mapping[int, str] = {}
        runner.changed.connect(self._on_changes)

    # -- what the window asks ----------------------------------------------------------------

    @property
    def query(self) -> ListQuery:
        """The filter and sort order in force (or being computed)."""
        return self._query

    def refresh(self) -> None:
        """Compute the list again for the current query (on the read lane)."""
        if self._query_job is not None and not self._query_job.done:
            self._query_job.cancel()
        self._query_serial += 1
        serial = self._query_serial
        if self.source_count is None:
            self._count_sources()
        query, index = self._query, self._index
        # Snapshots: these mappings are replaced whole, never changed, so the lane may read them.
        health, markings = self._health, self._markings
        self.loading = True
        self._query_job = (
            self._runner.task(
                lambda lib, job: run_query(lib, job, index, query, health, markings),
                label="List notebooks",
                urgent=True,
            )
            .on_success(lambda result: self._apply(serial, result))
            .start()
        )

    def set_filter(self, text: str) -> None:
        """Show only the notebooks matching ``text`` (empty: all)."""
        if text != self._query.text:
            self._query = ListQuery(text, self._query.column, self._query.descending)
            self.refresh()
            self.filtering.emit(text)

    @property
    def health(self) -> Health:
        """The last health check's answer, by notebook id (empty until one finished)."""
        return self._health

    def set_health(self, health: Health) -> None:
        """Show these health results (the whole library's, from a background check)."""
        self._health = dict(health)
        self._column_changed(Column.HEALTH)
        if self._query.column is Column.HEALTH or status.split_health(self._query.text)[1]:
            self.refresh()  # the order or the filter depends on health

    def update_health(self, health: Iterable[NotebookHealth]) -> None:
        """Replace the results of a few notebooks (after a run)."""
        merged = dict(self._health)
        merged.update((h.id, h) for h in health)
        self.set_health(merged)

    def add_health(self, health: Iterable[NotebookHealth]) -> None:
        """Show these notebooks' health too (rows checked while the full check waits): only
        their cells repaint; a health order or filter follows at the next query."""
        items = list(health)
        if not items:
            return
        merged = dict(self._health)  # replaced whole: a query on the lane may hold the old one
        merged.update((h.id, h) for h in items)
        self._health = merged
        self._emit_changed((h.id for h in items), Column.HEALTH, Column.HEALTH)

    @property
    def markings(self) -> Mapping[int, str]:
        """The markings shown, by notebook id (those with one)."""
        return self._markings

    def add_markings(self, markings: Mapping[int, str]) -> None:
        """Show these markings too, by notebook id (only their cells repaint)."""
        if not markings:
            return
        merged = dict(self._markings)
        merged.update(markings)
        self._markings = merged
        self._emit_changed(markings, Column.MARKING, Column.MARKING)

    def set_markings(self, markings: Mapping[int, str]) -> None:
        """Show these markings, by notebook id."""
        self._markings = dict(markings)
        self._column_changed(Column.MARKING)
        if self._query.column is Column.MARKING:
            self.refresh()

    def snippets_of(self, notebook_id: int) -> list[Snippet] | None:
        """The snippets shown under this notebook's title, or None (not fetched yet)."""
        return self._snippets.get(notebook_id)

    def add_snippets(self, text: str, found: Mapping[int, list[Snippet]]) -> None:
        """Show these snippets, by notebook id, found for the search ``text`` (dropped when
        the list has moved on to another text): only their title cells repaint."""
        if text != self.search_text or not text or not found:
            return
        self._snippets.update(found)
        self._emit_changed(found, Column.TITLE, Column.TITLE)

    def notebook_id(self, row: int) -> int | None:
        """The id shown at ``row``, or None."""
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def record(self, row: int) -> NotebookRow | None:
        """The cached row at ``row`` (None while it loads)."""
        notebook_id = self.notebook_id(row)
        return self._rows.get(notebook_id) if notebook_id is not None else None

    def row_of(self, notebook_id: int) -> int:
        """Where ``notebook_id`` is shown, or -1."""
        return self._positions().get(notebook_id, -1)

    # -- Qt model interface ------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(Column)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return ROW_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        column = Column(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(column)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(Column):
            return
        query = ListQuery(
            self._query.text, Column(column), order == Qt.SortOrder.DescendingOrder
        )
        if query != self._query:
            self._query = query
            self.refresh()

    # -- internals ---------------------------------------------------------------------------

    def _data(self, index: AnyIndex, role: int) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        row, column = index.row(), index.column()
        if not 0 <= row < len(self._ids) or not 0 <= column < len(Column):
            return None
        notebook_id = self._ids[row]
        if role == Role.NOTEBOOK_ID:
            return notebook_id
        if role == Role.SEARCH_TEXT:
            return self.search_text
        if role == Role.SNIPPETS:
            return self._snippets.get(notebook_id) if column == Column.TITLE else None
        if role == Role.MISSING:
            return self._lacking.get(notebook_id)
        if role == Role.REASON:
            return self._reasons.get(notebook_id)
        record = self._rows.get(notebook_id)
        if record is None and notebook_id not in self._missing:
            self._request(row)
        if role == Role.RECORD:
            return record
        if role == Role.FILE_NAME:
            return file_name(record.path) if record is not None else None
        if role == Role.LOADED:
            return record is not None
        if record is None:
            if role == Qt.ItemDataRole.DisplayRole:
                return "…" if column == Column.TITLE else ""
            if role == Qt.ItemDataRole.ForegroundRole:
                return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)
            return None
        if column == Column.HEALTH and role in _HEALTH_ROLES:
            return self._health_data(notebook_id, role)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(record, Column(column))
        if role == Qt.ItemDataRole.ToolTipRole:
            lacking = self._lacking.get(notebook_id, ())
            reason = self._reasons.get(notebook_id, "")
            if column == Column.TITLE and self._snippets.get(notebook_id):
                return self._snippets_tip(record, self._snippets[notebook_id], lacking, reason)
            tip = row_tooltip(record)
            if lacking:
                tip += f"\n{lacks_text(lacking)}"
            if reason:
                tip += f"\nFound by meaning: {reason}"
            if column == Column.MODIFIED:
                tip += f"\nModified {fmt.when(record.mtime)}"
            return tip
        if role == Role.SORT:
            key = _sort_key(Column(column), self._health, self._markings)
            return key(record) if key is not None else record.title.casefold()
        if role == Qt.ItemDataRole.FontRole and record.removed:
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and not record.available:
            # greyed, as the Sources dialog promises for an unplugged source's notebooks
            return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)
        return None

    def _health_data(self, notebook_id: int, role: int) -> Any:
        health = self._health.get(notebook_id)
        if health is None:
            return "" if role == Qt.ItemDataRole.DisplayRole else None
        if role == Qt.ItemDataRole.DisplayRole:
            return status.word(health.status)
        if role == Qt.ItemDataRole.DecorationRole:
            return status.icon(health.status)
        return status.tooltip(health)

    @staticmethod
    def _snippets_tip(record: NotebookRow, snippets: list[Snippet],
                      lacking: tuple[str, ...] = (), reason: str = "") -> str:
        """The title, where it lives, the words a partial match lacks, and every snippet
        with its cell: as rich text (it wraps), every piece of the notebook's own text
        escaped."""
        lines = [
            f"<b>{html.escape(record.title)}</b>",
            f"{html.escape(record.source)}: {html.escape(record.path)}",
        ]
        if lacking:
            lines[1] += f"<br><i>{html.escape(lacks_text(lacking))}</i>"
        if reason:
            lines[1] += f"<br><i>Found by meaning: {html.escape(reason)}</i>"
        lines += [
            f"<p style='margin-top:6px'><i>{html.escape(fmt.cell_label(s.cell, s.kind))}"
            f"</i><br>{fmt.marked_html(s.text, s.highlights)}</p>"
            for s in snippets
        ]
        return "<qt>" + "<br>".join(lines[:2]) + "".join(lines[2:]) + "</qt>"

    def _column_changed(self, column: Column) -> None:
        if self._ids:
            self.dataChanged.emit(self.index(0, column), self.index(len(self._ids) - 1, column))

    def _display(self, record: NotebookRow, column: Column) -> str:
        if column is Column.TITLE:
            return record.title
        if column is Column.FOLDER:
            return folder_of(record.path)
        if column is Column.SOURCE:
            return record.source
        if column is Column.LANGUAGE:
            return fmt.language(record.language)
        if column is Column.MODIFIED:
            return fmt.day(record.mtime)  # to the minute in the tooltip: room for titles
        if column is Column.MARKING:
            return self._markings.get(record.id, "")
        return ""

    def _positions(self) -> dict[int, int]:
        if self._pos is None:
            self._pos = {notebook_id: row for row, notebook_id in enumerate(self._ids)}
        return self._pos

    def _request(self, row: int) -> None:
        """Fetch the block around ``row`` on the read lane (once per id)."""
        if self._ids[row] in self._requested:
            return
        start = row - row % self.BLOCK
        wanted = [
            i
            for i in self._ids[start : start + self.BLOCK]
            if i not in self._rows and i not in self._requested and i not in self._missing
        ]
        if not wanted:
            return
        self._requested.update(wanted)
        (
            self._runner.task(
                lambda lib, _job: lib.notebook_rows(wanted), label="Read rows", urgent=True
            )
            .on_success(lambda rows: self._rows_arrived(wanted, rows))
            .on_finished(lambda: self._requested.difference_update(wanted))
            .start()
        )

    def _reread(self, ids: list[int]) -> None:
        """Read these cached rows again on the read lane; they stay shown until then."""
        if not ids:
            return
        self._runner.task(
            lambda lib, _job: lib.notebook_rows(ids), label="Read rows", urgent=True
        ).on_success(lambda rows: self._rows_arrived(ids, rows)).start()

    def _rows_arrived(self, asked: list[int], rows: list[NotebookRow]) -> None:
        for record in rows:
            self._rows[record.id] = record
        self._missing.update(set(asked) - {r.id for r in rows})
        self._emit_changed(asked)

    def _emit_changed(
        self, ids: Iterable[int], first_column: int = 0, last_column: int | None = None
    ) -> None:
        """Ranged ``dataChanged`` over the rows showing these ids (all columns, or these)."""
        positions = self._positions()
        runs = _runs(positions[i] for i in ids if i in positions)
        if len(runs) > self.MAX_RUNS:
            runs = [(runs[0][0], runs[-1][1])]
        last = len(Column) - 1 if last_column is None else last_column
        for first, end in runs:
            self.dataChanged.emit(self.index(first, first_column), self.index(end, last))

    def _count_sources(self) -> None:
        self.source_count = self.source_count or 0  # asked: not again until it changes
        self._runner.task(
            lambda lib, _job: len(lib.list_sources()), label="Count sources", urgent=True
        ).on_success(self._sources_arrived).start()

    def _sources_arrived(self, count: int) -> None:
        self.source_count = count
        self.sources_counted.emit(count)

    def _on_changes(self, changes: Changes) -> None:
        if changes.sources and not changes.partial:
            self._count_sources()
        if not changes.notebooks:
            return
        index, stale = self._index, changes.updated_ids
        forget = stale
        if changes.sources and not changes.partial:
            # A finished sync may have found a source unplugged (or back): any row's
            # availability may differ. The rows read so far are read again (shown as they
            # were meanwhile), and the read lane's rows at the next query.
            forget = None
            if stale is not None:  # (None: every row is read again anyway)
                self._reread([i for i in self._rows if i not in stale])
        if stale is None:
            self._rows.clear()
            self._missing.clear()
            self._snippets.clear()
        else:
            for notebook_id in stale:
                self._rows.pop(notebook_id, None)
                self._missing.discard(notebook_id)
                self._snippets.pop(notebook_id, None)
        # The index lives on the read lane: forget its rows there, before the next query.
        self._runner.task(
            lambda _lib, _job: index.invalidate(forget), label="Forget rows", urgent=True
        ).start()
        self.refresh()
        if stale:
            self._emit_changed(stale)  # cells still shown repaint (and re-read) now

    def _apply(self, serial: int, result: QueryResult) -> None:
        if serial != self._query_serial:
            return  # a newer query is on its way
        if result.rows:
            self._rows.update(result.rows)
        self.total = result.total
        self.mode = result.mode
        lacking_changed = result.missing != self._lacking or result.reasons != self._reasons
        self._lacking = result.missing
        self._reasons = result.reasons
        searched = result.searched != self.search_text
        if searched:
            self.search_text = result.searched
            self._snippets.clear()
        self._set_ids(result.ids)
        if searched or lacking_changed:
            self._column_changed(Column.TITLE)  # the same rows, another text: new snippets
        self.loading = False
        self.loaded.emit(result)

    def _set_ids(self, new: list[int]) -> None:
        old = self._ids
        if old == new:
            return
        old_set, new_set = set(old), set(new)
        if old_set == new_set:
            self._reorder(new)
            return
        kept_old = [i for i in old if i in new_set]
        kept_new = [i for i in new if i in old_set]
        removed = _runs(p for p, i in enumerate(old) if i not in new_set)
        added = _runs(p for p, i in enumerate(new) if i not in old_set)
        if kept_old != kept_new or len(removed) + len(added) > self.MAX_RUNS or not old:
            self.beginResetModel()
            self._ids = list(new)
            self._pos = None
            self.endResetModel()
            return
        # Survivors keep their relative order: remove and insert in place, so the selection
        # and the scroll position stay where the user left them while a sync lands.
        for first, last in reversed(removed):
            self.beginRemoveRows(_ROOT, first, last)
            del self._ids[first : last + 1]
            self._pos = None
            self.endRemoveRows()
        for first, last in added:  # ascending: rows before ``first`` already match ``new``
            self.beginInsertRows(_ROOT, first, last)
            self._ids[first:first] = new[first : last + 1]
            self._pos = None
            self.endInsertRows()

    def _reorder(self, new: list[int]) -> None:
        # PySide6 exposes only the argument-less overloads of the layout signals.
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        held = [(p.row(), p.column()) for p in persistent]
        old = self._ids
        self._ids = list(new)
        self._pos = None
        positions = self._positions()
        self.changePersistentIndexList(
            persistent,
            [self.index(positions[old[row]], column) for row, column in held],
        )
        self.layoutChanged.emit()


@dataclass(frozen=True)
class RecordColumn:
    """One column of a :class:`RecordModel`: a header and how to show a record in it."""

    title: str
    text: Callable[[Any], str]
    tooltip: Callable[[Any], str] | None = None


class RecordModel(SafeTableModel):
    """A small table of plain records (sources, problems): replaced whole on each refresh.

    ``muted(record)`` greys a row out (an unavailable source).
    """

    def __init__(
        self,
        columns: Sequence[RecordColumn],
        muted: Callable[[Any], bool] | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._muted = muted
        self._records: list[Any] = []

    def set_records(self, records: Sequence[Any]) -> None:
        """Show these records instead."""
        self.beginResetModel()
        self._records = list(records)
        self.endResetModel()

    def records(self) -> list[Any]:
        """The records shown, in order."""
        return list(self._records)

    def record(self, row: int) -> Any:
        """The record at ``row`` or None."""
        return self._records[row] if 0 <= row < len(self._records) else None

    def rowCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return ROW_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def _headers(self) -> Sequence[str]:
        return [column.title for column in self._columns]

    def _data(self, index: AnyIndex, role: int) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        record = self.record(index.row())
        if record is None or not 0 <= index.column() < len(self._columns):
            return None
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip(record) if column.tooltip else column.text(record)
        if role == Qt.ItemDataRole.ForegroundRole and self._muted and self._muted(record):
            return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)
        if role == Role.RECORD:
            return record
        return None
