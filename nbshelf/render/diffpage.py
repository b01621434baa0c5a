"""What changed between two versions of a notebook, as one safe, offline HTML page.

The History tab shows it in the app's viewer: for each added, removed or modified cell
(numbered from 1, as ``Library.diff`` reports them), the source with its changed lines marked
(removed lines tinted red with ``-``, added ones green with ``+``, unchanged ones greyed), and
for changed outputs the old and new ones side by side, pictures as pictures.

Every text from the notebooks is escaped; pictures travel only as ``data:`` URIs built from
the notebooks' own base64 raster outputs (never SVG, which is markup). The page carries the
renderer's Content-Security-Policy: no script runs, nothing loads from outside.
"""

from __future__ import annotations

import difflib
import html
from collections.abc import Sequence
from typing import Any

from nbshelf.notebook.diff import CellChange
from nbshelf.render.assets import APP_ASSET_BASE, STYLESHEETS, css_text
from nbshelf.render.images import MAX_DATA_URI_CHARS, clean_base64, data_uri
from nbshelf.render.page import content_security_policy

# Raster pictures only: an SVG is markup and would need the sanitizer.
_IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_TEXT_MIMES = ("text/plain", "text/markdown", "text/latex", "application/json")
_MARKING_META = "nbshelf-marking"  # as nbshelf.render.page: the viewer reads it from the head


def render_diff_page(
    changes: Sequence[CellChange],
    old: dict[str, Any],
    new: dict[str, Any],
    *,
    title: str,
    old_label: str = "old",
    new_label: str = "new",
    marking: str = "",
    asset_base: str | None = APP_ASSET_BASE,
) -> str:
    """The cell changes from ``old`` to ``new`` as a complete HTML document.

    Args:
        changes: what ``Library.diff`` (or ``diff_notebooks``) found, in notebook order.
        old: the old version, as ``read_for_diff`` gives it (its cells are looked up by
            ``CellChange.old_index``).
        new: the new version, likewise (by ``new_index``).
        title: the page's heading ("Version 2 → 3").
        old_label: what the old side is called ("version 2").
        new_label: what the new side is called.
        marking: the notebook's marking, named in the head for the viewer's banners.
        asset_base: where the app serves the stylesheets, or ``None`` to inline them.

    Returns:
        The document.
    """
    old_cells, new_cells = _cells_of(old), _cells_of(new)
    budget = [MAX_DATA_URI_CHARS]  # pictures embedded so far may not grow the page past this
    body = "".join(
        _change(change, old_cells, new_cells, old_label, new_label, budget) for change in changes
    ) or '<p class="nbs-diff-none">No cell changed.</p>'
    count = len(changes)
    summary = f"{count} cell{'' if count == 1 else 's'} changed" if count else ""
    named = (f'<meta name="{_MARKING_META}" content="{html.escape(marking)}">'
             if marking else "")
    banner = (f'<div class="nbs-marking">{html.escape(marking)}</div>'
              if marking and asset_base is None else "")
    csp = content_security_policy(asset_base)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"{named}"
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{html.escape(title)}</title>{_styles(asset_base)}</head>"
        f'<body class="nbs-page nbs-diff-page">{banner}'
        f'<header class="nbs-header"><h1>{html.escape(title)}</h1>'
        f'<p class="nbs-diff-summary">{html.escape(summary)}</p></header>'
        f'<main class="nbs-cells nbs-body">{body}</main>{banner}</body></html>\n'
    )


def _styles(asset_base: str | None) -> str:
    if asset_base is None:
        return "".join(f"<style>{css_text(name)}</style>" for name in STYLESHEETS)
    return "".join(
        f'<link rel="stylesheet" href="{html.escape(asset_base + name)}">' for name in STYLESHEETS
    )


def _cells_of(nb: dict[str, Any]) -> list[dict[str, Any]]:
    cells = nb.get("cells")
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def _cell(cells: list[dict[str, Any]], index: int | None) -> dict[str, Any]:
    return cells[index] if index is not None and 0 <= index < len(cells) else {}


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _change(change: CellChange, old_cells: list[dict[str, Any]],
            new_cells: list[dict[str, Any]], old_label: str, new_label: str,
            budget: list[int]) -> str:
    facts = change.to_json()
    before, after = _cell(old_cells, change.old_index), _cell(new_cells, change.new_index)
    if change.kind == "added":
        where = f"Cell {facts['new_cell']}"
    elif change.kind == "removed":
        where = f"Cell {facts['old_cell']} of {old_label}"
    elif facts["old_cell"] == facts["new_cell"]:
        where = f"Cell {facts['new_cell']}"
    else:
        where = f"Cell {facts['old_cell']} → {facts['new_cell']}"
    what = change.kind
    if change.kind == "modified" and change.changed:
        what += ": " + ", ".join(change.changed)
    head = (f'<h2 class="nbs-diff-head"><span class="nbs-diff-where">{html.escape(where)}</span> '
            f'<span class="nbs-diff-type">{html.escape(change.cell_type)}</span> '
            f'<span class="nbs-diff-kind nbs-diff-{html.escape(change.kind)}">'
            f"{html.escape(what)}</span></h2>")
    source = _source_lines(_source(before), _source(after))
    outputs = ""
    if change.outputs_changed:
        outputs = _outputs(before, after, old_label, new_label, budget)
    anchor = facts["new_cell"] if facts["new_cell"] is not None else facts["old_cell"]
    section = f"nbs-diff-{anchor}-{html.escape(change.kind)}"
    return (f'<section class="nbs-cell nbs-diff-cell" id="{section}">'
            f"{head}{source}{outputs}</section>")


