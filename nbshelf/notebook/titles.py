"""A notebook's title as a reader would give it.

The first heading is the title unless it is generic: a chapter of a book whose first heading
is "Setup" and whose first line is a bold "**Chapter 9 – Unsupervised Learning**" is called
by that line. When every heading is generic, the file name, turned into words, says more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # reading imports this module: the cell type is for annotations only
    from nbshelf.notebook.reading import Cell


#: Headings longer than this are cut: a title is a line, not a paragraph.
MAX_HEADING = 200
_FENCE = re.compile(r"^\s*(```|~~~)")
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_HTML_HEADING = re.compile(r"<h([1-6])[^>]*>(.*?)</h\1\s*>", re.IGNORECASE | re.DOTALL)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_TAG = re.compile(r"<[^>]+>")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")


def clean_heading(text: str) -> str:
    """Turn a markdown heading's text into plain words: no links, tags, emphasis or anchors."""
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    text = _EMPHASIS.sub("", text)
    text = " ".join(text.replace("¶", "").split())
    return text if len(text) <= MAX_HEADING else text[: MAX_HEADING - 1].rstrip() + "…"


def markdown_headings(source: str) -> list[tuple[int, str]]:
    """Headings of one markdown cell as (level, plain text), skipping fenced code."""
    found: list[tuple[int, str]] = []
    in_fence = False
    previous = ""
    for line in source.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            previous = ""
            continue
        if in_fence:
            continue
        atx = _ATX.match(line)
        if atx:
            found.append((len(atx.group(1)), clean_heading(atx.group(2))))
        elif _SETEXT.match(line) and previous.strip() and not _SETEXT.match(previous):
            found.append((1 if line.strip()[0] == "=" else 2, clean_heading(previous)))
        else:
            for level, inner in _HTML_HEADING.findall(line):
                found.append((int(level), clean_heading(inner)))
        previous = line
    return [(level, text) for level, text in found if text]


#: Headings that name a part every notebook has, not what this one is about (compared after
#: ``_generic_key``: lower case, no numbering, no punctuation). Kept to words that say nothing
#: on their own: "Summary" or "Results" can be what a short notebook is, so they are not here.
GENERIC_HEADINGS = frozenset({
    "setup", "set up", "set-up", "setup and imports", "imports and setup", "imports",
    "import", "import libraries", "import packages", "import modules", "importing libraries",
    "importing packages", "importing modules", "load libraries", "load packages",
    "loading libraries", "loading packages", "libraries", "packages", "dependencies",
    "requirements", "prerequisites", "installation", "install", "introduction", "intro",
    "overview", "table of contents", "contents", "toc", "outline", "agenda", "preamble",
    "preliminaries", "configuration", "config", "settings", "parameters", "environment",
    "environment setup", "initialization", "initialisation", "housekeeping", "boilerplate",
    "getting started", "notebook", "untitled", "untitled notebook", "title", "header",
    "first things first",
})
_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*[.):]?|[ivx]+[.)]|step \d+[.:)]?)\s+")
_TRAILING_NUMBER = re.compile(r"[\s_-]*\d+$")
_PUNCTUATION = re.compile(r"[^\w\s-]+")
_BOLD_LINE = re.compile(
    r"^\s*(?:(\*\*|__)(?P<md>.+?)\1|<(b|strong)>(?P<html>.+?)</\3\s*>)\s*$", re.IGNORECASE
)
_WORD_BREAKS = re.compile(r"[_\s-]+|\.(?=\D)")


def _generic_key(text: str) -> str:
    """``text`` as compared with ``GENERIC_HEADINGS``: ``1. Set-up:`` and ``Untitled3``
    become ``set-up`` and ``untitled``."""
    key = _PUNCTUATION.sub(" ", text.casefold().replace("&", " and ")).strip()
    key = _NUMBERING.sub("", key)
    key = _TRAILING_NUMBER.sub("", key)
    return " ".join(key.split())


def is_generic(text: str) -> bool:
    """True for a heading that names a part every notebook has ("Setup", "Imports",
    "Table of Contents", "Untitled2"), and for an empty one."""
    key = _generic_key(text)
    return not key or key in GENERIC_HEADINGS


def bold_first_line(cells: Sequence[Cell]) -> str | None:
    """The notebook's first line when it is all bold (``**Chapter 9 – Clustering**``): the
    title books put above their first heading. None when the first cell is not markdown."""
    for cell in cells:
        if not cell.source.strip():
            continue
        if cell.kind != "markdown":
            return None
        first = next(line for line in cell.source.splitlines() if line.strip())
        found = _BOLD_LINE.match(first)
        if found is None:
            return None
        text = clean_heading(found.group("md") or found.group("html") or "")
        return text or None
    return None


def file_words(filename: str) -> str:
    """A file name as words: ``03_sales-by_region.ipynb`` -> ``03 sales by region``.

    Capitals are the author's (``MySQL``, ``HelloWorld`` stay whole); only a lower-case first
    letter is raised, as a title starts."""
    stem = PurePosixPath(filename.replace("\\", "/")).name
    stem = stem[: -len(".ipynb")] if stem.lower().endswith(".ipynb") else stem
    # A name with spaces is in words already ("Custom Widget - Spreadsheet")
    text = stem if " " in stem.strip() else " ".join(w for w in _WORD_BREAKS.split(stem) if w)
    text = text.strip() or stem
    return text[:1].upper() + text[1:]


def choose_title(cells: Sequence[Cell], filename: str,
                 headings: Iterable[tuple[int, str]] | None = None) -> str:
    """The title a reader would give the notebook.

    The first heading, unless it is generic and something more specific exists: a bold first
    line, the first H1 that is not generic, the file name in words. A notebook with no
    heading at all is called by its bold first line, else by its file name in words.

    Args:
        cells: the notebook's cells.
        filename: its file name (or path), the last resort.
        headings: its headings as (level, text), if already found (else read from cells).
    """
    if headings is None:
        headings = [h for c in cells if c.kind == "markdown" for h in markdown_headings(c.source)]
    found = list(headings)
    if found and not is_generic(found[0][1]):
        return found[0][1]
    bold = bold_first_line(cells)
    if bold and not is_generic(bold):
        return bold
    first_h1 = next((text for level, text in found if level == 1 and not is_generic(text)), None)
    if first_h1:
        return first_h1
    words = file_words(filename)
    if found and is_generic(words):
        return found[0][1]  # "Setup" says as much as "Untitled3", and it is the author's
    return words or (found[0][1] if found else filename)
