"""Save offscreen screenshots of the app's main states into ``screenshots/``.

    QT_QPA_PLATFORM=offscreen python scripts/screenshots_app.py [OUT_DIR]

Builds a throwaway library from the demo notebooks plus a small "team share" with a broken
file and an unplugged USB stick, then grabs: the library list, a selected notebook, search
results, the facets sidebar with a filter on, similar notebooks (where the build has them), a
run in progress, the Sources dialog, the Problems panel and the first-start empty state.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("NBSHELF_INDEX_PROCS", "1")

import nbformat  # noqa: E402
from nbformat import v4  # noqa: E402
from PySide6.QtCore import QItemSelectionModel  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from nbshelf.library import Library  # noqa: E402
from nbshelf.resources import demo_folder  # noqa: E402
from nbshelf.ui.tasks import TaskRunner  # noqa: E402
from nbshelf.ui.viewer import register_scheme  # noqa: E402
from nbshelf.ui.window import MainWindow  # noqa: E402

SIZE = (1280, 800)
SEARCH_SIZE = (1440, 860)


def wait_for_page(window: MainWindow) -> None:
    """Until the rendered notebook shows its title (and has had time to paint)."""
    viewer = window.pane.view.viewer
    if viewer is None or window.pane.info is None:
        return
    title = window.pane.info.title
    text: list[str] = []
    wait_until(lambda: window.pane.view.currentWidget() is viewer)

    def shown() -> bool:
        viewer.page().toPlainText(text.append)
        return bool(text) and title in text[-1]

    wait_until(shown)
    end = time.monotonic() + 0.6
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def wait_until(check: Callable[[], object], timeout: float = 60.0) -> None:
    """Run the event loop until ``check()`` is true."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {check}")
        QApplication.processEvents()
        time.sleep(0.01)


