"""The catalog's notebooks: finding one by reference, what it holds, its versions, the list's
rows, problems, markings, and the rows health and rendering need."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.orm import Session

from nbshelf.catalog.models import Content, Notebook, Problem, Source, Version
from nbshelf.catalog.queries import in_chunks


class SourceRef(NamedTuple):
    """A source as references are resolved against it."""

    id: int
    name: str
    path: str
    kind: str


def exists(conn: Connection, notebook_id: int) -> bool:
    """True when a notebook with this id is in the catalog (present or removed)."""
    return conn.execute(select(Notebook.id).where(Notebook.id == notebook_id)).first() is not None


def source_refs(conn: Connection) -> list[SourceRef]:
    """Every source's id, name, path and kind."""
    return [SourceRef(*r) for r in conn.execute(
        select(Source.id, Source.name, Source.path, Source.kind))]


def notebook_at(conn: Connection, source_id: int, relpath: str) -> int | None:
    """The id of the notebook at ``relpath`` in a source, or None."""
    found = conn.execute(select(Notebook.id).where(
        Notebook.source_id == source_id, Notebook.relpath == relpath)).first()
    return int(found.id) if found else None


def notebooks_at_path(conn: Connection, relpath: str) -> list[int]:
    """The ids of the notebooks at ``relpath`` in any source."""
    return [int(i) for i in conn.execute(
        select(Notebook.id).where(Notebook.relpath == relpath)).scalars()]


def problem_at(conn: Connection, source_id: int, relpath: str) -> str | None:
    """The message of the problem recorded for ``relpath`` in a source, or None."""
    found = conn.execute(select(Problem.message).where(
        Problem.source_id == source_id, Problem.relpath == relpath)).first()
    return str(found.message) if found else None


def hash_at(conn: Connection, source_id: int, relpath: str) -> str | None:
    """The content the catalog last saw at ``relpath`` in a source (present or not)."""
    return conn.execute(select(Notebook.content_hash).where(
        Notebook.source_id == source_id, Notebook.relpath == relpath)).scalar_one_or_none()


class ShownRows(NamedTuple):
    """What ``show`` reads in one go."""

    notebook: Notebook
    content: Content
    source_name: str
    versions: int
    places: list[Any]  # (id, name, relpath, removed_at) of the other notebooks with it
    last_sync: float | None


def shown(engine: Engine, notebook_id: int) -> ShownRows:
    """A notebook's row, its content, its source's name and last sync, its version count,
    and the other places holding the same content."""
    with Session(engine) as conn:
        nb, content, source_name = conn.execute(
            select(Notebook, Content, Source.name)
            .join(Content, Content.hash == Notebook.content_hash)
            .join(Source, Source.id == Notebook.source_id)
            .where(Notebook.id == notebook_id)
        ).one()
        versions = conn.execute(
            select(func.count()).where(Version.notebook_id == notebook_id)).scalar_one()
        places = list(conn.execute(
            select(Notebook.id, Source.name, Notebook.relpath, Notebook.removed_at)
            .join(Source, Source.id == Notebook.source_id)
            .where(Notebook.content_hash == nb.content_hash, Notebook.id != notebook_id)
            .order_by(Source.name, Notebook.relpath)
        ).all())
        last_sync = conn.execute(
            select(Source.last_sync).where(Source.id == nb.source_id)).scalar_one()
    return ShownRows(nb, content, source_name, versions, places, last_sync)


def versions(engine: Engine, notebook_id: int) -> tuple[str, list[Any]]:
    """A notebook's current content and its versions (Version, title, size), oldest first."""
    with Session(engine) as conn:
        current = conn.execute(
            select(Notebook.content_hash).where(Notebook.id == notebook_id)).scalar_one()
        rows = list(conn.execute(
            select(Version, Content.title, Content.size)
            .join(Content, Content.hash == Version.content_hash)
            .where(Version.notebook_id == notebook_id)
            .order_by(Version.seen_at, Version.id)
        ).all())
    return current, rows


#: The orders of the notebook list, by what the user clicks.
_ORDER_KEYS: dict[str, Any] = {
    "title": func.lower(Content.title),
    "source": func.lower(Source.name),
    "language": func.coalesce(Content.language, ""),
    "modified": Notebook.mtime_ns,
}


def ordered_ids(engine: Engine, *, order_by: str, descending: bool,
                title_contains: str | None, include_removed: bool) -> list[int]:
    """Notebook ids in list order (ties by title, then path), filtered by title."""
    if order_by not in _ORDER_KEYS:
        raise ValueError(f"cannot order notebooks by {order_by!r}")
    key = _ORDER_KEYS[order_by]
    query = (
        select(Notebook.id)
        .join(Content, Content.hash == Notebook.content_hash)
        .join(Source, Source.id == Notebook.source_id)
        .order_by(key.desc() if descending else key, func.lower(Content.title),
                  Notebook.relpath)
    )
    if not include_removed:
        query = query.where(Notebook.removed_at.is_(None))
    if title_contains:
        escaped = title_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Content.title.ilike(f"%{escaped}%", escape="\\"))
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def list_rows(engine: Engine, ids: list[int]) -> list[Any]:
    """The list's columns of these notebooks (id, title, name, relpath, language, mtime_ns,
    size, removed_at, available: the source's), in no particular order."""
    found: list[Any] = []
    with engine.connect() as conn:
        for chunk in in_chunks(ids):
            found += conn.execute(
                select(Notebook.id, Content.title, Source.name, Notebook.relpath,
                       Content.language, Notebook.mtime_ns, Content.size, Notebook.removed_at,
                       Source.available)
                .join(Content, Content.hash == Notebook.content_hash)
                .join(Source, Source.id == Notebook.source_id)
                .where(Notebook.id.in_(chunk))
            ).all()
    return found


