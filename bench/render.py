"""Render benchmark (issue 9): nbshelf's renderer beside nbconvert's HTMLExporter (lab).

Over the corpus, in one run and on the same notebooks:

* render time per notebook (median, p95, max) for ``nbshelf.render.render_notebook`` (export
  mode: everything inlined) and for nbconvert's ``HTMLExporter(template_name="lab")``; JSON
  parsing is outside the timing for both;
* the largest notebooks one by one;
* cold start: import time and first render in a fresh process;
* memory: peak Python allocation (tracemalloc) rendering the largest notebook, and the
  process's peak RSS.

Targets (issue 9): median <= 25 ms, p95 <= 100 ms, the 3.9 MB notebook <= 300 ms.

Usage:
    python bench/render.py [--limit N] [--largest 6] [--no-nbconvert]
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT))

from nbshelf.render import render_notebook  # noqa: E402


def ours(path: Path, text: str) -> Callable[[], str]:
    nb = json.loads(text)
    return lambda: render_notebook(nb, base_dir=path.parent, asset_base=None)


def nbconvert_renderer() -> Callable[[Path, str], Callable[[], str]]:
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")

    def prepare(path: Path, text: str) -> Callable[[], str]:
        try:
            node = nbformat.reads(text, as_version=4)
        except Exception as err:  # some v3 files cannot be upgraded: nbconvert cannot show them
            failure = err

            def fail() -> str:
                raise failure

            return fail
        return lambda: exporter.from_notebook_node(node)[0]

    return prepare


def timed(run: Callable[[], str]) -> tuple[float | None, int]:
    """Seconds one render took and the size of its output, or (None, 0) when it raised."""
    start = time.perf_counter()
    try:
        out = run()
    except Exception:  # nbconvert raises KeyError on some widget-state notebooks
        return None, 0
    return time.perf_counter() - start, len(out)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cold_start(code: str) -> float:
    """Seconds a fresh interpreter takes to run ``code`` (imports included)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - start


def peak_alloc(run: Callable[[], str]) -> float:
    """Peak MB of Python allocations during one render."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def sample(paths: list[Path], limit: int | None) -> list[Path]:
    if not limit or limit >= len(paths):
        return paths
    step = len(paths) / limit
    return [paths[int(i * step)] for i in range(limit)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="an even sample of N notebooks")
    parser.add_argument("--largest", type=int, default=6, help="how many big notebooks to list")
    parser.add_argument("--no-nbconvert", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # nbconvert warns about missing kernels, per notebook
    if not CORPUS.is_dir():
        sys.exit(f"no corpus at {CORPUS}")

    paths = sample(sorted(CORPUS.rglob("*.ipynb")), args.limit)
    texts = {p: p.read_text(encoding="utf-8") for p in paths}
    renderers: dict[str, Callable[[Path, str], Callable[[], str]]] = {"nbshelf": ours}
    if not args.no_nbconvert:
        renderers["nbconvert lab"] = nbconvert_renderer()

    # Warm each renderer once (lexers, templates), as the app would after its first page.
    first = paths[0]
    for prepare in renderers.values():
        prepare(first, texts[first])()

    times: dict[str, list[float]] = {name: [] for name in renderers}
    out_bytes: dict[str, list[int]] = {name: [] for name in renderers}
    failures: dict[str, int] = dict.fromkeys(renderers, 0)
    per_path: dict[tuple[str, Path], float | None] = {}
    for path in paths:
        for name, prepare in renderers.items():
            seconds, size = timed(prepare(path, texts[path]))
            per_path[(name, path)] = seconds
            if seconds is None:
                failures[name] += 1
            else:
                times[name].append(seconds)
                out_bytes[name].append(size)

    # A second pass of ours alone: pygments compiles a language's lexer on first use and
    # typeset formulas are remembered, so this is the app after it has shown a few pages.
    warm = [timed(ours(path, texts[path]))[0] or 0.0 for path in paths]

    print(f"\n{len(paths)} notebooks, {sum(len(t) for t in texts.values()) / 1e6:.1f} MB\n")
    print("| renderer | median ms | p95 ms | max ms | failed | median page KB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in renderers:
        ts = times[name]
        print(
            f"| {name} | {statistics.median(ts) * 1e3:.1f} | {percentile(ts, 0.95) * 1e3:.1f} "
            f"| {max(ts) * 1e3:.0f} | {failures[name]} "
            f"| {statistics.median(out_bytes[name]) / 1e3:.0f} |"
        )

    print(
        f"| nbshelf, second pass | {statistics.median(warm) * 1e3:.1f} "
        f"| {percentile(warm, 0.95) * 1e3:.1f} | {max(warm) * 1e3:.0f} | | |"
    )

    slowest = sorted(paths, key=lambda p: per_path[("nbshelf", p)] or 0.0, reverse=True)[
        : args.largest
    ]
    print("\nSlowest for nbshelf (ms, this run):\n")
    for path in slowest:
        nbc = per_path.get(("nbconvert lab", path))
        other = f", nbconvert {nbc * 1e3:.0f}" if nbc is not None else ""
        ms = (per_path[("nbshelf", path)] or 0.0) * 1e3
        print(f"- {path.relative_to(CORPUS)} ({len(texts[path]) / 1e6:.2f} MB): {ms:.0f}{other}")

    largest = sorted(paths, key=lambda p: len(texts[p]), reverse=True)[: args.largest]
    print("\nLargest notebooks (best of 3 renders, ms):\n")
    print("| notebook | MB | " + " | ".join(renderers) + " |")
    print("|---|---:|" + "---:|" * len(renderers))
    for path in largest:
        cells = []
        for _name, prepare in renderers.items():
            runs = [timed(prepare(path, texts[path]))[0] for _ in range(3)]
            ok = [r for r in runs if r is not None]
            cells.append(f"{min(ok) * 1e3:.0f}" if ok else "failed")
        rel = path.relative_to(CORPUS)
        print(f"| {rel} | {len(texts[path]) / 1e6:.1f} | " + " | ".join(cells) + " |")

    biggest = largest[0]
    print(f"\nMemory rendering {biggest.relative_to(CORPUS)} (tracemalloc peak):\n")
    for name, prepare in renderers.items():
        run = prepare(biggest, texts[biggest])
        print(f"- {name}: {peak_alloc(run):.0f} MB")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    print(f"- process peak RSS (whole run): {rss_mb:.0f} MB")

    big = str(biggest)
    print("\nCold start in a fresh process (import + first render of the largest notebook):\n")
    ours_code = (
        "import json, pathlib; from nbshelf.render import render_notebook; "
        f"p = pathlib.Path({big!r}); render_notebook(json.loads(p.read_text()), asset_base=None)"
    )
    print(
        f"- nbshelf: import {cold_start('import nbshelf.render') * 1e3:.0f} ms (with interpreter),"
        f" import + render {cold_start(ours_code) * 1e3:.0f} ms"
    )
    if not args.no_nbconvert:
        nbc_code = (
            "import nbformat; from nbconvert import HTMLExporter; "
            f"HTMLExporter(template_name='lab').from_notebook_node(nbformat.read({big!r}, 4))"
        )
        print(
            f"- nbconvert: import {cold_start('import nbconvert') * 1e3:.0f} ms (with interpreter),"
            f" import + render {cold_start(nbc_code) * 1e3:.0f} ms"
        )


if __name__ == "__main__":
    main()
