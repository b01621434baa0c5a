"""The Title column of the library list: the title, then the notebook's file name, muted.

Twelve chapters of a book can share a first heading and a tutorial's lessons a title; the
file name beside the title tells them apart at a glance, without a column of its own taking
the room titles need. A search's rows are painted by :class:`HitDelegate` (title and snippet).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from nbshelf.ui.hits import HitDelegate, draw_cell_background, snippet_font
from nbshelf.ui.models import Role

AnyIndex = QModelIndex | QPersistentModelIndex
#: Space between the title and the file name.
GAP = 14
#: The file name takes at most this share of the cell; the title keeps the rest.
NAME_SHARE = 0.35
#: Below this width the cell shows the title alone.
MIN_WIDTH = 160


def split_widths(title: int, name: int, width: int) -> tuple[int, int]:
    """Pixels for the title and for the file name in a cell ``width`` wide, from what each
    needs: both whole when they fit; else the name gets what the title leaves, at least
    ``NAME_SHARE`` of the cell (elided), or nothing in a cell too narrow to share."""
    if name > 0 and title + GAP + name <= width:
        return title, name
    if width < MIN_WIDTH or name <= 0:
        return min(title, width), 0
    # a short title leaves the name more than its share
    name_room = min(name, max(int(width * NAME_SHARE), width - GAP - title))
    return max(0, width - GAP - name_room), name_room


class TitleDelegate(HitDelegate):
    """Paints a title with the notebook's file name after it, in the row's own colour and
    font (greyed for an unplugged source, italic when removed) but muted."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        name = index.data(Role.FILE_NAME)
        if index.data(Role.SEARCH_TEXT) or not name:
            super().paint(painter, option, index)
            return
        opt, title, margin = draw_cell_background(self, painter, option, index)
        rect = opt.rect.adjusted(margin, 0, -margin, 0)
        plain, small = QFontMetrics(opt.font), snippet_font(opt.font)
        small_metrics = QFontMetrics(small)
        # +2: an advance rounded down would elide the text measured to fit
        title_width, name_width = split_widths(
            plain.horizontalAdvance(title) + 2, small_metrics.horizontalAdvance(name) + 2,
            rect.width())
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        colour = opt.palette.color(role)
        middle = Qt.AlignmentFlag.AlignVCenter
        painter.save()
        painter.setFont(opt.font)
        painter.setPen(colour)
        painter.drawText(QRect(rect.left(), rect.top(), title_width, rect.height()),
                         Qt.AlignmentFlag.AlignLeft | middle,
                         plain.elidedText(title, Qt.TextElideMode.ElideRight, title_width))
        if name_width:
            painter.setFont(small)
            painter.setPen(colour if selected else _softer(colour, opt.palette.color(
                QPalette.ColorRole.Base)))
            painter.drawText(
                QRect(rect.left() + title_width + GAP, rect.top(), name_width, rect.height()),
                Qt.AlignmentFlag.AlignLeft | middle,
                small_metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, name_width))
        painter.restore()


class FolderDelegate(QStyledItemDelegate):
    """The Folder column, elided at its start: ``…/handson-ml3`` tells two editions apart
    where ``ageron-hands…`` would not."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideLeft


def _softer(text: QColor, base: QColor, amount: float = 0.4) -> QColor:
    """``text`` moved ``amount`` of the way towards the background: secondary, still legible."""
    return QColor(
        round(text.red() + (base.red() - text.red()) * amount),
        round(text.green() + (base.green() - text.green()) * amount),
        round(text.blue() + (base.blue() - text.blue()) * amount),
    )