def settle(seconds: float = 0.3) -> None:
    """Let pending tasks land and the widgets repaint."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def make_share(folder: Path) -> None:
    """A team share: a few notebooks (two with a control marking) and one broken file."""
    topics = {
        "quarterly/revenue-bridge.ipynb": ("Revenue bridge Q3", ["pandas", "matplotlib"],
                                           "OFFICIAL"),
        "quarterly/headcount.ipynb": ("Headcount by team", ["pandas"], "OFFICIAL-SENSITIVE"),
        "adhoc/port-congestion.ipynb": ("Port congestion study", ["geopandas", "shapely"], ""),
        "adhoc/survey-weights.ipynb": ("Survey weighting with raking", ["numpy", "scipy"], ""),
    }
    for relpath, (title, modules, marking) in topics.items():
        nb = v4.new_notebook(
            metadata={
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                "language_info": {"name": "python"},
                **({"nbshelf": {"marking": marking}} if marking else {}),
            }
        )
        nb.cells = [
            v4.new_markdown_cell(f"# {title}"),
            v4.new_markdown_cell("## Data"),
            v4.new_code_cell("\n".join(f"import {m}" for m in modules)),
            v4.new_markdown_cell("## Findings"),
        ]
        path = folder / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(path))
    (folder / "adhoc" / "half-saved.ipynb").write_text('{"cells": [', encoding="utf-8")


def make_live_notebook(path: Path) -> None:
    """A notebook that takes a few seconds, cell by cell: the run in progress to show."""
    nb = v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        }
    )
    nb.cells = [
        v4.new_markdown_cell("# Daily load check"),
        v4.new_code_cell(
            "import time\nrows = [120, 340, 560, 780]\nprint('loaded', sum(rows), 'rows')"
        ),
        v4.new_code_cell("for day, n in enumerate(rows, 1):\n    print(f'day {day}: {n} rows')"),
        v4.new_code_cell("time.sleep(1.5)\nprint('checked totals')"),
        v4.new_code_cell("time.sleep(20)\nprint('done')"),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def build_library(work: Path) -> Path:
    """A library with the demo source, a team share and an unplugged stick."""
    root = work / "library"
    share = work / "team-share"
    stick = work / "usb-stick"
    make_share(share)
    make_live_notebook(share / "ops" / "daily-load-check.ipynb")
    make_share(stick)
    with Library.open(root) as lib:
        if demo_folder().is_dir():
            lib.add_source(demo_folder(), name="demo", kind="demo")
        lib.add_source(share)
        lib.add_source(stick)
        lib.sync()
    shutil.move(stick, work / "unplugged")
    return root


def open_window(root: Path) -> tuple[MainWindow, TaskRunner]:
    runner = TaskRunner(
        open_writer=lambda: Library.open(root),
        open_reader=lambda: Library.open(root, readonly=True),
    )
    window = MainWindow(runner, root)
    window.resize(*SIZE)
    ready: list[bool] = []
    window.ready.connect(lambda: ready.append(True))
    window.show()
    runner.start()
    wait_until(lambda: ready)
    model = window.model
    wait_until(lambda: not model.loading)
    settle(0.5)
    return window, runner


def select_title(window: MainWindow, title: str) -> None:
    """Select the notebook with this title in the list and wait for the pane to show it."""
    model = window.model
    wait_until(lambda: all(model.record(r) is not None for r in range(model.rowCount())))
    row = next(r for r in range(model.rowCount()) if model.record(r).title == title)
    window.table.selectionModel().setCurrentIndex(
        model.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    wait_until(lambda: window.pane.info is not None and window.pane.info.title == title)


def rows_on_screen_checked(window: MainWindow) -> bool:
    """True when every row on screen shows its health."""
    model, table = window.model, window.table
    last = table.rowAt(table.viewport().height() - 1)
    last = model.rowCount() - 1 if last < 0 else last
    ids = [model.notebook_id(r) for r in range(max(0, table.rowAt(0)), last + 1)]
    return bool(ids) and all(i in model.health for i in ids)


def snippets_on_screen(window: MainWindow) -> bool:
    """True when every search hit on screen has its snippets."""
    model, table = window.model, window.table
    last = table.rowAt(table.viewport().height() - 1)
    last = model.rowCount() - 1 if last < 0 else last
    ids = [model.notebook_id(r) for r in range(max(0, table.rowAt(0)), last + 1)]
    return bool(ids) and all(i is not None and model.snippets_of(i) is not None for i in ids)


def save(widget: QWidget, out: Path, name: str) -> None:
    settle()
    path = out / f"{name}.png"
    widget.grab().save(str(path))
    print(path)


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    register_scheme()  # the viewer's URL scheme, before the QApplication (as the app does)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="nbshelf-shots-") as tmp:
        work = Path(tmp)
        root = build_library(work)
        window, runner = open_window(root)
        model = window.model
        save(window, out, "library")

        wanted = next(
            (r for r in range(model.rowCount()) if (model.record(r) or None) and
             model.record(r).source == "demo"),
            0,
        )
        window.table.selectionModel().setCurrentIndex(
            model.index(wanted, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        wait_until(lambda: window.pane.info is not None)
        wait_for_page(window)
        save(window, out, "notebook")

        window.pane.tabs.setCurrentIndex(2)
        save(window, out, "history")
        window.pane.tabs.setCurrentIndex(0)

        # Each hit with its best snippet under its title, the first one opened at its match.
        # A wider window than the other shots: the README shows this one, snippets need room.
        window.resize(*SEARCH_SIZE)
        window.search.setText("revenue")
        wait_until(lambda: model.query.text == "revenue" and not model.loading)
        wait_until(lambda: snippets_on_screen(window))
        select_title(window, "Sales growth, 2025 against 2024")
        wait_for_page(window)
        save(window, out, "search")
        window.resize(*SIZE)
        window.search.clear()
        wait_until(lambda: model.query.text == "" and not model.loading)

        # The sidebar once the background health check is in: a module facet clicked.
        wait_until(lambda: bool(model.health))
        sidebar = window.sidebar
        wait_until(lambda: any(f.term == "import:pandas" for f in sidebar.facet_model.facets()))
        window.run_search("import:pandas")
        wait_until(lambda: model.query.text == "import:pandas" and not model.loading
                   and any(f.active for f in sidebar.facet_model.facets()))
        sidebar.add_shelf("Needs a look", "health:missing-deps")
        sidebar.add_shelf("Quarterly", "path:quarterly")
        wait_until(lambda: sidebar.shelf_model.rowCount() == 2)
        save(window, out, "facets")
        window.search.clear()
        wait_until(lambda: model.query.text == "" and not model.loading)

        select_title(window, "Headcount by team")
        window.pane.tabs.setCurrentIndex(1)
        wait_until(lambda: window.pane.similar_model.rowCount() > 0, timeout=120)
        save(window, out, "similar")
        window.pane.tabs.setCurrentIndex(0)

        select_title(window, "Daily load check")
        wait_for_page(window)
        notebook_id = window.pane.notebook_id
        assert notebook_id is not None
        window.runs.start(notebook_id, None, {})  # what the Run dialog's Run button does
        window.pane.tabs.setCurrentWidget(window.pane.runs_tab)
        wait_until(lambda: "checked totals" in window.pane.runs_tab.page_text(), timeout=120)
        save(window, out, "running")
        window.runs.stop()
        wait_until(lambda: not window.runs.running, timeout=60)

        window.show_problems()
        save(window, out, "problems")
        window.problems_dock.hide()

        dialog = window.show_sources()
        wait_until(lambda: dialog.model.rowCount() > 0)
        save(dialog, out, "sources")
        dialog.close()

        archive = work / "project-archive"
        for i in range(600):
            make_share(archive / f"project-{i:03d}")
        before = model.rowCount()
        window.add_folder(str(archive))
        wait_until(lambda: window.syncer.running)
        # Rows arrive while the sync copies, their health filled in from the read lane.
        wait_until(lambda: model.rowCount() > before and rows_on_screen_checked(window),
                   timeout=120)
        save(window, out, "syncing")
        wait_until(lambda: not window.syncer.running, timeout=300)
        window.close()
        runner.shutdown()

        empty, empty_runner = open_window(work / "empty-library")
        save(empty, out, "empty")
        empty.close()
        empty_runner.shutdown()
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
