"""The cost curve to 100,000 notebooks (issue 16): every figure a big share's user feels, per
tree size, beside a reference measured in the same run, and how each grows with the size.

For each size (generated trees, ``bench/generate.py``), each step runs in a child process of
its own, so its wall time, CPU time and peak RSS are its own (``os.wait4``):

* lean: the reference pipeline on the same files (read, orjson parse, text of the cells,
  SQLite FTS5 insert), the floor any first sync is compared with;
* first: ``source add`` then a first sync all-in (catalogue, index, similarity model), and the
  seconds until a search from another process first finds a notebook (a reader polling every
  0.25 s, as a second window or ``nbshelf search`` would);
* resync: a sync with nothing changed (median of 3), beside a bare walk + stat of the tree;
* search: p50/p95 of the search benchmark's queries with snippets, beside SQLite FTS5 on the
  same text (the lean step's database);
* similar: p95 of the similar notebooks of 50 notebooks;
* start: app start to its first painted rows (``bench/startup.py``'s probe);
* sizes: the library's bytes beside the tree's notebooks' bytes.

Then the growth exponent of each figure between two sizes: ``log(b/a) / log(n_b/n_a)`` (1 is
linear). Trees and libraries are kept under ``bench/_work/scale/`` and reused.

Usage:
    python bench/scale.py [--sizes 1000,10000,50000,100000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson

try:  # run as `python bench/scale.py` (bench/ on sys.path) or imported as bench.scale
    from generate import WORK_DIR, generate_tree, notebook_files
    from tables import header, row
except ModuleNotFoundError:
    from bench.generate import WORK_DIR, generate_tree, notebook_files
    from bench.tables import header, row

HERE = Path(__file__).resolve().parent
SCALE_DIR = WORK_DIR / "scale"
#: A word nearly every generated notebook has: the reader's probe for "searchable yet".
PROBE = "import"
STEPS = ("lean", "first", "resync", "search", "similar", "start")


# -- the steps (each runs in a child: python bench/scale.py --step NAME TREE LIBRARY) --------


def step_lean(tree: Path, lib: Path) -> dict[str, Any]:
    """The reference: read, parse, take the cells' text and insert it into SQLite FTS5."""
    db_path = lib.parent / f"{lib.name}-lean.sqlite"
    db_path.unlink(missing_ok=True)
    db = sqlite3.connect(db_path)
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(path, markdown, code, "
               "tokenize='unicode61 remove_diacritics 2')")
    start = time.perf_counter()
    rows = []
    for path in notebook_files(tree):
        try:
            raw = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        cells = raw.get("cells", []) if isinstance(raw, dict) else []
        texts: dict[str, list[str]] = {"markdown": [], "code": []}
        for cell in cells if isinstance(cells, list) else []:
            if isinstance(cell, dict) and cell.get("cell_type") in texts:
                source = cell.get("source", "")
                texts[cell["cell_type"]].append(
                    "".join(source) if isinstance(source, list) else str(source))
        rows.append((str(path.relative_to(tree)), "\n".join(texts["markdown"]),
                     "\n".join(texts["code"])))
        if len(rows) >= 1000:
            db.executemany("INSERT INTO docs VALUES (?, ?, ?)", rows)
            rows.clear()
    db.executemany("INSERT INTO docs VALUES (?, ?, ?)", rows)
    db.commit()
    return {"seconds": time.perf_counter() - start}


def step_first(tree: Path, lib: Path) -> dict[str, Any]:
    """``source add`` and a first sync all-in, and when a reader first finds a notebook."""
    from nbshelf.library import Library

    shutil.rmtree(lib, ignore_errors=True)
    found: dict[str, float] = {}
    stop = threading.Event()
    start = time.perf_counter()

    def probe() -> None:
        while not stop.is_set():
            try:
                with Library.open(lib, readonly=True) as reader:
                    if reader.search(PROBE, limit=1).hits:
                        found["first_result"] = time.perf_counter() - start
                        return
            except Exception:  # noqa: BLE001,S110 - not there yet: the library is being made
                pass
            stop.wait(0.25)

    with Library.open(lib) as writer:
        writer.add_source(tree, name="share")
        watcher = threading.Thread(target=probe, daemon=True)
        watcher.start()
        report = writer.sync()
        all_in = time.perf_counter() - start
        watcher.join(timeout=10)
        stop.set()
    return {"seconds": all_in, "first_result": found.get("first_result"),
            "notebooks": report.to_json().get("added")}


