"""Catalog queries several parts of nbshelf need in the same form, and the batching of id
lists that every ``IN (...)`` over user-sized lists needs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, Row, String, select, type_coerce

from nbshelf.catalog.models import Content, Notebook, Source
from nbshelf.records import Place

T = TypeVar("T")

#: SQLite caps the number of bound parameters in one statement (999 in older builds): lists
#: of ids or hashes from users go in batches of this many.
CHUNK = 500


def in_chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size`` (for ``column.in_(chunk)``)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def present_hashes(conn: Connection) -> list[str]:
    """Every content some present notebook holds (removed notebooks left out), once each."""
    return list(conn.execute(
        select(Notebook.content_hash).where(Notebook.removed_at.is_(None)).distinct()
    ).scalars())


def present_places(conn: Connection, hashes: Sequence[str]) -> dict[str, list[Place]]:
    """Where each content lives now (removed notebooks left out), by source then path."""
    found: dict[str, list[Place]] = {}
    for chunk in in_chunks(hashes):
        rows = conn.execute(
            select(Notebook.content_hash, Notebook.id, Source.name, Notebook.relpath,
                   Content.title, Content.language)
            .join(Source, Source.id == Notebook.source_id)
            .join(Content, Content.hash == Notebook.content_hash)
            .where(Notebook.content_hash.in_(chunk),
                   Notebook.removed_at.is_(None))
            .order_by(Source.name, Notebook.relpath)
        )
        for digest, notebook_id, source, path, title, language in rows:
            found.setdefault(digest, []).append(
                Place(notebook_id, source, path, title=title, language=language))
    return found


# -- queries of the run book, the index, the similarity model and share manifests ------------


def contents(conn: Connection, hashes: Iterable[str]) -> dict[str, Row[Any]]:
    """The ``contents`` rows (every column) of these hashes that the catalog has, by hash."""
    found: dict[str, Row[Any]] = {}
    for chunk in in_chunks(hashes):
        for row in conn.execute(select(Content.__table__).where(Content.hash.in_(chunk))):
            found[row.hash] = row
    return found


#: A present content as the similarity model reads it: hash, title, then headings and
#: imports as their JSON text, then language.
ContentText = tuple[str, str, str | None, str | None, str | None]


def present_content_texts(conn: Connection) -> list[ContentText]:
    """Every content some present notebook holds, by hash, with its JSON columns undecoded."""
    present = (
        select(Notebook.content_hash).where(Notebook.removed_at.is_(None)).distinct()
    ).subquery()
    # The JSON columns are read as text for the caller to decode with orjson: SQLAlchemy's
    # decoding took two thirds of this query at 50,000 contents.
    return list(conn.execute(
        select(
            Content.hash,
            Content.title,
            type_coerce(Content.headings, String),
            type_coerce(Content.imports, String),
            Content.language,
        )
        .where(Content.hash.in_(select(present.c.content_hash)))
        .order_by(Content.hash)
    ))


class ContentSummary(NamedTuple):
    """What the similarity model reads of one content besides its blob."""

    title: str
    headings: list[str]
    imports: list[str]
    language: str | None


def content_summary(conn: Connection, content_hash: str) -> ContentSummary | None:
    """A content's title, headings, imports and language; None when the catalog lacks it."""
    row = conn.execute(
        select(Content.title, Content.headings, Content.imports, Content.language)
        .where(Content.hash == content_hash)
    ).first()
    return None if row is None else ContentSummary(*row)


def content_hash_of(conn: Connection, notebook_id: int) -> str | None:
    """The content a notebook holds (present or removed); None when there is no such
    notebook."""
    return conn.execute(
        select(Notebook.content_hash).where(Notebook.id == notebook_id)
    ).scalar_one_or_none()