def _source_lines(old: str, new: str) -> str:
    """Every line of the old and new source, the removed and added ones marked."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            rows += [_line("same", " ", line) for line in a[i1:i2]]
            continue
        rows += [_line("del", "-", line) for line in a[i1:i2]]
        rows += [_line("add", "+", line) for line in b[j1:j2]]
    if not rows:
        return ""
    return f'<pre class="nbs-diff-source">{"".join(rows)}</pre>'


def _line(kind: str, mark: str, text: str) -> str:
    return (f'<span class="nbs-diff-line nbs-diff-{kind}"><span class="nbs-diff-mark">{mark}'
            f"</span>{html.escape(text)}\n</span>")


def _outputs(before: dict[str, Any], after: dict[str, Any], old_label: str, new_label: str,
             budget: list[int]) -> str:
    """The old and new outputs side by side: pictures as pictures, the rest as text."""
    old_outputs, new_outputs = _outputs_of(before), _outputs_of(after)
    old_images = [img for o in old_outputs if (img := _image(o)) is not None]
    new_images = [img for o in new_outputs if (img := _image(o)) is not None]
    parts: list[str] = []
    old_text = "\n".join(t for o in old_outputs if (t := _text(o)))
    new_text = "\n".join(t for o in new_outputs if (t := _text(o)))
    if old_text != new_text:
        parts.append(f'<div class="nbs-diff-label">Text output</div>'
                     f"{_source_lines(old_text, new_text)}")
    pictures = []
    for k in range(max(len(old_images), len(new_images))):
        x = old_images[k] if k < len(old_images) else None
        y = new_images[k] if k < len(new_images) else None
        if x == y:
            continue
        pictures.append(
            '<div class="nbs-diff-pair">'
            f"{_figure(x, old_label, 'nbs-diff-old', budget)}"
            f"{_figure(y, new_label, 'nbs-diff-new', budget)}</div>"
        )
    parts += pictures
    if not parts:
        parts.append('<p class="nbs-diff-note">Outputs differ in details not shown here.</p>')
    return f'<div class="nbs-diff-outputs"><h3>Outputs</h3>{"".join(parts)}</div>'


def _outputs_of(cell: dict[str, Any]) -> list[dict[str, Any]]:
    outputs = cell.get("outputs")
    return [o for o in outputs if isinstance(o, dict)] if isinstance(outputs, list) else []


def _image(output: dict[str, Any]) -> tuple[str, str] | None:
    """The output's first raster picture: (mime, compact base64), or None."""
    data = output.get("data")
    if not isinstance(data, dict):
        return None
    for mime in _IMAGE_MIMES:
        b64 = clean_base64(data.get(mime))
        if b64 is not None:
            return mime, b64
    return None


def _text(output: dict[str, Any]) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return _joined(output.get("text"))
    if kind == "error":
        return f"{_joined(output.get('ename'))}: {_joined(output.get('evalue'))}"
    data = output.get("data")
    if isinstance(data, dict):
        for mime in _TEXT_MIMES:
            if mime in data and not (mime == "text/plain" and _image(output)):
                return _joined(data[mime]) if mime != "application/json" else str(data[mime])
    return ""


def _joined(value: object) -> str:
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def _figure(image: tuple[str, str] | None, label: str, css: str, budget: list[int]) -> str:
    caption = f"<figcaption>{html.escape(label)}</figcaption>"
    if image is None:
        body = '<p class="nbs-diff-note">no picture</p>'
    elif len(image[1]) > budget[0]:
        body = '<p class="nbs-diff-note">picture too large to show</p>'
    else:
        budget[0] -= len(image[1])
        # clean_base64 let through only base64 letters: nothing can leave the attribute.
        uri = html.escape(data_uri(image[0], image[1]))
        body = f'<img src="{uri}" alt="{html.escape(label)} output">'
    return f'<figure class="nbs-diff-figure {css}">{caption}{body}</figure>'