def step_resync(tree: Path, lib: Path) -> dict[str, Any]:
    """A sync with nothing changed (median of 3), beside a bare walk + stat (median of 3)."""
    from sync import bare_walk

    from nbshelf.library import Library

    syncs, walks = [], []
    with Library.open(lib) as writer:
        for _ in range(3):
            walks.append(bare_walk(tree, with_stat=True)[0])
            start = time.perf_counter()
            writer.sync()
            syncs.append(time.perf_counter() - start)
    return {"seconds": statistics.median(syncs), "walk": statistics.median(walks)}


def step_search(_tree: Path, lib: Path) -> dict[str, Any]:
    """Search p50/p95 with snippets, beside FTS5 on the lean step's database."""
    from search import QUERIES, fts_query

    from nbshelf.library import Library

    ours, theirs = [], []
    db = sqlite3.connect(lib.parent / f"{lib.name}-lean.sqlite")
    with Library.open(lib, readonly=True) as reader:
        reader.search(QUERIES[0])  # open the index once, as a running app has
        start = time.perf_counter()
        # what the app reads in the background once its first rows are shown (the related-
        # terms model, the index's tables), timed on its own: the first search waited for it
        reader.prepare_search()
        prepare = time.perf_counter() - start
        for _ in range(3):
            for query in QUERIES:
                start = time.perf_counter()
                reader.search(query, limit=20)
                ours.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                try:
                    db.execute("SELECT rowid, snippet(docs, -1, '[', ']', '…', 16) FROM docs "
                               "WHERE docs MATCH ? ORDER BY rank LIMIT 20",
                               (fts_query(query),)).fetchall()
                except sqlite3.OperationalError:
                    pass  # a query FTS5 cannot say
                theirs.append((time.perf_counter() - start) * 1000)
    return {"p50": percentile(ours, 50), "p95": percentile(ours, 95),
            "fts_p50": percentile(theirs, 50), "fts_p95": percentile(theirs, 95),
            "prepare": prepare}


def step_similar(_tree: Path, lib: Path) -> dict[str, Any]:
    """p95 of the similar notebooks of 50 notebooks picked at random (seeded)."""
    from nbshelf.library import Library

    times = []
    with Library.open(lib, readonly=True) as reader:
        ids = reader.notebook_ids()
        picked = random.Random(0).sample(ids, min(50, len(ids)))
        reader.similar(picked[0])  # load the model once, as a running app has
        for notebook_id in picked:
            start = time.perf_counter()
            reader.similar(notebook_id)
            times.append((time.perf_counter() - start) * 1000)
    return {"p50": percentile(times, 50), "p95": percentile(times, 95)}


def step_start(_tree: Path, lib: Path) -> dict[str, Any]:
    """Seconds from the app's start to its first painted rows."""
    from startup import first_rows

    shown, _ended, _loaded = first_rows(lib)
    return {"seconds": shown}


