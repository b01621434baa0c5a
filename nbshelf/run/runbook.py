"""Runs as the library keeps them: where a run works, where its record goes, and its row.

A run has three steps so that a UI can keep its library thread free while a kernel works:
``begin`` (catalog: a "running" row), ``execute`` (the kernel; no catalog access), ``finish``
(catalog: the outcome). A run whose runner was killed keeps its "running" row and partial
record, and is shown as "killed". A copy of the record may also go to a file the user names
(``-o``), never onto the notebook's own file in its source.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from nbshelf.catalog.runs import (
    RunRow,
    RunSource,
    finish_run,
    run_by_id,
    run_source_row,
    runs_of,
    runs_with_status,
    set_run_record,
    start_run,
)
from nbshelf.errors import NbshelfError
from nbshelf.records import iso_time
from nbshelf.safepath import UnsafePath, check_relpath, inside
from nbshelf.sources import reachable
from nbshelf.sources.sync import OPENED
from nbshelf.store import BlobStore

if TYPE_CHECKING:
    # nbshelf.run.execution imports jupyter_client and nbclient (a third of a second), health and
    # kernels their checks: the app's start path opens the library but runs and checks
    # nothing, so they load when first used.
    from nbshelf.health.checks import RunSummary
    from nbshelf.run.execution import CellEvent, RunResult
    from nbshelf.run.kernels import KernelChoice


@dataclass
class RunPlan:
    """Everything a run needs, decided while the catalog is at hand."""

    run_id: int
    notebook_id: int
    content_hash: str
    data: bytes
    cwd: Path
    record_path: Path
    kernel: KernelChoice
    parameters: dict[str, str] = field(default_factory=dict)
    cell_timeout: float | None = None
    stop_on_error: bool = True
    values: dict[str, Any] = field(default_factory=dict)
    input_path: str | None = None
    output: Path | None = None


@dataclass(frozen=True)
class RunInfo:
    """One run as ``nbshelf runs`` lists it."""

    id: int
    notebook_id: int
    status: str
    started: float
    ended: float | None
    kernel: str
    parameters: dict[str, Any]
    cells_run: int
    failed_cell: int | None
    error: str | None
    record: str
    current_version: bool

    def to_json(self) -> dict[str, Any]:
        """The JSON form, with times as ISO 8601."""
        return {
            "id": self.id, "notebook_id": self.notebook_id, "status": self.status,
            "started": iso_time(self.started),
            "ended": iso_time(self.ended), "kernel": self.kernel, "parameters": self.parameters,
            "cells_run": self.cells_run, "failed_cell": self.failed_cell, "error": self.error,
            "record": self.record, "current_version": self.current_version,
        }

    def summary(self) -> RunSummary | None:
        """What health needs; None for runs that say nothing (running, killed, cancelled)."""
        from nbshelf.health.checks import RunSummary

        if self.status not in ("ok", "error", "timeout") or self.ended is None:
            return None
        return RunSummary(self.status, datetime.fromtimestamp(self.ended, UTC),
                          self.failed_cell, self.error)


class RunBook:
    """The runs of one library: ``<library>/runs`` and the ``runs`` table."""

    def __init__(self, root: Path, engine: Engine, store: BlobStore) -> None:
        self.root = root
        self.engine = engine
        self.store = store

    def begin(self, notebook_id: int, kernel: KernelChoice, *,
              parameters: dict[str, str] | None = None, cell_timeout: float | None = None,
              stop_on_error: bool = True, values: dict[str, Any] | None = None,
              output: str | Path | None = None, any_language: bool = False) -> RunPlan:
        """Record a run as started and decide its working folder and record path.

        A notebook never runs in a kernel of another language unless ``any_language`` says
        the user insists: nothing is recorded for a refused run.

        Raises:
            NbshelfError: ``output`` is the notebook's own file, or a folder.
            KernelLanguageMismatch: ``kernel`` runs another language than the notebook's.
        """
        from nbshelf.run.kernels import check_language

        with self.engine.connect() as conn:
            row = run_source_row(conn, notebook_id)
        data = self.store.read(row.content_hash)
        check_language(kernel, written_in(data), any_language=any_language)
        input_path = _source_file(row)
        out = check_output(output, input_path) if output is not None else None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        with self.engine.begin() as conn:
            run_id = start_run(
                conn, notebook_id, row.content_hash, kernel=kernel.name,
                parameters={**{k: _jsonable(v) for k, v in (values or {}).items()},
                            **(parameters or {})},
                started=time.time(), runner_pid=os.getpid(),
            )
            record = f"{notebook_id}/{stamp}-{run_id}.ipynb"
            set_run_record(conn, run_id, record)
        return RunPlan(
            run_id=run_id, notebook_id=notebook_id, content_hash=row.content_hash,
            data=data,
            cwd=self._working_folder(row.source_path, row.source_kind, row.relpath, run_id),
            record_path=inside(self.root, record, what="run record"), kernel=kernel,
            parameters=dict(parameters or {}),
            cell_timeout=cell_timeout, stop_on_error=stop_on_error,
            values=dict(values or {}), input_path=str(input_path) if input_path else None,
            output=out,
        )

    def source_of(self, notebook_id: int) -> tuple[bytes, Path | None]:
        """A notebook's current content and its file in its source (None when its catalog
        path cannot be a file there), for a notebook prepared without a run."""
        with self.engine.connect() as conn:
            row = run_source_row(conn, notebook_id)
        return self.store.read(row.content_hash), _source_file(row)

    def _working_folder(self, source_path: str, kind: str, relpath: str, run_id: int) -> Path:
        """The notebook's folder in its source when reachable (relative files load as in
        Jupyter), else a fresh folder in the library."""
        folder: Path | None = Path(PurePosixPath(relpath).parent)
        if kind != OPENED:
            parent = PurePosixPath(relpath).parent.as_posix()
            try:  # a path that leads out of its source is no working folder for its code
                check_relpath(relpath, what="notebook path")
                folder = (Path(source_path) if parent == "." else
                          inside(source_path, parent, what="notebook folder"))
            except UnsafePath:
                folder = None
        if folder is not None and (kind == OPENED or reachable(source_path)) and folder.is_dir():
            return folder
        work = self.root / "work" / str(run_id)
        work.mkdir(parents=True, exist_ok=True)
        return work

    @staticmethod
    def execute(plan: RunPlan, *, on_event: Callable[[CellEvent], None] | None = None,
                cancel: threading.Event | None = None) -> RunResult:
        """Run the kernel; touches no catalog, so it may run on any thread."""
        from nbshelf.run.execution import run_notebook

        return run_notebook(
            plan.data, cwd=plan.cwd, record_path=plan.record_path, kernel=plan.kernel,
            parameters=plan.parameters or None, cell_timeout=plan.cell_timeout,
            stop_on_error=plan.stop_on_error, on_event=on_event, cancel=cancel,
            values=plan.values or None, input_path=plan.input_path, output=plan.output,
        )

    def finish(self, plan: RunPlan, result: RunResult | None, error: str | None = None) -> None:
        """Record how a run ended (``result`` None: it could not run, ``error`` says why)."""
        ended = time.time()
        with self.engine.begin() as conn:
            if result is None:
                finish_run(conn, plan.run_id, ended=ended, status="error", error=error)
            else:
                finish_run(
                    conn, plan.run_id, ended=ended, status=result.status, error=result.error,
                    cells_run=result.cells_run, failed_cell=result.failed_cell,
                    parameters={k: _jsonable(v) for k, v in result.parameters.items()},
                )

    def list(self, notebook_id: int) -> list[RunInfo]:
        """A notebook's runs, newest first."""
        with self.engine.connect() as conn:
            rows = runs_of(conn, notebook_id)
        return [self._info(r) for r in rows]

    def get(self, run_id: int) -> RunInfo:
        """One run; ``NotFound`` when there is none with that id."""
        from nbshelf.errors import NotFound

        with self.engine.connect() as conn:
            row = run_by_id(conn, run_id)
        if row is None:
            raise NotFound(f"there is no run {run_id}")
        return self._info(row)

    def last_runs(self) -> dict[int, RunInfo]:
        """Each notebook's last run that says something about it (ok, error, timeout)."""
        found: dict[int, RunInfo] = {}
        with self.engine.connect() as conn:
            rows = runs_with_status(conn, ("ok", "error", "timeout"))
        for r in rows:
            found[r.notebook_id] = self._info(r)
        return found

    def _info(self, r: RunRow) -> RunInfo:
        status = r.status
        if status == "running" and r.runner_pid != os.getpid() and not _alive(r.runner_pid):
            status = "killed"
        return RunInfo(r.id, r.notebook_id, status, r.started, r.ended, r.kernel,
                       dict(r.parameters or {}),
                       r.cells_run, r.failed_cell, r.error, str(self.root / r.record),
                       r.content_hash == r.current_hash)


