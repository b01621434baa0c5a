"""Forgiving matching in the window (issue 18, first point): typing a query that few
notebooks match whole lists the notebooks with some of its words under the exact ones,
each row saying what it lacks, and the search hint says which words no notebook mentions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem

from nbshelf.library import Library
from nbshelf.ui.models import Column, Role
from nbshelf.ui.window import MainWindow
from tests.helpers import write_notebook
from tests.ui.uihelpers import open_window, shoot


@pytest.fixture
def forgiving(library_dir: Path, make_share: Any) -> Path:
    """One notebook about time series, notebooks with "time" or "series" only, and three
    with neither."""
    share = make_share("share", ["Traffic counts", "Churn analysis", "Mango prices"])
    write_notebook(share / "ts.ipynb", title="Working with Time Series",
                   markdown=["A time series indexed by dates, resampled by month with pandas."],
                   code=["s = pd.Series(values, index=dates).resample('M').mean()"])
    write_notebook(share / "clock.ipynb", title="Timing code",
                   markdown=["Measure the time a loop takes, and how it grows."],
                   code=["import time\nstart = time.perf_counter()"])
    write_notebook(share / "taylor.ipynb", title="Taylor series",
                   markdown=["A power series expansion of exp(x) around zero."],
                   code=["terms = [x**n / math.factorial(n) for n in range(10)]"])
    with Library.open(library_dir) as lib:
        lib.add_source(share)
        lib.sync()
    return library_dir


def type_query(qtbot: Any, window: MainWindow, text: str) -> Any:
    """Type ``text`` into the search bar; the list's answer to it."""
    with qtbot.waitSignal(window.model.loaded, timeout=10000,
                          check_params_cb=lambda result: result.query.text == text) as blocker:
        window.search.clear()
        qtbot.keyClicks(window.search, text)
    return blocker.args[0]


def rows(window: MainWindow) -> list[tuple[str, tuple[str, ...] | None]]:
    """(title, the words it lacks) of every row, in order."""
    model = window.model
    return [(model.data(model.index(r, Column.TITLE)),
             model.data(model.index(r, Column.TITLE), Role.MISSING))
            for r in range(model.rowCount())]


class _Recording(QPainter):
    """A painter that remembers the text drawn with it."""

    def __init__(self, image: QImage) -> None:
        super().__init__(image)
        self.texts: list[str] = []

    def drawText(self, *args: Any) -> None:  # noqa: N802 - Qt's name
        self.texts.append(str(args[-1]))
        super().drawText(*args)


def painted_text(window: MainWindow, row: int) -> list[str]:
    """The pieces of text the list's delegate paints for the title cell of ``row``."""
    table = window.table
    index = window.model.index(row, Column.TITLE)
    option = QStyleOptionViewItem()
    option.initFrom(table)
    option.rect = QRect(0, 0, table.columnWidth(Column.TITLE), table.rowHeight(row))
    option.font = table.font()
    image = QImage(option.rect.size(), QImage.Format.Format_ARGB32)
    painter = _Recording(image)
    table.itemDelegateForColumn(Column.TITLE).paint(painter, option, index)
    painter.end()
    return painter.texts


def test_partial_matches_are_listed_under_the_exact_ones_marked(qtbot, runner_for, forgiving):
    window = open_window(qtbot, runner_for, forgiving)
    window.resize(1280, 800)
    result = type_query(qtbot, window, "time series")
    shown = rows(window)
    assert shown[0] == ("Working with Time Series", None)  # the exact match first
    assert sorted(shown[1:]) == [("Taylor series", ("time",)), ("Timing code", ("series",))]
    assert window.list_stack.currentWidget() is window.table
    assert result.matches == 1 and result.partial_matches == 2
    assert window.search_hint.text() == "1 with every word, 2 with some"

    # The row says what it lacks, after its snippet; an exact row says nothing of the kind.
    qtbot.waitUntil(lambda: all(window.model.snippets_of(window.model.notebook_id(r))
                                for r in range(3)), timeout=10000)
    partial_row = next(r for r, (title, _) in enumerate(shown) if title == "Taylor series")
    assert "lacks: time" in painted_text(window, partial_row)
    assert not any(t.startswith("lacks:") for t in painted_text(window, 0))
    tip = window.model.data(window.model.index(partial_row, Column.TITLE),
                            Qt.ItemDataRole.ToolTipRole)
    assert "lacks: time" in tip
    shoot(qtbot, window, "partial-rows")


def test_a_word_no_notebook_mentions_is_dropped_with_a_note(qtbot, runner_for, forgiving):
    window = open_window(qtbot, runner_for, forgiving)
    window.resize(1280, 800)
    type_query(qtbot, window, "forecast time series")
    note = "No notebook mentions “forecast”; showing “time series”."
    assert window.search_hint.text() == note
    shown = rows(window)
    assert shown[0] == ("Working with Time Series", ("forecast",))
    assert {title for title, _ in shown} == {"Working with Time Series", "Timing code",
                                             "Taylor series"}
    assert all(missing and "forecast" in missing for _, missing in shown)
    assert window.list_stack.currentWidget() is window.table  # not "No match"
    qtbot.waitUntil(lambda: bool(window.model.snippets_of(window.model.notebook_id(0))),
                    timeout=10000)
    shoot(qtbot, window, "partial-note")

    # Every word matching again: the marks and the note go.
    type_query(qtbot, window, "resampled")
    assert rows(window) == [("Working with Time Series", None)]
    assert window.search_hint.text() == ""
