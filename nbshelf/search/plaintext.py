"""A markdown cell's text as a reader sees it: the markup of markdown, HTML and TeX taken out.

Snippets show it (``**bold**`` reads "bold", ``<b>x</b>`` reads "x", ``$\\alpha$`` reads "α");
the index keeps the cell's own text. Every pattern is linear: a cell is up to 100,000
characters of whatever a notebook holds.
"""

from __future__ import annotations

import html
import re

# -- TeX ---------------------------------------------------------------------------------------

#: Commands that stand for one character.
_TEX_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "θ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ",
    "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "sum": "∑", "prod": "∏",
    "int": "∫", "infty": "∞", "partial": "∂", "nabla": "∇", "sqrt": "√", "times": "×",
    "cdot": "·", "pm": "±", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠",
    "ne": "≠", "approx": "≈", "sim": "∼", "propto": "∝", "in": "∈", "notin": "∉",
    "subset": "⊂", "subseteq": "⊆", "cup": "∪", "cap": "∩", "forall": "∀", "exists": "∃",
    "rightarrow": "→", "to": "→", "leftarrow": "←", "Rightarrow": "⇒", "mapsto": "↦",
    "ldots": "…", "cdots": "…", "dots": "…", "log": "log", "exp": "exp", "sin": "sin",
    "cos": "cos", "tan": "tan", "max": "max", "min": "min", "arg": "arg", "lim": "lim",
    "mid": "|", "vert": "|", "lvert": "|", "rvert": "|", "langle": "⟨", "rangle": "⟩",
    "quad": " ", "qquad": " ", "left": "", "right": "", "displaystyle": "", "limits": "",
    "hat": "", "bar": "", "tilde": "", "vec": "", "dot": "", "big": "", "Big": "",
}  # fmt: skip
#: ``$$...$$``, ``$...$`` (not an escaped ``\$``), ``\(...\)`` and ``\[...\]``.
_MATH = re.compile(r"(?<!\\)\$\$(.+?)\$\$|(?<![\\$])\$(?!\$)(.+?)(?<!\\)\$|\\\((.+?)\\\)|"
                   r"\\\[(.+?)\\\]", re.S)
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_COMMAND = re.compile(r"\\([A-Za-z]+)\*?")
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\s*\{[^{}]*\}")
_TEX_SPACE = re.compile(r"\\[,;:! ]|\\\\|~")


def tex_text(tex: str) -> str:
    """TeX as plain text: Greek letters and symbols as characters, fractions as ``a/b``,
    font and spacing commands and braces gone (``\\mathbf{x}^{2}`` reads ``x^2``)."""
    tex = _ENVIRONMENT.sub(" ", tex)
    tex = _FRAC.sub(lambda m: f"{_group(m.group(1))}/{_group(m.group(2))}", tex)
    tex = _TEX_SPACE.sub(" ", tex)
    tex = _COMMAND.sub(lambda m: _TEX_SYMBOLS.get(m.group(1), ""), tex)
    tex = tex.replace("{", "").replace("}", "").replace("&", " ")
    return re.sub(r"[ \t]{2,}", " ", tex).strip()


def _group(part: str) -> str:
    """A fraction's part, in brackets when it is more than one name or number."""
    part = part.strip()
    return part if re.fullmatch(r"\\?\w+", part) else f"({part})"


def _math(match: re.Match[str]) -> str:
    inner = next(g for g in match.groups() if g is not None)
    return tex_text(inner)


# -- markdown and HTML -----------------------------------------------------------------------

_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
#: A tag: a name, then attributes that hold no ``<`` or ``>`` (a quoted ``>`` is rare and
#: only leaves a stray character behind).
_TAG = re.compile(r"</?([A-Za-z][\w:-]*)(?:\s[^<>]*)?/?>")
#: Tags that end a line or a block: a space stands where they were, so words stay apart.
_BLOCK_TAGS = {
    "br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "table", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "blockquote", "pre", "section", "img", "dt", "dd",
}  # fmt: skip
_FENCE = re.compile(r"^[ \t]*(?:```|~~~)[^\n]*$", re.M)
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_LINK = re.compile(r"\[([^\]\n]+)\](?:\([^)\n]*\)|\[[^\]\n]*\])")
_REFERENCE = re.compile(r"^[ \t]*\[[^\]\n]+\]:[ \t]*\S+.*$", re.M)
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^\s<>]+)>")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+|[ \t]+#+[ \t]*$", re.M)
_QUOTE = re.compile(r"^[ \t]*(?:>[ \t]?)+", re.M)
_LIST = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?", re.M)
_RULE = re.compile(r"^[ \t]*(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,}|=+)[ \t]*$", re.M)
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*$",
                         re.M)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])|"
                       r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~$])")


def _tag(match: re.Match[str]) -> str:
    return " " if match.group(1).lower() in _BLOCK_TAGS else ""


def markdown_text(text: str) -> str:
    """A markdown cell's text without markup: what it reads as once rendered, one space
    where a line, a cell of a table or a block ended.

    Code spans keep their text (what is inside is what a reader reads); math becomes plain
    characters (:func:`tex_text`); links keep their words and lose their addresses; HTML
    tags go and entities (``&amp;``) read as characters.
    """
    if not any(c in text for c in "*_`#<>[$\\|~&-="):
        return " ".join(text.split())  # nothing to take out (most prose)
    spans: list[str] = []

    def keep(match: re.Match[str]) -> str:
        # Code spans and math are set aside first: ``*`` and ``_`` inside them are not
        # emphasis. A private-use character stands in until the end.
        spans.append(match.group(2) if match.re is _CODE_SPAN else _math(match))
        return f"\ue000{len(spans) - 1}\ue001"

    text = _FENCE.sub("", text)
    text = _CODE_SPAN.sub(keep, text)
    text = _MATH.sub(keep, text)
    text = _COMMENT.sub("", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _TAG.sub(_tag, text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _REFERENCE.sub("", text)
    text = _TABLE_RULE.sub("", text)
    text = _RULE.sub("", text)
    text = _HEADING.sub("", text)
    text = _QUOTE.sub("", text)
    text = _LIST.sub("", text)
    for _ in range(2):  # ***both*** is strong around emphasis
        text = _STRONG.sub(r"\2", text)
        text = _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)
    text = _STRIKE.sub(r"\1", text)
    text = _ESCAPE.sub(r"\1", text)
    text = text.replace("|", " ")
    text = html.unescape(text)
    for _ in range(3):  # a code span inside math is a stand-in inside a stand-in
        if "\ue000" not in text:
            break
        text = re.sub(r"\ue000(\d+)\ue001", lambda m: spans[int(m.group(1))], text)
    return " ".join(text.split())  # one line: a snippet shows one
