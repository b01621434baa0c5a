"""Publishing when the share is hostile: racing colleagues, links out of the share, a publish
killed mid-write, a share that is not mounted.

The race test is the contract's "publishing is linearizable": of several publishers of one
target exactly one wins, every other is refused, and nothing one of them wrote is lost.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from nbshelf.library import Library
from nbshelf.publish.share import PublishConflict, PublishError
from tests.helpers import run_cli, write_notebook

PUBLISHERS = 4
ROUNDS = 50
#: What a refused racer is told: the target changed under it, or another publish holds it.
REFUSED = re.compile(r"publishing would overwrite their work|another publish to this file is "
                     r"in progress")
#: An nbshelf temporary file for ``plan.ipynb``, in any version's naming.
PLAN_TEMP = re.compile(r"^\.plan\.ipynb\..+\.tmp$")
#: The holder a planted lock file names: still there means nobody took it over.
PLANTED = "planted"


def _round_target(r: int) -> str:
    """Even rounds replace one existing notebook; odd ones race to create a new one."""
    return "plan.ipynb" if r % 2 == 0 else f"new-{r:02}.ipynb"


def _title(r: int, me: int) -> str:
    return f"Plan, round {r}, edit by analyst {me}"


def _racer(lib_dir: Path, work: Path, me: int, rounds: int, barrier: Any, results: Any) -> None:
    """One analyst: their own library; each round sync, wait for the others, publish."""
    from nbshelf.errors import NbshelfError

    lib = None
    try:
        lib = Library.open(lib_dir)
        for r in range(rounds):
            edit = write_notebook(work / f"analyst-{me}" / "plan.ipynb", title=_title(r, me))
            lib.sync(["team"], index=False)  # the analyst has seen what the share holds now
            barrier.wait(timeout=120)
            try:
                lib.publish(edit, "team", as_path=_round_target(r))
                results.put((r, me, 0, ""))
            except PublishConflict as err:
                results.put((r, me, 1, str(err)))
            except NbshelfError as err:
                results.put((r, me, 2, f"{type(err).__name__}: {err}"))
            barrier.wait(timeout=120)
    except BaseException as err:  # the parent reports it; the others must not wait forever
        results.put((-1, me, 3, repr(err)))
        barrier.abort()
    finally:
        if lib is not None:
            lib.close()


def _title_on_share(path: Path) -> str | None:
    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except FileNotFoundError:
        return None
    source: str = nb.cells[0].source
    return source.removeprefix("# ")


def test_racing_publishers_exactly_one_wins_and_no_update_is_lost(tmp_path: Path,
                                                                  share: Path) -> None:
    write_notebook(share / "plan.ipynb", title="Plan, first draft")
    libs = [tmp_path / f"lib-{me}" for me in range(PUBLISHERS)]
    for lib_dir in libs:  # every analyst has their own library that has synced the share
        with Library.open(lib_dir) as lib:
            lib.add_source(share, name="team")
            lib.sync()
    ctx = multiprocessing.get_context("spawn")  # fork is unsafe in a threaded pytest
    barrier = ctx.Barrier(PUBLISHERS + 1)
    results = ctx.Queue()
    workers = [ctx.Process(target=_racer, args=(libs[me], tmp_path / "work", me, ROUNDS,
                                               barrier, results))
               for me in range(PUBLISHERS)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    bad: list[str] = []
    try:
        for r in range(ROUNDS):
            barrier.wait(timeout=180)  # all synced: go
            barrier.wait(timeout=180)  # all published (or refused)
            outcomes = sorted(results.get(timeout=30) for _ in range(PUBLISHERS))
            winners = [me for (_r, me, code, _m) in outcomes if code == 0]
            on_share = _title_on_share(share / _round_target(r))
            if len(winners) != 1:
                bad.append(f"round {r}: {len(winners)} publishers exited 0 ({outcomes})")
            elif on_share != _title(r, winners[0]):
                bad.append(f"round {r}: analyst {winners[0]} won but the share holds "
                           f"{on_share!r}: an update was lost")
            for _r, me, code, message in outcomes:
                if code not in (0, 1) or (code == 1 and not REFUSED.search(message)):
                    bad.append(f"round {r}: analyst {me} failed otherwise: {code} {message}")
    finally:
        barrier.abort()
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.kill()
    elapsed = time.monotonic() - started
    print(f"{PUBLISHERS} publishers x {ROUNDS} rounds in {elapsed:.1f} s")
    assert not bad, f"{len(bad)} problems in {ROUNDS} rounds:\n" + "\n".join(bad[:20])
    assert all(worker.exitcode == 0 for worker in workers)
    hidden = [p.name for p in share.iterdir() if p.name.startswith(".")]
    assert hidden == [], "a lock or temporary file was left on the share"


def test_racing_publishers_through_the_real_cli(tmp_path: Path, share: Path) -> None:
    """One round as users run it: separate ``nbshelf publish`` processes, exit codes."""
    write_notebook(share / "plan.ipynb", title="Plan, first draft")
    procs = []
    for me in range(PUBLISHERS):
        with Library.open(tmp_path / f"lib-{me}") as lib:
            lib.add_source(share, name="team")
            lib.sync()
        edit = write_notebook(tmp_path / f"analyst-{me}" / "plan.ipynb", title=_title(0, me))
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "nbshelf", "--library", str(tmp_path / f"lib-{me}"),
             "publish", str(edit), "--to", "team"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outcomes = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    winners = [me for me, (code, _out, _err) in enumerate(outcomes) if code == 0]
    assert len(winners) == 1, outcomes
    assert _title_on_share(share / "plan.ipynb") == _title(0, winners[0])
    for code, _out, err in outcomes:
        assert code == 0 or (code == 1 and REFUSED.search(err)), err


# -- the share lock ----------------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _plant_lock(target: Path, *, host: str, pid: int, age: float) -> Path:
    from nbshelf.publish.sharelock import lock_path

    path = lock_path(target)
    path.write_text(json.dumps({"host": host, "pid": pid, "time": time.time() - age,
                                "token": PLANTED}))
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def test_the_lock_is_hidden_next_to_the_target_and_says_who_holds_it(share: Path) -> None:
    from nbshelf.publish.sharelock import ShareLock

    target = share / "team" / "plan.ipynb"
    target.parent.mkdir()
    with ShareLock(target) as lock:
        assert lock.path.parent == target.parent and lock.path.name.startswith(".")
        held = json.loads(lock.path.read_text())
        assert (held["host"], held["pid"]) == (socket.gethostname(), os.getpid())
        assert abs(held["time"] - time.time()) < 60
    assert not lock.path.exists()


@pytest.mark.parametrize(("host", "pid", "age", "taken"), [
    ("here", "dead", 0, True),  # killed publisher on this computer: taken over at once
    ("here", "alive", 0, False),  # a publish running on this computer
    ("elsewhere.example", 12345, 0, False),  # another computer's pid proves nothing
    ("elsewhere.example", 12345, 3600, True),  # older than the generous timeout
])
def test_a_lock_is_taken_over_only_when_provably_stale(share: Path, monkeypatch: Any,
                                                       host: str, pid: Any, age: float,
                                                       taken: bool) -> None:
    from nbshelf.publish import sharelock
    from nbshelf.publish.sharelock import LockBusy, ShareLock

    monkeypatch.setattr(sharelock, "WAIT_S", 0.3)
    target = share / "plan.ipynb"
    pid = {"dead": _dead_pid(), "alive": os.getpid()}.get(pid, pid)
    planted = _plant_lock(target, host=socket.gethostname() if host == "here" else host,
                          pid=pid, age=age)
    if taken:
        with ShareLock(target):
            assert json.loads(planted.read_text())["token"] != PLANTED
        assert not planted.exists()
    else:
        started = time.monotonic()
        with pytest.raises(LockBusy, match="another publish to this file is in progress"):
            ShareLock(target).acquire()
        assert 0.25 < time.monotonic() - started < 5
        assert json.loads(planted.read_text())["token"] == PLANTED  # never removed


def test_a_lock_without_readable_content_is_taken_over_only_when_old(share: Path,
                                                                    monkeypatch: Any) -> None:
    from nbshelf.publish import sharelock
    from nbshelf.publish.sharelock import LockBusy, ShareLock, lock_path

    monkeypatch.setattr(sharelock, "WAIT_S", 0.3)
    target = share / "plan.ipynb"
    lock_path(target).write_text("")  # a publisher between creating and filling it
    with pytest.raises(LockBusy):
        ShareLock(target).acquire()
    old = time.time() - 3600
    os.utime(lock_path(target), (old, old))  # ... or one killed there, long ago
    with ShareLock(target):
        pass
    assert not lock_path(target).exists()


def test_racing_takeovers_of_a_stale_lock_let_one_holder_in_at_a_time(share: Path) -> None:
    from nbshelf.publish.sharelock import LockBusy, ShareLock

    target = share / "plan.ipynb"
    _plant_lock(target, host=socket.gethostname(), pid=_dead_pid(), age=0)
    inside: list[int] = []
    most = 0
    held = 0
    guard = threading.Lock()
    go = threading.Barrier(8)

    def contender(me: int) -> None:
        nonlocal most, held
        go.wait()
        for _ in range(15):
            try:
                with ShareLock(target, wait=10):
                    with guard:
                        inside.append(me)
                        held += 1
                        most = max(most, len(inside))
                    time.sleep(0.002)
                    with guard:
                        inside.remove(me)
            except LockBusy:
                pass

    threads = [threading.Thread(target=contender, args=(me,)) for me in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1 and held == 8 * 15
    assert [p.name for p in share.iterdir()] == []


def test_a_lock_held_by_another_computer_refuses_the_publish_plainly(
    tmp_path: Path, share: Path, monkeypatch: Any
) -> None:
    from nbshelf.publish import sharelock

    monkeypatch.setattr(sharelock, "WAIT_S", 0.3)
    with Library.open(tmp_path / "lib") as lib:
        lib.add_source(share, name="team")
        _plant_lock(share / "plan.ipynb", host="elsewhere.example", pid=1, age=5)
        edit = write_notebook(tmp_path / "plan.ipynb", title="Mine")
        with pytest.raises(PublishConflict, match="another publish to this file is in progress"):
            lib.publish(edit, "team")
        assert not (share / "plan.ipynb").exists()
        lib.sync()  # the lock is never catalogued, nor listed as a problem
        assert lib.problems() == [] and lib.notebook_ids() == []


# -- links out of the share --------------------------------------------------------------------


def test_a_linked_folder_out_of_the_share_is_refused(tmp_path: Path, share: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (share / "linkdir").symlink_to(elsewhere, target_is_directory=True)
    (share / "inner").mkdir()
    (share / "alias").symlink_to(share / "inner", target_is_directory=True)
    edit = write_notebook(tmp_path / "r.ipynb", title="Report")
    with Library.open(tmp_path / "lib") as lib:
        lib.add_source(share, name="team")
        with pytest.raises(PublishError, match="leads out of"):
            lib.publish(edit, "team", as_path="linkdir/r.ipynb")
        with pytest.raises(PublishError, match="leads out of"):
            lib.publish(edit, "team", as_path="linkdir/deeper/r.ipynb")
        assert list(elsewhere.iterdir()) == []
        lib.publish(edit, "team", as_path="alias/r.ipynb")  # a link that stays inside is fine
        assert _title_on_share(share / "inner" / "r.ipynb") == "Report"
    cli = run_cli(tmp_path / "lib", "publish", str(edit), "--to", "team", "--as",
                  "linkdir/r.ipynb")
    assert cli.code == 1 and "leads out of" in cli.stderr and "internal error" not in cli.stderr
    assert list(elsewhere.iterdir()) == []


def test_a_target_that_is_a_link_out_of_the_share_is_refused(tmp_path: Path,
                                                             share: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    outside = write_notebook(elsewhere / "theirs.ipynb", title="Not yours")
    before = outside.read_bytes()
    (share / "r.ipynb").symlink_to(outside)
    (share / "dangling.ipynb").symlink_to(elsewhere / "nothing-yet.ipynb")
    edit = write_notebook(tmp_path / "r.ipynb", title="Report")
    with Library.open(tmp_path / "lib") as lib:
        lib.add_source(share, name="team")
        lib.sync()
        for name in ("r.ipynb", "dangling.ipynb"):
            with pytest.raises(PublishError, match="leads out of"):
                lib.publish(edit, "team", as_path=name, force=True)
    assert outside.read_bytes() == before
    assert sorted(p.name for p in elsewhere.iterdir()) == ["theirs.ipynb"]
    assert (share / "r.ipynb").is_symlink()


# -- temporary files a killed publish left -------------------------------------------------------

_SLOW_WRITER = """
import os, sys, time
share = sys.argv[1]
real_fsync = os.fsync
def stuck_fsync(fd):
    # the publish's temporary file on the share: never finishes, so it can be killed there
    where = os.readlink(f"/proc/self/fd/{fd}")
    if where.startswith(share + os.sep) and where.endswith(".tmp"):
        time.sleep(600)
    real_fsync(fd)
