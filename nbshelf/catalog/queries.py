"""Catalog queries several parts of nbshelf need in the same form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Connection, select

from nbshelf.catalog.models import Content, Notebook, Source


class Place(NamedTuple):
    """A present notebook holding some content."""

    id: int
    source: str
    path: str
    title: str
    language: str | None


def present_places(conn: Connection, hashes: Sequence[str]) -> dict[str, list[Place]]:
    """Where each content lives now (removed notebooks left out), by source then path."""
    found: dict[str, list[Place]] = {}
    for start in range(0, len(hashes), 500):
        rows = conn.execute(
            select(Notebook.content_hash, Notebook.id, Source.name, Notebook.relpath,
                   Content.title, Content.language)
            .join(Source, Source.id == Notebook.source_id)
            .join(Content, Content.hash == Notebook.content_hash)
            .where(Notebook.content_hash.in_(hashes[start : start + 500]),
                   Notebook.removed_at.is_(None))
            .order_by(Source.name, Notebook.relpath)
        )
        for digest, notebook_id, source, path, title, language in rows:
            found.setdefault(digest, []).append(Place(notebook_id, source, path, title, language))
    return found
