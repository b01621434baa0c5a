"""The Sources dialog does what ``nbshelf source`` does: add, rename, relocate, remove; an
unplugged or unmounted source says when it was last seen; read-only commands of the command
line work while the window holds the writer."""

from __future__ import annotations

import os
import shutil
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from nbshelf.library import Library
from nbshelf.sources.scan import ScanResult
from nbshelf.sources.sync import looks_unmounted
from nbshelf.ui.panels import SourcesDialog
from nbshelf.ui.tasks import Changes, Lane
from tests.helpers import run_cli
from tests.ui.uihelpers import SHARE_TITLES as TITLES
from tests.ui.uihelpers import open_window, shoot


def _sources(dialog: SourcesDialog) -> dict[str, object]:
    return {s.name: s for s in dialog.model.records()}


def _status(dialog: SourcesDialog, name: str) -> str:
    row = next(r for r, s in enumerate(dialog.model.records()) if s.name == name)
    return str(dialog.model.data(dialog.model.index(row, 1)))


def _shown_sources(window) -> set[str]:
    return {window.model.record(r).source for r in range(window.model.rowCount())
            if window.model.record(r) is not None}


def test_sources_are_added_renamed_relocated_and_removed_in_the_dialog(
    qtbot, runner_for, library_dir, make_share, tmp_path
):
    window = open_window(qtbot, runner_for, library_dir)
    dialog = window.show_sources()
    dialog.add_requested.emit(str(make_share("team", TITLES)))  # the folder picker's answer
    qtbot.waitUntil(lambda: window.model.rowCount() == 3 and not window.syncer.running,
                    timeout=30000)
    qtbot.waitUntil(lambda: "team" in _sources(dialog), timeout=10000)

    # Rename: keyboard (F2) opens the question, the answer renames it everywhere.
    dialog.select("team")
    assert dialog.rename_button.isEnabled()
    qtbot.keyClick(dialog.view, Qt.Key.Key_F2)
    assert dialog.rename_box is not None and dialog.rename_box.textValue() == "team"
    dialog.rename_box.setTextValue("analysts")
    dialog.rename_box.accept()
    qtbot.waitUntil(lambda: set(_sources(dialog)) == {"analysts"}, timeout=10000)
    qtbot.waitUntil(lambda: _shown_sources(window) == {"analysts"}, timeout=10000)
    assert "is now called “analysts”" in window.statusBar().currentMessage()
    window.run_search("source:analysts")  # the index knows the new name
    qtbot.waitUntil(lambda: window.model.query.text == "source:analysts"
                    and window.model.rowCount() == 3, timeout=10000)
    window.run_search("")

    # Relocate: the folder moved; the source follows it and is synced there.
    moved = tmp_path / "moved-team"
    shutil.move(tmp_path / "team", moved)
    dialog.relocate("analysts", str(moved))
    qtbot.waitUntil(lambda: _sources(dialog)["analysts"].path == str(moved.resolve()),
                    timeout=10000)
    qtbot.waitUntil(lambda: not window.syncer.running, timeout=30000)
    assert _status(dialog, "analysts") == "Available"
    assert window.model.rowCount() == 3

    # Remove: asked first, in plain words; the folder is left alone.
    dialog.select("analysts")
    dialog.activateWindow()
    dialog.view.setFocus()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    qtbot.keyClick(dialog.view, Qt.Key.Key_Delete)
    box = dialog.remove_box
    assert box is not None and box.isVisible()
    assert "3 notebooks leave the library" in box.text()
    assert f"Nothing in the folder {moved.resolve()} is changed or deleted" in box.text()
    assert box.defaultButton().text() == "Keep It"  # Enter does not remove
    remove = next(b for b in box.buttons()
                  if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole)
    remove.click()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 0, timeout=10000)
    qtbot.waitUntil(lambda: window.list_stack.currentWidget() is window.empty_state,
                    timeout=10000)
    assert sorted(p.name for p in moved.iterdir()) == sorted(
        p.name for p in moved.iterdir() if p.suffix == ".ipynb")
    assert len(list(moved.iterdir())) == 3  # the folder kept every notebook


