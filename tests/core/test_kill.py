"""A sync killed with SIGKILL at any moment leaves a library that opens and is consistent.

"Consistent": SQLite's integrity check passes, every notebook and version names a content
whose blob is on disk and reads back (through the store: blobs are compressed since issue
16, so every kill of a sync lands among compressed writes) with exactly that hash, and the
next sync completes the job. The same holds for ``maintenance compact`` killed while it
rewrites an old library's raw blobs compressed.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nbformat import v4

from nbshelf.library import Library
from nbshelf.store import ZSTD_MAGIC
from tests.helpers import make_notebook, write_notebook, write_raw_blobs

N_NOTEBOOKS = 300
KILLS = 12


def make_tree(root: Path, rng: random.Random) -> None:
    for i in range(N_NOTEBOOKS):
        code = [f"import math\nx = {i}"] * rng.randint(1, 8)
        nb = make_notebook(title=f"Analysis {i}", code=code)
        nb.cells[-1].outputs = [v4.new_output("stream", text="z" * rng.randint(0, 200_000))]
        write_notebook(root / f"team{i % 7}" / f"year{i % 3}" / f"nb{i:03}.ipynb", nb)
    (root / "broken.ipynb").write_text('{"cells": [')


def start_sync(library_dir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "nbshelf", "--library", str(library_dir), "sync", "--json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def wait_for_notebooks(library_dir: Path, count: int, sync: subprocess.Popen[bytes]) -> None:
    """Until the catalog lists ``count`` notebooks (committed), or the sync has ended."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and sync.poll() is None:
        try:
            with sqlite3.connect(library_dir / "catalog.sqlite", timeout=1) as db:
                if db.execute("SELECT count(*) FROM notebooks").fetchone()[0] >= count:
                    return
        except sqlite3.OperationalError:
            pass  # the catalog is not created yet
        time.sleep(0.01)


def check_consistent(library_dir: Path) -> int:
    """Assert the library is consistent; return how many notebooks it lists."""
    with sqlite3.connect(library_dir / "catalog.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        hashes = {h for (h,) in db.execute(
            "SELECT content_hash FROM notebooks UNION SELECT content_hash FROM versions")}
        known = {h for (h,) in db.execute("SELECT hash FROM contents")}
        count = db.execute("SELECT count(*) FROM notebooks").fetchone()[0]
    assert hashes <= known, "a notebook names a content the catalog does not have"
    with Library.open(library_dir) as lib:  # opens, and clears a killed writer's temp files
        for digest in hashes:
            blob = lib.store.path(digest)
            assert blob.is_file(), f"catalog lists a notebook without its blob {blob}"
            assert hashlib.sha256(lib.store.read(digest)).hexdigest() == digest
        assert not list((library_dir / "blobs").rglob("*.tmp"))
        assert lib.list_sources()[0].name == "share"
    return count


@pytest.mark.slow
def test_sync_survives_sigkill_at_random_moments(tmp_path: Path) -> None:
    rng = random.Random(7)
    share = tmp_path / "share"
    make_tree(share, rng)
    template = tmp_path / "template"
    with Library.open(template) as lib:
        lib.add_source(share, name="share")

    listed_counts = []
    for round_no in range(KILLS):
        library_dir = tmp_path / f"lib{round_no}"
        shutil.copytree(template, library_dir)
        sync = start_sync(library_dir)
        if round_no < 3:  # early: start-up, the walk, the first batch
            time.sleep(rng.uniform(0.1, 1.5))
        else:  # mid-sync, whatever the machine's load: once the catalog holds this many
            wait_for_notebooks(library_dir, rng.randint(1, N_NOTEBOOKS - 60), sync)
            time.sleep(rng.uniform(0, 0.05))
        sync.send_signal(signal.SIGKILL)
        sync.wait()
        listed_counts.append(check_consistent(library_dir))
        # the next sync completes the job, and the library then holds every notebook
        with Library.open(library_dir) as lib:
            report = lib.sync()
            assert report.added + report.unchanged == N_NOTEBOOKS
            assert [p.kind for p in report.problems] == ["invalid-json"]
            assert lib.list_sources()[0].notebooks == N_NOTEBOOKS
        check_consistent(library_dir)
    # the kills really landed mid-sync: some libraries were partly filled when killed
    assert any(0 < n < N_NOTEBOOKS for n in listed_counts), listed_counts


def compressed_blobs(library_dir: Path) -> int:
    """How many blob files are zstd frames now (a raw or half-written file is not)."""
    count = 0
    for path in (library_dir / "blobs").glob("*/*.ipynb"):
        try:
            with path.open("rb") as handle:
                count += handle.read(len(ZSTD_MAGIC)) == ZSTD_MAGIC
        except FileNotFoundError:
            continue  # replaced by its compressed copy between the listing and the open
    return count


