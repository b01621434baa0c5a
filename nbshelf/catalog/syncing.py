"""The catalog's side of a sync: what it knows of a source's files, and the rows a sync
writes (contents, notebooks, versions, removals, problems, a source's availability).

The caller owns the transactions: sync commits in batches, so a kill leaves a prefix of the
work (see ``nbshelf.sources.sync``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, delete, insert, select, update

from nbshelf.catalog.models import Content, Notebook, Problem, Source, Version
from nbshelf.catalog.pending import mark_pending
from nbshelf.catalog.queries import in_chunks


class KnownFile(NamedTuple):
    """A catalog notebook row, as a sync compares it with the file."""

    id: int
    relpath: str
    size: int
    mtime_ns: int
    inode: int
    content_hash: str
    removed: bool


class KnownProblem(NamedTuple):
    """A problem the last sync recorded for a file (with the file's stat then, if any)."""

    relpath: str
    kind: str
    message: str
    size: int | None
    mtime_ns: int | None
    inode: int | None


def known_files(conn: Connection, source_id: int) -> list[KnownFile]:
    """Every notebook row of a source, removed ones included."""
    # The plain sqlite3 cursor: a re-sync of 10,000 notebooks reads them all, and
    # SQLAlchemy's row objects cost four times the query itself.
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            "SELECT id, relpath, size, mtime_ns, inode, content_hash, removed_at "
            "FROM notebooks WHERE source_id = ?",
            (source_id,),
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return [KnownFile(id_, relpath, size, mtime, inode, digest, removed is not None)
            for id_, relpath, size, mtime, inode, digest, removed in rows]


def known_problems(conn: Connection, source_id: int) -> list[KnownProblem]:
    """The problems recorded for a source's files."""
    rows = conn.execute(
        select(Problem.relpath, Problem.kind, Problem.message, Problem.size, Problem.mtime_ns,
               Problem.inode).where(Problem.source_id == source_id))
    return [KnownProblem(*row) for row in rows]


def touch_file(conn: Connection, notebook_id: int, size: int, mtime_ns: int,
               inode: int) -> None:
    """Remember a file's new stat when its content did not change."""
    conn.execute(update(Notebook).where(Notebook.id == notebook_id)
                 .values(size=size, mtime_ns=mtime_ns, inode=inode))


def has_content(conn: Connection, digest: str) -> bool:
    """True when the catalog already describes this content."""
    return conn.execute(select(Content.hash).where(Content.hash == digest)).first() is not None


def add_content(conn: Connection, values: Mapping[str, Any]) -> None:
    """Describe a new content (its summary: title, headings, language, counts...)."""
    conn.execute(insert(Content).values(**values))


def add_notebook(conn: Connection, source_id: int, relpath: str, digest: str, now: float,
                 file_values: Mapping[str, int]) -> int:
    """A new notebook row holding ``digest``; returns its id. Queues it for the index."""
    mark_pending(conn, [digest])
    notebook_id: int = conn.execute(
        insert(Notebook).values(
            source_id=source_id, relpath=relpath, content_hash=digest, first_seen=now,
            last_seen=now, removed_at=None, **file_values,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    return notebook_id


def change_notebook(conn: Connection, row: KnownFile, digest: str, now: float,
                    file_values: Mapping[str, int]) -> None:
    """A known notebook now holds ``digest`` (or is present again). Queues both contents."""
    mark_pending(conn, [digest, row.content_hash])
    conn.execute(
        update(Notebook).where(Notebook.id == row.id)
        .values(content_hash=digest, last_seen=now, removed_at=None, **file_values)
    )


def add_version(conn: Connection, notebook_id: int, digest: str, now: float,
                mtime_ns: int) -> None:
    """Record a new content version of a notebook."""
    conn.execute(insert(Version).values(notebook_id=notebook_id, content_hash=digest,
                                        seen_at=now, mtime_ns=mtime_ns))


def mark_removed(engine: Engine, gone: list[KnownFile], now: float) -> None:
    """These notebooks vanished from their source (their versions stay), in one transaction."""
    with engine.begin() as conn:
        mark_pending(conn, (k.content_hash for k in gone))
        for chunk in in_chunks(k.id for k in gone):
            conn.execute(update(Notebook).where(Notebook.id.in_(chunk)).values(removed_at=now))


def record_problems(engine: Engine, source_id: int, rows: list[dict[str, object]], *,
                    complete: bool, now: float) -> None:
    """Replace a source's problems with ``rows`` and mark the source available; a complete
    sync replaces all of them and sets ``last_sync``, a partial one only the files it read."""
    with engine.begin() as conn:
        query = delete(Problem).where(Problem.source_id == source_id)
        if not complete:
            # keep last time's problems for files this partial sync did not reach
            query = query.where(Problem.relpath.in_([r["relpath"] for r in rows]))
        conn.execute(query)
        if rows:
            conn.execute(insert(Problem), rows)
        values: dict[str, object] = {"available": True}
        if complete:
            values["last_sync"] = now
        conn.execute(update(Source).where(Source.id == source_id).values(**values))


def set_available(engine: Engine, source_id: int, available: bool) -> None:
    """Record whether a source's folder could be reached."""
    with engine.begin() as conn:
        conn.execute(update(Source).where(Source.id == source_id).values(available=available))


def replace_problem(engine: Engine, source_id: int, kind: str, row: dict[str, object]) -> None:
    """Put ``row`` in place of the source's problems of this ``kind``."""
    with engine.begin() as conn:
        conn.execute(delete(Problem).where(Problem.source_id == source_id, Problem.kind == kind))
        conn.execute(insert(Problem).values(**row))


def problem_rows(source_id: int, problems: Iterable[tuple[str, str, str, Any]], now: float
                 ) -> list[dict[str, object]]:
    """Problem rows from (relpath, kind, message, stat-or-None)."""
    return [
        {"source_id": source_id, "relpath": relpath, "kind": kind, "message": message,
         "seen_at": now, "size": stat.size if stat else None,
         "mtime_ns": stat.mtime_ns if stat else None, "inode": stat.inode if stat else None}
        for relpath, kind, message, stat in problems
    ]
