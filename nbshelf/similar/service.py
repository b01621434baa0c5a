"""The similarity model of a library: built from the catalog, kept in ``<library>/similar``.

The model is derived data. It is built from the catalog's present contents and their blobs,
saved into a fresh folder that replaces the old one only when complete, and loaded lazily.
A missing, damaged or old model is rebuilt, never an error. Between refits, notebooks the
model does not cover are answered by cold start; a refit is due when more than a tenth of the
library changed (``Coverage.needs_refit``).
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select

from nbshelf.catalog.models import Content, Notebook
from nbshelf.catalog.queries import Place, present_places
from nbshelf.similar.features import Features, features_of_blob
from nbshelf.similar.model import Coverage, Neighbour, SimilarModel, Weights
from nbshelf.store import BlobStore

ProgressFn = Callable[[int, int, str], None]
#: Contents read per batch: the unit of progress, cancellation and work for a process.
BATCH = 250

#: (hash, title, headings, imports, language) of one content, as the catalog has it.
ContentRow = tuple[str, str, list[str], list[str], str | None]


def present_hashes(engine: Engine) -> set[str]:
    """The contents that have at least one present (not removed) notebook."""
    with engine.connect() as conn:
        return set(
            conn.execute(
                select(Notebook.content_hash).where(Notebook.removed_at.is_(None)).distinct()
            ).scalars()
        )


def present_contents(engine: Engine) -> list[ContentRow]:
    """What the model needs from the catalog about each present content, by hash."""
    with engine.connect() as conn:
        present = (
            select(Notebook.content_hash).where(Notebook.removed_at.is_(None)).distinct()
        ).subquery()
        rows = conn.execute(
            select(Content.hash, Content.title, Content.headings, Content.imports, Content.language)
            .where(Content.hash.in_(select(present.c.content_hash)))
            .order_by(Content.hash)
        ).all()
    return [(r[0], r[1] or "", list(r[2] or []), list(r[3] or []), r[4]) for r in rows]


def build_model(
    engine: Engine,
    store: BlobStore,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    *,
    weights: Weights | None = None,
    procs: int = 1,
) -> SimilarModel | None:
    """Fit a model to the library's present contents; None when cancelled.

    Args:
        procs: processes that read and analyse notebooks (the fit itself is one process).
            Extra processes are started with ``spawn``: safe beside Qt threads.
    """
    rows = present_contents(engine)

    def items() -> Iterator[tuple[str, Features]]:
        done = 0
        for batch in _extracted(store, rows, procs, cancel):
            yield from batch
            done = min(done + BATCH, len(rows))
            if progress is not None:
                progress(done, len(rows), "reading notebooks for similarity")
        if cancel is not None and cancel.is_set():
            raise _Cancelled  # stop before the fit: a partial model is of no use

    try:
        model = SimilarModel.fit_stream(items(), weights)
    except _Cancelled:
        return None
    if progress is not None:
        progress(len(rows), len(rows), "similarity model fitted")
    return model


class _Cancelled(Exception):
    """Raised inside ``build_model`` only, to leave the fit when cancel is set."""


def _extracted(
    store: BlobStore, rows: list[ContentRow], procs: int, cancel: threading.Event | None
) -> Iterator[list[tuple[str, Features]]]:
    batches = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]
    if procs <= 1 or len(batches) < 2:
        for batch in batches:
            if cancel is not None and cancel.is_set():
                return
            yield extract_batch(str(store.root), batch)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=procs, mp_context=context) as pool:
        futures = [pool.submit(extract_batch, str(store.root), b) for b in batches]
        try:
            for future in futures:
                if cancel is not None and cancel.is_set():
                    return
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def extract_batch(store_root: str, rows: Sequence[ContentRow]) -> list[tuple[str, Features]]:
    """Features of a batch of contents read from the blob store (a missing blob is skipped:
    the next sync copies it again, and the next refit takes it in)."""
    store = BlobStore(Path(store_root))
    found: list[tuple[str, Features]] = []
    for digest, title, headings, imports, language in rows:
        try:
            data = store.read(digest)
            feats = features_of_blob(
                data, title=title, headings=headings, imports=imports, language=language
            )
        except (OSError, ValueError):
            continue
        found.append((digest, feats))
    return found


# -- the library's model -------------------------------------------------------------------


@dataclass(frozen=True)
class SimilarNotebook:
    """One notebook in a "similar" list: a place, and why it is there.

    ``also_at`` holds the other present places of the same neighbour content (its identical
    copies), which the list shows once.
    """

    id: int
    source: str
    path: str
    title: str
    score: float
    relation: str
    reasons: list[str]
    shared: list[str] = field(default_factory=list)
    also_at: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """The contract's result object (``nbshelf similar --json``)."""
        return {
            "id": self.id, "source": self.source, "path": self.path, "title": self.title,
            "score": self.score, "relation": self.relation, "reasons": list(self.reasons),
        }  # fmt: skip


