"""Share manifests: a sync helped by the manifest ends with the same catalog as a full walk."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import nbshelf.sources.sync
from nbshelf.library import Library
from nbshelf.sources import manifest as mf
from nbshelf.sources.manifest import MANIFEST_NAME, ScanHow
from tests.helpers import make_notebook, run_cli, write_notebook

HOUR_NS = 3600 * 10**9


@pytest.fixture
def hows(monkeypatch: pytest.MonkeyPatch) -> list[ScanHow]:
    """How each folder-source sync scanned (walk or manifest), in order."""
    seen: list[ScanHow] = []
    real = nbshelf.sources.sync.scan_source

    def spy(*args: Any, **kwargs: Any) -> Any:
        scan, how = real(*args, **kwargs)
        seen.append(how)
        return scan, how

    monkeypatch.setattr(nbshelf.sources.sync, "scan_source", spy)
    return seen


@pytest.fixture
def other(tmp_path: Path) -> Iterator[Library]:
    """A second library on the same share: it always walks, for comparison."""
    lib = Library.open(tmp_path / "library2")
    yield lib
    lib.close()


def make_tree(share: Path) -> None:
    """A small team share: nested folders, a bad notebook, a broken link, an empty folder."""
    for team in ("alpha", "beta", "gamma"):
        for sub in ("", "reports", "archive/2024"):
            for i in range(3):
                folder = share / team / sub if sub else share / team
                write_notebook(folder / f"nb{i}.ipynb", title=f"{team} {sub} {i}")
    (share / "beta" / "broken.ipynb").write_text("{ not json")
    (share / "gamma" / "reports" / "gone.ipynb").symlink_to(share / "nowhere.ipynb")
    (share / "empty").mkdir()
    (share / "alpha" / ".ipynb_checkpoints").mkdir()
    write_notebook(share / "alpha" / ".ipynb_checkpoints" / "nb0-checkpoint.ipynb")


def age(share: Path, *, hours: float = 2) -> None:
    """Make every folder look last changed hours ago (past the racy-time margin)."""
    when = time.time_ns() - int(hours * HOUR_NS)
    for folder, _dirs, _files in os.walk(share):
        os.utime(folder, ns=(when, when))


def save_like_jupyter(path: Path, title: str) -> None:
    """Jupyter's default save: a ``.~name`` backup beside the file, rewrite, drop the backup."""
    backup = path.with_name(f".~{path.name}")
    backup.write_bytes(path.read_bytes())
    write_notebook(path, title=title)
    backup.unlink()


def catalog(lib: Library) -> dict[str, Any]:
    """Everything sync decides, per notebook and problem, ids aside."""
    with lib.engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(
            "SELECT n.relpath, n.content_hash, n.size, n.mtime_ns, n.removed_at IS NOT NULL, "
            "(SELECT group_concat(v.content_hash) FROM versions v WHERE v.notebook_id = n.id) "
            "FROM notebooks n"
        )
        notebooks = sorted(cursor.fetchall())
        cursor.execute("SELECT relpath, kind FROM problems")
        problems = sorted(cursor.fetchall())
        cursor.close()
    return {"notebooks": notebooks, "problems": problems}


def counts(lib: Library) -> tuple[int, int, int, int]:
    r = lib.sync(index=False)
    return (r.added, r.updated, r.removed, r.unchanged)


def force_walk(lib: Library) -> None:
    mf.note_walk(lib.engine, "team", None)


