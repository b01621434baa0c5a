"""Run and health benchmark (issue 4, "Speed").

1. Time to first output: from the ``run_notebook`` call to the first cell's first output,
   beside a bare kernel start to its first reply (``KernelManager.start_kernel`` and a client
   until the ``kernel_info`` reply) with the same kernelspec, interleaved in the same process
   (median of the rounds). Target: within 0.3 s of the bare start.
2. Static health ("will it run here?") over every notebook of the corpus: cold (empty cache,
   every file read, parsed, every kernel's Python asked) and warm (the on-disk cache of a
   previous check, as a new process of the app finds it; content hashes known, as the catalog
   knows them), plus warm with the files read and hashed again, and warm in memory. Target:
   warm ≤ 5 s.

The corpus is only read. Kernel sockets and the health cache go under bench/_work/.

Usage:
    python bench/run.py [--rounds 5] [--kernel python3] [--only start|health]
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbformat import v4

from nbshelf.health.checks import HealthChecker, HealthInput
from nbshelf.run.execution import CellEvent, run_notebook
from nbshelf.run.kernels import choose_kernel, get_kernel

try:  # run as `python bench/run.py` (bench/ on sys.path) or imported as bench.run
    from generate import WORK_DIR, corpus_dir, notebook_files
    from tables import header, row
except ModuleNotFoundError:
    from bench.generate import WORK_DIR, corpus_dir, notebook_files
    from bench.tables import header, row

TARGET_START_GAP = 0.3
TARGET_HEALTH_WARM = 5.0


def bare_start(kernel_name: str, work: Path) -> float:
    """Seconds from ``start_kernel`` to the first ``kernel_info`` reply; the kernel is stopped."""
    folder = Path(tempfile.mkdtemp(prefix="bare-", dir=work))
    km = KernelManager(
        kernel_name=kernel_name, transport="ipc", ip=str(folder / "k"),
        connection_file=str(folder / "kernel.json"),
    )
    start = time.perf_counter()
    km.start_kernel(cwd=str(work))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)  # sends kernel_info until it is answered
        elapsed = time.perf_counter() - start
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
        shutil.rmtree(folder, ignore_errors=True)
    return elapsed


def run_to_first_output(kernel_name: str, work: Path, data: bytes) -> tuple[float, float]:
    """(seconds to the first output event, seconds for the whole run) of ``run_notebook``."""
    first = threading.Event()
    stamp: list[float] = []

    def on_event(event: CellEvent) -> None:
        if event.kind == "output" and not first.is_set():
            stamp.append(time.perf_counter())
            first.set()

    start = time.perf_counter()
    result = run_notebook(
        data, cwd=work, record_path=work / "record.ipynb",
        kernel=get_kernel(kernel_name), on_event=on_event,
    )
    total = time.perf_counter() - start
    if result.status != "ok" or not stamp:
        raise SystemExit(f"the benchmark notebook did not run: {result.status} {result.error}")
    return stamp[0] - start, total


def bench_start(kernel_name: str, rounds: int, work: Path) -> list[str]:
    nb = v4.new_notebook(metadata={"kernelspec": {"name": kernel_name, "display_name": "",
                                                  "language": "python"}})
    nb.cells = [v4.new_markdown_cell("# bench"), v4.new_code_cell("print('first output')")]
    data = nbformat.writes(nb).encode()
    bare_start(kernel_name, work)  # warm the page cache for the kernel's imports
    bare, first, whole = [], [], []
    for _ in range(rounds):
        bare.append(bare_start(kernel_name, work))
        to_first, total = run_to_first_output(kernel_name, work, data)
        first.append(to_first)
        whole.append(total)
    gap = statistics.median(first) - statistics.median(bare)
    cols = [("measure", 44), ("median s", 8), ("min s", 6), ("max s", 6)]
    lines = [f"Time to first output, kernel '{kernel_name}', {rounds} rounds interleaved"]
    lines += header(cols)
    for label, values in (
        ("bare kernel start to kernel_info reply", bare),
        ("run_notebook call to first cell output", first),
        ("run_notebook whole run (incl. shutdown)", whole),
    ):
        lines.append(row(cols, [label, f"{statistics.median(values):.3f}",
                                 f"{min(values):.3f}", f"{max(values):.3f}"]))
    verdict = "ok" if gap <= TARGET_START_GAP else "MISS"
    lines.append(f"gap (median first output - median bare start): {gap:+.3f} s "
                 f"(target <= {TARGET_START_GAP} s: {verdict})")
    return lines


def bench_health(corpus: Path, work: Path) -> list[str]:
    files = sorted(notebook_files(corpus))
    cache = work / "health-cache"
    shutil.rmtree(cache, ignore_errors=True)

    def inputs_reading() -> list[HealthInput]:
        items = []
        for path in files:
            data = path.read_bytes()
            items.append(HealthInput(hashlib.sha256(data).hexdigest(), path.read_bytes,
                                     path.parent, path.name))
        return items

    start = time.perf_counter()
    items = inputs_reading()
    reports = HealthChecker(cache_dir=cache).check(items)
    cold = time.perf_counter() - start

    known = [HealthInput(i.content_hash, _unexpected_read, i.folder, i.name) for i in items]
    warm_runs = []
    for _ in range(3):
        start = time.perf_counter()
        warm_reports = HealthChecker(cache_dir=cache).check(known)
        warm_runs.append(time.perf_counter() - start)
    assert warm_reports == reports, "the warm check disagrees with the cold one"

    start = time.perf_counter()
    HealthChecker(cache_dir=cache).check(inputs_reading())
    warm_hashing = time.perf_counter() - start

    checker = HealthChecker(cache_dir=cache)
    checker.check(known)
    start = time.perf_counter()
    checker.check(known)
    in_memory = time.perf_counter() - start

    warm = statistics.median(warm_runs)
    mb = sum(p.stat().st_size for p in files) / 1e6
    cols = [("health check of the corpus", 52), ("s", 6), ("nb/s", 7)]
    lines = [f"Static health of {len(files):,} notebooks ({mb:,.1f} MB) in {corpus}"]
    lines += header(cols)
    for label, seconds in (
        ("cold: read, hash, parse, ask each kernel's Python", cold),
        ("warm: on-disk cache, hashes known (median of 3)", warm),
        ("warm: on-disk cache, every file read and hashed", warm_hashing),
        ("warm: same checker, in memory", in_memory),
    ):
        lines.append(row(cols, [label, f"{seconds:.2f}", f"{len(files) / seconds:,.0f}"]))
    verdict = "ok" if warm <= TARGET_HEALTH_WARM else "MISS"
    lines.append(f"warm target <= {TARGET_HEALTH_WARM:g} s: {verdict}; "
                 f"cache file {(cache / 'health-cache.json').stat().st_size / 1e3:,.0f} KB")
    counts = Counter(r.status for r in reports)
    lines.append("statuses: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    modules = Counter(m for r in reports for m in r.missing_modules)
    lines.append("most missing modules: "
                 + ", ".join(f"{k} ({v})" for k, v in modules.most_common(8)))
    return lines


def _unexpected_read() -> bytes:
    raise AssertionError("a warm check read a notebook whose facts are cached")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kernel", default=None, help="kernelspec name (default: python3)")
    parser.add_argument("--only", choices=["start", "health"])
    args = parser.parse_args()

    work = WORK_DIR / "run"
    work.mkdir(parents=True, exist_ok=True)
    kernel_name = args.kernel or choose_kernel("python3", "python").name
    print(f"python {platform.python_version()} on {platform.platform()}; "
          f"{sys.executable}")
    lines: list[str] = []
    if args.only in (None, "start"):
        lines += bench_start(kernel_name, args.rounds, work) + [""]
    if args.only in (None, "health"):
        corpus = corpus_dir()
        if corpus is None:
            lines.append("health: no corpus found (set NBSHELF_CORPUS)")
        else:
            lines += bench_health(corpus, work)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
