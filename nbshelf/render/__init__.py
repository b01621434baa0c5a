"""Read-only rendering of notebooks: faithful, offline and safe.

``render_notebook(nb)`` returns one self-contained HTML document. Notebook content is
untrusted: its HTML, SVG and the MathML made from its TeX pass an allowlist sanitizer, the
page's Content-Security-Policy forbids every script and every load from outside the app, and
pictures are embedded as ``data:`` URIs. No Qt here: the viewer lives in ``nbshelf.ui.viewer``.

Modules, one job each: ``cells`` (v3/v4 notebook → cells), ``markdown``, ``math`` (TeX →
MathML), ``highlight`` (pygments), ``outputs``, ``ansi``, ``images`` (embedding),
``sanitize`` (nh3 allowlist), ``page`` (document, CSP, header), ``assets`` (stylesheets).

The names below load on first use: the app imports ``nbshelf.render.assets`` at start (its
URL scheme) and must not pay there for markdown-it, latex2mathml and nh3 (~0.1 s), which
the first rendered notebook loads on a worker thread.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbshelf.render.assets import APP_ASSET_BASE, asset
    from nbshelf.render.notebook import render_notebook
    from nbshelf.render.page import RenderHeader, content_security_policy

__all__ = ["APP_ASSET_BASE", "RenderHeader", "asset", "content_security_policy", "render_notebook"]

_HOMES = {
    "APP_ASSET_BASE": "nbshelf.render.assets",
    "asset": "nbshelf.render.assets",
    "render_notebook": "nbshelf.render.notebook",
    "RenderHeader": "nbshelf.render.page",
    "content_security_policy": "nbshelf.render.page",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value