os.fsync = stuck_fsync
from nbshelf.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def _age(path: Path, seconds: float) -> None:
    when = time.time() - seconds
    os.utime(path, (when, when), follow_symlinks=False)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to find the write")
def test_a_publish_killed_mid_write_leaves_no_temporary_file_after_the_next(
    tmp_path: Path, share: Path
) -> None:
    real_share = os.path.realpath(share)
    write_notebook(share / "plan.ipynb", title="Plan, first draft")
    with Library.open(tmp_path / "lib") as lib:
        lib.add_source(share, name="team")
        lib.sync()
    edit = write_notebook(tmp_path / "plan.ipynb", title="Plan, second draft")
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, real_share, "--library", str(tmp_path / "lib"),
         "publish", str(edit), "--to", "team"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    left: list[Path] = []
    while not left and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
        left = [p for p in share.iterdir() if PLAN_TEMP.match(p.name)]
    proc.send_signal(signal.SIGKILL)
    _out, err = proc.communicate()
    assert left, f"the publish never started its write: {err.decode()}"
    assert left[0].exists()  # killed during the write: its temporary file is still there
    _age(left[0], 3600)
    # files that merely look stale: another tool's, a user's, one being written right now
    foreign = [share / ".plan.ipynb.tmp", share / "notes.tmp", share / ".plan.ipynb.swp",
               share / ".plan.ipynb.nbshelf-abcdefgh.tmp.bak"]
    for path in foreign:
        path.write_text("not nbshelf's")
        _age(path, 3600)
    (share / ".link.ipynb.nbshelf-abcdefgh.tmp").symlink_to(tmp_path / "precious")
    (tmp_path / "precious").write_text("keep")
    _age(share / ".link.ipynb.nbshelf-abcdefgh.tmp", 3600)
    fresh = share / ".other.ipynb.nbshelf-k2j3h4g5.tmp"  # another computer's publish, now
    fresh.write_text("{")

    cli = run_cli(tmp_path / "lib", "publish", str(edit), "--to", "team")
    assert cli.code == 0, cli.stderr
    assert _title_on_share(share / "plan.ipynb") == "Plan, second draft"
    assert not left[0].exists()
    assert all(path.exists() for path in [*foreign, fresh])
    assert (share / ".link.ipynb.nbshelf-abcdefgh.tmp").is_symlink()
    assert (tmp_path / "precious").read_text() == "keep"
    assert not any(p.name.endswith("-lock") for p in share.iterdir())  # killed one's lock too


