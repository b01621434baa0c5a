"""Search by meaning in the window (issue 18): typing a plain question lists, under the
notebooks with every word, those about the same thing in other words, each row saying why
(on its snippet line and in its tooltip); opening one scrolls to its best cell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from nbshelf.library import Library
from nbshelf.ui.hits import best_cell
from nbshelf.ui.models import Column, Role
from tests.core.meaning_library import MERGE_ONLY, write_topic_notebooks
from tests.ui.test_search_partial import painted_text, type_query
from tests.ui.uihelpers import open_window, shoot


@pytest.fixture
def topics(library_dir: Path, tmp_path: Path) -> Path:
    """51 notebooks in six topics, synced (the sync learns the related terms)."""
    share = tmp_path / "topics"
    share.mkdir()
    write_topic_notebooks(share)
    with Library.open(library_dir) as lib:
        lib.add_source(share, name="team")
        lib.sync()
    return library_dir


def test_typing_a_question_lists_meaning_rows_under_the_exact_ones_with_their_reason(
    qtbot: Any, runner_for: Any, topics: Path
) -> None:
    window = open_window(qtbot, runner_for, topics)
    window.resize(1280, 800)
    result = type_query(qtbot, window, "combine")
    model = window.model
    titles = [model.data(model.index(r, Column.TITLE)) for r in range(model.rowCount())]
    reasons = [model.data(model.index(r, Column.TITLE), Role.REASON)
               for r in range(model.rowCount())]
    assert result.matches == 8 and all(r is None for r in reasons[:8])  # exact ones first
    row = titles.index(MERGE_ONLY)
    assert row >= 8 and reasons[row] is not None and "merge" in reasons[row]
    assert "more about the same thing" in window.search_hint.text()

    # its line says why (it has no snippet: no cell has the word), and so does its tooltip
    qtbot.waitUntil(lambda: model.snippets_of(model.notebook_id(row)) is not None,
                    timeout=10000)
    assert any(t.startswith("about:") and "merge" in t for t in painted_text(window, row))
    assert not any(t.startswith("about:") for t in painted_text(window, 0))
    tip = model.data(model.index(row, Column.TITLE), Qt.ItemDataRole.ToolTipRole)
    assert "Found by meaning: about:" in tip and "merge" in tip
    window.table.scrollTo(model.index(row, Column.TITLE))
    shoot(qtbot, window, "meaning-rows")

    # opened, it scrolls to the cell that merges (index 4), not its top
    with Library.open(topics, readonly=True) as lib:
        assert best_cell(lib, model.notebook_id(row), "combine") == 4


def test_a_meaning_row_with_some_of_the_words_shows_its_snippet_and_what_it_is_about(
    qtbot: Any, runner_for: Any, library_dir: Path, tmp_path: Path
) -> None:
    """With many notebooks holding every word, no partial matches are listed, so a row
    found by meaning may hold some of the words: it shows its snippet, as the exact rows do,
    and ends its line with what it is about (as a partial row ends with what it lacks)."""
    share = tmp_path / "topics"
    share.mkdir()
    write_topic_notebooks(share, per_topic=12)
    with Library.open(library_dir) as lib:
        lib.add_source(share, name="team")
        lib.sync()
    window = open_window(qtbot, runner_for, library_dir)
    window.resize(1280, 800)
    result = type_query(qtbot, window, "combine key")
    model = window.model
    titles = [model.data(model.index(r, Column.TITLE)) for r in range(model.rowCount())]
    row = titles.index(MERGE_ONLY)
    assert row >= result.matches >= 10  # under the exact ones, no partial ones listed
    assert model.data(model.index(row, Column.TITLE), Role.MISSING) is None
    assert "merge" in model.data(model.index(row, Column.TITLE), Role.REASON)
    qtbot.waitUntil(lambda: bool(model.snippets_of(model.notebook_id(row))), timeout=10000)
    painted = painted_text(window, row)
    assert "key" in painted  # its snippet, the word marked
    assert any(t.startswith("about: ") and "merge" in t for t in painted)
    assert not any(t.startswith("about:") for t in painted_text(window, 0))
    window.table.scrollTo(model.index(row, Column.TITLE))
    shoot(qtbot, window, "meaning-row-with-snippet")


def test_the_window_reads_the_meaning_model_before_the_first_question(
    qtbot: Any, runner_for: Any, topics: Path
) -> None:
    """After the first rows (and again after the start-up sync), the read lane loads what a
    search by meaning needs, so the first question typed does not wait for it (1-2 s at
    100,000 notebooks). Without either, nothing loads it before a question: this fails."""
    window = open_window(qtbot, runner_for, topics)
    loaded: list[bool] = []
    # the read lane runs its tasks in order: this one runs after the window's own
    window.runner.task(
        lambda lib, _job: lib.searching._searching.meaning._model is not None,
        label="Look").on_success(loaded.append).start()
    qtbot.waitUntil(lambda: bool(loaded), timeout=10000)
    assert loaded == [True]
