"""Where the files nbshelf ships live: ``resources/`` in a checkout, ``_resources`` installed."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The folder of shipped resources (icons, templates, offline assets, the demo library)."""
    package = Path(__file__).resolve().parent
    bundled = getattr(sys, "_MEIPASS", None)  # a PyInstaller bundle
    candidates = [package / "_resources", package.parent / "resources"]
    if bundled:
        candidates.insert(0, Path(bundled) / "resources")
    for folder in candidates:
        if folder.is_dir():
            return folder
    return candidates[-1]


def demo_folder() -> Path:
    """The bundled demo library's folder."""
    return resources_dir() / "demo"
