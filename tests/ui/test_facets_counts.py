"""Facet counts stay true while the writer changes the library (issue 15, point 7).

The sidebar counts on the read lane, whose searcher is refreshed after each of the writer's
commits. Whoosh's ``Searcher.refresh()`` reused segment readers with the deletions they had
when opened, and whoosh-reloaded added back segments that a merge had removed: after a sync
that changed notebooks (markings changed from the command line, then a start-up sync), every
changed notebook was counted twice for the rest of the session ("Python 29" with 17)."""

from __future__ import annotations

from pathlib import Path

from nbshelf.library import Library
from tests.helpers import write_notebook
from tests.ui.uihelpers import open_window

COUNT = 17


def _python_count(window) -> int | None:
    for facet in window.sidebar.facet_model.facets():
        if facet.term == "lang:python":
            return facet.count
    return None


def _write_all(share: Path, version: int) -> None:
    for i in range(COUNT):
        write_notebook(share / f"n{i:02d}.ipynb", title=f"Note {i}",
                       code=[f"import pandas\nvalue = {i} + {version}"])


def test_facet_counts_do_not_double_after_a_sync_changes_notebooks(
    qtbot, runner_for, library_dir, tmp_path
):
    share = tmp_path / "share"
    _write_all(share, 0)
    with Library.open(library_dir) as lib:
        lib.add_source(share)
        lib.sync()
    window = open_window(qtbot, runner_for, library_dir)
    qtbot.waitUntil(lambda: _python_count(window) == COUNT, timeout=20000)
    for round_ in (1, 2):  # each sync changes every notebook and adds one
        _write_all(share, round_)
        write_notebook(share / f"new-{round_}.ipynb", title=f"New {round_}")
        window.syncer.sync()
        qtbot.waitUntil(lambda: not window.syncer.running, timeout=30000)
        expected = COUNT + round_
        qtbot.waitUntil(lambda n=expected: window.model.rowCount() == n, timeout=10000)
        qtbot.waitUntil(lambda n=expected: (_python_count(window) or 0) >= n, timeout=10000)
        qtbot.wait(300)  # any later recount lands too
        assert _python_count(window) == expected
    # the same count with a query (the index's own matchers, not Every)
    window.run_search("pandas")
    qtbot.waitUntil(lambda: window.sidebar.text == "pandas", timeout=10000)
    qtbot.waitUntil(lambda: _python_count(window) == COUNT, timeout=10000)