class Similarity:
    """The model folder ``<library>/similar`` and the work of keeping it current.

    Not thread-safe beyond this: ``model()`` may be read while another thread runs
    ``rebuild``; the new model replaces the old one in one assignment when it is saved.
    """

    def __init__(
        self, folder: Path, engine: Engine, store: BlobStore, *, weights: Weights | None = None
    ) -> None:
        self.folder = folder
        self.engine = engine
        self.store = store
        self.weights = weights or Weights()
        self._model: SimilarModel | None = None
        self._loaded = False
        self._lock = threading.Lock()

    def model(self) -> SimilarModel | None:
        """The saved model (loaded once), or None when there is none usable."""
        if not self._loaded:
            model = SimilarModel.load(self.folder)
            if model is not None and model.weights != self.weights:
                model = None  # tuned anew since it was saved: rebuild with today's weights
            with self._lock:
                self._model, self._loaded = model, True
        return self._model

    def coverage(self) -> Coverage | None:
        """How the model compares with the catalog now; None when there is no model."""
        model = self.model()
        return None if model is None else model.coverage(present_hashes(self.engine))

    def needs_rebuild(self, share: float = 0.10) -> bool:
        """True when the model is missing, unusable, or more than ``share`` out of date."""
        coverage = self.coverage()
        return coverage is None or coverage.needs_refit(share)

    def rebuild(
        self,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        *,
        procs: int = 1,
        save: bool = True,
    ) -> SimilarModel | None:
        """Fit a new model from the catalog, save it (unless ``save`` is false: a read-only
        library) and use it from now on. None when cancelled (the old model stays)."""
        model = build_model(
            self.engine, self.store, progress, cancel, weights=self.weights, procs=procs
        )
        if model is None:
            return None
        if save:
            model.save(self.folder)
        with self._lock:
            self._model, self._loaded = model, True
        return model

    def refresh(
        self,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        *,
        share: float = 0.10,
        procs: int = 1,
        save: bool = True,
    ) -> bool:
        """Rebuild the model when it is missing or more than ``share`` out of date; return
        whether it was rebuilt. Meant for the background after a sync."""
        if not self.needs_rebuild(share):
            return False
        return self.rebuild(progress, cancel, procs=procs, save=save) is not None

    def clear_leftovers(self) -> None:
        """Remove the folders a killed ``save`` left behind (the lock holder calls this)."""
        import shutil

        for suffix in (".new", ".old"):
            shutil.rmtree(self.folder.parent / f"{self.folder.name}{suffix}", ignore_errors=True)

    def neighbours(self, content_hash: str, limit: int = 10) -> list[Neighbour]:
        """Neighbours of a content: from the model when it covers it, else by cold start.

        A library without a model gets one fitted in memory (and not saved: the caller
        decides when to save, see ``refresh``). Identical copies are not listed here: they
        share ``content_hash``; ``similar`` adds them.
        """
        model = self.model()
        if model is None:
            model = self.rebuild(save=False)
        if model is None:
            return []
        if content_hash in model:
            return model.neighbours(content_hash, limit)
        feats = self._features(content_hash)
        if feats is None:
            return []
        return model.neighbours_for(feats, limit, exclude=[content_hash])

    def _features(self, content_hash: str) -> Features | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(Content.title, Content.headings, Content.imports, Content.language).where(
                    Content.hash == content_hash
                )
            ).first()
        if row is None:
            return None
        try:
            return features_of_blob(
                self.store.read(content_hash),
                title=row[0] or "",
                headings=list(row[1] or []),
                imports=list(row[2] or []),
                language=row[3],
            )
        except (OSError, ValueError):
            return None

    def similar(self, notebook_id: int, limit: int = 10) -> list[SimilarNotebook]:
        """The notebooks most like notebook ``notebook_id``, as the ``similar`` command lists
        them: its identical copies first (relation ``same``), then near copies, then
        similar notebooks; never the notebook itself. Removed notebooks are left out.

        Raises:
            KeyError: there is no notebook with this id.
        """
        with self.engine.connect() as conn:
            digest = conn.execute(
                select(Notebook.content_hash).where(Notebook.id == notebook_id)
            ).scalar_one_or_none()
        if digest is None:
            raise KeyError(notebook_id)
        # A neighbour content may have no present place any more (the model is older than
        # the catalog): ask for more than needed, and let the places decide.
        neighbours = self.neighbours(digest, limit + 10)
        places = self.places([digest, *(n.content_hash for n in neighbours)])
        return arrange(notebook_id, digest, neighbours, places, limit)

    def places(self, hashes: Sequence[str]) -> dict[str, list[Place]]:
        """The present places of contents, in a stable order (source name, path)."""
        with self.engine.connect() as conn:
            return present_places(conn, list(hashes))


def arrange(
    notebook_id: int,
    content_hash: str,
    neighbours: Sequence[Neighbour],
    places: dict[str, list[Place]],
    limit: int,
) -> list[SimilarNotebook]:
    """Build the final "similar" list of one notebook from its content's neighbours.

    Its identical copies come first (relation ``same``, score 1), then each neighbour once,
    at its first present place, with its other places in ``also_at``; neighbours without a
    present place are dropped. The notebook itself is never listed.
    """
    results: list[SimilarNotebook] = []
    for place in places.get(content_hash, []):
        if place.id != notebook_id:
            results.append(
                SimilarNotebook(
                    place.id,
                    place.source,
                    place.path,
                    place.title,
                    1.0,
                    "same",
                    ["identical content"],
                )
            )
    for neighbour in neighbours:
        where = [p for p in places.get(neighbour.content_hash, []) if p.id != notebook_id]
        if not where:
            continue
        first = where[0]
        results.append(
            SimilarNotebook(
                first.id,
                first.source,
                first.path,
                first.title,
                neighbour.score,
                neighbour.relation,
                list(neighbour.reasons),
                list(neighbour.shared),
                [p.id for p in where[1:]],
            )
        )
    return results[: max(0, limit)]
