"""The command line contract of DESIGN.md, run as a user runs it: a separate process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import run_cli, write_notebook


def test_add_sync_show_history_problems_as_json(library_dir: Path, share: Path) -> None:
    write_notebook(share / "a" / "first.ipynb", title="First")
    (share / "broken.ipynb").write_text('{"cells": [')
    added = run_cli(library_dir, "source", "add", str(share), "--name", "team", "--json")
    assert added.code == 0 and added.json["source"]["name"] == "team"
    synced = run_cli(library_dir, "sync", "--json")
    assert synced.code == 0, synced.stderr
    data = synced.json
    assert {k: data[k] for k in ("added", "updated", "removed", "unchanged")} == {
        "added": 1, "updated": 0, "removed": 0, "unchanged": 0}
    assert data["problems"] == [{"source": "team", "path": "broken.ipynb", "kind": "invalid-json",
                                 "message": data["problems"][0]["message"]}]
    shown = run_cli(library_dir, "show", "team:a/first.ipynb", "--json").json
    assert (shown["title"], shown["path"], shown["source"]) == ("First", "a/first.ipynb", "team")
    by_path = run_cli(library_dir, "show", "a/first.ipynb", "--json", cwd=share).json
    assert by_path["id"] == shown["id"]
    history = run_cli(library_dir, "history", str(shown["id"]), "--json").json
    assert [v["number"] for v in history["versions"]] == [1]
    listed = run_cli(library_dir, "source", "list", "--json").json["sources"]
    assert [(s["name"], s["status"], s["notebooks"]) for s in listed] == [("team", "available", 1)]
    problems = run_cli(library_dir, "problems", "--json").json["problems"]
    assert [p["kind"] for p in problems] == ["invalid-json"]


def test_human_output_and_exit_codes(library_dir: Path, share: Path) -> None:
    write_notebook(share / "n.ipynb", title="Readable title")
    run_cli(library_dir, "source", "add", str(share))
    sync = run_cli(library_dir, "sync")
    assert sync.code == 0 and "added 1" in sync.stdout
    assert "Readable title" in run_cli(library_dir, "show", "share:n.ipynb").stdout
    missing = run_cli(library_dir, "show", "share:nope.ipynb")
    assert missing.code == 1 and "no notebook in the library matches" in missing.stderr
    assert "Traceback" not in missing.stderr
    missing_json = run_cli(library_dir, "show", "999", "--json")
    assert missing_json.code == 1 and "no notebook with id 999" in missing_json.json["error"]
    assert run_cli(library_dir, "frobnicate").code == 2
    assert run_cli(library_dir, "show").code == 2
    bad_add = run_cli(library_dir, "source", "add", str(share / "nowhere"))
    assert bad_add.code == 1 and "there is no folder" in bad_add.stderr


def test_second_writer_is_told_who_holds_the_library(library_dir: Path, share: Path) -> None:
    write_notebook(share / "n.ipynb")
    assert run_cli(library_dir, "source", "add", str(share)).code == 0
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from nbshelf.library import Library\n"
         "lib = Library.open(sys.argv[1]); print('ready', flush=True); time.sleep(60)",
         str(library_dir)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        blocked = run_cli(library_dir, "sync")
        assert blocked.code == 1
        assert f"in use by process {holder.pid}" in blocked.stderr
        assert run_cli(library_dir, "problems").code == 0  # reading still works
    finally:
        holder.kill()
        holder.communicate()
    time.sleep(0.1)
    assert run_cli(library_dir, "sync").code == 0  # the dead holder left no stale lock


def test_ctrl_c_cancels_sync_and_the_next_sync_finishes(library_dir: Path, share: Path) -> None:
    import json
    import os
    import signal

    for i in range(400):
        write_notebook(share / f"n{i:03}.ipynb", title=f"N {i}", code=["x = 1"] * 20)
    assert run_cli(library_dir, "source", "add", str(share)).code == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbshelf", "--library", str(library_dir), "sync", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if k != "NBSHELF_LIBRARY"},
    )
    db = library_dir / "catalog.sqlite"
    deadline = time.monotonic() + 60
    import sqlite3

    while time.monotonic() < deadline:  # wait until copying has begun, then press Ctrl+C
        with sqlite3.connect(db) as conn:
            if conn.execute("SELECT count(*) FROM notebooks").fetchone()[0] > 0:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "sync cancelled; run sync again to finish" in err and "Traceback" not in err
    first = json.loads(out)
    assert first["cancelled"] is True and 0 < first["added"] < 400
    second = run_cli(library_dir, "sync", "--json").json
    assert second["added"] + second["unchanged"] == 400 and second["cancelled"] is False


def test_first_run_opens_the_demo_library(tmp_path: Path) -> None:
    import json
    import os

    env = {k: v for k, v in os.environ.items() if k != "NBSHELF_LIBRARY"}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    proc = subprocess.run([sys.executable, "-m", "nbshelf", "source", "list", "--json"],
                          capture_output=True, text=True, env=env, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    sources = json.loads(proc.stdout)["sources"]
    assert [(s["name"], s["kind"], s["status"]) for s in sources] == [("demo", "demo",
                                                                      "available")]
    assert 8 <= sources[0]["notebooks"] <= 12
    assert (tmp_path / "data" / "nbshelf" / "library" / "catalog.sqlite").is_file()
    found = subprocess.run([sys.executable, "-m", "nbshelf", "search", "moving average",
                            "--json"], capture_output=True, text=True, env=env, check=True)
    assert json.loads(found.stdout)["total"] >= 1


def test_the_run_progress_numbers_cells_from_one_as_every_other_message() -> None:
    import io

    from nbshelf.cli.main import _cell_printer
    from nbshelf.run.execution import CellEvent

    out = io.StringIO()
    show = _cell_printer(out)
    show(CellEvent("started", None, 0))  # the injected parameters cell: not the user's
    show(CellEvent("started", 0, 1))
    show(CellEvent("output", 0, 1))
    show(CellEvent("started", 1, 2))
    assert out.getvalue() == "running cell 1…\nrunning cell 2…\n"
