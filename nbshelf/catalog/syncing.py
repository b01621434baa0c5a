"""The catalog's side of a sync: what it knows of a source's files, and the rows a sync
writes (contents, notebooks, versions, removals, problems, a source's availability).

The caller owns the transactions: sync commits in batches, so a kill leaves a prefix of the
work (see ``nbshelf.sources.sync``).

The writes a first sync makes per notebook (a content, a notebook, a version, its place in
the index queue) go through the connection's own sqlite3 cursor with fixed statements:
SQLAlchemy built and compiled five statements per notebook, 28% of a first sync's time in
the last profile (bench/RESULTS.md, issue 16). They run in the caller's transaction all
the same: it is one connection.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, delete, insert, select, update

from nbshelf.catalog.models import Notebook, Problem, Source
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
    removed: bool  # as SQLite gives it: 0 or 1

    @property
    def stat(self) -> tuple[int, int, int]:
        """Size, mtime and inode: equal to the ``FileStat`` of the file when unchanged."""
        return (self.size, self.mtime_ns, self.inode)


class KnownProblem(NamedTuple):
    """A problem the last sync recorded for a file (with the file's stat then, if any)."""

    relpath: str
    kind: str
    message: str
    size: int | None
    mtime_ns: int | None
    inode: int | None


def _cursor(conn: Connection) -> sqlite3.Cursor:
    """A cursor on the sqlite3 connection under ``conn``: in its transaction."""
    return conn.connection.driver_connection.cursor()  # type: ignore[union-attr]


def known_files(conn: Connection, source_id: int) -> list[KnownFile]:
    """Every notebook row of a source, removed ones included."""
    # The plain sqlite3 cursor: a re-sync of 10,000 notebooks reads them all, and
    # SQLAlchemy's row objects cost four times the query itself. Each row becomes its tuple
    # in C (``_make``): at 100,000 notebooks, building them field by field in Python took
    # longer than the query.
    cursor = _cursor(conn)
    try:
        cursor.execute(
            "SELECT id, relpath, size, mtime_ns, inode, content_hash, removed_at IS NOT NULL "
            "FROM notebooks WHERE source_id = ?",
            (source_id,),
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return list(map(KnownFile._make, rows))


def known_problems(conn: Connection, source_id: int) -> list[KnownProblem]:
    """The problems recorded for a source's files."""
    rows = conn.execute(
        select(Problem.relpath, Problem.kind, Problem.message, Problem.size, Problem.mtime_ns,
               Problem.inode).where(Problem.source_id == source_id))
    return [KnownProblem(*row) for row in rows]


def touch_file(conn: Connection, notebook_id: int, size: int, mtime_ns: int,
               inode: int) -> None:
    """Remember a file's new stat when its content did not change."""
    _cursor(conn).execute("UPDATE notebooks SET size = ?, mtime_ns = ?, inode = ? WHERE id = ?",
                          (size, mtime_ns, inode, notebook_id))


def has_content(conn: Connection, digest: str) -> bool:
    """True when the catalog already describes this content."""
    found = _cursor(conn).execute("SELECT 1 FROM contents WHERE hash = ?", (digest,))
    return found.fetchone() is not None


#: The columns of ``contents`` in ``_ADD_CONTENT``'s order; ``add_content``'s values name each.
_CONTENT_COLUMNS = ("hash", "size", "title", "headings", "kernel_name", "language", "nbformat",
                    "nbformat_minor", "n_cells", "n_code", "n_markdown", "n_raw", "imports",
                    "source_hash", "schema_error", "marking")
#: Lists kept as JSON text, written as SQLAlchemy's ``JSON`` type writes them (json.dumps).
_JSON_COLUMNS = frozenset(("headings", "imports"))
_ADD_CONTENT = ("INSERT INTO contents (hash, size, title, headings, kernel_name, language, "
                "nbformat, nbformat_minor, n_cells, n_code, n_markdown, n_raw, imports, "
                "source_hash, schema_error, marking) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def add_content(conn: Connection, values: Mapping[str, Any]) -> None:
    """Describe a new content (its summary: title, headings, language, counts...).

    Raises:
        KeyError: ``values`` lacks one of the table's columns.
    """
    row = [json.dumps(values[c]) if c in _JSON_COLUMNS else values[c] for c in _CONTENT_COLUMNS]
    _cursor(conn).execute(_ADD_CONTENT, row)


def _queue(cursor: sqlite3.Cursor, hashes: Iterable[str]) -> None:
    """Queue contents for the index (``catalog.pending.mark_pending``, on a cursor)."""
    cursor.executemany("INSERT INTO index_pending (hash) VALUES (?) ON CONFLICT DO NOTHING",
                       [(h,) for h in set(hashes) if h])


def add_notebook(conn: Connection, source_id: int, relpath: str, digest: str, now: float,
                 file_values: Mapping[str, int]) -> int:
    """A new notebook row holding ``digest``; returns its id. Queues it for the index."""
    cursor = _cursor(conn)
    _queue(cursor, [digest])
    cursor.execute(
        "INSERT INTO notebooks (source_id, relpath, content_hash, first_seen, last_seen, "
        "removed_at, size, mtime_ns, inode) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?)",
        (source_id, relpath, digest, now, now, file_values["size"], file_values["mtime_ns"],
         file_values["inode"]))
    notebook_id = cursor.lastrowid
    assert notebook_id is not None  # an INSERT into a rowid table always sets it
    return notebook_id


def change_notebook(conn: Connection, row: KnownFile, digest: str, now: float,
                    file_values: Mapping[str, int]) -> None:
    """A known notebook now holds ``digest`` (or is present again). Queues both contents."""
    cursor = _cursor(conn)
    _queue(cursor, [digest, row.content_hash])
    cursor.execute(
        "UPDATE notebooks SET content_hash = ?, last_seen = ?, removed_at = NULL, size = ?, "
        "mtime_ns = ?, inode = ? WHERE id = ?",
        (digest, now, file_values["size"], file_values["mtime_ns"], file_values["inode"],
         row.id))


def add_version(conn: Connection, notebook_id: int, digest: str, now: float,
                mtime_ns: int) -> None:
    """Record a new content version of a notebook."""
    _cursor(conn).execute(
        "INSERT INTO versions (notebook_id, content_hash, seen_at, mtime_ns) VALUES (?, ?, ?, ?)",
        (notebook_id, digest, now, mtime_ns))


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
