"""The renderer's own assets (stylesheets), from the package or the source tree.

The page either links them under an app URL scheme (the Qt viewer serves them with
:func:`asset`) or inlines them (an exported file must open anywhere, offline).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from nbshelf.render.highlight import stylesheet as pygments_stylesheet

# Where the Qt viewer serves the app's assets (its URL scheme handler answers this prefix).
APP_ASSET_BASE = "nbshelf://app/"
# Names under which pages reference assets, after the asset base.
STYLESHEETS = ("render/nbshelf.css", "render/pygments.css")


def resource_dir() -> Path:
    """The folder holding ``render/`` assets: inside the wheel, or the repo's ``resources``."""
    packaged = Path(__file__).resolve().parents[1] / "_resources"
    if (packaged / "render").is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "resources"


@lru_cache(maxsize=8)
def asset(name: str) -> tuple[bytes, str] | None:
    """The bytes and mime type of an asset, or ``None`` if there is no such asset.

    Args:
        name: a name such as ``render/nbshelf.css`` (what follows the asset base in a URL).

    Returns:
        ``(content, mime type)``.
    """
    if name == "render/pygments.css":
        return pygments_stylesheet().encode("utf-8"), "text/css"
    if name not in STYLESHEETS:
        return None
    path = resource_dir() / name
    try:
        return path.read_bytes(), "text/css"
    except OSError:
        return None


def css_text(name: str) -> str:
    """An asset stylesheet as text (empty when missing), for inlining into a page."""
    found = asset(name)
    return found[0].decode("utf-8") if found else ""
