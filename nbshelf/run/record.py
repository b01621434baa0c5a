"""A run record's papermill side: the notebook and cell metadata papermill writes, its error
banners, and a notebook prepared with its parameters but not run (``--prepare-only``).

A record carries ``metadata.papermill`` as papermill writes it (``default_parameters``,
``parameters``, ``environment_variables``, ``version``, ``input_path``, ``output_path``,
``start_time``, ``end_time``, ``duration``, ``exception``) and on every cell ``tags`` and
``metadata.papermill`` (``status`` pending/running/completed/failed, ``start_time``,
``end_time``, ``duration``, ``exception``), so papermill tooling reads nbshelf's records as
its own. Error banners (the markdown cells papermill tags ``papermill-error-cell-tag``) found
in the notebook are dropped, and a run that failed at a cell gets papermill's two banners:
one at the top naming the cell, one just before it.

nbformat and papermill are imported where they are used: run paths load them anyway, and
nothing on the app's start path needs them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbshelf.errors import NbshelfError, NotebookInvalid
from nbshelf.run.parameters import (
    INJECTED_TAG,
    inject_parameters,
    jsonable,
    merge_parameters,
    notebook_language,
    tagged_cell_index,
)
from nbshelf.store import atomic_write

if TYPE_CHECKING:
    from nbformat import NotebookNode

#: papermill's tag on its error banner cells (``papermill.execute.ERROR_MARKER_TAG``).
ERROR_MARKER_TAG = "papermill-error-cell-tag"

PENDING, RUNNING, COMPLETED, FAILED = "pending", "running", "completed", "failed"


def read_for_run(data: bytes) -> NotebookNode:
    """Notebook bytes as a v4.5 ``NotebookNode`` (older versions upgraded, cell ids added).

    Unlike ``nbformat.reads`` this neither validates nor warns: the run copy only has to be
    runnable, and schema problems are reported by the library elsewhere.

    Raises:
        NotebookInvalid: the bytes cannot be read as a notebook.
    """
    import nbformat
    from nbformat import ValidationError
    from nbformat.reader import reads
    from nbformat.v4.nbbase import random_cell_id

    try:
        nb = reads(data.removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
        if nb.get("nbformat", 4) < 4:
            nb = nbformat.convert(nb, 4)
        elif nb.get("nbformat_minor", 0) < 5:
            nb = nbformat.v4.upgrade(nb, from_version=4, from_minor=nb.get("nbformat_minor", 0))
    except (ValidationError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise NotebookInvalid("not-runnable", f"the notebook cannot be run: {err}") from None
    nb.setdefault("metadata", nbformat.NotebookNode())
    for cell in nb.get("cells", []):
        if not isinstance(cell.get("id"), str) or not cell["id"]:
            cell["id"] = random_cell_id()
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = nbformat.NotebookNode()
    return nb


@functools.cache
def papermill_version() -> str:
    """The version of papermill whose translators and record format nbshelf writes."""
    from papermill.version import version

    return str(version)


def _now() -> datetime:
    return datetime.now(UTC)


# -- the notebook before it runs ------------------------------------------------------------


def remove_error_banners(nb: NotebookNode) -> list[int]:
    """Drop papermill's error banner cells (left by an earlier papermill run), in place.

    Returns:
        For each cell kept, its index before.
    """
    kept = [i for i, cell in enumerate(nb.cells)
            if ERROR_MARKER_TAG not in (cell.get("metadata", {}).get("tags") or [])]
    nb.cells = [nb.cells[i] for i in kept]
    return kept


def papermill_metadata(nb: NotebookNode, *, input_path: str | None,
                       output_path: str | None) -> None:
    """The metadata papermill gives a notebook it loads, and the paths of this run.

    As papermill's ``load_notebook_node``: ``metadata.papermill`` is created when missing
    (kept as it is when the notebook has one: a papermill output run again), and every cell
    gets ``tags`` and ``papermill`` entries when it has none.
    """
    if "papermill" not in nb.metadata:
        nb.metadata["papermill"] = {
            "default_parameters": {}, "parameters": {}, "environment_variables": {},
            "version": papermill_version(),
        }
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
        cell.metadata.setdefault("papermill", {})
    nb.metadata["papermill"]["input_path"] = input_path
    nb.metadata["papermill"]["output_path"] = output_path


def parameterize(nb: NotebookNode, typed: dict[str, Any], *, kernel_name: str | None,
                 languages: list[str | None]) -> int | None:
    """Inject ``typed`` as papermill does (nothing when there are none); the injected cell's
    index, or None."""
    if not typed:
        return None
    return inject_parameters(nb, typed, kernel_name=kernel_name, languages=languages)


# -- the notebook as it runs (papermill's NotebookExecutionManager) -------------------------


def notebook_started(nb: NotebookNode, when: datetime) -> None:
    """The run starts: times reset, every cell pending."""
    meta = nb.metadata["papermill"]
    meta["start_time"] = when.isoformat()
    meta["end_time"] = None
    meta["duration"] = None
    meta["exception"] = None
    for cell in nb.cells:
        cell.metadata["papermill"] = {
            "exception": None, "start_time": None, "end_time": None, "duration": None,
            "status": PENDING,
        }


def cell_started(cell: NotebookNode, when: datetime) -> None:
    """A cell starts (papermill passes every cell, markdown too)."""
    meta = cell.metadata["papermill"]
    meta["start_time"] = when.isoformat()
    meta["status"] = RUNNING
    meta["exception"] = False


def cell_failed(nb: NotebookNode, cell: NotebookNode) -> None:
    """A cell raised (or timed out, or was stopped): it and the notebook carry the exception."""
    cell.metadata["papermill"]["exception"] = True
    cell.metadata["papermill"]["status"] = FAILED
    nb.metadata["papermill"]["exception"] = True


def cell_completed(cell: NotebookNode, when: datetime) -> None:
    """A cell ends: its end time and duration; completed unless it failed."""
    meta = cell.metadata["papermill"]
    meta["end_time"] = when.isoformat()
    if meta.get("start_time"):
        meta["duration"] = (when - datetime.fromisoformat(meta["start_time"])).total_seconds()
    if meta["status"] != FAILED:
        meta["status"] = COMPLETED


def notebook_completed(nb: NotebookNode, started: datetime, when: datetime) -> None:
    """The run ends: end time and duration; cells before the first failure that never got a
    status are completed (cells after it stay pending), as papermill leaves them."""
    meta = nb.metadata["papermill"]
    meta["end_time"] = when.isoformat()
    meta["duration"] = (when - started).total_seconds()
    for cell in nb.cells:
        status = cell.metadata.get("papermill", {}).get("status")
        if status == FAILED:
            break
        if status == PENDING:
            cell.metadata["papermill"]["status"] = COMPLETED


def add_error_banners(nb: NotebookNode, index: int) -> None:
    """papermill's banners for a run that failed at cell ``index``: a link at the top naming
    the cell's prompt number, an anchor just before the cell."""
    from nbformat import v4
    from papermill.execute import ERROR_ANCHOR_MSG, ERROR_MESSAGE_TEMPLATE

    count = nb.cells[index].get("execution_count")
    message = v4.new_markdown_cell(ERROR_MESSAGE_TEMPLATE % str(count))
    message.metadata["tags"] = [ERROR_MARKER_TAG]
    anchor = v4.new_markdown_cell(ERROR_ANCHOR_MSG)
    anchor.metadata["tags"] = [ERROR_MARKER_TAG]
    nb.cells.insert(index, anchor)
    nb.cells.insert(0, message)


