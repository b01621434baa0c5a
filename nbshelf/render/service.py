"""Rendering a notebook of the library as a page: its header (title, source, size, marking)
and the safe offline HTML."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from nbshelf.notebook.reading import parse_notebook


class PageFacts(NamedTuple):
    """What a page's header says of the notebook shown."""

    path: str
    source: str
    kernel: str | None
    mtime: float
    size: int
    title: str


def render_page(data: bytes, facts: PageFacts, scheme: list[str], *, report_view: bool,
                standalone: bool, folder: Path | None) -> str:
    """One notebook's bytes as a page: scripts never run, nothing loads from outside;
    ``standalone`` inlines the app's styles, for a file any browser opens.

    Only a standalone page carries the header (title, source, size...): in the app the pane
    shows it above the page, always in view, with what the page cannot know (versions, other
    places); a second header below it would say the same again.
    """
    from nbshelf.publish.markings import notebook_marking
    from nbshelf.render import APP_ASSET_BASE, RenderHeader, render_notebook

    raw = parse_notebook(data, facts.path, validate=False).raw
    header = RenderHeader(
        title=facts.title, source=facts.source, path=facts.path, kernel=facts.kernel or "",
        modified=datetime.fromtimestamp(facts.mtime, UTC), size=facts.size,
        marking=notebook_marking(raw, scheme) or "", shown=standalone,
    )
    return render_notebook(raw, base_dir=folder, header=header, report_view=report_view,
                           asset_base=None if standalone else APP_ASSET_BASE)
