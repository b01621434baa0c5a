"""Related terms learned from the library: LSA over the similarity model's TF-IDF.

An analyst asks "combine two tables on a key"; the notebook says ``merge`` and ``join``.
The similarity model already weighs every notebook's code, prose and title terms; a
truncated SVD of that matrix (LSA) puts terms that occur in the same notebooks close
together, so ``merge`` in code lies near "combine" in prose wherever other notebooks say
both. Nothing is downloaded: the model is the library's own, refitted with the similarity
model and saved beside it (``related.npz`` in ``<library>/similar``).

Loading needs numpy only (no scikit-learn): a search loads it on the read lane. A missing,
old or damaged file, or a library too small to learn from, is no model: search by keyword.
"""

from __future__ import annotations

import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from nbshelf.similar.features import CODE, FIELDS, PROSE, TITLE
from nbshelf.similar.npzfile import write_npz

if TYPE_CHECKING:
    import scipy.sparse as sp

    from nbshelf.similar.model import SimilarModel

log = logging.getLogger(__name__)

#: The file, in the similarity model's folder.
RELATED_FILE = "related.npz"
#: Bump when the saved arrays change meaning: an older file is then no model until a refit.
RELATED_VERSION = 1
#: Fewer notebooks than this teach no relation worth trusting: keyword search only.
MIN_NOTEBOOKS = 20
#: A term must be in this many notebooks to be learned: one seen twice ties nothing.
MIN_DF = 3
#: The most terms kept (the most widespread): bounds the fit's time and memory at 50,000
#: notebooks, and the rare terms it leaves out are the ones keyword search finds anyway.
MAX_TERMS = 40_000
#: Dimensions of the space. A small library gets fewer, one per ``DOCS_PER_DIMENSION``
#: notebooks: with as many dimensions as a third of its notebooks, LSA keeps each notebook's
#: own words apart and learns no relation (49 notebooks in 6 topics: 8 dimensions put the
#: merge-only notebook at cosine 0.96 with "combine", 16 at 0.09).
DIMENSIONS = 150
DOCS_PER_DIMENSION = 6
#: Each notebook's strongest terms kept for reasons ("about: merge, join").
TOP_TERMS = 16
#: The fields learned together: code, prose and title (imports say little about meaning).
LEARNED = (CODE, PROSE, TITLE)
_FLOAT = np.float32
#: Rows handled at once when the learned columns are taken out of the similarity matrix.
_BLOCK_ROWS = 4096
#: Weights counted at once when the terms' notebook counts are taken (bincount widens them to
#: 64 bits: a slice, not all 44 million at 100k).
_COUNT_SLICE = 1 << 20