def test_a_rename_to_a_taken_name_is_refused_in_words(qtbot, runner_for, library_dir,
                                                      make_share, monkeypatch):
    with Library.open(library_dir) as lib:
        lib.add_source(make_share("one", ["A"]))
        lib.add_source(make_share("two", ["B"]))
        lib.sync()
    window = open_window(qtbot, runner_for, library_dir)
    dialog = window.show_sources()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2, timeout=10000)
    shown: list[str] = []
    # the warning box is modal: keep its text instead of showing it
    monkeypatch.setattr(QMessageBox, "warning",
                        staticmethod(lambda _parent, _title, text: shown.append(text)))
    dialog.rename("one", "two")
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert shown == ["There is already a source named 'two'."]
    assert set(_sources(dialog)) == {"one", "two"}


def test_an_unplugged_source_says_when_it_was_last_seen(
    qtbot, runner_for, library_dir, make_share, tmp_path
):
    stick = make_share("stick", ["On the stick"])
    with Library.open(library_dir) as lib:
        lib.add_source(stick)
        lib.add_source(make_share("share", TITLES))
        lib.sync()
    seen = time.time() - 7200  # its last sync, two hours ago
    with Library.open(library_dir) as lib:
        from sqlalchemy import update

        from nbshelf.catalog.models import Source

        with lib.engine.begin() as conn:
            conn.execute(update(Source).values(last_sync=seen))
    shutil.move(stick, tmp_path / "unplugged")
    window = open_window(qtbot, runner_for, library_dir)  # its start-up sync finds it gone
    dialog = window.show_sources()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2, timeout=10000)
    assert _status(dialog, "stick") == "Unavailable — last seen 2 hours ago"
    assert _status(dialog, "share") == "Available"
    row = next(r for r, s in enumerate(dialog.model.records()) if s.name == "stick")
    assert dialog.model.data(dialog.model.index(row, 3)) == "—"  # not "Last sync: just now"
    assert not dialog.relocate_button.isEnabled()  # nothing selected yet
    dialog.select("stick")
    assert dialog.relocate_button.isEnabled() and dialog.remove_button.isEnabled()
    shoot(qtbot, dialog, "admin-sources-unavailable")


def test_an_unmounted_share_is_unavailable_not_just_synced(
    qtbot, runner_for, library_dir, make_share, tmp_path
):
    """An empty mount point where the catalog holds notebooks: sync calls it unavailable,
    and the dialog says so too, with the time it was last really seen."""
    share = make_share("share", TITLES)
    with Library.open(library_dir) as lib:
        lib.add_source(share)
        lib.sync()
        synced_at = lib.list_sources()[0].last_sync
    shutil.move(share, tmp_path / "offline")
    share.mkdir()  # the mount point stays, empty
    time.sleep(1.1)
    window = open_window(qtbot, runner_for, library_dir)
    dialog = window.show_sources()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=10000)
    source = dialog.model.record(0)
    assert not source.available
    assert source.last_sync == synced_at  # the sync that found it empty is no sighting
    assert _status(dialog, "share").startswith("Unavailable — last seen")
    assert window.model.rowCount() == len(TITLES)  # its notebooks stay


def test_a_walk_that_cannot_list_the_source_folder_is_no_sync():
    """A share that stops answering between "is it there" and its walk is not synced "just
    now": the walk saw nothing of it."""
    assert looks_unmounted(ScanResult(unlisted=[""]), catalog_has_present=False)
    assert looks_unmounted(ScanResult(unlisted=[""]), catalog_has_present=True)
    assert not looks_unmounted(ScanResult(unlisted=["sub"]), catalog_has_present=True)