# -- prepared, not run ----------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedNotebook:
    """A notebook written with its parameters injected but not run (``--prepare-only``).

    No kernel started and no run was recorded: the file is the only thing written.

    Attributes:
        output: where it was written.
        parameters: the typed values injected.
        injected_cell: the injected cell's index in the file, or None (no parameters).
        banners_removed: stale papermill error banners dropped.
    """

    output: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    injected_cell: int | None = None
    banners_removed: int = 0

    def to_json(self) -> dict[str, Any]:
        """``nbshelf run --prepare-only --json``: the run keys, with status "prepared"."""
        return {
            "status": "prepared", "cells_run": 0, "failed_cell": None, "error": None,
            "record": None, "output": str(self.output),
            "parameters": {k: jsonable(v) for k, v in self.parameters.items()},
            "injected_cell": self.injected_cell, "banners_removed": self.banners_removed,
        }


def prepare_notebook(data: bytes, output: Path, *, input_path: str | None,
                     kernel_name: str | None = None, language: str | None = None,
                     parameters: dict[str, str] | None = None,
                     values: dict[str, Any] | None = None) -> PreparedNotebook:
    """Write a notebook with its parameters injected, without running it, as papermill's
    ``prepare_only`` does: outputs are left as they are, stale error banners dropped,
    ``metadata.papermill`` set (no times: nothing ran).

    Args:
        data: the notebook's bytes.
        output: the file to write (its folder must exist).
        input_path: the notebook's own path, for ``metadata.papermill.input_path``.
        kernel_name: the kernel to translate for; default: the notebook's.
        language: the kernel's language when it is known (an installed kernel), tried
            before the notebook's.
        parameters: values as text (``-p``), typed after the defaults.
        values: values already typed (YAML), injected as given.

    Raises:
        NotebookInvalid: not a notebook.
        ParameterError: the parameters do not fit, or papermill cannot write them.
        NbshelfError: the output cannot be written (what the system said).
    """
    import nbformat

    nb = read_for_run(data)
    own = notebook_language(nb)
    typed = merge_parameters(nb, texts=parameters, values=values, language=own or language)
    before = len(nb.cells)
    remove_error_banners(nb)
    removed = before - len(nb.cells)
    papermill_metadata(nb, input_path=input_path, output_path=str(output))
    injected = parameterize(nb, typed, kernel_name=kernel_name, languages=[language])
    write_output(output, nbformat.v4.writes(nb).encode("utf-8"))
    return PreparedNotebook(output=output, parameters=typed, injected_cell=injected,
                            banners_removed=removed)


def write_output(path: Path, data: bytes) -> None:
    """Write a file the user named (``-o``) atomically, readable by others as any output.

    Raises:
        NbshelfError: it cannot be written (what the system said).
    """
    try:
        atomic_write(path, data, mode=0o644)
    except OSError as err:
        # not storage_error(): its messages speak of the library, this file is the user's
        raise NbshelfError(f"cannot write {path}: {err.strerror or err}") from None


def injected_index(nb: NotebookNode) -> int | None:
    """Where the injected cell is now (banners move it)."""
    return tagged_cell_index(nb, INJECTED_TAG)
