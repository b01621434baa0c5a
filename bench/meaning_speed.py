"""Search by meaning (issue 18): what it costs. Hit@5 and MRR are bench/meaning_eval.py's.

On a library that has a similarity model (the corpus library of bench/search.py, or a copy
of bench/scale.py's 50,000-notebook library: never the original, this writes its model):

- ``fit``: fits the related-terms model to the saved similarity model, in a process of its
  own, and prints the fit's wall time, CPU time and the peak RSS it adds above the loaded
  similarity model; saves it (``<library>/similar/related.npz``) for the queries.
- ``query``: each query of ``QUERIES`` (plain questions, identifiers, filters), keyword
  only (``meaning=False``) and with meaning, in the same run, alternating, with snippets
  for the top 20 (``Library.search``) and as the app's id list (``search_matches``); prints
  the keyword time and the added time p50/p95, and 3 example answers.

The load average is printed beside each number: the machine is shared.

Usage: python bench/meaning_speed.py LIBRARY {fit,query,both} [--rounds 5] [--dims N]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's nbshelf
from nbshelf.library import Library  # noqa: E402

#: Plain questions (issue 18's among them), identifiers and filtered queries.
QUERIES = [
    "forecast time series", "predict house prices", "combine two tables on a key column",
    "summary statistics per category", "merge two dataframes on a column", "average per group",
    "plot sales by region", "clean missing values before training", "groupby",
    "linear regression residuals plot", "neural network from scratch in numpy",
    "pd.read_csv", "read_csv", "train_test_split", "scatter plot", "lang:python time series",
    "word frequency in a text", "image classification", "cluster customers", "sort a list",
]


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


def _rss_mb() -> float:
    """This process's resident memory now, in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def fit(root: Path, dims: int | None) -> None:
    """Fit and save the related terms of the library's saved similarity model."""
    from nbshelf.similar import SimilarModel
    from nbshelf.similar.related import DIMENSIONS, fit_related

    folder = root / "similar"
    start = time.perf_counter()
    model = SimilarModel.load(folder)
    if model is None:
        sys.exit(f"{folder} holds no usable similarity model")
    import sklearn.decomposition  # noqa: F401 - imported before the baseline is taken

    loaded = time.perf_counter() - start
    base = _rss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    related = fit_related(model, dimensions=dims or DIMENSIONS)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if related is None:
        sys.exit("library too small to fit")
    related.save(folder)
    size = (folder / "related.npz").stat().st_size / 1e6
    print(f"fit: {len(model):,} notebooks, {len(related.terms):,} terms, "
          f"{related.docs.shape[1]} dimensions; similarity model load {loaded:.1f} s")
    print(f"fit: wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {peak:,.0f} MB "
          f"({peak - base:+,.0f} MB above the loaded similarity model, {base:,.0f} MB); "
          f"file {size:.1f} MB; loaded model {related.memory_bytes() / 1e6:.0f} MB; "
          f"load {_load()}")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def query(root: Path, rounds: int, show: int) -> None:
    """Time each query with and without meaning, alternating, in one process."""
    lib = Library.open(root, readonly=True)
    for text in QUERIES:  # warm: the searcher, the model, the first blobs
        lib.search(text, limit=20)
    times: dict[tuple[str, bool], list[float]] = {}
    for _ in range(rounds):
        for text in QUERIES:
            for kind in ("hits", "ids"):
                for meaning in (False, True):
                    lib._searching.clear_cache()  # each query reads its snippets' cells
                    start = time.perf_counter()
                    if kind == "hits":
                        lib.search(text, limit=20, meaning=meaning)
                    else:
                        lib.search_matches(text, limit=200, meaning=meaning)
                    times.setdefault((kind, meaning), []).append(
                        (time.perf_counter() - start) * 1000)
    for kind in ("hits", "ids"):
        plain, meant = times[(kind, False)], times[(kind, True)]
        added = [m - p for m, p in zip(meant, plain, strict=True)]
        print(f"query ({kind}): keyword p50 {_pct(plain, .5):.1f} ms p95 {_pct(plain, .95):.1f}"
              f" ms; with meaning p50 {_pct(meant, .5):.1f} p95 {_pct(meant, .95):.1f} ms; "
              f"added p50 {_pct(added, .5):.1f} ms p95 {_pct(added, .95):.1f} ms "
              f"({len(added)} queries); load {_load()}")
    # The meaning pass alone (fold the query, cosine over every notebook, filters, reasons
    # for 30 hits): the time it adds, without the noise of two whole searches compared.
    from nbshelf.search.query import parse

    searcher = lib.searching.index.searcher()
    meaning = lib._searching.meaning
    alone: list[float] = []
    for _ in range(rounds):
        for text in QUERIES:
            parsed = parse(text)
            start = time.perf_counter()
            meaning.matches(searcher, parsed, None, set(), 30)
            alone.append((time.perf_counter() - start) * 1000)
    print(f"meaning pass alone: p50 {_pct(alone, .5):.1f} ms p95 {_pct(alone, .95):.1f} ms "
          f"max {max(alone):.1f} ms ({len(alone)} queries, 30 hits with reasons); "
          f"load {_load()}")
    for text in QUERIES[:show]:
        result = lib.search(text, limit=20)
        print(f"  {text!r}: {result.total} exact, {result.meaning_total} by meaning")
        for hit in [h for h in result.hits if h.by_meaning][:3]:
            print(f"    {hit.title[:50]!r}: {hit.reason} (cell {hit.best_cell})")
    lib.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library", type=Path)
    parser.add_argument("step", choices=["fit", "query", "both"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dims", type=int, default=None)
    parser.add_argument("--show", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.library} on {os.cpu_count()} CPUs, load {_load()}")
    if args.step == "both":
        # The fit in a process of its own: its peak RSS is its own, not the queries'.
        extra = ["--dims", str(args.dims)] if args.dims else []
        subprocess.run([sys.executable, __file__, str(args.library), "fit", *extra], check=True)
        query(args.library, args.rounds, args.show)
    elif args.step == "fit":
        fit(args.library, args.dims)
    else:
        query(args.library, args.rounds, args.show)


if __name__ == "__main__":
    main()
