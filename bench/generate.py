"""Generate realistic notebook trees from the cells of the real corpus, for benchmarks.

The sync, search and similarity benchmarks need thousands of notebooks that look like a team
share: real markdown and code (with real outputs), several kernel languages, nested folders,
file names people really use, mtimes spread over years. Copying corpus notebooks many times
would make every notebook a duplicate (the store keeps identical content once, the similarity
model would see clones), so each generated notebook is a new mix of runs of consecutive cells
taken from a few corpus notebooks of one language.

Trees are written under ``bench/_work/`` (gitignored) and reused: a finished tree holds a
marker file with its N, seed and generator version, and a tree without a matching marker is
rebuilt. Everything is deterministic for a given corpus, N and seed.

Usage:
    python bench/generate.py -n 10000 [--seed 0] [--out bench/_work] [--validate 200]
"""

from __future__ import annotations

import argparse
import calendar
import hashlib
import os
import random
import re
import shutil
import stat
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

#: Bump when the output for a given (corpus, N, seed) changes, so old trees are rebuilt.
GENERATOR_VERSION = 1
MARKER_NAME = ".bench-tree.json"  # hidden: nbshelf skips it, and it travels with the tree
BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / "_work"

# Output caps. The main corpus averages 61 KB a notebook, but a few rendering stress tests
# (154 images, 3.9 MB) would dominate a random mix; these caps keep ordinary figures and
# tables and drop the giants, for an average of roughly 60-90 KB per generated notebook.
IMAGE_CAP = 160_000  # characters of base64 in one image
VALUE_CAP = 24_000  # characters in one non-image output value (HTML table, JS bundle, JSON)
TEXT_CAP = 8_000  # characters of stream text or a traceback kept before truncating
MAX_OUTPUTS = 6  # outputs kept per code cell (long training loops print hundreds)
NOTEBOOK_BYTE_BUDGET = 600_000  # stop adding chunks once a notebook is this large
MIN_CELLS, MAX_CELLS = 10, 160
FIGURE_PLACEHOLDER = "<Figure size 640x480 with 1 Axes>"

_TEAMS = (
    "analytics", "climate", "finance", "forecasting", "fraud", "genomics", "hr-analytics",
    "marketing", "ml-platform", "operations", "research", "risk", "supply-chain", "team-a",
    "team-b",
)  # fmt: skip
_USERS = ("alice", "bob", "chen", "dmitri", "eva", "farah", "goran", "hana", "ivan", "julia")
_PROJECT_A = (
    "churn", "sales", "demand", "sensor", "customer", "pricing", "inventory", "claims",
    "traffic", "energy", "survey", "credit", "image", "text", "genome", "weather", "fleet",
    "retention", "anomaly", "portfolio",
)  # fmt: skip
_PROJECT_B = (
    "model", "forecast", "analysis", "dashboard", "etl", "study", "pipeline", "report",
    "experiments", "baseline", "segmentation", "monitoring", "cleanup", "poc",
)  # fmt: skip
_SUBFOLDERS = (
    "exploration", "reports", "archive", "experiments", "archive/old", "sandbox",
    "models", "data-prep", "experiments/run-01", "experiments/run-02", "review",
)  # fmt: skip
_YEARS = tuple(range(2019, 2026))


def corpus_dir() -> Path | None:
    """The real notebook corpus: ``$NBSHELF_CORPUS``, else ``../shared/corpus``; None if absent."""
    env = os.environ.get("NBSHELF_CORPUS")
    candidates = [Path(env)] if env else []
    candidates.append(BENCH_DIR.parent.parent / "shared" / "corpus")
    for folder in candidates:
        if (folder / "MANIFEST.tsv").is_file():
            return folder.resolve()
    return None


# -- the cell pool -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """A sanitized corpus cell, ready to place in a generated notebook."""

    data: dict[str, Any]  # without "id"; execution counts are renumbered per notebook
    size: int  # approximate serialized size, for the per-notebook byte budget
    kind: str
    has_result: bool  # holds an execute_result whose execution_count must follow the cell's


@dataclass(frozen=True)
class SourceNotebook:
    """A corpus notebook as a source of cells: its kernel metadata and its cells."""

    path: str
    metadata: dict[str, Any]  # only kernelspec and language_info
    cells: tuple[Cell, ...]


