"""LibraryModel and RecordModel over a real temporary library, checked by qtmodeltester."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QPersistentModelIndex, Qt

from nbshelf.library import Library
from nbshelf.records import SourceInfo
from nbshelf.ui import models
from nbshelf.ui.models import Column, LibraryModel, RecordColumn, RecordModel, Role
from nbshelf.ui.tasks import Changes
from tests.helpers import write_notebook

TITLES = ["Zebra counts", "apple harvest", "Mango prices", "Banana supply", "Cherry yields"]


@pytest.fixture
def synced(library_dir: Path, make_share) -> Path:
    """A library whose one source holds the notebooks of ``TITLES``."""
    share = make_share("share", TITLES)
    with Library.open(library_dir) as lib:
        lib.add_source(share)
        lib.sync()
    return library_dir


def _loaded(qtbot, model: LibraryModel) -> None:
    with qtbot.waitSignal(model.loaded, timeout=10000):
        model.refresh()


def _titles(qtbot, model: LibraryModel) -> list[str]:
    def all_loaded() -> bool:
        return all(
            model.data(model.index(r, 0), Role.LOADED) for r in range(model.rowCount())
        )

    qtbot.waitUntil(all_loaded, timeout=10000)
    return [model.data(model.index(r, Column.TITLE)) for r in range(model.rowCount())]


def test_library_model_passes_the_model_tester(qtbot, qtmodeltester, synced, runner_for):
    runner = runner_for(synced)
    runner.start()
    model = LibraryModel(runner)
    _loaded(qtbot, model)
    assert model.rowCount() == len(TITLES)
    qtmodeltester.check(model)
    # The tester keeps watching while the model changes: sort, filter, refresh.
    with qtbot.waitSignal(model.loaded, timeout=10000):
        model.sort(Column.MODIFIED, Qt.SortOrder.DescendingOrder)
    with qtbot.waitSignal(model.loaded, timeout=10000):
        model.set_filter("mango")
    assert _titles(qtbot, model) == ["Mango prices"]
    with qtbot.waitSignal(model.loaded, timeout=10000):
        model.set_filter("")
    assert model.rowCount() == len(TITLES)


def test_the_first_rows_come_with_the_list(qtbot, synced, runner_for):
    runner = runner_for(synced)
    runner.start()
    model = LibraryModel(runner)
    _loaded(qtbot, model)
    assert model.data(model.index(0, Column.TITLE), Role.LOADED) is True  # no second trip


def test_rows_load_lazily_and_show_a_placeholder_meanwhile(
    qtbot, synced, runner_for, monkeypatch
):
    monkeypatch.setattr(models, "PRIMED_ROWS", 0)  # as the rows beyond the first screens
    runner = runner_for(synced)
    runner.start()
    model = LibraryModel(runner)
    _loaded(qtbot, model)
    first = model.index(0, Column.TITLE)
    assert model.data(first, Role.LOADED) is False
    assert model.data(first) == "…"
    with qtbot.waitSignal(model.dataChanged, timeout=10000) as changed:
        pass
    top, bottom = changed.args[0], changed.args[1]
    assert (top.row(), bottom.row()) == (0, len(TITLES) - 1)  # one ranged signal per block
    assert (top.column(), bottom.column()) == (0, len(Column) - 1)
    assert _titles(qtbot, model) == sorted(TITLES, key=str.casefold)
    assert model.data(first, Role.NOTEBOOK_ID) == model.notebook_id(0)
    assert model.data(model.index(0, Column.LANGUAGE)) == "Python"
    assert model.data(model.index(0, Column.HEALTH)) == ""  # no health check has run yet


def test_sorting_by_each_column(qtbot, synced, runner_for):
    runner = runner_for(synced)
    runner.start()
    model = LibraryModel(runner)
    _loaded(qtbot, model)
    with qtbot.waitSignal(model.loaded, timeout=10000):
        model.sort(Column.TITLE, Qt.SortOrder.DescendingOrder)
    assert _titles(qtbot, model) == sorted(TITLES, key=str.casefold, reverse=True)
    for column in (Column.SOURCE, Column.LANGUAGE, Column.MODIFIED):
        with qtbot.waitSignal(model.loaded, timeout=10000):
            model.sort(column, Qt.SortOrder.AscendingOrder)
        assert sorted(_titles(qtbot, model)) == sorted(TITLES)


def test_search_is_full_text_and_falls_back_to_titles_without_an_index(
    qtbot, synced, runner_for
):
    runner = runner_for(synced)
    runner.start()
    model = LibraryModel(runner)
    _loaded(qtbot, model)
    with qtbot.waitSignal(model.loaded, timeout=10000) as loaded:
        model.set_filter("results")  # a heading in every notebook, in no title
    assert loaded.args[0].mode == "search"
    assert model.rowCount() == len(TITLES)
    runner.shutdown()

    shutil.rmtree(synced / "index")  # as before the writer's first index build
    runner = runner_for(synced)
    runner.start()
    model = LibraryModel(runner)
    _loaded(qtbot, model)
    with qtbot.waitSignal(model.loaded, timeout=10000) as loaded:
        model.set_filter("mango")
    assert loaded.args[0].mode == "title"
    assert _titles(qtbot, model) == ["Mango prices"]


def test_data_never_raises_on_odd_indexes(qtbot, synced, runner_for):
    runner = runner_for(synced)
    runner.start()
    model = LibraryModel(runner)
    _loaded(qtbot, model)
    assert model.data(model.index(99, 0)) is None
    assert model.data(model.index(0, 99)) is None
    assert model.headerData(42, Qt.Orientation.Horizontal) is None
    assert model.notebook_id(-1) is None
    assert model.row_of(123456) == -1


def test_a_sync_inserts_rows_in_place_and_keeps_the_selection(
    qtbot, qtmodeltester, synced, runner_for, tmp_path
):
    runner = runner_for(synced)
    runner.start()
    model = LibraryModel(runner)
    _loaded(qtbot, model)
    qtmodeltester.check(model)
    titles = _titles(qtbot, model)
    held = QPersistentModelIndex(model.index(titles.index("Mango prices"), 0))
    write_notebook(tmp_path / "share" / "new.ipynb", title="Apricot jam")

    def sync(lib, job):
        return lib.sync(progress=job.progress, cancel=job.cancel_event)

    with qtbot.waitSignal(model.loaded, timeout=20000):
        from nbshelf.ui.tasks import Lane

        runner.task(sync, lane=Lane.WRITE).with_changes(
            lambda report: Changes(notebooks=True, updated_ids=frozenset(report.changed_ids))
        ).start()
    assert model.rowCount() == len(TITLES) + 1
    assert held.isValid()
    assert model.data(model.index(held.row(), 0)) == "Mango prices"
    assert "Apricot jam" in _titles(qtbot, model)


def test_record_model_passes_the_model_tester(qtmodeltester):
    model = RecordModel(
        [RecordColumn("Name", lambda s: s.name), RecordColumn("Folder", lambda s: s.path)],
        muted=lambda s: not s.available,
    )
    model.set_records(
        [
            SourceInfo("a", "/mnt/a", "folder", True, 3, None),
            SourceInfo("b", "/media/stick", "folder", False, 7, 1.0),
        ]
    )
    qtmodeltester.check(model)
    assert model.data(model.index(1, 1)) == "/media/stick"
    assert model.data(model.index(1, 0), Qt.ItemDataRole.ForegroundRole) is not None
    assert model.data(model.index(0, 0), Qt.ItemDataRole.ForegroundRole) is None
