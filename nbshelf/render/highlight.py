"""Code highlighting with pygments, by the notebook's language.

Tokens become ``<span class="...">`` (pygments' short class names) inside our own ``<pre>``;
the colours live in one stylesheet (:func:`stylesheet`) so no inline style is needed.
"""

from __future__ import annotations

import html
from functools import lru_cache

from pygments import highlight as _pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

# Kernel language names that are not pygments lexer names.
# Python goes to pygments' own lexer, not IPython's: IPython's is ~2x slower on big notebooks
# and only adds colour to %magics.
_ALIASES = {
    "python3": "python3",
    "python2": "python2",
    "ipython": "python3",
    "ipython3": "python3",
    "c#": "csharp",
    "f#": "fsharp",
    "c++": "cpp",
    "c++11": "cpp",
    "c++14": "cpp",
    "c++17": "cpp",
    "c++20": "cpp",
    "xcpp17": "cpp",
    "powershell": "pwsh",
    "sos": "text",
}
# Cells longer than this are shown plain: highlighting is linear but slow per character,
# and a 1 MB cell is a data dump, not code someone reads.
MAX_HIGHLIGHT_CHARS = 200_000
_FORMATTER = HtmlFormatter(nowrap=True)


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer | None:
    name = _ALIASES.get(language, language)
    for candidate in (name, language):
        try:
            return get_lexer_by_name(candidate, stripnl=False, ensurenl=False)
        except ClassNotFound:
            continue
    return None


def highlight_code(code: str, language: str) -> str:
    """Highlight source code as HTML spans.

    Args:
        code: the cell's source.
        language: the notebook's language (``python``, ``r``, ``julia``...).

    Returns:
        HTML for the inside of a ``<pre>``; plain escaped text when the language is unknown.
    """
    lexer = _lexer(language.lower())
    if lexer is None or len(code) > MAX_HIGHLIGHT_CHARS:
        return html.escape(code, quote=False)
    return _pygments_highlight(code, lexer, _FORMATTER)


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The CSS for highlighted code: code cells (``.highlight``) and markdown code blocks."""
    css = HtmlFormatter(style="default").get_style_defs([".highlight", ".nbs-markdown pre"])
    # pygments boxes "error" tokens in red; IPython magics (%matplotlib, !pip) are such tokens
    # for the Python lexer and are not errors.
    return css + "\n.highlight .err, .nbs-markdown pre .err { border: none; }\n"
