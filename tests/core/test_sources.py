"""Sources: adding, listing, relocating a moved USB stick, removing, and refusals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nbshelf.errors import SourceError
from nbshelf.library import Library
from tests.helpers import write_notebook


@pytest.fixture
def stick(tmp_path: Path) -> Path:
    folder = tmp_path / "media" / "STICK"
    for i in range(6):
        write_notebook(folder / "lessons" / f"lesson{i}.ipynb", title=f"Lesson {i}",
                       code=[f"x = {i}"])
    return folder


def test_list_shows_path_status_count_and_last_sync(library: Library, stick: Path) -> None:
    library.add_source(stick, name="usb")
    before = library.list_sources()[0]
    assert (before.name, before.path, before.available, before.notebooks, before.last_sync) == (
        "usb", str(stick), True, 0, None)
    library.sync()
    after = library.source_info("usb")
    assert after.notebooks == 6 and after.last_sync is not None
    assert after.to_json()["status"] == "available"


def test_stick_mounted_elsewhere_is_recognised_by_its_content(
    library: Library, stick: Path, tmp_path: Path
) -> None:
    library.add_source(stick, name="usb")
    library.sync()
    elsewhere = tmp_path / "media" / "alice" / "STICK-1"
    elsewhere.parent.mkdir(parents=True)
    stick.rename(elsewhere)  # unplugged, then mounted at another place
    info = library.add_source(elsewhere)
    assert (info.name, info.path, info.relocated_from) == ("usb", str(elsewhere), str(stick))
    assert [s.name for s in library.list_sources()] == ["usb"]
    report = library.sync()
    assert (report.added, report.removed, report.unchanged) == (0, 0, 6)


def test_a_different_folder_is_a_new_source_even_when_one_is_missing(
    library: Library, stick: Path, tmp_path: Path
) -> None:
    library.add_source(stick, name="usb")
    library.sync()
    shutil.rmtree(stick)
    other = tmp_path / "other"
    write_notebook(other / "lessons" / "lesson0.ipynb", title="Something else")
    assert library.add_source(other).name == "other"


def test_relocate_command_and_its_refusals(library: Library, stick: Path, tmp_path: Path) -> None:
    library.add_source(stick, name="usb")
    moved = tmp_path / "F"
    stick.rename(moved)
    assert library.relocate_source("usb", moved).path == str(moved)
    with pytest.raises(SourceError, match="no source named 'nope'"):
        library.relocate_source("nope", moved)
    with pytest.raises(SourceError, match="there is no folder"):
        library.relocate_source("usb", tmp_path / "missing")


def test_refusals_name_the_reason(library: Library, stick: Path, library_dir: Path,
                                  tmp_path: Path) -> None:
    library.add_source(stick, name="usb")
    with pytest.raises(SourceError, match="already in the library as source 'usb'"):
        library.add_source(stick)
    with pytest.raises(SourceError, match="overlaps source 'usb'"):
        library.add_source(stick / "lessons")
    with pytest.raises(SourceError, match="inside the library folder"):
        library.add_source(library_dir / "blobs")
    with pytest.raises(SourceError, match="a library cannot live in one of its sources"):
        library.add_source(tmp_path)
    note = write_notebook(tmp_path / "single.ipynb")
    with pytest.raises(SourceError, match="is a file, not a folder"):
        library.add_source(note)


def test_names_are_made_unique(library: Library, tmp_path: Path) -> None:
    a, b = tmp_path / "x" / "notebooks", tmp_path / "y" / "notebooks"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    assert [library.add_source(a).name, library.add_source(b).name] == ["notebooks",
                                                                        "notebooks-2"]


def test_remove_keeps_blobs_another_source_still_uses(
    library: Library, stick: Path, tmp_path: Path
) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(stick / "lessons", mirror)
    write_notebook(stick / "only-here.ipynb", title="Only here")
    library.add_source(stick, name="usb")
    library.add_source(mirror, name="mirror")
    library.sync()
    shared_blob = Path(library.show("mirror:lesson0.ipynb").blob)
    only_blob = Path(library.show("usb:only-here.ipynb").blob)
    assert library.remove_source("usb") == 1
    assert shared_blob.exists() and not only_blob.exists()
    assert [s.name for s in library.list_sources()] == ["mirror"]
    assert library.show("mirror:lesson0.ipynb").also_at == []
