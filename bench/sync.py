"""Sync benchmark (issue 7, acceptance point 3).

For each tree (the corpus, a generated 10,000-notebook tree, optionally 50,000), in one run:

* first sync into a fresh library, beside a raw read (open + read) of the same files;
* re-sync with nothing changed (median of several runs), beside a bare ``os.scandir`` walk of
  the same tree without and with a stat of each notebook, interleaved so that both see the
  same cache state; the re-sync is watched to prove it reads no notebook content;
* re-sync after 10 notebooks changed (5 touched, 5 edited).

Syncs run with ``index=False``: this measures the sync itself (issue 7); the search index
catching up is the search benchmark's business. With ``--index`` the index is built after the
first sync and the no-change re-sync is also timed as the app and CLI run it (index=True),
beside ``nbshelf sync --json`` in a fresh process.

The shared corpus is never modified: the benchmark syncs a private copy under bench/_work/,
and generated trees are restored (bytes and mtimes) after the "10 changed" step, so they stay
reusable by the other benchmarks.

Usage:
    python bench/sync.py [--big] [--only corpus|10k|50k] [--rounds 7] [--index] [--profile]
"""

from __future__ import annotations

import argparse
import builtins
import cProfile
import inspect
import io
import json
import os
import platform
import pstats
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nbshelf
import nbshelf.sources.sync as nbsync
from nbshelf.library import Library
from nbshelf.records import SyncReport

try:  # run as `python bench/sync.py` (bench/ on sys.path) or imported as bench.sync
    from generate import WORK_DIR, copy_corpus, corpus_dir, generate_tree, notebook_files
    from tables import header, row
except ModuleNotFoundError:
    from bench.generate import WORK_DIR, copy_corpus, corpus_dir, generate_tree, notebook_files
    from bench.tables import header, row

TREES = {"corpus": 0, "10k": 10_000, "50k": 50_000}
TARGET_RATIO = 3.0
#: Sync without updating the search index, where this nbshelf has that switch.
SYNC_ONLY: dict[str, Any] = (
    {"index": False} if "index" in inspect.signature(Library.sync).parameters else {}
)
MB = 1e6  # decimal megabytes throughout


# -- the machine -----------------------------------------------------------------------------


def machine_lines(trees: list[Path]) -> list[str]:
    """CPU, cores, RAM, disk, versions and load: what the numbers depend on."""
    cpu = _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "?"
    mem_kb = int((_proc_field("/proc/meminfo", "MemTotal") or "0 kB").split()[0])
    usable = len(os.sched_getaffinity(0))
    disks = sorted({_mount_of(t) for t in trees})
    return [
        f"date     {datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"machine  {cpu}, {os.cpu_count()} cores ({usable} usable), "
        f"{mem_kb / 2**20:.1f} GiB RAM, Linux {platform.release()}",
        f"disk     {', '.join(disks)}",
        f"software Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"nbshelf {nbshelf.__version__} at {_nbshelf_commit()}",
        f"load     {_loadavg()} (1/5/15 min) at start",
    ]


def _nbshelf_commit() -> str:
    """The commit of the nbshelf being measured, and whether its code differs from it."""
    repo = str(Path(nbshelf.__file__).resolve().parent.parent)
    git = shutil.which("git")
    if git is None:
        return "an unknown commit"
    try:
        head = _output([git, "-C", repo, "rev-parse", "--short", "HEAD"])
        dirty = _output([git, "-C", repo, "status", "--porcelain", "--", "nbshelf"])
    except (OSError, subprocess.CalledProcessError):
        return "an unknown commit"
    return f"{head}{' + uncommitted changes in nbshelf/' if dirty else ''}"


