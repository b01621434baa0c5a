"""The task runner: lanes, progress throttling, cancellation, errors, change broadcasts."""

from __future__ import annotations

import errno
import threading
import time
from pathlib import Path

import pytest

from nbshelf.errors import NbshelfError, NotFound, StorageError
from nbshelf.library import Library
from nbshelf.ui.tasks import PROGRESS_INTERVAL_MS, Changes, Lane


@pytest.fixture
def runner(library_dir: Path, runner_for, qtbot):
    made = runner_for(library_dir)
    with qtbot.waitSignal(made.opened, timeout=10000):
        made.start()
    qtbot.waitUntil(lambda: Lane.READ in made.open_errors, timeout=10000)
    return made


def test_each_lane_owns_its_library_on_its_own_thread(qtbot, runner):
    seen = {}

    def where(lane: Lane):
        def fn(lib: Library, _job) -> tuple[str, bool]:
            return threading.current_thread().name, lib.readonly

        runner.task(fn, lane=lane).on_success(lambda r: seen.__setitem__(lane, r)).start()

    where(Lane.WRITE)
    where(Lane.READ)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=10000)
    assert seen[Lane.WRITE][1] is False and seen[Lane.READ][1] is True
    assert seen[Lane.WRITE][0] != seen[Lane.READ][0] != threading.current_thread().name
    assert runner.writable


def test_progress_is_throttled_and_ends_on_the_last_value(qtbot, runner):
    shown: list[int] = []
    done = []

    def work(_lib, job) -> int:
        for i in range(1, 50001):
            job.progress(i)
            if i % 10000 == 0:
                time.sleep(0.05)
        return 7

    started = time.monotonic()
    runner.task(work).with_progress(shown.append).on_success(done.append).start()
    qtbot.waitUntil(lambda: done == [7], timeout=10000)
    elapsed_ms = (time.monotonic() - started) * 1000
    assert shown[-1] == 50000
    assert len(shown) <= elapsed_ms / PROGRESS_INTERVAL_MS + 2
    assert shown == sorted(shown)


def test_cancel_stops_running_work_and_skips_queued_work(qtbot, runner):
    ran = []
    finished = []
    running = threading.Event()

    def wait_for_cancel(_lib, job) -> str:
        running.set()
        job.cancel_event.wait(10)
        return "stopped"

    first = runner.task(wait_for_cancel).on_success(ran.append).on_finished(
        lambda: finished.append(1)
    ).start()
    second = runner.task(lambda _lib, _job: "never").on_success(ran.append).on_finished(
        lambda: finished.append(2)
    ).start()
    assert {j.label for j in runner.running()} == {"wait_for_cancel", "<lambda>"}
    second.cancel()
    assert running.wait(10)
    first.cancel()
    qtbot.waitUntil(lambda: sorted(finished) == [1, 2], timeout=10000)
    assert ran == ["stopped"]
    assert runner.running() == []


def test_known_errors_go_to_on_failure_or_the_failed_signal(qtbot, runner):
    caught: list[NbshelfError] = []
    runner.task(lambda lib, _job: lib.show(999)).on_failure(caught.append).start()
    qtbot.waitUntil(lambda: len(caught) == 1, timeout=10000)
    assert isinstance(caught[0], NotFound)

    with qtbot.waitSignal(runner.failed, timeout=10000) as failed:
        runner.task(lambda lib, _job: lib.show(999), label="Show").start()
    assert failed.args[0] == "Show" and isinstance(failed.args[1], NotFound)


def test_bugs_reach_the_excepthook(qtbot, runner):
    finished = []

    def buggy(_lib, _job) -> None:
        raise ZeroDivisionError("a bug")

    with qtbot.captureExceptions() as exceptions:
        runner.task(buggy).on_finished(lambda: finished.append(True)).start()
        qtbot.waitUntil(lambda: finished == [True], timeout=10000)
    assert len(exceptions) == 1
    assert exceptions[0][0] is ZeroDivisionError


def test_changes_are_broadcast_after_success(qtbot, runner):
    with qtbot.waitSignal(runner.changed, timeout=10000) as changed:
        runner.task(lambda _lib, _job: [1, 2]).with_changes(
            lambda ids: Changes(notebooks=True, updated_ids=frozenset(ids))
        ).start()
    assert changed.args[0] == Changes(notebooks=True, updated_ids=frozenset({1, 2}))
    merged = Changes(sources=True, updated_ids=frozenset({1})) | Changes(notebooks=True)
    assert merged.sources and merged.notebooks and merged.updated_ids is None


def test_a_locked_library_is_read_only_but_readable(qtbot, library_dir, runner_for):
    holder = Library.open(library_dir)  # another process writing, as far as the app can tell
    try:
        runner = runner_for(library_dir)
        with qtbot.waitSignal(runner.opened, timeout=10000) as opened:
            runner.start()
        assert opened.args[0] is Lane.WRITE and "in use" in str(opened.args[1])
        assert not runner.writable
        got = []
        runner.task(lambda lib, _job: lib.notebook_ids()).on_success(got.append).start()
        qtbot.waitUntil(lambda: got == [[]], timeout=10000)
        runner.shutdown()
    finally:
        holder.close()


def test_tasks_after_shutdown_are_dropped(qtbot, runner):
    runner.shutdown()
    job = runner.task(lambda _lib, _job: 1).start()
    assert job.cancelled and job.done
    assert runner.running() == []


def test_a_full_disk_is_a_plain_failure_not_the_crash_dialog(qtbot, runner, tmp_path):
    """The machine's failure reaches the window as a known error, in words."""
    caught: list[NbshelfError] = []

    def fill(_lib, _job) -> None:
        # what the blob store's write raises when the disk is full
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "blob"))

    with qtbot.captureExceptions() as exceptions:
        runner.task(fill).on_failure(caught.append).start()
        qtbot.waitUntil(lambda: len(caught) == 1, timeout=10000)
    assert exceptions == []
    assert isinstance(caught[0], StorageError)
    assert "disk holding the library is full" in str(caught[0])


def test_a_damaged_catalog_opens_as_a_plain_error(qtbot, library_dir, runner_for):
    Library.open(library_dir).close()
    (library_dir / "catalog.sqlite").write_bytes(b"not a catalog " * 500)
    with qtbot.captureExceptions() as exceptions:
        runner = runner_for(library_dir)
        with qtbot.waitSignal(runner.opened, timeout=10000) as opened:
            runner.start()
        qtbot.waitUntil(lambda: Lane.READ in runner.open_errors, timeout=10000)
        runner.shutdown()
    assert exceptions == []
    assert isinstance(opened.args[1], StorageError) and "damaged" in str(opened.args[1])
