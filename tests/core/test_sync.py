"""Incremental, versioned sync: what a user sees after adding, editing and deleting files."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

import nbshelf.sources.sync
from nbshelf.library import Library
from nbshelf.sources.sync import SyncProgress
from tests.helpers import write_notebook


@pytest.fixture
def synced(library: Library, share: Path) -> Library:
    write_notebook(share / "sales" / "summary.ipynb", title="Sales summary",
                   code=["import pandas as pd\npd.read_csv('data/sales.csv')"])
    write_notebook(share / "ops" / "uptime.ipynb", title="Uptime")
    library.add_source(share, name="team")
    report = library.sync()
    assert (report.added, report.updated, report.removed, report.unchanged) == (2, 0, 0, 0)
    return library


def test_sync_catalogues_notebooks_with_their_summary(synced: Library, share: Path) -> None:
    info = synced.show("team:sales/summary.ipynb")
    assert (info.title, info.language, info.kernel, info.imports) == (
        "Sales summary", "python", "python3", ["pandas"])
    # the stored copy is compressed on disk (issue 16); the store gives the original bytes
    assert synced.store.digest_of(info.blob) == info.content_hash
    assert synced.store.read(info.content_hash) == (share / "sales" / "summary.ipynb").read_bytes()
    assert synced.show(str(share / "sales" / "summary.ipynb")).id == info.id
    assert synced.show(info.id).path == "sales/summary.ipynb"


def test_resync_of_unchanged_files_reads_nothing(
    synced: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    real = nbshelf.sources.sync.read_stable
    monkeypatch.setattr(nbshelf.sources.sync, "read_stable", lambda p: reads.append(p) or real(p))
    report = synced.sync()
    assert (report.added, report.updated, report.unchanged, reads) == (0, 0, 2, [])


def test_changed_file_gets_a_new_version_and_old_one_stays_readable(
    synced: Library, share: Path
) -> None:
    path = write_notebook(share / "ops" / "uptime.ipynb", title="Uptime, revised")
    os.utime(path, ns=(1, 2_000_000_000_000_000_000))  # a different mtime, as a real save has
    report = synced.sync()
    assert (report.updated, report.unchanged) == (1, 1)
    history = synced.history("team:ops/uptime.ipynb")
    assert [v.title for v in history] == ["Uptime", "Uptime, revised"]
    assert [v.current for v in history] == [False, True]
    assert b'"# Uptime"' in synced.read_version("team:ops/uptime.ipynb", 1)


def test_touched_but_unchanged_file_is_no_new_version(synced: Library, share: Path) -> None:
    os.utime(share / "ops" / "uptime.ipynb", ns=(1, 3_000_000_000_000_000_000))
    report = synced.sync()
    assert (report.updated, report.unchanged) == (0, 2)
    assert len(synced.history("team:ops/uptime.ipynb")) == 1


def test_deleted_file_is_marked_removed_and_keeps_its_versions(
    synced: Library, share: Path
) -> None:
    (share / "ops" / "uptime.ipynb").unlink()
    report = synced.sync()
    assert report.removed == 1
    info = synced.show("team:ops/uptime.ipynb")
    assert info.removed_at is not None
    assert b"Uptime" in synced.read_version(info.id)
    assert synced.list_sources()[0].notebooks == 1
    write_notebook(share / "ops" / "uptime.ipynb", title="Uptime")  # restored from backup
    assert synced.sync().added == 1
    assert synced.show("team:ops/uptime.ipynb").removed_at is None


def test_unplugged_source_is_unavailable_and_nothing_is_removed(
    synced: Library, share: Path, tmp_path: Path
) -> None:
    share.rename(tmp_path / "unplugged")
    report = synced.sync()
    assert (report.removed, report.unavailable) == (0, ["team"])
    assert [p.kind for p in report.problems] == ["source-unavailable"]
    assert synced.list_sources()[0].available is False
    assert synced.list_sources()[0].notebooks == 2


def test_empty_mount_point_is_not_taken_for_deleted_notebooks(
    synced: Library, share: Path
) -> None:
    for child in share.iterdir():
        shutil.rmtree(child)  # what an unmounted share's mount point looks like
    report = synced.sync()
    assert (report.removed, report.unavailable) == (0, ["team"])


def test_identical_content_is_stored_once_and_shown_everywhere(
    synced: Library, share: Path
) -> None:
    shutil.copy(share / "sales" / "summary.ipynb", share / "archive-copy.ipynb")
    synced.sync()
    info = synced.show("team:archive-copy.ipynb")
    assert [(p.source, p.path) for p in info.also_at] == [("team", "sales/summary.ipynb")]
    blobs = [p for p in (synced.root / "blobs").rglob("*.ipynb")]
    assert len(blobs) == 2


def test_progress_reports_scanned_copied_total_and_cancel_finishes_next_time(
    library: Library, share: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(30):
        write_notebook(share / f"n{i:02}.ipynb", title=f"Notebook {i}")
    library.add_source(share, name="team")
    cancel = threading.Event()
    seen: list[SyncProgress] = []
    real_read = nbshelf.sources.sync.read_stable
    reads: list[str] = []

    def read_then_cancel_after_ten(path: str) -> object:
        reads.append(path)
        if len(reads) == 10:  # the user presses Cancel while the 10th file is read
            cancel.set()
        return real_read(path)

    monkeypatch.setattr(nbshelf.sources.sync, "read_stable", read_then_cancel_after_ten)
    monkeypatch.setattr(nbshelf.sources.sync, "BATCH_FILES", 5)
    first = library.sync(progress=seen.append, cancel=cancel)
    monkeypatch.undo()
    assert first.cancelled and first.added == 10
    assert seen[-1].total == 30 and seen[-1].scanned < 30
    second = library.sync()
    assert (second.added, second.unchanged, second.cancelled) == (30 - first.added,
                                                                  first.added, False)


def test_a_cancel_during_the_index_build_is_reported_and_the_next_sync_finishes(
    library: Library, share: Path
) -> None:
    for i in range(450):  # three batches of the index build
        write_notebook(share / f"n{i:03}.ipynb", title=f"Notebook {i}")
    library.add_source(share, name="team")
    cancel = threading.Event()

    def cancel_when_indexing(p: SyncProgress) -> None:
        if p.phase == "index":  # the user presses Cancel once the index build has begun
            cancel.set()

    first = library.sync(progress=cancel_when_indexing, cancel=cancel)
    assert first.added == 450
    assert first.cancelled
    # nothing of a stopped build was taken for done: the queue names exactly the contents
    # the index lacks (since issue 16 the batches the copy committed may be in it already)
    searcher = library.searching.index.searcher()
    indexed = {f["hash"] for f in searcher.reader().all_stored_fields()}
    assert library.index_behind() == 450 - len(indexed)
    second = library.sync()
    assert not second.cancelled and second.unchanged == 450
    assert library.index_behind() == 0
    assert library.search("notebook").total == 450


def test_other_readers_see_the_library_while_a_writer_holds_it(
    synced: Library, library_dir: Path
) -> None:
    with Library.open(library_dir, readonly=True) as reader:
        assert reader.show("team:ops/uptime.ipynb").title == "Uptime"
        assert len(reader.problems()) == 0