def _output(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def _proc_field(path: str, key: str) -> str | None:
    try:
        with open(path) as handle:
            for line in handle:
                name, _, value = line.partition(":")
                if name.strip() == key:
                    return value.strip()
    except OSError:
        return None
    return None


def _mount_of(path: Path) -> str:
    """The filesystem that holds ``path`` (device, mount point, type), from /proc/mounts."""
    real = os.path.realpath(path)
    best = ("?", "/", "?")
    try:
        with open("/proc/mounts") as handle:
            for line in handle:
                dev, mount, fstype = line.split()[:3]
                inside = real == mount or real.startswith(mount.rstrip("/") + "/")
                if inside and len(mount) >= len(best[1]):
                    best = (dev, mount, fstype)
    except OSError:
        pass
    return f"{best[2]} on {best[0]} (mounted at {best[1]})"


def _loadavg() -> str:
    try:
        with open("/proc/loadavg") as handle:
            return " ".join(handle.read().split()[:3])
    except OSError:
        return "?"


def proc_io() -> dict[str, int]:
    """This process's I/O counters: rchar counts every byte read(), cached or not."""
    counters: dict[str, int] = {}
    try:
        with open("/proc/self/io") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                counters[key] = int(value)
    except OSError:
        pass
    return counters


# -- the baselines ----------------------------------------------------------------------------


def evict(files: list[Path]) -> None:
    """Drop these files' pages from the page cache, so the next read comes from the disk.

    ``posix_fadvise(DONTNEED)`` on each file is targeted: dropping the whole cache
    (/proc/sys/vm/drop_caches) would slow everyone else on this shared machine. It skips
    dirty pages, so a freshly generated file is flushed first (cheap when already clean).
    """
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fdatasync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def raw_read(files: list[Path]) -> tuple[float, int]:
    """Seconds to open and read every file whole, and the bytes read."""
    total = 0
    started = time.perf_counter()
    for path in files:
        with open(path, "rb") as handle:
            total += len(handle.read())
    return time.perf_counter() - started, total


def bare_walk(root: Path, *, with_stat: bool) -> tuple[float, int]:
    """Seconds for a recursive ``os.scandir`` walk, and the notebooks it found.

    It follows nbshelf's rules (hidden names skipped, no symlinks followed) so that both
    visit the same folders; with ``with_stat`` it also takes each notebook's (size, mtime,
    inode), which change detection cannot do without.
    """
    found: list[tuple[str, int, int, int]] = []
    started = time.perf_counter()
    stack = [str(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif name.lower().endswith(".ipynb"):
                    if with_stat:
                        st = entry.stat(follow_symlinks=False)
                        found.append((entry.path, st.st_size, st.st_mtime_ns, st.st_ino))
                    else:
                        found.append((entry.path, 0, 0, 0))
    return time.perf_counter() - started, len(found)


# -- watching a sync for content reads -------------------------------------------------------


@dataclass
class ReadWatch:
    """What a sync opened and read while watched."""

    opened: list[str] = field(default_factory=list)  # tree paths opened by Python code
    read_stable: int = 0  # calls of nbshelf.sources.sync.read_stable, the one content reader
    parsed: int = 0  # calls of nbshelf.sources.sync.parse_notebook
    rchar: int = 0  # bytes read() by the process, any file (SQLite included)


@contextmanager
def watch_reads(tree: Path) -> Iterator[ReadWatch]:
    """Count, in this process, every open of a file in ``tree`` and every content read.

    ``builtins.open``/``io.open``/``os.open`` are wrapped (Python-level opens: nbshelf reads
    notebooks with ``open``), and nbshelf's own reader and parser are counted. rchar from
    /proc/self/io is an independent check that also sees C-level reads.
    """
    watch = ReadWatch()
    prefix = str(tree.resolve())
    real_open, real_os_open = builtins.open, os.open
    real_read_stable, real_parse = nbsync.read_stable, nbsync.parse_notebook

    def note(path: Any) -> None:
        # Only the tree counts: the library's own blobs are .ipynb files too.
        text = os.fsdecode(path) if isinstance(path, str | bytes | os.PathLike) else ""
        if os.path.abspath(text).startswith(prefix + os.sep):
            watch.opened.append(text)

    def counting_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        note(file)
        return real_open(file, *args, **kwargs)

    def counting_os_open(path: Any, *args: Any, **kwargs: Any) -> int:
        note(path)
        return real_os_open(path, *args, **kwargs)

    def counting_read_stable(path: str) -> Any:
        watch.read_stable += 1
        return real_read_stable(path)

    def counting_parse(*args: Any, **kwargs: Any) -> Any:
        watch.parsed += 1
        return real_parse(*args, **kwargs)

    before = proc_io().get("rchar", 0)
    builtins.open = io.open = counting_open  # type: ignore[assignment]
    os.open = counting_os_open  # type: ignore[assignment]
    nbsync.read_stable = counting_read_stable  # type: ignore[assignment]
    nbsync.parse_notebook = counting_parse  # type: ignore[assignment]
    try:
        yield watch
    finally:
        builtins.open = io.open = real_open
        os.open = real_os_open
        nbsync.read_stable = real_read_stable
        nbsync.parse_notebook = real_parse
        watch.rchar = proc_io().get("rchar", 0) - before


#: The steps of a sync, timed during the no-change re-syncs to show where the time goes.
#: They are nbshelf internals: a name that no longer exists is simply not timed.
PHASES: list[tuple[Any, str, str]] = [
    (nbsync, "scan_tree", "scan_tree"),
    (nbsync.SourceSync, "_known", "SourceSync._known"),
    (nbsync.SourceSync, "_copy_changed", "SourceSync._copy_changed"),
    (nbsync.SourceSync, "_mark_removed", "SourceSync._mark_removed"),
    (nbsync.SourceSync, "_finish", "SourceSync._finish"),
    (Library, "problems", "Library.problems"),
]


@contextmanager
def time_phases(into: dict[str, list[float]]) -> Iterator[None]:
    """Add the seconds each phase took (summed per sync) to ``into``."""
    found = [(owner, name, label) for owner, name, label in PHASES if hasattr(owner, name)]
    originals = [getattr(owner, name) for owner, name, _ in found]
    spent: Counter[str] = Counter()

    def timed(real: Any, label: str) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started

        return wrapper

    for (owner, name, label), real in zip(found, originals, strict=True):
        setattr(owner, name, timed(real, label))
    try:
        yield
    finally:
        for (owner, name, _), real in zip(found, originals, strict=True):
            setattr(owner, name, real)
        for _, _, label in found:
            into.setdefault(label, []).append(spent[label])


# -- one tree ---------------------------------------------------------------------------------


@dataclass
class Measured:
    """Everything measured on one tree."""

    label: str
    notebooks: int = 0
    bytes: int = 0
    raw_cold: float = 0.0
    raw_warm: float = 0.0
    cold_disk_mb: float = 0.0  # read_bytes during the cold raw read: proof it was cold
    first_sync: float = 0.0
    first_report: SyncReport | None = None
    walk: list[float] = field(default_factory=list)
    walk_stat: list[float] = field(default_factory=list)
    resync: list[float] = field(default_factory=list)
    cpu_walk_stat: list[float] = field(default_factory=list)  # process CPU seconds
    cpu_resync: list[float] = field(default_factory=list)
    resync_watch: list[ReadWatch] = field(default_factory=list)
    resync_counts: set[tuple[tuple[str, int], ...]] = field(default_factory=set)
    phases: dict[str, list[float]] = field(default_factory=dict)
    changed: list[float] = field(default_factory=list)
    changed_watch: list[ReadWatch] = field(default_factory=list)
    changed_reports: list[SyncReport] = field(default_factory=list)
    index_build: float | None = None
    resync_indexed: list[float] = field(default_factory=list)
    cli_resync: list[float] = field(default_factory=list)


def bench_tree(label: str, tree: Path, args: argparse.Namespace) -> Measured:
    """Run every measurement on one tree, in a fresh temporary library."""
    m = Measured(label)
    files = sorted(notebook_files(tree))
    m.notebooks = len(files)
    _log(f"[{label}] {len(files):,} notebooks in {tree}")
    measure_raw(m, files)
    lib_dir = Path(tempfile.mkdtemp(prefix=f"lib-{label}-", dir=WORK_DIR))
    try:
        with Library.open(lib_dir) as lib:
            lib.add_source(tree, name=label)
            _log(f"[{label}] source added")
            evict(files)  # the first sync starts as cold as the cold raw read
            started = time.perf_counter()
            m.first_report = lib.sync(**SYNC_ONLY)
            m.first_sync = time.perf_counter() - started
            _log(f"[{label}] first sync {m.first_sync:.1f} s")
            if args.index:
                started = time.perf_counter()
                lib.refresh_index()
                m.index_build = time.perf_counter() - started
                _log(f"[{label}] index built in {m.index_build:.1f} s")
            measure_resync(m, lib, tree, args.rounds, indexed=args.index)
            if args.profile:
                profile_resync(lib, label)
            measure_changed(m, lib, tree, files, args.changed_rounds)
            if args.index:
                lib.refresh_index()  # the changed rounds' contents, so the CLI finds none queued
        if args.index:  # without an index the CLI's sync would build it first
            m.cli_resync = cli_resync(lib_dir, 3)
            _log(f"[{label}] CLI re-sync {statistics.median(m.cli_resync):.2f} s")
    finally:
        shutil.rmtree(lib_dir, ignore_errors=True)
        _log(f"[{label}] temporary library removed")
    return m


def measure_raw(m: Measured, files: list[Path]) -> None:
    """Raw read from a cold cache (files evicted), then again warm, right before the sync."""
    evict(files)
    _log(f"[{m.label}] files evicted from the page cache")
    disk_before = proc_io().get("read_bytes", 0)
    m.raw_cold, m.bytes = raw_read(files)
    m.cold_disk_mb = (proc_io().get("read_bytes", 0) - disk_before) / MB
    m.raw_warm, _ = raw_read(files)
    _log(f"[{m.label}] raw read cold {m.raw_cold:.2f} s, warm {m.raw_warm:.2f} s")


def measure_resync(
    m: Measured, lib: Library, tree: Path, rounds: int, *, indexed: bool = False
) -> None:
    """Interleave bare walks and no-change re-syncs; one untimed warm-up of each first.

    With ``indexed``, each round also times a re-sync as the app runs it (index=True).
    """
    bare_walk(tree, with_stat=True)
    lib.sync(**SYNC_ONLY)
    for _ in range(rounds):
        m.walk.append(bare_walk(tree, with_stat=False)[0])
        cpu = time.process_time()
        m.walk_stat.append(bare_walk(tree, with_stat=True)[0])
        m.cpu_walk_stat.append(time.process_time() - cpu)
        with watch_reads(tree) as watch, time_phases(m.phases):
            cpu = time.process_time()
            started = time.perf_counter()
            report = lib.sync(**SYNC_ONLY)
            m.resync.append(time.perf_counter() - started)
            m.cpu_resync.append(time.process_time() - cpu)
        m.resync_watch.append(watch)
        if indexed:
            started = time.perf_counter()
            lib.sync()
            m.resync_indexed.append(time.perf_counter() - started)
        m.resync_counts.add(tuple(_counts(report).items()))
    _log(f"[{m.label}] re-sync median {statistics.median(m.resync) * 1e3:.0f} ms")


def _counts(report: SyncReport) -> dict[str, int]:
    return {
        "added": report.added,
        "updated": report.updated,
        "removed": report.removed,
        "unchanged": report.unchanged,
    }


def profile_resync(lib: Library, label: str) -> None:
    """Profile one no-change re-sync; save the stats and print where the time goes."""
    out = WORK_DIR / f"resync-{label}.prof"
    profiler = cProfile.Profile()
    profiler.runcall(lib.sync, **SYNC_ONLY)
    profiler.dump_stats(out)
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).strip_dirs()
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)
    _log(f"[{label}] re-sync profile saved to {out}\n{stream.getvalue()}")


def measure_changed(m: Measured, lib: Library, tree: Path, files: list[Path], rounds: int) -> None:
    """Re-sync after 5 notebooks were touched and 5 edited; the tree is restored after each."""
    catalogued = _catalogued(lib, tree, files)
    for round_no in range(rounds):
        picked = random.Random(round_no).sample(catalogued, 10)
        saved = [(p, p.read_bytes(), p.stat()) for p in picked]
        try:
            for path in picked[:5]:
                os.utime(path)  # touched: same bytes, new mtime
            for path in picked[5:]:
                _edit(path, round_no)
            with watch_reads(tree) as watch:
                started = time.perf_counter()
                report = lib.sync(**SYNC_ONLY)
                m.changed.append(time.perf_counter() - started)
            m.changed_watch.append(watch)
            m.changed_reports.append(report)
        finally:
            for path, data, st in saved:
                path.write_bytes(data)  # same inode: rewritten in place
                os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
            lib.sync(**SYNC_ONLY)  # take the restored files back in before the next round
    _log(f"[{m.label}] 10 changed: {', '.join(f'{t * 1e3:.0f} ms' for t in m.changed)}")


def _catalogued(lib: Library, tree: Path, files: list[Path]) -> list[Path]:
    """Notebooks the library catalogued (not problem files), outside the ``edge/`` fixtures."""
    problems = {p.path for p in lib.problems() if p.kind != "schema-warning"}
    good = []
    for path in files:
        rel = path.relative_to(tree).as_posix()
        if rel in problems or rel.startswith("edge/"):
            continue
        good.append(path)
    return good


def _edit(path: Path, round_no: int) -> None:
    """Change a notebook as a user saving it in Jupyter would: new content, re-serialized."""
    nb = json.loads(path.read_bytes())
    nb.setdefault("metadata", {})["nbshelf_bench_edit"] = round_no
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", "utf-8")


def cli_resync(lib_dir: Path, runs: int) -> list[float]:
    """Wall time of ``nbshelf sync --json`` in a fresh process: what a user at a shell waits."""
    exe = Path(sys.executable).with_name("nbshelf")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [str(exe), "--library", str(lib_dir), "sync", "--json"],
            capture_output=True,
            check=False,
        )
        times.append(time.perf_counter() - started)
        if done.returncode != 0 or json.loads(done.stdout).get("added", -1) != 0:
            raise RuntimeError(f"nbshelf sync failed: {done.stderr.decode()[-500:]}")
    return times


