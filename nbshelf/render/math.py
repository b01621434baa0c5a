"""TeX math → MathML at render time, so math shows with no script and no network.

Chromium (QtWebEngine) and every current browser lay out MathML Core natively, so the page
needs no math JavaScript: the viewer keeps JavaScript off and an exported file stays small.
latex2mathml does the conversion; this module adds what notebooks rely on from MathJax:
macros defined once (``\\newcommand``, ``\\DeclareMathOperator``, ``\\def``) and used in
later cells, a few commands it does not know, and letters in bold or italic variants, which
MathML Core only shows when they are the Unicode mathematical letters themselves. A formula
that cannot be converted is shown as its TeX source, never as a failed page.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from html import escape

from latex2mathml.converter import convert

_DEFINERS = re.compile(r"\\(?:re)?newcommand\*?|\\DeclareMathOperator\*?|\\def(?=\\)")
_NAME = re.compile(r"\s*\{?\s*(\\[A-Za-z]+)\s*\}?")
_ARGS = re.compile(r"\s*(?:\[(\d)\])?(?:\[[^\]]*\])?")
_DEF_PARAMS = re.compile(r"((?:#\d)*)")
_COMMAND = re.compile(r"\\[A-Za-z]+")
# Commands MathJax knows that latex2mathml does not, or that only number equations.
_REWRITES = [
    (re.compile(r"\\label\s*\{[^{}]*\}"), ""),
    (re.compile(r"\\(?:nonumber|notag)\b"), ""),
    (re.compile(r"\\operatorname\*"), r"\\operatorname"),
    (re.compile(r"\\arg\b"), r"\\operatorname{arg}"),
    # Environments latex2mathml lays out as one line: rewrite them to ones it makes a table
    # of, with the same columns.
    (re.compile(r"\\begin\{aligned\}(?:\[[tcb]\])?"), r"\\begin{split}"),
    (re.compile(r"\\end\{aligned\}"), r"\\end{split}"),
    (re.compile(r"\\begin\{eqnarray\*?\}"), r"\\begin{array}{rcl}"),
    (re.compile(r"\\begin\{(?:gathered|gather\*?)\}"), r"\\begin{array}{c}"),
    (re.compile(r"\\end\{(?:eqnarray|gathered|gather)\*?\}"), r"\\end{array}"),
]
# latex2mathml copies the text of \text{} and friends into <mtext> verbatim, so "a<b" there
# would not be well-formed MathML: escape it in the TeX first.
_TEXT_ARG = re.compile(r"(\\(?:text|textrm|textit|textbf|mbox|mathrm)\s*\{)([^{}]*)(\})")
_NS = "http://www.w3.org/1998/Math/MathML"
_Q = "{" + _NS + "}"
ET.register_namespace("", _NS)
# Operators whose limits go under and over in display math (MathJax's movablelimits set).
_LARGE_OPS = set("∑∏∐⋂⋃⋀⋁⨀⨁⨂⨄⨆")
_SCRIPT_TO_LIMITS = {"msubsup": "munderover", "msub": "munder", "msup": "mover"}
_AUTO_NUMBER = re.compile(r"^\(\d+\)$")
# First code point of A, a, Α, α in each Unicode mathematical alphabet. The Greek blocks
# keep the slots of U+03A2 and U+03C2, so a plain offset maps every letter.
_ALPHABETS = {
    "bold": (0x1D400, 0x1D41A, 0x1D6A8, 0x1D6C2),
    "italic": (0x1D434, 0x1D44E, 0x1D6E2, 0x1D6FC),
    "bold-italic": (0x1D468, 0x1D482, 0x1D71C, 0x1D736),
}


def _balanced(text: str, start: int) -> int:
    """Index just past the brace group opening at ``text[start]`` (or -1 if unbalanced)."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def find_macros(text: str) -> dict[str, str]:
    """Find macro definitions in TeX or markdown text.

    Args:
        text: any text that may hold ``\\newcommand``, ``\\DeclareMathOperator`` or ``\\def``.

    Returns:
        Macro name (with backslash) → a ``\\newcommand`` definition latex2mathml understands.
    """
    macros: dict[str, str] = {}
    for match in _DEFINERS.finditer(text):
        definer = match.group(0)
        name_match = _NAME.match(text, match.end())
        if not name_match:
            continue
        name, pos = name_match.group(1), name_match.end()
        nargs = ""
        if definer.startswith("\\def"):
            params = _DEF_PARAMS.match(text, pos)
            count = len(params.group(1)) // 2 if params else 0
            nargs = f"[{count}]" if count else ""
            pos = params.end() if params else pos
        elif not definer.startswith("\\DeclareMathOperator"):
            args = _ARGS.match(text, pos)
            if args:
                nargs = f"[{args.group(1)}]" if args.group(1) else ""
                pos = args.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text) or text[pos] != "{":
            continue
        end = _balanced(text, pos)
        if end < 0:
            continue
        body = text[pos:end]
        if definer.startswith("\\DeclareMathOperator"):
            body = "{\\operatorname" + body + "}"
        macros[name] = f"\\newcommand{{{name}}}{nargs}{body}"
    return macros


