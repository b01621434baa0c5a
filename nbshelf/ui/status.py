"""How a notebook's health looks in the app: a word, a colour, a dot, a tooltip; and the
``health:`` filter that the app (not the search index) applies to the list."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from nbshelf.records import NotebookHealth
from nbshelf.search.filters import split_health as split_health  # the window's filter

#: Statuses worst first (the order of the Health facet and of sorting by health).
ORDER = (
    "failing", "unreadable", "kernel-missing", "missing-deps", "missing-files", "stale",
    "never-run", "ok",
)
#: What a user reads in the list.
WORDS = {
    "ok": "OK",
    "failing": "failing",
    "unreadable": "unreadable",
    "kernel-missing": "no kernel",
    "missing-deps": "missing modules",
    "missing-files": "missing files",
    "stale": "stale",
    "never-run": "never run",
}
#: A dot beside the word: red fails, orange cannot run here, amber needs a look, grey unknown.
COLOURS = {
    "ok": "#1a7f37",
    "failing": "#cf222e",
    "unreadable": "#cf222e",
    "kernel-missing": "#bc4c00",
    "missing-deps": "#bc4c00",
    "missing-files": "#bc4c00",
    "stale": "#9a6700",
    "never-run": "#8c959f",
}


def word(status: str) -> str:
    """The status as the list shows it."""
    return WORDS.get(status, status)


def rank(status: str | None) -> int:
    """Sort position: worst first, unknown (not checked yet) last."""
    return ORDER.index(status) if status in ORDER else len(ORDER)


@cache
def icon(status: str) -> QIcon:
    """A small filled dot in the status's colour (GUI thread; made once per status)."""
    pixmap = QPixmap(12, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(COLOURS.get(status, "#8c959f")))
    painter.drawEllipse(1, 1, 10, 10)
    painter.end()
    return QIcon(pixmap)


def tooltip(health: NotebookHealth) -> str:
    """What the status means for this notebook, with what to fix; each fact once.

    The detail already starts with the status ("missing modules: pandas"), and the cell
    shows its word beside the dot: the tooltip leads with the detail alone.
    """
    detail = health.detail if health.detail != health.status else word(health.status)
    lines = [detail[:1].upper() + detail[1:]]
    if health.kernel:
        lines.append(f"Kernel: {health.kernel}")
    if health.missing_modules and health.status != "missing-deps":
        lines.append("Not installed: " + ", ".join(health.missing_modules))
    if health.missing_files and health.status != "missing-files":
        lines.append("Files not found: " + ", ".join(health.missing_files))
    said = [*health.missing_modules, *health.missing_files]
    # a message naming a module or file of the first line ("The module `x` is not
    # installed...") says it again; one the lines already hold, too
    lines.extend(m for m in health.messages[:3]
                 if all(m not in line for line in lines) and not any(n in m for n in said))
    return "\n".join(lines)
