"""The pre-flight of a publish: every check a publish makes, made before it, as one record.

The app shows it before its Publish button (what is removed, the warnings, the marking and
the target's ceiling, whether someone else changed the target, the data files the notebook
reads) and ``nbshelf publish --dry-run`` prints it. It writes nothing; the publish itself
checks again under the target's share lock, since the share may change in between.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nbshelf.publish.datafiles import DataFile
from nbshelf.publish.leaks import Leak


@dataclass(frozen=True)
class Preflight:
    """What publishing a notebook to ``source`` as ``path`` would do, and what stops it.

    Attributes:
        source: the target source's name.
        path: the path inside the source it would be written to ("" when that path is
            refused: see ``target_refusal``).
        removes: what stripping removes, in one sentence (cells numbered from 1).
        warnings: the leak scan's warnings on the copy to publish (cells numbered from 1
            in their messages).
        marking: the marking the published copy would carry (its own or the one chosen).
        marked_in_notebook: the notebook carries its marking itself (it cannot be changed
            here).
        scheme: the library's markings, lowest first.
        required: the source accepts only marked notebooks.
        ceiling: the highest marking the source may hold ("" for no ceiling).
        marking_refusal: why the source refuses the marking (or its lack), else None.
        target_refusal: why the target cannot be written (no such source, not mounted, a
            path that leaves it), else None.
        exists: a file is at the target already.
        conflict: when someone else changed that file since this library saw it, a
            sentence saying so; else None.
        suggested_path: a free path beside the target to publish under instead (set when
            there is a conflict).
        data_files: the files the notebook's code reads, found, missing or refused.
    """

    source: str
    path: str
    removes: str
    warnings: list[Leak] = field(default_factory=list)
    marking: str | None = None
    marked_in_notebook: bool = False
    scheme: list[str] = field(default_factory=list)
    required: bool = False
    ceiling: str = ""
    marking_refusal: str | None = None
    target_refusal: str | None = None
    exists: bool = False
    conflict: str | None = None
    suggested_path: str | None = None
    data_files: list[DataFile] = field(default_factory=list)

    @property
    def blockers(self) -> list[str]:
        """Why publishing cannot go ahead as it is, one sentence each (empty: it can).

        A conflict is not among them: the user settles it (a new name, or replace theirs).
        """
        return [why for why in (self.target_refusal, self.marking_refusal) if why]

    def to_json(self) -> dict[str, Any]:
        """The record as JSON (``nbshelf publish --dry-run --json``)."""
        return {
            "source": self.source, "path": self.path, "removes": self.removes,
            "warnings": [w.to_json() for w in self.warnings], "marking": self.marking,
            "marked_in_notebook": self.marked_in_notebook, "scheme": self.scheme,
            "required": self.required, "ceiling": self.ceiling,
            "marking_refusal": self.marking_refusal, "target_refusal": self.target_refusal,
            "exists": self.exists, "conflict": self.conflict,
            "suggested_path": self.suggested_path, "blockers": self.blockers,
            "data_files": [d.to_json() for d in self.data_files],
        }


def conflict_sentence(changed: str, ever_seen: bool) -> str:
    """The conflict in the words of someone who syncs and publishes, not of the code."""
    if ever_seen:
        return f"Someone changed this notebook on the share since you synced it ({changed})."
    return (f"Someone else already has a notebook with this name on the share ({changed}), "
            "and this library has not synced it.")
