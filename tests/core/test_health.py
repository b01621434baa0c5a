"""Kernels and "will it run here?": kernel choice, modules asked of the kernel, data files."""

from __future__ import annotations

import hashlib
import math
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nbformat
import pytest

from nbshelf.errors import KernelMissing
from nbshelf.health.checks import (
    CACHE_FILE,
    HealthChecker,
    HealthInput,
    HealthReport,
    RunSummary,
    check_health,
    find_data_files,
    health_status,
    status_detail,
)
from nbshelf.run.execution import run_notebook
from nbshelf.run.kernels import (
    OWN_KERNEL_NAME,
    KernelChoice,
    choose_kernel,
    get_kernel,
    installed_kernels,
    kernel_python,
    own_kernel,
)
from tests.helpers import make_notebook, write_notebook

R_KERNEL = KernelChoice(name="ir", display_name="R", language="r", argv=("R", "{connection_file}"))


def python_with_path(name: str, folder: Path) -> KernelChoice:
    """A Python kernel of this interpreter whose environment also has ``folder`` on its path."""
    return KernelChoice(
        name=name, display_name=f"Python ({name})", language="python",
        argv=(sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"),
        env={"PYTHONPATH": str(folder)},
    )


def nb_data(code: list[str], kernel: str = "python3", language: str = "python") -> bytes:
    meta = {"kernelspec": {"name": kernel, "display_name": kernel, "language": language}}
    return nbformat.writes(make_notebook(code=code, metadata=meta)).encode()


# -- kernels ---------------------------------------------------------------------------------


def test_the_own_python_kernel_is_always_offered() -> None:
    kernels = installed_kernels()
    own = [k for k in kernels if k.own]
    assert [k.name for k in own] == [OWN_KERNEL_NAME]
    assert own[0].argv[:3] == (sys.executable, "-m", "ipykernel_launcher")
    assert kernel_python(own[0]) == sys.executable
    venv_spec = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "python3"
    if venv_spec.is_dir():
        python3 = get_kernel("python3", kernels)
        assert Path(python3.resource_dir or "") == venv_spec
        assert kernel_python(python3) == sys.executable  # "python" in argv means this one


def test_the_notebook_kernel_is_chosen_by_name_then_by_language() -> None:
    kernels = [own_kernel(), R_KERNEL]
    assert choose_kernel("ir", "R", kernels).name == "ir"
    assert choose_kernel("IR", None, kernels).name == "ir"
    chosen = choose_kernel("conda-env-geo-py", "python", kernels)
    assert (chosen.name, chosen.replaces) == (OWN_KERNEL_NAME, "conda-env-geo-py")
    assert choose_kernel(None, None, kernels).own  # no metadata at all: Python
    python3 = KernelChoice(name="python3", display_name="Python 3", language="python",
                           argv=("python", "-m", "ipykernel_launcher"))
    assert choose_kernel("py-old", "python", [own_kernel(), python3]).name == "python3"


def test_a_missing_kernel_names_itself_and_the_installed_ones() -> None:
    with pytest.raises(KernelMissing) as err:
        choose_kernel("julia-1.9", "julia", [own_kernel(), R_KERNEL])
    message = str(err.value)
    assert "the kernel 'julia-1.9' (Julia)" in message
    assert "no other Julia kernel" in message
    assert "Installed kernels: Python 3 (nbshelf) (nbshelf-python3), R (ir)" in message
    assert err.value.installed == ["Python 3 (nbshelf) (nbshelf-python3)", "R (ir)"]
    with pytest.raises(KernelMissing, match="'nope'"):
        get_kernel("nope", [own_kernel()])


def test_the_own_kernel_runs_a_notebook(tmp_path: Path) -> None:
    data = nb_data(["import sys\nprint(sys.executable)"])
    result = run_notebook(data, cwd=tmp_path, record_path=tmp_path / "r.ipynb", kernel=own_kernel())
    assert result.status == "ok" and result.kernel == OWN_KERNEL_NAME
    record = nbformat.reads(result.record.read_text(), 4)
    assert record.cells[1].outputs[0]["text"].strip() == sys.executable
    assert record.metadata["kernelspec"]["name"] == OWN_KERNEL_NAME


# -- static checks ---------------------------------------------------------------------------


def test_a_missing_module_is_reported_before_running(tmp_path: Path) -> None:
    folder = tmp_path / "share"
    folder.mkdir()
    (folder / "helpers_beside.py").write_text("X = 1\n")
    data = nb_data([
        "import json, os\nimport nbshelf_surely_missing_module\n"
        "from helpers_beside import X\nfrom geopandas_like_missing.io import read",
    ])
    report = check_health(data, "nb.ipynb", folder, kernels=[own_kernel()])
    assert report.status == "missing-deps"
    assert report.missing_modules == ["geopandas_like_missing", "nbshelf_surely_missing_module"]
    assert report.kernel == OWN_KERNEL_NAME and report.modules_checked
    assert (
        "The module `nbshelf_surely_missing_module` is not installed in Python 3 (nbshelf)."
        in report.messages
    )
    assert any("not installed here; it will run in Python 3 (nbshelf)" in m
               for m in report.messages)  # python3 was asked for, the own kernel stands in


def test_modules_are_looked_up_in_the_kernels_own_environment(tmp_path: Path) -> None:
    extra = tmp_path / "site"
    extra.mkdir()
    (extra / "only_in_that_env.py").write_text("")
    with_it = python_with_path("with-it", extra)
    data_a = nb_data(["import only_in_that_env"], kernel="with-it")
    data_b = nb_data(["import only_in_that_env"], kernel=OWN_KERNEL_NAME)
    checker = HealthChecker(kernels=[own_kernel(), with_it])
    reports = checker.check([
        HealthInput("a", lambda: data_a, tmp_path), HealthInput("b", lambda: data_b, tmp_path),
    ])
    assert [r.status for r in reports] == ["ok", "missing-deps"]
    assert reports[1].messages == [
        "The module `only_in_that_env` is not installed in Python 3 (nbshelf)."
    ]


def test_static_results_are_cached_and_a_package_install_is_noticed(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    kernel = python_with_path("k", site)
    data = nb_data(["import late_package"], kernel="k")
    digest = hashlib.sha256(data).hexdigest()
    cache = tmp_path / "cache"

    first = HealthChecker(cache_dir=cache, kernels=[kernel]).check(
        [HealthInput(digest, lambda: data, tmp_path)]
    )
    assert first[0].missing_modules == ["late_package"]
    assert (cache / CACHE_FILE).is_file()

    def never() -> bytes:
        raise AssertionError("a cached notebook is not read again")

    warm = HealthChecker(cache_dir=cache, kernels=[kernel])
    assert warm.check([HealthInput(digest, never, tmp_path)]) == first

    (site / "late_package").mkdir()  # "pip install": the folder on sys.path changes
    (site / "late_package" / "__init__.py").write_text("")
    after = warm.check([HealthInput(digest, never, tmp_path)])
    assert after[0].status == "ok"


def test_modules_of_other_languages_are_not_guessed(tmp_path: Path) -> None:
    data = nb_data(["library(ggplot2)\nx <- read.csv('data/r.csv')"], kernel="ir", language="R")
    report = check_health(data, "r.ipynb", tmp_path, kernels=[own_kernel(), R_KERNEL])
    assert report.status == "missing-files" and report.kernel == "ir"
    assert not report.modules_checked and report.missing_modules == []
    assert any("not available for R notebooks" in m for m in report.messages)
    assert report.missing_files == ["data/r.csv"]


def test_a_notebook_without_its_kernel_is_kernel_missing(tmp_path: Path) -> None:
    data = nb_data(["using DataFrames"], kernel="julia-1.9", language="julia")
    report = check_health(data, "j.ipynb", tmp_path, kernels=[own_kernel()])
    assert report.status == "kernel-missing" and report.kernel is None
    assert "Installed kernels: Python 3 (nbshelf) (nbshelf-python3)" in report.messages[0]


def test_data_files_are_looked_for_beside_the_notebook(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "here.csv").write_text("a\n1\n")
    path = write_notebook(folder / "nb.ipynb", code=[
        "import pandas as pd\nimport numpy as np",
        "df = pd.read_csv('data/here.csv')\nother = pd.read_csv('data/gone.csv')",
        "with open('notes.txt') as f:\n    notes = f.read()",
    ])
    report = check_health(path.read_bytes(), path.name, folder, kernels=[own_kernel()])
    assert report.missing_files == ["data/gone.csv", "notes.txt"]
    assert f"The data file `data/gone.csv` is not in the notebook's folder ({folder})." in (
        report.messages
    )
    if report.status != "missing-deps":  # pandas may not be installed here
        assert report.status == "missing-files"

    unreachable = check_health(path.read_bytes(), path.name, None, kernels=[own_kernel()])
    assert not unreachable.files_checked and unreachable.missing_files == []
    assert any("not reachable" in m for m in unreachable.messages)


def test_data_files_are_string_literals_the_code_reads_and_does_not_write() -> None:
    code = [
        "df = pd.read_csv('data/x.csv', sep=';')\nxl = pd.read_excel(io='book.xlsx')",
        "a = np.loadtxt(\"arr.txt\")\nb = np.load('w.npy')\nimg = plt.imread('pic.png')",
        "%matplotlib inline\nopen('in.txt').read()\nopen('out.txt', 'w').write('x')",
        "df.to_csv('made.csv')\nagain = pd.read_csv('made.csv')",
        "np.save('arr', a)\nloaded = np.load('arr.npy')",
        "nlp = spacy.load('en_core_web_sm')\nr = pd.read_csv('https://example.org/x.csv')",
        "abs_ = open('/etc/hosts')\npattern = glob('*.csv')\nname = f'{x}.csv'\nread_csv(name)",
        "%%writefile script.py\nprint(1)",
        "exec(open('script.py').read())\nwith open(file='win\\\\path.txt', mode='rb') as f: pass",
        "this cell is not python (",
    ]
    assert find_data_files(code) == [
        "arr.txt", "book.xlsx", "data/x.csv", "in.txt", "pic.png", "w.npy", "win/path.txt",
    ]


def test_an_unreadable_file_is_reported_as_such(tmp_path: Path) -> None:
    report = check_health(b'{"cells": [', "broken.ipynb", tmp_path, kernels=[own_kernel()])
    assert report.status == "unreadable"
    assert "truncated" in report.messages[0]


# -- after runs ------------------------------------------------------------------------------

NOW = datetime(2025, 6, 1, tzinfo=UTC)
OK_STATIC = HealthReport(status="ok", kernel="python3", kernel_display_name="P", language="python")


def ran(status: str, days_ago: float, failed: int | None = None) -> RunSummary:
    error = "ZeroDivisionError: division by zero" if failed is not None else None
    return RunSummary(status, NOW - timedelta(days=days_ago), failed, error)


@pytest.mark.parametrize(
    ("static", "last_run", "changed", "expected"),
    [
        ("ok", None, False, "never-run"),
        ("ok", ran("ok", 1), False, "ok"),
        ("ok", ran("ok", 40), False, "stale"),
        ("ok", ran("ok", 1), True, "stale"),
        ("ok", ran("error", 1, 3), False, "failing"),
        ("ok", ran("timeout", 1, 3), False, "failing"),
        ("ok", ran("cancelled", 1), False, "never-run"),
        ("missing-deps", ran("ok", 1), False, "missing-deps"),
        ("kernel-missing", None, False, "kernel-missing"),
        ("missing-files", ran("ok", 1), False, "missing-files"),
    ],
)
def test_health_status_from_the_static_report_and_the_last_run(
    static: str, last_run: RunSummary | None, changed: bool, expected: str
) -> None:
    report = HealthReport(status=static, kernel=None, kernel_display_name=None, language=None)
    assert health_status(report, last_run, changed, 30, now=NOW) == expected


def test_no_age_limit_never_makes_a_success_stale() -> None:
    assert health_status(OK_STATIC, ran("ok", 10_000), False, math.inf, now=NOW) == "ok"


def test_status_details_count_cells_from_one() -> None:
    detail = status_detail("failing", OK_STATIC, ran("error", 1, 3))
    assert detail == "failing (cell 4: ZeroDivisionError: division by zero)"


def test_a_run_result_gives_its_summary(tmp_path: Path) -> None:
    result = run_notebook(nb_data(["1/0"]), cwd=tmp_path, record_path=tmp_path / "r.ipynb",
                          kernel=own_kernel())
    summary = result.summary()
    assert (summary.status, summary.failed_cell) == ("error", 1)
    assert health_status(OK_STATIC, summary, False, 30) == "failing"


def test_a_health_run_stopped_with_ctrl_c_says_it_was_cancelled(tmp_path: Path) -> None:
    import json
    import os
    import signal
    import subprocess
    import time

    from nbshelf.library import Library

    share = tmp_path / "share"
    write_notebook(share / "slow.ipynb", title="Slow", code=["import time\ntime.sleep(120)"])
    write_notebook(share / "quick.ipynb", title="Quick", code=["x = 1"])
    library = tmp_path / "library"
    with Library.open(library) as lib:
        lib.add_source(share, name="team")
        lib.sync()
    env = {k: v for k, v in os.environ.items() if k != "NBSHELF_LIBRARY"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbshelf", "--library", str(library), "health", "--run",
         "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    running = False
    while not running and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        with Library.open(library, readonly=True) as reader:
            running = any(r.status == "running" for r in reader.runs("team:slow.ipynb"))
    assert running, "the slow notebook never started"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "health run cancelled" in err and "internal error" not in err
    assert json.loads(out)["cancelled"] is True
