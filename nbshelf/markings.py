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


def notebook_marking(raw: dict[str, Any], scheme: list[str]) -> str | None:
    """The notebook's marking, spelled as in ``scheme`` when it is one of them."""
    own = as_mapping(as_mapping(raw.get("metadata")).get("nbshelf"))
    declared = own.get("marking")
    if isinstance(declared, str) and declared.strip():
        return _canonical(declared.strip(), scheme) or declared.strip()
    for cell in iter_cells(raw):
        if cell.kind != "markdown":
            continue
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        return _canonical(_DECORATION.sub(" ", first).strip(), scheme)
    return None


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
