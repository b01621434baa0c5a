"""The filter sidebar (facets, shelves), the Health column and syncs nobody asked for, over
real temporary libraries."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon

from nbshelf.library import Library
from nbshelf.ui import autosync
from nbshelf.ui.models import Column, LibraryModel, RecordColumn, RecordModel
from nbshelf.ui.sidebar import (
    Facet,
    FacetCounts,
    FacetModel,
    Shelf,
    facet_lines,
    toggle_filter,
)
from nbshelf.ui.status import split_health
from nbshelf.ui.tasks import Lane
from nbshelf.ui.window import MainWindow
from tests.helpers import write_notebook
from tests.ui.uihelpers import open_window

JULIA_META = {
    "kernelspec": {"name": "julia-1.9", "display_name": "Julia 1.9", "language": "julia"},
    "language_info": {"name": "julia"},
}


@pytest.fixture
def mixed(library_dir: Path, tmp_path: Path) -> Path:
    """Three notebooks: two in Python (pandas; numpy and a module nobody has), one in Julia."""
    share = tmp_path / "team"
    write_notebook(share / "clean.ipynb", title="Pandas cleaning",
                   code=["import pandas as pd\npd.DataFrame()"])
    write_notebook(share / "arrays.ipynb", title="Numpy arrays",
                   code=["import numpy\nimport zz_nobody_installed_this"])
    write_notebook(share / "solver.ipynb", title="Julia solver",
                   code=["using LinearAlgebra"], metadata=JULIA_META)
    with Library.open(library_dir) as lib:
        lib.add_source(share)
        lib.sync()
    return library_dir



def close_window(window: MainWindow) -> None:
    window.close()  # shuts its runner down: the library is free for the next window


def titles_now(window: MainWindow) -> list[str] | None:
    """The titles the list shows (sorted), or None while it is loading."""
    model = window.model
    if model.loading or any(model.record(r) is None for r in range(model.rowCount())):
        return None
    return sorted(model.record(r).title for r in range(model.rowCount()))


def shown_titles(qtbot, window: MainWindow) -> list[str]:
    qtbot.waitUntil(lambda: titles_now(window) is not None, timeout=10000)
    return titles_now(window) or []


def wait_titles(qtbot, window: MainWindow, check, timeout: int = 20000) -> None:
    """Until the titles shown pass ``check`` (a list, or a predicate on the list)."""
    wanted = check if callable(check) else (lambda titles: titles == check)
    qtbot.waitUntil(
        lambda: (titles := titles_now(window)) is not None and wanted(titles), timeout=timeout
    )


def facet(window: MainWindow, term: str) -> Facet | None:
    return next((f for f in window.sidebar.facet_model.facets() if f.term == term), None)


def click_facet(qtbot, window: MainWindow, term: str) -> None:
    model, view = window.sidebar.facet_model, window.sidebar.facets
    row = next(r for r, f in enumerate(model.facets()) if f.term == term)
    rect = view.visualRect(model.index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_facets_count_for_the_query_and_a_click_filters(qtbot, runner_for, mixed):
    window = open_window(qtbot, runner_for, mixed)
    qtbot.waitUntil(lambda: facet(window, "lang:julia") is not None, timeout=10000)
    assert facet(window, "lang:python").count == 2
    assert facet(window, "lang:julia").count == 1
    assert facet(window, "import:pandas").count == 1
    assert facet(window, "source:team").count == 3
    assert "whole library" in window.sidebar.facet_note.text()

    window.search.setText("numpy")  # typed: the facets follow the search, debounced
    qtbot.waitUntil(lambda: facet(window, "lang:julia") is None, timeout=10000)
    assert facet(window, "lang:python").count == 1
    assert facet(window, "import:pandas") is None
    assert "numpy" in window.sidebar.facet_note.text()

    window.search.clear()
    qtbot.waitUntil(lambda: facet(window, "lang:julia") is not None, timeout=10000)
    click_facet(qtbot, window, "lang:julia")
    assert window.search.text() == "lang:julia"
    wait_titles(qtbot, window, ["Julia solver"])
    qtbot.waitUntil(lambda: facet(window, "lang:julia").active, timeout=10000)
    assert window.sidebar.facet_model.data(
        window.sidebar.facet_model.index(
            window.sidebar.facet_model.facets().index(facet(window, "lang:julia")), 0),
        Qt.ItemDataRole.CheckStateRole,
    ) == Qt.CheckState.Checked
    click_facet(qtbot, window, "lang:julia")  # again: the filter goes
    assert window.search.text() == ""
    wait_titles(qtbot, window, lambda titles: len(titles) == 3)


def test_the_health_column_shows_the_background_check(qtbot, runner_for, mixed):
    window = open_window(qtbot, runner_for, mixed, until="health_checked", timeout=60000)
    model = window.model
    shown_titles(qtbot, window)
    health = {
        model.record(r).title: model.index(r, Column.HEALTH) for r in range(model.rowCount())
    }
    words = {title: model.data(index) for title, index in health.items()}
    assert words["Numpy arrays"] == "missing modules"
    assert words["Pandas cleaning"] in ("never run", "missing modules")  # pandas may be absent
    tip = model.data(health["Numpy arrays"], Qt.ItemDataRole.ToolTipRole)
    assert "zz_nobody_installed_this" in tip
    assert isinstance(model.data(health["Numpy arrays"], Qt.ItemDataRole.DecorationRole), QIcon)
    # The health facet counts it, and a click keeps only those notebooks.
    qtbot.waitUntil(lambda: facet(window, "health:missing-deps") is not None, timeout=10000)
    click_facet(qtbot, window, "health:missing-deps")
    assert window.search.text() == "health:missing-deps"
    wait_titles(qtbot, window, lambda titles: "Numpy arrays" in titles)
    assert "Julia solver" not in shown_titles(qtbot, window)
    # Sorting by health puts the worst first.
    window.search.clear()
    window.table.sortByColumn(Column.HEALTH, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: model.query.column is Column.HEALTH and not model.loading,
                    timeout=10000)
    qtbot.waitUntil(lambda: model.record(0) is not None, timeout=10000)
    assert model.data(model.index(0, Column.HEALTH)) in ("no kernel", "missing modules")


def test_a_health_filter_narrows_the_other_counts(qtbot, runner_for, mixed):
    window = open_window(qtbot, runner_for, mixed, until="health_checked", timeout=60000)
    qtbot.waitUntil(lambda: facet(window, "health:missing-deps") is not None, timeout=10000)
    statuses = {h.title: h.status for h in window.model.health.values()}
    assert statuses["Julia solver"] != "missing-deps"  # no Julia kernel here
    missing = [title for title, status in statuses.items() if status == "missing-deps"]
    assert facet(window, "source:team").count == 3
    assert facet(window, "lang:julia").count == 1

    click_facet(qtbot, window, "health:missing-deps")
    qtbot.waitUntil(lambda: facet(window, "lang:julia") is None, timeout=10000)
    assert facet(window, "health:missing-deps").active
    assert facet(window, "health:missing-deps").count == len(missing)
    assert facet(window, f"health:{statuses['Julia solver']}") is None
    assert facet(window, "source:team").count == len(missing)
    assert facet(window, "lang:python").count == len(missing)
    assert facet(window, "import:zz_nobody_installed_this").count == 1
    # Narrowed to every notebook, the counts are the index's own.
    with Library.open(mixed, readonly=True) as lib:
        assert lib.facets("", ids=list(window.model.health)) == lib.facets("")


def test_rows_on_screen_get_health_and_marking_while_the_writer_is_busy(
    qtbot, runner_for, mixed, tmp_path
):
    write_notebook(tmp_path / "team" / "marked.ipynb", title="Marked report",
                   metadata={"nbshelf": {"marking": "OFFICIAL"}})
    with Library.open(mixed) as lib:
        lib.sync()
    runner = runner_for(mixed)
    gate = threading.Event()
    # A writer busy for long (a big sync): the start-up sync and the full health check after
    # it wait behind it.
    runner.task(lambda _lib, _job: gate.wait(60), lane=Lane.WRITE, label="Busy").start()
    window = MainWindow(runner, mixed)
    qtbot.addWidget(window)
    full_checks: list[int] = []
    window.health_checked.connect(lambda: full_checks.append(1))
    window.show()
    model = window.model

    def column(which: Column) -> dict[str, str]:
        records = [(r, model.record(r)) for r in range(model.rowCount())]
        return {rec.title: model.data(model.index(r, which)) for r, rec in records if rec}

    try:
        runner.start()
        qtbot.waitUntil(lambda: len(column(Column.HEALTH)) == 4
                        and all(column(Column.HEALTH).values()), timeout=30000)
        assert column(Column.HEALTH)["Numpy arrays"] == "missing modules"
        assert column(Column.MARKING) == {"Marked report": "OFFICIAL", "Julia solver": "",
                                          "Numpy arrays": "", "Pandas cleaning": ""}
        assert window.syncer.running and not full_checks
    finally:
        gate.set()
    qtbot.waitUntil(lambda: bool(full_checks), timeout=60000)
    assert not window.row_checker.active


def test_shelves_are_saved_run_and_removed_across_restarts(qtbot, runner_for, mixed):
    window = open_window(qtbot, runner_for, mixed)
    sidebar = window.sidebar
    window.search.setText("lang:julia")
    qtbot.waitUntil(lambda: sidebar.save_button.isEnabled(), timeout=10000)
    sidebar.add_shelf("Julia work", "lang:julia")
    qtbot.waitUntil(lambda: sidebar.shelf_model.rowCount() == 1, timeout=10000)
    close_window(window)
    with Library.open(mixed, readonly=True) as lib:
        assert lib.settings.get("shelves") == ["Julia work = lang:julia"]

    window = open_window(qtbot, runner_for, mixed)
    sidebar = window.sidebar
    qtbot.waitUntil(lambda: sidebar.shelf_model.rowCount() == 1, timeout=10000)
    assert sidebar.shelf_model.record(0) == Shelf("Julia work", "lang:julia")
    view = sidebar.shelves
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.visualRect(sidebar.shelf_model.index(0, 0)).center())
    assert window.search.text() == "lang:julia"
    wait_titles(qtbot, window, ["Julia solver"])
    assert sidebar.remove_button.isEnabled()
    sidebar.remove_button.click()
    qtbot.waitUntil(lambda: sidebar.shelf_model.rowCount() == 0, timeout=10000)
    close_window(window)

    window = open_window(qtbot, runner_for, mixed)
    qtbot.wait(200)
    assert window.sidebar.shelf_model.rowCount() == 0
    assert window.sidebar.no_shelves.isVisibleTo(window.sidebar)


def test_a_source_whose_folder_appears_is_synced(qtbot, runner_for, library_dir, tmp_path,
                                                  monkeypatch):
    monkeypatch.setattr(autosync, "POLL_SECONDS", 0.2)
    stick = tmp_path / "stick"
    write_notebook(stick / "a.ipynb", title="On the stick")
    with Library.open(library_dir) as lib:
        lib.add_source(stick)
        lib.sync()
    away = tmp_path / "unplugged"
    shutil.move(stick, away)
    window = open_window(qtbot, runner_for, library_dir)
    qtbot.waitUntil(lambda: "stick" in window.autosync.watcher.watched(), timeout=10000)
    write_notebook(away / "b.ipynb", title="Written elsewhere")
    shutil.move(away, stick)  # plugged in again
    wait_titles(qtbot, window, ["On the stick", "Written elsewhere"], timeout=30000)
    assert window.autosync.watcher.watched() == {}


def test_the_sync_interval_follows_the_setting(qtbot, runner_for, library_dir, make_share):
    with Library.open(library_dir) as lib:
        lib.add_source(make_share("share", ["One"]))
        lib.sync()
        lib.settings.set("sync_interval_minutes", 0)
    window = open_window(qtbot, runner_for, library_dir)
    qtbot.wait(300)
    assert not window.autosync.timer.isActive()
    close_window(window)
    with Library.open(library_dir) as lib:
        lib.settings.set("sync_interval_minutes", 15)
    window = open_window(qtbot, runner_for, library_dir)
    qtbot.waitUntil(lambda: window.autosync.timer.isActive(), timeout=10000)
    assert window.autosync.timer.interval() == 15 * 60_000
    qtbot.waitUntil(lambda: bool(window.autosync._sources), timeout=10000)
    window.autosync.tick()  # what the timer does when the interval is up
    assert window.syncer.running
    qtbot.waitUntil(lambda: not window.syncer.running, timeout=30000)


def test_facet_and_shelf_models_pass_the_model_tester(qtmodeltester):
    counts = FacetCounts(
        "lang:julia",
        {"language": {"python": 5, "julia": 2}, "source": {"team": 7}, "import": {},
         "tag": {"draft": 1}},
        {"ok": 3, "failing": 1},
    )
    model = FacetModel()
    model.set_facets(facet_lines(counts, "lang:julia"))
    qtmodeltester.check(model)
    lines = model.facets()
    assert [f.label for f in lines if f.heading] == ["Language", "Source", "Tag", "Health"]
    assert next(f for f in lines if f.term == "lang:julia").active
    assert [f.term for f in lines if f.group == "health"] == ["", "health:failing",
                                                               "health:ok"]
    shelves = RecordModel([RecordColumn("Shelf", lambda s: s.name, lambda s: s.query)])
    shelves.set_records([Shelf("A", "x"), Shelf("B", "lang:r")])
    qtmodeltester.check(shelves)


def test_library_model_with_health_passes_the_model_tester(qtbot, qtmodeltester, mixed,
                                                            runner_for):
    runner = runner_for(mixed)
    runner.start()
    model = LibraryModel(runner)
    with qtbot.waitSignal(model.loaded, timeout=10000):
        model.refresh()
    qtmodeltester.check(model)
    with Library.open(mixed, readonly=True) as lib:
        health = {h.id: h for h in lib.health()}
    with qtbot.waitSignal(model.dataChanged, timeout=10000):
        model.set_health(health)
    with qtbot.waitSignal(model.loaded, timeout=10000):
        model.set_filter("health:missing-deps")
    qtbot.waitUntil(lambda: model.rowCount() >= 1, timeout=10000)
    with qtbot.waitSignal(model.loaded, timeout=10000):
        model.sort(Column.HEALTH, Qt.SortOrder.DescendingOrder)


def test_filters_and_shelves_read_the_way_users_write_them():
    assert toggle_filter("pivot", "lang:julia") == "pivot lang:julia"
    assert toggle_filter("pivot LANG:julia", "lang:julia") == "pivot"
    assert split_health("pivot health:failing lang:r") == ("pivot lang:r",
                                                          frozenset({"failing"}))
    assert split_health("pivot") == ("pivot", frozenset())
    assert Shelf.parse("Weekly = import:pandas tag:weekly") == Shelf(
        "Weekly", "import:pandas tag:weekly")
    assert Shelf.parse("just words") == Shelf("just words", "just words")
    assert Shelf("Weekly", "x = y").entry() == "Weekly = x = y"
    assert Shelf.parse("Weekly = x = y") == Shelf("Weekly", "x = y")