@dataclass
class CellPool:
    """The corpus, grouped by kernel language, with the distributions the mix follows."""

    groups: dict[str, list[SourceNotebook]] = field(default_factory=dict)
    headings: dict[str, list[Cell]] = field(default_factory=dict)
    cell_counts: list[int] = field(default_factory=list)
    fingerprint: str = ""

    def group_names(self) -> list[str]:
        """Language groups in a fixed order (for determinism)."""
        return sorted(self.groups)


def load_pool(corpus: Path) -> CellPool:
    """Read the main corpus (not the ``edge/`` fixtures) into a cell pool.

    Only nbformat 4 notebooks are used: their cells need no conversion.
    """
    pool = CellPool(fingerprint=_fingerprint(corpus))
    for path in sorted(corpus.rglob("*.ipynb")):
        rel = path.relative_to(corpus).as_posix()
        if rel.startswith("edge/"):
            continue
        try:
            raw = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError:
            continue
        if not isinstance(raw, dict) or raw.get("nbformat") != 4:
            continue
        source = _source_notebook(rel, raw)
        if not source.cells:
            continue
        group = _language(source.metadata)
        pool.groups.setdefault(group, []).append(source)
        pool.cell_counts.append(len(source.cells))
        pool.headings.setdefault(group, []).extend(c for c in source.cells if _is_heading(c))
    return pool


def _fingerprint(corpus: Path) -> str:
    """Identifies the corpus version, so a tree made from another corpus is rebuilt."""
    return hashlib.sha256((corpus / "MANIFEST.tsv").read_bytes()).hexdigest()[:16]


def _source_notebook(rel: str, raw: dict[str, Any]) -> SourceNotebook:
    meta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    kept = {k: meta[k] for k in ("kernelspec", "language_info") if isinstance(meta.get(k), dict)}
    cells = []
    for cell in raw.get("cells") or []:
        clean = _clean_cell(cell) if isinstance(cell, dict) else None
        if clean is not None:
            cells.append(
                Cell(clean, len(orjson.dumps(clean)), clean["cell_type"], _has_result(clean))
            )
    return SourceNotebook(rel, kept, tuple(cells))


def _language(metadata: dict[str, Any]) -> str:
    spec = metadata.get("kernelspec") or {}
    info = metadata.get("language_info") or {}
    name = str(spec.get("language") or info.get("name") or "unknown").lower()
    return "python" if name.startswith("python") else name  # "python3" is the same kernel


def _is_heading(cell: Cell) -> bool:
    if cell.kind != "markdown":
        return False
    text = _text(cell.data.get("source", "")).lstrip()
    return text.startswith("# ") or text.startswith("## ")


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _clean_cell(cell: dict[str, Any]) -> dict[str, Any] | None:
    """A schema-valid (nbformat 4.5) copy of a corpus cell, its outputs capped.

    Unknown cell keys (``jetTransient``, v4.0 ``id``s) are dropped: the corpus has a few
    schema-invalid cells, and the generated trees should be valid unless made otherwise.
    """
    kind = cell.get("cell_type")
    source = cell.get("source", "")
    if kind not in ("markdown", "code") or not isinstance(source, str | list):
        return None
    meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
    clean: dict[str, Any] = {"cell_type": kind, "metadata": _clean_cell_metadata(meta)}
    clean["source"] = source
    if kind == "markdown":
        if isinstance(cell.get("attachments"), dict):
            clean["attachments"] = cell["attachments"]
        return clean
    count = cell.get("execution_count")
    clean["execution_count"] = count if isinstance(count, int) else None
    outputs = [_clean_output(o) for o in cell.get("outputs") or [] if isinstance(o, dict)]
    clean["outputs"] = [o for o in outputs if o is not None][:MAX_OUTPUTS]
    return clean


def _clean_cell_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    # Keys the v4 schema types strictly are kept only when well-typed; others pass through
    # (dotnet_interactive, slideshow, editable: realistic variety).
    kept = {
        k: v
        for k, v in meta.items()
        if k not in ("collapsed", "scrolled", "tags", "jupyter", "execution")
    }
    if isinstance(meta.get("collapsed"), bool):
        kept["collapsed"] = meta["collapsed"]
    tags = meta.get("tags")
    if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
        kept["tags"] = list(dict.fromkeys(tags))
    return kept


