"""Stripping a notebook before it leaves the analyst's machine, by nbstripout's rules.

A published notebook is what a team's nbstripout git filter would commit: nbstripout with
its defaults and its default extra keys, plus ``--keep-id``. ``tests/core/test_strip_nbstripout.py``
runs nbstripout beside this module on every rule. What goes:

- every cell's outputs, unless the cell is marked to keep them: ``"keep_output": true`` in
  its metadata or ``keep_output`` in its tags. A notebook whose metadata says
  ``"keep_output": true`` (or a publish that keeps outputs, like ``--keep-output``) keeps
  every cell's outputs except those of cells marked ``"keep_output": false``. A cell marked
  both ways (metadata false, tag present) is refused, as nbstripout refuses it;
- every execution count, also those inside the outputs a cell keeps;
- notebook metadata ``widgets`` (saved widget state) and ``signature``; cell metadata
  ``ExecuteTime`` and ``execution`` (timing) and ``collapsed``, ``scrolled``,
  ``heading_collapsed``, ``hidden`` (how the author's screen showed the cell).

Cell ids stay (``--keep-id``): nbshelf's version diff pairs cells by id, and nbstripout's
sequential ids ("0", "1", ...) would pair unrelated cells of two versions.

Where nbshelf removes more than nbstripout would, it is safer, and the report says so per
notebook (``StripReport.stricter``):

- an init cell (``init_cell`` in its metadata) loses its outputs unless the whole notebook
  keeps its outputs (``--strip-init-cells`` then): "run on load" is not "publish my output";
- a marking keeps outputs only when it is JSON ``true``, or a ``keep_output`` item of a tags
  list; nbstripout also takes any truthy value (``"no"``, ``1``) and a word inside a tags
  string. A cell with the tag and any other metadata value is refused as contradictory;
- ``papermill`` cell metadata (a run's times and status) goes with the other timing.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from nbshelf.errors import NbshelfError

KEEP_OUTPUT = "keep_output"
INIT_CELL = "init_cell"
#: Cell metadata keys that record when and how long a cell ran: timing, not content
#: (nbstripout's defaults, and ``papermill``, which nbshelf adds).
TIMING_KEYS = ("ExecuteTime", "execution", "papermill")
#: Cell metadata keys that record how the author's screen showed the cell (nbstripout's).
VIEW_KEYS = ("collapsed", "scrolled", "heading_collapsed", "hidden")
#: Notebook metadata keys that hold a session's saved state, not content (nbstripout's).
STATE_KEYS = ("widgets", "signature")


class MarkingContradiction(NbshelfError):
    """A cell's metadata says not to keep its outputs while its tags say to keep them.

    Attributes:
        cell: the cell, numbered from 1 as people count them.
    """

    def __init__(self, cell: int, value: object) -> None:
        super().__init__(
            f"cell {cell} is marked both ways: its metadata says keep_output: "
            f"{_json_word(value)} but its tags hold keep_output. Remove one of the two "
            "(nbstripout refuses such a cell too)"
        )
        self.cell = cell


@dataclass
class StripReport:
    """What stripping removed, for the preview shown before publishing.

    Cell indexes (``kept_cells``, ``cells_with_outputs``) count from 0 in the notebook's
    cells, as the JSON report's ``cell`` fields do; ``describe()`` numbers them from 1.
    """

    outputs: int = 0
    execution_counts: int = 0
    timing: int = 0
    view_state: int = 0
    widget_state: bool = False
    signature: bool = False
    kept_cells: list[int] = field(default_factory=list)
    cells_with_outputs: list[int] = field(default_factory=list)
    #: True when outputs were kept by default (a publish that keeps outputs, or the
    #: notebook's own ``keep_output: true``), not cell by cell.
    kept_by_default: bool = False
    #: Where nbshelf removed more than nbstripout would have, one sentence each.
    stricter: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        """True when stripping changes the notebook."""
        return bool(self.outputs or self.execution_counts or self.timing or self.view_state
                    or self.widget_state or self.signature)

    def to_json(self) -> dict[str, Any]:
        """Counts, cell indexes (from 0) and the notes, as JSON."""
        return {
            "outputs": self.outputs, "execution_counts": self.execution_counts,
            "timing": self.timing, "view_state": self.view_state,
            "widget_state": self.widget_state, "signature": self.signature,
            "kept_cells": self.kept_cells, "cells_with_outputs": self.cells_with_outputs,
            "kept_by_default": self.kept_by_default, "stricter": self.stricter,
        }

    def describe(self) -> str:
        """One sentence for a person (cells numbered from 1)."""
        parts = []
        if self.outputs:
            parts.append(f"{self.outputs} outputs from {len(self.cells_with_outputs)} cells")
        if self.execution_counts:
            parts.append(f"{self.execution_counts} execution counts")
        if self.timing:
            parts.append(f"timing data of {self.timing} cells")
        if self.view_state:
            parts.append(f"the collapsed/scrolled state of {self.view_state} cells")
        if self.widget_state:
            parts.append("saved widget state")
        if self.signature:
            parts.append("the notebook's trust signature")
        text = "removes " + ", ".join(parts) if parts else "nothing to remove"
        if self.kept_cells:
            why = " (outputs are kept unless a cell says keep_output: false)" if (
                self.kept_by_default) else ""
            text += f"; keeps the outputs of {_cells(self.kept_cells)}{why}"
        if self.stricter:
            text += "; stricter than nbstripout: " + "; ".join(self.stricter)
        return text


def strip_notebook(nb: dict[str, Any], *, keep_outputs: bool = False
                   ) -> tuple[dict[str, Any], StripReport]:
    """A stripped copy of a v4 notebook (as a dict) and what was removed from it.

    Any JSON shape is taken: what is not where nbformat 4 puts it is left as it is.

    Args:
        nb: the notebook; not changed.
        keep_outputs: keep every cell's outputs except those marked ``keep_output: false``
            (nbstripout's ``--keep-output``); otherwise the notebook's own ``keep_output``
            decides, as nbstripout's does.

    Raises:
        MarkingContradiction: a cell is marked both to keep and not to keep its outputs.
    """
    result = copy.deepcopy(nb)
    report = StripReport()
    meta = result.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    marked = meta.get(KEEP_OUTPUT)
    default = keep_outputs or marked is True
    report.widget_state = "widgets" in meta
    report.signature = "signature" in meta
    for key in STATE_KEYS:
        meta.pop(key, None)
    cells = result.get("cells")
    for index, cell in enumerate(cells if isinstance(cells, list) else []):
        if isinstance(cell, dict):
            _strip_cell(cell, index, default, report)
    if not keep_outputs and report.cells_with_outputs and _loosely_true(marked):
        report.stricter.insert(0, f"the notebook has keep_output: {_json_word(marked)}, not "
                                  "true: its cells' outputs are removed")
    report.kept_by_default = default and bool(report.kept_cells)
    return result, report


def _strip_cell(cell: dict[str, Any], index: int, default: bool, report: StripReport) -> None:
    meta = cell.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    keep, stricter = _keeps(meta, index, default)
    if "outputs" in cell:
        outputs = cell["outputs"]
        if keep:
            if outputs:
                report.kept_cells.append(index)
            for output in outputs if isinstance(outputs, list) else []:
                if isinstance(output, dict) and "execution_count" in output:
                    output["execution_count"] = None
        else:
            if outputs:  # a list of outputs, or something else there, which goes as one
                report.outputs += len(outputs) if isinstance(outputs, list) else 1
                report.cells_with_outputs.append(index)
                if stricter:
                    report.stricter.append(f"cell {index + 1} {stricter}: its outputs are removed")
            cell["outputs"] = []
    if "execution_count" in cell:
        report.execution_counts += cell["execution_count"] is not None
        cell["execution_count"] = None
    timing = [key for key in TIMING_KEYS if key in meta]
    view = [key for key in VIEW_KEYS if key in meta]
    for key in timing + view:
        del meta[key]
    report.timing += bool(timing)
    report.view_state += bool(view)
    if "papermill" in timing:
        report.stricter.append(f"cell {index + 1}'s papermill run metadata is removed")


def _keeps(meta: dict[str, Any], index: int, default: bool) -> tuple[bool, str | None]:
    """Whether a cell keeps its outputs, and when nbstripout would keep what nbshelf does
    not, why (for ``StripReport.stricter``).

    nbstripout's order (``determine_keep_output``): an ``init_cell`` marking decides alone;
    then ``keep_output`` in the metadata or the tags; then the notebook's default.
    """
    if INIT_CELL in meta:
        if default:
            return meta[INIT_CELL] is True, _loose(meta[INIT_CELL], INIT_CELL)
        return False, "is an init cell" if meta[INIT_CELL] else None
    tags = meta.get("tags")
    tagged = isinstance(tags, list) and KEEP_OUTPUT in tags
    if KEEP_OUTPUT in meta:
        value = meta[KEEP_OUTPUT]
        if tagged and value is not True:
            raise MarkingContradiction(index + 1, value)
        if tagged or value is True:
            return True, None
        return False, _loose(value, KEEP_OUTPUT)
    if tagged:
        return True, None
    if not default and isinstance(tags, str | dict) and KEEP_OUTPUT in tags:
        return False, "has its tags as " + ("a string" if isinstance(tags, str) else
                                             "an object") + ", not a list"
    return default, None


def _loosely_true(value: object) -> bool:
    """Truthy to Python (so nbstripout keeps) but not JSON ``true`` (so nbshelf does not)."""
    return value is not True and bool(value)


def _loose(value: object, key: str) -> str | None:
    return f"has {key}: {_json_word(value)}, not true" if _loosely_true(value) else None


def _json_word(value: object) -> str:
    """A metadata value as the notebook's JSON spells it, cut short."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


def _cells(indexes: list[int]) -> str:
    numbers = [str(i + 1) for i in indexes]
    if len(numbers) == 1:
        return f"cell {numbers[0]}"
    shown = numbers if len(numbers) <= 10 else numbers[:10] + [f"{len(numbers) - 10} more"]
    return "cells " + ", ".join(shown[:-1]) + " and " + shown[-1]