# -- the report -------------------------------------------------------------------------------


def tables(results: list[Measured]) -> list[str]:
    """The fixed-width result tables."""
    lines = ["First sync into a fresh library (source files evicted from the page cache first)"]
    first_cols = [
        ("tree", 7), ("notebooks", 9), ("MB", 7), ("raw cold s", 10), ("MB/s", 7),
        ("raw warm s", 10), ("MB/s", 7), ("sync s", 7), ("nb/s", 6), ("MB/s", 6),
        ("sync/cold", 9),
    ]  # fmt: skip
    lines += header(first_cols)
    for m in results:
        mb = m.bytes / MB
        lines.append(row(first_cols, [
            m.label, f"{m.notebooks:,}", f"{mb:,.0f}", f"{m.raw_cold:.2f}",
            f"{mb / m.raw_cold:,.0f}", f"{m.raw_warm:.2f}", f"{mb / m.raw_warm:,.0f}",
            f"{m.first_sync:.1f}", f"{m.notebooks / m.first_sync:,.0f}",
            f"{mb / m.first_sync:,.1f}", f"{m.first_sync / m.raw_cold:.1f}x",
        ]))  # fmt: skip
    lines += ["", "Re-sync (times in ms, median of the rounds; walks interleaved with re-syncs)"]
    resync_cols = [
        ("tree", 7), ("rounds", 6), ("walk", 7), ("walk+stat", 9), ("re-sync", 8),
        ("min-max", 11), ("x walk+stat", 11), ("x walk", 6), ("target", 6),
        ("10 changed", 10), ("+index", 6), ("CLI", 5),
    ]  # fmt: skip
    lines += header(resync_cols)
    for m in results:
        med = statistics.median(m.resync)
        walk, walk_stat = statistics.median(m.walk), statistics.median(m.walk_stat)
        ratio = med / walk_stat
        lines.append(row(resync_cols, [
            m.label, str(len(m.resync)), f"{walk * 1e3:,.0f}", f"{walk_stat * 1e3:,.0f}",
            f"{med * 1e3:,.0f}", f"{min(m.resync) * 1e3:,.0f}-{max(m.resync) * 1e3:,.0f}",
            f"{ratio:.1f}x", f"{med / walk:.1f}x",
            "ok" if ratio <= TARGET_RATIO else "MISS",
            f"{statistics.median(m.changed) * 1e3:,.0f}" if m.changed else "-",
            _median_ms(m.resync_indexed),
            _median_ms(m.cli_resync),
        ]))  # fmt: skip
    return lines


