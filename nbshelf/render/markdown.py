"""Markdown cells → sanitized HTML, as Jupyter shows them.

markdown-it-py in CommonMark mode with GitHub tables and strikethrough, raw HTML allowed (then
sanitized), ``$...$``, ``$$...$$`` and ``\\begin{align}``-style math typeset as MathML, fenced
code highlighted, headings given anchors (ids unique across the notebook) and a ``¶`` link.
Links that would leave the page keep their text and show their address as a tooltip only.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin

from nbshelf.render.highlight import highlight_code
from nbshelf.render.math import MathRenderer

_SLUG_DROP = re.compile(r"[^\w\- .]", re.UNICODE)


@dataclass(frozen=True)
class Heading:
    """A heading of the notebook, for the outline.

    Attributes:
        level: 1 to 6.
        text: its plain text.
        anchor: the element id to jump to.
    """

    level: int
    text: str
    anchor: str


class Slugs:
    """Makes heading ids unique across the whole notebook (cells are rendered one by one)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def make(self, text: str) -> str:
        """Return a new unique id for a heading with this text."""
        base = _SLUG_DROP.sub("", text).strip().replace(" ", "-") or "section"
        if base.lower().startswith("nbs-"):
            base = "h-" + base  # the page's own ids start with nbs-
        slug, n = base, 1
        while slug in self._seen:
            slug = f"{base}-{n}"
            n += 1
        self._seen.add(slug)
        return slug


def _inline_text(token: Token | None) -> str:
    if token is None or not token.children:
        return token.content if token is not None else ""
    return "".join(c.content for c in token.children if c.type in {"text", "code_inline"})


class MarkdownRenderer:
    """Renders the markdown cells of one notebook.

    Args:
        math: the notebook's math renderer (holds its macros).
        sanitize: cleans the HTML a cell produces.
        slugs: the notebook-wide heading id maker.
    """

    def __init__(self, math: MathRenderer, sanitize: Callable[[str], str], slugs: Slugs) -> None:
        self._math = math
        self._sanitize = sanitize
        self._slugs = slugs
        md = MarkdownIt("commonmark", {"html": True, "highlight": self._fence})
        md.enable(["table", "strikethrough"])
        dollarmath_plugin(md, double_inline=True, renderer=self._dollar_math)
        amsmath_plugin(md, renderer=self._env_math)
        md.add_render_rule("heading_close", _render_heading_close)
        md.add_render_rule("link_open", _render_link_open)
        self._md = md

    def render(self, source: str) -> tuple[str, list[Heading]]:
        """Render one markdown cell.

        Args:
            source: the cell's markdown.

        Returns:
            The sanitized HTML and the headings it holds.
        """
        env: dict[str, Any] = {}
        tokens = self._md.parse(source, env)
        headings = self._anchor_headings(tokens)
        raw = self._md.renderer.render(tokens, self._md.options, env)
        return self._sanitize(raw), headings

    def _anchor_headings(self, tokens: list[Token]) -> list[Heading]:
        headings = []
        for i, token in enumerate(tokens):
            if token.type != "heading_open":
                continue
            text = _inline_text(tokens[i + 1] if i + 1 < len(tokens) else None)
            anchor = self._slugs.make(text)
            token.attrSet("id", anchor)
            for closing in tokens[i + 1 :]:
                if closing.type == "heading_close":
                    closing.meta["anchor"] = anchor
                    break
            headings.append(Heading(int(token.tag[1]), text, anchor))
        return headings

    def _dollar_math(self, content: str, options: dict[str, Any]) -> str:
        return self._math.to_mathml(content, display=bool(options.get("display_mode")))

    def _env_math(self, content: str) -> str:
        return self._math.to_mathml(content, display=True)

    def _fence(self, code: str, lang: str, _attrs: str) -> str:
        lang = (lang or "").strip().split()[0] if lang and lang.strip() else ""
        return highlight_code(code, lang) if lang else html.escape(code, quote=False)


def _render_heading_close(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any
) -> str:
    anchor = tokens[idx].meta.get("anchor")
    link = f'<a class="anchor-link" href="#{html.escape(anchor)}">¶</a>' if anchor else ""
    return f"{link}</{tokens[idx].tag}>\n"


def _render_link_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    href = str(token.attrGet("href") or "")
    if href.startswith("#"):
        return f'<a href="{html.escape(href)}">'
    # The viewer navigates nowhere and an export must not send a browser anywhere: the link
    # keeps its text and shows where it pointed on hover.
    return f'<a class="external-link" title="{html.escape(href)}">'
