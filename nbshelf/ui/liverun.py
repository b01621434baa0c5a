"""A run's output as it arrives, rendered by the viewer's own safe renderer.

No Qt here: :class:`LiveRender` turns a run's cell events (``nbshelf.run.execution.CellEvent``)
into one HTML section per cell, the way ``nbshelf.render`` renders a code cell of a notebook
page (the same output renderer and sanitizer: tables, pictures, errors with their colours),
and :func:`live_page` puts sections in a page the viewer shows. It runs on a thread of the
run's own (see ``nbshelf.ui.running.RunController``), never on the GUI thread.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from nbshelf.render.assets import APP_ASSET_BASE
from nbshelf.render.cells import read_cell
from nbshelf.render.highlight import highlight_code
from nbshelf.render.images import ImageEmbedder
from nbshelf.render.markdown import MarkdownRenderer, Slugs
from nbshelf.render.math import MathRenderer
from nbshelf.render.outputs import OutputRenderer
from nbshelf.render.page import RenderHeader, build_page
from nbshelf.render.sanitize import Sanitizer

#: The id of the note that stands in the page until the first cell starts.
WAITING_ID = "nbs-live-waiting"
# Inside .nbs-outputs boxes: they take the page's gutter (none in a narrow pane).
_CAPTION = "margin: 14px 0 2px; font-size: 0.8rem; color: #57606a;"
_STOPPED = "margin: 4px 0 0; font-size: 0.85rem; color: #8a4b00;"


@dataclass
class _LiveCell:
    """What the live view knows of one cell of the run."""

    number: int | None  # from 1, in the notebook; None for the injected parameters cell
    source: str = ""
    execution_count: int | None = None
    outputs: list[dict[str, Any]] = field(default_factory=list)
    state: str = "running"  # running, done, error
    note: str = ""  # why the cell stopped (a timeout, a cancel), when no output says it


def section_id(key: int) -> str:
    """The HTML id of a cell's section in the live page (``key``: its index in the record)."""
    return f"nbs-cell-{key}"


class LiveRender:
    """A run's cells as HTML sections, fed one event at a time.

    Args:
        language: the kernel's language, for highlighting the code.
    """

    def __init__(self, language: str | None) -> None:
        self._language = language or "python"
        embedder = ImageEmbedder(None, clean_svg=lambda svg: sanitizer.clean(svg))
        sanitizer = Sanitizer(embedder.resolve)
        math = MathRenderer()
        markdown = MarkdownRenderer(math, sanitizer.clean, Slugs())
        self._outputs = OutputRenderer(sanitizer.clean, lambda text: markdown.render(text)[0],
                                       math)
        self._cells: dict[int, _LiveCell] = {}

    def feed(self, event: Any) -> int:
        """Take one ``CellEvent``; return the key of the cell whose section changed."""
        key = int(event.record_index)
        cell = self._cells.get(key)
        if event.kind == "started" or cell is None:
            number = None if event.index is None else int(event.index) + 1
            cell = self._cells[key] = _LiveCell(number, str(event.source or ""))
        if event.execution_count is not None:
            cell.execution_count = event.execution_count
        if event.kind == "output" and event.output:
            cell.outputs.append(dict(event.output))
        elif event.kind in ("finished", "error"):
            cell.outputs = [dict(o) for o in event.outputs]  # after clear_output, updates
            cell.state = "done" if event.kind == "finished" else "error"
            if event.kind == "error" and not any(
                    o.get("output_type") == "error" for o in cell.outputs):
                cell.note = str(event.error or "The cell stopped.")
        return key

    def section(self, key: int) -> str:
        """The HTML of one cell's section, as a notebook page shows a code cell."""
        cell = self._cells[key]
        raw = {"cell_type": "code", "source": cell.source, "outputs": cell.outputs,
               "execution_count": cell.execution_count}
        outputs = self._outputs.render_all(read_cell(raw).outputs)
        if cell.note:
            outputs += f'<div style="{_STOPPED}">Stopped here: {html.escape(cell.note)}</div>'
        prompt = "*" if cell.state == "running" else str(cell.execution_count or "&nbsp;")
        code = highlight_code(cell.source, self._language)
        caption = html.escape(_caption(cell))
        body = (f'<div class="nbs-outputs" style="{_CAPTION}">{caption}</div>'
                f'<div class="nbs-input"><div class="nbs-prompt">In [{prompt}]:</div>'
                f'<pre class="highlight">{code}</pre></div>')
        if outputs:
            body += f'<div class="nbs-outputs">{outputs}</div>'
        extra = "" if outputs else " nbs-no-output"
        return f'<section class="nbs-cell nbs-code{extra}" id="{section_id(key)}">{body}</section>'


def _caption(cell: _LiveCell) -> str:
    what = f"Cell {cell.number}" if cell.number is not None else "Parameters (injected)"
    state = {"running": "running…", "done": "done", "error": "stopped"}[cell.state]
    return f"{what} · {state}"


def live_page(sections: list[str], *, title: str, marking: str = "",
              waiting: str = "Starting the kernel…") -> str:
    """A page holding a run's sections so far (``waiting`` stands in while there are none).

    The page is the viewer's: the same stylesheet and Content-Security-Policy as a notebook's
    (no script runs), its marking in its head for the strips the app draws outside it.
    """
    body = "".join(sections) or (
        f'<div class="nbs-placeholder" id="{WAITING_ID}">{html.escape(waiting)}</div>')
    header = RenderHeader(title=title, marking=marking, shown=False)
    return build_page(body, title=title, header=header, headings=[], report_view=False,
                      asset_base=APP_ASSET_BASE)
