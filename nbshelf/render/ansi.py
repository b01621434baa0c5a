"""ANSI terminal text → HTML, for tracebacks and streams.

IPython colours its tracebacks with SGR escape codes; Jupyter shows them as colours. Only SGR
(``ESC [ ... m``) is honoured; every other escape sequence is dropped. Colours become class
names (styled by our CSS) or, for 256-colour and true-colour codes, an inline ``color``.
Text is always HTML-escaped.
"""

from __future__ import annotations

import html
import re

_ESCAPE = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b[()][A-Za-z0-9]|\x1b[=>]")
_NAMES = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]
_CUBE = [0, 95, 135, 175, 215, 255]


def _xterm_rgb(index: int) -> str:
    """CSS colour of an xterm 256-colour index."""
    if index < 16:
        base = [(0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16), (36, 114, 200),
                (188, 63, 188), (17, 168, 205), (229, 229, 229)]  # fmt: skip
        r, g, b = base[index % 8]
        if index >= 8:
            r, g, b = (min(255, c + 50) for c in (r, g, b))
        return f"rgb({r},{g},{b})"
    if index < 232:
        i = index - 16
        return f"rgb({_CUBE[i // 36]},{_CUBE[(i // 6) % 6]},{_CUBE[i % 6]})"
    level = 8 + (index - 232) * 10
    return f"rgb({level},{level},{level})"


class _State:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.fg: str | None = None
        self.bg: str | None = None
        self.bold = self.italic = self.underline = False

    def apply(self, params: list[int]) -> None:
        i = 0
        while i < len(params):
            code = params[i]
            if code == 0:
                self.reset()
            elif code == 1:
                self.bold = True
            elif code == 3:
                self.italic = True
            elif code == 4:
                self.underline = True
            elif code == 22:
                self.bold = False
            elif code == 23:
                self.italic = False
            elif code == 24:
                self.underline = False
            elif 30 <= code <= 37 or 90 <= code <= 97:
                self.fg = _NAMES[code % 10] + ("-intense" if code >= 90 else "")
            elif 40 <= code <= 47 or 100 <= code <= 107:
                self.bg = _NAMES[code % 10] + ("-intense" if code >= 100 else "")
            elif code == 39:
                self.fg = None
            elif code == 49:
                self.bg = None
            elif code in (38, 48):
                colour, used = _extended(params[i + 1 :])
                if code == 38:
                    self.fg = colour
                else:
                    self.bg = colour
                i += used
            i += 1

    def open_tag(self) -> str:
        classes, styles = [], []
        for value, side in ((self.fg, "fg"), (self.bg, "bg")):
            if value is None:
                continue
            if value.startswith("rgb("):
                styles.append(("color: " if side == "fg" else "background-color: ") + value)
            else:
                classes.append(f"ansi-{value}-{side}")
        if self.bold:
            classes.append("ansi-bold")
        if self.italic:
            classes.append("ansi-italic")
        if self.underline:
            classes.append("ansi-underline")
        if not classes and not styles:
            return ""
        attrs = f' class="{" ".join(classes)}"' if classes else ""
        attrs += f' style="{"; ".join(styles)}"' if styles else ""
        return f"<span{attrs}>"


def _extended(rest: list[int]) -> tuple[str | None, int]:
    """Read a ``38;5;n`` or ``38;2;r;g;b`` colour; return it and how many params it used."""
    if len(rest) >= 2 and rest[0] == 5:
        return _xterm_rgb(max(0, min(255, rest[1]))), 2
    if len(rest) >= 4 and rest[0] == 2:
        r, g, b = (max(0, min(255, v)) for v in rest[1:4])
        return f"rgb({r},{g},{b})", 4
    return None, len(rest)


def ansi_to_html(text: str) -> str:
    """Convert text with ANSI escape codes to escaped HTML with colour spans.

    Args:
        text: terminal text, as found in a traceback or stream.

    Returns:
        HTML safe to place inside ``<pre>``.
    """
    if "\x1b" not in text:
        return html.escape(text, quote=False)
    state = _State()
    parts: list[str] = []
    pos = 0
    open_span = ""
    for match in _ESCAPE.finditer(text):
        if match.start() > pos:
            chunk = html.escape(text[pos : match.start()], quote=False)
            parts.append(f"{open_span}{chunk}</span>" if open_span else chunk)
        pos = match.end()
        if match.group(2) != "m":
            continue
        raw = match.group(1).replace("?", "")
        params = [int(p) for p in raw.split(";") if p.isdigit()] or [0]
        state.apply(params)
        open_span = state.open_tag()
    if pos < len(text):
        chunk = html.escape(text[pos:], quote=False)
        parts.append(f"{open_span}{chunk}</span>" if open_span else chunk)
    return "".join(parts)


def terminal_text(text: str) -> str:
    """Apply carriage returns and backspaces the way a terminal would show the result.

    Progress bars print ``\\r`` to redraw a line; Jupyter shows only the last drawing.

    Args:
        text: stream text.

    Returns:
        The text as finally displayed.
    """
    if "\r" not in text and "\b" not in text:
        return text
    text = text.replace("\r\n", "\n")
    lines = []
    for line in text.split("\n"):
        # A trailing \r has not yet been drawn over: the line before it still shows.
        drawn = [part for part in line.split("\r") if part]
        line = drawn[-1] if drawn else ""
        if "\b" in line:
            kept: list[str] = []
            for ch in line:
                if ch == "\b":
                    if kept:
                        kept.pop()
                else:
                    kept.append(ch)
            line = "".join(kept)
        lines.append(line)
    return "\n".join(lines)
