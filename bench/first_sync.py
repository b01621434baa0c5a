"""A first sync taken apart (issue 16): catalogue, index build and similarity fit, each timed
(wall and CPU, children included) and optionally profiled, then the library's size by part.

Run it twice on the same tree, once with ``PYTHONPATH`` at the code before a change and once
after, back to back, to compare them; the load average is printed beside each figure.

Usage:
    python bench/first_sync.py TREE LIBRARY [--profile catalogue|index|similar] [--top 20]

``LIBRARY`` is removed first. With ``--profile`` that phase runs under cProfile (index with
one writer process, so the profile sees the work) and the top functions by own time and by
cumulative time are printed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def folder_bytes(folder: Path, pattern: str = "*") -> int:
    """The bytes of the regular files under ``folder`` matching ``pattern``."""
    return sum(p.stat().st_size for p in folder.rglob(pattern)
               if p.is_file() and not p.is_symlink())


def timed(name: str, work: Callable[[], object], profile: bool, top: int) -> None:
    """Run ``work``, print its wall and CPU seconds (and its profile when asked)."""
    load = _load()
    profiler = cProfile.Profile() if profile else None
    cpu, start = _cpu(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    work()
    if profiler is not None:
        profiler.disable()
    wall, used = time.perf_counter() - start, _cpu() - cpu
    print(f"{name:10} wall {wall:7.2f} s  cpu {used:7.2f} s  load before {load}", flush=True)
    if profiler is not None:
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(top)
            print(out.getvalue())


def search_times(library: Path) -> None:
    """p50/p95 of ``bench/search.py``'s queries with snippets (3 rounds), from a reader that
    has opened the index once, as a running app has; and opening the similarity model."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from search import QUERIES

    from nbshelf.library import Library

    load = _load()
    times = []
    with Library.open(library, readonly=True) as reader:
        reader.search(QUERIES[0])
        for _ in range(3):
            for query in QUERIES:
                start = time.perf_counter()
                reader.search(query, limit=20)
                times.append((time.perf_counter() - start) * 1000)
        ids = reader.notebook_ids()
        start = time.perf_counter()
        reader.similar(ids[0])
        model_ms = (time.perf_counter() - start) * 1000
    times.sort()
    p50, p95 = times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"search     p50 {p50:6.1f} ms  p95 {p95:6.1f} ms ({len(times)} queries)  "
          f"first similar (loads the model) {model_ms:.0f} ms  load before {load}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Sync ``TREE`` into a fresh ``LIBRARY`` phase by phase and print what each cost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path)
    parser.add_argument("library", type=Path)
    parser.add_argument("--profile", choices=("catalogue", "index", "similar"))
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--phases", default="catalogue,index,similar,search")
    args = parser.parse_args(argv)
    import nbshelf
    from nbshelf.library import Library

    print(f"nbshelf  {Path(nbshelf.__file__).parent}")
    print(f"tree     {args.tree}  ({folder_bytes(args.tree, '*.ipynb') / 1e6:,.1f} MB)")
    phases = args.phases.split(",")
    if args.profile == "index":
        os.environ["NBSHELF_INDEX_PROCS"] = "1"  # one writer process: the profile sees it
    if "catalogue" in phases:
        shutil.rmtree(args.library, ignore_errors=True)
    with Library.open(args.library) as lib:
        if "catalogue" in phases:
            lib.add_source(args.tree, name="share")
            timed("catalogue", lambda: lib.sync(index=False), args.profile == "catalogue",
                  args.top)
        if "index" in phases:
            timed("index", lib.refresh_index, args.profile == "index", args.top)
        if "similar" in phases:
            timed("similar", lib.refresh_similar, args.profile == "similar", args.top)
    if "search" in phases:
        search_times(args.library)
    tree_mb = folder_bytes(args.tree, "*.ipynb") / 1e6
    total = 0
    for part in sorted(args.library.iterdir()):
        size = folder_bytes(part) if part.is_dir() else part.stat().st_size
        total += size
        if size:
            print(f"  {part.name:16} {size / 1e6:9.1f} MB")
            if part.is_dir() and part.name != "blobs":
                for file in sorted(part.iterdir()):
                    if file.is_file() and file.stat().st_size > 1e6:
                        print(f"    {file.name:30} {file.stat().st_size / 1e6:9.1f} MB")
    print(f"library  {total / 1e6:,.1f} MB for {tree_mb:,.1f} MB of notebooks: "
          f"{total / 1e6 / tree_mb:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
