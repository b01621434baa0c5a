"""The library's sources: adding, relocating, forgetting and listing them, syncing each one,
and the share manifests of folder sources."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from nbshelf.catalog import notebooks as catalog_notebooks
from nbshelf.catalog import sources as catalog
from nbshelf.catalog.models import Source, SourceKind
from nbshelf.errors import SourceError, storage_error
from nbshelf.records import SourceInfo
from nbshelf.sources import rules
from nbshelf.sources.scan import FileStat
from nbshelf.sources.sync import (
    CommitFn,
    ProgressFn,
    SourceSync,
    SourceSyncResult,
    record_source_failure,
)
from nbshelf.store import BlobStore

#: Looks up the content hash the catalog knows for a file in a given state.
HashLookup = Callable[[str, FileStat], str | None]


class Sources:
    """The sources of one library (``lib.sources``)."""

    def __init__(self, root: Path, engine: Engine, store: BlobStore) -> None:
        self.root = root
        self.engine = engine
        self.store = store

    def get(self, name: str) -> Source:
        """The source called ``name``; ``SourceError`` naming the others when there is none."""
        source = catalog.source_named(self.engine, name)
        if source is None:
            names = ", ".join(catalog.source_names(self.engine)) or "none yet"
            raise SourceError(f"there is no source named '{name}' (sources: {names})")
        return source

    def chosen(self, names: list[str] | None) -> list[Source]:
        """The named sources (all by default), by name; ``SourceError`` for unknown names."""
        every = catalog.all_sources(self.engine)
        chosen = [s for s in every if not names or s.name in names]
        missing = set(names or ()) - {s.name for s in chosen}
        if missing:
            raise SourceError(f"there is no source named {', '.join(sorted(missing))}")
        return chosen

    def add(self, path: str | Path, *, name: str | None = None,
            kind: str = SourceKind.FOLDER) -> SourceInfo:
        """Add a folder (or a pack) as a source, or relocate the missing source it turns out
        to be.

        Raises:
            SourceError: not a folder, already a source, or nested with the library.
        """
        from nbshelf.sources.packs import is_pack

        candidate = Path(os.path.realpath(os.path.abspath(os.path.expanduser(str(path)))))
        if is_pack(candidate):
            kind = SourceKind.PACK
            folder = candidate
        else:
            folder = rules.real_folder(path)
        rules.check_not_nested(folder, self.root)
        existing = catalog.all_sources(self.engine)
        for source in existing:
            if source.kind == SourceKind.OPENED:
                continue
            other = Path(os.path.realpath(source.path))
            if other == folder:
                raise SourceError(f"{folder} is already in the library as source '{source.name}'")
            if rules.reachable(source.path) and (
                rules.is_within(folder, other) or rules.is_within(other, folder)
            ):
                raise SourceError(
                    f"{folder} overlaps source '{source.name}' ({source.path}); "
                    "a notebook can belong to one source only"
                )
        moved = None if kind == SourceKind.PACK else self._find_moved(folder, existing)
        if moved is not None:
            return self.relocate(moved.name, folder, _from=moved.path)
        source_name = rules.unique_name(name or folder.name or "source",
                                        (s.name for s in existing))
        catalog.add_source(self.engine, source_name, str(folder), str(kind))
        return self.info(source_name)

    def _find_moved(self, folder: Path, existing: list[Source]) -> Source | None:
        """The unavailable source whose notebooks ``folder`` holds (a stick mounted
        elsewhere), if one matches well enough."""
        best: tuple[float, Source] | None = None
        for source in existing:
            if source.kind == SourceKind.OPENED or rules.reachable(source.path):
                continue
            share = rules.match_share(folder, catalog.present_files(self.engine, source.id))
            if share >= rules.MATCH_SHARE and (best is None or share > best[0]):
                best = (share, source)
        return best[1] if best else None

    def relocate(self, name: str, new_path: str | Path, *, _from: str | None = None
                 ) -> SourceInfo:
        """Point a source at the folder it now lives in (a USB stick mounted elsewhere)."""
        folder = rules.real_folder(new_path)
        rules.check_not_nested(folder, self.root)
        source = self.get(name)
        clash = catalog.relocate(self.engine, source.id, str(folder))
        if clash:
            raise SourceError(f"{folder} is already the folder of source '{clash}'")
        info = self.info(name)
        return SourceInfo(**{**info.__dict__, "relocated_from": _from or source.path})

    def remove(self, name: str) -> int:
        """Forget a source and its notebooks; return how many blobs were freed (blobs that
        another source's notebooks still use are kept)."""
        orphans = catalog.forget_source(self.engine, self.get(name).id)
        # Files go after the commit: a kill in between leaves unused blobs, never missing ones.
        for digest in orphans:
            self.store.delete(digest)
        return len(orphans)

    def info(self, name: str) -> SourceInfo:
        """One source's current state."""
        return next(s for s in self.listed() if s.name == name)

    def listed(self) -> list[SourceInfo]:
        """Every source with its path, status, notebook count and last sync."""
        with self.engine.connect() as conn:
            counts = catalog.present_counts(conn)
        return [
            SourceInfo(
                name=s.name, path=s.path, kind=s.kind,
                available=self._available(s),
                notebooks=counts.get(s.id, 0), last_sync=s.last_sync,
            )
            for s in catalog.all_sources(self.engine)
        ]

    @staticmethod
    def _available(source: Source) -> bool:
        """Reachable now; and when the last sync could not see it (an empty mount point),
        not just reachable but holding something again."""
        if source.kind == SourceKind.OPENED:
            return True
        return rules.reachable(source.path) if source.available else rules.present(source.path)

    def rename(self, name: str, new_name: str) -> SourceInfo:
        """Call a source ``new_name``; its notebooks, settings and history stay.

        Raises:
            SourceError: no such source, an empty name, or one another source has.
        """
        source = self.get(name)
        wanted = rules.clean_name(new_name)
        if not wanted:
            raise SourceError("a source needs a name with at least one letter or digit")
        if wanted != source.name and catalog.source_named(self.engine, wanted) is not None:
            raise SourceError(f"there is already a source named '{wanted}'")
        if wanted != source.name:
            catalog.rename(self.engine, source.id, source.name, wanted)
        return self.info(wanted)

    def copies_beside(self, ids: list[int]) -> int:
        """How many other present notebooks hold the same content as these."""
        return catalog.copies_beside(self.engine, ids)

    def owner_of(self, real: Path) -> tuple[Source, str]:
        """The source a file belongs to and its path there: the folder source holding it, or
        the source of opened files (made the first time) with its absolute path."""
        sources = catalog.all_sources(self.engine)
        owner = next(
            (s for s in sources if s.kind != SourceKind.OPENED and rules.reachable(s.path)
             and rules.is_within(real, Path(os.path.realpath(s.path)))),
            None,
        )
        if owner is not None:
            return owner, real.relative_to(os.path.realpath(owner.path)).as_posix()
        opened = catalog.opened_source(self.engine)
        if opened is None:
            name = rules.unique_name("opened", (s.name for s in sources))
            catalog.add_source(self.engine, name, "", SourceKind.OPENED)
            opened = catalog.opened_source(self.engine)
            assert opened is not None  # just made, in this writer's transaction
        return opened, real.as_posix()

    def sync_one(self, source: Source, *, progress: ProgressFn | None,
                 cancel: threading.Event,
                 on_commit: CommitFn | None = None) -> SourceSyncResult | None:
        """Sync one source; None when it failed in a way nobody foresaw (it is then listed
        as a problem of that source). A failing machine (a full disk) is raised as a
        ``StorageError``: no other source could be written either. ``on_commit`` is told
        after each batch of the copy commits."""
        try:
            return SourceSync(self.engine, self.store, source, progress=progress,
                              cancel=cancel, on_commit=on_commit).run()
        except Exception as err:
            storage = storage_error(err)
            if storage is not None:
                raise storage from err
            record_source_failure(self.engine, source.id, err)
            return None

    def sync_paths(self, source: Source, relpaths: list[str]) -> SourceSyncResult:
        """Read just these files of a source (a file opened, a notebook just published)."""
        return SourceSync(self.engine, self.store, source).sync_paths(relpaths)

    def catalog_hashes(self, source: Source) -> HashLookup:
        """The content hash the catalog knows for a file of ``source`` in this state."""
        known = catalog_notebooks.file_states(self.engine, source.id)

        def lookup(relpath: str, stat: FileStat) -> str | None:
            size, mtime_ns, digest = known.get(relpath, (None, None, None))
            return digest if (size, mtime_ns) == (stat.size, stat.mtime_ns) else None

        return lookup

    def write_manifest(self, name: str) -> dict[str, Any]:
        """Walk a folder source and write its share manifest (``nbshelf.sources.manifest``),
        so that syncs of a big share need not walk it."""
        from nbshelf.sources.manifest import write_manifest

        source = self.get(name)
        if source.kind in (SourceKind.OPENED, SourceKind.PACK) or not rules.reachable(
                source.path):
            raise SourceError(f"source '{name}' is not a folder that can be written now")
        try:
            written = write_manifest(source.path, self.catalog_hashes(source))
        except OSError as err:
            raise SourceError(f"cannot write the manifest of '{name}': {err.strerror}") from None
        return {"source": name, **written.to_json()}

    def refresh_manifest(self, source: Source, relpath: str) -> None:
        """Keep the share's manifest (if it has one) current after a publish; a failure
        leaves it stale, which sync notices, so it never fails the publish."""
        from nbshelf.sources.manifest import log as manifest_log
        from nbshelf.sources.manifest import refresh_folders

        try:
            refresh_folders(source.path, relpath, self.catalog_hashes(source))
        except OSError as err:
            manifest_log.warning("the manifest of '%s' was not updated: %s", source.name, err)
