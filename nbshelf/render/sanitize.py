"""The HTML sanitizer: an allowlist for notebook HTML, SVG and MathML, built on nh3.

Everything a notebook brings (markdown HTML, ``text/html`` and ``image/svg+xml`` outputs, and
the MathML we make from its TeX) passes through :class:`Sanitizer` before it reaches the page.
Only listed tags and attributes survive; scripts, iframes, objects, forms, meta refresh and
event handlers never do. URL-bearing attributes go through one filter that keeps in-page
``#fragment`` links and images it can embed as ``data:`` URIs, and nothing that would load.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable

import nh3

_HTML_TAGS = {
    "a", "abbr", "acronym", "address", "article", "aside", "b", "bdi", "bdo", "big",
    "blockquote", "br", "caption", "center", "cite", "code", "col", "colgroup", "data", "dd",
    "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "font", "footer",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "i", "img", "ins", "kbd",
    "li", "mark", "nav", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s", "samp", "section",
    "small", "span", "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var", "wbr",
}  # fmt: skip
# html5ever hands SVG names over in their camelCase form, so that is what we list.
_SVG_TAGS = {
    "svg", "g", "defs", "symbol", "use", "title", "desc", "path", "rect", "circle", "ellipse",
    "line", "polyline", "polygon", "text", "tspan", "textPath", "clipPath", "mask", "marker",
    "pattern", "linearGradient", "radialGradient", "stop", "image", "switch",
}  # fmt: skip
_MATHML_TAGS = {
    "math", "mi", "mn", "mo", "ms", "mspace", "mtext", "mrow", "mfrac", "msqrt", "mroot",
    "mstyle", "merror", "mpadded", "mphantom", "menclose", "msub", "msup", "msubsup", "munder",
    "mover", "munderover", "mmultiscripts", "mprescripts", "none", "mtable", "mtr", "mtd",
    "mlabeledtr", "semantics", "annotation",
}  # fmt: skip
# Tags removed together with everything inside them (their content is never for reading).
_DROP_WITH_CONTENT = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "noembed",
    "noframes", "template", "select", "textarea", "head",
}  # fmt: skip

_GENERIC_ATTRS = {
    "id", "class", "title", "lang", "dir", "style", "align", "valign", "width", "height",
    "name",
}  # fmt: skip
_HTML_ATTRS: dict[str, set[str]] = {
    "a": {"href"},
    "img": {"src", "alt", "border"},
    "td": {"colspan", "rowspan", "nowrap", "bgcolor"},
    "th": {"colspan", "rowspan", "scope", "nowrap", "bgcolor"},
    "table": {"border", "cellpadding", "cellspacing", "summary", "bgcolor"},
    "tr": {"bgcolor"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type", "reversed"},
    "li": {"value"},
    "font": {"color", "face", "size"},
    "details": {"open"},
    "time": {"datetime"},
    "data": {"value"},
}
_SVG_ATTRS = {
    "viewBox", "preserveAspectRatio", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "rx",
    "ry", "d", "points", "transform", "fill", "fill-opacity", "fill-rule", "stroke",
    "stroke-width", "stroke-linecap", "stroke-linejoin", "stroke-dasharray",
    "stroke-dashoffset", "stroke-opacity", "stroke-miterlimit", "opacity", "clip-path",
    "clip-rule", "clipPathUnits", "mask", "marker-start", "marker-mid", "marker-end",
    "markerWidth", "markerHeight", "refX", "refY", "orient", "markerUnits", "offset",
    "stop-color", "stop-opacity", "gradientUnits", "gradientTransform", "spreadMethod", "fx",
    "fy", "patternUnits", "patternTransform", "font-family", "font-size", "font-weight",
    "font-style", "text-anchor", "dominant-baseline", "alignment-baseline", "dx", "dy",
    "rotate", "textLength", "lengthAdjust", "visibility", "display", "href", "xlink:href",
    "version", "baseline-shift", "letter-spacing", "word-spacing", "vector-effect",
}  # fmt: skip
_MATHML_ATTRS = {
    "display", "displaystyle", "mathvariant", "stretchy", "fence", "form", "separator",
    "lspace", "rspace", "minsize", "maxsize", "movablelimits", "accent", "accentunder",
    "linethickness", "columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines",
    "rowlines", "frame", "framespacing", "depth", "scriptlevel", "notation",
    "largeop", "symmetric", "mathsize", "mathcolor", "mathbackground", "columnspan",
    "rowspan", "encoding",
}  # fmt: skip
# Left out of the MathML list: voffset, which shifts what an <mpadded> draws, up or down, by
# any length, without moving its box (content could draw a fake banner above its cell).

# CSS properties a notebook may set inline. Content must stay inside its own box: nothing it
# sets may paint it over the page's marking banners, header or outline, or over another cell
# (issue 13: negative margins plus ``opacity`` covered a TOP SECRET banner with a fake one).
# Left out on purpose, each because it moves or paints content outside its box, or lifts it
# into a layer of its own that paints above what follows it:
#   position, top, left, right, bottom, inset: take content out of the flow, anywhere;
#   z-index: raises a layer above the page's own (with position, or in a flex/grid item);
#   transform, translate, rotate, scale, zoom, will-change: move and grow it after layout;
#   opacity, filter, backdrop-filter, mix-blend-mode, isolation, clip-path, mask*: each makes
#     a stacking context painted above the in-flow content after it; filter and mask can
#     also paint outside the box (drop-shadow), blend modes repaint what lies under it;
#   box-shadow, text-shadow, outline(-offset): paint far outside the box;
#   contain, content, behavior, -moz-binding: layout isolation is ours to set; the others
#     run or insert things.
# Kept with a check on the value (see _BOX_VALUES): margins, text-indent and letter-spacing
# (negative values pull content out of its box, the reported spoof), and overflow (visible
# would let an inline <svg> draw outside its box). float stays: a float never rises above
# the top of the block that holds it. Large positive sizes (width, height, margins,
# font-size) make a box big, not displaced; what still overflows (a tall font on a short
# line) is clipped by the wall the page stylesheet puts around the body (main.nbs-body).
_CSS_PROPERTIES = {
    "color", "background-color", "background", "text-align", "vertical-align", "font",
    "font-weight", "font-style", "font-size", "font-family", "font-variant", "text-decoration",
    "white-space", "width", "height", "max-width", "min-width", "max-height", "min-height",
    "margin", "margin-top", "margin-bottom", "margin-left", "margin-right", "padding",
    "padding-top", "padding-bottom", "padding-left", "padding-right", "border", "border-top",
    "border-bottom", "border-left", "border-right", "border-color", "border-style",
    "border-width", "border-radius", "border-collapse", "border-spacing", "display", "float",
    "clear", "line-height", "list-style-type", "text-indent", "text-transform",
    "letter-spacing", "word-break", "word-wrap", "overflow", "overflow-x", "overflow-y",
    "table-layout", "fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin",
    "stroke-dasharray", "fill-opacity", "stroke-opacity", "font-stretch", "text-anchor",
}  # fmt: skip
# A length that cannot be negative: 0, a plain non-negative number with a unit, or auto. No
# sign, no calc()/var()/env() (a minus can hide anywhere in them), no !important.
_NON_NEGATIVE = re.compile(
    r"(?:auto|0|(?:\d+(?:\.\d*)?|\.\d+)(?:px|em|rem|ex|ch|%|pt|pc|in|cm|mm|q|vw|vh|vmin|vmax))",
    re.I,
)
_OVERFLOW = re.compile(r"(?:auto|hidden|scroll|clip)", re.I)
# Properties kept only when every space-separated part of the value matches.
_BOX_VALUES: dict[str, re.Pattern[str]] = {
    **{name: _NON_NEGATIVE for name in (
        "margin", "margin-top", "margin-bottom", "margin-left", "margin-right", "text-indent",
    )},
    "letter-spacing": re.compile(rf"normal|{_NON_NEGATIVE.pattern}", re.I),
    **{name: _OVERFLOW for name in ("overflow", "overflow-x", "overflow-y")},
}
# Anything in a CSS value that can load, run or hide a load: url(), image-set(), @import,
# old IE expression(), and backslash escapes that could spell any of them.
_CSS_BAD_VALUE = re.compile(
    r"url\s*\(|image-set|expression\s*\(|@import|\\|/\*|<|javascript:", re.I
)
_FRAGMENT_URL = re.compile(r"^\s*url\(\s*['\"]?#[\w.:-]+['\"]?\s*\)\s*$")
# On the outer <svg> these act on its box in the HTML page, not on drawing inside the picture:
# a transform would move the picture anywhere, and the others lift it into a layer of its own
# (see _CSS_PROPERTIES). Inside the picture they stay, clipped to its box.
_SVG_BOX_ATTRS = {"transform", "opacity", "clip-path", "mask"}
_SVG_PAINT_ATTRS = {
    "fill",
    "stroke",
    "clip-path",
    "mask",
    "marker-start",
    "marker-mid",
    "marker-end",
}
# Our own classes and ids start with "nbs-"; notebook content must not borrow them (a fake
# marking banner, a second report switch).
_OWN_CLASS = re.compile(r"(?:^|\s)nbs-\S*")
# An <img> left without src after cleaning: its picture was remote, outside the notebook's
# folder or missing. nh3 serializes attributes with double quotes, so these patterns hold.
_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=)([^>]*)>")
_ALT = re.compile(r'\salt="([^"]*)"')
_URL_SCHEMES_SEEN = {"http", "https", "data", "attachment", "file", "ftp", "mailto"}

ImageResolver = Callable[[str], "str | None"]


def clean_style(value: str) -> str | None:
    """Keep only the safe declarations of an inline ``style`` attribute.

    Args:
        value: the attribute's value.

    Returns:
        The filtered declarations, or ``None`` when none is left.
    """
    kept = []
    for decl in value.split(";"):
        prop, sep, val = decl.partition(":")
        prop = prop.strip().lower()
        val = val.strip()
        if not sep or not val or prop not in _CSS_PROPERTIES or _CSS_BAD_VALUE.search(val):
            continue
        shape = _BOX_VALUES.get(prop)
        if shape is not None and not all(shape.fullmatch(part) for part in val.split()):
            continue  # could pull content out of its box (or the value is not one we read)
        kept.append(f"{prop}: {val}")
    return "; ".join(kept) or None


def _missing_image(match: re.Match[str]) -> str:
    alt = _ALT.search(match.group(1))
    label = "image not available"
    if alt and alt.group(1):
        label += f": {alt.group(1)}"
    return f'<span class="nbs-missing-image">[{label}]</span>'


def _weak_filter(sanitizer: Sanitizer) -> Callable[[str, str, str], str | None]:
    """``sanitizer._filter`` for nh3, holding the sanitizer weakly.

    nh3's Cleaner keeps its filter, and Python's garbage collector cannot see inside it: a
    Cleaner holding ``sanitizer._filter`` made each sanitizer, and with it everything a
    rendered notebook holds (its markdown parser, its embedded pictures), immortal. An app
    that opened a few hundred notebooks grew by hundreds of MB.
    """
    ref = weakref.ref(sanitizer)

    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        owner = ref()
        return owner._filter(tag, attr, value) if owner is not None else None

    return attribute_filter


class Sanitizer:
    """An nh3 cleaner configured for notebook content.

    Args:
        resolve_image: maps an ``<img src>`` (or SVG ``<image href>``) value to a ``data:`` URI
            it may embed, or ``None`` to drop it. Called for every image source.
    """

    def __init__(self, resolve_image: ImageResolver) -> None:
        self._resolve_image = resolve_image
        attributes: dict[str, set[str]] = {"*": _GENERIC_ATTRS}
        attributes.update(_HTML_ATTRS)
        for tag in _SVG_TAGS:
            attributes[tag] = set(_SVG_ATTRS)
        for tag in _MATHML_TAGS:
            attributes[tag] = set(_MATHML_ATTRS)
        self._cleaner = nh3.Cleaner(
            tags=_HTML_TAGS | _SVG_TAGS | _MATHML_TAGS,
            clean_content_tags=_DROP_WITH_CONTENT,
            attributes=attributes,
            attribute_filter=_weak_filter(self),
            strip_comments=True,
            link_rel=None,
            # Let every scheme reach our filter, which decides; nh3 would otherwise drop
            # attachment: and relative sources before we could embed them.
            url_schemes=_URL_SCHEMES_SEEN,
        )

    def clean(self, html: str) -> str:
        """Sanitize an HTML fragment (HTML, inline SVG and MathML allowed).

        Args:
            html: untrusted markup.

        Returns:
            Markup with only allowed tags and attributes, and no loading URL. Pictures that
            cannot be embedded become a short note instead of a broken-image box.
        """
        return _IMG_WITHOUT_SRC.sub(_missing_image, self._cleaner.clean(html))

    def _filter(self, tag: str, attr: str, value: str) -> str | None:
        # nh3 swallows exceptions from here (it reports them as unraisable), so this must
        # never raise; each branch only does string work.
        if attr == "style":
            return clean_style(value)
        if tag == "svg" and attr in _SVG_BOX_ATTRS:
            return None
        if attr == "class":
            return _OWN_CLASS.sub(" ", value).strip() or None
        if attr in {"id", "name"} and value.strip().lower().startswith("nbs-"):
            return None  # our own element ids (the report switch, cells) stay unique
        if attr in {"href", "xlink:href"}:
            return self._filter_href(tag, value)
        if attr == "src":
            return self._resolve_image(value) if tag == "img" else None
        if attr in _SVG_PAINT_ATTRS and "url" in value.lower():
            return value if _FRAGMENT_URL.match(value) else None
        if attr in {"bgcolor", "color", "mathcolor", "mathbackground", "face"}:
            return None if _CSS_BAD_VALUE.search(value) else value
        return value

    def _filter_href(self, tag: str, value: str) -> str | None:
        stripped = value.strip()
        if stripped.startswith("#"):
            return stripped
        if tag == "image":
            # An SVG <image> may show an embedded picture, nothing else.
            return self._resolve_image(stripped)
        # Links that would leave the page are dropped: the viewer is offline and navigates
        # nowhere, and an exported file must not lead a browser to a remote address.
        return None