@pytest.mark.slow
def test_compact_survives_sigkill_at_random_moments(tmp_path: Path) -> None:
    rng = random.Random(16)
    share = tmp_path / "share"
    make_tree(share, rng)
    template = tmp_path / "template"
    with Library.open(template) as lib:
        lib.add_source(share, name="share")
        lib.sync()
    blobs = write_raw_blobs(template)  # a library as nbshelf wrote it before issue 16
    assert compressed_blobs(template) == 0

    done_when_killed = []
    for round_no in range(4):
        library_dir = tmp_path / f"lib{round_no}"
        shutil.copytree(template, library_dir)
        compact = subprocess.Popen(
            [sys.executable, "-m", "nbshelf", "--library", str(library_dir), "maintenance",
             "compact", "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wanted = rng.randint(1, blobs - 20)
        deadline = time.monotonic() + 120
        while (compact.poll() is None and time.monotonic() < deadline
               and compressed_blobs(library_dir) < wanted):
            time.sleep(0.005)
        compact.send_signal(signal.SIGKILL)
        compact.wait()
        done_when_killed.append(compressed_blobs(library_dir))
        assert check_consistent(library_dir) == N_NOTEBOOKS  # old and new blobs both read
        with Library.open(library_dir) as lib:  # compact again finishes the job
            report = lib.compact_store()
            assert report.compacted + report.already == blobs and not report.damaged
            assert report.already == done_when_killed[-1]
        assert compressed_blobs(library_dir) == blobs
        check_consistent(library_dir)
    # the kills landed midway: some blobs compressed, some not yet
    assert any(0 < n < blobs for n in done_when_killed), done_when_killed


def index_hashes(library_dir: Path) -> set[str]:
    """The contents a reader's index holds (empty when there is no index yet)."""
    with Library.open(library_dir, readonly=True) as reader:
        try:
            searcher = reader.searching.index.searcher()
        except Exception:  # noqa: BLE001 - no index committed yet
            return set()
        return {fields["hash"] for fields in searcher.reader().all_stored_fields()}


def present_hashes(library_dir: Path) -> set[str]:
    with sqlite3.connect(library_dir / "catalog.sqlite") as db:
        return {h for (h,) in db.execute(
            "SELECT content_hash FROM notebooks WHERE removed_at IS NULL")}


def children_of(pid: int) -> set[int]:
    """The processes ``pid`` started (Linux: the index's worker among them)."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(status.parent.name))
    return found


PROGRESSIVE_NOTEBOOKS = 1200


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_progressive_first_sync_killed_after_some_batches_were_indexed(tmp_path: Path) -> None:
    """Killed once the index has taken in some batches (searchable while syncing): the library
    opens, its index holds no content the catalog lacks, search works, the index's worker
    does not outlive the sync, and the next sync completes and indexes everything."""
    rng = random.Random(16)
    share = tmp_path / "share"
    for i in range(PROGRESSIVE_NOTEBOOKS):
        nb = make_notebook(title=f"Rainfall {i}", markdown=["Rainfall by month."],
                           code=[f"import math\nx = {i}"] * rng.randint(1, 4))
        write_notebook(share / f"team{i % 9}" / f"nb{i:04}.ipynb", nb)
    template = tmp_path / "template"
    with Library.open(template) as lib:
        lib.add_source(share, name="share")

    indexed_when_killed: list[int] = []
    # Three kills must land mid-sync. Now and then the copy outruns the index worker's start
    # and the first index a reader can see is the whole one (seen once in CI: [200, 1200,
    # 200]): such a round is checked like the others and tried again, at most 8 rounds.
    round_no = 0
    while sum(0 < n < PROGRESSIVE_NOTEBOOKS for n in indexed_when_killed) < 3 and round_no < 8:
        library_dir = tmp_path / f"lib{round_no}"
        round_no += 1
        shutil.copytree(template, library_dir)
        sync = start_sync(library_dir)
        deadline = time.monotonic() + 120
        while sync.poll() is None and time.monotonic() < deadline:
            if index_hashes(library_dir):
                break
            time.sleep(0.05)
        time.sleep(rng.uniform(0, 0.5))
        workers = children_of(sync.pid)
        sync.send_signal(signal.SIGKILL)
        sync.wait()
        assert workers, "the sync had no index worker: it was not progressive"
        gone_by = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < gone_by:
            time.sleep(0.05)
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)

        indexed = index_hashes(library_dir)
        indexed_when_killed.append(len(indexed))
        check_consistent(library_dir)
        assert indexed <= present_hashes(library_dir), "the index holds what the catalog lacks"
        with Library.open(library_dir, readonly=True) as reader:
            assert reader.search("rainfall", limit=3).total == len(indexed)
        with Library.open(library_dir) as lib:  # the next sync completes and indexes all
            report = lib.sync()
            assert report.added + report.unchanged == PROGRESSIVE_NOTEBOOKS
        assert index_hashes(library_dir) == present_hashes(library_dir)
        with Library.open(library_dir, readonly=True) as reader:
            assert reader.search("rainfall", limit=3).total == PROGRESSIVE_NOTEBOOKS
            assert reader.index_behind() == 0
    # the kills landed mid-sync, with part of the library searchable
    assert all(n > 0 for n in indexed_when_killed), indexed_when_killed
    assert sum(0 < n < PROGRESSIVE_NOTEBOOKS for n in indexed_when_killed) == 3, \
        indexed_when_killed
