"""Running notebooks in a real ipykernel: outputs, failures, timeouts, cancels, kills, records."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from nbshelf.run.execution import CellEvent, RunResult, remove_stale_kernel_folders, run_notebook
from nbshelf.run.kernels import KernelChoice, choose_kernel
from nbshelf.run.parameters import INJECTED_TAG
from tests.helpers import make_notebook


@pytest.fixture(scope="module")
def kernel() -> KernelChoice:
    return choose_kernel("python3", "python")


def nb_bytes(nb: nbformat.NotebookNode) -> bytes:
    return nbformat.writes(nb).encode("utf-8")


def run(
    tmp_path: Path, nb: nbformat.NotebookNode, kernel: KernelChoice, **kw: Any
) -> tuple[RunResult, list[CellEvent]]:
    events: list[CellEvent] = []
    kw.setdefault("cwd", tmp_path)
    result = run_notebook(
        nb_bytes(nb), record_path=tmp_path / "runs" / "record.ipynb", kernel=kernel,
        on_event=events.append, **kw,
    )
    return result, events


def read_record(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


BANNER_TAG = "papermill-error-cell-tag"


def without_banners(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The record's cells without papermill's error banners (a failed run has two)."""
    return [c for c in record["cells"] if BANNER_TAG not in c["metadata"].get("tags", [])]


def text_of(cell: dict[str, Any]) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append("".join(out["text"]))
        elif "data" in out:
            parts.append("".join(out["data"].get("text/plain", "")))
    return "".join(parts)


