"""Cell-level differences between two versions of a notebook.

Cells are paired by their ids when both versions have them (Jupyter keeps ids stable across
edits), else by aligning their text. Source changes come as unified diff lines; outputs and
metadata are compared only when asked.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from nbshelf.notebook import as_mapping

#: Two unpaired cells this alike are one changed cell, not a removal and an addition.
SAME_CELL_RATIO = 0.5


@dataclass(frozen=True)
class CellChange:
    """One changed, added or removed cell."""

    change: str  # "added" | "removed" | "changed"
    old_index: int | None
    new_index: int | None
    cell_type: str
    source_diff: list[str] = field(default_factory=list)
    outputs_changed: bool = False
    metadata_changed: bool = False

    def to_json(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "change": self.change, "old_index": self.old_index, "new_index": self.new_index,
            "cell_type": self.cell_type, "source_diff": self.source_diff,
            "outputs_changed": self.outputs_changed, "metadata_changed": self.metadata_changed,
        }


def _cells(nb: dict[str, Any]) -> list[dict[str, Any]]:
    cells = nb.get("cells")
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def _source(cell: dict[str, Any]) -> str:
    value = cell.get("source", "")
    return "".join(value) if isinstance(value, list) else str(value)


def _stable(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def diff_notebooks(
    old: dict[str, Any], new: dict[str, Any], *, outputs: bool = False, metadata: bool = False
) -> list[CellChange]:
    """The cell changes from ``old`` to ``new`` (both nbformat 4 dicts), in notebook order."""
    a, b = _cells(old), _cells(new)
    pairs = _pair_by_id(a, b) if _all_have_ids(a) and _all_have_ids(b) else _pair_by_text(a, b)
    changes: list[CellChange] = []
    for i, j in pairs:
        if i is None and j is not None:
            changes.append(CellChange("added", None, j, str(b[j].get("cell_type")),
                                      _unified("", _source(b[j]))))
        elif j is None and i is not None:
            changes.append(CellChange("removed", i, None, str(a[i].get("cell_type")),
                                      _unified(_source(a[i]), "")))
        elif i is not None and j is not None:
            change = _compare(a[i], b[j], i, j, outputs=outputs, metadata=metadata)
            if change is not None:
                changes.append(change)
    return changes


def _compare(x: dict[str, Any], y: dict[str, Any], i: int, j: int, *, outputs: bool,
             metadata: bool) -> CellChange | None:
    source_diff = _unified(_source(x), _source(y)) if _source(x) != _source(y) else []
    type_changed = x.get("cell_type") != y.get("cell_type")
    outputs_changed = outputs and _stable(x.get("outputs")) != _stable(y.get("outputs"))
    metadata_changed = metadata and _stable(as_mapping(x.get("metadata"))) != _stable(
        as_mapping(y.get("metadata")))
    if not (source_diff or type_changed or outputs_changed or metadata_changed):
        return None
    return CellChange("changed", i, j, str(y.get("cell_type")), source_diff,
                      outputs_changed, metadata_changed)


def _unified(old: str, new: str) -> list[str]:
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1)
    return [line for line in lines if not line.startswith(("---", "+++"))]


def _all_have_ids(cells: list[dict[str, Any]]) -> bool:
    ids = [c.get("id") for c in cells]
    return bool(cells) and all(isinstance(i, str) for i in ids) and len(set(ids)) == len(ids)


def _pair_by_id(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[tuple[int | None,
                                                                                 int | None]]:
    old_at = {c["id"]: i for i, c in enumerate(a)}
    new_ids = {c["id"] for c in b}
    pairs: list[tuple[int | None, int | None]] = []
    removed = [i for i, c in enumerate(a) if c["id"] not in new_ids]
    for j, cell in enumerate(b):
        while removed and (cell["id"] not in old_at or removed[0] < old_at[cell["id"]]):
            pairs.append((removed.pop(0), None))
        pairs.append((old_at.get(cell["id"]), j))
    pairs.extend((i, None) for i in removed)
    return pairs


def _pair_by_text(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[tuple[int | None,
                                                                                   int | None]]:
    keys_a = [f"{c.get('cell_type')}\x00{_source(c)}" for c in a]
    keys_b = [f"{c.get('cell_type')}\x00{_source(c)}" for c in b]
    pairs: list[tuple[int | None, int | None]] = []
    matcher = difflib.SequenceMatcher(a=keys_a, b=keys_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs.extend(zip(range(i1, i2), range(j1, j2), strict=True))
            continue
        old, new = list(range(i1, i2)), list(range(j1, j2))
        while old and new:  # a replaced block: alike cells were edited, others swapped
            ratio = difflib.SequenceMatcher(a=_source(a[old[0]]), b=_source(b[new[0]])).ratio()
            if ratio >= SAME_CELL_RATIO:
                pairs.append((old.pop(0), new.pop(0)))
            elif len(old) >= len(new):
                pairs.append((old.pop(0), None))
            else:
                pairs.append((None, new.pop(0)))
        pairs.extend((i, None) for i in old)
        pairs.extend((None, j) for j in new)
    return pairs
