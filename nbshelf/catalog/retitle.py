"""Schema 2 -> 3: contents get the titles a reader would give them (``notebook/titles.py``).

Done once, in the upgrade's transaction, rather than lazily at the next sync: a sync reads
only changed files, so an unchanged chapter would be called "Setup" for ever. Only the
contents whose title can change are read again: the old title was the first heading, so it
stays unless that heading is generic or the notebook had none (its title was the file name).
A changed content is queued for the search index, whose title field must agree.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Connection, func, select, update

from nbshelf.catalog.models import Content, Notebook, Version
from nbshelf.catalog.pending import mark_pending
from nbshelf.catalog.queries import in_chunks

log = logging.getLogger(__name__)


def retitle_contents(conn: Connection, library: Path) -> int:
    """Recompute the titles that the new rule may change, from the blobs under ``library``;
    return how many changed. A content whose blob cannot be read keeps its title."""
    from nbshelf.errors import NotebookInvalid
    from nbshelf.notebook.reading import parse_notebook
    from nbshelf.notebook.titles import is_generic
    from nbshelf.store import BlobStore

    store = BlobStore(library / "blobs")
    rows = conn.execute(
        select(Content.hash, Content.title, func.json_array_length(Content.headings))
    ).all()
    stale = {digest: title for digest, title, n in rows if not n or is_generic(title)}
    changed: list[str] = []
    for digest, filename in _file_names(conn, list(stale)).items():
        try:
            title = parse_notebook(store.read(digest), filename, validate=False).summary.title
        except (OSError, NotebookInvalid) as err:
            log.info("kept the title of %s: %s", digest, err)
            continue
        if title != stale[digest]:
            conn.execute(update(Content).where(Content.hash == digest).values(title=title))
            changed.append(digest)
    mark_pending(conn, changed)
    return len(changed)


def _file_names(conn: Connection, hashes: list[str]) -> dict[str, str]:
    """A file name each content was seen under (now, else in a notebook's history)."""
    found: dict[str, str] = {}
    for chunk in in_chunks(hashes):
        for query in (
            select(Notebook.content_hash, Notebook.relpath).where(Notebook.content_hash.in_(chunk)),
            select(Version.content_hash, Notebook.relpath)
            .join(Notebook, Notebook.id == Version.notebook_id)
            .where(Version.content_hash.in_(chunk)),
        ):
            for digest, relpath in conn.execute(query.order_by(Notebook.relpath)):
                found.setdefault(digest, relpath)
    return found
