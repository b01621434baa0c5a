"""Stripping a notebook before it leaves the analyst's machine: outputs, counts, state.

What goes: every code cell's outputs and execution count, widget state, and the timing
metadata Jupyter extensions add (``ExecuteTime``, ``execution``). A cell tagged
``keep_output`` (or with ``metadata.keep_output: true``) keeps its outputs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from nbshelf.notebook import as_mapping

KEEP_OUTPUT_TAG = "keep_output"
#: Cell metadata keys that record when and how long a cell ran: timing, not content.
TIMING_KEYS = ("ExecuteTime", "execution", "papermill")
#: Notebook metadata keys that hold saved state of a session, not content.
STATE_KEYS = ("widgets",)


@dataclass
class StripReport:
    """What stripping removed, for the preview shown before publishing."""

    outputs: int = 0
    execution_counts: int = 0
    timing: int = 0
    widget_state: bool = False
    kept_cells: list[int] = field(default_factory=list)
    cells_with_outputs: list[int] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        """True when stripping changes the notebook."""
        return bool(self.outputs or self.execution_counts or self.timing or self.widget_state)

    def to_json(self) -> dict[str, Any]:
        """Counts and cell indexes as JSON."""
        return {
            "outputs": self.outputs, "execution_counts": self.execution_counts,
            "timing": self.timing, "widget_state": self.widget_state,
            "kept_cells": self.kept_cells, "cells_with_outputs": self.cells_with_outputs,
        }

    def describe(self) -> str:
        """One sentence for a person."""
        if not self.anything:
            return "nothing to remove"
        parts = []
        if self.outputs:
            parts.append(f"{self.outputs} outputs from {len(self.cells_with_outputs)} cells")
        if self.execution_counts:
            parts.append(f"{self.execution_counts} execution counts")
        if self.timing:
            parts.append(f"timing data of {self.timing} cells")
        if self.widget_state:
            parts.append("saved widget state")
        kept = f"; kept the outputs of cells {self.kept_cells}" if self.kept_cells else ""
        return "removes " + ", ".join(parts) + kept


def keeps_output(cell: dict[str, Any]) -> bool:
    """True for a cell its author marked to publish with its outputs."""
    meta = as_mapping(cell.get("metadata"))
    tags = meta.get("tags")
    return (isinstance(tags, list) and KEEP_OUTPUT_TAG in tags) or meta.get(
        KEEP_OUTPUT_TAG) is True


def strip_notebook(nb: dict[str, Any]) -> tuple[dict[str, Any], StripReport]:
    """A stripped copy of a v4 notebook (as a dict) and what was removed from it."""
    result = copy.deepcopy(nb)
    report = StripReport()
    meta = result.get("metadata")
    if isinstance(meta, dict):
        for key in STATE_KEYS:
            if key in meta:
                del meta[key]
                report.widget_state = True
    cells = result.get("cells")
    for index, cell in enumerate(cells if isinstance(cells, list) else []):
        if not isinstance(cell, dict):
            continue
        _strip_timing(cell, report)
        if cell.get("cell_type") != "code":
            continue
        if keeps_output(cell):
            if cell.get("outputs"):
                report.kept_cells.append(index)
            continue
        if cell.get("outputs"):
            report.outputs += len(cell["outputs"])
            report.cells_with_outputs.append(index)
            cell["outputs"] = []
        if cell.get("execution_count") is not None:
            report.execution_counts += 1
            cell["execution_count"] = None
    return result, report


def _strip_timing(cell: dict[str, Any], report: StripReport) -> None:
    meta = cell.get("metadata")
    if not isinstance(meta, dict):
        return
    removed = False
    for key in TIMING_KEYS:
        if key in meta:
            del meta[key]
            removed = True
    report.timing += removed