def test_remove_stale_temps_removes_only_nbshelfs_own_old_ones(tmp_path: Path) -> None:
    from nbshelf.store import atomic_write, remove_stale_temps

    folder = tmp_path / "share"
    folder.mkdir()
    atomic_write(folder / "q3.ipynb", b"{}")
    assert [p.name for p in folder.iterdir()] == ["q3.ipynb"]
    ours = folder / ".q3.ipynb.nbshelf-a1b2c3d4.tmp"
    ours.write_text("{")
    others = [folder / ".q3.ipynb.tmp", folder / ".q3.ipynb.a1b2c3d4.tmp", folder / "x.tmp",
              folder / "q3.ipynb.nbshelf-a1b2c3d4.tmp"]
    for path in [ours, *others]:
        path.write_text("{")
        _age(path, 600)
    assert remove_stale_temps(folder, older_than=300) == 1
    assert not ours.exists() and all(p.exists() for p in others)
    young = folder / ".q3.ipynb.nbshelf-zzzzzzzz.tmp"
    young.write_text("{")
    assert remove_stale_temps(folder, older_than=300) == 0 and young.exists()
    assert remove_stale_temps(tmp_path / "gone", older_than=300) == 0


def test_sync_of_a_folder_removes_old_leftovers_of_killed_publishes(tmp_path: Path,
                                                                   share: Path) -> None:
    write_notebook(share / "deep" / "er" / "plan.ipynb", title="Plan")
    ours = share / "deep" / "er" / ".plan.ipynb.nbshelf-a1b2c3d4.tmp"
    young = share / "deep" / ".x.ipynb.nbshelf-zzzzzzzz.tmp"
    foreign = share / "deep" / ".plan.ipynb.a1b2c3d4.tmp"
    for path in (ours, young, foreign):
        path.write_text("{")
        _age(path, 0 if path is young else 3600)
    with Library.open(tmp_path / "lib") as lib:
        lib.add_source(share, name="team")
        report = lib.sync()
    assert report.added == 1 and report.problems == []
    assert not ours.exists() and young.exists() and foreign.exists()


