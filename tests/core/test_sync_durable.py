"""A sync makes each batch's blobs durable once, just before the batch commits (issue 16).

The blobs are renamed into place as they are read and fsynced by the store's thread while
the sync goes on; ``BlobStore.flush`` waits for those fsyncs and syncs the folders before
the commit. What must hold: a catalog row never names a blob that a power cut could lose,
and a disk that fails to sync keeps the batch out of the catalog.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from nbshelf.errors import StorageError
from nbshelf.library import Library
from nbshelf.sources import sync as sync_module
from tests.helpers import make_notebook, write_notebook


def share(root: Path, count: int) -> Path:
    for i in range(count):
        write_notebook(root / f"team{i % 3}" / f"nb{i:03}.ipynb",
                       make_notebook(f"Report {i}", code=[f"x = {i}"]))
    return root


def test_every_blob_and_its_folder_are_synced_before_the_batch_naming_it_commits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_module, "BATCH_FILES", 7)  # several batches
    synced: set[tuple[int, int]] = set()
    real_fsync = os.fsync

    def spying_fsync(fd: Any) -> None:
        real_fsync(fd)
        st = os.fstat(fd)
        synced.add((st.st_dev, st.st_ino))

    monkeypatch.setattr(os, "fsync", spying_fsync)
    checked: list[int] = []
    with Library.open(tmp_path / "lib") as lib:
        lib.add_source(share(tmp_path / "share", 30), name="share")

        def before_commit(conn: Any) -> None:
            cursor = conn.connection.driver_connection.cursor()
            hashes = [h for (h,) in cursor.execute("SELECT content_hash FROM versions")]
            for digest in hashes:
                blob = lib.store.path(digest)
                for path in (blob, blob.parent, blob.parent.parent):
                    st = os.stat(path)
                    assert (st.st_dev, st.st_ino) in synced, f"{path} not durable at commit"
            checked.append(len(hashes))

        event.listen(lib.engine, "commit", before_commit)
        report = lib.sync(index=False)
    assert report.added == 30
    assert len(checked) >= 5 and checked[-1] == 30  # every batch was looked at, all 30 in


def test_a_disk_that_fails_to_sync_keeps_the_batch_out_of_the_catalog(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blobs = tmp_path / "lib" / "blobs"
    real_fsync = os.fsync

    def failing_fsync(fd: Any) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(blobs)):
            raise OSError(errno.EIO, "Input/output error")
        real_fsync(fd)

    with Library.open(tmp_path / "lib") as lib:
        lib.add_source(share(tmp_path / "share", 5), name="share")
        monkeypatch.setattr(os, "fsync", failing_fsync)
        with pytest.raises(StorageError):
            lib.sync(index=False)
        monkeypatch.setattr(os, "fsync", real_fsync)
        assert lib.notebook_ids() == []  # nothing recorded that might not be on disk
        assert lib.sync(index=False).added == 5  # the disk is well again: all of it comes in
        for notebook_id in lib.notebook_ids():
            assert lib.store.read(lib.show(notebook_id).content_hash)