@dataclass
class RelatedTerms:
    """A fitted LSA space over a library's contents.

    Attributes:
        hashes: the contents, row for row.
        terms: the vocabulary (a term of one field), column for column.
        term_fields: each term's field (``FIELDS`` codes).
        spellings: how each term reads to a person ("" when it has no readable spelling).
        idf: each term's idf in the similarity model (a query word's weight).
        fold: terms x dimensions: a query's term vector times this is its place in the space.
        docs: contents x dimensions, unit rows: each notebook's place.
        top_terms: contents x ``TOP_TERMS`` term indices (-1: none), strongest first.
        top_weights: their TF-IDF weights in the notebook.
    """

    hashes: list[str]
    terms: list[str]
    term_fields: npt.NDArray[np.int8]
    spellings: list[str]
    idf: npt.NDArray[np.float32]
    fold: npt.NDArray[np.float32]
    docs: npt.NDArray[np.float32]
    top_terms: npt.NDArray[np.int32]
    top_weights: npt.NDArray[np.float32]
    _columns: list[dict[str, int]] | None = field(default=None, repr=False)
    _term_space: npt.NDArray[np.float32] | None = field(default=None, repr=False)
    _rows: dict[str, int] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.hashes)

    def row(self, digest: str) -> int | None:
        """The row of a content, or None when the model does not cover it."""
        if self._rows is None:
            self._rows = {h: i for i, h in enumerate(self.hashes)}
        return self._rows.get(digest)

    def column(self, f: int, term: str) -> int | None:
        """The column of field ``f``'s ``term``, or None when the model does not know it."""
        if self._columns is None:
            maps: list[dict[str, int]] = [{} for _ in FIELDS]
            for col, (t, tf) in enumerate(zip(self.terms, self.term_fields.tolist(),
                                              strict=True)):
                maps[tf][t] = col
            self._columns = maps
        return self._columns[f].get(term)

    def term_space(self) -> npt.NDArray[np.float32]:
        """Unit term vectors (terms x dimensions): two terms' dot product says how close
        they lie (used to explain a hit, never to rank it)."""
        if self._term_space is None:
            norms = np.linalg.norm(self.fold, axis=1, keepdims=True)
            self._term_space = (self.fold / np.maximum(norms, 1e-12)).astype(_FLOAT)
        return self._term_space

    def memory_bytes(self) -> int:
        """Roughly the memory the loaded model takes."""
        arrays: list[npt.NDArray[np.generic]] = [
            self.term_fields, self.idf, self.fold, self.docs, self.top_terms, self.top_weights]
        strings = sum(len(t) + 49 for t in self.terms) + sum(len(s) + 49 for s in self.spellings)
        return int(sum(a.nbytes for a in arrays) + strings + len(self.hashes) * 113)

    # -- on disk -----------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write ``related.npz`` into ``folder`` atomically (temp file, fsync, rename)."""
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".related-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                # deflated like the similarity model's arrays: the terms are fixed-width
                # UTF-32 strings, mostly padding (10k notebooks: 47.6 MB raw)
                write_npz(out, {
                    "version": np.array([RELATED_VERSION], dtype=np.int64),
                    "hashes": np.array(self.hashes, dtype="S64"),
                    "terms": np.array(self.terms, dtype=np.str_),
                    "spellings": np.array(self.spellings, dtype=np.str_),
                    "term_fields": self.term_fields, "idf": self.idf, "fold": self.fold,
                    "docs": self.docs, "top_terms": self.top_terms,
                    "top_weights": self.top_weights,
                })  # fmt: skip
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, folder / RELATED_FILE)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, folder: Path) -> RelatedTerms | None:
        """The model saved in ``folder``; None when there is none, it is of another version,
        or it is damaged in any way (said once in the log: search goes on by keyword)."""
        path = Path(folder) / RELATED_FILE
        try:
            # Opened here so that it is closed even when numpy fails to read it.
            with open(path, "rb") as file, np.load(file, allow_pickle=False) as arrays:
                if int(arrays["version"][0]) != RELATED_VERSION:
                    return None  # an older file: the next refit replaces it
                model = cls(
                    [h.decode("ascii") for h in arrays["hashes"]],
                    [str(t) for t in arrays["terms"]],
                    arrays["term_fields"].astype(np.int8),
                    [str(s) for s in arrays["spellings"]],
                    arrays["idf"].astype(_FLOAT),
                    arrays["fold"].astype(_FLOAT),
                    arrays["docs"].astype(_FLOAT),
                    arrays["top_terms"].astype(np.int32),
                    arrays["top_weights"].astype(_FLOAT),
                )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, IndexError, TypeError, EOFError,
                UnicodeDecodeError, zipfile.BadZipFile) as err:
            log.info("search by meaning is off until the next refit: %s is unreadable (%s)",
                     path, err)
            return None
        if not model._consistent():
            log.info("search by meaning is off until the next refit: %s is inconsistent", path)
            return None
        return model

    def _consistent(self) -> bool:
        n, v = len(self.hashes), len(self.terms)
        k = self.fold.shape[1] if self.fold.ndim == 2 else -1
        return (
            v == len(self.spellings) == len(self.idf) == len(self.term_fields) == len(self.fold)
            and self.docs.shape == (n, k) and k > 0
            and self.top_terms.shape == self.top_weights.shape
            and len(self.top_terms) == n
            and (not self.top_terms.size or int(self.top_terms.max()) < v)
            and bool(np.isfinite(self.docs).all() and np.isfinite(self.fold).all())
        )


# -- fitting -------------------------------------------------------------------------------


