"""Start-up benchmark (issue 5): cold start of the app to a shown, populated window.

Each measurement is a fresh process, started the way a user's double-click starts it
(``python -m nbshelf --library LIB``), offscreen, with ``NBSHELF_QUIT_AFTER_FIRST_ROWS=1``:
the app prints the moment its list has painted the first loaded rows, then quits. The time
from spawning the process to that moment is "first rows". Beside it, in the same run and
interleaved, the floor no Qt app can beat: ``python -c "import PySide6.QtWidgets"`` to exit.

Libraries (kept under ``bench/_work``, made once):

- ``startup-lib-corpus``: the corpus (1,172 notebooks), copied from ``search-lib-corpus``
  when that is there (catalog through SQLite's backup, blobs hard-linked, index copied), else
  synced from the corpus;
- ``startup-lib-50k``: 50,000 generated notebooks (``bench/generate.py``), copied the same
  way from ``similar-lib-50k`` or ``search-lib-50k``, else synced with ``index=False`` (the
  list reads the catalog only: the app needs no search index to show its first rows).

The OS file cache is warm (other work shares the machine; it is not dropped). The start-up
sync the app begins is cancelled when it quits, as when a user closes the window.

It also checks that heavy modules stay off the start path: the probe lists the packages
loaded when the first rows show; ``python -X importtime`` names who imports one found there.

Usage: python bench/startup.py [--rounds 5] [--only corpus|50k]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import corpus_dir, generate_tree  # noqa: E402

WORK = Path(__file__).resolve().parent / "_work"
PYTHON = sys.executable
#: Modules that must not load before the window shows (they load when first needed).
HEAVY = ("sklearn", "nbconvert", "jupyter_client", "nbclient", "markdown_it", "latex2mathml",
         "scipy", "pandas", "matplotlib")
TARGETS = {"corpus": 2.0, "50k": 3.0}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NBSHELF_LIBRARY"}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        QTWEBENGINE_DISABLE_SANDBOX="1",
        NBSHELF_INDEX_PROCS="1",
        NBSHELF_QUIT_AFTER_FIRST_ROWS="1",
    )
    return env


def _copy_library(origin: Path, folder: Path) -> None:
    """A library of our own from another bench's: the app opens it as the writer."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    source = sqlite3.connect(f"file:{origin / 'catalog.sqlite'}?mode=ro", uri=True)
    target = sqlite3.connect(tmp / "catalog.sqlite")
    with target:
        source.backup(target)
    source.close()
    target.close()
    # Blobs never change in place (writes replace files): hard links are a safe copy.
    shutil.copytree(origin / "blobs", tmp / "blobs", copy_function=os.link)
    if (origin / "index").is_dir():
        shutil.copytree(origin / "index", tmp / "index")
    (tmp / "synced-from").write_text((origin / "synced-from").read_text())
    tmp.rename(folder)


def _sync_library(tree: Path, folder: Path) -> None:
    from nbshelf.library import Library

    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with Library.open(tmp) as lib:
        lib.add_source(tree, name="bench")
        lib.sync(index=False)
    (tmp / "synced-from").write_text(str(tree))
    tmp.rename(folder)


def library(name: str) -> Path:
    """The library ``startup-lib-<name>``, made the cheapest way the first time."""
    folder = WORK / f"startup-lib-{name}"
    if (folder / "synced-from").is_file():
        return folder
    candidates = (
        ["search-lib-corpus"] if name == "corpus" else ["similar-lib-50k", "search-lib-50k"]
    )
    for candidate in candidates:
        origin = WORK / candidate
        if (origin / "synced-from").is_file() and (origin / "catalog.sqlite").is_file():
            print(f"copying {origin.name} to {folder.name} …", flush=True)
            _copy_library(origin, folder)
            return folder
    if name == "corpus":
        tree = corpus_dir()
        if tree is None:
            raise SystemExit("no corpus: set NBSHELF_CORPUS")
    else:
        tree = generate_tree(WORK / "tree-50000-seed0", 50_000)
    print(f"syncing {tree} into {folder.name} (minutes for 50,000) …", flush=True)
    _sync_library(tree, folder)
    return folder


