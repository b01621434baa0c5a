"""Check a rendered page for anything a browser would load or run.

Used by the tests over hostile notebooks and the whole corpus, and cheap enough for the app
to assert on an export before writing it. It parses the HTML as a browser would (escaped text
such as ``&lt;img src=...&gt;`` in a code block is text, not a tag) and reports every tag,
attribute or CSS construct that could fetch or execute something.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_URL_ATTRS = {
    "src", "href", "action", "formaction", "poster", "background", "data", "srcset",
    "xlink:href", "cite", "longdesc", "manifest", "ping", "codebase", "archive", "lowsrc",
    "dynsrc", "icon", "profile", "usemap",
}  # fmt: skip
_ACTIVE_TAGS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "base",
    "link", "meta", "audio", "video", "source", "track", "portal", "foreignobject",
}  # fmt: skip
_CSS_LOAD = re.compile(r"url\s*\(|@import|image-set\s*\(|expression\s*\(", re.I)
# What the page itself legitimately holds: data: images and in-page #fragments.
_SAFE_URL = re.compile(r"^\s*(#|data:image/(png|jpeg|gif|webp|bmp|svg\+xml)[;,])", re.I)


class _Auditor(HTMLParser):
    def __init__(self, allowed_schemes: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed_schemes = allowed_schemes
        self.findings: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check_tag(tag, dict(attrs), attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check_tag(tag, dict(attrs), attrs)

    def _check_tag(
        self, tag: str, attr_map: dict[str, str | None], attrs: list[tuple[str, str | None]]
    ) -> None:
        self._in_style = tag == "style"
        if tag in _ACTIVE_TAGS and not self._own_tag(tag, attr_map):
            self.findings.append(f"<{tag}> element")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.findings.append(f"event handler {name} on <{tag}>")
            elif name in _URL_ATTRS and not self._allowed_url(value):
                self.findings.append(f"{name}={value[:80]!r} on <{tag}>")
            elif name == "style" and _CSS_LOAD.search(value):
                self.findings.append(f"style {value[:80]!r} on <{tag}>")
            elif value.strip().lower().startswith(("javascript:", "vbscript:")):
                self.findings.append(f"{name}={value[:80]!r} on <{tag}>")

    def _own_tag(self, tag: str, attrs: dict[str, str | None]) -> bool:
        """The page's own <meta> and <link rel=stylesheet> to its own scheme are expected."""
        if tag == "meta":
            return (attrs.get("http-equiv") or "").lower() != "refresh"
        if tag == "link":
            return (attrs.get("rel") or "") == "stylesheet" and self._allowed_url(
                attrs.get("href") or ""
            )
        return False

    def _allowed_url(self, value: str) -> bool:
        if _SAFE_URL.match(value):
            return True
        scheme = value.split(":", 1)[0].lower() if ":" in value else ""
        return bool(scheme) and scheme in self.allowed_schemes

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        found = _CSS_LOAD.search(data) if self._in_style else None
        if found:
            self.findings.append(f"stylesheet uses {found.group(0)!r}")


def remote_references(page: str, allowed_schemes: set[str] | None = None) -> list[str]:
    """List what in a page could load from outside or run script.

    Args:
        page: an HTML document or fragment.
        allowed_schemes: URL schemes of the app itself (``{"nbshelf"}``) that may appear.

    Returns:
        One line per finding; empty when the page is self-contained and inert.
    """
    auditor = _Auditor({s.lower() for s in (allowed_schemes or set())})
    auditor.feed(page)
    auditor.close()
    return auditor.findings
