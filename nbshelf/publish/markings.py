"""Control markings: how sensitive a notebook is, and where it may be published.

A notebook's marking is ``metadata.nbshelf.marking``; failing that, a first line of its
first markdown cell that is one of the library's markings (``**SECRET**``, ``# SECRET``,
``SECRET//REL TO X``). Markings compare by their place in the library's list.
"""

from __future__ import annotations

import re
from typing import Any

from nbshelf.errors import NbshelfError
from nbshelf.notebook import as_mapping, iter_cells


class MarkingRefused(NbshelfError):
    """Publishing is refused because of the notebook's marking (or the lack of one)."""


_DECORATION = re.compile(r"[*_#`>\s]+")


#: What the catalog stores for a content: "m:TEXT" (declared in metadata), "l:TEXT" (the
#: first line of the first markdown cell, which is a marking only if the scheme says so), or
#: "" (neither). Stored once at sync, read against the library's scheme when shown.
_DECLARED, _FIRST_LINE = "m:", "l:"
#: A first line longer than this is prose, not a marking.
_MAX_LINE = 80


def marking_hint(raw: dict[str, Any]) -> str:
    """What may be the notebook's marking, to store in the catalog (see ``read_hint``)."""
    own = as_mapping(as_mapping(raw.get("metadata")).get("nbshelf"))
    declared = own.get("marking")
    if isinstance(declared, str) and declared.strip():
        return _DECLARED + declared.strip()
    for cell in iter_cells(raw):
        if cell.kind != "markdown":
            continue
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        line = _DECORATION.sub(" ", first).strip()
        return _FIRST_LINE + line if len(line) <= _MAX_LINE else ""
    return ""


def read_hint(hint: str, scheme: list[str]) -> str | None:
    """The marking a stored hint stands for under ``scheme`` (None: unmarked)."""
    if hint.startswith(_DECLARED):
        text = hint[len(_DECLARED):]
        return _canonical(text, scheme) or text
    if hint.startswith(_FIRST_LINE):
        return _canonical(hint[len(_FIRST_LINE):], scheme)
    return None


def notebook_marking(raw: dict[str, Any], scheme: list[str]) -> str | None:
    """The notebook's marking, spelled as in ``scheme`` when it is one of them."""
    return read_hint(marking_hint(raw), scheme)


def _canonical(text: str, scheme: list[str]) -> str | None:
    head = text.split("//", 1)[0].strip().upper()
    for marking in scheme:
        if head == marking.upper():
            return marking
    return None


def check_publishable(
    marking: str | None, scheme: list[str], *, required: bool, ceiling: str, target: str
) -> None:
    """Refuse a notebook a source may not hold; explain what would make it acceptable."""
    if marking is None:
        if required:
            choices = ", ".join(scheme) or "a marking"
            raise MarkingRefused(
                f"{target} accepts only marked notebooks; mark this one ({choices}) in its "
                "first line or in its metadata (nbshelf.marking) first"
            )
        return
    if not ceiling:
        return
    ranks = {m.upper(): i for i, m in enumerate(scheme)}
    if marking.upper() not in ranks:
        raise MarkingRefused(
            f"the notebook is marked {marking!r}, which is not one of this library's markings "
            f"({', '.join(scheme) or 'none set'})"
        )
    if ceiling.upper() in ranks and ranks[marking.upper()] > ranks[ceiling.upper()]:
        raise MarkingRefused(
            f"the notebook is marked {marking}, above what {target} may hold ({ceiling})"
        )