def pid_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (dead, waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def kernel_pid(events: list[CellEvent]) -> int:
    """The pid the first cell printed (cells below start with `import os; print(os.getpid())`)."""
    for event in events:
        if event.kind == "output" and event.output and event.output.get("name") == "stdout":
            match = re.search(r"pid=(\d+)", "".join(event.output["text"]))
            if match:
                return int(match.group(1))
    raise AssertionError("no cell printed the kernel's pid")


PRINT_PID = "import os\nprint(f'pid={os.getpid()}', flush=True)"


def test_a_working_notebook_records_its_outputs(tmp_path: Path, kernel: KernelChoice) -> None:
    nb = make_notebook(code=["x = 6 * 7\nprint('hello from the kernel')", "x", "   "])
    original = nb_bytes(nb)
    result, events = run(tmp_path, nb, kernel)

    assert result.status == "ok" and result.ok
    assert (result.cells_run, result.failed_cell, result.error) == (2, None, None)
    assert result.kernel == "python3"
    assert result.started <= result.ended
    assert nb_bytes(nb) == original  # the notebook given is never modified

    record = read_record(result.record)
    cells = record["cells"]
    assert "hello from the kernel" in text_of(cells[1])
    assert text_of(cells[2]) == "42"
    assert cells[2]["execution_count"] == 2
    run_meta = record["metadata"]["nbshelf"]["run"]
    assert run_meta["status"] == "ok" and run_meta["cells_run"] == 2 and run_meta["ended"]
    assert record["metadata"]["language_info"]["name"] == "python"
    nbformat.validate(nbformat.reads(result.record.read_text(encoding="utf-8"), 4))

    kinds = [(e.kind, e.index) for e in events]
    assert kinds == [
        ("started", 1), ("output", 1), ("finished", 1),
        ("started", 2), ("output", 2), ("finished", 2),
    ]
    assert events[-1].outputs[0]["data"]["text/plain"] == "42"
    assert result.to_json()["record"] == str(result.record)


def test_a_failure_at_cell_3_stops_there_and_keeps_cells_1_and_2(
    tmp_path: Path, kernel: KernelChoice
) -> None:
    code = ["print('one')", "print('two')", "1 / 0", "print('four')"]
    seen_before_cell_3: list[dict[str, Any]] = []
    record_path = tmp_path / "runs" / "record.ipynb"

    def on_event(event: CellEvent) -> None:
        if event.kind == "started" and event.index == 3:  # the record is written per cell
            seen_before_cell_3.append(read_record(record_path))

    result = run_notebook(
        nb_bytes(make_notebook(code=code)), cwd=tmp_path, record_path=record_path,
        kernel=kernel, on_event=on_event,
    )
    assert result.status == "error"
    assert result.failed_cell == 3  # the title is cell 0; "1 / 0" is the third code cell
    assert result.cells_run == 3
    assert result.error == "ZeroDivisionError: division by zero"
    assert result.traceback is not None
    assert "ZeroDivisionError" in result.traceback and "1 / 0" in result.traceback
    assert "\x1b[" not in result.traceback  # plain text, no terminal colours

    # papermill's banners: one on top, one just before the failing cell (issue 14)
    banners = [i for i, c in enumerate(read_record(record_path)["cells"])
               if BANNER_TAG in c["metadata"].get("tags", [])]
    assert banners == [0, 4]
    cells = without_banners(read_record(record_path))
    assert [text_of(c) for c in cells[1:3]] == ["one\n", "two\n"]
    assert cells[3]["outputs"][0]["ename"] == "ZeroDivisionError"
    assert cells[4]["outputs"] == [] and cells[4]["execution_count"] is None  # never ran
    meta = read_record(record_path)["metadata"]["nbshelf"]["run"]
    assert (meta["status"], meta["failed_cell"]) == ("error", 3)
    assert "ZeroDivisionError" in meta["traceback"]

    (before,) = seen_before_cell_3
    assert [text_of(c) for c in before["cells"][1:3]] == ["one\n", "two\n"]
    assert before["metadata"]["nbshelf"]["run"]["status"] == "running"


def test_without_stop_on_error_the_run_goes_on(tmp_path: Path, kernel: KernelChoice) -> None:
    nb = make_notebook(code=["1 / 0", "print('after')"])
    result, events = run(tmp_path, nb, kernel, stop_on_error=False)
    assert (result.status, result.failed_cell, result.cells_run) == ("error", 1, 2)
    assert "after" in text_of(without_banners(read_record(result.record))[2])
    assert [e.kind for e in events if e.kind in ("error", "finished")] == ["error", "finished"]


def test_raises_exception_cells_are_expected_to_fail(tmp_path: Path, kernel: KernelChoice) -> None:
    nb = make_notebook(code=["raise ValueError('shown on purpose')", "print('next')"])
    nb.cells[1].metadata["tags"] = ["raises-exception"]
    result, _ = run(tmp_path, nb, kernel)
    assert result.status == "ok" and result.cells_run == 2


def test_parameters_are_injected_after_the_parameters_cell_and_typed(
    tmp_path: Path, kernel: KernelChoice
) -> None:
    nb = make_notebook(code=[
        "alpha = 0.5\nn = 3\nregion = 'north'\nverbose = False",
        "print(type(alpha).__name__, alpha, n * 2, region, verbose)",
        "1 / 0",
    ])
    nb.cells[1].metadata["tags"] = ["parameters"]
    result, events = run(
        tmp_path, nb, kernel,
        parameters={"alpha": "0.75", "n": "4", "region": "south 'quoted'", "verbose": "true"},
    )
    assert result.parameters == {
        "alpha": 0.75, "n": 4, "region": "south 'quoted'", "verbose": True,
    }
    cells = without_banners(read_record(result.record))
    injected = cells[2]
    assert injected["metadata"]["tags"] == [INJECTED_TAG]
    assert "".join(injected["source"]).startswith("# Parameters\n")
    assert text_of(cells[3]) == "float 0.75 8 south 'quoted' True\n"
    # indices stay those of the notebook given: the injected cell has none
    assert result.failed_cell == 3 and result.cells_run == 3
    assert [e.index for e in events if e.kind == "started"] == [1, None, 2, 3]
    record = read_record(result.record)
    assert record["metadata"]["papermill"]["parameters"]["n"] == 4
    # its index in the record as written: papermill's banner on top moved it down by one
    assert record["metadata"]["nbshelf"]["run"]["injected_cell"] == 3
    assert record["cells"][3]["metadata"]["tags"] == [INJECTED_TAG]


def test_the_kernel_runs_in_the_folder_given(tmp_path: Path, kernel: KernelChoice) -> None:
    folder = tmp_path / "share" / "project"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "x.csv").write_text("a,b\n1,2\n")
    nb = make_notebook(code=["print(open('data/x.csv').read().splitlines()[1])"])
    result, _ = run(tmp_path, nb, kernel, cwd=folder)
    assert result.status == "ok"
    assert text_of(read_record(result.record)["cells"][1]) == "1,2\n"


def test_a_cell_timeout_stops_the_run_and_kills_the_kernel(
    tmp_path: Path, kernel: KernelChoice
) -> None:
    nb = make_notebook(code=[PRINT_PID, "import time\ntime.sleep(60)", "print('never')"])
    start = time.monotonic()
    result, events = run(tmp_path, nb, kernel, cell_timeout=1.5)
    assert time.monotonic() - start < 20
    assert (result.status, result.failed_cell, result.cells_run) == ("timeout", 2, 2)
    assert result.error is not None and "1.5 s" in result.error
    assert events[-1].kind == "error" and events[-1].index == 2
    assert read_record(result.record)["metadata"]["nbshelf"]["run"]["status"] == "timeout"
    assert wait_gone(kernel_pid(events), 1.0)


