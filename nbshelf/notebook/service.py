"""The library's notebooks: finding one by reference, what the catalog knows of it, its
versions and their changes, the list's rows, problems and markings (``lib.notebooks``)."""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path, PurePosixPath

from sqlalchemy import Engine

from nbshelf.catalog import notebooks as catalog
from nbshelf.catalog.models import SourceKind
from nbshelf.errors import NbshelfError, NotFound
from nbshelf.notebook.reading import parse_notebook
from nbshelf.records import NotebookInfo, NotebookRow, Place, ProblemInfo, VersionInfo
from nbshelf.sources import rules
from nbshelf.store import BlobStore


def notebook_folder(source_path: str, kind: str, relpath: str) -> Path | None:
    """The notebook's folder in its source, or None when it is not reachable now."""
    folder = (Path(PurePosixPath(relpath).parent) if kind == SourceKind.OPENED
              else Path(source_path) / PurePosixPath(relpath).parent)
    return folder if folder.is_dir() else None


class Notebooks:
    """Reads the catalog's notebooks; ids in, records out."""

    def __init__(self, engine: Engine, store: BlobStore) -> None:
        self.engine = engine
        self.store = store

    def resolve(self, ref: str | int) -> int:
        """The catalog id of a notebook named by id, path in a source, or ``SOURCE:PATH``.

        Raises:
            NotFound: nothing matches, or a bare relative path matches several notebooks.
        """
        with self.engine.connect() as conn:
            if isinstance(ref, int) or str(ref).isdigit():
                if catalog.exists(conn, int(ref)):
                    return int(ref)
                raise NotFound(f"there is no notebook with id {ref}")
            text = str(ref)
            sources = catalog.source_refs(conn)
            candidates: list[tuple[int, str]] = []
            name, sep, rest = text.partition(":")
            for s in sources:
                if sep and name == s.name:
                    candidates.append((s.id, rest.replace("\\", "/").strip("/")))
            if not candidates:
                real = Path(os.path.realpath(os.path.abspath(text)))
                for s in sources:
                    if s.kind == SourceKind.OPENED:
                        candidates.append((s.id, real.as_posix()))
                        continue
                    root = Path(os.path.realpath(s.path))
                    if rules.is_within(real, root) and real != root:
                        candidates.append((s.id, real.relative_to(root).as_posix()))
            for source_id, relpath in candidates:
                found = catalog.notebook_at(conn, source_id, relpath)
                if found is not None:
                    return found
            loose = catalog.notebooks_at_path(conn, text.replace("\\", "/"))
        if len(loose) == 1:
            return loose[0]
        if len(loose) > 1:
            raise NotFound(f"{text} is in several sources; name one as SOURCE:{text}")
        raise NotFound(
            f"no notebook in the library matches {text!r} (give an id, a path inside a source, "
            "or SOURCE:RELATIVE/PATH; run sync if the file is new)"
        )

    def show(self, notebook_id: int) -> NotebookInfo:
        """Everything the catalog knows about one notebook."""
        rows = catalog.shown(self.engine, notebook_id)
        nb, content = rows.notebook, rows.content
        last_seen = nb.last_seen if nb.removed_at else max(nb.last_seen, rows.last_sync or 0)
        return NotebookInfo(
            id=nb.id,
            source=rows.source_name,
            path=nb.relpath,
            title=content.title,
            headings=list(content.headings),
            kernel=content.kernel_name,
            language=content.language,
            nbformat=f"{content.nbformat}.{content.nbformat_minor}",
            cells={"total": content.n_cells, "code": content.n_code,
                   "markdown": content.n_markdown, "raw": content.n_raw},
            imports=list(content.imports),
            size=content.size,
            mtime=nb.mtime_ns / 1e9,
            content_hash=content.hash,
            first_seen=nb.first_seen,
            last_seen=last_seen,
            removed_at=nb.removed_at,
            versions=rows.versions,
            also_at=[Place(p.id, p.name, p.relpath, p.removed_at is not None)
                     for p in rows.places],
            schema_warning=content.schema_error,
            blob=str(self.store.path(content.hash)),
        )

    def history(self, notebook_id: int) -> list[VersionInfo]:
        """A notebook's content versions, oldest first; the last one is current."""
        current, rows = catalog.versions(self.engine, notebook_id)
        return [
            VersionInfo(number=i, content_hash=v.content_hash, seen_at=v.seen_at,
                        mtime=v.mtime_ns / 1e9, title=title, size=size,
                        current=(i == len(rows) and v.content_hash == current))
            for i, (v, title, size) in enumerate(rows, start=1)
        ]

    def read_version(self, notebook_id: int, number: int | None = None) -> bytes:
        """The bytes of version ``number`` (1-based), by default the current one."""
        current, rows = catalog.versions(self.engine, notebook_id)
        if number is None:
            return self.store.read(current)
        if not 1 <= number <= len(rows):
            raise NotFound(f"the notebook has versions 1 to {len(rows)}, not {number}")
        return self.store.read(rows[number - 1][0].content_hash)

    def ids(self, *, order_by: str = "title", descending: bool = False,
            title_contains: str | None = None, include_removed: bool = False) -> list[int]:
        """Ids in list order, sorted and filtered by SQLite (see ``Library.notebook_ids``)."""
        return catalog.ordered_ids(self.engine, order_by=order_by, descending=descending,
                                   title_contains=title_contains,
                                   include_removed=include_removed)

    def rows(self, ids: list[int]) -> list[NotebookRow]:
        """The list rows of these notebooks, in the order asked (unknown ids left out)."""
        found = {
            r.id: NotebookRow(r.id, r.title, r.name, r.relpath, r.language, r.mtime_ns / 1e9,
                              r.size, r.removed_at is not None, bool(r.available))
            for r in catalog.list_rows(self.engine, ids)
        }
        return [found[i] for i in ids if i in found]

    def at(self, source_id: int, relpath: str) -> int | None:
        """The id of the notebook at ``relpath`` in a source, or None."""
        with self.engine.connect() as conn:
            return catalog.notebook_at(conn, source_id, relpath)

    def problem_at(self, source_id: int, relpath: str) -> str | None:
        """What is wrong with the file at ``relpath`` in a source, if it is a problem."""
        with self.engine.connect() as conn:
            return catalog.problem_at(conn, source_id, relpath)

    def present_hashes(self, ids: Collection[int]) -> set[str]:
        """The current contents of these notebooks (removed ones left out)."""
        return catalog.present_hashes_of(self.engine, ids)

    def folder_of(self, notebook_id: int) -> Path | None:
        """The notebook's folder in its source, when reachable (relative files load there)."""
        relpath, source_path, kind = catalog.location(self.engine, notebook_id)
        return notebook_folder(source_path, kind, relpath)

    def problems(self, names: list[str] | None = None) -> list[ProblemInfo]:
        """Files that are problems, notebooks with schema warnings, unavailable sources."""
        rows = catalog.problem_rows(self.engine, names)
        found = [
            ProblemInfo(s.name, "", "source-unavailable",
                        f"the folder {s.path} is not reachable (a USB stick unplugged or a "
                        "share not mounted?); its notebooks stay in the library")
            for s in rows.sources.values()
            if s.kind != SourceKind.OPENED and not rules.reachable(s.path)
        ]
        found += [ProblemInfo(rows.sources[r.source_id].name, r.relpath, r.kind, r.message)
                  for r in rows.problems]
        found += [ProblemInfo(rows.sources[w.source_id].name, w.relpath, "schema-warning",
                              f"catalogued, but it breaks the notebook format: "
                              f"{w.schema_error}")
                  for w in rows.schema]
        return found

    def markings(self, ids: list[int] | None, scheme: list[str], *, writer: bool
                 ) -> dict[int, str]:
        """The marking of each present notebook that has one (all, or these ids), spelled as
        in ``scheme``. Contents catalogued before markings were stored are read once (and
        the hint kept, by a ``writer``)."""
        from nbshelf.publish.markings import marking_hint, read_hint

        rows = catalog.marking_rows(self.engine, ids)
        hints = {r.hash: r.marking for r in rows if r.marking is not None}
        for digest in {r.hash for r in rows if r.marking is None}:
            try:
                raw = parse_notebook(self.store.read(digest), "x.ipynb", validate=False).raw
                hints[digest] = marking_hint(raw)
            except (OSError, NbshelfError):
                hints[digest] = ""
            if writer:
                catalog.store_marking(self.engine, digest, hints[digest])
        found = {r.id: read_hint(hints[r.hash], scheme) for r in rows}
        return {notebook_id: m for notebook_id, m in found.items() if m}
