"""Marking banners cannot be covered by notebook content (issue 13, finding 4).

A markdown cell pulled up over the page's top with negative margins, made a stacking context
of its own with ``opacity``, painted a fake "UNCLASSIFIED" strip over a TOP SECRET banner.
These tests look at the pixels on screen, offscreen, as a reader would.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from nbformat import v4
from PySide6.QtCore import QItemSelectionModel, QPoint, QRect
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QLabel

from nbshelf.library import Library
from nbshelf.render import RenderHeader, render_notebook
from nbshelf.ui.pane import ViewSlot
from nbshelf.ui.viewer import ASSET_BASE, NotebookViewer
from tests.helpers import make_notebook, write_notebook
from tests.ui.uihelpers import LOAD_TIMEOUT_MS, open_window, run_js

MARKING = "TOP SECRET"
BANNER = QColor("#7a1f1f")  # .nbs-marking in resources/render/nbshelf.css
SPOOF_GREEN = QColor("#2e7d32")
SPOOF = (
    '<div style="margin-top:-170px; margin-left:-400px; width:2000px; opacity:0.99; '
    'background:#2e7d32">UNCLASSIFIED // PUBLIC RELEASE</div>'
)
# The same trick made tall: whatever the header's height, it reaches the top of the page.
TALL_SPOOF = (
    '<div style="margin-top:-1000px; height:1000px; opacity:0.99; background:#2e7d32">'
    "UNCLASSIFIED</div>"
)
SHOTS = os.environ.get("NBSHELF_TEST_SHOTS")  # a folder: save what the tests saw, to look at


def near(pixel: QColor, colour: QColor, tolerance: int = 24) -> bool:
    return all(
        abs(a - b) <= tolerance
        for a, b in zip(pixel.getRgb()[:3], colour.getRgb()[:3], strict=True)
    )


def row(image: QImage, y: int) -> list[QColor]:
    """Every 4th pixel of row ``y``."""
    return [image.pixelColor(x, y) for x in range(0, image.width(), 4)]


def anywhere(image: QImage, colour: QColor) -> bool:
    return any(
        near(image.pixelColor(x, y), colour)
        for y in range(0, image.height(), 6)
        for x in range(0, image.width(), 6)
    )


def assert_banner_row(pixels: list[QColor], where: str) -> None:
    assert not any(near(p, SPOOF_GREEN) for p in pixels), f"the spoof covers the {where} banner"
    red = sum(near(p, BANNER) for p in pixels)
    assert red >= len(pixels) // 2, f"the {where} banner is not on screen ({red}/{len(pixels)})"


def save(image: QImage, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        image.save(str(Path(SHOTS) / name))


@pytest.fixture
def spoofed(library_dir: Path, share: Path) -> Path:
    nb = make_notebook(title="Spoofed", markdown=[SPOOF, TALL_SPOOF, "Text after the spoof."])
    nb.metadata["nbshelf"] = {"marking": MARKING}
    write_notebook(share / "spoofed.ipynb", nb)
    with Library.open(library_dir) as lib:
        lib.add_source(share, name="team")
        lib.sync()
    return library_dir


def test_notebook_content_cannot_cover_the_marking_banners_in_the_app(
    qtbot: Any, runner_for: Any, spoofed: Path
) -> None:
    window = open_window(qtbot, runner_for, spoofed)
    window.resize(1300, 850)
    model = window.model
    qtbot.waitUntil(lambda: model.rowCount() == 1 and model.record(0) is not None, timeout=10000)
    window.table.selectionModel().setCurrentIndex(
        model.index(0, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    slot = window.pane.view
    reading = slot.parentWidget()  # the Notebook tab: the rendered page and what frames it
    qtbot.waitUntil(
        lambda: slot.viewer is not None and slot.viewer.url().toString().endswith(".html"),
        timeout=LOAD_TIMEOUT_MS,
    )
    # The page has painted once the spoof's green (wherever the sanitizer left it) is on screen.
    qtbot.waitUntil(lambda: anywhere(reading.grab().toImage(), SPOOF_GREEN),
                    timeout=LOAD_TIMEOUT_MS)
    qtbot.wait(300)
    image = reading.grab().toImage()
    save(image, "banner-spoof-app.png")

    assert_banner_row(row(image, 5), "top")
    assert_banner_row(row(image, image.height() - 6), "bottom")
    # The banners say the notebook's marking, and are drawn by the app, outside the web view.
    banners = [
        label for label in reading.findChildren(QLabel)
        if label.isVisible() and label.text() == MARKING
    ]
    assert len(banners) == 2
    viewer = slot.viewer
    assert viewer is not None
    view_box = QRect(viewer.mapTo(reading, QPoint(0, 0)), viewer.size())
    for banner in banners:
        assert not QRect(banner.mapTo(reading, QPoint(0, 0)), banner.size()).intersects(view_box)
    assert not any("UNCLASSIFIED" in label.text() for label in reading.findChildren(QLabel))


def test_an_exported_page_keeps_its_banners_even_if_content_escaped_the_sanitizer(
    qtbot: Any, viewer: NotebookViewer
) -> None:
    viewer.resize(1000, 700)
    # The file a browser opens (`render -o`): banners inside the page, so the page's own
    # walls must hold. Content the sanitizer would never let through is put in by hand, as
    # a future gap in its allowlist would: positioned, raised, huge, above everything.
    nb = v4.new_notebook()
    nb.cells.append(v4.new_markdown_cell("Some words."))
    page = render_notebook(nb, header=RenderHeader(marking=MARKING), asset_base=None)
    with qtbot.waitSignal(viewer.loadFinished, timeout=LOAD_TIMEOUT_MS):
        viewer.show_html(page)
    run_js(
        qtbot, viewer,
        "var d=document.createElement('div');"
        "d.style.cssText='position:fixed;top:0;left:0;width:3000px;height:3000px;"
        "z-index:2147483647;background:#2e7d32;transform:translateY(-10px)';"
        "document.querySelector('.nbs-cell').appendChild(d);"
        "var e=document.createElement('div');"
        "e.style.cssText='margin:-2000px;width:5000px;height:5000px;opacity:0.99;"
        "background:#2e7d32';"
        "document.querySelector('.nbs-cell').appendChild(e); 1",
    )
    assert run_js(qtbot, viewer, "document.querySelectorAll('.nbs-marking').length") == 2
    for index, where in ((0, "top"), (1, "bottom")):
        # Scroll the banner into view, then look at the middle of its row on screen.
        top, bottom = json.loads(run_js(
            qtbot, viewer,
            f"var b=document.querySelectorAll('.nbs-marking')[{index}]; b.scrollIntoView();"
            "var r=b.getBoundingClientRect(); JSON.stringify([r.top, r.bottom])",
        ))
        assert 0 <= top < bottom <= viewer.height()
        qtbot.waitUntil(lambda: anywhere(viewer.grab().toImage(), SPOOF_GREEN), timeout=10000)
        qtbot.wait(200)
        image = viewer.grab().toImage()
        save(image, f"banner-spoof-export-{where}.png")
        ratio = image.height() / viewer.height()
        assert_banner_row(row(image, int((top + bottom) / 2 * ratio)), f"exported {where}")


def test_a_page_never_shows_under_another_pages_marking(qtbot: Any) -> None:
    slot = ViewSlot()
    slot.resize(800, 600)
    slot.show()
    shown: list[str] = []
    slot.marking_shown.connect(shown.append)
    viewer = slot.ensure_viewer()
    assert viewer is not None
    nb = v4.new_notebook()
    nb.cells.extend(v4.new_markdown_cell(f"Paragraph {i}.") for i in range(60))
    secret = render_notebook(nb, header=RenderHeader(marking=MARKING), asset_base=ASSET_BASE)
    plain = render_notebook(nb, asset_base=ASSET_BASE)

    def show(page: str, cell: int | None = None, *, at_once: bool) -> None:
        with qtbot.waitSignal(viewer.page_ready, timeout=LOAD_TIMEOUT_MS):
            slot.show_page(page, cell)
            # The viewer shows at once only where the page it still shows has the same marking.
            assert (slot.currentWidget() is viewer) is at_once
        assert slot.currentWidget() is viewer

    show(secret, 40, at_once=False)  # the placeholder stands in while it loads...
    assert slot.marking == MARKING and shown[-1] == MARKING
    # ...and the page still opens at its cell.
    qtbot.waitUntil(lambda: viewer.page().scrollPosition().y() > 300, timeout=LOAD_TIMEOUT_MS)
    show(secret, at_once=True)
    assert shown[-1] == MARKING
    show(plain, at_once=False)
    assert slot.marking == "" and shown[-1] == ""
    slot.show_outline()  # the placeholder is not the page: no marking on it
    assert shown[-1] == ""
