"""Read-only rendering of notebooks: faithful, offline and safe.

``render_notebook(nb)`` returns one self-contained HTML document. Notebook content is
untrusted: its HTML, SVG and the MathML made from its TeX pass an allowlist sanitizer, the
page's Content-Security-Policy forbids every script and every load from outside the app, and
pictures are embedded as ``data:`` URIs. No Qt here: the viewer lives in ``nbshelf.ui.viewer``.

Modules, one job each: ``cells`` (v3/v4 notebook → cells), ``markdown``, ``math`` (TeX →
MathML), ``highlight`` (pygments), ``outputs``, ``ansi``, ``images`` (embedding),
``sanitize`` (nh3 allowlist), ``page`` (document, CSP, header), ``assets`` (stylesheets).
"""

from nbshelf.render.assets import APP_ASSET_BASE, asset
from nbshelf.render.notebook import render_notebook
from nbshelf.render.page import RenderHeader, content_security_policy

__all__ = ["APP_ASSET_BASE", "RenderHeader", "asset", "content_security_policy", "render_notebook"]