def present_hashes_of(engine: Engine, ids: Iterable[int]) -> set[str]:
    """The current contents of these notebooks (removed ones left out)."""
    found: set[str] = set()
    with engine.connect() as conn:
        for chunk in in_chunks(ids):
            found.update(conn.execute(
                select(Notebook.content_hash)
                .where(Notebook.id.in_(chunk), Notebook.removed_at.is_(None))).scalars())
    return found


def health_rows(engine: Engine, ids: Collection[int] | None) -> list[Any]:
    """Present notebooks (all, or these ids) with what health needs: id, relpath,
    content_hash, source name, path and kind, title; by source, then path."""
    query = (
        select(Notebook.id, Notebook.relpath, Notebook.content_hash, Source.name,
               Source.path, Source.kind, Content.title)
        .join(Source, Source.id == Notebook.source_id)
        .join(Content, Content.hash == Notebook.content_hash)
        .where(Notebook.removed_at.is_(None))
        .order_by(Source.name, Notebook.relpath)
    )
    return _of_ids(engine, query, ids)


def _of_ids(engine: Engine, query: Any, ids: Iterable[int] | None) -> list[Any]:
    """The rows of ``query`` (all, or those of these notebook ids, in batches)."""
    with engine.connect() as conn:
        if ids is None:
            return list(conn.execute(query).all())
        rows: list[Any] = []
        for chunk in in_chunks(ids):
            rows += conn.execute(query.where(Notebook.id.in_(chunk))).all()
        return rows


def location(engine: Engine, notebook_id: int) -> tuple[str, str, str]:
    """A notebook's (relpath, source path, source kind)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(Notebook.relpath, Source.path, Source.kind)
            .join(Source, Source.id == Notebook.source_id)
            .where(Notebook.id == notebook_id)
        ).one()
    return row.relpath, row.path, row.kind


def marking_rows(engine: Engine, ids: list[int] | None) -> list[Any]:
    """(id, hash, stored marking hint) of present notebooks, all or these ids."""
    query = (
        select(Notebook.id, Content.hash, Content.marking)
        .join(Content, Content.hash == Notebook.content_hash)
        .where(Notebook.removed_at.is_(None))
    )
    return _of_ids(engine, query, ids)


def store_marking(engine: Engine, digest: str, hint: str) -> None:
    """Keep a content's marking hint (read once for contents catalogued before schema 2)."""
    with engine.begin() as conn:
        conn.execute(update(Content).where(Content.hash == digest).values(marking=hint))


class ProblemRows(NamedTuple):
    """What ``problems`` reads: the sources asked about, their problem rows, and their
    notebooks whose content breaks the schema."""

    sources: dict[int, SourceRef]
    problems: list[Any]  # source_id, relpath, kind, message
    schema: list[Any]  # source_id, relpath, schema_error


def problem_rows(engine: Engine, names: list[str] | None) -> ProblemRows:
    """The problems of the named sources (all by default)."""
    with engine.connect() as conn:
        wanted = {s.id: s for s in source_refs(conn) if names is None or s.name in names}
        problems = list(conn.execute(
            select(Problem.source_id, Problem.relpath, Problem.kind, Problem.message)
            .where(Problem.source_id.in_(wanted))
            .order_by(Problem.relpath)
        ).all())
        schema = list(conn.execute(
            select(Notebook.source_id, Notebook.relpath, Content.schema_error)
            .join(Content, Content.hash == Notebook.content_hash)
            .where(
                # the few bad contents first (a partial index): reading every content row
                # of a 50,000-notebook library would cost more than the whole sync
                Notebook.content_hash.in_(
                    select(Content.hash).where(Content.schema_error.is_not(None))),
                Notebook.source_id.in_(wanted),
                Notebook.removed_at.is_(None),
            )
            .order_by(Notebook.relpath)
        ).all())
    return ProblemRows(wanted, problems, schema)


def file_states(engine: Engine, source_id: int) -> dict[str, tuple[int, int, str]]:
    """A source's present notebooks: relpath -> (size, mtime_ns, content hash)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Notebook.relpath, Notebook.size, Notebook.mtime_ns, Notebook.content_hash)
            .where(Notebook.source_id == source_id, Notebook.removed_at.is_(None))
        ).all()
    return {r.relpath: (r.size, r.mtime_ns, r.content_hash) for r in rows}


