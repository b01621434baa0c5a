"""The catalog's runs: a run's row from start to finish, and the rows ``nbshelf runs`` lists.

The caller owns the transactions (``nbshelf.run.runbook`` starts a run's row and names its
record in one).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Connection, insert, select, update

from nbshelf.catalog.models import Notebook, Run, Source


class RunSource(NamedTuple):
    """What a run needs of the notebook it runs: its content and where it lives."""

    content_hash: str
    relpath: str
    source_path: str
    source_kind: str


class RunRow(NamedTuple):
    """One row of the runs table, and the content its notebook holds now."""

    id: int
    notebook_id: int
    content_hash: str
    record: str
    started: float
    ended: float | None
    kernel: str
    parameters: dict[str, object]
    status: str
    cells_run: int
    failed_cell: int | None
    error: str | None
    runner_pid: int
    current_hash: str


_RUN_COLUMNS = (
    Run.id, Run.notebook_id, Run.content_hash, Run.record, Run.started, Run.ended, Run.kernel,
    Run.parameters, Run.status, Run.cells_run, Run.failed_cell, Run.error, Run.runner_pid,
)


def run_source_row(conn: Connection, notebook_id: int) -> RunSource:
    """The notebook's content, path and source; ``NoResultFound`` when there is no such
    notebook."""
    row = conn.execute(
        select(Notebook.content_hash, Notebook.relpath, Source.path, Source.kind)
        .join(Source, Source.id == Notebook.source_id)
        .where(Notebook.id == notebook_id)
    ).one()
    return RunSource(*row)


def start_run(conn: Connection, notebook_id: int, content_hash: str, *, kernel: str,
              parameters: dict[str, Any], started: float, runner_pid: int) -> int:
    """Add a "running" row with no record yet (``set_run_record`` names it); its id."""
    run_id = conn.execute(insert(Run).values(
        notebook_id=notebook_id, content_hash=content_hash, record="",
        started=started, ended=None, kernel=kernel,
        parameters=parameters, status="running", failed_cell=None,
        error=None, runner_pid=runner_pid,
    )).inserted_primary_key[0]  # type: ignore[index]
    return int(run_id)


def set_run_record(conn: Connection, run_id: int, record: str) -> None:
    """Name a run's record (relative to ``<library>/runs``)."""
    conn.execute(update(Run).where(Run.id == run_id).values(record=record))


def finish_run(conn: Connection, run_id: int, *, ended: float, status: str,
               error: str | None, cells_run: int | None = None,
               failed_cell: int | None = None,
               parameters: dict[str, Any] | None = None) -> None:
    """Record how a run ended.

    ``cells_run`` and ``parameters`` None leave the row's as they are (a run that could not
    start); ``failed_cell`` is written only with ``cells_run``.
    """
    values: dict[str, Any] = {"ended": ended, "status": status, "error": error}
    if cells_run is not None:
        values.update(cells_run=cells_run, failed_cell=failed_cell)
    if parameters is not None:
        values.update(parameters=parameters)
    conn.execute(update(Run).where(Run.id == run_id).values(**values))


def runs_of(conn: Connection, notebook_id: int) -> list[RunRow]:
    """A notebook's runs, newest first; ``NoResultFound`` when there is no such notebook."""
    current = conn.execute(
        select(Notebook.content_hash).where(Notebook.id == notebook_id)
    ).scalar_one()
    rows = conn.execute(
        select(*_RUN_COLUMNS).where(Run.notebook_id == notebook_id)
        .order_by(Run.started.desc(), Run.id.desc())
    )
    return [RunRow._make((*r, current)) for r in rows]


def run_by_id(conn: Connection, run_id: int) -> RunRow | None:
    """One run, or None when there is none with that id."""
    row = conn.execute(
        select(*_RUN_COLUMNS, Notebook.content_hash)
        .join(Notebook, Notebook.id == Run.notebook_id)
        .where(Run.id == run_id)
    ).first()
    return None if row is None else RunRow._make(row)


def runs_with_status(conn: Connection, statuses: tuple[str, ...]) -> list[RunRow]:
    """The runs that ended with one of ``statuses``, oldest first."""
    rows = conn.execute(
        select(*_RUN_COLUMNS, Notebook.content_hash)
        .join(Notebook, Notebook.id == Run.notebook_id)
        .where(Run.status.in_(statuses))
        .order_by(Run.started)
    )
    return [RunRow._make(r) for r in rows]
