"""Library packs between air-gapped machines: exported, imported, and checked for tampering."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from nbshelf.library import Library
from tests.helpers import run_cli, write_notebook


@pytest.fixture
def origin(library: Library, share: Path) -> Library:
    for name, title in (("a", "Forecast sales"), ("b", "Forecast staffing"), ("c", "Other")):
        write_notebook(share / "team" / f"{name}.ipynb", title=title)
    library.add_source(share, name="share")
    library.sync()
    return library


def import_pack(tmp_path: Path, pack: Path) -> tuple[Library, dict[str, str]]:
    lib = Library.open(tmp_path / "other-machine")
    info = lib.add_source(pack)
    assert info.kind == "pack"
    report = lib.sync()
    return lib, {p.path: p.kind for p in report.problems}


@pytest.mark.parametrize("name", ["pack", "pack.zip"])
def test_export_by_query_and_import_elsewhere(origin: Library, tmp_path: Path,
                                              name: str) -> None:
    out = origin.export_pack(tmp_path / "stick" / name, query="forecast")
    assert out["notebooks"] == 2
    other, problems = import_pack(tmp_path, tmp_path / "stick" / name)
    try:
        assert problems == {}
        titles = sorted(r.title for r in other.notebook_rows(other.notebook_ids()))
        assert titles == ["Forecast sales", "Forecast staffing"]
        source = other.list_sources()[0].name
        assert other.show(f"{source}:share/team/a.ipynb").title == "Forecast sales"
        assert other.sync().unchanged == 2  # nothing re-read when nothing changed
    finally:
        other.close()


def test_manifest_lists_paths_titles_hashes_and_versions(origin: Library, tmp_path: Path) -> None:
    ids = origin.notebook_ids()[:1]
    origin.export_pack(tmp_path / "p", ids=ids)
    manifest = json.loads((tmp_path / "p" / "nbshelf-pack.json").read_text())
    entry = manifest["notebooks"][0]
    info = origin.show(ids[0])
    assert (entry["sha256"], entry["title"], entry["version"]) == (info.content_hash,
                                                                   info.title, 1)
    # a pack holds plain notebook JSON, never the store's compressed file
    packed = (tmp_path / "p" / entry["path"]).read_bytes()
    assert packed == origin.store.read(info.content_hash)
    assert packed.lstrip().startswith(b"{")


def test_tampered_truncated_missing_and_extra_files_are_problems(origin: Library,
                                                                 tmp_path: Path) -> None:
    origin.export_pack(tmp_path / "p", query="forecast OR other")
    base = tmp_path / "p" / "notebooks" / "share" / "team"
    data = (base / "a.ipynb").read_text()
    (base / "a.ipynb").write_text(data.replace("Forecast sales", "Forecast SALES"))
    (base / "b.ipynb").write_bytes((base / "b.ipynb").read_bytes()[:50])
    (base / "c.ipynb").unlink()
    write_notebook(base / "smuggled.ipynb", title="Smuggled")
    other, problems = import_pack(tmp_path, tmp_path / "p")
    try:
        assert problems == {"share/team/a.ipynb": "pack-tampered",
                            "share/team/b.ipynb": "pack-truncated",
                            "share/team/c.ipynb": "pack-missing",
                            "share/team/smuggled.ipynb": "pack-extra"}
        assert other.notebook_ids() == []
    finally:
        other.close()


def test_a_changed_manifest_distrusts_the_whole_pack(origin: Library, tmp_path: Path) -> None:
    origin.export_pack(tmp_path / "p.zip", query="forecast")
    with zipfile.ZipFile(tmp_path / "p.zip") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["nbshelf-pack.json"] = members["nbshelf-pack.json"].replace(b"Forecast", b"Fake")
    with zipfile.ZipFile(tmp_path / "p.zip", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    other, problems = import_pack(tmp_path, tmp_path / "p.zip")
    try:
        assert problems == {"nbshelf-pack.json": "pack-tampered"}
        assert other.notebook_ids() == []
    finally:
        other.close()


def test_cli_pack_export(origin: Library, library_dir: Path, tmp_path: Path) -> None:
    origin.close()
    done = run_cli(library_dir, "pack", "export", "forecast", "-o", str(tmp_path / "x.zip"),
                   "--json")
    assert done.code == 0 and done.json["notebooks"] == 2
    again = run_cli(library_dir, "pack", "export", "forecast", "-o", str(tmp_path / "x.zip"))
    assert again.code == 1 and "already exists" in again.stderr
