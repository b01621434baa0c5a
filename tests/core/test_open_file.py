"""Opening a notebook file by double-click: it joins the library without a source folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from nbshelf.errors import NotFound
from nbshelf.library import Library
from tests.helpers import write_notebook


def test_a_file_outside_every_source_becomes_an_opened_file(
    library: Library, tmp_path: Path
) -> None:
    path = write_notebook(tmp_path / "Downloads" / "from-email.ipynb", title="Sent by Bob")
    notebook_id = library.open_file(path)
    info = library.show(notebook_id)
    assert (info.title, info.source, info.path) == ("Sent by Bob", "opened",
                                                   path.resolve().as_posix())
    assert [(s.name, s.kind, s.available) for s in library.list_sources()] == [
        ("opened", "opened", True)]
    assert library.search("bob").hits[0].id == notebook_id
    assert library.show(str(path)).id == notebook_id  # found again by its path
    assert library.open_file(path) == notebook_id  # opening twice adds nothing


def test_opened_file_keeps_versions_and_is_followed_by_sync(
    library: Library, tmp_path: Path
) -> None:
    path = write_notebook(tmp_path / "draft.ipynb", title="Draft")
    notebook_id = library.open_file(path)
    write_notebook(path, title="Draft, second take")
    os.utime(path, ns=(1, 4_000_000_000_000_000_000))
    report = library.sync()
    assert report.updated == 1
    assert [v.title for v in library.history(notebook_id)] == ["Draft", "Draft, second take"]
    shutil.rmtree(tmp_path / "gone", ignore_errors=True)
    path.unlink()
    assert library.sync().removed == 1


def test_opened_file_on_an_unplugged_stick_is_kept(library: Library, tmp_path: Path) -> None:
    stick = tmp_path / "media" / "STICK"
    notebook_id = library.open_file(write_notebook(stick / "a.ipynb", title="On the stick"))
    shutil.rmtree(stick)
    report = library.sync()
    assert report.removed == 0
    assert library.show(notebook_id).removed_at is None


def test_a_file_inside_a_source_is_read_from_that_source(
    library: Library, share: Path
) -> None:
    library.add_source(share, name="team")
    path = write_notebook(share / "new" / "fresh.ipynb", title="Fresh")
    notebook_id = library.open_file(path)  # no full sync needed first
    assert (library.show(notebook_id).source, library.show(notebook_id).path) == (
        "team", "new/fresh.ipynb")
    assert [s.name for s in library.list_sources()] == ["team"]


def test_a_file_that_is_not_a_notebook_says_why(library: Library, tmp_path: Path) -> None:
    bad = tmp_path / "broken.ipynb"
    bad.write_text('{"cells": [')
    with pytest.raises(NotFound, match="cannot be opened: the JSON ends early"):
        library.open_file(bad)
    with pytest.raises(NotFound, match="there is no notebook file"):
        library.open_file(tmp_path / "missing.ipynb")