# -- the parent --------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def run_step(name: str, tree: Path, lib: Path) -> dict[str, Any]:
    """One step in a child process: its answer, wall and CPU seconds and peak RSS (MB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603 - our own script, arguments we made
        [sys.executable, str(Path(__file__).resolve()), "--step", name, str(tree), str(lib)],
        stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(HERE)})
    assert proc.stdout is not None
    output = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"step {name} on {tree.name} failed (exit {proc.returncode})")
    answer: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    answer["wall"] = time.perf_counter() - start
    answer["cpu"] = usage.ru_utime + usage.ru_stime
    answer["rss_mb"] = usage.ru_maxrss / 1024  # KiB on Linux
    return answer


def folder_bytes(folder: Path, *, notebooks_only: bool = False) -> int:
    """The bytes of the files under ``folder`` (only ``*.ipynb`` with ``notebooks_only``)."""
    total = 0
    for path in folder.rglob("*.ipynb" if notebooks_only else "*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
    return total


def measure(n: int, seed: int) -> dict[str, Any]:
    """Every step on the tree of ``n`` notebooks."""
    tree = generate_tree(WORK_DIR, n, seed)
    lib = SCALE_DIR / f"lib-{n}-seed{seed}"
    SCALE_DIR.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {"n": n}
    for name in STEPS:
        print(f"  {n:,}: {name}…", file=sys.stderr, flush=True)
        figures[name] = run_step(name, tree, lib)
    figures["tree_mb"] = folder_bytes(tree, notebooks_only=True) / 1e6
    figures["library_mb"] = folder_bytes(lib) / 1e6
    return figures


def figures_of(m: dict[str, Any]) -> dict[str, float | None]:
    """The figures of one size that the tables and the growth exponents show."""
    return {
        "lean s": m["lean"]["seconds"],
        "first sync all-in s": m["first"]["seconds"],
        "first sync CPU s": m["first"]["cpu"],
        "first result s": m["first"]["first_result"],
        "re-sync s": m["resync"]["seconds"],
        "walk+stat s": m["resync"]["walk"],
        "search p50 ms": m["search"]["p50"],
        "search p95 ms": m["search"]["p95"],
        "FTS5 p95 ms": m["search"]["fts_p95"],
        "search prepare s": m["search"].get("prepare"),
        "similar p95 ms": m["similar"]["p95"],
        "start to rows s": m["start"]["seconds"],
        "library MB": m["library_mb"],
        "tree MB": m["tree_mb"],
        "peak RSS MB": max(m[s]["rss_mb"] for s in STEPS if s not in ("lean", "start")),
    }


def report(results: list[dict[str, Any]]) -> list[str]:
    """The table of every figure by size, the ratios the targets name, and the growth."""
    sizes = [f"{m['n']:,}" for m in results]
    cols = [("figure", 22), *[(s, 10) for s in sizes]]
    lines = header(cols)
    table = [figures_of(m) for m in results]
    for key in table[0]:
        lines.append(row(cols, [key, *[_fmt(t[key]) for t in table]]))
    for label, a, b in (("first sync / lean", "first sync all-in s", "lean s"),
                        ("re-sync / walk+stat", "re-sync s", "walk+stat s"),
                        ("library / tree", "library MB", "tree MB")):
        lines.append(row(cols, [label, *[_ratio(t[a], t[b]) for t in table]]))
    if len(results) > 1:
        lines += ["", "growth exponent between sizes (1 = linear)"]
        pairs = list(zip(results, results[1:], strict=False))
        cols2 = [("figure", 22), *[(f"{a['n']:,}→{b['n']:,}", 14) for a, b in pairs]]
        lines += header(cols2)
        for key in table[0]:
            cells = []
            for (a, b), (ta, tb) in zip(pairs, zip(table, table[1:], strict=False),
                                        strict=False):
                x, y = ta[key], tb[key]
                cells.append(f"{math.log(y / x) / math.log(b['n'] / a['n']):.2f}"
                             if x and y else "-")
            lines.append(row(cols2, [key, *cells]))
    return lines


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}" if value >= 10 else f"{value:.2f}"


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a and b else "-"


def main(argv: list[str] | None = None) -> int:
    """Run the steps for each size and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000,100000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--step", nargs=3, metavar=("NAME", "TREE", "LIBRARY"),
                        help=argparse.SUPPRESS)  # a child's one step
    args = parser.parse_args(argv)
    if args.step:
        name, tree, lib = args.step
        print(json.dumps(globals()[f"step_{name}"](Path(tree), Path(lib))))
        return 0
    started = time.time()
    load = os.getloadavg()
    results = [measure(int(n), args.seed) for n in args.sizes.split(",")]
    print(f"date     {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(started))}")
    print(f"load     {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min) at start")
    print(f"command  python bench/scale.py --sizes {args.sizes} --seed {args.seed}")
    print()
    print("\n".join(report(results)))
    print(f"\nbenchmark took {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
