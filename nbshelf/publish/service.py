"""The library's publishing (``lib.publishing``): a notebook to a share, stripped, checked
and written under the target's lock; notebooks to a pack for another machine."""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from nbshelf.catalog import notebooks as catalog_notebooks
from nbshelf.catalog import sources as catalog_sources
from nbshelf.catalog.models import Source, SourceKind
from nbshelf.catalog.settings import Settings
from nbshelf.errors import BlobDamaged, NbshelfError
from nbshelf.notebook.reading import content_hash, parse_notebook
from nbshelf.notebook.service import Notebooks
from nbshelf.publish.share import (
    Prepared,
    PublishConflict,
    PublishError,
    PublishResult,
    check_conflict,
    conflict_state,
    free_name,
    prepare,
    resolve_target,
    target_lock,
    target_relpath,
)
from nbshelf.sources import rules
from nbshelf.sources.service import Sources
from nbshelf.store import BlobStore, atomic_write, remove_stale_temps, shared_file_mode

if TYPE_CHECKING:
    from nbshelf.publish.datafiles import Copy
    from nbshelf.publish.preflight import Preflight


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

    def prepare(self, file: str | Path, *, keep_outputs: bool = False,
                marking: str | None = None) -> Prepared:
        """What publishing ``file`` would write: the preview of what is removed and the
        warnings, without writing anything."""
        path = Path(file)
        data = self._read(path)
        return prepare(data, path.name, keep_outputs=keep_outputs,
                       scheme=self.settings.get("markings"), marking=marking)

    def _read(self, path: Path) -> bytes:
        """The notebook's bytes. A file of the library's own store (the window publishes
        ``NotebookInfo.blob``) is read through the store: the file itself is compressed."""
        digest = self.store.digest_of(path)
        try:
            return self.store.read(digest) if digest is not None else path.read_bytes()
        except BlobDamaged:
            raise  # its message says what to do
        except OSError as err:
            raise PublishError(f"cannot read {path}: {err.strerror}") from None

    def preflight(self, file: str | Path, source: str, *, as_path: str | None,
                  keep_outputs: bool, marking: str | None,
                  data_from: str | Path | None) -> Preflight:
        """Every check ``publish`` makes, made now without writing: see ``Preflight``.

        Args:
            file: the notebook file to publish.
            source: the target source's name.
            as_path: the path inside it (default: the file's name).
            keep_outputs: keep the outputs.
            marking: a marking to give the copy when the notebook has none.
            data_from: the notebook's folder, where its data files are looked for (None:
                not reachable).

        Raises:
            PublishError: the file cannot be read or is no notebook to publish.
        """
        from nbshelf.publish.datafiles import folder_of, survey
        from nbshelf.publish.markings import MarkingRefused, check_publishable
        from nbshelf.publish.preflight import Preflight

        prepared = self.prepare(file, keep_outputs=keep_outputs, marking=marking)
        settings = self.settings
        scheme = settings.get("markings")
        facts: dict[str, Any] = {
            "source": source, "path": "", "removes": prepared.stripped.describe(),
            "warnings": prepared.leaks, "marking": prepared.marking,
            "marked_in_notebook": prepared.marked_in_notebook, "scheme": scheme}
        target_source, relpath, refusal = self._target(file, source, as_path)
        folder = Path(data_from) if data_from is not None else None
        if target_source is None:
            data = survey(prepared.data, Path(file).name, folder, None, None)
            return Preflight(**facts, target_refusal=refusal, data_files=data)
        required = settings.get("marking_required", source)
        ceiling = settings.get("marking_ceiling", source)
        try:
            check_publishable(prepared.marking, scheme, target=f"source '{source}'",
                              required=required, ceiling=ceiling)
            marking_refusal = None
        except MarkingRefused as err:
            marking_refusal = _sentence(str(err))
        facts.update(path=relpath, required=required, ceiling=ceiling,
                     marking_refusal=marking_refusal)
        root = Path(target_source.path)
        data = survey(prepared.data, Path(file).name, folder, root, folder_of(relpath))
        try:
            facts.update(self._target_state(target_source, relpath, prepared))
        except PublishError as err:
            refusal = _sentence(str(err))
        return Preflight(**facts, target_refusal=refusal, data_files=data)

    def _target(self, file: str | Path, source: str, as_path: str | None
                ) -> tuple[Source | None, str, str | None]:
        """(the target source, the path in it, None), or (None, "", why it cannot be)."""
        try:
            target_source = self.sources.get(source)
            relpath = target_relpath(Path(file).name, as_path)
            self._refuse_unwritable(target_source, source)
            self._refuse_unmounted(target_source)
        except NbshelfError as err:
            return None, "", _sentence(str(err))
        return target_source, relpath, None

    def _target_state(self, target_source: Source, relpath: str, prepared: Prepared
                      ) -> dict[str, Any]:
        """exists, conflict and suggested_path of a target, as ``Preflight`` holds them."""
        from nbshelf.publish.preflight import conflict_sentence

        where = f"{target_source.name}:{relpath}"
        target = resolve_target(target_source.path, relpath, where)
        with self.engine.connect() as conn:
            last_seen = catalog_notebooks.hash_at(conn, target_source.id, relpath)
        state = conflict_state(target, last_seen, content_hash(prepared.data), where=where)
        if state is None:
            return {"exists": False}
        if not state.theirs:
            return {"exists": True}
        folder = relpath.rpartition("/")[0]
        free = free_name(target.parent, target.name)
        return {"exists": True, "conflict": conflict_sentence(state.changed, bool(last_seen)),
                "suggested_path": f"{folder}/{free}" if folder else free}

    def _refuse_unwritable(self, target_source: Source, source: str) -> None:
        if target_source.kind == SourceKind.OPENED or not rules.reachable(target_source.path):
            raise PublishError(f"source '{source}' is not a folder that can be written now")

    def publish(self, file: str | Path, source: str, *, as_path: str | None,
                keep_outputs: bool, force: bool, marking: str | None = None,
                data: Collection[str] = (), data_from: str | Path | None = None
                ) -> tuple[PublishResult, Source]:
        """Publish a notebook file into a source folder; the result (its ``notebook_id`` not
        yet known) and the source it went to. See ``Library.publish``."""
        from nbshelf.publish.datafiles import DataFileRefused, plan_copies
        from nbshelf.publish.markings import check_publishable

        prepared = self.prepare(file, keep_outputs=keep_outputs, marking=marking)
        try:
            copies = plan_copies(data, Path(data_from) if data_from is not None
                                 else Path(file).parent)
        except DataFileRefused as err:
            raise PublishError(f"{err}; nothing was written") from None
        target_source = self.sources.get(source)
        self._refuse_unwritable(target_source, source)
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
            existed = self._check_conflict(target, relpath, last_seen, new_hash, force=force,
                                           where=where)
            # the data first: the notebook never appears on the share without what it reads
            copied = self._copy_data(target_source, relpath, copies)
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
                             unchanged=unchanged, data=[c.path for c in copies],
                             data_copied=copied), target_source

    @staticmethod
    def _check_conflict(target: Path, relpath: str, last_seen: str | None, new_hash: str, *,
                        force: bool, where: str) -> bool:
        """``check_conflict``, with the free name beside the target as a path in the source."""
        try:
            return check_conflict(target, last_seen, new_hash, force=force, where=where)
        except PublishConflict as err:
            folder = relpath.rpartition("/")[0]
            if err.suggested and folder:
                err.suggested = f"{folder}/{err.suggested}"
            raise

    def _copy_data(self, target_source: Source, relpath: str, copies: list[Copy]) -> int:
        """Copy the data files beside the target, each atomically under its share lock;
        return how many were written (identical ones are left alone).

        Held under the notebook's lock, data locks are taken in one order (sorted paths),
        and nobody takes a notebook's lock while holding a data lock: no deadlock.
        """
        from nbshelf.publish.datafiles import DataFileRefused, folder_of, share_place
        from nbshelf.safepath import UnsafePath

        root, folder = Path(target_source.path), folder_of(relpath)
        written = 0
        for copy in sorted(copies, key=lambda c: c.path):
            where = f"{target_source.name}:{(Path(folder) / copy.path).as_posix()}"
            try:
                placed = share_place(root, folder, copy.path)
                placed.parent.mkdir(parents=True, exist_ok=True)
                # again, now that its folders exist: one made meanwhile must not lead out
                placed = share_place(root, folder, copy.path)
                with target_lock(placed, where):
                    written += self._copy_one(copy, placed)
            except (UnsafePath, DataFileRefused) as err:
                raise PublishError(f"{where} cannot be published: {err}; the notebook was "
                                   "not written") from None
            except OSError as err:
                raise PublishError(f"cannot write {where}: {err.strerror or err}; the "
                                   "notebook was not written") from None
        return written

    @staticmethod
    def _copy_one(copy: Copy, placed: Path) -> int:
        from nbshelf.publish.datafiles import copy_into_share

        return int(copy_into_share(copy, placed))

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


def _sentence(text: str) -> str:
    """A message as a sentence for the window: capital first letter, full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
