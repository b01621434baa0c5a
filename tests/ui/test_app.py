"""The real app as a process: it starts and quits cleanly, and a second launch hands over."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from nbshelf.ui.instance import send, server_name
from tests.helpers import run_cli

TITLES = ["Traffic forecast", "Mango prices"]
#: Loaded when first needed, never before the window shows its first rows: kernels (run,
#: health), conversion, similarity, and the renderer's own parsers (the first notebook shown).
HEAVY = {"jupyter_client", "nbclient", "nbconvert", "sklearn", "markdown_it", "latex2mathml", "nh3"}


def app_env(**extra: str) -> dict[str, str]:
    # A user's environment: no library override, and no WebEngine sandbox switch (the app
    # must cope as root by itself, as in CI and containers).
    dropped = {"NBSHELF_LIBRARY", "QTWEBENGINE_DISABLE_SANDBOX", "QTWEBENGINE_CHROMIUM_FLAGS"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(QT_QPA_PLATFORM="offscreen", NBSHELF_INDEX_PROCS="1", **extra)
    return env


def launch(library: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "nbshelf", "--library", str(library), *args],
        env=app_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up after {timeout} s")


def test_the_app_starts_and_quits_cleanly(library_dir, make_share):
    assert run_cli(library_dir, "source", "add", str(make_share("share", TITLES))).code == 0
    proc = launch(library_dir, NBSHELF_QUIT_AFTER_START="1")
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    # The start-up sync ran: the notebooks are in the catalog now.
    shown = run_cli(library_dir, "show", "share:001-mango-prices.ipynb", "--json")
    assert shown.code == 0 and shown.json["title"] == "Mango prices"


def test_heavy_modules_stay_off_the_start_path(library_dir, make_share):
    assert run_cli(library_dir, "source", "add", str(make_share("share", TITLES))).code == 0
    assert run_cli(library_dir, "sync").code == 0
    proc = launch(library_dir, NBSHELF_QUIT_AFTER_FIRST_ROWS="1")
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    lines = {line.split(" ", 1)[0]: line.split()[1:] for line in out.splitlines()}
    assert "nbshelf-first-rows" in lines, err
    loaded = set(lines["nbshelf-loaded"])
    assert {"nbshelf", "PySide6", "sqlalchemy"} <= loaded  # what a start does load is listed
    assert sorted(HEAVY & loaded) == []


def test_the_first_start_opens_the_demo_library(tmp_path):
    env = app_env(
        NBSHELF_QUIT_AFTER_START="1",
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "nbshelf"], env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    library = tmp_path / "data" / "nbshelf" / "library"
    listed = run_cli(library, "source", "list", "--json")
    assert [s["name"] for s in listed.json["sources"]] == ["demo"]
    assert listed.json["sources"][0]["notebooks"] >= 8


def test_a_second_launch_hands_its_file_to_the_first(qapp, library_dir, make_share):
    share = make_share("share", TITLES)
    assert run_cli(library_dir, "source", "add", str(share)).code == 0
    assert run_cli(library_dir, "sync").code == 0
    name = server_name(library_dir)
    first = launch(library_dir)
    try:
        wait_for(lambda: (send(name, {"cmd": "state"}) or {}).get("ready"), timeout=60)
        second = subprocess.run(
            [sys.executable, "-m", "nbshelf", "--library", str(library_dir),
             str(share / "001-mango-prices.ipynb")],
            env=app_env(), capture_output=True, text=True, timeout=60, check=False,
        )
        assert second.returncode == 0, second.stderr
        state = wait_for(
            lambda: (s := send(name, {"cmd": "state"})) and s["title"] == "Mango prices — nbshelf"
            and s,
        )
        assert state["notebook"] is not None
        assert send(name, {"cmd": "quit"}) is not None
        first.communicate(timeout=30)
        assert first.returncode == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