def _letter(ch: str, starts: tuple[int, int, int, int]) -> str:
    code = ord(ch)
    if "A" <= ch <= "Z":
        return chr(starts[0] + code - 0x41)
    if "a" <= ch <= "z":
        if ch == "h" and starts[1] == 0x1D44E:
            return "\u210e"  # italic h lives in the Letterlike Symbols block
        return chr(starts[1] + code - 0x61)
    if 0x391 <= code <= 0x3A9:
        return chr(starts[2] + code - 0x391)
    if 0x3B1 <= code <= 0x3C9:
        return chr(starts[3] + code - 0x3B1)
    return ch


def _polish(mathml: str) -> str | None:
    """Adjust latex2mathml's output to look as MathJax's does in Jupyter.

    * big operators (sums, products) take their limits under/over in display math;
    * environments are not numbered automatically (Jupyter's MathJax numbers nothing
      unless asked with ``\\tag``);
    * bold/italic letters become Unicode mathematical letters (MathML Core ignores
      ``mathvariant`` other than ``normal``).

    Returns:
        The adjusted MathML, or ``None`` when latex2mathml's output is not well-formed.
    """
    # Not an XML attack surface: the text always starts with latex2mathml's own <math>
    # element, so no DTD (and no entity definitions) can come first.
    try:
        root = ET.fromstring(mathml)  # noqa: S314
    except ET.ParseError:
        # latex2mathml copies \text{} verbatim, so "a<b" there is not well-formed.
        return None
    for el in root.iter():
        tag = el.tag.removeprefix(_Q)
        if tag in _SCRIPT_TO_LIMITS and len(el) and el[0].tag == _Q + "mo":
            if (el[0].text or "").strip() in _LARGE_OPS:
                el.tag = _Q + _SCRIPT_TO_LIMITS[tag]
                el[0].set("movablelimits", "true")
        elif tag == "mtr" and len(el) > 1:
            last = el[-1]
            if len(last) == 1 and last[0].tag == _Q + "mtext":
                if _AUTO_NUMBER.match(last[0].text or ""):
                    el.remove(last)
        variant = el.get("mathvariant")
        if tag == "mi" and variant in _ALPHABETS and el.text:
            el.text = "".join(_letter(c, _ALPHABETS[variant]) for c in el.text)
            del el.attrib["mathvariant"]
    return ET.tostring(root, encoding="unicode")


def _escape_text_arg(match: re.Match[str]) -> str:
    return match.group(1) + escape(match.group(2), quote=False) + match.group(3)


@lru_cache(maxsize=4096)
def _convert(tex: str, display: bool) -> str | None:
    """latex2mathml plus polish, remembered: re-opening a notebook re-typesets nothing."""
    try:
        return _polish(convert(tex, display="block" if display else "inline"))
    except Exception:  # latex2mathml raises many kinds; each means "cannot typeset"
        return None


class MathRenderer:
    """Converts the TeX of one notebook, with the macros the notebook defines.

    Args:
        macros: name → definition, as returned by :func:`find_macros` over the whole notebook
            (MathJax makes a definition in one cell visible in all later ones).
    """

    def __init__(self, macros: dict[str, str] | None = None) -> None:
        self._macros = macros or {}
        self.converted = 0
        self.failed = 0

    def to_mathml(self, tex: str, *, display: bool) -> str:
        """Convert one formula.

        Args:
            tex: the TeX between the delimiters (or a whole ``\\begin{...}`` environment).
            display: block (display) math rather than inline.

        Returns:
            A ``<math>`` element, or the TeX source in a ``<code>`` element when conversion
            fails. Either way untrusted: the caller sanitizes it.
        """
        if not tex.strip():
            return ""  # "$ $" typesets as nothing in Jupyter too
        source = _TEXT_ARG.sub(_escape_text_arg, tex)
        for pattern, replacement in _REWRITES:
            source = pattern.sub(replacement, source)
        used = sorted(self._macros[c] for c in set(_COMMAND.findall(source)) if c in self._macros)
        mathml = _convert("".join(used) + source, display)
        if mathml is None:
            self.failed += 1
            return fallback(tex, display=display)
        self.converted += 1
        return mathml


def fallback(tex: str, *, display: bool) -> str:
    """Show TeX that could not be typeset as its source, in the delimiters it came with."""
    delim = "$$" if display else "$"
    return f'<code class="math-tex">{escape(delim + tex + delim)}</code>'