def cancel_from_another_thread(
    tmp_path: Path, kernel: KernelChoice, nb: nbformat.NotebookNode
) -> tuple[RunResult, list[CellEvent], float]:
    """Run on a worker thread, as the UI does, and cancel from this thread mid-cell."""
    cancel = threading.Event()
    sleeping = threading.Event()
    events: list[CellEvent] = []
    results: list[RunResult] = []

    def on_event(event: CellEvent) -> None:
        events.append(event)
        if event.kind == "output" and event.index == 2:  # the cell is in its sleep
            sleeping.set()

    def worker() -> None:
        results.append(run_notebook(
            nb_bytes(nb), cwd=tmp_path, record_path=tmp_path / "record.ipynb", kernel=kernel,
            on_event=on_event, cancel=cancel,
        ))

    thread = threading.Thread(target=worker)
    thread.start()
    assert sleeping.wait(30)
    start = time.monotonic()
    cancel.set()
    thread.join(30)
    assert not thread.is_alive()
    return results[0], events, time.monotonic() - start


def test_cancel_interrupts_the_running_cell(tmp_path: Path, kernel: KernelChoice) -> None:
    nb = make_notebook(code=[
        PRINT_PID, "import time\nprint('sleeping', flush=True)\ntime.sleep(60)", "print('never')",
    ])
    result, events, took = cancel_from_another_thread(tmp_path, kernel, nb)
    assert took < 5
    assert (result.status, result.failed_cell, result.cells_run) == ("cancelled", 2, 2)
    cell = read_record(result.record)["cells"][2]
    assert any(o.get("ename") == "KeyboardInterrupt" for o in cell["outputs"])  # interrupted
    assert events[-1].kind == "error" and events[-1].index == 2
    assert wait_gone(kernel_pid(events), 1.0)


