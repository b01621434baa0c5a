"""The Qt binding the app runs on must not lose Python references when it emits a signal.

PySide6 6.12.0 drops a reference to ``True`` on every ``emit()`` made from Python, whatever
is emitted. The app emits from Python all day (each task's progress, each key that steps
through the find bar, each row it lists): after as many emits as ``True`` has references
(tens of thousands), Python aborts with "Fatal Python error: bool_dealloc", taking the
window with it. A ``tests/ui``-only run of 6.12.0 ended that way. ``pyproject.toml``
excludes that release; this test fails on it.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

from PySide6.QtCore import Qt

from nbshelf.ui.findbar import FindBar

PRESSES = 300


def test_stepping_through_find_matches_keeps_every_reference(qtbot: Any) -> None:
    bar = FindBar()
    qtbot.addWidget(bar)
    steps: list[bool] = []
    bar.step.connect(steps.append)
    bar.edit.setText("revenue")
    gc.collect()
    before = sys.getrefcount(True)
    for _ in range(PRESSES):
        qtbot.keyClick(bar.edit, Qt.Key.Key_Return)  # Enter: next match, emitted from Python
    steps.clear()
    gc.collect()
    after = sys.getrefcount(True)
    # each press on 6.12.0 costs one reference (-300); other work moves it by a few at most
    assert after >= before - PRESSES // 10, (before, after)
