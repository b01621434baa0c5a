"""The find bar over the rendered notebook: what is looked for, "3 of 12", previous, next.

It holds no search logic: the pane says what to show (:meth:`FindBar.show_count`) and
listens to its signals. Two things can fill it: the search a notebook was opened from
(its words are marked in the page), or words the user types (found with the web view's
own find).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

#: The shortcuts of next and previous, shown in the buttons' tooltips (the pane's actions).
NEXT_KEYS = ("F3", "Ctrl+G")
PREVIOUS_KEYS = ("Shift+F3", "Ctrl+Shift+G")


def count_text(current: int, total: int) -> str:
    """``3 of 12``; ``12 matches`` before the first step; ``No match``."""
    if total <= 0:
        return "No match"
    if current <= 0:
        return f"{total:,} match" if total == 1 else f"{total:,} matches"
    return f"{current:,} of {total:,}"


class _Edit(QLineEdit):
    """The bar's text box: Enter is next, Shift+Enter previous, Esc closes the bar."""

    step = Signal(bool)  # backward?
    escaped = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.step.emit(bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
            return
        if event.key() == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        super().keyPressEvent(event)


class FindBar(QWidget):
    """A row: the text box, the count, previous and next buttons, and a close button.

    Signals:
        step(bool): go to the next match (False) or the previous one (True).
        closed(): the bar was closed (its button, or Esc in its text box).
    """

    step = Signal(bool)
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        self.edit = _Edit()
        self.edit.setPlaceholderText("Find in notebook (Enter: next, Shift+Enter: previous)")
        self.edit.setClearButtonEnabled(True)
        self.edit.step.connect(self.step)
        self.edit.escaped.connect(self.close_bar)
        layout.addWidget(self.edit, 1)
        self.count = QLabel()
        self.count.setStyleSheet("color: palette(placeholder-text);")
        self.count.setMinimumWidth(self.count.fontMetrics().horizontalAdvance("888 of 8,888"))
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.count)
        self.previous_button = self._button(Qt.ArrowType.UpArrow, "Previous match",
                                            PREVIOUS_KEYS, backward=True)
        self.next_button = self._button(Qt.ArrowType.DownArrow, "Next match", NEXT_KEYS,
                                        backward=False)
        layout.addWidget(self.previous_button)
        layout.addWidget(self.next_button)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Close the find bar (Esc)")
        close.clicked.connect(self.close_bar)
        layout.addWidget(close)

    def _button(self, arrow: Qt.ArrowType, tip: str, keys: tuple[str, ...], *,
                backward: bool) -> QToolButton:
        button = QToolButton()
        button.setArrowType(arrow)
        button.setAutoRaise(True)
        button.setToolTip(f"{tip} ({', '.join(keys)})")
        button.clicked.connect(lambda: self.step.emit(backward))
        return button

    def show_count(self, current: int, total: int) -> None:
        """Show where the match on screen is among all (0 current: not stepped yet)."""
        self.count.setText(count_text(current, total))
        for button in (self.previous_button, self.next_button):
            button.setEnabled(total > 0)

    def clear_count(self) -> None:
        """Nothing counted (a new text, not looked for yet)."""
        self.count.setText("")
        for button in (self.previous_button, self.next_button):
            button.setEnabled(bool(self.edit.text()))

    def close_bar(self) -> None:
        """Hide the bar and say so."""
        self.hide()
        self.closed.emit()
