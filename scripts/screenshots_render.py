"""Screenshots of the notebook viewer on corpus notebooks (issue 9), offscreen.

Shows three real notebooks, one with math, one with plots, one with an error, in the real
``NotebookViewer`` and saves ``grab()`` PNGs under ``screenshots/`` (gitignored). Also prints
how long each page took to load, the largest corpus notebook included.

Usage:
    python scripts/screenshots_render.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT))

# Before Qt loads: headless, and WebEngine refuses to run as root without this.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWebEngineCore import QWebEngineScript  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from nbshelf.render import RenderHeader, render_notebook  # noqa: E402
from nbshelf.ui.viewer import ASSET_BASE, NotebookViewer, register_scheme  # noqa: E402

# (file name, notebook, CSS selector to scroll to or None, report view)
SHOTS = [
    ("math", "ipython-ipython-in-depth/examples/Notebook/Typesetting Equations.ipynb", None, False),
    (
        "math-aligned",
        "quantecon-lecture-python-notebooks/stats_examples.ipynb",
        "#Pascal-negative-binomial-distribution",
        False,
    ),
    (
        "plots",
        "jakevdp-pythondatasciencehandbook/notebooks/04.02-Simple-Scatter-Plots.ipynb",
        None,
        False,
    ),
    (
        "error",
        "jakevdp-pythondatasciencehandbook/notebooks/01.06-Errors-and-Debugging.ipynb",
        ".nbs-error",
        False,
    ),
    ("largest-report-view", "ageron-handson-ml3/09_unsupervised_learning.ipynb", None, True),
]


def wait(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def load(viewer: NotebookViewer, page: str) -> float:
    """Show a page and return the seconds until it finished loading."""
    loop = QEventLoop()
    viewer.loadFinished.connect(loop.quit)
    start = time.perf_counter()
    viewer.show_html(page)
    loop.exec()
    viewer.loadFinished.disconnect(loop.quit)
    return time.perf_counter() - start


def scroll_to(viewer: NotebookViewer, selector: str) -> None:
    script = f"var e = document.querySelector({json.dumps(selector)}); if (e) e.scrollIntoView();"
    viewer.page().runJavaScript(script, QWebEngineScript.ScriptWorldId.ApplicationWorld)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"no corpus at {CORPUS}")
    args.out.mkdir(parents=True, exist_ok=True)

    register_scheme()
    app = QApplication(sys.argv)
    viewer = NotebookViewer()
    viewer.resize(1200, 900)
    viewer.show()
    for name, rel, selector, report in SHOTS:
        path = CORPUS / rel
        start = time.perf_counter()
        nb = json.loads(path.read_text(encoding="utf-8"))
        header = RenderHeader(
            source="corpus",
            path=rel,
            size=path.stat().st_size,
            marking="UNCLASSIFIED // SAMPLE MARKING",
        )
        page = render_notebook(
            nb, base_dir=path.parent, header=header, report_view=report, asset_base=ASSET_BASE
        )
        rendered = time.perf_counter() - start
        loaded = load(viewer, page)
        if selector:
            scroll_to(viewer, selector)
        wait(700)  # layout and paint settle after loadFinished
        target = args.out / f"render-{name}.png"
        viewer.grab().save(str(target))
        print(
            f"{target.name}: {rel} ({path.stat().st_size / 1e6:.1f} MB) parse+render "
            f"{rendered * 1e3:.0f} ms, load in viewer {loaded * 1e3:.0f} ms"
        )
    print(f"requests blocked by the interceptor: {len(viewer.interceptor.blocked)}")
    viewer.deleteLater()
    wait(100)
    app.quit()


if __name__ == "__main__":
    main()
