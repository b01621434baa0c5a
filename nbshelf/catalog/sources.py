"""The catalog's sources: listing, adding, relocating and forgetting them."""

from __future__ import annotations

import time

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session

from nbshelf.catalog.models import (
    Content,
    Notebook,
    Problem,
    SettingRow,
    Source,
    SourceKind,
    Version,
)
from nbshelf.catalog.pending import mark_pending
from nbshelf.catalog.queries import in_chunks


def all_sources(engine: Engine) -> list[Source]:
    """Every source, detached from its session (read its columns freely)."""
    with Session(engine) as session:
        return list(session.scalars(select(Source).order_by(Source.name)))


def source_named(engine: Engine, name: str) -> Source | None:
    """The source called ``name``, or None."""
    with Session(engine) as session:
        return session.scalars(select(Source).where(Source.name == name)).one_or_none()


def source_names(engine: Engine) -> list[str]:
    """Every source's name."""
    with engine.connect() as conn:
        return list(conn.execute(select(Source.name).order_by(Source.name)).scalars())


def add_source(engine: Engine, name: str, path: str, kind: str) -> None:
    """A new source row (never synced yet)."""
    with engine.begin() as conn:
        conn.execute(insert(Source).values(name=name, path=path, kind=kind, added_at=time.time(),
                                           last_sync=None, available=True))


def opened_source(engine: Engine) -> Source | None:
    """The source of notebooks opened from outside every source, if there is one."""
    with Session(engine) as session:
        return session.scalars(
            select(Source).where(Source.kind == SourceKind.OPENED)).one_or_none()


def present_files(engine: Engine, source_id: int) -> dict[str, tuple[int, str]]:
    """A source's present notebooks: relpath -> (size, content hash)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Notebook.relpath, Notebook.size, Notebook.content_hash).where(
                Notebook.source_id == source_id, Notebook.removed_at.is_(None)))
        return {r.relpath: (r.size, r.content_hash) for r in rows}


def has_present_notebook(engine: Engine, source_id: int) -> bool:
    """True when the catalog holds at least one present notebook of the source."""
    with engine.connect() as conn:
        return conn.execute(
            select(Notebook.id).where(Notebook.source_id == source_id,
                                      Notebook.removed_at.is_(None)).limit(1)
        ).first() is not None


def relocate(engine: Engine, source_id: int, path: str) -> str | None:
    """Point a source at ``path``; returns the name of another source already there (and
    changes nothing), else None."""
    with engine.begin() as conn:
        clash = conn.execute(
            select(Source.name).where(Source.path == path, Source.id != source_id)).first()
        if clash:
            return str(clash.name)
        conn.execute(update(Source).where(Source.id == source_id)
                     .values(path=path, available=True))
    return None


def rename(engine: Engine, source_id: int, old: str, new: str) -> None:
    """Rename a source and its per-source settings (``source:<name>:<key>``) in one
    transaction; its contents are queued for the index, which stores source names."""
    with engine.begin() as conn:
        conn.execute(update(Source).where(Source.id == source_id).values(name=new))
        prefix = f"source:{old}:"
        keys = conn.execute(select(SettingRow.key).where(
            func.substr(SettingRow.key, 1, len(prefix)) == prefix)).scalars().all()
        for key in keys:
            conn.execute(update(SettingRow).where(SettingRow.key == key)
                         .values(key=f"source:{new}:{key[len(prefix):]}"))
        mark_pending(conn, conn.execute(
            select(Notebook.content_hash).where(Notebook.source_id == source_id)).scalars())


def forget_source(engine: Engine, source_id: int) -> list[str]:
    """Delete a source, its notebooks, versions and problems in one transaction; returns the
    contents nothing holds any more (their blobs may go once this has committed)."""
    with engine.begin() as conn:
        ids = select(Notebook.id).where(Notebook.source_id == source_id)
        mark_pending(conn, conn.execute(
            select(Notebook.content_hash).where(Notebook.source_id == source_id)).scalars())
        conn.execute(delete(Version).where(Version.notebook_id.in_(ids)))
        conn.execute(delete(Notebook).where(Notebook.source_id == source_id))
        conn.execute(delete(Problem).where(Problem.source_id == source_id))
        conn.execute(delete(Source).where(Source.id == source_id))
        used = select(Version.content_hash).union(select(Notebook.content_hash))
        orphans = list(conn.execute(select(Content.hash).where(Content.hash.not_in(used)))
                       .scalars())
        conn.execute(delete(Content).where(Content.hash.in_(orphans)))
    return orphans


def present_counts(conn: Connection) -> dict[int, int]:
    """How many present notebooks each source holds, by source id."""
    return {int(k): int(v) for k, v in conn.execute(
        select(Notebook.source_id, func.count())
        .where(Notebook.removed_at.is_(None))
        .group_by(Notebook.source_id)
    ).all()}


def copies_beside(engine: Engine, ids: list[int]) -> int:
    """How many other present notebooks hold the same content as these (identical copies
    a search lists once, under its first place)."""
    if not ids:
        return 0
    hashes: set[str] = set()
    with engine.connect() as conn:
        for chunk in in_chunks(ids):
            hashes.update(conn.execute(select(Notebook.content_hash).where(
                Notebook.id.in_(chunk), Notebook.removed_at.is_(None))).scalars())
        places = 0
        for digests in in_chunks(sorted(hashes)):
            places += int(conn.execute(select(func.count()).where(
                Notebook.content_hash.in_(digests), Notebook.removed_at.is_(None))).scalar_one())
    return max(0, places - len(hashes))