def test_read_only_commands_work_while_the_window_holds_the_writer(
    qtbot, runner_for, synced, tmp_path
):
    window = open_window(qtbot, runner_for, synced)
    assert window.runner.writable  # the window's write lane holds the library's lock
    listed = run_cli(synced, "source", "list", "--json")
    assert listed.code == 0, listed.stderr
    assert [s["name"] for s in listed.json["sources"]] == ["share"]
    settings = run_cli(synced, "settings", "--json")
    assert settings.code == 0, settings.stderr
    assert settings.json["settings"]["sync_interval_minutes"] == 15
    one = run_cli(synced, "settings", "markings", "--json")
    assert one.code == 0, one.stderr
    pack = run_cli(synced, "pack", "export", "--ids", "1,2", "-o", str(tmp_path / "p.zip"),
                   "--json")
    assert pack.code == 0, pack.stderr
    assert pack.json["notebooks"] == 2 and (tmp_path / "p.zip").is_file()
    # a command that writes is still refused, in words, after its wait
    refused = run_cli(synced, "--wait", "0", "settings", "sync_interval_minutes", "5")
    assert refused.code == 1 and "in use" in refused.stderr
    assert window.runner.writable


def test_a_second_window_reads_the_library_the_first_one_writes(
    qtbot, runner_for, synced
):
    first = open_window(qtbot, runner_for, synced)
    second = open_window(qtbot, runner_for, synced)
    assert first.runner.writable and not second.runner.writable
    assert second.model.rowCount() == len(TITLES)
    dialog = second.show_sources()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=10000)
    assert not dialog.add_button.isEnabled() and not dialog.remove_button.isEnabled()
    # The writer's changes reach the reader's list.
    done: list[object] = []
    first.runner.task(lambda lib, _job: lib.rename_source("share", "team"), lane=Lane.WRITE
                      ).on_success(done.append).start()
    qtbot.waitUntil(lambda: bool(done), timeout=10000)
    second.runner.broadcast(Changes(notebooks=True, sources=True))
    qtbot.waitUntil(lambda: [s.name for s in dialog.model.records()] == ["team"],
                    timeout=10000)


def test_an_empty_library_folder_opens_with_the_demo(tmp_path):
    """``nbshelf --library EMPTY_FOLDER`` is a first start: the demo is there to explore."""
    import subprocess
    import sys

    folder = tmp_path / "empty"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "NBSHELF_LIBRARY"}
    env.update(QT_QPA_PLATFORM="offscreen", NBSHELF_INDEX_PROCS="1",
               NBSHELF_QUIT_AFTER_START="1", XDG_STATE_HOME=str(tmp_path / "state"))
    proc = subprocess.run([sys.executable, "-m", "nbshelf", "--library", str(folder)],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    listed = run_cli(folder, "source", "list", "--json")
    assert [s["name"] for s in listed.json["sources"]] == ["demo"]
    assert listed.json["sources"][0]["notebooks"] >= 8
    # the command line keeps its contract: a library it creates stays empty
    other = tmp_path / "cli-made"
    assert run_cli(other, "source", "list", "--json").json["sources"] == []


def test_the_window_comes_back_as_it_was_left(qtbot, runner_for, synced):
    from nbshelf.ui.models import Column

    window = open_window(qtbot, runner_for, synced)
    window.resize(1100, 700)
    window.splitter.setSizes([500, 400])
    header = window.table.horizontalHeader()
    header.resizeSection(Column.LANGUAGE, 173)
    header.resizeSection(Column.MODIFIED, 131)
    qtbot.wait(50)
    sizes = window.splitter.sizes()
    window.close()
    again = open_window(qtbot, runner_for, synced)
    assert (again.width(), again.height()) == (1100, 700)
    header = again.table.horizontalHeader()
    assert header.sectionSize(Column.LANGUAGE) == 173
    assert header.sectionSize(Column.MODIFIED) == 131
    assert again.splitter.sizes() == sizes


def test_a_search_says_how_many_identical_copies_it_folded(
    qtbot, runner_for, library_dir, make_share, tmp_path
):
    one = make_share("one", TITLES)
    two = tmp_path / "two"
    two.mkdir()
    for copied in sorted(one.iterdir())[:2]:  # two identical copies of the first share's
        shutil.copy(copied, two / copied.name)
    with Library.open(library_dir) as lib:
        lib.add_source(one)
        lib.add_source(two)
        lib.sync()
    window = open_window(qtbot, runner_for, library_dir)
    assert window.counts.text() == "5 notebooks · 2 sources"
    window.run_search("data")  # every notebook has a "## Data" cell
    qtbot.waitUntil(lambda: "folded" in window.counts.text(), timeout=10000)
    assert window.model.rowCount() == 3
    assert window.counts.text() == "3 of 5 notebooks (2 identical copies folded) · 2 sources"
    assert "listed once" in window.counts.toolTip()
    window.run_search("")
    qtbot.waitUntil(lambda: window.counts.text() == "5 notebooks · 2 sources", timeout=10000)
    assert window.counts.toolTip() == ""


def test_relevance_order_comes_back_after_sorting_a_search(qtbot, runner_for, synced):
    from nbshelf.ui.models import Column

    window = open_window(qtbot, runner_for, synced)
    assert not window.relevance_action.isEnabled()  # no search: nothing to go back to
    window.run_search("data")
    qtbot.waitUntil(lambda: window.model.query.text == "data" and not window.model.loading,
                    timeout=10000)
    ranked = [window.model.notebook_id(r) for r in range(window.model.rowCount())]
    assert not window.relevance_action.isEnabled()
    assert not window.table.horizontalHeader().isSortIndicatorShown()  # best first
    window.table.sortByColumn(Column.MODIFIED, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: window.model.query.column is Column.MODIFIED
                    and not window.model.loading, timeout=10000)
    assert window.relevance_action.isEnabled()
    assert window.table.horizontalHeader().isSortIndicatorShown()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window.table, Qt.Key.Key_R,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.model.query.column is Column.TITLE
                    and not window.model.loading, timeout=10000)
    assert [window.model.notebook_id(r) for r in range(window.model.rowCount())] == ranked
    assert not window.relevance_action.isEnabled()


