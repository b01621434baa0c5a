"""Render resources/icons/nbshelf.svg to the PNG sizes desktops look for (hicolor theme).

Run with ``QT_QPA_PLATFORM=offscreen``; the PNGs are committed, so this only runs again when
the drawing changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256)
ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"


def render(svg: Path, size: int, out: Path) -> None:
    """Draw ``svg`` into a ``size`` × ``size`` transparent PNG."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out)):
        raise SystemExit(f"could not write {out}")


def main() -> int:
    QGuiApplication(sys.argv[:1])
    for size in SIZES:
        render(ICONS / "nbshelf.svg", size, ICONS / "hicolor" / f"{size}x{size}" / "apps" /
               "nbshelf.png")
    print(f"wrote {len(SIZES)} sizes under {ICONS / 'hicolor'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
