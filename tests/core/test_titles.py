"""Titles a reader would give, the same everywhere; one size and language form (issue 15)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import nbformat
from nbformat import v4

from nbshelf.library import Library
from nbshelf.notebook.titles import file_words, is_generic
from nbshelf.units import language_name, size
from tests.helpers import PYTHON_META, make_notebook, run_cli, write_notebook


def book_chapter(number: int, name: str) -> nbformat.NotebookNode:
    """A chapter as the ML handbook writes it: a bold first line, then a "Setup" heading."""
    nb = v4.new_notebook(metadata=PYTHON_META)
    nb.cells += [
        v4.new_markdown_cell(f"**Chapter {number} – {name}**"),
        v4.new_markdown_cell(f"_This notebook contains the code of chapter {number}._"),
        v4.new_markdown_cell("# Setup"),
        v4.new_code_cell("import sys\nassert sys.version_info >= (3, 7)"),
        v4.new_markdown_cell(f"# {name} in practice"),
    ]
    return nb


def generic_only() -> nbformat.NotebookNode:
    nb = v4.new_notebook(metadata=PYTHON_META)
    nb.cells += [v4.new_markdown_cell("## Imports"), v4.new_code_cell("import pandas as pd"),
                 v4.new_markdown_cell("## Table of Contents")]
    return nb


def chapters(share: Path) -> None:
    write_notebook(share / "ml2" / "09_unsupervised_learning.ipynb",
                   book_chapter(9, "Unsupervised Learning"))
    write_notebook(share / "ml2" / "06_decision_trees.ipynb", book_chapter(6, "Decision Trees"))
    write_notebook(share / "team" / "sales_by_region.ipynb", generic_only())
    write_notebook(share / "team" / "pivot.ipynb", make_notebook(title="Pivot Tables"))
    no_heading = v4.new_notebook(metadata=PYTHON_META)
    no_heading.cells.append(v4.new_code_cell("x = 1"))
    write_notebook(share / "team" / "cleanup_2025.ipynb", no_heading)


def test_titles_a_reader_would_give(library: Library, share: Path) -> None:
    chapters(share)
    library.add_source(share, name="corpus")
    library.sync()
    titles = {library.show(i).path: library.show(i).title for i in library.notebook_ids()}
    assert titles == {
        "ml2/09_unsupervised_learning.ipynb": "Chapter 9 – Unsupervised Learning",
        "ml2/06_decision_trees.ipynb": "Chapter 6 – Decision Trees",
        "team/sales_by_region.ipynb": "Sales by region",  # only generic headings
        "team/pivot.ipynb": "Pivot Tables",  # a specific first heading stays
        "team/cleanup_2025.ipynb": "Cleanup 2025",  # no heading at all
    }
    # The list's rows say the same
    rows = library.notebook_rows(library.notebook_ids())
    assert {r.path: r.title for r in rows} == titles


def test_generic_headings_and_file_names() -> None:
    for heading in ("Setup", "1. Imports", "Table of Contents", "Untitled3", "Getting started:",
                    "Set-up", "Introduction", "Overview"):
        assert is_generic(heading), heading
    for heading in ("Introduction to DataFrames", "Setup of the sales model", "Pivot Tables"):
        assert not is_generic(heading), heading
    assert file_words("03_sales-by_region.ipynb") == "03 sales by region"
    assert file_words("reports/MySQL.ipynb") == "MySQL"
    assert file_words("Custom Widget - Spreadsheet.ipynb") == "Custom Widget - Spreadsheet"


def test_show_json_cli_search_and_rows_carry_the_same_title(library_dir: Path,
                                                            share: Path) -> None:
    chapters(share)
    assert run_cli(library_dir, "source", "add", str(share), "--name", "corpus").code == 0
    assert run_cli(library_dir, "sync", "--json").code == 0
    shown = run_cli(library_dir, "show", "corpus:ml2/09_unsupervised_learning.ipynb",
                    "--json").json
    assert shown["title"] == "Chapter 9 – Unsupervised Learning"
    found = run_cli(library_dir, "search", "unsupervised", "--json").json["results"]
    assert [(h["path"], h["title"]) for h in found] == [
        ("ml2/09_unsupervised_learning.ipynb", "Chapter 9 – Unsupervised Learning")]
    assert "Chapter 9 – Unsupervised Learning" in run_cli(library_dir, "search",
                                                          "unsupervised").stdout
    # The index's own title field holds it too: a title: filter finds the chapter.
    by_title = run_cli(library_dir, "search", "title:chapter", "--json").json["results"]
    assert {h["path"] for h in by_title} == {"ml2/09_unsupervised_learning.ipynb",
                                             "ml2/06_decision_trees.ipynb"}
    with Library.open(library_dir, readonly=True) as lib:
        row = lib.notebook_rows([shown["id"]])[0]
    assert row.title == shown["title"]


def test_an_old_library_gets_the_new_titles_on_upgrade(library_dir: Path, share: Path) -> None:
    chapters(share)
    with Library.open(library_dir) as lib:
        lib.add_source(share, name="corpus")
        lib.sync()
        chapter = lib.resolve("corpus:ml2/09_unsupervised_learning.ipynb")
        before = {i: lib.show(i) for i in lib.notebook_ids()}
    # As schema 2 left it: titles from the first heading, else the file's stem.
    with sqlite3.connect(library_dir / "catalog.sqlite") as db:
        db.execute("UPDATE contents SET title = 'Setup' WHERE title LIKE 'Chapter%'")
        db.execute("UPDATE contents SET title = 'Imports' WHERE title = 'Sales by region'")
        db.execute("UPDATE contents SET title = 'cleanup_2025' WHERE title = 'Cleanup 2025'")
        db.execute("PRAGMA user_version = 2")
    with Library.open(library_dir) as lib:
        after = {i: lib.show(i) for i in lib.notebook_ids()}
        assert after[chapter].title == "Chapter 9 – Unsupervised Learning"
        assert {i: a.title for i, a in after.items()} == {i: b.title for i, b in before.items()}
        # Nothing else was lost: versions, sizes, places
        assert {i: (a.versions, a.size, a.path) for i, a in after.items()} == {
            i: (b.versions, b.size, b.path) for i, b in before.items()}
        # The index was told: its title field agrees once a writer catches it up
        assert lib.index_behind() == 4  # the four retitled contents
        hits = lib.search("title:chapter").hits
        assert {h.path for h in hits} == {"ml2/09_unsupervised_learning.ipynb",
                                          "ml2/06_decision_trees.ipynb"}
        assert lib.search("title:setup").hits == []
    with sqlite3.connect(library_dir / "catalog.sqlite") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3


def test_one_size_form_and_language_names(library: Library, share: Path) -> None:
    assert size(3_900_000) == "3.9 MB"
    assert size(3_718_000) == "3.7 MB"  # 3.9 MB read in powers of 1024 was the page's 3.7
    assert (size(0), size(1), size(999), size(1000), size(999_999)) == (
        "0 bytes", "1 byte", "999 bytes", "1.0 KB", "1.0 MB")
    assert [language_name(n) for n in ("python", "c#", "haskell", "powershell", "r", "sql",
                                       "javascript", "f#", "bash", None, "idris")] == [
        "Python", "C#", "Haskell", "PowerShell", "R", "SQL", "JavaScript", "F#", "Bash", "",
        "Idris"]
    # The page made for a file (render -o, export) keeps its header, with that same size
    write_notebook(share / "n.ipynb", make_notebook(title="Sizes", code=["x = 1"] * 3000))
    library.add_source(share)
    library.sync()
    info = library.show("share:n.ipynb")
    page = library.render(info.id, standalone=True)
    assert f"<dd>{size(info.size)}</dd>" in page and 'class="nbs-header"' in page
    # The app's page has none: the pane's header is the one header
    in_app = library.render(info.id)
    assert 'class="nbs-header"' not in in_app and "<dt>Size</dt>" not in in_app
