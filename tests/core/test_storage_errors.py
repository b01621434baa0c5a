"""The machine fails, not nbshelf: a full disk, a read-only library, a damaged or locked catalog.

Each is told in plain words (a ``StorageError``), exits 1, never says "internal error", and
leaves the library as it was: it opens, every notebook it lists reads, and once the machine
is fixed the next sync completes.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from nbshelf.library import Library
from tests.helpers import CliResult, make_notebook, run_cli

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
MOUNT, UMOUNT = shutil.which("mount") or "mount", shutil.which("umount") or "umount"


def big_share(folder: Path, count: int = 30, kib: int = 200) -> Path:
    """Notebooks that do not compress or deduplicate away: ``count`` × ``kib`` KiB as the
    store keeps them. The hex of random bytes is 4 bits a character, which the store's
    compression halves and no more: each file holds ``2 × kib`` KiB of it."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        nb = make_notebook(f"Report {i}", code=[f"x = '{os.urandom(kib * 1024).hex()}'"])
        nbformat.write(nb, str(folder / f"r{i:03d}.ipynb"))
    return folder


def consistent(library: Path) -> int:
    """Open the library read-only, read every notebook it lists; return how many."""
    with Library.open(library, readonly=True) as lib:
        ids = lib.notebook_ids()
        for notebook_id in ids:
            info = lib.show(notebook_id)
            assert lib.store.read(info.content_hash), info.path
        return len(ids)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB filesystem of its own (tmpfs), unmounted afterwards."""
    if not AS_ROOT:
        pytest.skip("mounting a small filesystem needs root; the RLIMIT_FSIZE test covers it")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run([MOUNT, "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run([UMOUNT, "-l", str(mount)], check=False)


def test_disk_full_during_sync_is_named_and_nothing_is_lost(small_disk: Path,
                                                           tmp_path: Path) -> None:
    share = big_share(tmp_path / "share")
    library = small_disk / "library"
    assert run_cli(library, "source", "add", str(share), "--name", "team").code == 0
    result = run_cli(library, "sync")
    assert result.code == 1, result.stdout
    assert "internal error" not in result.stderr
    assert "disk holding the library is full" in result.stderr
    assert "nothing was lost" in result.stderr
    kept = consistent(library)
    assert kept < 30
    # free space (a bigger disk) and sync again: it completes
    subprocess.run([MOUNT, "-o", "remount,size=64m", str(small_disk)], check=True)
    again = run_cli(library, "sync", "--json")
    assert again.code == 0, again.stderr
    assert consistent(library) == 30
    assert run_cli(library, "search", "Report", "--json").json["total"] == 30


def _limited(max_bytes: int) -> None:
    """In the child: files may not grow past ``max_bytes`` (and that is an error, not a kill)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))


def test_file_size_limit_during_sync_is_named_and_nothing_is_lost(tmp_path: Path) -> None:
    """Without root, RLIMIT_FSIZE stands in for a full disk: writes fail with EFBIG."""
    share = big_share(tmp_path / "share", count=12)
    library = tmp_path / "library"
    assert run_cli(library, "source", "add", str(share), "--name", "team").code == 0
    proc = subprocess.run(
        [sys.executable, "-m", "nbshelf", "--library", str(library), "sync"],
        capture_output=True, text=True, timeout=300, preexec_fn=lambda: _limited(150_000),
        check=False)
    assert proc.returncode == 1, proc.stdout
    assert "internal error" not in proc.stderr
    assert "nothing was lost" in proc.stderr
    consistent(library)
    again = run_cli(library, "sync")
    assert again.code == 0, again.stderr
    assert consistent(library) == 12


@pytest.fixture
def filled_library(tmp_path: Path) -> Path:
    share = big_share(tmp_path / "share", count=3, kib=2)
    library = tmp_path / "library"
    assert run_cli(library, "source", "add", str(share), "--name", "team").code == 0
    assert run_cli(library, "sync").code == 0
    return library


def plain_failure(result: CliResult, words: str) -> None:
    assert result.code == 1, result.stdout
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert words in result.stderr, result.stderr


@pytest.mark.parametrize("command", [["sync"], ["search", "report"], ["source", "list"]])
def test_a_damaged_catalog_is_named(filled_library: Path, command: list[str]) -> None:
    catalog = filled_library / "catalog.sqlite"
    for extra in ("-wal", "-shm"):
        Path(f"{catalog}{extra}").unlink(missing_ok=True)
    catalog.write_bytes(b"this is not a catalog " * 400)
    plain_failure(run_cli(filled_library, *command), "damaged")


def test_a_locked_catalog_is_named(filled_library: Path) -> None:
    holder = sqlite3.connect(filled_library / "catalog.sqlite", timeout=0)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("DELETE FROM settings WHERE 0")
        result = run_cli(filled_library, "source", "add", str(filled_library.parent / "share"),
                         "--name", "again")
    finally:
        holder.rollback()
        holder.close()
    plain_failure(result, "locked by another program")
    assert run_cli(filled_library, "sync").code == 0


def test_a_read_only_library_is_named(filled_library: Path, tmp_path: Path) -> None:
    if AS_ROOT:  # root ignores permission bits: a read-only filesystem instead
        ro = tmp_path / "ro"
        ro.mkdir()
        if subprocess.run([MOUNT, "--bind", str(filled_library), str(ro)],
                          check=False).returncode != 0:
            pytest.skip("cannot bind-mount here")
        try:
            subprocess.run([MOUNT, "-o", "remount,bind,ro", str(ro)], check=True)
            result = run_cli(ro, "sync")
            shown = run_cli(ro, "search", "report", "--json")
        finally:
            subprocess.run([UMOUNT, "-l", str(ro)], check=False)
    else:
        for path in [filled_library, *filled_library.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
        try:
            result = run_cli(filled_library, "sync")
            shown = run_cli(filled_library, "search", "report", "--json")
        finally:
            for path in [filled_library, *filled_library.rglob("*")]:
                path.chmod(path.stat().st_mode | 0o200)
    plain_failure(result, "read-only")
    assert shown.code == 0 and shown.json["total"] == 3, shown.stderr
