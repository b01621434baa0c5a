"""Search hits in the library list: each title with its best snippet beneath it.

The list of a search comes from ``Library.search_matches`` (ids only: it shows as soon as the
index answers; when few notebooks have every word, those with some of them follow, each with
the words it lacks). :class:`SnippetFetcher` then asks ``Library.snippets`` for the hits on
screen, from the read lane, a batch at a time; the model keeps them for the current search text, and
:class:`HitDelegate` paints them under the titles. Opening a hit scrolls the viewer to its
best snippet's cell (:func:`best_cell`).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from nbshelf.errors import NbshelfError
from nbshelf.library import Library
from nbshelf.ui import fmt
from nbshelf.ui.models import LACKS, LibraryModel, QueryResult, Role
from nbshelf.ui.onscreen import OnScreenRows, Work
from nbshelf.ui.tasks import Job, TaskRunner

if TYPE_CHECKING:  # the search module loads Whoosh: not on the start path
    from PySide6.QtWidgets import QTableView

    from nbshelf.render.highlight_terms import MarkedPage
    from nbshelf.search.service import Snippet

log = logging.getLogger(__name__)

#: Notebooks per request: the top of the screen fills in first, and a new query waits for
#: no more than one small batch on the read lane.
SNIPPET_BATCH = 12
#: The search box already waits for a pause in typing: snippets follow the list quickly.
SNIPPET_SETTLE_MS = 40

AnyIndex = QModelIndex | QPersistentModelIndex
_WORD_END = re.compile(r"^\w+")


def fetch_snippets(
    library: Library, job: Job, text: str, ids: list[int]
) -> tuple[str, dict[int, list[Snippet]]]:
    """The snippets of these notebooks for ``text``, by id, and the text (read lane).

    A notebook that cannot give any (gone meanwhile, unreadable) gets none; the others still
    do. Stops early when the job is cancelled (the query changed).
    """
    from nbshelf.search.typed import as_you_type  # loads Whoosh: not on the start path

    typed = as_you_type(text)  # as the list searched it: the last word as a prefix too
    found: dict[int, list[Snippet]] = {}
    for notebook_id in ids:
        if job.cancelled:
            break
        try:
            found[notebook_id] = library.snippets(notebook_id, typed)
        except NbshelfError as err:
            log.info("no snippets for notebook %s: %s", notebook_id, err)
            found[notebook_id] = []
    return text, found


def best_cell(library: Library, notebook_id: int, text: str) -> int | None:
    """The cell of the notebook's best snippet for ``text``, where the viewer opens it (read
    lane); for a notebook found by meaning (no cell has the words), the cell where what it
    is about is densest; None when neither, or the snippets cannot be read (the notebook
    then opens at its top, as any other)."""
    from nbshelf.search.typed import as_you_type

    typed = as_you_type(text)
    try:
        snippets = library.snippets(notebook_id, typed)
        if snippets:
            return snippets[0].cell
        # no cell has the words: a hit found by meaning opens where its topic is densest
        meant = library.searching.meaning_of(library.notebooks.show(notebook_id).content_hash,
                                             typed)
    except NbshelfError as err:
        log.info("no best cell for notebook %s: %s", notebook_id, err)
        return None
    return meant[1] if meant is not None else None


def mark_page(page: str, text: str) -> MarkedPage:
    """The rendered ``page`` with the words of the search ``text`` marked in it (read lane;
    see ``nbshelf.render.highlight_terms``); unchanged when the text has no words."""
    from nbshelf.render.highlight_terms import MarkedPage, mark_terms
    from nbshelf.search.marks import TermMarks

    marks = TermMarks(text) if text.strip() else None
    if marks is None or marks.empty:
        return MarkedPage(page)
    return mark_terms(page, marks.spans)


#: A search that finds this many notebooks or fewer is checked for misspelt words.
FEW_MATCHES = 2


def suggest_query(library: Library, text: str, matches: int) -> str | None:
    """A corrected query for the search ``text`` that found ``matches`` notebooks ("did you
    mean"), or None (read lane). With no match, any unknown word is corrected; with a few,
    also a word so rare that a close, much commoner one is likely what was meant. The last
    word, being typed, is no typo when known words start with it."""
    from nbshelf.search.filters import split_health
    from nbshelf.search.index import IndexUnavailable

    rest, statuses = split_health(text)
    try:
        found = library.searching.suggest(rest, rare=FEW_MATCHES if matches else 0,
                                          typing=True)
    except IndexUnavailable:
        return None
    if found is None or not statuses:
        return found
    return " ".join([found, *(f"health:{s}" for s in sorted(statuses))])


class SnippetFetcher(OnScreenRows):
    """Fetches the snippets of the search hits on screen (and a margin below) that have none
    yet, while the list is a search. A new filter text stops it until its list is in: the
    request on its way is cancelled (it stops at its next notebook, so the new query on the
    read lane waits little) and its answer dropped."""

    def __init__(
        self, runner: TaskRunner, model: LibraryModel, view: QTableView,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(
            runner, model, view, label="Find snippets", settle_ms=SNIPPET_SETTLE_MS,
            batch=SNIPPET_BATCH, urgent=True, parent=parent,
        )
        self._text = ""
        model.loaded.connect(self._on_loaded)
        model.filtering.connect(lambda _text: self.set_active(False))

    def _on_loaded(self, _result: QueryResult) -> None:
        text = self._model.search_text
        changed, self._text = text != self._text, text
        if self.active != bool(text):
            self.set_active(bool(text))
        elif changed:
            self.restart()
        else:
            self.retry()  # the same search again (a sync landed): changed notebooks' turn

    def _needs(self, notebook_id: int) -> bool:
        return self._model.snippets_of(notebook_id) is None

    def _work(self, ids: list[int]) -> Work:
        text = self._text
        return lambda lib, job: fetch_snippets(lib, job, text, ids)

    def _landed(self, answer: tuple[str, dict[int, list[Snippet]]]) -> None:
        self._model.add_snippets(*answer)


#: Space above and below a row's text: plain rows, and a search's two-line rows.
ROW_PADDING = 10
SEARCH_PADDING = 10
#: Between the title and its snippet.
LINE_GAP = 2
#: The kind label: inner padding, and the space after it.
LABEL_PADDING = 5
LABEL_GAP = 6
#: A narrower snippet line shows no kind label: its text needs the room more (the row's
#: tooltip still names each snippet's cell and kind).
LABEL_MIN_WIDTH = 300
#: A snippet's text is this much smaller than the title's.
SNIPPET_SCALE = 0.92
#: The most of a snippet line a partial match's "lacks: ..." mark takes (the rest is the
#: snippet's: it says why the notebook is listed at all).
MISSING_SHARE = 0.4
#: A match's soft background where the row is not selected: light on the base colour, and
#: still behind light text on a dark palette.
MARK_BACKGROUND = QColor(255, 196, 0, 96)


def snippet_font(font: QFont) -> QFont:
    """The font of the snippet line, from the row's."""
    small = QFont(font)
    if font.pointSizeF() > 0:
        small.setPointSizeF(font.pointSizeF() * SNIPPET_SCALE)
    elif font.pixelSize() > 0:
        small.setPixelSize(max(8, round(font.pixelSize() * SNIPPET_SCALE)))
    return small


def fit_parts(
    parts: list[tuple[str, bool]], plain: QFontMetrics, bold: QFontMetrics, width: int
) -> list[tuple[str, bool]]:
    """The pieces of a snippet (``fmt.marked_parts``) that fit in ``width`` pixels, the last
    one elided. The first match is centred: of the text before it, only the last words
    that fit in half the room it leaves are kept (more when the text after it is short,
    so that the line stays full)."""
    parts = list(parts)
    if len(parts) > 1 and not parts[0][1]:
        match = bold.horizontalAdvance(parts[1][0])
        after = sum((bold if m else plain).horizontalAdvance(t) for t, m in parts[1:])
        room = max(width // 4, (width - match) // 2, width - after)
        if plain.horizontalAdvance(parts[0][0]) > room:
            parts[0] = (_last_words(parts[0][0], plain, room), False)
    fitted: list[tuple[str, bool]] = []
    used = 0
    for text, marked in parts:
        metrics = bold if marked else plain
        advance = metrics.horizontalAdvance(text)
        if used + advance <= width:
            fitted.append((text, marked))
            used += advance
            continue
        elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, width - used)
        if elided:
            fitted.append((elided, marked))
        elif fitted:  # no room left even for "…": end the last piece with it
            last, last_marked = fitted[-1]
            last_metrics = bold if last_marked else plain
            fitted[-1] = (
                last_metrics.elidedText(
                    last + "…", Qt.TextElideMode.ElideRight, last_metrics.horizontalAdvance(last)
                ),
                last_marked,
            )
        break
    return [(text, marked) for text, marked in fitted if text]


def _last_words(text: str, metrics: QFontMetrics, width: int) -> str:
    """``…`` and the end of ``text`` that fits in ``width``, from a word's start (in code,
    from a name's or a bracket's)."""
    kept = metrics.elidedText(text, Qt.TextElideMode.ElideLeft, width)
    tail = kept.removeprefix("…")
    cut = len(text) - len(tail)
    if 0 < cut < len(text) and text[cut - 1].isalnum() and tail[0].isalnum():
        tail = _WORD_END.sub("", tail, count=1).lstrip()  # not the end of a word cut in two
    return "…" + tail


def _muted(palette: QPalette, group: QPalette.ColorGroup, selected: bool) -> QColor:
    """The colour of a snippet's context: the text's, softened towards the base (not on a
    selected row, whose colours the style chose to contrast)."""
    if selected:
        return palette.color(group, QPalette.ColorRole.HighlightedText)
    return _mix(palette.color(group, QPalette.ColorRole.Text),
                palette.color(group, QPalette.ColorRole.Base), 0.35)


def _mix(one: QColor, other: QColor, amount: float) -> QColor:
    """``one`` moved ``amount`` (0..1) of the way towards ``other``."""
    return QColor(
        round(one.red() + (other.red() - one.red()) * amount),
        round(one.green() + (other.green() - one.green()) * amount),
        round(one.blue() + (other.blue() - one.blue()) * amount),
    )


def draw_cell_background(delegate: QStyledItemDelegate, painter: QPainter,
                         option: QStyleOptionViewItem, index: AnyIndex
                         ) -> tuple[QStyleOptionViewItem, str, int]:
    """Draw a cell's background, selection and focus as every other cell draws them, but
    not its text; return the styled option, the text left to draw and the text margin."""
    opt = QStyleOptionViewItem(option)
    delegate.initStyleOption(opt, index)
    text, opt.text = opt.text, ""
    widget = opt.widget
    style = widget.style() if widget is not None else QApplication.style()
    style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1
    return opt, text, margin


class HitDelegate(QStyledItemDelegate):
    """Paints the Title column; in a search, the title with its best snippet beneath.

    The snippet is one line: a small label naming the kind of cell (code, markdown, output;
    on a row wide enough for it), then the excerpt, plain text (no markdown, HTML or TeX
    markup), elided to the width around its first match, its matches in bold on a soft
    highlight. A partial match (some words of the query only) ends its snippet line with
    what it lacks, muted ("lacks: forecast"); a match by meaning, with what it is about
    ("about: merge, join"), or says only that when no cell has the words. Everything is drawn as
    plain text: a notebook's text is never read as markup. A hit that matched on what no
    cell says (``import:pandas``) shows its path there instead. A search's rows are taller
    (:meth:`row_height`, which the window gives the view); a row whose snippets are still
    loading shows only its title, at that same height.
    """

    def row_height(self, font: QFont, search: bool) -> int:
        """The height of every row of the list: one line, or two in a search."""
        line = QFontMetrics(font).height()
        if not search:
            return line + ROW_PADDING
        return line + LINE_GAP + QFontMetrics(snippet_font(font)).height() + SEARCH_PADDING

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        size = super().sizeHint(option, index)
        if index.data(Role.SEARCH_TEXT):
            size.setHeight(self.row_height(option.font, True))
        return size

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        if not index.data(Role.SEARCH_TEXT):
            super().paint(painter, option, index)
            return
        opt, title, margin = draw_cell_background(self, painter, option, index)
        small = snippet_font(opt.font)
        title_height = QFontMetrics(opt.font).height()
        snippet_height = QFontMetrics(small).height()
        block = title_height + LINE_GAP + snippet_height
        top = opt.rect.top() + max(0, (opt.rect.height() - block) // 2)
        left, width = opt.rect.left() + margin, opt.rect.width() - 2 * margin
        state = opt.state
        selected = bool(state & QStyle.StateFlag.State_Selected)
        group = (
            QPalette.ColorGroup.Disabled if not state & QStyle.StateFlag.State_Enabled
            else QPalette.ColorGroup.Normal if state & QStyle.StateFlag.State_Active
            else QPalette.ColorGroup.Inactive
        )
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setFont(opt.font)
        painter.setPen(opt.palette.color(group, role))
        painter.drawText(
            QRect(left, top, width, title_height),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            QFontMetrics(opt.font).elidedText(title, Qt.TextElideMode.ElideRight, width),
        )
        snippets: list[Snippet] | None = index.data(Role.SNIPPETS)
        line = QRect(left, top + title_height + LINE_GAP, width, snippet_height)
        missing: tuple[str, ...] | None = index.data(Role.MISSING)
        muted = _muted(opt.palette, group, selected)
        reason: str | None = index.data(Role.REASON)
        if missing:
            line = self._paint_missing(painter, line, missing, muted, small)
        elif reason and snippets:
            # Found by meaning, with cells that have some of the words: the snippet shows
            # them, and the end of the line why it is listed ("about: merge, join").
            line = self._paint_about(painter, line, reason, muted, small)
        if reason and not snippets:
            # Found by meaning: none of its cells has the words, so why it is here is
            # what the line says (muted and italic, as a partial match's "lacks").
            self._paint_reason(painter, line, reason, muted, small)
        elif snippets:
            self._paint_snippet(painter, line, snippets[0], opt.palette, group, selected, small)
        elif snippets is not None and (record := index.data(Role.RECORD)) is not None:
            # It matched on what no cell says (a module, a path, a tag): where it lives.
            painter.setFont(small)
            painter.setPen(_muted(opt.palette, group, selected))
            painter.drawText(
                line, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                QFontMetrics(small).elidedText(record.path, Qt.TextElideMode.ElideMiddle, width),
            )
        painter.restore()

    @staticmethod
    def _paint_missing(painter: QPainter, line: QRect, missing: tuple[str, ...],
                       color: QColor, font: QFont) -> QRect:
        """A partial match's mark at the end of its snippet line ("lacks: forecast", muted,
        italic; at most ``MISSING_SHARE`` of the line, elided); returns the room left."""
        return HitDelegate._paint_end_mark(painter, line, LACKS, missing, color, font)

    @staticmethod
    def _paint_about(painter: QPainter, line: QRect, reason: str, color: QColor,
                     font: QFont) -> QRect:
        """A meaning hit's mark at the end of its snippet line: the terms it is about, the
        first part of its reason (the tooltip has the whole); returns the room left."""
        # the reason was made there, so the module is loaded: no cost at start-up
        from nbshelf.search.meaning import ABOUT, CLOSE_TO, TERM_SEPARATOR

        about = reason.split(CLOSE_TO, 1)[0]
        if not about.startswith(ABOUT):  # "close in meaning to the query"
            return HitDelegate._paint_end_mark(painter, line, "", (about,), color, font)
        terms = tuple(about.removeprefix(ABOUT).split(TERM_SEPARATOR))
        return HitDelegate._paint_end_mark(painter, line, ABOUT, terms, color, font)

    @staticmethod
    def _paint_end_mark(painter: QPainter, line: QRect, prefix: str, words: tuple[str, ...],
                        color: QColor, font: QFont) -> QRect:
        """``prefix`` and ``words`` at the end of a snippet line, muted and italic, in at
        most ``MISSING_SHARE`` of it (whole words, the first ones kept, then elided);
        returns the room left."""
        italic = QFont(font)
        italic.setItalic(True)
        metrics = QFontMetrics(italic)
        room = int(line.width() * MISSING_SHARE)
        text = prefix + ", ".join(words)
        for shown in range(len(words) - 1, 0, -1):
            if metrics.horizontalAdvance(text) <= room:
                break
            text = prefix + ", ".join(words[:shown]) + ", …"
        text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, room)
        used = metrics.horizontalAdvance(text)
        painter.save()
        painter.setFont(italic)
        painter.setPen(color)
        painter.drawText(QRect(line.right() + 1 - used, line.top(), used, line.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        painter.restore()
        return line.adjusted(0, 0, -(used + LABEL_GAP), 0)

    @staticmethod
    def _paint_reason(painter: QPainter, line: QRect, reason: str, color: QColor,
                      font: QFont) -> None:
        """A meaning hit's reason on its snippet line, muted and italic, elided."""
        italic = QFont(font)
        italic.setItalic(True)
        painter.save()
        painter.setFont(italic)
        painter.setPen(color)
        painter.drawText(line, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         QFontMetrics(italic).elidedText(reason, Qt.TextElideMode.ElideRight,
                                                         line.width()))
        painter.restore()

    @staticmethod
    def _paint_snippet(
        painter: QPainter, line: QRect, snippet: Snippet, palette: QPalette,
        group: QPalette.ColorGroup, selected: bool, font: QFont,
    ) -> None:
        plain = QFontMetrics(font)
        bold_font = QFont(font)
        bold_font.setBold(True)
        bold = QFontMetrics(bold_font)
        strong = palette.color(
            group, QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        muted = _muted(palette, group, selected)
        mark = QColor(strong) if selected else MARK_BACKGROUND
        if selected:
            mark.setAlpha(60)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setFont(font)
        x = line.left()
        if line.width() >= LABEL_MIN_WIDTH:
            # The kind label: the kind's word in a thin rounded frame.
            kind = fmt.CELL_KINDS.get(snippet.kind, snippet.kind)
            label = QRect(line.left(), line.top(),
                          plain.horizontalAdvance(kind) + 2 * LABEL_PADDING, line.height())
            painter.setPen(muted)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(label).adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
            painter.drawText(label, Qt.AlignmentFlag.AlignCenter, kind)
            x = label.right() + 1 + LABEL_GAP
        room = line.right() + 1 - x
        parts = fit_parts(fmt.marked_parts(snippet.text, snippet.highlights), plain, bold, room)
        for text, marked in parts:
            metrics = bold if marked else plain
            piece = QRect(x, line.top(), metrics.horizontalAdvance(text), line.height())
            if marked:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(mark)
                painter.drawRoundedRect(QRectF(piece).adjusted(-1, 0, 1, 0), 2, 2)
            painter.setPen(strong if marked else muted)
            painter.setFont(bold_font if marked else font)
            painter.drawText(piece, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             text)
            x += piece.width()
