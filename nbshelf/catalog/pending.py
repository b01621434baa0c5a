"""The queue of contents whose derived data (the search index) must catch up."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.dialects.sqlite import insert

from nbshelf.catalog.models import IndexPending
from nbshelf.catalog.queries import in_chunks


def mark_pending(conn: Connection, hashes: Iterable[str]) -> None:
    """Queue these contents for the index, in the caller's transaction."""
    rows = [{"hash": h} for h in set(hashes) if h]
    if rows:
        conn.execute(insert(IndexPending).on_conflict_do_nothing(), rows)


def pending_count(conn: Connection) -> int:
    """How many contents wait for the index."""
    return int(conn.execute(select(func.count()).select_from(IndexPending)).scalar_one())


def pending_hashes(conn: Connection) -> list[str]:
    """Every queued content hash."""
    return list(conn.execute(select(IndexPending.hash)).scalars())


def clear_pending(conn: Connection, hashes: Iterable[str]) -> None:
    """Take these contents off the queue (after the index committed them)."""
    for chunk in in_chunks(hashes):
        conn.execute(delete(IndexPending).where(IndexPending.hash.in_(chunk)))
