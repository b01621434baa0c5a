"""A long session in the window: does the app's memory stay flat while an analyst works?

Opens the window on LIBRARY (a synced library; the corpus library is a good one: real
notebooks, real pictures), then, until ``--searches`` are done: types a question letter by
letter (15 questions, in a seeded order), waits for the list, opens one of the first ten
rows and shows its page or its similar notebooks. Every 20 searches it prints the process's
resident memory after a garbage collection, and the reference measured in the same run: the
memory after the first 20 searches, when the caches a session needs are filled. Last, the
growth per 100 searches after that point: a leak shows as steady growth; caches level off.

Needs a display: run it under Xvfb.

Usage:
    QT_QPA_PLATFORM=xcb xvfb-run -a python bench/session.py LIBRARY [--searches 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's nbshelf
sys.path.insert(1, str(Path(__file__).resolve().parent.parent / "scripts"))
os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from PySide6.QtCore import QItemSelectionModel  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from screenshots_app import open_window, settle, wait_until  # noqa: E402
from tables import header, row  # noqa: E402

from nbshelf.ui.viewer import register_scheme  # noqa: E402

QUESTIONS = [
    "time series", "combine two tables", "plot", "pandas groupby", "missing data",
    "neural network", "regression", "widgets", "julia", "forecast", "sympy", "kernel",
    "markdown", "latex", "numpy array",
]
SAMPLE_EVERY = 20


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library", type=Path)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    register_scheme()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window, runner = open_window(args.library)
    model = window.model
    rng = random.Random(args.seed)
    cols = [("searches", 10), ("seconds", 10), ("RSS MB", 10), ("vs reference", 14)]
    print("\n".join(header(cols)))
    start, reference = time.perf_counter(), None
    samples: list[tuple[int, float]] = []
    for done in range(1, args.searches + 1):
        question = rng.choice(QUESTIONS)
        for typed in range(1, len(question) + 1):  # letter by letter, as typed
            window.search.setText(question[:typed])
            settle(0.02)
        wait_until(lambda q=question: model.query.text == q and not model.loading)
        if model.rowCount():
            chosen = model.index(rng.randrange(min(model.rowCount(), 10)), 0)
            window.table.selectionModel().setCurrentIndex(
                chosen, QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
            window.pane.tabs.setCurrentIndex(rng.randrange(2))  # its page, or similar ones
            settle(0.3)
        if done % SAMPLE_EVERY == 0:
            gc.collect()
            now = rss_mb()
            reference = reference if reference is not None else now
            samples.append((done, now))
            print(row(cols, [f"{done}", f"{time.perf_counter() - start:.0f}", f"{now:.0f}",
                             f"{now - reference:+.0f}"]), flush=True)
    if len(samples) > 1:
        (first, low), (last, high) = samples[0], samples[-1]
        steps = sorted(b - a for (_, a), (_, b) in zip(samples, samples[1:], strict=False))
        # the median step too: one big notebook's page makes a single jump that the
        # allocator keeps, which the overall slope would read as a leak
        print(f"growth after the reference: {(high - low) / (last - first) * 100:+.1f} MB per "
              f"100 searches ({first}-{last}); median step "
              f"{steps[len(steps) // 2] * 100 / SAMPLE_EVERY:+.1f} MB per 100; "
              f"load {os.getloadavg()[0]:.2f}")
    window.close()
    runner.shutdown()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