def _median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:,.0f}" if values else "-"


def checks(results: list[Measured]) -> list[str]:
    """What each run verified: counts, and that the no-change re-sync read no content."""
    lines = []
    for m in results:
        report = m.first_report
        assert report is not None
        kinds = Counter(p.kind for p in report.problems)
        lines.append(
            f"[{m.label}] first sync: added {report.added:,}, updated {report.updated}, "
            f"problems {dict(sorted(kinds.items()))}; cold raw read took "
            f"{m.cold_disk_mb:,.0f} MB from the disk (of {m.bytes / MB:,.0f} MB)"
        )
        opened = sum(len(w.opened) for w in m.resync_watch)
        reads = sum(w.read_stable for w in m.resync_watch)
        parsed = sum(w.parsed for w in m.resync_watch)
        rchar = max(w.rchar for w in m.resync_watch) / 1e3
        lines.append(
            f"[{m.label}] no-change re-syncs ({len(m.resync)}): counts "
            f"{' / '.join(str(dict(c)) for c in sorted(m.resync_counts))}; "
            f"tree files opened {opened}, read_stable calls {reads}, parses {parsed}, "
            f"max bytes read() by the process in one re-sync {rchar:,.1f} KB "
            f"(tree {m.bytes / MB:,.0f} MB)"
        )
        med = statistics.median(m.resync)
        shares = ", ".join(
            f"{label} {statistics.median(v) * 1e3:,.0f} ms ({statistics.median(v) / med:.0%})"
            for label, v in m.phases.items()
        )
        lines.append(f"[{m.label}] re-sync phases (median): {shares}")
        cpu_sync, cpu_walk = statistics.median(m.cpu_resync), statistics.median(m.cpu_walk_stat)
        lines.append(
            f"[{m.label}] CPU time (less sensitive to other jobs on the machine): re-sync "
            f"{cpu_sync * 1e3:,.0f} ms, walk+stat {cpu_walk * 1e3:,.0f} ms, "
            f"{cpu_sync / cpu_walk:.1f}x"
        )
        changed: Counter[str] = Counter(
            f"updated {report.updated}, unchanged {report.unchanged:,}, added {report.added}, "
            f"removed {report.removed}; tree files opened {len(watch.opened)}, read_stable "
            f"{watch.read_stable}, parses {watch.parsed}"
            for report, watch in zip(m.changed_reports, m.changed_watch, strict=True)
        )
        lines.extend(
            f"[{m.label}] 10 changed (5 touched, 5 edited), {n} of {len(m.changed)} rounds: {text}"
            for text, n in changed.items()
        )
    return lines