def _clean_output(out: dict[str, Any]) -> dict[str, Any] | None:
    kind = out.get("output_type")
    if kind == "stream":
        text = out.get("text", "")
        name = out.get("name") if out.get("name") in ("stdout", "stderr") else "stdout"
        return {"output_type": "stream", "name": name, "text": _cap_text(text)}
    if kind == "error":
        trace = [str(line) for line in out.get("traceback") or []]
        while len(trace) > 1 and sum(map(len, trace)) > TEXT_CAP:
            trace.pop(len(trace) // 2)  # keep the first and last frames: the useful ones
        return {
            "output_type": "error",
            "ename": str(out.get("ename", "Error")),
            "evalue": str(out.get("evalue", "")),
            "traceback": trace,
        }
    if kind not in ("display_data", "execute_result") or not isinstance(out.get("data"), dict):
        return None
    clean: dict[str, Any] = {"output_type": kind, "data": _cap_bundle(out["data"])}
    clean["metadata"] = out["metadata"] if isinstance(out.get("metadata"), dict) else {}
    if kind == "execute_result":
        clean["execution_count"] = None  # set per notebook, to follow the cell's count
    return clean


def _cap_bundle(data: dict[str, Any]) -> dict[str, Any]:
    """Drop output values larger than the caps; keep at least a plain-text stand-in."""
    kept: dict[str, Any] = {}
    for mime, value in data.items():
        size = len(orjson.dumps(value))
        cap = IMAGE_CAP if mime.startswith("image/") else VALUE_CAP
        if size <= cap:
            kept[mime] = value
    if not kept:
        had_image = any(m.startswith("image/") for m in data)
        kept["text/plain"] = [FIGURE_PLACEHOLDER if had_image else "<output too large, removed>"]
    return kept


def _cap_text(text: Any) -> Any:
    if isinstance(text, list):
        if sum(len(str(line)) for line in text) <= TEXT_CAP:
            return text
        kept, total = [], 0
        for line in text:
            total += len(str(line))
            if total > TEXT_CAP:
                break
            kept.append(str(line))
        return [*kept, "...\n"]
    text = str(text)
    return text if len(text) <= TEXT_CAP else text[:TEXT_CAP] + "\n...\n"


def _has_result(cell: dict[str, Any]) -> bool:
    return any(o["output_type"] == "execute_result" for o in cell.get("outputs", ()))


# -- composing one notebook ----------------------------------------------------------------


def compose_notebook(pool: CellPool, rng: random.Random) -> dict[str, Any]:
    """A new notebook: an optional heading, then runs of consecutive cells of one language.

    Kernel metadata is taken from the notebook that gave the first code cell, as a user who
    copied that code into a fresh notebook would have.
    """
    groups = pool.group_names()
    group = rng.choices(groups, weights=[len(pool.groups[g]) for g in groups])[0]
    sources = pool.groups[group]
    target = min(max(rng.choice(pool.cell_counts), MIN_CELLS), MAX_CELLS)
    picked: list[tuple[Cell, SourceNotebook | None]] = []
    if pool.headings.get(group) and rng.random() < 0.85:
        picked.append((rng.choice(pool.headings[group]), None))
    size = sum(c.size for c, _ in picked)
    while len(picked) < target and size < NOTEBOOK_BYTE_BUDGET:
        source = rng.choice(sources)
        start = rng.randrange(len(source.cells))
        for cell in source.cells[start : start + rng.randint(2, 12)]:
            picked.append((cell, source))
            size += cell.size
    first_code = next((s for c, s in picked if c.kind == "code" and s is not None), None)
    metadata = dict(first_code.metadata) if first_code else dict(sources[0].metadata)
    return {
        "cells": _number_cells([c for c, _ in picked], rng),
        "metadata": metadata,
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _number_cells(cells: list[Cell], rng: random.Random) -> list[dict[str, Any]]:
    """Give each cell a unique id and the code cells increasing execution counts."""
    out: list[dict[str, Any]] = []
    ids: set[str] = set()
    count = 0
    for cell in cells:
        data = dict(cell.data)  # shallow: the pool's cells are shared between notebooks
        cell_id = f"{rng.getrandbits(32):08x}"
        while cell_id in ids:
            cell_id = f"{rng.getrandbits(32):08x}"
        ids.add(cell_id)
        data["id"] = cell_id
        if cell.kind == "code" and data["execution_count"] is not None:
            count += 1
            data["execution_count"] = count
            if cell.has_result:
                data["outputs"] = [_with_count(o, count) for o in data["outputs"]]
        out.append(data)
    return out


def _with_count(output: dict[str, Any], count: int) -> dict[str, Any]:
    if output["output_type"] != "execute_result":
        return output
    return {**output, "execution_count": count}


# -- the folder layout ---------------------------------------------------------------------


@dataclass(frozen=True)
class Folder:
    """A leaf folder of the tree, with how many notebooks go in it and their time span."""

    relpath: str
    count: int
    year: int | None  # None for personal folders, which span all years


def plan_folders(n: int, rng: random.Random) -> list[Folder]:
    """Spread ``n`` notebooks over team/year/project folders, a few personal scratch folders.

    Project sizes are skewed like a real share: most projects hold a handful of notebooks,
    a few hold a hundred.
    """
    folders: list[Folder] = []
    used: set[str] = set()
    left = n
    while left > 0:
        size = min(left, max(1, int(rng.lognormvariate(2.6, 0.9))))
        left -= size
        base = _project_path(rng, used)
        year = _year_of(base)
        parts = _split_project(size, rng)
        for sub, count in parts:
            folders.append(Folder(f"{base}/{sub}" if sub else base, count, year))
    return folders


def _project_path(rng: random.Random, used: set[str]) -> str:
    while True:
        project = f"{rng.choice(_PROJECT_A)}-{rng.choice(_PROJECT_B)}"
        if rng.random() < 0.1:
            path = f"users/{rng.choice(_USERS)}/scratch/{project}"
        else:
            path = f"{rng.choice(_TEAMS)}/{rng.choice(_YEARS)}/{project}"
        if path not in used:
            used.add(path)
            return path


def _year_of(path: str) -> int | None:
    match = re.search(r"/(\d{4})/", path)
    return int(match.group(1)) if match else None


def _split_project(size: int, rng: random.Random) -> list[tuple[str, int]]:
    """Notebooks at the project's top, and in up to three subfolders when it is big enough."""
    if size < 6:
        return [("", size)]
    subs = rng.sample(_SUBFOLDERS, k=rng.randint(1, 3))
    cuts = sorted(rng.sample(range(1, size), k=min(len(subs), size - 1)))
    bounds = [0, *cuts, size]
    names = ["", *subs]
    return [(names[i], bounds[i + 1] - bounds[i]) for i in range(len(bounds) - 1)]


def notebook_title(nb: dict[str, Any]) -> str:
    """The first markdown heading's text, else the first markdown line, else empty."""
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for line in _text(cell["source"]).splitlines():
            line = line.strip()
            if line:
                return re.sub(r"[#*_`\[\]()<>]", "", line).strip()
    return ""


def file_name(title: str, index: int, year: int | None, rng: random.Random) -> str:
    """A file name in one of the styles people use on shares (numbered, dated, versioned)."""
    words = re.sub(r"[^\w\- ]+", "", title).split()[:7]
    slug = "_".join(words).lower() or "analysis"
    style = rng.random()
    if style < 0.08:
        return f"Untitled{index or ''}.ipynb"
    if style < 0.3:
        return f"{index:02d}_{slug}.ipynb"
    if style < 0.45:
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        return f"{year or rng.choice(_YEARS)}-{month:02d}-{day:02d}_{slug}.ipynb"
    if style < 0.58:
        return f"{slug}{rng.choice(('_v2', '_v3', '-final', '_old', ' (copy)', '-wip'))}.ipynb"
    if style < 0.7:
        return " ".join(words)[:60].strip() + ".ipynb" if words else f"notebook {index}.ipynb"
    return f"{slug[:60]}.ipynb"


def _mtime_ns(year: int | None, rng: random.Random) -> int:
    year = year or rng.choice(_YEARS)
    start = calendar.timegm((year, 1, 1, 0, 0, 0))  # UTC: the same mtimes in any time zone
    end = calendar.timegm((year + 1, 1, 1, 0, 0, 0))
    return int(rng.uniform(start, end) * 1e9)


# -- writing the tree ----------------------------------------------------------------------


def tree_name(n: int, seed: int) -> str:
    """The folder name of a generated tree."""
    return f"tree-{n}-seed{seed}"


def generate_tree(root: Path, n: int, seed: int = 0, *, quiet: bool = True) -> Path:
    """Return a tree of ``n`` generated notebooks under ``root``, generating it if needed.

    The tree is ``root/tree-<n>-seed<seed>``; an existing one is reused when its marker
    matches (N, seed, generator version, corpus). A half-written tree (a killed run) has no
    marker and is rebuilt.

    Raises:
        FileNotFoundError: the corpus is not there.
    """
    corpus = corpus_dir()
    if corpus is None:
        raise FileNotFoundError(
            "the notebook corpus (../shared/corpus or $NBSHELF_CORPUS) is missing"
        )
    tree = Path(root) / tree_name(n, seed)
    fingerprint = _fingerprint(corpus)
    if _marker_matches(tree, n, seed, fingerprint):
        return tree
    partial = Path(root) / f".partial-{tree.name}"
    for stale in (tree, partial):
        if stale.exists():
            shutil.rmtree(stale)
    started = time.monotonic()
    pool = load_pool(corpus)
    written = write_notebooks(partial, pool, n, seed, quiet=quiet)
    marker = {
        "n": n,
        "seed": seed,
        "generator": GENERATOR_VERSION,
        "corpus": fingerprint,
        "bytes": written,
        "seconds": round(time.monotonic() - started, 1),
    }
    (partial / MARKER_NAME).write_bytes(orjson.dumps(marker, option=orjson.OPT_INDENT_2))
    os.replace(partial, tree)  # the tree appears complete or not at all
    return tree


def _marker_matches(tree: Path, n: int, seed: int, fingerprint: str) -> bool:
    try:
        marker = orjson.loads((tree / MARKER_NAME).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    want = {"n": n, "seed": seed, "generator": GENERATOR_VERSION, "corpus": fingerprint}
    return all(marker.get(k) == v for k, v in want.items())


def write_notebooks(target: Path, pool: CellPool, n: int, seed: int, *, quiet: bool = True) -> int:
    """Write ``n`` notebooks (and the small extra files of a share) under ``target``.

    Returns the notebook bytes written.
    """
    rng = random.Random(seed)
    total = done = 0
    for folder in plan_folders(n, rng):
        path = target / folder.relpath
        path.mkdir(parents=True, exist_ok=True)
        names: set[str] = set()
        for index in range(1, folder.count + 1):
            nb = compose_notebook(pool, rng)
            name = _unique(file_name(notebook_title(nb), index, folder.year, rng), names)
            data = orjson.dumps(nb, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
            _write(path / name, data, _mtime_ns(folder.year, rng))
            total += len(data)
            done += 1
            if not quiet and done % 1000 == 0:
                print(f"  {done:,}/{n:,} notebooks, {total / 1e6:,.0f} MB", file=sys.stderr)
        _extras(path, names, rng)
    return total


def _unique(name: str, names: set[str]) -> str:
    stem, k = name.removesuffix(".ipynb"), 2
    while name.lower() in names:  # case-insensitive: the share may be SMB
        name = f"{stem}-{k}.ipynb"
        k += 1
    names.add(name.lower())
    return name


def _write(path: Path, data: bytes, mtime_ns: int) -> None:
    with open(path, "wb") as out:
        out.write(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def _extras(folder: Path, names: set[str], rng: random.Random) -> None:
    """What else lies in notebook folders: READMEs, small data files, Jupyter checkpoints.

    They make the walk realistic: a scan must step over them, and nbshelf must skip the
    hidden ``.ipynb_checkpoints`` copies.
    """
    roll = rng.random()
    if roll < 0.3:
        (folder / "README.md").write_text(f"# {folder.name}\n\nNotes for {folder.name}.\n")
    if roll < 0.15:
        (folder / "data").mkdir(exist_ok=True)
        rows = "\n".join(f"{i},{rng.random():.4f}" for i in range(rng.randint(5, 50)))
        (folder / "data" / "sample.csv").write_text("id,value\n" + rows + "\n")
    if roll > 0.9 and names:
        checkpoints = folder / ".ipynb_checkpoints"
        checkpoints.mkdir(exist_ok=True)
        name = sorted(names)[0]
        for real in folder.iterdir():
            if real.name.lower() == name:
                stem = real.name.removesuffix(".ipynb")
                shutil.copyfile(real, checkpoints / f"{stem}-checkpoint.ipynb")
                break


# -- a copy of the corpus that benchmarks may touch ----------------------------------------


def copy_corpus(root: Path) -> Path:
    """A private copy of the whole corpus under ``root``, for benchmarks that modify files.

    The shared corpus is read-only for everyone; a benchmark that touches notebooks works on
    this copy (mtimes preserved), made once and reused.
    """
    corpus = corpus_dir()
    if corpus is None:
        raise FileNotFoundError(
            "the notebook corpus (../shared/corpus or $NBSHELF_CORPUS) is missing"
        )
    target = Path(root) / "corpus-copy"
    fingerprint = _fingerprint(corpus)
    marker = target / MARKER_NAME
    if marker.is_file() and orjson.loads(marker.read_bytes()).get("corpus") == fingerprint:
        return target
    partial = Path(root) / ".partial-corpus-copy"
    for stale in (target, partial):
        if stale.exists():
            shutil.rmtree(stale)
    shutil.copytree(corpus, partial, symlinks=True)
    _make_writable(partial)  # the shared corpus is read-only; benchmarks edit their copy
    (partial / MARKER_NAME).write_bytes(orjson.dumps({"corpus": fingerprint}))
    os.replace(partial, target)
    return target


def _make_writable(root: Path) -> None:
    for folder, _dirs, names in os.walk(root):
        for path in [folder, *(os.path.join(folder, n) for n in names)]:
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR)


def notebook_files(tree: Path) -> Iterator[Path]:
    """The ``.ipynb`` files nbshelf would sync: no hidden folders or files, no symlinks."""
    stack = [str(tree)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.name.startswith(".") or entry.is_symlink():
                    continue
                if entry.is_dir():
                    stack.append(entry.path)
                elif entry.name.lower().endswith(".ipynb"):
                    yield Path(entry.path)


# -- command line ----------------------------------------------------------------------------


def _validate_sample(tree: Path, k: int, seed: int) -> None:
    """Check ``k`` random notebooks against the nbformat schema; report the failures."""
    import nbformat  # slow to import; only this check needs it

    files = sorted(notebook_files(tree))
    sample = random.Random(seed).sample(files, min(k, len(files)))
    failures: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for path in sample:
        try:
            nbformat.validate(
                nbformat.reads(path.read_text("utf-8"), as_version=nbformat.NO_CONVERT)
            )
        except nbformat.ValidationError as err:
            key = str(err.message)[:100]
            failures[key] += 1
            examples.setdefault(key, str(path.relative_to(tree)))
    print(f"validated {len(sample)} notebooks: {len(sample) - sum(failures.values())} valid")
    for key, count in failures.most_common():
        print(f"  {count} x {key}  (e.g. {examples[key]})")


def _describe(tree: Path) -> None:
    files = list(notebook_files(tree))
    sizes = sorted(f.stat().st_size for f in files)
    folders = {f.parent for f in files}
    languages: defaultdict[str, int] = defaultdict(int)
    for f in files[:: max(1, len(files) // 500)]:
        meta = orjson.loads(f.read_bytes())["metadata"]
        languages[_language(meta)] += 1
    print(
        f"{tree}: {len(files):,} notebooks in {len(folders):,} folders, "
        f"{sum(sizes) / 1e6:,.0f} MB, mean {sum(sizes) / len(sizes) / 1e3:.0f} KB, "
        f"median {sizes[len(sizes) // 2] / 1e3:.0f} KB, max {sizes[-1] / 1e3:.0f} KB"
    )
    mix = ", ".join(f"{k} {v}" for k, v in sorted(languages.items(), key=lambda kv: -kv[1])[:8])
    print(f"  languages (sample of {sum(languages.values())}): {mix}")


def main(argv: list[str] | None = None) -> int:
    """Command line: generate (or reuse) a tree and describe it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="number of notebooks (10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WORK_DIR, help="parent folder (bench/_work)")
    parser.add_argument("--validate", type=int, default=0, metavar="K",
                        help="schema-check K random notebooks of the tree")  # fmt: skip
    args = parser.parse_args(argv)
    if corpus_dir() is None:
        print("the corpus is missing (../shared/corpus or $NBSHELF_CORPUS)", file=sys.stderr)
        return 1
    started = time.monotonic()
    tree = generate_tree(args.out, args.n, args.seed, quiet=False)
    print(f"ready in {time.monotonic() - started:.1f} s")
    _describe(tree)
    if args.validate:
        _validate_sample(tree, args.validate, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