def first_rows(lib: Path) -> tuple[float, float, set[str]]:
    """Seconds from spawn to the first painted rows and to the process's exit, and the
    top-level packages loaded when the rows showed."""
    start = time.time()
    proc = subprocess.run(
        [PYTHON, "-m", "nbshelf", "--library", str(lib)],
        env=_env(), capture_output=True, text=True, timeout=180,
    )
    ended = time.time() - start
    lines = {line.split(" ", 1)[0]: line.split()[1:] for line in proc.stdout.splitlines()}
    if "nbshelf-first-rows" not in lines:
        raise SystemExit(f"the app did not report its first rows (exit {proc.returncode}):\n"
                         f"{proc.stderr[-2000:]}")
    shown = float(lines["nbshelf-first-rows"][0]) - start
    return shown, ended, set(lines.get("nbshelf-loaded", []))


def bare_qt() -> float:
    start = time.time()
    subprocess.run([PYTHON, "-c", "import PySide6.QtWidgets"], check=True, env=_env())
    return time.time() - start


def heavy_imports() -> dict[str, str]:
    """Heavy top-level modules the start path imports (the app, and the viewer module for its
    URL scheme), with who imports them."""
    proc = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", "import nbshelf.ui.app, nbshelf.ui.viewer"],
        env=_env(), capture_output=True, text=True, check=True,
    )
    stack: list[tuple[int, str]] = []
    found: dict[str, str] = {}
    # importtime prints children before their parent; indentation gives the depth.
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        name_part = line.rsplit("|", 1)[1]
        depth = (len(name_part) - len(name_part.lstrip(" "))) // 2
        name = name_part.strip()
        stack.append((depth, name))
        top = name.split(".")[0]
        if name in HEAVY:
            found[name] = name
    # Who pulled each one in: walk up the parents (the next shallower line, each time) to
    # the nearest nbshelf module.
    for top in list(found):
        index = next(i for i, (_d, n) in enumerate(stack) if n == top)
        depth = stack[index][0]
        for d, n in stack[index + 1:]:
            if d < depth:
                depth = d
                if n.startswith("nbshelf"):
                    found[top] = f"{top} (imported by {n})"
                    break
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", choices=["corpus", "50k"])
    args = parser.parse_args()
    names = [args.only] if args.only else ["corpus", "50k"]
    libraries = {name: library(name) for name in names}
    counts = {}
    for name, lib in libraries.items():
        con = sqlite3.connect(f"file:{lib / 'catalog.sqlite'}?mode=ro", uri=True)
        counts[name] = con.execute(
            "select count(*) from notebooks where removed_at is null").fetchone()[0]
        con.close()
    first_rows(libraries[names[0]])  # warm-up: bytecode caches, the OS file cache
    bare: list[float] = []
    shown: dict[str, list[float]] = {name: [] for name in names}
    ended: dict[str, list[float]] = {name: [] for name in names}
    loaded: set[str] = set()
    for _ in range(args.rounds):
        bare.append(bare_qt())
        for name, lib in libraries.items():
            seconds, total, packages = first_rows(lib)
            shown[name].append(seconds)
            ended[name].append(total)
            loaded |= packages
    static = heavy_imports()
    heavy = {
        top: static.get(top, f"{top} (imported at run time, before the first rows)")
        for top in HEAVY if top in loaded
    }
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []

    print()
    print(f"| start-up, fresh processes (median of {args.rounds}, min–max) | seconds |")
    print("|---|---:|")
    med = statistics.median
    print(f"| `python -c \"import PySide6.QtWidgets\"` | {med(bare):.2f} "
          f"({min(bare):.2f}–{max(bare):.2f}) |")
    for name in names:
        values = shown[name]
        verdict = "met" if med(values) <= TARGETS[name] else "NOT met"
        print(f"| app to first rows painted, {name} library ({counts[name]:,} notebooks) | "
              f"{med(values):.2f} ({min(values):.2f}–{max(values):.2f}); target "
              f"≤ {TARGETS[name]:g} s: {verdict} |")
    for name in names:
        print(f"| … and to exit (start-up sync cancelled), {name} | {med(ended[name]):.2f} |")
    print()
    if heavy:
        for top, where in heavy.items():
            print(f"on the start path: {top} — {where}")
    else:
        print(f"not loaded when the first rows show: {', '.join(HEAVY)}")
    if load:
        print(f"load average after the run: {' '.join(load)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