# -- a share that is not mounted ---------------------------------------------------------------


def test_publishing_to_an_unmounted_share_is_refused(tmp_path: Path, share: Path) -> None:
    write_notebook(share / "reports" / "q1.ipynb", title="Q1")
    write_notebook(share / "q2.ipynb", title="Q2")
    with Library.open(tmp_path / "lib") as lib:
        lib.add_source(share, name="team")
        lib.sync()
    for child in share.iterdir():  # the mount point of a share that is not mounted: empty
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    edit = write_notebook(tmp_path / "q3.ipynb", title="Q3")
    cli = run_cli(tmp_path / "lib", "publish", str(edit), "--to", "team")
    assert cli.code == 1, cli.stdout
    assert "not available" in cli.stderr and "internal error" not in cli.stderr
    assert list(share.iterdir()) == []
    with Library.open(tmp_path / "lib") as lib:  # and sync agrees: unavailable, nothing removed
        assert lib.sync().unavailable == ["team"]
        assert len(lib.notebook_ids()) == 2


def test_an_empty_share_that_never_held_notebooks_takes_a_publish(tmp_path: Path,
                                                                  share: Path) -> None:
    with Library.open(tmp_path / "lib") as lib:
        lib.add_source(share, name="team")
        lib.sync()
        lib.publish(write_notebook(tmp_path / "q3.ipynb", title="Q3"), "team")
        assert _title_on_share(share / "q3.ipynb") == "Q3"