def test_manifest_sync_gives_the_same_catalog_as_a_full_walk(
    library: Library, other: Library, share: Path, hows: list[ScanHow]
) -> None:
    make_tree(share)
    for lib in (library, other):
        lib.add_source(share, name="team")
        lib.sync(index=False)
    age(share)
    written = library.write_manifest("team")
    assert (written["notebooks"], written["hashed"]) == (28, 1)  # only the bad file was read
    manifest = json.loads((share / MANIFEST_NAME).read_text())
    assert manifest["notebooks"]["beta/broken.ipynb"][0] == 10  # bad content: sync says so
    assert manifest["folders"]["gamma/reports"] is None  # a broken link: always listed
    assert "alpha/.ipynb_checkpoints/nb0-checkpoint.ipynb" not in manifest["notebooks"]

    # nothing changed: the manifest answers for every plain folder
    hows.clear()
    assert counts(library) == (0, 0, 0, 27)
    how = hows[0]
    assert (how.mode, how.folders_changed, how.folders_new) == ("manifest", 0, 0)
    assert how.folders_listed == 2  # the root, gamma/reports
    assert how.folders_trusted == len(manifest["folders"]) - 2

    # changes made outside nbshelf
    write_notebook(share / "alpha" / "reports" / "new.ipynb", title="New")
    (share / "beta" / "archive" / "2024" / "nb1.ipynb").unlink()
    save_like_jupyter(share / "gamma" / "nb2.ipynb", "gamma 2, edited")
    (share / "alpha" / "archive").rename(share / "alpha" / "old")
    write_notebook(share / "empty" / "deep" / "er" / "x.ipynb", title="Deep")
    (share / "gamma" / "reports" / "nb0.ipynb").unlink()

    hows.clear()
    force_walk(other)
    assert counts(library) == counts(other) == (5, 1, 5, 21)
    assert [h.mode for h in hows] == ["manifest", "walk"]
    assert hows[0].folders_changed == 5  # alpha, alpha/reports, beta/archive/2024, gamma, empty
    assert hows[0].folders_new == 4  # alpha/old, alpha/old/2024, empty/deep, empty/deep/er
    assert catalog(library) == catalog(other)
    assert library.show("team:gamma/nb2.ipynb").title == "gamma 2, edited"

    # and once more with nothing changed: still the same
    force_walk(other)
    assert counts(library) == counts(other) == (0, 0, 0, 27)
    assert catalog(library) == catalog(other)


def test_stale_manifest_lists_the_changed_folder_and_finds_the_file(
    library: Library, share: Path, hows: list[ScanHow], caplog: pytest.LogCaptureFixture
) -> None:
    make_tree(share)
    library.add_source(share, name="team")
    library.sync(index=False)
    age(share)
    library.write_manifest("team")
    write_notebook(share / "alpha" / "reports" / "added-outside.ipynb", title="Outside")
    with caplog.at_level(logging.INFO, logger="nbshelf.sources.manifest"):
        assert counts(library) == (1, 0, 0, 27)
    assert library.show("team:alpha/reports/added-outside.ipynb").title == "Outside"
    assert (hows[-1].mode, hows[-1].folders_changed) == ("manifest", 1)
    assert "stale in 1 folders" in caplog.text


def test_publish_keeps_the_manifest_current(
    library: Library, other: Library, share: Path, tmp_path: Path, hows: list[ScanHow]
) -> None:
    make_tree(share)
    for lib in (library, other):
        lib.add_source(share, name="team")
        lib.sync(index=False)
    age(share)
    library.write_manifest("team")
    # a colleague adds a file where we are about to publish: it must not be hidden
    colleague = write_notebook(share / "alpha" / "reports" / "colleague.ipynb", title="C")
    mine = write_notebook(tmp_path / "mine.ipynb", make_notebook(title="Mine"))
    library.publish(mine, "team", as_path="alpha/reports/mine.ipynb")
    library.publish(mine, "team", as_path="new/folder/mine.ipynb")

    manifest = json.loads((share / MANIFEST_NAME).read_text())
    for rel in ("alpha/reports/mine.ipynb", "new/folder/mine.ipynb", colleague.relative_to(share)):
        path = share / rel
        st = path.stat()
        assert manifest["notebooks"][str(rel)] == [
            st.st_size, st.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()]
    for folder in ("alpha", "alpha/reports", "new", "new/folder"):
        assert manifest["folders"][folder] == (share / folder).stat().st_mtime_ns

    # later (past the racy margin) syncs trust the published folders, and agree with a walk
    later = time.time_ns() + 10 * 10**9  # as if the manifest were rewritten 10 s later
    os.utime(share / MANIFEST_NAME, ns=(later, later))
    hows.clear()
    force_walk(other)
    assert counts(library) == (1, 0, 0, 29)  # the colleague's notebook
    assert counts(other) == (3, 0, 0, 27)  # ...and the two it did not publish
    assert hows[0].mode == "manifest" and hows[0].folders_changed == 0
    assert hows[0].folders_new == 0 and hows[0].folders_listed == 2
    assert catalog(library) == catalog(other)


