"""Help → Keyboard Shortcuts: every shortcut of the window, read from the window itself (its
actions and the actions and shortcuts of its panes), so the list cannot drift from the keys."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

MUTED = "color: palette(placeholder-text);"


@dataclass(frozen=True)
class Binding:
    """One shortcut as the list shows it: the keys, what they do, and where they work."""

    keys: str
    what: str
    where: str


def key_text(sequence: QKeySequence) -> str:
    """The keys as this platform writes them (``Ctrl+Shift+S``)."""
    return sequence.toString(QKeySequence.SequenceFormat.NativeText)


def _what(action: QAction) -> str:
    text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.rstrip("…").rstrip(".") or action.toolTip() or action.objectName()


def _where(widget: QWidget, window: QWidget) -> str:
    """The part of the window a shortcut belongs to, for a person: its accessible name,
    its window title, or its object name."""
    part: QWidget | None = widget
    while part is not None and part is not window:
        name = part.accessibleName() or part.windowTitle() or part.objectName()
        if name:
            return name.replace("-", " ").capitalize()
        part = part.parentWidget()
    return "Everywhere"


def bindings(window: QWidget) -> list[Binding]:
    """Every key sequence of ``window``'s actions and of the actions and ``QShortcut``s of
    the widgets inside it, one line each (an action with two keys gives two lines)."""
    found: list[Binding] = []
    seen: set[tuple[str, str]] = set()

    def add(sequence: QKeySequence, what: str, where: str) -> None:
        keys = key_text(sequence)
        if keys and (keys, what) not in seen:
            seen.add((keys, what))
            found.append(Binding(keys, what, where))

    for action in window.actions():
        for sequence in action.shortcuts():
            add(sequence, _what(action), "Everywhere")
    for widget in window.findChildren(QWidget):
        for action in widget.actions():
            if action in window.actions():
                continue
            for sequence in action.shortcuts():
                add(sequence, _what(action), _where(widget, window))
    for shortcut in window.findChildren(QShortcut):
        parent = shortcut.parent()
        where = _where(parent, window) if isinstance(parent, QWidget) else "Everywhere"
        what = shortcut.whatsThis() or shortcut.objectName() or "Shortcut"
        for sequence in shortcut.keys():
            add(sequence, what, where)
    return found


class ShortcutsDialog(QDialog):
    """A table of every shortcut of the window, read from the window when it opens."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard Shortcuts — nbshelf")
        self.resize(620, 620)
        self.bindings = bindings(window)
        layout = QVBoxLayout(self)
        intro = QLabel("Every key the window answers to. Menus also open with Alt and the "
                       "underlined letter.")
        intro.setWordWrap(True)
        intro.setStyleSheet(MUTED)
        layout.addWidget(intro)
        self.table = QTableWidget(len(self.bindings), 3)
        self.table.setHorizontalHeaderLabels(["Keys", "Does", "Where"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        for row, binding in enumerate(self.bindings):
            for column, text in enumerate((binding.keys, binding.what, binding.where)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)

    def keys(self) -> set[str]:
        """The key texts listed."""
        return {b.keys for b in self.bindings}