def written_in(data: bytes) -> str | None:
    """The language a notebook's metadata says it is written in (``language_info.name``,
    else ``kernelspec.language``, as papermill reads it); None when it says none or the bytes
    are no JSON object. Only what the notebook declares: a guess from its code is no ground
    to refuse a kernel."""
    import orjson

    from nbshelf.run.parameters import notebook_language

    try:
        nb = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError:
        return None
    return notebook_language(nb) if isinstance(nb, dict) else None


def _source_file(row: RunSource) -> Path | None:
    """The notebook's file in its source (an opened file's path is absolute)."""
    if row.source_kind == OPENED:
        return Path(row.relpath)
    try:
        check_relpath(row.relpath, what="notebook path")
    except UnsafePath:
        return None
    return Path(row.source_path) / PurePosixPath(row.relpath)


def check_output(output: str | Path, source_file: Path | None) -> Path:
    """The file a run or a prepared notebook is also written to (``-o``), made absolute.

    Raises:
        NbshelfError: it is the notebook's own file in its source (sources are read-only:
            the library's copy and the record stay apart), or a folder, or in a folder that
            does not exist.
    """
    out = Path(os.path.abspath(Path(output).expanduser()))
    if source_file is not None and os.path.realpath(out) == os.path.realpath(source_file):
        raise NbshelfError(
            f"-o {output} is the notebook itself; nbshelf never writes over a notebook in its "
            "source: name another file"
        )
    if out.is_dir():
        raise NbshelfError(f"-o {output} is a folder: name the file to write")
    if not out.parent.is_dir():
        raise NbshelfError(f"cannot write {out}: the folder {out.parent} does not exist")
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _jsonable(value: Any) -> Any:
    from nbshelf.run.parameters import jsonable

    return jsonable(value)
