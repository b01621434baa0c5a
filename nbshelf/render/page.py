"""The HTML document around the cells: policy, styles, header, banners, outline, report view.

The Content-Security-Policy is the second wall behind the sanitizer: the page may load
styles, fonts and images only from the app's scheme or ``data:``, and run no script at all.
The report view is a checkbox styled with CSS alone, so it works with JavaScript off and in an
exported file.

The notebook's cells live in ``main.nbs-body``, a clipped, isolated container (see the
stylesheet): nothing inside it paints outside it, so the marking banners, the header and the
outline, all outside it, cannot be covered by notebook content. In the app the banners are not
in the page at all: the viewer draws them as widgets outside the web view, and reads the
marking from the page's head (:func:`page_marking`), which notebook content never reaches.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime

from nbshelf.render.assets import STYLESHEETS, css_text
from nbshelf.render.markdown import Heading
from nbshelf.units import size as human_size

REPORT_TOGGLE_ID = "nbs-report"
# The page's marking, for the app's viewer to draw outside the page. The sanitizer never lets
# a <meta> through, and only our own text (escaped) comes before </head>.
_MARKING_META = "nbshelf-marking"
_MARKING_META_TAG = re.compile(rf'<meta name="{_MARKING_META}" content="([^"]*)">')


@dataclass(frozen=True)
class RenderHeader:
    """What the page header says about the notebook. Every field is optional.

    Attributes:
        title: the notebook's title (defaults to its first heading).
        source: the name of the source it comes from.
        path: its path inside the source.
        kernel: the kernel's display name.
        modified: when it last changed (a datetime or text).
        size: its size in bytes.
        marking: a handling/classification marking shown as a banner at top and bottom.
        shown: False leaves the header band out (title, facts, report-view switch): the app
            shows them once, above the page, in its own header.
    """

    title: str = ""
    source: str = ""
    path: str = ""
    kernel: str = ""
    modified: datetime | str | None = None
    size: int | None = None
    marking: str = ""
    shown: bool = True


def content_security_policy(asset_base: str | None) -> str:
    """The page's CSP: no script, no frames, no forms, loads only from the app or ``data:``.

    Args:
        asset_base: the app's asset URL prefix (its scheme is allowed), or ``None`` when all
            assets are inlined.

    Returns:
        The policy text for a ``<meta http-equiv>``.
    """
    own = ""
    if asset_base:
        scheme = asset_base.split(":", 1)[0]
        own = f" {scheme}:"
    # 'unsafe-inline' styles: notebook HTML keeps sanitized style attributes (alignment,
    # colours), and an export inlines its stylesheet. Styles cannot run code, and every load
    # a style could start is limited by img-src/font-src below.
    return (
        "default-src 'none'; "
        "script-src 'none'; "
        "object-src 'none'; "
        "frame-src 'none'; "
        "child-src 'none'; "
        "worker-src 'none'; "
        "connect-src 'none'; "
        "media-src 'none'; "
        "form-action 'none'; "
        "base-uri 'none'; "
        f"style-src{own} 'unsafe-inline'; "
        f"img-src{own} data:; "
        f"font-src{own} data:"
    )


def page_marking(page_html: str) -> str:
    """The marking a page was rendered with, as its banners say it ("" for none).

    Read from the page's head only: notebook content is in the body, and the sanitizer lets
    no ``<meta>`` through anyway.

    Args:
        page_html: a document made by :func:`build_page` (any other page has no marking).

    Returns:
        The marking text, unescaped.
    """
    head = page_html.split("</head>", 1)[0]
    found = _MARKING_META_TAG.search(head)
    return html.unescape(found.group(1)) if found else ""


def _header(header: RenderHeader, title: str) -> str:
    if not header.shown:
        return ""
    fields = [("Source", header.source), ("Path", header.path), ("Kernel", header.kernel)]
    if header.modified:
        modified = header.modified
        if isinstance(modified, datetime):
            modified = modified.strftime("%Y-%m-%d %H:%M")
        fields.append(("Modified", str(modified)))
    if header.size is not None:
        fields.append(("Size", human_size(header.size)))
    meta = "".join(
        f"<div><dt>{name}</dt><dd>{html.escape(value)}</dd></div>"
        for name, value in fields
        if value
    )
    return (
        f'<header class="nbs-header"><h1>{html.escape(title)}</h1>'
        f'<dl class="nbs-meta">{meta}</dl>'
        f'<label class="nbs-report-label" for="{REPORT_TOGGLE_ID}">'
        '<span class="nbs-off">Report view: hide code</span>'
        '<span class="nbs-on">Report view — show code</span></label></header>'
    )


def _outline(headings: list[Heading]) -> str:
    if len(headings) < 2:
        return ""
    items = "".join(
        f'<li class="l{h.level}"><a href="#{html.escape(h.anchor)}">{html.escape(h.text)}</a></li>'
        for h in headings
        if h.text
    )
    return f'<nav class="nbs-outline" aria-label="Outline"><ul>{items}</ul></nav>'


def _styles(asset_base: str | None) -> str:
    if asset_base is None:
        return "".join(f"<style>{css_text(name)}</style>" for name in STYLESHEETS)
    return "".join(
        f'<link rel="stylesheet" href="{html.escape(asset_base + name)}">' for name in STYLESHEETS
    )


def build_page(
    cells_html: str,
    *,
    title: str,
    header: RenderHeader,
    headings: list[Heading],
    report_view: bool,
    asset_base: str | None,
) -> str:
    """Assemble the complete HTML document.

    Args:
        cells_html: the rendered, sanitized cells.
        title: the page title.
        header: what to show above the cells.
        headings: the outline entries.
        report_view: start with code hidden.
        asset_base: where assets are served from, or ``None`` to inline them. Served from the
            app, the page is for the app's viewer, which draws the marking banners itself.

    Returns:
        The document.
    """
    named = (
        f'<meta name="{_MARKING_META}" content="{html.escape(header.marking)}">'
        if header.marking else ""
    )
    # In the app the viewer draws the banners outside the web view, where no page can reach;
    # an exported page carries them itself, outside the walled body.
    marking = (
        f'<div class="nbs-marking">{html.escape(header.marking)}</div>'
        if header.marking and asset_base is None else ""
    )
    checked = " checked" if report_view else ""
    csp = content_security_policy(asset_base)
    layout = f'<div class="nbs-layout">{_outline(headings)}<main class="nbs-cells nbs-body">'
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"{named}"
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>{_styles(asset_base)}</head>"
        f'<body class="nbs-page">{marking}'
        f'<input type="checkbox" id="{REPORT_TOGGLE_ID}" class="nbs-report-toggle"{checked}>'
        f"{_header(header, title)}"
        f"{layout}{cells_html}</main></div>"
        f"{marking}</body></html>\n"
    )