@pytest.mark.parametrize("content", [
    b"{ this is not json",
    b"[]",
    json.dumps({"format": 99, "folders": {"": None}, "notebooks": {}}).encode(),
    json.dumps({"format": 1, "folders": {"": None}, "notebooks": {"a/x.ipynb": [1, 2, "h"]}})
    .encode(),  # a notebook in a folder the manifest does not have
    json.dumps({"format": 1, "folders": {"": None, "a": "yesterday"}, "notebooks": {}}).encode(),
    # written by anyone on the share: a path that leads out of it is not a manifest of it
    json.dumps({"format": 1, "folders": {"": None, "..": None},
                "notebooks": {"../victim.ipynb": [1, 2, "h"]}}).encode(),
    json.dumps({"format": 1, "folders": {"": None, "a": None, "a/..": None},
                "notebooks": {"a/../x.ipynb": [1, 2, "h"]}}).encode(),
], ids=["not-json", "not-object", "newer-format", "orphan-notebook", "bad-mtime",
        "parent-path", "dot-dot-inside"])
def test_a_corrupt_manifest_is_ignored_with_a_warning(
    library: Library, share: Path, content: bytes, hows: list[ScanHow],
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_tree(share)
    library.add_source(share, name="team")
    library.sync(index=False)
    (share / MANIFEST_NAME).write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="nbshelf.sources.manifest"):
        report = library.sync(index=False)
    assert (report.added, report.unchanged) == (0, 27)
    assert (hows[-1].mode, hows[-1].reason) == ("walk", "bad manifest")
    bad = [p for p in report.problems if p.kind == "bad-manifest"]
    assert len(bad) == 1 and "write-manifest team" in bad[0].message
    assert "ignored" in caplog.text
    # publishing leaves a bad manifest alone (and still publishes)
    mine = write_notebook(share.parent / "mine.ipynb", title="Mine")
    library.publish(mine, "team")
    assert (share / MANIFEST_NAME).read_bytes() == content


def test_in_place_edit_is_the_known_limit_and_the_daily_walk_finds_it(
    library: Library, share: Path, hows: list[ScanHow]
) -> None:
    make_tree(share)
    library.add_source(share, name="team")
    library.sync(index=False)
    age(share)
    library.write_manifest("team")
    path = share / "alpha" / "nb1.ipynb"
    with open(path, "r+b") as handle:  # rewritten in place: its folder's mtime stays
        data = handle.read().replace(b"alpha  1", b"alpha  1, edited in place")
        handle.seek(0)
        handle.write(data)
    assert counts(library)[1] == 0  # not seen: the manifest still answers for alpha/
    assert hows[-1].mode == "manifest"
    mf.note_walk(library.engine, "team", time.time() - mf.FULL_WALK_AFTER_S - 1)
    assert counts(library)[1] == 1
    assert (hows[-1].mode, hows[-1].reason) == ("walk", "due")
    assert "edited in place" in library.show("team:alpha/nb1.ipynb").title


def test_without_a_manifest_sync_walks_as_before(
    library: Library, share: Path, hows: list[ScanHow]
) -> None:
    make_tree(share)
    library.add_source(share, name="team")
    assert counts(library) == (27, 0, 0, 0)
    assert counts(library) == (0, 0, 0, 27)
    assert [(h.mode, h.reason) for h in hows] == [("walk", "first"), ("walk", "no manifest")]
    assert not (share / MANIFEST_NAME).exists()  # sync never writes one


def test_write_manifest_command(library_dir: Path, share: Path) -> None:
    make_tree(share)
    run_cli(library_dir, "source", "add", str(share), "--name", "team")
    assert run_cli(library_dir, "sync", "--json").code == 0
    result = run_cli(library_dir, "source", "write-manifest", "team", "--json")
    assert result.code == 0, result.stderr
    report = result.json
    assert (report["source"], report["notebooks"], report["hashed"]) == ("team", 28, 1)
    assert report["path"] == str(share / MANIFEST_NAME)
    human = run_cli(library_dir, "source", "write-manifest", "team")
    assert human.stdout.startswith(f"wrote {share / MANIFEST_NAME}: 28 notebooks in ")
    missing = run_cli(library_dir, "source", "write-manifest", "nope")
    assert missing.code == 1 and "no source named 'nope'" in missing.stderr


def test_folders_changed_just_before_the_manifest_was_written_are_listed(
    library: Library, share: Path, hows: list[ScanHow]
) -> None:
    make_tree(share)
    library.add_source(share, name="team")
    library.sync(index=False)
    library.write_manifest("team")  # the tree is seconds old: a change in the same tick
    assert counts(library) == (0, 0, 0, 27)  # would not move a folder's mtime, so none is
    assert (hows[-1].mode, hows[-1].folders_trusted) == ("manifest", 0)  # trusted yet
