"""Rows one can tell apart, one header per notebook, plain labels (issue 15), in the window."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from nbformat import v4
from PySide6.QtCore import QItemSelectionModel, Qt

from nbshelf.library import Library
from nbshelf.ui.models import Column, LibraryModel, Role
from nbshelf.ui.rowtitle import split_widths
from nbshelf.ui.window import MainWindow
from nbshelf.units import size
from tests.core.test_titles import book_chapter
from tests.helpers import PYTHON_META, make_notebook, write_notebook
from tests.ui.uihelpers import LOAD_TIMEOUT_MS, open_window, run_js, shoot

CSHARP_META = {"kernelspec": {"name": ".net-csharp", "display_name": ".NET (C#)",
                              "language": "C#"}}
HASKELL_META = {"kernelspec": {"name": "haskell", "display_name": "Haskell",
                               "language": "haskell"}}
CHAT = ["Now you can see that, like, you really want this. Let's just look at it, you know.",
        "You will like this: let's do it again, you see, just like that."]


def dataframes_lesson(topic: str) -> object:
    """A lesson of a tutorial whose every notebook starts with the same heading."""
    nb = v4.new_notebook(metadata=PYTHON_META)
    nb.cells += [v4.new_markdown_cell("# Introduction to DataFrames"),
                 v4.new_markdown_cell(f"## {topic}"), v4.new_code_cell("x = 1")]
    return nb


@pytest.fixture
def books(library_dir: Path, tmp_path: Path) -> Path:
    """Two editions of a book (same file names, other folders), a tutorial whose lessons
    share their first heading, a stick that will be unplugged, notebooks in C# and Haskell,
    and two chatty notebooks about churn."""
    share = tmp_path / "corpus"
    for edition in ("handson-ml2", "handson-ml3"):
        write_notebook(share / edition / "09_unsupervised_learning.ipynb",
                       book_chapter(9, "Unsupervised Learning"))
    write_notebook(share / "handson-ml3" / "06_decision_trees.ipynb",
                   book_chapter(6, "Decision Trees"))
    for name in ("01_constructors", "02_basicinfo"):
        write_notebook(share / "dataframes" / f"{name}.ipynb", dataframes_lesson(name))
    write_notebook(share / "dotnet" / "csharp.ipynb", make_notebook(
        title="LINQ over sales", code=["var x = 1;"], metadata=CSHARP_META))
    write_notebook(share / "dotnet" / "haskell.ipynb", make_notebook(
        title="Folds", code=["x = 1"], metadata=HASKELL_META))
    write_notebook(share / "churn" / "churn_a.ipynb", make_notebook(
        title="Customer churn model", markdown=[*CHAT, "Churn of customers by tenure"],
        code=["import pandas as pd\nchurn = pd.read_csv('churn.csv')\n"
              "churn_rate = churn.groupby('tenure').churned.mean()"]))
    write_notebook(share / "churn" / "churn_b.ipynb", make_notebook(
        title="Churn by tenure", markdown=[*CHAT[::-1], "Customer churn and tenure"],
        code=["import pandas as pd\nchurn = pd.read_csv('churn_2024.csv')\n"
              "churn_rate = churn.groupby('tenure').churned.sum()"]))
    write_notebook(share / "solar.ipynb", make_notebook(
        title="Solar panel output", markdown=["Panel output by hour of the day"],
        code=["import numpy as np\npanel_output = np.zeros(24)"]))
    stick = tmp_path / "stick"
    write_notebook(stick / "field" / "readings.ipynb", make_notebook(title="Field readings"))
    with Library.open(library_dir) as lib:
        lib.add_source(share, name="corpus")
        lib.add_source(stick, name="stick")
        lib.sync()
    return library_dir


def all_rows(qtbot, model: LibraryModel) -> None:
    qtbot.waitUntil(lambda: model.rowCount() > 0 and all(
        model.record(r) is not None for r in range(model.rowCount())), timeout=10000)


def cells(model: LibraryModel, role: int = Qt.ItemDataRole.DisplayRole) -> list[dict[str, object]]:
    """Every row as {column name: data(role)}, and its file name as FILE."""
    return [{column.name: model.data(model.index(r, column), role) for column in Column}
            | {"FILE": model.data(model.index(r, Column.TITLE), Role.FILE_NAME)}
            for r in range(model.rowCount())]


def select(qtbot, window: MainWindow, path: str) -> None:
    model = window.model
    all_rows(qtbot, model)
    row = next(r for r in range(model.rowCount()) if model.record(r).path == path)
    window.table.selectionModel().setCurrentIndex(
        model.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    qtbot.waitUntil(lambda: window.pane.info is not None and window.pane.info.path == path,
                    timeout=10000)


def test_rows_show_titles_files_and_folders_that_tell_them_apart(qtbot, runner_for, books):
    window = open_window(qtbot, runner_for, books)
    model = window.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in Column]
    assert headers[:3] == ["Title", "Folder", "Source"]
    all_rows(qtbot, model)
    # Two sources: the Source column says something, so it is shown
    qtbot.waitUntil(lambda: not window.table.isColumnHidden(Column.SOURCE), timeout=10000)
    shown = {(row["TITLE"], row["FILE"], row["FOLDER"]) for row in cells(model)}
    assert {
        ("Chapter 9 – Unsupervised Learning", "09_unsupervised_learning", "handson-ml2"),
        ("Chapter 9 – Unsupervised Learning", "09_unsupervised_learning", "handson-ml3"),
        ("Chapter 6 – Decision Trees", "06_decision_trees", "handson-ml3"),
        ("Introduction to DataFrames", "01_constructors", "dataframes"),
        ("Introduction to DataFrames", "02_basicinfo", "dataframes"),
        ("Solar panel output", "solar", ""),  # at the source's top
    } <= shown
    # No two rows read the same across title, file and folder (and source)
    rows = [(r["TITLE"], r["FILE"], r["FOLDER"], r["SOURCE"]) for r in cells(model)]
    assert len(set(rows)) == len(rows)
    shoot(qtbot, window, "rows-titles")
    # The window's row carries the title the core gives (show --json says the same)
    with Library.open(books, readonly=True) as lib:
        titles = {lib.show(i).path: lib.show(i).title for i in lib.notebook_ids()}
    assert {model.record(r).path: model.data(model.index(r, Column.TITLE))
            for r in range(model.rowCount())} == titles
    # The new columns sort: by folder, the ml2 edition comes before ml3
    window.table.sortByColumn(Column.FOLDER, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: model.query.column is Column.FOLDER and not model.loading,
                    timeout=10000)
    all_rows(qtbot, model)
    folders = [row["FOLDER"] for row in cells(model)]
    assert folders == sorted(folders, key=str.casefold)


def test_rows_of_an_unplugged_source_are_greyed_after_a_sync(
    qtbot, runner_for, books, tmp_path
):
    window = open_window(qtbot, runner_for, books)
    model = window.model
    all_rows(qtbot, model)

    def greyed() -> dict[str, bool]:
        return {model.record(r).source: model.data(
            model.index(r, Column.TITLE), Qt.ItemDataRole.ForegroundRole) is not None
            for r in range(model.rowCount()) if model.record(r) is not None}

    assert greyed() == {"corpus": False, "stick": False}
    # Sorted by a column, the list's rows come from the rows read so far: they must learn too
    window.table.sortByColumn(Column.SOURCE, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: model.query.column is Column.SOURCE and not model.loading,
                    timeout=10000)
    all_rows(qtbot, model)
    assert model.record(0).source == "stick"
    shutil.move(tmp_path / "stick", tmp_path / "unplugged")
    with qtbot.waitSignal(window.syncer.finished, timeout=60000):
        window.syncer.sync()
    qtbot.waitUntil(lambda: greyed() == {"corpus": False, "stick": True}, timeout=10000)
    row = next(r for r in range(model.rowCount()) if model.record(r).source == "stick")
    assert model.data(model.index(row, Column.FOLDER)) == "field"
    tip = model.data(model.index(row, Column.FOLDER), Qt.ItemDataRole.ToolTipRole)
    assert "could not be reached at its last sync" in tip
    shoot(qtbot, window, "rows-unplugged-greyed")
    # Plugged in again, it is shown as any other
    shutil.move(tmp_path / "unplugged", tmp_path / "stick")
    with qtbot.waitSignal(window.syncer.finished, timeout=60000):
        window.syncer.sync()
    qtbot.waitUntil(lambda: greyed() == {"corpus": False, "stick": False}, timeout=10000)


def test_one_header_with_the_core_size(qtbot, runner_for, books):
    window = open_window(qtbot, runner_for, books)
    select(qtbot, window, "handson-ml3/06_decision_trees.ipynb")
    header, info = window.pane.header, window.pane.info
    assert header.title.text() == "Chapter 6 – Decision Trees"
    assert header.values["Size"].text() == size(info.size)
    assert header.values["Kernel"].text() == "python3 (Python)"
    viewer = window.pane.view.ensure_viewer()
    qtbot.waitUntil(lambda: window.pane.view.currentWidget() is viewer, timeout=LOAD_TIMEOUT_MS)
    qtbot.waitUntil(lambda: run_js(qtbot, viewer, "document.querySelector('.nbs-cells') !== "
                                   "null"), timeout=LOAD_TIMEOUT_MS)
    # The page below the header repeats neither the title band nor its facts
    assert run_js(qtbot, viewer, "document.querySelector('.nbs-header') === null")
    assert run_js(qtbot, viewer, "document.querySelectorAll('dt').length") == 0


def test_language_labels_are_written_one_way(qtbot, runner_for, books):
    window = open_window(qtbot, runner_for, books)
    model = window.model
    all_rows(qtbot, model)
    languages = {model.record(r).path: model.data(model.index(r, Column.LANGUAGE))
                 for r in range(model.rowCount())}
    assert languages["dotnet/csharp.ipynb"] == "C#"
    assert languages["dotnet/haskell.ipynb"] == "Haskell"
    assert languages["solar.ipynb"] == "Python"

    def labels() -> set[str]:
        return {f.label for f in window.sidebar.facet_model.facets() if f.group == "language"
                and not f.heading}

    qtbot.waitUntil(lambda: "Haskell" in labels(), timeout=10000)
    assert labels() == {"Python", "C#", "Haskell"}


def test_health_tooltip_says_each_fact_once(qtbot, runner_for, library_dir, tmp_path):
    share = tmp_path / "team"
    write_notebook(share / "arrays.ipynb", title="Numpy arrays",
                   code=["import numpy\nimport zz_nobody_installed_this"])
    with Library.open(library_dir) as lib:
        lib.add_source(share)
        lib.sync()
    window = open_window(qtbot, runner_for, library_dir, until="health_checked")
    index = window.model.index(0, Column.HEALTH)
    assert window.model.data(index) == "missing modules"
    tip = window.model.data(index, Qt.ItemDataRole.ToolTipRole)
    assert tip.splitlines()[0] == "Missing modules: zz_nobody_installed_this"
    assert tip.lower().count("missing modules") == 1
    assert tip.count("zz_nobody_installed_this") == 1


def test_similar_reasons_name_what_notebooks_share_not_filler(qtbot, runner_for, books):
    window = open_window(qtbot, runner_for, books)
    select(qtbot, window, "churn/churn_a.ipynb")
    similar = window.pane.similar_model
    qtbot.waitUntil(lambda: similar.rowCount() > 0, timeout=30000)
    assert similar.record(0)["path"] == "churn/churn_b.ipynb"
    why = similar.data(similar.index(0, 2))
    assert "tenure" in why and "churn" in why
    words = {w.strip(",;: ").casefold() for w in why.split()}
    assert not words & {"you", "like", "let's", "just", "now"}


def test_the_file_name_follows_the_title_and_one_source_shows_no_source_column(
    qtbot, runner_for, library_dir, tmp_path
):
    share = tmp_path / "only"
    for name in ("01_constructors", "02_basicinfo"):
        write_notebook(share / "dataframes" / f"{name}.ipynb", dataframes_lesson(name))
    with Library.open(library_dir) as lib:
        lib.add_source(share)
        lib.sync()
    window = open_window(qtbot, runner_for, library_dir)
    table = window.table
    qtbot.waitUntil(lambda: window.model.source_count == 1, timeout=10000)
    assert table.isColumnHidden(Column.SOURCE)  # "only" on every row says nothing
    assert table.columnWidth(Column.TITLE) >= table.viewport().width() / 3
    # Wide enough, the title and the file name are both whole; narrow, the title keeps
    # its room and the name is elided; very narrow, the title alone.
    assert split_widths(200, 120, 400) == (200, 120)
    assert split_widths(300, 200, 400) == (400 - 14 - 140, 140)
    assert split_widths(60, 400, 400) == (60, 400 - 14 - 60)  # a short title leaves more
    assert split_widths(300, 200, 120) == (120, 0)
    # On screen, the file name is painted after the title, where the cell was empty before
    window.resize(1280, 800)
    all_rows(qtbot, window.model)
    qtbot.wait(100)
    image = table.viewport().grab().toImage()
    rect = table.visualRect(window.model.index(0, Column.TITLE))
    after_title = rect.left() + table.fontMetrics().horizontalAdvance(
        "Introduction to DataFrames") + 20
    colours = {image.pixelColor(x, y).name() for x in range(after_title, rect.right() - 4)
               for y in range(rect.top() + 2, rect.bottom() - 2)}
    assert len(colours) > 3  # glyphs, not only the row's background
