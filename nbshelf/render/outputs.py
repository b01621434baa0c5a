"""Code cell outputs → HTML.

Each output picks the richest representation we can show safely, in Jupyter's order. Things
that only live in a running kernel or browser (widgets, JavaScript, Plotly, Bokeh...) become a
clear placeholder, unless the output also carries a static picture or text to show instead.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

from nbshelf.render.ansi import ansi_to_html, terminal_text
from nbshelf.render.cells import Output, text_of
from nbshelf.render.images import clean_base64, data_uri
from nbshelf.render.math import MathRenderer

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# Neither the viewer nor a run here shows a live widget or chart (no kernel-browser link, no
# script): the placeholders say so instead of promising what a run cannot give.
WIDGET_TEXT = ("interactive widget — it works only in Jupyter itself, and no picture of it "
               "was saved")
INTERACTIVE_TEXT = ("interactive output ({kind}) — it works only in Jupyter itself, and no "
                    "picture of it was saved")
# What we can show, richest first (Jupyter's display order, minus what needs a browser).
_ORDER = [
    "text/html",
    "text/markdown",
    "text/latex",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/json",
    "text/plain",
]
_RASTER = {"image/png", "image/jpeg", "image/gif", "image/webp"}
_TAGS = re.compile(r"<[^>]*>")
_LATEX_DELIMS = re.compile(r"^\s*(\$\$?|\\\[|\\\()(.*?)(\$\$?|\\\]|\\\))\s*$", re.S)
# Images above this are not embedded: the page must stay openable.
MAX_IMAGE_B64_CHARS = 24 * 1024 * 1024


class OutputRenderer:
    """Renders the outputs of one notebook.

    Args:
        sanitize: cleans untrusted HTML, SVG and MathML.
        render_markdown: renders ``text/markdown`` outputs like a markdown cell.
        math: typesets ``text/latex`` outputs.
    """

    def __init__(
        self,
        sanitize: Callable[[str], str],
        render_markdown: Callable[[str], str],
        math: MathRenderer,
    ) -> None:
        self._sanitize = sanitize
        self._markdown = render_markdown
        self._math = math

    def render_all(self, outputs: list[Output]) -> str:
        """Render a cell's outputs, merging consecutive stream outputs as Jupyter does."""
        parts: list[str] = []
        pending: Output | None = None
        for out in outputs:
            if out.kind == "stream":
                if pending is not None and pending.name == out.name:
                    pending.text += out.text
                    continue
                if pending is not None:
                    parts.append(self.render(pending))
                pending = Output(kind="stream", name=out.name, text=out.text)
                continue
            if pending is not None:
                parts.append(self.render(pending))
                pending = None
            parts.append(self.render(out))
        if pending is not None:
            parts.append(self.render(pending))
        return "".join(parts)

    def render(self, out: Output) -> str:
        """Render one output as an ``<div class="nbs-output">`` block."""
        if out.kind == "stream":
            name = "stderr" if out.name == "stderr" else "stdout"
            body = ansi_to_html(terminal_text(out.text))
            return _wrap(f"nbs-stream nbs-{name}", f"<pre>{body}</pre>")
        if out.kind == "error":
            return _wrap("nbs-error", f"<pre>{self._error_text(out)}</pre>")
        if out.kind in {"execute_result", "display_data", "update_display_data"}:
            prompt = ""
            if out.kind == "execute_result" and out.execution_count is not None:
                prompt = f"Out[{out.execution_count}]:"
            return _wrap("nbs-result", self._bundle(out), prompt)
        return _placeholder(f"output of an unknown kind ({out.kind})")

    def _error_text(self, out: Output) -> str:
        if out.traceback:
            return ansi_to_html("\n".join(out.traceback))
        return ansi_to_html(f"{out.ename}: {out.evalue}")

    def _bundle(self, out: Output) -> str:
        data = out.data
        # A widget's or a chart's own data needs a browser session; the static picture or
        # HTML saved beside it in the same bundle (ipywidgets' and Plotly's "static" renderers
        # write one) is what a reader can see.
        interactive = [m for m in data if m not in _ORDER]
        for mime in _ORDER:
            if mime not in data:
                continue
            if mime == "text/plain" and interactive:
                # The repr of a Plotly figure or a Javascript object tells a reader nothing.
                break
            shown = self._mime(mime, data[mime], out.metadata.get(mime))
            if shown:
                return shown
        if WIDGET_MIME in data:
            return _placeholder(WIDGET_TEXT, "nbs-widget")
        if interactive:
            kind = "JavaScript" if "application/javascript" in interactive else interactive[0]
            return _placeholder(INTERACTIVE_TEXT.format(kind=kind))
        if data:
            return _placeholder(f"this output could not be shown ({', '.join(sorted(data))})")
        return ""

    def _mime(self, mime: str, value: Any, meta: Any) -> str:
        """Render one representation, or return ``""`` when it shows nothing."""
        if mime in _RASTER:
            return _image(mime, value, meta)
        if mime == "application/json":
            body = value if isinstance(value, str) else json.dumps(value, indent=2, default=str)
            return f'<pre class="nbs-json">{html.escape(body, quote=False)}</pre>'
        text = text_of(value)
        if mime == "text/plain":
            return f"<pre>{ansi_to_html(text)}</pre>"
        if mime == "text/html" or mime == "image/svg+xml":
            clean = self._sanitize(text)
            # A Bokeh or Plotly div is all script: after cleaning nothing is left to see, so
            # the next representation (often a PNG or text) is the better choice.
            if not _TAGS.sub("", clean).strip() and not re.search(r"<(img|svg|table|hr)", clean):
                return ""
            css = "nbs-html" if mime == "text/html" else "nbs-svg"
            return f'<div class="{css}">{clean}</div>'
        if mime == "text/markdown":
            return f'<div class="nbs-markdown">{self._markdown(text)}</div>'
        if mime == "text/latex":
            return self._latex(text)
        return ""

    def _latex(self, text: str) -> str:
        match = _LATEX_DELIMS.match(text)
        tex = match.group(2) if match else text
        display = not match or match.group(1) in {"$$", "\\["}
        mathml = self._sanitize(self._math.to_mathml(tex, display=display))
        return f'<div class="nbs-latex">{mathml}</div>'


def _image(mime: str, value: Any, meta: Any) -> str:
    b64 = clean_base64(value)
    if not b64 or len(b64) > MAX_IMAGE_B64_CHARS:
        return ""
    attrs = ""
    if isinstance(meta, dict):
        for key in ("width", "height"):
            size = meta.get(key)
            if isinstance(size, int | float) and not isinstance(size, bool) and size > 0:
                attrs += f' {key}="{int(size)}"'
    return f'<img src="{data_uri(mime, b64)}"{attrs} alt="output image">'


def _placeholder(text: str, extra: str = "") -> str:
    return f'<div class="nbs-placeholder {extra}">{html.escape(text)}</div>'


def _wrap(css: str, body: str, prompt: str = "") -> str:
    prompt_html = f'<div class="nbs-prompt">{html.escape(prompt)}</div>' if prompt else ""
    return (
        f'<div class="nbs-output {css}">{prompt_html}'
        f'<div class="nbs-output-body">{body}</div></div>'
    )
