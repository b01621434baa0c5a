"""Readers never take the writer lock and never block a writer; a writer waits its turn.

Before: ``search`` and ``similar`` took the writer lock whenever it was free (to catch the
index up), so a ``sync`` started a moment after a ``search`` failed with "the library is in
use by process N"; ``source list`` and ``pack export`` needed the lock although they only
read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import run_cli, write_notebook

ROUNDS = 6


def start(library: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "NBSHELF_LIBRARY"}
    return subprocess.Popen([sys.executable, "-m", "nbshelf", "--library", str(library), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.fixture
def synced(tmp_path: Path) -> tuple[Path, Path]:
    share = tmp_path / "share"
    for i in range(12):
        write_notebook(share / f"n{i:02d}.ipynb", title=f"Pivot report {i}",
                       code=[f"import json\nrows = json.loads('[{i}]')"])
    library = tmp_path / "library"
    assert run_cli(library, "source", "add", str(share), "--name", "team").code == 0
    assert run_cli(library, "sync").code == 0
    return library, share


@pytest.mark.slow
def test_readers_and_a_sync_started_together_all_finish(synced: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    library, share = synced
    for round_ in range(ROUNDS):
        write_notebook(share / f"new{round_}.ipynb", title=f"Pivot extra {round_}")
        readers = [
            start(library, "search", "pivot", "--json"),
            start(library, "similar", "team:n00.ipynb", "--json"),
            start(library, "source", "list", "--json"),
            start(library, "pack", "export", "pivot", "-o", str(tmp_path / f"p{round_}"),
                  "--json"),
        ]
        # the writer starts a moment after the readers, when one of them would have taken
        # the lock before
        time.sleep(0.3 * (round_ % 3))
        sync = start(library, "sync", "--json")
        done = [(p, *p.communicate(timeout=300)) for p in [*readers, sync]]
        for proc, out, err in done:
            assert proc.returncode == 0, f"{proc.args[4:]}: {err}"
            json.loads(out)  # every reader answered with its report
        assert json.loads(done[-1][1])["added"] == 1, done[-1][2]
    final = run_cli(library, "search", "pivot", "--json")
    assert final.json["total"] == 12 + ROUNDS


def test_a_reader_answers_while_the_app_holds_the_writer_lock(synced: tuple[Path, Path],
                                                              tmp_path: Path) -> None:
    from nbshelf.library import Library

    library, _share = synced
    with Library.open(library):  # the window, holding the writer lock
        for args in (["search", "pivot"], ["source", "list"], ["settings"],
                     ["pack", "export", "pivot", "-o", str(tmp_path / "p")],
                     ["similar", "team:n01.ipynb"], ["problems"]):
            result = run_cli(library, *args, "--json")
            assert result.code == 0, (args, result.stderr)
        refused = run_cli(library, "--wait", "0.5", "sync")
        assert refused.code == 1 and "in use by process" in refused.stderr


def test_a_writer_waits_for_the_lock_then_goes_ahead(synced: tuple[Path, Path]) -> None:
    library, share = synced
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from nbshelf.library import Library; "
         f"lib = Library.open({str(library)!r}); print('held', flush=True); time.sleep(2); "
         "lib.close()"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    write_notebook(share / "late.ipynb", title="Late one")
    waited = run_cli(library, "--wait", "30", "sync", "--json")
    holder.wait(timeout=60)
    holder.stdout.close()
    assert waited.code == 0, waited.stderr
    assert waited.json["added"] == 1


def test_a_reader_says_when_the_index_is_behind(synced: tuple[Path, Path]) -> None:
    from nbshelf.library import Library

    library, share = synced
    write_notebook(share / "fresh.ipynb", title="Pivot fresh")
    with Library.open(library) as lib:
        lib.sync(index=False)  # the catalog has it, the index does not yet
    result = run_cli(library, "search", "pivot", "--json")
    assert result.code == 0
    assert result.json["behind"] == 1 and result.json["total"] == 12
    assert "the index is 1 notebook behind the catalog" in result.stderr


def test_search_health_from_the_command_line(synced: tuple[Path, Path]) -> None:
    from nbshelf.library import Library

    library, share = synced
    write_notebook(share / "broken.ipynb", title="Pivot broken",
                   code=["import no_such_module_anywhere"])
    assert run_cli(library, "sync").code == 0
    with Library.open(library, readonly=True) as lib:
        statuses = {h.path: h.status for h in lib.health()}
    assert statuses["broken.ipynb"] == "missing-deps"
    missing = run_cli(library, "search", "health:missing-deps", "--json")
    assert missing.code == 0, missing.stderr
    assert [r["path"] for r in missing.json["results"]] == ["broken.ipynb"]
    both = run_cli(library, "search", "pivot health:missing-deps", "--json")
    assert [r["path"] for r in both.json["results"]] == ["broken.ipynb"]
    none = run_cli(library, "search", "report health:missing-deps", "--json")
    assert none.json["total"] == 0
