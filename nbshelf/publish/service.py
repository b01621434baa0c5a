"""The library's publishing (``lib.publishing``): a notebook to a share, stripped, checked
and written under the target's lock; notebooks to a pack for another machine."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from nbshelf.catalog import notebooks as catalog_notebooks
from nbshelf.catalog import sources as catalog_sources
from nbshelf.catalog.models import Source, SourceKind
from nbshelf.catalog.settings import Settings
from nbshelf.notebook.reading import content_hash, parse_notebook
from nbshelf.notebook.service import Notebooks
from nbshelf.publish.share import (
    Prepared,
    PublishError,
    PublishResult,
    check_conflict,
    prepare,
    resolve_target,
    target_lock,
    target_relpath,
)
from nbshelf.sources import rules
from nbshelf.sources.service import Sources
from nbshelf.store import BlobStore, atomic_write, remove_stale_temps, shared_file_mode


class Publishing:
    """Publishes to the library's sources and exports packs."""

    def __init__(self, engine: Engine, store: BlobStore, sources: Sources,
                 notebooks: Notebooks) -> None:
        self.engine = engine
        self.store = store
        self.sources = sources
        self.notebooks = notebooks

    @property
    def settings(self) -> Settings:
        """The library's settings (marking scheme, per-source rules)."""
        return Settings(self.engine)

    def prepare(self, file: str | Path, *, keep_outputs: bool = False) -> Prepared:
        """What publishing ``file`` would write: the preview of what is removed and the
        warnings, without writing anything."""
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise PublishError(f"cannot read {file}: {err.strerror}") from None
        return prepare(data, path.name, keep_outputs=keep_outputs,
                       scheme=self.settings.get("markings"))

    def publish(self, file: str | Path, source: str, *, as_path: str | None,
                keep_outputs: bool, force: bool) -> tuple[PublishResult, Source]:
        """Publish a notebook file into a source folder; the result (its ``notebook_id`` not
        yet known) and the source it went to. See ``Library.publish``."""
        from nbshelf.publish.markings import check_publishable

        prepared = self.prepare(file, keep_outputs=keep_outputs)
        target_source = self.sources.get(source)
        if target_source.kind == SourceKind.OPENED or not rules.reachable(target_source.path):
            raise PublishError(f"source '{source}' is not a folder that can be written now")
        relpath = target_relpath(Path(file).name, as_path)
        where = f"{source}:{relpath}"
        settings = self.settings
        check_publishable(
            prepared.marking, settings.get("markings"), target=f"source '{source}'",
            required=settings.get("marking_required", source),
            ceiling=settings.get("marking_ceiling", source),
        )
        self._refuse_unmounted(target_source)
        with self.engine.connect() as conn:
            last_seen = catalog_notebooks.hash_at(conn, target_source.id, relpath)
        shown = Path(target_source.path) / relpath
        target = resolve_target(target_source.path, relpath, where)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise PublishError(f"cannot write {where}: {err.strerror or err}") from None
        # again, now that its folders exist: one made meanwhile must not be a link out
        target = resolve_target(target_source.path, relpath, where)
        remove_stale_temps(target.parent)
        new_hash = content_hash(prepared.data)
        with target_lock(target, where):
            existed = check_conflict(target, last_seen, new_hash, force=force, where=where)
            try:
                unchanged = existed and target.read_bytes() == prepared.data
                if not unchanged:
                    atomic_write(target, prepared.data, mode=shared_file_mode(target))
            except OSError as err:
                raise PublishError(f"cannot write {where}: {err.strerror or err}") from None
            # the library now "last saw" what it wrote there, read before anyone else may
            # write it: a later change by others is caught, never taken for ours
            self.sources.sync_paths(target_source, [relpath])
        self.sources.refresh_manifest(target_source, relpath)
        return PublishResult(source, relpath, str(shown), prepared.stripped, prepared.leaks,
                             prepared.marking, overwrote=existed and not unchanged,
                             unchanged=unchanged), target_source

    def _refuse_unmounted(self, source: Source) -> None:
        """Refuse a folder source that sync would call unavailable (``looks_unmounted``): a
        publish into the empty mount point of a share that is not mounted would "succeed"
        on the local disk, and the next sync would take every other notebook for removed.

        Cheap where it matters: a folder with a notebook at its top needs no walk.
        """
        from nbshelf.sources.scan import ScanResult, is_notebook_name, scan_tree
        from nbshelf.sources.sync import looks_unmounted

        present = catalog_sources.has_present_notebook(self.engine, source.id)
        if not present:
            return
        try:
            with os.scandir(source.path) as entries:
                top: list[os.DirEntry[str]] | None = [
                    e for e in entries if not e.name.startswith(".")]
        except OSError:
            top = None  # the walk says what it can

        def plain_notebook(entry: os.DirEntry[str]) -> bool:
            """A file the walk would surely list: ``*.ipynb``, regular, a valid name."""
            try:
                entry.name.encode("utf-8")
                return is_notebook_name(entry.name) and entry.is_file(follow_symlinks=False)
            except (UnicodeEncodeError, OSError):
                return False

        if top is not None and any(plain_notebook(e) for e in top):
            return
        scan = ScanResult() if top == [] else scan_tree(source.path)
        if looks_unmounted(scan, present):
            raise PublishError(
                f"source '{source.name}' is not available: its folder {source.path} is empty, "
                "but the library holds notebooks from it. The share is probably not mounted "
                "(or the stick not plugged in); nothing was written. Mount it and publish again"
            )

    def export_pack(self, out: str | Path, ids: list[int]) -> dict[str, Any]:
        """Write these notebooks as a pack (a folder, or a zip when ``out`` ends in .zip)."""
        from nbshelf.publish.markings import notebook_marking
        from nbshelf.sources.packs import PackEntry, PackError, entry_path, write_pack

        if not ids:
            raise PackError("nothing to pack: name notebooks with --ids or a query that matches")
        scheme = self.settings.get("markings")
        opened = {s.name for s in self.sources.listed() if s.kind == SourceKind.OPENED}
        entries = []
        for notebook_id in dict.fromkeys(ids):
            info = self.notebooks.show(notebook_id)
            # checked before anything is read or written: a bad path fails the whole export
            inner = entry_path(info.source, info.path, opened=info.source in opened)
            data = self.store.read(info.content_hash)
            raw = parse_notebook(data, info.path, validate=False).raw
            entries.append((PackEntry(inner, info.title, info.content_hash, len(data),
                                      notebook_marking(raw, scheme), info.source, info.path,
                                      info.versions), data))
        written = write_pack(Path(out), entries)
        return {"pack": str(written), "notebooks": len(entries)}
