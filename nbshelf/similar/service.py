"""The similarity model of a library: built from the catalog, kept in ``<library>/similar``.

The model is derived data. It is built from the catalog's present contents and their blobs,
saved into a fresh folder that replaces the old one only when complete, and loaded lazily.
The folder also keeps the tokens of every content the model covers (``cache``), so a refit
reads only the blobs of contents that are new.
A missing, damaged or old model is rebuilt, never an error. Between refits, notebooks the
model does not cover are answered by cold start; a refit is due when more than a tenth of the
library changed (``Coverage.needs_refit``).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import orjson
from sqlalchemy import Engine

from nbshelf.catalog import queries
from nbshelf.catalog.queries import present_places
from nbshelf.errors import SimilarLearning
from nbshelf.progress import ProgressFn
from nbshelf.records import Place
from nbshelf.similar.cache import (
    TOKENS_FILE,
    ContentRow,
    TableMerger,
    TokenTable,
    read_contents,
    summary_key,
)
from nbshelf.similar.features import Features, features_of_blob
from nbshelf.similar.model import Coverage, Neighbour, SimilarModel, Weights
from nbshelf.store import BlobStore

if TYPE_CHECKING:
    from nbshelf.similar.related import RelatedTerms

log = logging.getLogger(__name__)

#: Contents read per batch: the unit of progress, cancellation and work for a process.
BATCH = 250
#: Beside the model folder, while a library's first model is being learned: the writer
#: makes it when a sync begins without a model (``Library.sync``'s ``LEARNING_MARKER``),
#: and ``rebuild`` removes it once the model is saved.
LEARNING_SUFFIX = ".learning"


def present_hashes(engine: Engine) -> set[str]:
    """The contents that have at least one present (not removed) notebook."""
    with engine.connect() as conn:
        return set(queries.present_hashes(conn))


def present_contents(engine: Engine) -> list[ContentRow]:
    """What the model needs from the catalog about each present content, by hash."""
    with engine.connect() as conn:
        # The JSON columns come as text, decoded here by orjson (see present_content_texts).
        rows = queries.present_content_texts(conn)
    return [(r[0], r[1] or "", _json_list(r[2]), _json_list(r[3]), r[4]) for r in rows]


def _json_list(text: str | None) -> list[str]:
    """A JSON list of strings from the catalog ([] for NULL or anything else)."""
    if not text:
        return []
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:  # orjson refuses lone surrogates; json reads them
        value = json.loads(text)
    return list(value) if isinstance(value, list) else []


def build_model(
    engine: Engine,
    store: BlobStore,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    *,
    weights: Weights | None = None,
    procs: int = 1,
) -> SimilarModel | None:
    """Fit a model to the library's present contents, reading every blob; None when cancelled.

    Args:
        procs: processes that read notebooks and split them into tokens (the fit itself is
            one process). Extra processes are started with ``spawn``: safe beside Qt threads.
    """
    fitted = fit_library(engine, store, progress, cancel, weights=weights, procs=procs)
    return None if fitted is None else fitted[0]


def fit_library(
    engine: Engine,
    store: BlobStore,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    *,
    weights: Weights | None = None,
    procs: int = 1,
    cached: TokenTable | None = None,
) -> tuple[SimilarModel, TokenTable] | None:
    """Fit a model to the library's present contents; None when cancelled.

    Args:
        cached: the tokens of contents read before (``Similarity`` keeps them with the
            model): only the present contents it lacks are read from their blobs.

    Returns:
        The model, and the tokens of exactly the contents it covers (the next cache).
    """
    rows = present_contents(engine)
    keep, new = _split_known(rows, cached)
    merged = TableMerger()
    if cached is not None and keep:
        merged.add(cached)
    done = 0
    for table in _extracted(store, new, procs, cancel):
        merged.add(table)
        done = min(done + BATCH, len(new))
        if progress is not None:
            progress(done, len(new), "reading notebooks for similarity")
    if cancel is not None and cancel.is_set():
        return None  # stop before the fit: a partial model is of no use
    first_read = len(cached) if cached is not None and keep else 0
    table = merged.table()
    del merged, cached  # only the table below is needed from here on (peak memory)
    # The cached rows kept and every row read now; gone contents and their tokens drop out.
    table = table.select([*keep, *range(first_read, len(table))])
    model = SimilarModel.fit_tokens(table, weights)
    if progress is not None:
        progress(len(new), len(new), "similarity model fitted")
    return model, table


def _split_known(
    rows: list[ContentRow], cached: TokenTable | None
) -> tuple[list[int], list[ContentRow]]:
    """The cached rows of present contents (gone ones are left out), and the catalog rows of
    the contents that must be read: new ones, and ones whose catalog summary changed."""
    if cached is None or not len(cached):
        return [], rows
    at = {digest: i for i, digest in enumerate(cached.hashes)}
    keys = cached.keys.tolist()
    keep: list[int] = []
    new: list[ContentRow] = []
    for row in rows:
        i = at.get(row[0])
        if i is not None and keys[i] == summary_key(row):
            keep.append(i)
        else:
            new.append(row)
    return keep, new


def _extracted(
    store: BlobStore, rows: list[ContentRow], procs: int, cancel: threading.Event | None
) -> Iterator[TokenTable]:
    batches = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]
    if procs <= 1 or len(batches) < 2:
        for batch in batches:
            if cancel is not None and cancel.is_set():
                return
            yield read_contents(str(store.root), batch)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=procs, mp_context=context) as pool:
        futures = [pool.submit(read_contents, str(store.root), b) for b in batches]
        try:
            for future in futures:
                if cancel is not None and cancel.is_set():
                    return
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


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

    @property
    def learning_marker(self) -> Path:
        """The file that says the first model is being learned."""
        return self.folder.with_name(self.folder.name + LEARNING_SUFFIX)

    def learning(self) -> bool:
        """True while the library's first model is being learned: no model yet, and a sync
        that will fit one has begun (or was stopped: the next sync fits it)."""
        return self.model() is None and self.learning_marker.is_file()

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
        reuse: bool = True,
    ) -> SimilarModel | None:
        """Fit a new model from the catalog, save it (unless ``save`` is false: a read-only
        library) and use it from now on. None when cancelled (the old model stays).

        Contents whose tokens the saved cache holds are not read again (unless ``reuse`` is
        false: every blob is read, as for a new library); the new cache, of exactly the
        contents the new model covers, is saved with it.
        """
        # Loaded in the call, not kept here: fit_library lets go of it once merged.
        fitted = fit_library(
            self.engine, self.store, progress, cancel, weights=self.weights, procs=procs,
            cached=TokenTable.load(self.folder / TOKENS_FILE) if reuse else None,
        )  # fmt: skip
        if fitted is None:
            return None
        model, table = fitted
        if save:
            # The related terms (search by meaning) are fitted to this model and saved in
            # its new folder: the two are swapped in together, never one without the other.
            related = None if cancel is not None and cancel.is_set() else _related(model)
            if progress is not None and related is not None:
                progress(1, 1, "related terms learned")

            def extra(staging: Path) -> None:
                table.save(staging / TOKENS_FILE)
                if related is not None:
                    related.save(staging)

            model.save(self.folder, extra=extra)
            self.learning_marker.unlink(missing_ok=True)
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

        Raises:
            SimilarLearning: no model yet, and the writer is learning the library's first.
        """
        model = self.model()
        if model is None and self.learning_marker.is_file():
            # the writer is fitting the first model (a first sync): fitting another here, on
            # a library still arriving, would cost as much and tell less
            raise SimilarLearning
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
            row = queries.content_summary(conn, content_hash)
        if row is None:
            return None
        try:
            return features_of_blob(
                self.store.read(content_hash),
                title=row.title or "",
                headings=list(row.headings or []),
                imports=list(row.imports or []),
                language=row.language,
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
            digest = queries.content_hash_of(conn, notebook_id)
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


def _related(model: SimilarModel) -> RelatedTerms | None:
    """The related terms of a freshly fitted model, or None (a library too small to learn
    from, or a fit that failed: search by meaning waits for the next refit, search works)."""
    from nbshelf.similar.related import fit_related

    try:
        return fit_related(model)
    except (ValueError, np.linalg.LinAlgError, MemoryError) as err:
        log.warning("related terms not learned (search by meaning is off): %s", err)
        return None


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
