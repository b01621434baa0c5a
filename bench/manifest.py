"""Share manifest benchmark (issue 8): re-sync of a 50,000-notebook tree, walk vs manifest.

On the generated tree (``bench/generate.py``, 50,000 notebooks) synced into a library of its
own (``bench/_work/manifest-lib-50k``; seeded from the catalog of another benchmark's library
of the same tree when there is one, else by a first sync), this measures:

* writing the manifest (``Library.write_manifest``: a full walk; hashes from the catalog);
* no-change re-syncs, walk and manifest interleaved (wall and CPU time, folders listed);
* a re-sync after one notebook was added outside nbshelf (the manifest is stale in 1 folder);
* the manifest part of a publish (``manifest.refresh_folders``: read, re-list, rewrite);
* the system calls of one re-sync each way, counted with ``strace -f -c`` in a child process
  (minus a child that opens the library and does not sync), and from those counts a
  **model** of a slow share: round trips x an assumed latency, plus the manifest's bytes at
  an assumed bandwidth. The model is not a measurement on a network share.

The tree is left as it was found: the manifest and the added notebook are removed and the
folder times restored, so the other benchmarks can keep using it.

Usage:
    python bench/manifest.py [--rounds 5] [--no-append]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import nbshelf.sources.sync as nbsync
from nbshelf.library import Library
from nbshelf.sources import manifest as mf
from nbshelf.sources.manifest import ScanHow

try:  # run as `python bench/manifest.py` (bench/ on sys.path) or imported as bench.manifest
    from generate import WORK_DIR, generate_tree
except ModuleNotFoundError:
    from bench.generate import WORK_DIR, generate_tree

N = 50_000
LIB_DIR = WORK_DIR / "manifest-lib-50k"  # manifest-lib-<n> for another --n
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
#: the model's assumptions (labelled as such wherever they are used)
RTTS_MS = (1.0, 20.0)  # an SMB/NFS server on the same LAN; one across a WAN link
BANDWIDTH_MBIT = 100.0
STAT_CALLS = ("newfstatat", "statx", "stat", "lstat", "fstat", "fstatat64")


def log(message: str) -> None:
    print(f"{time.monotonic() - STARTED:7.1f}s {message}", file=sys.stderr, flush=True)


STARTED = time.monotonic()


# -- the library -------------------------------------------------------------------------------


def seed_library(tree: Path) -> None:
    """A library holding the tree: copy the catalog of one already synced from it (a re-sync
    reads no blob), else sync it from scratch (~5 min on 2 cores)."""
    if (LIB_DIR / "catalog.sqlite").is_file():
        return
    LIB_DIR.mkdir(parents=True, exist_ok=True)
    for candidate in sorted(WORK_DIR.glob("*/catalog.sqlite")):
        try:
            src = sqlite3.connect(f"file:{candidate}?mode=ro", uri=True)
            paths = [r[0] for r in src.execute("SELECT path FROM sources")]
            count = src.execute("SELECT count(*) FROM notebooks").fetchone()[0]
        except sqlite3.Error:
            continue
        if paths == [str(tree)] and count == N:
            dst = sqlite3.connect(LIB_DIR / "catalog.sqlite")
            src.backup(dst)
            dst.close()
            src.close()
            log(f"library seeded from the catalog of {candidate.parent.name}")
            return
        src.close()
    log("no library of this tree to seed from: first sync (slow)")
    with Library.open(LIB_DIR) as lib:
        lib.add_source(tree, name="bench")
        lib.sync(index=False)


def source_name(lib: Library, tree: Path) -> str:
    return next(s.name for s in lib.list_sources() if s.path == str(tree))


class Spy:
    """Records how each sync scanned."""

    def __init__(self) -> None:
        self.hows: list[ScanHow] = []
        self.real = nbsync.scan_source

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        scan, how = self.real(*args, **kwargs)
        self.hows.append(how)
        return scan, how


def timed_sync(lib: Library, name: str, mode: str, spy: Spy) -> dict[str, Any]:
    if mode == "walk":
        mf.note_walk(lib.engine, name, None)
    wall, cpu = time.perf_counter(), time.process_time()
    report = lib.sync([name], index=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    how = spy.hows[-1]
    assert how.mode == mode, (how, mode)
    return {"wall": wall, "cpu": cpu, "how": how,
            "counts": (report.added, report.updated, report.removed, report.unchanged)}


# -- syscalls ----------------------------------------------------------------------------------


def child(mode: str, lib_dir: Path, tree: Path) -> None:
    """One re-sync (or none) in this process, for strace to count."""
    with Library.open(lib_dir) as lib:
        name = source_name(lib, tree)
        if mode == "walk":
            mf.note_walk(lib.engine, name, None)
        if mode != "none":
            lib.sync([name], index=False)


def strace_counts(mode: str, tree: Path) -> Counter[str]:
    strace = shutil.which("strace") or "strace"
    with tempfile.NamedTemporaryFile(suffix=".strace") as out:
        subprocess.run(
            [strace, "-f", "-c", "-o", out.name, sys.executable, __file__,
             "--child", mode, str(LIB_DIR), str(tree)],
            check=True, stdout=subprocess.DEVNULL,
        )
        text = Path(out.name).read_text()
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) in (5, 6) and parts[0].replace(".", "").isdigit():
            counts[parts[-1]] = int(parts[3])
    return counts


def syscall_rows(tree: Path) -> dict[str, dict[str, int]]:
    base = strace_counts("none", tree)
    rows = {}
    for mode in ("walk", "manifest"):
        got = strace_counts(mode, tree)
        diff = {k: got[k] - base.get(k, 0) for k in got}
        rows[mode] = {
            "getdents64": diff.get("getdents64", 0),
            "openat": diff.get("openat", 0),
            "stat": sum(diff.get(k, 0) for k in STAT_CALLS),
            "read": diff.get("read", 0),
        }
    return rows


# -- the run -----------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run(rounds: int) -> dict[str, Any]:
    tree = generate_tree(WORK_DIR, N, 0)
    seed_library(tree)
    root_times = os.stat(tree)
    spy = Spy()
    nbsync.scan_source = spy  # type: ignore[assignment]
    out: dict[str, Any] = {"tree": str(tree)}
    added = tree / "team-a" / "bench-manifest-added.ipynb"
    folder = added.parent
    folder_times = os.stat(folder)
    try:
        with Library.open(LIB_DIR) as lib:
            name = source_name(lib, tree)
            first = timed_sync(lib, name, "walk", spy)
            log(f"catch-up walk {first['wall']:.1f} s, counts {first['counts']}")
            started = time.perf_counter()
            written = lib.write_manifest(name)
            out["write"] = {**written, "seconds": time.perf_counter() - started}
            log(f"manifest written in {out['write']['seconds']:.1f} s: {written}")
            loads = []
            for _ in range(3):
                started = time.perf_counter()
                loaded = mf.load(tree)
                assert loaded is not None
                loaded.index()
                loads.append(time.perf_counter() - started)
            out["load"] = median(loads)
            runs: dict[str, list[dict[str, Any]]] = {"walk": [], "manifest": []}
            for r in range(rounds):
                for mode in (("walk", "manifest") if r % 2 == 0 else ("manifest", "walk")):
                    runs[mode].append(timed_sync(lib, name, mode, spy))
                log(f"round {r + 1}: walk {runs['walk'][-1]['wall'] * 1000:.0f} ms, "
                    f"manifest {runs['manifest'][-1]['wall'] * 1000:.0f} ms")
            out["runs"] = runs
            # stale: a notebook added outside nbshelf
            shutil.copy2(next(p for p in sorted(folder.rglob("*.ipynb"))), added)
            out["stale"] = timed_sync(lib, name, "manifest", spy)
            added.unlink()
            out["stale_removed"] = timed_sync(lib, name, "manifest", spy)
            os.utime(folder, ns=(folder_times.st_atime_ns, folder_times.st_mtime_ns))
            log(f"stale: {out['stale']['how']}, {out['stale']['counts']}")
            # the manifest part of a publish into a folder three levels down
            target = next(r for r in sorted(mf.load(tree).notebooks)  # type: ignore[union-attr]
                          if r.count("/") == 3)
            hashes = lib.sources.catalog_hashes(lib.sources.get(name))
            started = time.perf_counter()
            mf.refresh_folders(tree, target, hashes)
            out["refresh"] = time.perf_counter() - started
            log(f"publish's manifest refresh {out['refresh'] * 1000:.0f} ms")
        log("counting system calls (strace, one child each)")
        out["syscalls"] = syscall_rows(tree) if shutil.which("strace") else {}
    finally:
        nbsync.scan_source = spy.real  # type: ignore[assignment]
        added.unlink(missing_ok=True)
        mf.remove(tree)
        os.utime(folder, ns=(folder_times.st_atime_ns, folder_times.st_mtime_ns))
        os.utime(tree, ns=(root_times.st_atime_ns, root_times.st_mtime_ns))
    return out


# -- the report --------------------------------------------------------------------------------


def model_seconds(calls: int, manifest_bytes: int, rtt_ms: float) -> float:
    return calls * rtt_ms / 1000 + manifest_bytes * 8 / (BANDWIDTH_MBIT * 1e6)


def report(out: dict[str, Any]) -> list[str]:
    runs = out["runs"]
    w, m = runs["walk"], runs["manifest"]
    hm = m[-1]["how"]
    size = out["write"]["bytes"]
    lines = [
        f"Tree: {N:,} notebooks in {out['write']['folders']:,} folders ({out['tree']}); "
        f"{len(w)} no-change re-syncs each way, interleaved, `index=False`.",
        "",
        "| no-change re-sync | walk | manifest |",
        "|---|---:|---:|",
        f"| wall ms (median) | {median([r['wall'] for r in w]) * 1000:,.0f} | "
        f"{median([r['wall'] for r in m]) * 1000:,.0f} |",
        f"| CPU ms (median) | {median([r['cpu'] for r in w]) * 1000:,.0f} | "
        f"{median([r['cpu'] for r in m]) * 1000:,.0f} |",
        f"| folders listed | {out['write']['folders']:,} | {hm.folders_listed:,} |",
        f"| folders only stat'ed (manifest) | 0 | {hm.folders_trusted:,} |",
        f"| counts (added, updated, removed, unchanged) | {w[-1]['counts']} | {m[-1]['counts']} |",
    ]
    sc = out.get("syscalls") or {}
    if sc:
        lines += [
            f"| syscalls: `getdents64` | {sc['walk']['getdents64']:,} | "
            f"{sc['manifest']['getdents64']:,} |",
            f"| syscalls: `openat` | {sc['walk']['openat']:,} | {sc['manifest']['openat']:,} |",
            f"| syscalls: stat family | {sc['walk']['stat']:,} | {sc['manifest']['stat']:,} |",
            f"| bytes of manifest read | 0 | {size:,} |",
        ]
        calls = {k: v["getdents64"] + v["openat"] + v["stat"] for k, v in sc.items()}
        for rtt in RTTS_MS:
            lines.append(
                f"| **model**, {rtt:g} ms per round trip, {BANDWIDTH_MBIT:g} Mbit/s: s | "
                f"{model_seconds(calls['walk'], 0, rtt):,.1f} | "
                f"{model_seconds(calls['manifest'], size, rtt):,.1f} |"
            )
    stale, refresh = out["stale"], out["refresh"]
    lines += [
        "",
        f"Writing the manifest (`nbshelf source write-manifest`, full walk, hashes taken from "
        f"the catalog): {out['write']['seconds']:.1f} s, {out['write']['hashed']:,} files read; "
        f"{size / 1e6:.1f} MB of JSON; loading and indexing it {out['load'] * 1000:.0f} ms. "
        f"Stale manifest (one notebook added outside nbshelf): "
        f"{stale['wall'] * 1000:,.0f} ms, {stale['how'].folders_listed} folders listed "
        f"({stale['how'].folders_changed} changed), counts {stale['counts']}. "
        f"The manifest part of a publish (read, re-list the 4 folders holding the notebook, "
        f"rewrite): {refresh * 1000:,.0f} ms.",
    ]
    return lines


def append_results(lines: list[str]) -> None:
    """Append the section in one ``O_APPEND`` write (others append to the file too)."""
    stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    text = (
        f"\n## Share manifest (issue 8) — `python bench/manifest.py`\n\n"
        f"Measured {stamp} UTC on {os.cpu_count()} shared cores (others ran jobs meanwhile); "
        f"local ext4 disk, page cache warm. The model rows are arithmetic on the counted "
        f"system calls (round trips x latency + manifest bytes / bandwidth), **not** a "
        f"measurement on a network share; NFS READDIRPLUS and SMB directory queries return "
        f"attributes with a listing, so a real walk may need fewer round trips than counted "
        f"here.\n\n" + "\n".join(lines) + "\n"
    )
    fd = os.open(RESULTS, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    global N, LIB_DIR
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="re-syncs each way (5)")
    parser.add_argument("--n", type=int, default=N, help="notebooks in the tree (50,000)")
    parser.add_argument("--no-append", action="store_true", help="do not touch RESULTS.md")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "LIB", "TREE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0
    if args.n != N:
        N, LIB_DIR = args.n, WORK_DIR / f"manifest-lib-{args.n}"
    out = run(args.rounds)
    lines = report(out)
    print("\n".join(lines))
    raw = {k: v for k, v in out.items() if k not in ("runs", "stale", "stale_removed")}
    (WORK_DIR / "manifest-bench.json").write_text(json.dumps(raw, indent=1, default=str))
    if not args.no_append and N == 50_000:
        append_results(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())

