"""Search benchmark (issue 2): index build, size and query latency, beside SQLite FTS5.

For each library (the corpus, and generated trees of 10,000 and 50,000 notebooks made from
corpus cells by bench/generate.py) it syncs a library once (kept in bench/_work for later
runs), then measures in one run:

- building the Whoosh index from the catalog (docs/s, seconds, size on disk);
- p50/p95 latency of a fixed list of realistic queries, in process, with snippets for the
  top 20 hits (and the searcher alone, without snippets); and of queries few notebooks match
  whole (``FEW_QUERIES``: forgiving matching's partial pass runs for them);
- updating the index after 10 notebooks changed;
- the reference: SQLite FTS5 over exactly the same document text, its build rate and the
  same queries with ``snippet()`` for the top 20.

Usage: python bench/search.py [--only corpus|10k|50k] [--rounds 5] [--show 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import corpus_dir, generate_tree  # noqa: E402

from nbshelf.library import Library  # noqa: E402

WORK = Path(__file__).resolve().parent / "_work"

#: Queries an analyst would type: words, identifiers, phrases, prefixes, filters, OR, NOT.
QUERIES = [
    "pivot table", "groupby", "pd.read_csv", "read csv", '"linear regression"', "tensor*",
    "lang:julia DataFrame", "import:pandas plot", "matplotlib histogram",
    "random forest classifier", '"gradient descent"', "np.linspace", "scatter plot",
    "time series", "train_test_split", "kmeans clust*", "widget slider", '"hello world"',
    "dataframe merge", "sklearn.linear_model", "regression -tensorflow", "plot OR chart",
    "lang:r ggplot", "import:numpy fft", "neural network", "title:introduction",
    "interpolat*", "数据", "unicode", "bayesian inference", '"markov chain"', "json parse",
    "csv.reader", "fit_transform", "confusion matrix",
]
#: Queries few notebooks match whole, in an analyst's words (issue 18's examples among
#: them): where forgiving matching runs its partial pass, timed on their own ("few").
FEW_QUERIES = [
    "forecast time series", "predict house prices", "combine two tables on a key column",
    "summary statistics per category", "merge two dataframes on a column", "average per group",
    "plot sales by region", "clean missing values before training",
    "linear regression residuals plot", "neural network from scratch in numpy",
]


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(line for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
        ram = f"{int(mem.split()[1]) / 2**20:.0f} GiB"
    except (OSError, StopIteration):
        ram = "?"
    return f"{cpu}, {os.cpu_count()} cores, {ram} RAM, Python {platform.python_version()}"


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the index writer's processes):
    less sensitive than wall time to other work on the machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def synced_library(name: str, tree: Path) -> Path:
    """A library of ``tree`` kept between runs (syncing 50,000 notebooks takes minutes)."""
    folder = WORK / f"search-lib-{name}"
    marker = folder / "synced-from"
    if marker.is_file() and marker.read_text() == str(tree):
        return folder
    for other in sorted(WORK.glob("*/synced-from")):  # another benchmark synced it already
        if other.read_text().strip() == str(tree):
            return other.parent
    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    with Library.open(folder) as lib:
        lib.add_source(tree, name="bench")
        lib.sync(index=False)
    marker.write_text(str(tree))
    print(f"  (synced {name} into {folder} in {time.perf_counter() - start:.0f} s)")
    return folder


def time_queries(run: Callable[[str], object], rounds: int, queries: list[str] | None = None
                 ) -> tuple[list[float], dict[str, float]]:
    queries = QUERIES if queries is None else queries
    for query in queries:  # warm caches once, as a running app would be
        run(query)
    samples: list[float] = []
    per_query: dict[str, list[float]] = {q: [] for q in queries}
    for _ in range(rounds):
        for query in queries:
            start = time.perf_counter()
            run(query)
            elapsed = (time.perf_counter() - start) * 1000
            samples.append(elapsed)
            per_query[query].append(elapsed)
    return samples, {q: statistics.median(v) for q, v in per_query.items()}


# -- the FTS5 reference ------------------------------------------------------------------------

FTS_COLUMNS = ["title", "headings", "markdown", "code", "outputs", "path", "lang", "imports"]


def build_fts(lib: Library, db_path: Path) -> tuple[sqlite3.Connection, float, int]:
    """FTS5 over the same text the Whoosh index holds; returns (db, seconds, docs)."""
    from sqlalchemy import select

    from nbshelf.catalog.models import Notebook

    db_path.unlink(missing_ok=True)
    db = sqlite3.connect(db_path)
    db.execute(f"CREATE VIRTUAL TABLE docs USING fts5({', '.join(FTS_COLUMNS)}, "
               "tokenize='unicode61 remove_diacritics 2')")
    with lib.engine.connect() as conn:
        hashes = list(conn.execute(select(Notebook.content_hash)
                                   .where(Notebook.removed_at.is_(None)).distinct()).scalars())
    # Documents come from the same function the Whoosh index uses; their making is timed
    # separately so the build rate compares the two engines only.
    start = time.perf_counter()
    docs = [d for i in range(0, len(hashes), 500)
            for d in lib.index._documents(hashes[i:i + 500])]
    making = time.perf_counter() - start
    start = time.perf_counter()
    db.executemany(
        # column names are this module's constants, values are bound parameters
        f"INSERT INTO docs({', '.join(FTS_COLUMNS)}) "  # noqa: S608
        f"VALUES ({', '.join('?' * len(FTS_COLUMNS))})",
        [fts_row(d) for d in docs],
    )
    db.commit()
    print(f"  (document text for FTS5 made in {making:.1f} s, not counted)")
    return db, time.perf_counter() - start, len(docs)


def fts_row(document: dict[str, object]) -> list[str]:
    """One FTS5 row from a Whoosh document: its body parts become columns of their own."""
    parts = dict(document.get("body", []))  # type: ignore[arg-type]
    return [str(parts.get(c, document.get(c, ""))) for c in FTS_COLUMNS]


def fts_query(query: str) -> str:
    """The same query in FTS5 syntax, as near as FTS5 allows."""
    out = []
    for token in re.findall(r'"[^"]*"|\S+', query):
        negate = token.startswith("-")
        token = token.lstrip("-")
        name, sep, value = token.partition(":")
        if sep and name in ("lang", "import", "title"):
            column = {"lang": "lang", "import": "imports", "title": "title"}[name]
            text = f'{column} : "{value}"'
        elif token == "OR":  # noqa: S105 - the operator, not a password
            out.append("OR")
            continue
        elif token.startswith('"'):
            text = token
        elif token.endswith("*"):
            text = f'"{token[:-1]}" *'
        else:
            text = f'"{token}"'
        out.append(f"NOT {text}" if negate else text)
    joined = " ".join(out)
    return joined.replace(" OR NOT", " NOT").replace("OR OR", "OR")


def fts_search(db: sqlite3.Connection, query: str) -> list[tuple[int, str]]:
    try:
        return db.execute(
            "SELECT rowid, snippet(docs, -1, '[', ']', '…', 16) FROM docs WHERE docs MATCH ? "
            "ORDER BY rank LIMIT 20", (fts_query(query),)).fetchall()
    except sqlite3.OperationalError:
        return []


# -- one library ---------------------------------------------------------------------------------


def change_ten(tree: Path) -> dict[Path, bytes]:
    """Edit 10 notebooks as users do (a new markdown cell); return their old bytes."""
    import json

    originals: dict[Path, bytes] = {}
    notebooks = sorted(tree.rglob("*.ipynb"))
    for path in notebooks[:: max(1, len(notebooks) // 10)][:10]:
        data = path.read_bytes()
        nb = json.loads(data)
        nb["cells"].append({"cell_type": "markdown", "metadata": {},
                            "source": "Reviewed: quarterly reconciliation checked."})
        path.write_text(json.dumps(nb))
        originals[path] = data
    return originals


def bench_library(name: str, tree: Path, rounds: int, show: int) -> dict[str, object]:
    print(f"\n== {name}: {tree}")
    folder = synced_library(name, tree)
    row: dict[str, object] = {"library": name}
    with Library.open(folder) as lib:
        from nbshelf.library.facade import _index_procs

        load = os.getloadavg()[0]
        cpu = cpu_seconds()
        start = time.perf_counter()
        docs = lib.index.rebuild(procs=_index_procs())  # the index alone, as sync builds it
        build = time.perf_counter() - start
        row.update(docs=docs, build_s=build, rate=docs / build, size_mb=folder_mb(folder / "index"),
                   build_cpu=cpu_seconds() - cpu, build_load=load)

        samples, per_query = time_queries(lambda q: lib.search(q, limit=20), rounds)
        searcher = lib.index.searcher()
        from nbshelf.search.query import parse
        from nbshelf.search.service import top_matches

        bare, _ = time_queries(lambda q: top_matches(searcher, parse(q).query, 20), rounds)

        def cold(query: str) -> object:
            lib._searching.clear_cache()  # every hit's cells read from its blob again
            return lib.search(query, limit=20)

        cold_samples, _ = time_queries(cold, rounds)
        few, few_per_query = time_queries(lambda q: lib.search(q, limit=20), rounds, FEW_QUERIES)
        per_query.update(few_per_query)
        # the app's list: ids only (snippets follow for the rows on screen), up to 200
        few_ids, _ = time_queries(lambda q: lib.search_ids(q, limit=200), rounds, FEW_QUERIES)
        row.update(few_p50=percentile(few, 50), few_p95=percentile(few, 95),
                   few_ids_p50=percentile(few_ids, 50), few_ids_p95=percentile(few_ids, 95))
        row.update(p50=percentile(samples, 50), p95=percentile(samples, 95),
                   bare_p50=percentile(bare, 50), bare_p95=percentile(bare, 95),
                   cold_p95=percentile(cold_samples, 95),
                   segments=len(lib.index.open()._segments()))

        originals = change_ten(tree)
        try:
            lib.sync(index=False)
            start = time.perf_counter()
            updated = lib.refresh_index()
            row["update10_s"] = time.perf_counter() - start
            row["updated"] = updated
        finally:
            for path, data in originals.items():
                path.write_bytes(data)
            lib.sync()

        db, fts_build, fts_docs = build_fts(lib, WORK / f"fts-{name}.sqlite")
        fts_samples, _ = time_queries(lambda q: fts_search(db, q), rounds)
        row.update(fts_rate=fts_docs / fts_build, fts_p50=percentile(fts_samples, 50),
                   fts_p95=percentile(fts_samples, 95),
                   fts_size_mb=(WORK / f"fts-{name}.sqlite").stat().st_size / 2**20)
        if show:
            print_top_results(lib, db, per_query, show)
        db.close()
    return row


def print_top_results(lib: Library, db: sqlite3.Connection, per_query: dict[str, float],
                      show: int) -> None:
    print(f"  top {show} results per query (nbshelf), median ms:")
    for query in QUERIES + FEW_QUERIES:
        result = lib.search(query, limit=show)
        some = getattr(result, "partial_total", None)  # (forgiving matching, issue 18)
        print(f"  {query!r}  total {result.total}, {per_query[query]:.1f} ms"
              + (f"  partial {some}" if some else "")
              + ("  (partial)" if result.partial else "")
              + (f"  note: {result.note}" if getattr(result, "note", None) else "")
              + (f"  suggestion: {result.suggestion}" if result.suggestion else ""))
        for hit in result.hits:
            snippet = hit.snippets[0].text[:70] if hit.snippets else ""
            print(f"      {hit.title[:48]:<48} {hit.path[-45:]:<45} | {snippet}")


def print_table(rows: list[dict[str, object]]) -> None:
    print("\nSearch benchmark —", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    print("Machine:", machine())
    header = (f"{'library':<8} {'docs':>7} {'build s':>8} {'docs/s':>7} {'FTS5 docs/s':>11} "
              f"{'index MB':>8} {'FTS5 MB':>7} {'p50 ms':>7} {'p95 ms':>7} {'bare p95':>8} "
              f"{'cold p95':>8} {'FTS5 p50':>8} {'FTS5 p95':>8} {'p95/FTS5':>8} {'update 10':>9} "
              f"{'segments':>8} {'few p50':>7} {'few p95':>7} {'ids p50':>7} {'ids p95':>7}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['library']:<8} {r['docs']:>7} {r['build_s']:>8.1f} {r['rate']:>7.0f} "
              f"{r['fts_rate']:>11.0f} {r['size_mb']:>8.1f} {r['fts_size_mb']:>7.1f} "
              f"{r['p50']:>7.1f} {r['p95']:>7.1f} {r['bare_p95']:>8.1f} {r['cold_p95']:>8.1f} "
              f"{r['fts_p50']:>8.1f} {r['fts_p95']:>8.1f} "
              f"{r['p95'] / max(r['fts_p95'], 0.01):>8.1f} {r['update10_s']:>8.2f}s "
              f"{r['segments']:>8} {r['few_p50']:>7.1f} {r['few_p95']:>7.1f} "
              f"{r['few_ids_p50']:>7.1f} {r['few_ids_p95']:>7.1f}")
    for r in rows:
        print(f"{r['library']}: build used {r['build_cpu']:.0f} CPU s (this process and the "
              f"writer's), load average {r['build_load']:.2f} when it started")
    print("p50/p95: in-process, all queries x rounds, top 20 with snippets (the app's state: "
          "recent hits' cells cached); bare: Whoosh search alone; cold: snippets with an empty "
          "cache, every hit's blob read again; FTS5: SQLite FTS5 with snippet() on the same "
          "text, same run; segments: index segments after the build; few: FEW_QUERIES, "
          "queries few notebooks match whole (partial matches follow), as p50/p95; ids: "
          "the same queries as the app's list asks them (ids only, up to 200).")


def corpus_copy(corpus: Path) -> Path:
    """A private copy of the corpus (it is read-only, and the update test edits files)."""
    copy = WORK / "search-corpus"
    if not (copy / "MANIFEST.tsv").is_file():
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(corpus, copy, ignore=shutil.ignore_patterns("LICENSES"))
    return copy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["corpus", "10k", "50k"], action="append")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--show", type=int, default=3, help="top results printed per query")
    args = parser.parse_args()
    corpus = corpus_dir()
    if corpus is None:
        print("../shared/corpus is missing: nothing to benchmark", file=sys.stderr)
        return 1
    WORK.mkdir(exist_ok=True)
    wanted = args.only or ["corpus", "10k", "50k"]
    rows = []
    for name in wanted:
        if name == "corpus":
            tree = corpus_copy(corpus)
        else:
            tree = generate_tree(WORK, 1000 * int(name[:-1]))
        rows.append(bench_library(name, tree, args.rounds, args.show if name == "corpus" else 0))
        print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
