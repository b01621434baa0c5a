"""Notebook dict → one self-contained, sanitized HTML document."""

from __future__ import annotations

import html
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from nbshelf.render.assets import APP_ASSET_BASE
from nbshelf.render.cells import Cell, iter_raw_cells, kernel_of, language_of, read_cell, text_of
from nbshelf.render.highlight import highlight_code
from nbshelf.render.images import ImageEmbedder
from nbshelf.render.markdown import Heading, MarkdownRenderer, Slugs
from nbshelf.render.math import MathRenderer, find_macros
from nbshelf.render.outputs import OutputRenderer
from nbshelf.render.page import RenderHeader, build_page
from nbshelf.render.sanitize import Sanitizer

log = logging.getLogger(__name__)


class _NotebookRenderer:
    """Holds the per-notebook state (macros, heading ids, image budget) while cells render."""

    def __init__(self, nb: dict[str, Any], base_dir: Path | None, copy_base: str | None = None
                 ) -> None:
        self.copy_base = copy_base
        self.language = language_of(nb)
        self.embedder = ImageEmbedder(base_dir, clean_svg=lambda svg: self.sanitizer.clean(svg))
        self.sanitizer = Sanitizer(self.embedder.resolve)
        markdown_sources = "\n".join(
            text_of(c.get("source")) for c in iter_raw_cells(nb) if c.get("cell_type") == "markdown"
        )
        self.math = MathRenderer(find_macros(markdown_sources))
        self.markdown = MarkdownRenderer(self.math, self.sanitizer.clean, Slugs())
        self.outputs = OutputRenderer(
            self.sanitizer.clean, lambda text: self.markdown.render(text)[0], self.math
        )
        self.headings: list[Heading] = []

    def cell(self, index: int, cell: Cell) -> str:
        if cell.kind == "markdown":
            # attachment: sources are resolved against this cell's attachments only
            self.embedder.set_attachments(cell.attachments)
            try:
                body, headings = self.markdown.render(cell.source)
            finally:
                self.embedder.set_attachments({})
            self.headings.extend(headings)
            return _section(index, "nbs-markdown", body)
        if cell.kind == "code":
            return self._code(index, cell)
        if cell.kind == "heading":
            return self._v3_heading(index, cell)
        if cell.kind == "raw":
            return _section(index, "nbs-raw", f"<pre>{html.escape(cell.source, quote=False)}</pre>")
        return _section(index, "nbs-raw", _placeholder(f"cell of an unknown kind ({cell.kind})"))

    def _code(self, index: int, cell: Cell) -> str:
        count = "" if cell.execution_count is None else str(cell.execution_count)
        code = highlight_code(cell.source, self.language)
        # In the app, a link the viewer turns into "copy this cell" (pages run no script).
        copy = (f'<a class="nbs-copy" href="{self.copy_base}copy/{index}" '
                'title="Copy this cell\'s code">Copy</a>' if self.copy_base else "")
        body = (
            f'<div class="nbs-input"><div class="nbs-prompt">In [{count or "&nbsp;"}]:</div>'
            f'<pre class="highlight">{code}</pre>{copy}</div>'
        )
        outputs = self.outputs.render_all(cell.outputs)
        extra = " nbs-no-output" if not outputs else ""
        if outputs:
            body += f'<div class="nbs-outputs">{outputs}</div>'
        return _section(index, f"nbs-code{extra}", body)

    def _v3_heading(self, index: int, cell: Cell) -> str:
        text = " ".join(cell.source.split())
        rendered, headings = self.markdown.render("#" * cell.level + " " + text)
        self.headings.extend(headings)
        return _section(index, "nbs-markdown", rendered)


def _section(index: int, kind: str, body: str) -> str:
    return f'<section class="nbs-cell {kind}" id="nbs-cell-{index}">{body}</section>'


def _placeholder(text: str) -> str:
    return f'<div class="nbs-placeholder">{html.escape(text)}</div>'


def render_notebook(
    nb: dict[str, Any],
    *,
    base_dir: Path | None = None,
    header: RenderHeader | None = None,
    report_view: bool = False,
    asset_base: str | None = APP_ASSET_BASE,
) -> str:
    """Render a notebook as one self-contained, sanitized HTML document.

    Nothing in the result loads from outside: images are embedded, links that would leave the
    page are inert, no script runs (the page's CSP forbids all script), and math is MathML.

    Args:
        nb: the notebook as parsed from JSON (nbformat v3 or v4.x; odd or missing fields are
            tolerated: what cannot be shown becomes a placeholder).
        base_dir: the notebook's folder in its source; images that markdown references by a
            relative path inside it are embedded. ``None`` embeds no files.
        header: what the page header shows; the title defaults to the first heading.
        report_view: start with code cells hidden (outputs and prose only).
        asset_base: URL prefix under which the app serves its stylesheets (the viewer's,
            ``"nbshelf://app/"``, by default); ``None`` inlines them, for an exported file
            that opens in any browser. The app's page leaves the marking banners to the
            viewer, which draws them outside the web view; an exported page draws them
            itself, outside the walled body that holds the cells.

    Returns:
        The HTML document.
    """
    if not isinstance(nb, dict):
        nb = {}
    state = _NotebookRenderer(nb, base_dir, copy_base=asset_base)
    parts = []
    for index, raw in enumerate(iter_raw_cells(nb)):
        try:
            parts.append(state.cell(index, read_cell(raw)))
        except Exception:  # one broken cell must not cost the reader the whole notebook
            log.exception("cell %d could not be rendered", index)
            parts.append(_section(index, "nbs-raw", _placeholder("this cell could not be shown")))
    if not parts:
        parts.append(_placeholder("this notebook has no cells to show"))
    header = header or RenderHeader()
    if not header.kernel:
        header = replace(header, kernel=kernel_of(nb))
    title = header.title or next((h.text for h in state.headings if h.text), "") or "Notebook"
    return build_page(
        "".join(parts),
        title=title,
        header=header,
        headings=state.headings,
        report_view=report_view,
        asset_base=asset_base,
    )