def test_a_cell_that_ignores_the_interrupt_is_killed(
    tmp_path: Path, kernel: KernelChoice, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("nbshelf.run.execution.INTERRUPT_GRACE", 0.5)
    nb = make_notebook(code=[
        PRINT_PID,
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "print('deaf', flush=True)\ntime.sleep(60)",
    ])
    result, events, took = cancel_from_another_thread(tmp_path, kernel, nb)
    assert took < 5
    assert (result.status, result.failed_cell) == ("cancelled", 2)
    assert wait_gone(kernel_pid(events), 1.0)


def test_a_kernel_that_dies_mid_cell_is_an_error(tmp_path: Path, kernel: KernelChoice) -> None:
    nb = make_notebook(code=[PRINT_PID, "import os\nos._exit(3)", "print('never')"])
    result, events = run(tmp_path, nb, kernel)
    assert (result.status, result.failed_cell, result.cells_run) == ("error", 2, 2)
    assert result.error is not None and result.error.startswith("DeadKernelError:")
    assert wait_gone(kernel_pid(events), 1.0)


def test_a_cancel_before_the_start_runs_nothing(tmp_path: Path, kernel: KernelChoice) -> None:
    cancel = threading.Event()
    cancel.set()
    result, events = run(tmp_path, make_notebook(), kernel, cancel=cancel)
    assert (result.status, result.cells_run, events) == ("cancelled", 0, [])
    assert read_record(result.record)["metadata"]["nbshelf"]["run"]["status"] == "cancelled"


def test_a_kernel_that_cannot_start_is_a_failed_run(tmp_path: Path) -> None:
    broken = KernelChoice(
        name="broken", display_name="Broken", language="python",
        argv=(str(tmp_path / "no-such-python"), "-f", "{connection_file}"),
    )
    result, _ = run(tmp_path, make_notebook(), broken)
    assert result.status == "error" and result.failed_cell is None
    assert result.error is not None and result.error.startswith("KernelStartError:")
    assert "Broken (broken)" in result.error


RUNNER = """
import sys
from pathlib import Path
from nbshelf.run.kernels import choose_kernel
from nbshelf.run.execution import run_notebook

def on_event(event):
    print(event.kind, event.index, flush=True)

run_notebook(
    Path(sys.argv[1]).read_bytes(), cwd=Path(sys.argv[2]), record_path=Path(sys.argv[3]),
    kernel=choose_kernel("python3", "python"), on_event=on_event,
)
"""


def test_killing_the_runner_leaves_a_partial_record_and_no_kernel(tmp_path: Path) -> None:
    # The last cell holds the GIL in one C call: ipykernel's parent poller (a thread that
    # checks once a second) cannot run, so only the kernel dying with its parent helps.
    nb = make_notebook(code=[PRINT_PID, "print('two')", "sum(range(10**13))", "print('four')"])
    source = tmp_path / "nb.ipynb"
    source.write_bytes(nb_bytes(nb))
    script = tmp_path / "runner.py"
    script.write_text(RUNNER)
    record = tmp_path / "record.ipynb"
    runner = subprocess.Popen(
        [sys.executable, str(script), str(source), str(tmp_path), str(record)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert runner.stdout is not None
        for line in runner.stdout:
            if line.strip() == "started 3":
                break
        else:
            pytest.fail("the runner ended before the third cell")
        time.sleep(0.3)  # the kernel is now in sum()
        cells = read_record(record)["cells"]
        match = re.search(r"pid=(\d+)", text_of(cells[1]))
        assert match is not None
        pid = int(match.group(1))
        assert pid_alive(pid)
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        if runner.stdout is not None:
            runner.stdout.close()

    assert wait_gone(pid, 3.0), "the kernel outlived its runner"
    data = read_record(record)
    assert data["metadata"]["nbshelf"]["run"]["status"] == "running"  # never finished
    assert [text_of(c) for c in data["cells"][2:3]] == ["two\n"]
    assert data["cells"][3]["outputs"] == [] and data["cells"][4]["outputs"] == []
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".record.ipynb.")]
    assert leftovers == []  # atomic writes leave no half-written record
    # the killed runner's kernel folder (connection file, sockets) goes at the next start
    remove_stale_kernel_folders()
    assert not list(Path(tempfile.gettempdir()).glob(f"nbshelf-kernel-{runner.pid}-*"))


def test_no_kernel_process_is_left_after_runs(tmp_path: Path, kernel: KernelChoice) -> None:
    import psutil

    def kernels() -> set[int]:
        me = psutil.Process(os.getpid())
        return {p.pid for p in me.children(recursive=True) if pid_alive(p.pid)}

    before = kernels()
    run(tmp_path, make_notebook(code=["1 / 0"]), kernel)
    assert kernels() == before


@pytest.mark.corpus
def test_a_corpus_notebook_runs(tmp_path: Path, corpus: Path) -> None:
    # numpy and the standard library only; no files read or written
    path = corpus / "jakevdp-pythondatasciencehandbook" / "notebooks"
    path = path / "02.01-Understanding-Data-Types.ipynb"
    if not path.is_file():
        pytest.skip(f"{path.name} is not in this corpus")
    pytest.importorskip("numpy")
    from nbshelf.notebook import parse_notebook

    data = path.read_bytes()
    summary = parse_notebook(data, path.name).summary
    result = run_notebook(
        data, cwd=tmp_path, record_path=tmp_path / "record.ipynb",
        kernel=choose_kernel(summary.kernel_name, summary.language), cell_timeout=120,
    )
    assert result.status == "ok", result.error
    assert result.cells_run == summary.n_code
    cells = read_record(result.record)["cells"]
    assert sum(1 for c in cells if c.get("outputs")) > 5
    assert path.read_bytes() == data


def test_the_record_of_a_v3_notebook_is_a_v4_notebook(tmp_path: Path, kernel: KernelChoice) -> None:
    v3 = {
        "nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "old"},
        "worksheets": [{"cells": [
            {"cell_type": "code", "input": "print('old but runs')", "language": "python",
             "outputs": [], "metadata": {}},
        ], "metadata": {}}],
    }
    result = run_notebook(
        json.dumps(v3).encode(), cwd=tmp_path, record_path=tmp_path / "r.ipynb", kernel=kernel,
    )
    assert result.status == "ok"
    record = read_record(result.record)
    assert record["nbformat"] == 4
    assert text_of(record["cells"][0]) == "old but runs\n"


def test_a_long_cell_streams_outputs_before_it_ends(tmp_path: Path, kernel: KernelChoice) -> None:
    code = textwrap.dedent("""
        import time
        for i in range(3):
            print(i, flush=True)
            time.sleep(0.3)
    """)
    stamps: list[tuple[str, float]] = []
    run_notebook(
        nb_bytes(make_notebook(code=[code])), cwd=tmp_path, record_path=tmp_path / "r.ipynb",
        kernel=kernel, on_event=lambda e: stamps.append((e.kind, time.monotonic())),
    )
    outputs = [t for kind, t in stamps if kind == "output"]
    finished = next(t for kind, t in stamps if kind == "finished")
    assert len(outputs) >= 2 and finished - outputs[0] > 0.4