_STARTED = time.monotonic()


def _log(message: str) -> None:
    print(f"{time.monotonic() - _STARTED:7.1f}s {message}", file=sys.stderr, flush=True)


# -- command line ----------------------------------------------------------------------------


def prepare(label: str, seed: int) -> Path:
    """The tree for a label: the corpus copy, or a generated tree (made once, then reused)."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    if label == "corpus":
        return copy_corpus(WORK_DIR)
    started = time.monotonic()
    tree = generate_tree(WORK_DIR, TREES[label], seed, quiet=False)
    _log(f"[{label}] tree ready in {time.monotonic() - started:.1f} s: {tree}")
    return tree


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the machine and the tables on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", action="store_true", help="also the 50,000-notebook tree")
    parser.add_argument("--only", choices=sorted(TREES), help="just this tree")
    parser.add_argument("--rounds", type=int, default=7, help="no-change re-syncs (7)")
    parser.add_argument("--changed-rounds", type=int, default=3, help="'10 changed' rounds (3)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (0)")
    parser.add_argument(
        "--index", action="store_true", help="also build the search index and time re-syncs with it"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one re-sync per tree")
    args = parser.parse_args(argv)
    if corpus_dir() is None:
        print("the corpus is missing (../shared/corpus or $NBSHELF_CORPUS)", file=sys.stderr)
        return 1
    labels = [args.only] if args.only else ["corpus", "10k", *(["50k"] if args.big else [])]
    trees = {label: prepare(label, args.seed) for label in labels}
    header = machine_lines(list(trees.values()))
    started = time.monotonic()
    results = [bench_tree(label, tree, args) for label, tree in trees.items()]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    command = "python bench/sync.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print("\n".join(header))
    print(f"command  {command.strip()}")
    print()
    print("\n".join(tables(results)))
    print()
    print("\n".join(checks(results)))
    print(f"\nbenchmark took {time.monotonic() - started:.0f} s; peak RSS {peak:,.0f} MB; "
          f"load {_loadavg()} at the end")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