def fit_related(model: SimilarModel, *, dimensions: int = DIMENSIONS,
                max_terms: int = MAX_TERMS) -> RelatedTerms | None:
    """Fit the LSA space to a similarity model's TF-IDF matrix; None when the library is too
    small to learn from (fewer than ``MIN_NOTEBOOKS`` contents, or too few shared terms).

    Args:
        model: the fitted similarity model (its matrix is documents x terms, rows weighted
            per field and normalised).
        dimensions: the most dimensions (a small library gets fewer).
        max_terms: the most terms kept, the most widespread first.
    """
    n = len(model.hashes)
    if n < MIN_NOTEBOOKS:
        return None
    columns = _learned_columns(model, max_terms)
    k = min(dimensions, n // DOCS_PER_DIMENSION, len(columns) - 1)
    if k < 2:
        return None
    from sklearn.decomposition import TruncatedSVD  # scikit-learn only where a fit happens
    from sklearn.preprocessing import normalize

    matrix = _columns_of(model.matrix, columns)
    # rows to unit length in place: at 100,000 notebooks the matrix holds 44 million
    # weights (350 MB), and each copy of it counted against the refit's memory budget
    normalize(matrix, norm="l2", copy=False)
    svd = TruncatedSVD(n_components=k, algorithm="randomized", n_iter=5, random_state=0)
    # (the explained variance it also computes divides by zero for a library whose
    # notebooks are all alike: a ratio nothing here reads)
    with np.errstate(divide="ignore", invalid="ignore"):
        docs = svd.fit_transform(matrix).astype(_FLOAT)
    if not (np.isfinite(docs).all() and np.isfinite(svd.components_).all()):
        return None
    docs /= np.maximum(np.linalg.norm(docs, axis=1, keepdims=True), 1e-12)
    fold = np.ascontiguousarray(svd.components_.T, dtype=_FLOAT)
    top_terms, top_weights = _top_terms(matrix, TOP_TERMS)
    return RelatedTerms(
        list(model.hashes),
        [model.terms[c] for c in columns.tolist()],
        model.term_fields[columns].astype(np.int8),
        [_reason_spelling(model, c) for c in columns.tolist()],
        model.idf[columns].astype(_FLOAT),
        fold,
        docs,
        top_terms,
        top_weights,
    )


def _reason_spelling(model: SimilarModel, column: int) -> str:
    """How a term reads in a reason: "" for a word of the languages (``def``) or of every
    tutorial (``per``, ``you``): the similarity model's own rule for its reasons."""
    from nbshelf.similar.model import KEYWORDS, is_filler

    spelling = model.spellings[column]
    if not spelling or spelling.lower() in KEYWORDS or is_filler(spelling):
        return ""
    return spelling


def _learned_columns(model: SimilarModel, max_terms: int) -> npt.NDArray[np.int64]:
    """The columns learned: code, prose and title terms in at least ``MIN_DF`` notebooks,
    the ``max_terms`` most widespread of them, in column order."""
    # counted a slice at a time: bincount widens its input to 64 bits (350 MB at 100k)
    indices = model.matrix.indices
    df = np.zeros(len(model.terms), dtype=np.int64)
    for start in range(0, len(indices), _COUNT_SLICE):
        df += np.bincount(indices[start:start + _COUNT_SLICE], minlength=len(df))
    wanted = np.isin(model.term_fields, LEARNED) & (df >= MIN_DF)
    candidates = np.flatnonzero(wanted)
    if len(candidates) > max_terms:
        # most widespread first; the column breaks ties so a refit keeps the same terms
        order = np.lexsort((candidates, -df[candidates]))[:max_terms]
        candidates = np.sort(candidates[order])
    return candidates.astype(np.int64)


def _columns_of(matrix: sp.csr_matrix, columns: npt.NDArray[np.int64]) -> sp.csr_matrix:
    """The matrix with only ``columns`` (sorted), renumbered, as float32, built from its
    arrays a block of rows at a time into arrays of the final size: scipy's column indexing
    goes through a transposed copy of the whole matrix (at 100,000 notebooks each copy is
    ~350 MB, against the refit's memory budget)."""
    import scipy.sparse as sp

    renumber = np.full(matrix.shape[1], -1, dtype=np.int32)
    renumber[columns] = np.arange(len(columns), dtype=np.int32)
    rows = matrix.shape[0]
    blocks = [(first, min(first + _BLOCK_ROWS, rows)) for first in range(0, rows, _BLOCK_ROWS)]
    # each row's kept count first, so that the result is allocated once
    indptr = np.zeros(rows + 1, dtype=np.int64)
    for first, last in blocks:
        lo, hi = int(matrix.indptr[first]), int(matrix.indptr[last])
        kept_before = np.concatenate(([0], np.cumsum(renumber[matrix.indices[lo:hi]] >= 0)))
        local = matrix.indptr[first:last + 1] - lo
        indptr[first + 1:last + 1] = indptr[first] + kept_before[local[1:]]
    data = np.empty(int(indptr[-1]), dtype=_FLOAT)
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    for first, last in blocks:
        lo, hi = int(matrix.indptr[first]), int(matrix.indptr[last])
        new_columns = renumber[matrix.indices[lo:hi]]
        keep = new_columns >= 0
        out = slice(int(indptr[first]), int(indptr[last]))
        data[out] = matrix.data[lo:hi][keep]
        indices[out] = new_columns[keep]
    return sp.csr_matrix((data, indices, indptr), shape=(rows, len(columns)))


def _top_terms(
    matrix: sp.csr_matrix, top: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """Each row's ``top`` strongest columns (-1 past a row's end) and their weights."""
    n = matrix.shape[0]
    terms = np.full((n, top), -1, dtype=np.int32)
    weights = np.zeros((n, top), dtype=_FLOAT)
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    for row in range(n):
        start, end = indptr[row], indptr[row + 1]
        if start == end:
            continue
        values = data[start:end]
        best = np.argsort(-values, kind="stable")[:top]
        terms[row, : len(best)] = indices[start:end][best]
        weights[row, : len(best)] = values[best]
    return terms, weights
