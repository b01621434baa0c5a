"""A first sync under way elsewhere (issue 16): a window opened on the library meanwhile
lists the notebooks already committed, and its Similar tab says the neighbours are still
being learned instead of showing an empty list; once the sync has fitted the model the same
notebook shows its neighbours.

The sync is a real one, on a thread of the test's holding the writer (as a second window or
``nbshelf sync`` would), paused halfway inside its own progress callback.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel

from nbshelf.errors import SimilarLearning
from nbshelf.library import Library
from nbshelf.records import SyncReport
from nbshelf.sources import sync as sync_module
from nbshelf.sources.sync import SyncProgress
from tests.helpers import make_notebook, write_notebook
from tests.ui.test_search_partial import type_query
from tests.ui.uihelpers import open_window, shoot

N = 240
SIMILAR_TAB = 1


@pytest.fixture
def share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``N`` notebooks in four topics; the sync commits batches of 30 files."""
    monkeypatch.setattr(sync_module, "BATCH_FILES", 30)
    topics = ["reservoir levels", "traffic counts", "river flow", "crop yields"]
    folder = tmp_path / "share"
    for i in range(N):
        topic = topics[i % len(topics)]
        nb = make_notebook(title=f"{topic.capitalize()} at site {i}",
                           markdown=[f"The {topic} of site {i} over the year."],
                           code=[f"import pandas as pd\n{topic.split()[0]}_{i} = "
                                 f"pd.read_csv('site{i}.csv')"])
        write_notebook(folder / f"site{i // 40}" / f"nb{i:03}.ipynb", nb)
    return folder


def searchable(root: Path) -> int:
    """How many notebooks a reader's search finds now (0 before the first index round)."""
    try:
        with Library.open(root, readonly=True) as reader:
            return reader.search("site", limit=1).total
    except Exception:  # noqa: BLE001 - the library or its index is not there yet
        return 0


def select_row(qtbot: Any, window: Any, row: int) -> int:
    """Select ``row`` of the list; the id of the notebook the pane then shows."""
    model = window.model
    window.table.selectionModel().setCurrentIndex(
        model.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    notebook_id = model.notebook_id(row)
    qtbot.waitUntil(lambda: window.pane.notebook_id == notebook_id, timeout=10000)
    return notebook_id


def test_a_window_opened_during_a_first_sync_lists_what_arrived_and_says_still_learning(
    qtbot: Any, runner_for: Any, tmp_path: Path, share: Path
) -> None:
    root = tmp_path / "lib"
    halfway, release = threading.Event(), threading.Event()
    reports: list[SyncReport] = []
    failures: list[BaseException] = []

    def progress(p: SyncProgress) -> None:
        if p.phase == "copy" and p.copied >= N // 2 and not halfway.is_set():
            halfway.set()
            release.wait(120)  # held here, mid-copy, until the test has looked

    def first_sync() -> None:
        try:
            with Library.open(root) as lib:
                lib.add_source(share, name="share")
                reports.append(lib.sync(progress=progress))
        except BaseException as err:  # noqa: BLE001 - reported by the test below
            failures.append(err)
            halfway.set()

    syncing = threading.Thread(target=first_sync, name="first-sync")
    syncing.start()
    try:
        qtbot.waitUntil(halfway.is_set, timeout=60000)
        qtbot.waitUntil(lambda: searchable(root) > 0, timeout=60000)
        assert not failures

        window = open_window(qtbot, runner_for, root)
        window.resize(1280, 800)
        assert not window.runner.writable  # the sync holds the library
        model = window.model
        listed = model.rowCount()
        assert 0 < listed < N  # what the sync committed so far, not the whole share

        # the Similar tab says why it is empty, in words, rather than showing nothing
        select_row(qtbot, window, 0)
        pane = window.pane
        pane.tabs.setCurrentIndex(SIMILAR_TAB)
        qtbot.waitUntil(pane.similar_note.isVisible, timeout=30000)
        assert pane.similar_note.text() == str(SimilarLearning())
        assert "finished learning" in pane.similar_note.text()
        assert pane.similar_model.rowCount() == 0
        shoot(qtbot, window, "first-sync-still-learning")
    finally:
        release.set()
        syncing.join(300)
    assert not failures and reports and reports[0].added == N

    # the other program let go: the window lists the whole share, finds what arrived after
    # it opened, and writes again
    qtbot.waitUntil(lambda: window.runner.writable, timeout=15000)
    qtbot.waitUntil(lambda: model.rowCount() == N, timeout=15000)
    assert "closed the library" in window.statusBar().currentMessage()
    assert window.sync_action.isEnabled()
    assert type_query(qtbot, window, "reservoir").matches == N // 4
    window.search.clear()
    qtbot.waitUntil(lambda: model.rowCount() == N, timeout=15000)

    # the sync fitted the model at its end: the same notebook now shows its neighbours
    with Library.open(root, readonly=True) as reader:
        assert not reader.similarity.learning()
    select_row(qtbot, window, 1)
    select_row(qtbot, window, 0)
    qtbot.waitUntil(lambda: pane.similar_model.rowCount() > 0, timeout=30000)
    assert not pane.similar_note.isVisible()
    shoot(qtbot, window, "first-sync-neighbours")


def test_a_read_only_window_shows_another_programs_sync_as_it_lands(
    qtbot: Any, runner_for: Any, tmp_path: Path, make_share: Any
) -> None:
    """A second program syncs while the window is open read-only: its new notebooks are
    listed without the user doing anything, and the window stays read-only while it holds."""
    root = tmp_path / "lib"
    holder = Library.open(root)
    try:
        holder.add_source(make_share("share", ["Traffic forecast"]), name="share")
        holder.sync()
        window = open_window(qtbot, runner_for, root)
        assert window.model.rowCount() == 1 and not window.runner.writable
        holder.add_source(make_share("more", ["Churn analysis", "Mango prices"]), name="more")
        holder.sync()
        qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=15000)
        assert not window.runner.writable and not window.sync_action.isEnabled()
        qtbot.waitUntil(lambda: "2 sources" in window.counts.text(), timeout=15000)
    finally:
        holder.close()
    qtbot.waitUntil(lambda: window.runner.writable, timeout=15000)
    assert window.sync_action.isEnabled()


def test_the_progress_line_says_what_the_sync_is_doing() -> None:
    from nbshelf.ui.syncing import describe

    copy = SyncProgress("share", "copy", 400, 380, 1000, 200)
    assert describe(copy) == "Syncing share: 400 of 1,000 checked, 380 copied; 200 searchable"
    writing = SyncProgress("search index", "index", 700, 1000, 1000, 200)
    assert describe(writing) == "Making notebooks searchable: 700 of 1,000"
    saving = SyncProgress("search index", "index", 1000, 1000, 1000, 200)
    assert describe(saving) == "Making notebooks searchable: saving the index of 1,000…"
    done = SyncProgress("search index", "index", 1000, 1000, 1000, 1000)
    assert describe(done) == "Making notebooks searchable: 1,000 of 1,000"
    learn = SyncProgress("similar notebooks", "learn", 3, 1000, 9, 1000)
    assert "alike" in describe(learn) and "search are ready" in describe(learn)