def test_alt_and_a_digit_switch_the_notebook_tabs(qtbot, runner_for, synced):
    window = open_window(qtbot, runner_for, synced)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    for key, tab in ((Qt.Key.Key_4, 3), (Qt.Key.Key_2, 1), (Qt.Key.Key_3, 2),
                     (Qt.Key.Key_1, 0)):
        qtbot.keyClick(window.table, key, Qt.KeyboardModifier.AltModifier)
        assert window.pane.tabs.currentIndex() == tab
    assert window.pane.tabs.hasFocus()


def test_the_language_filter_shows_more_on_request(qtbot, runner_for, library_dir,
                                                   make_share, tmp_path):
    from tests.helpers import write_notebook

    share = tmp_path / "many"
    languages = ["python", "r", "julia", "scala", "haskell", "rust", "go", "ruby", "perl",
                 "lua", "c++"]
    for i, language in enumerate(languages):
        meta = {"kernelspec": {"name": language, "display_name": language,
                               "language": language},
                "language_info": {"name": language}}
        for copy in range(len(languages) - i):  # distinct counts: python most, c++ least
            write_notebook(share / f"{language}-{copy}.ipynb", title=f"{language} {copy}",
                           code=[f"x = {copy}  # {language}"], metadata=meta)
    with Library.open(library_dir) as lib:
        lib.add_source(share)
        lib.sync()
    window = open_window(qtbot, runner_for, library_dir)
    sidebar = window.sidebar

    def language_lines():
        return [f for f in sidebar.facet_model.facets() if f.group == "language"]

    qtbot.waitUntil(lambda: len(language_lines()) > 1, timeout=20000)
    lines = language_lines()
    values = [f for f in lines if f.term]
    assert len(values) == 8
    assert lines[-1].expander and lines[-1].label == "3 more…"
    shoot(qtbot, window, "admin-sidebar-more")
    row = sidebar.facet_model.facets().index(lines[-1])
    sidebar.facets.setFocus()
    sidebar.facets.setCurrentIndex(sidebar.facet_model.index(row, 0))
    qtbot.keyClick(sidebar.facets, Qt.Key.Key_Return)  # the keyboard opens it too
    qtbot.waitUntil(lambda: len([f for f in language_lines() if f.term]) == 11, timeout=5000)
    assert language_lines()[-1].label == "Fewer"
    assert window.search.text() == ""  # it filtered nothing
    sidebar._facet_clicked(sidebar.facets.currentIndex())
    assert len([f for f in language_lines() if f.term]) == 8
