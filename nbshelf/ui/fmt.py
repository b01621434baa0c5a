"""How the app writes times, sizes and counts for people (no Qt, no I/O)."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterable
from datetime import datetime

from nbshelf import units

_SPACES = re.compile(r"\s+")


def when(seconds: float | None) -> str:
    """Local date and time to the minute, ``2024-05-02 14:03``; empty for None."""
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M")


def day(seconds: float | None) -> str:
    """Local date, ``2024-05-02`` (the list's Modified column: the time is in its tooltip)."""
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d")


def ago(seconds: float | None, now: float | None = None) -> str:
    """How long ago, in words a user reads at a glance: ``just now``, ``5 min ago``."""
    if seconds is None:
        return "never"
    delta = max(0.0, (now if now is not None else time.time()) - seconds)
    if delta < 60:
        return "just now"
    if delta < 3600:
        return f"{int(delta // 60)} min ago"
    if delta < 86400:
        hours = int(delta // 3600)
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    return when(seconds)


def size(num_bytes: int | None) -> str:
    """``1.2 MB``: the core's one size formatter (``nbshelf.units.size``), as the page and
    the command line write sizes."""
    return units.size(num_bytes)


def language(name: str | None) -> str:
    """A kernel language as people write it: ``Python``, ``C#``, ``PowerShell``
    (``nbshelf.units.language_name``)."""
    return units.language_name(name)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 notebook``, ``1,234 notebooks``."""
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"


#: The small label before a snippet, by the kind of cell it comes from.
CELL_KINDS = {"code": "code", "markdown": "markdown", "raw": "raw", "output": "output"}


def marked_parts(text: str, highlights: Iterable[tuple[int, int]]) -> list[tuple[str, bool]]:
    """A snippet's text as (part, is_a_match) pieces, in order, on one line.

    Offsets out of range or overlapping are clipped, never trusted. Runs of white space (a
    code cell's indentation) become one space: the pieces are cut first, so the offsets
    still hold.
    """
    parts: list[tuple[str, bool]] = []
    at = 0
    for start, end in sorted(highlights):
        start, end = max(start, at), min(end, len(text))
        if start >= end:
            continue
        parts += [(text[at:start], False), (text[start:end], True)]
        at = end
    parts.append((text[at:], False))
    folded = [(_SPACES.sub(" ", part), marked) for part, marked in parts]
    if folded and not folded[0][1]:
        folded[0] = (folded[0][0].lstrip(), False)
    return [(part, marked) for part, marked in folded if part]


def marked_html(text: str, highlights: Iterable[tuple[int, int]]) -> str:
    """The snippet as rich text: everything escaped, the matches in bold."""
    return "".join(
        f"<b>{html.escape(part)}</b>" if marked else html.escape(part)
        for part, marked in marked_parts(text, highlights)
    )


def cell_label(cell: int, kind: str) -> str:
    """``cell 4 · code``: cells are counted from 1, as people count them."""
    return f"cell {cell + 1} · {CELL_KINDS.get(kind, kind)}"
