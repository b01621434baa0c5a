"""The similarity model: TF-IDF vectors per distinct content, cosine neighbours, reasons.

Each field (code, prose, title and headings, imported modules) gets its own TF-IDF block
(scikit-learn's ``TfidfTransformer``: sublinear term frequency, smoothed idf), normalised on
its own and weighted, so a notebook's long code cannot drown its title, and a notebook
without markdown is compared on what it has. The blocks together are normalised again: the
dot product of two rows is their cosine, in [0, 1].

Only terms that at least two contents share are stored (a term of one content can never make
two contents alike), but every term counts in the norms, so scores are exact cosines. Rows
are kept as CSR and, transposed, as an inverted index: the neighbours of a content cost the
postings of its own terms, not a pass over the library.

Copies are told apart by their lines, not their terms: a near copy shares most of its
(non-boilerplate) lines with the other notebook: an edited copy, a second edition, a
translation whose code did not change.
"""

from __future__ import annotations

import json
import keyword
import os
import re
import shutil
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import chain
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from sqlalchemy import Engine

from nbshelf.notebook import ParsedNotebook
from nbshelf.similar.cache import TokenTable
from nbshelf.similar.features import (
    FIELDS,
    IMPORT,
    PROSE,
    TITLE,
    Features,
    features_of,
    sketch_overlap,
    token_spellings,
    token_terms,
)
from nbshelf.similar.npzfile import write_npz
from nbshelf.store import BlobStore, atomic_write

#: Bump when the saved form or the features change: an older model is then rebuilt.
FORMAT_VERSION = "1"
#: A neighbour must score at least this: below it two notebooks share only common words.
MIN_SCORE = 0.05
#: Share of lines two notebooks must have in common to be near copies of each other.
NEAR_COPY_OVERLAP = 0.5
#: ...counted over at least this many lines on each side (two one-liners are not copies).
NEAR_COPY_MIN_LINES = 3
#: Or a cosine this high: a translation or a reworded edition shares its terms, not its
#: lines. On the corpus these two rules label 70% of known copy pairs and 4.6% of the other
#: top-5 neighbours of book chapters (some of those are copies the corpus does not name).
NEAR_COPY_SCORE = 0.8
#: A line in this share of all contents (and in at least ``BOILERPLATE_MIN`` of them) is
#: boilerplate (``import numpy as np``, ``%matplotlib inline``): it proves no copying.
BOILERPLATE_SHARE = 0.01
BOILERPLATE_MIN = 10
#: Reasons name at most this many shared terms.
MAX_REASON_TERMS = 6
_FLOAT = np.float32


@dataclass(frozen=True)
class Weights:
    """How much each field counts, and how term frequencies are damped.

    The defaults were tuned on the real notebooks of ``../shared/corpus`` with
    ``bench/similar_eval.py --tune`` (a grid over prose, title and import weights with code
    at 1): the mean of copies hit@1, copies precision@5 and book-chapter precision@5 peaks at
    prose 1, title 0.7, imports 0.25 with sublinear tf (0.854; all weights 1 gives 0.82,
    code alone 0.66; raw tf instead of 1 + log tf loses 0.03). Imports weigh little because
    most notebooks import the same few modules; prose weighs as much as code because the
    chapters of one book are told apart by what they explain more than by ``np`` and ``plt``.
    """

    code: float = 1.0
    prose: float = 1.0
    title: float = 0.7
    imports: float = 0.25
    sublinear_tf: bool = True

    def by_field(self) -> npt.NDArray[np.float64]:
        """The weights in ``FIELDS`` order."""
        return np.array([self.code, self.prose, self.title, self.imports], dtype=np.float64)


@dataclass(frozen=True)
class Neighbour:
    """A content like the one asked about.

    Attributes:
        content_hash: the neighbour's content (the caller maps it to its places).
        score: cosine similarity in [0, 1].
        relation: ``"same"`` (identical content, added by the caller), ``"near-copy"`` or
            ``"similar"``.
        reasons: sentences a user can read, such as ``shared: groupby, pivot_table, pandas``.
        shared: the shared distinctive terms and modules behind ``reasons``, strongest first.
        overlap: the share of (non-boilerplate) lines the two have in common, in [0, 1].
    """

    content_hash: str
    score: float
    relation: str
    reasons: list[str] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)
    overlap: float = 0.0


@dataclass(frozen=True)
class Coverage:
    """How the contents a model covers compare with the library's contents now."""

    covered: int
    new: int
    gone: int

    @property
    def stale(self) -> bool:
        """True when the library has contents the model lacks, or the other way round."""
        return bool(self.new or self.gone)

    def needs_refit(self, share: float = 0.10) -> bool:
        """True when more than ``share`` of the library changed since the model was fitted.

        Until then new notebooks are answered by cold start (``neighbours_for``), and gone
        ones are skipped by the caller, which maps contents to present places.
        """
        return self.new + self.gone > share * max(1, self.covered + self.new)


class SimilarModel:
    """A fitted model over a set of distinct contents (immutable once made)."""

    def __init__(
        self,
        hashes: list[str],
        matrix: sp.csr_matrix,
        terms: list[str],
        term_fields: npt.NDArray[np.int8],
        idf: npt.NDArray[np.float64],
        spellings: list[str],
        sketches: tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]],
        boilerplate: npt.NDArray[np.uint32],
        weights: Weights,
    ) -> None:
        self.hashes = hashes
        self.matrix = matrix
        self.terms = terms
        self.term_fields = term_fields
        self.idf = idf
        self.spellings = spellings
        self.sketch_data, self.sketch_ptr = sketches
        self.boilerplate = boilerplate
        self.weights = weights
        self._rows = {h: i for i, h in enumerate(hashes)}
        # The inverted index: row t lists the contents holding term t.
        self._postings = sp.csr_matrix(matrix.T)
        self._columns: list[dict[str, int]] | None = None

    # -- making ------------------------------------------------------------------------------

    @classmethod
    def fit(
        cls, hashes: Sequence[str], features: Sequence[Features], weights: Weights | None = None
    ) -> SimilarModel:
        """Fit a model to contents and their features (``hashes[i]`` has ``features[i]``)."""
        return cls.fit_stream(zip(hashes, features, strict=True), weights)

    @classmethod
    def fit_stream(
        cls, items: Iterable[tuple[str, Features]], weights: Weights | None = None
    ) -> SimilarModel:
        """Fit a model to (content hash, features) pairs, taking each in as it comes.

        Each notebook's term counts become compact arrays at once, so a library of 50,000
        notebooks never holds 50,000 dictionaries of terms.
        """
        taken = _Accumulator()
        for digest, features in items:
            taken.add(digest, features)
        counts: list[sp.csr_matrix] = []
        vocabularies: list[list[str]] = []
        for f in range(len(FIELDS)):
            matrix, vocabulary = taken.count_matrix(f)
            counts.append(matrix)
            vocabularies.append(vocabulary)
        spellings = [_choose_spellings(votes) for votes in taken.votes]
        return cls._fit_counts(
            taken.hashes, counts, vocabularies, spellings, _joined(taken.lines), weights
        )

    @classmethod
    def fit_tokens(cls, table: TokenTable, weights: Weights | None = None) -> SimilarModel:
        """Fit a model to a table of contents' tokens (``cache.TokenTable``), row for row.

        Each distinct token is analysed once, into a tokens x terms matrix; a field's term
        counts are then its token counts times that matrix, in C. Terms are sorted, so the
        model does not depend on the order tokens were met in: a refit from the cache and a
        fit from the blobs give the same model.
        """
        counts: list[sp.csr_matrix] = []
        vocabularies: list[list[str]] = []
        spellings: list[dict[str, str]] = []
        for f in range(len(FIELDS)):
            matrix, vocabulary = _term_counts(f, table.tokens[f], table.counts[f])
            counts.append(matrix)
            vocabularies.append(vocabulary)
            if f != IMPORT:
                spellings.append(_token_spellings(f, table.tokens[f], table.counts[f]))
        return cls._fit_counts(
            table.hashes, counts, vocabularies, spellings, (table.line_data, table.line_ptr),
            weights,
        )  # fmt: skip

    @classmethod
    def _fit_counts(
        cls,
        hashes: list[str],
        counts: list[sp.csr_matrix],
        vocabularies: list[list[str]],
        spellings: list[dict[str, str]],
        lines: tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]],
        weights: Weights | None,
    ) -> SimilarModel:
        """Fit from each field's documents x terms counts (float64) and terms in column order.

        ``counts`` is consumed: each field's matrix is dropped once weighted (peak memory).
        """
        weights = weights or Weights()
        n = len(hashes)
        blocks: list[sp.csr_matrix] = []
        norms = np.zeros((n, len(FIELDS)), dtype=np.float64)
        terms: list[str] = []
        fields: list[npt.NDArray[np.int8]] = []
        idfs: list[npt.NDArray[np.float64]] = []
        fitted: list[tuple[int, sp.csr_matrix, list[str], TfidfTransformer, npt.NDArray[np.intp]]]
        fitted = []
        for f in range(len(FIELDS)):
            vocabulary = vocabularies[f]
            if not vocabulary:
                continue
            tfidf = TfidfTransformer(norm=None, sublinear_tf=weights.sublinear_tf)
            weighted = sp.csr_matrix(tfidf.fit_transform(counts[f]), dtype=np.float64)
            norms[:, f] = np.sqrt(_row_sums(weighted, weighted.data**2))
            keep = np.flatnonzero(np.bincount(counts[f].indices, minlength=len(vocabulary)) >= 2)
            counts[f] = sp.csr_matrix((n, 0))  # the weighted matrix holds them now
            fitted.append((f, weighted, vocabulary, tfidf, keep))
        # Scales need every field's norms: a row's share of each field depends on all of them.
        # Each field's weighted matrix is dropped once its block is made (peak memory).
        while fitted:
            f, weighted, vocabulary, tfidf, keep = fitted.pop(0)
            blocks.append(_kept_scaled(weighted, keep, _row_scale(norms, f, weights)))
            del weighted
            terms.extend(vocabulary[i] for i in keep)
            fields.append(np.full(len(keep), f, dtype=np.int8))
            idfs.append(np.asarray(tfidf.idf_, dtype=np.float64)[keep])
        if blocks:
            matrix = sp.csr_matrix(sp.hstack(blocks, format="csr"), dtype=_FLOAT)
        else:
            matrix = sp.csr_matrix((n, 0), dtype=_FLOAT)
        matrix.eliminate_zeros()
        matrix.sort_indices()
        readable = _spellings(terms, np.concatenate(fields) if fields else [], spellings)
        sketches, boilerplate = _sketches(*lines)
        return cls(
            list(hashes),
            matrix,
            terms,
            np.concatenate(fields) if fields else np.zeros(0, dtype=np.int8),
            np.concatenate(idfs) if idfs else np.zeros(0),
            readable,
            sketches,
            boilerplate,
            weights,
        )

    @classmethod
    def build(
        cls,
        engine: Engine,
        store: BlobStore,
        progress: Callable[[int, int, str], None] | None = None,
        cancel: threading.Event | None = None,
        *,
        weights: Weights | None = None,
        procs: int = 1,
    ) -> SimilarModel | None:
        """Fit a model to a library's present contents (see ``service.build_model``);
        None when cancelled."""
        from nbshelf.similar.service import build_model

        return build_model(engine, store, progress, cancel, weights=weights, procs=procs)

    # -- asking ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.hashes)

    def __contains__(self, content_hash: object) -> bool:
        return content_hash in self._rows

    def neighbours(self, content_hash: str, limit: int = 10) -> list[Neighbour]:
        """The contents most like a content the model covers, near copies first.

        The content itself is never among them; identical copies elsewhere share its hash,
        so the caller lists them (relation ``"same"``, see ``service.arrange``).

        Raises:
            KeyError: the model does not cover this content (use ``neighbours_for``).
        """
        row = self._rows[content_hash]
        query = self.matrix[row]
        lines = self.sketch_data[self.sketch_ptr[row] : self.sketch_ptr[row + 1]]
        return self._rank(query, lines, limit, exclude={row})

    def neighbours_for(
        self,
        notebook: ParsedNotebook | Features,
        limit: int = 10,
        *,
        exclude: Iterable[str] = (),
    ) -> list[Neighbour]:
        """The covered contents most like a notebook the model has not seen (cold start).

        The notebook is weighed with the model's vocabulary and idf as it stands, so a
        notebook that arrived a minute ago gets neighbours before the next refit.

        Args:
            notebook: a parsed notebook, or features from ``nbshelf.similar.features``.
            limit: how many neighbours at most.
            exclude: content hashes to leave out (the notebook's own, if covered).
        """
        features = notebook if isinstance(notebook, Features) else features_of(notebook)
        query = self.vector(features)
        lines = self._without_boilerplate(features.lines)
        skip = {self._rows[h] for h in exclude if h in self._rows}
        return self._rank(query, lines, limit, exclude=skip)

    def vector(self, features: Features) -> sp.csr_matrix:
        """A notebook's row in this model's space (1 x terms), weighed as a fitted row is.

        Terms the model does not store still count in the norms (with the idf of a term one
        content has), so the scores are close to the ones it will have after a refit.
        """
        columns = self._column_maps()
        # A term no stored content has is the notebook's own: after a refit its df is 1.
        unseen_idf = float(np.log((1 + len(self.hashes)) / 2) + 1)
        norms = np.zeros((1, len(FIELDS)))
        parts: list[tuple[int, npt.NDArray[np.int64], npt.NDArray[np.float64]]] = []
        for f, counts in enumerate(features.terms):
            if not counts:
                continue
            found = np.array([columns[f].get(t, -1) for t in counts], dtype=np.int64)
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            if self.weights.sublinear_tf:
                tf = np.log(tf) + 1.0
            known = found >= 0
            idf = np.full(len(found), unseen_idf)
            idf[known] = self.idf[found[known]]
            weighted = tf * idf
            norms[0, f] = float(np.sqrt(np.dot(weighted, weighted)))
            parts.append((f, found[known], weighted[known]))
        if not any(len(cols) for _, cols, _ in parts):
            return sp.csr_matrix((1, len(self.terms)), dtype=_FLOAT)
        indices = np.concatenate([cols for _, cols, _ in parts])
        values = np.concatenate(
            [vals * _row_scale(norms, f, self.weights)[0] for f, _, vals in parts]
        )
        order = np.argsort(indices)
        return sp.csr_matrix(
            (values[order].astype(_FLOAT), indices[order], np.array([0, len(indices)])),
            shape=(1, len(self.terms)),
        )

    def coverage(self, current: Iterable[str]) -> Coverage:
        """Compare the covered contents with the library's present contents ``current``."""
        now = set(current)
        covered = sum(1 for h in now if h in self._rows)
        return Coverage(covered=covered, new=len(now) - covered, gone=len(self._rows) - covered)

    def memory_bytes(self) -> int:
        """Roughly the memory the loaded model takes (arrays, and its strings)."""
        arrays = [
            self.matrix.data, self.matrix.indices, self.matrix.indptr,
            self._postings.data, self._postings.indices, self._postings.indptr,
            self.idf, self.term_fields, self.sketch_data, self.sketch_ptr, self.boilerplate,
        ]  # fmt: skip
        strings = sum(len(t) + 49 for t in self.terms) + sum(len(s) + 49 for s in self.spellings)
        hashes = len(self.hashes) * (64 + 49) * 2  # the list and the row map
        maps = 0 if self._columns is None else len(self.terms) * 100
        return int(sum(a.nbytes for a in arrays) + strings + hashes + maps)

    # -- ranking and reasons -----------------------------------------------------------------

    def _rank(
        self,
        query: sp.csr_matrix,
        lines: npt.NDArray[np.uint32],
        limit: int,
        exclude: set[int],
    ) -> list[Neighbour]:
        if limit <= 0 or query.nnz == 0 or not len(self.hashes):
            return []
        scores = np.asarray((query @ self._postings).todense()).ravel()
        for row in exclude:
            scores[row] = 0.0
        want = min(len(scores), max(limit * 3, limit + 20))
        candidates = (
            np.argpartition(-scores, want - 1)[:want]
            if want < len(scores)
            else (np.arange(len(scores)))
        )
        candidates = candidates[scores[candidates] >= MIN_SCORE]
        found: list[Neighbour] = []
        for row in candidates:
            other = self.sketch_data[self.sketch_ptr[row] : self.sketch_ptr[row + 1]]
            overlap = float(copy_overlap(lines, other))
            score = float(min(1.0, max(0.0, scores[row])))
            near = overlap >= NEAR_COPY_OVERLAP or score >= NEAR_COPY_SCORE
            relation = "near-copy" if near else "similar"
            found.append(Neighbour(self.hashes[row], score, relation, [], [], overlap))
        found.sort(key=lambda n: (n.relation != "near-copy", -n.score, n.content_hash))
        return [self._explain(query, n) for n in found[:limit]]

    def _explain(self, query: sp.csr_matrix, neighbour: Neighbour) -> Neighbour:
        row = self.matrix[self._rows[neighbour.content_hash]]
        both, qi, ri = np.intersect1d(query.indices, row.indices, return_indices=True)
        contribution = query.data[qi].astype(np.float64) * row.data[ri]
        by_word: dict[str, float] = {}
        for col, value in zip(both, contribution, strict=True):
            word = self.spellings[col]
            prose = int(self.term_fields[col]) in (PROSE, TITLE)
            if word and word.lower() not in KEYWORDS and not (prose and is_filler(word)):
                by_word[word] = by_word.get(word, 0.0) + float(value)
        shared = _fold_parts(by_word)[:MAX_REASON_TERMS]
        reasons: list[str] = []
        if neighbour.relation == "near-copy" and neighbour.overlap >= NEAR_COPY_OVERLAP:
            reasons.append(f"near copy: {neighbour.overlap:.0%} of the lines are the same")
        elif neighbour.relation == "near-copy":
            reasons.append(f"near copy: {neighbour.score:.0%} alike in content")
        if shared:
            reasons.append("shared: " + ", ".join(shared))
        return Neighbour(
            neighbour.content_hash,
            round(neighbour.score, 4),
            neighbour.relation,
            reasons,
            shared,
            round(neighbour.overlap, 4),
        )

    def _column_maps(self) -> list[dict[str, int]]:
        if self._columns is None:
            maps: list[dict[str, int]] = [{} for _ in FIELDS]
            for col, (term, f) in enumerate(zip(self.terms, self.term_fields, strict=True)):
                maps[int(f)][term] = col
            self._columns = maps
        return self._columns

    def _without_boilerplate(self, lines: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
        if not len(self.boilerplate) or not len(lines):
            return lines
        return lines[~np.isin(lines, self.boilerplate, assume_unique=True)]

    # -- on disk -----------------------------------------------------------------------------

    def save(self, folder: Path, extra: Callable[[Path], None] | None = None) -> None:
        """Write the model to ``folder``: a new folder beside it, swapped in when complete.

        Args:
            extra: writes more files into the new folder before it is marked complete (the
                refit cache, which must stay with the model it was made with).
        """
        folder = Path(folder)
        staging = folder.parent / f"{folder.name}.new"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        with open(staging / "arrays.npz", "wb") as out:
            write_npz(out, {
                "data": self.matrix.data, "indices": self.matrix.indices,
                "indptr": self.matrix.indptr,
                "shape": np.array(self.matrix.shape, dtype=np.int64),
                "term_fields": self.term_fields, "idf": self.idf,
                "sketch_data": self.sketch_data, "sketch_ptr": self.sketch_ptr,
                "boilerplate": self.boilerplate,
                "hashes": np.array(self.hashes, dtype="S64"),
            })  # fmt: skip
            out.flush()
            os.fsync(out.fileno())
        words = {"terms": self.terms, "spellings": self.spellings, "weights": asdict(self.weights)}
        atomic_write(staging / "terms.json", json.dumps(words, ensure_ascii=False).encode())
        if extra is not None:
            extra(staging)
        atomic_write(staging / "VERSION", FORMAT_VERSION.encode())  # written last: complete
        old = folder.parent / f"{folder.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            os.replace(folder, old)
        os.replace(staging, folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> SimilarModel | None:
        """The model saved in ``folder``; None when it is missing, of another version or
        damaged in any way (the caller rebuilds it: it is derived data)."""
        folder = Path(folder)
        try:
            if (folder / "VERSION").read_text().strip() != FORMAT_VERSION:
                return None
            words = json.loads((folder / "terms.json").read_text("utf-8"))
            # The file is opened here so it is closed even when numpy fails to read it.
            with (
                open(folder / "arrays.npz", "rb") as file,
                np.load(file, allow_pickle=False) as arrays,
            ):
                shape = tuple(int(x) for x in arrays["shape"])
                matrix = sp.csr_matrix(
                    (arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape
                )
                hashes = [h.decode("ascii") for h in arrays["hashes"]]
                model = cls(
                    hashes,
                    matrix,
                    [str(t) for t in words["terms"]],
                    arrays["term_fields"],
                    arrays["idf"],
                    [str(s) for s in words["spellings"]],
                    (arrays["sketch_data"], arrays["sketch_ptr"]),
                    arrays["boilerplate"],
                    Weights(**words["weights"]),
                )
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
            return None
        if not model._consistent():
            return None
        return model

    def _consistent(self) -> bool:
        n, v = self.matrix.shape
        return (
            n == len(self.hashes) == len(self.sketch_ptr) - 1
            and v
            == len(self.terms)
            == len(self.spellings)
            == len(self.idf)
            == len(self.term_fields)
            and (not len(self.sketch_ptr) or int(self.sketch_ptr[-1]) == len(self.sketch_data))
            and (not self.matrix.nnz or int(self.matrix.indices.max()) < v)
        )


def copy_overlap(a: npt.NDArray[np.uint32], b: npt.NDArray[np.uint32]) -> float:
    """How much two notebooks' lines overlap, as a share in [0, 1].

    Code lines decide when both notebooks have enough of them (a translation keeps its code
    and changes its prose); otherwise, or when the whole notebook overlaps more (a markdown
    notebook, an exercise and its solution), all lines do.
    """
    code, na, nb = sketch_overlap(a, b, prose=False)
    best = code if min(na, nb) >= NEAR_COPY_MIN_LINES else 0.0
    both, na, nb = sketch_overlap(a, b)
    if min(na, nb) >= NEAR_COPY_MIN_LINES:
        best = max(best, both)
    return best


#: Words of the languages themselves: shared by all code in a language, never a reason.
KEYWORDS = frozenset(keyword.kwlist) | frozenset(
    "and as assert async await break class continue def del elif else end except false "
    "finally for from function global if import in is lambda let local module nonlocal not "
    "or pass print raise return self true try using val var while with yield library "
    "require struct begin mutable const".split()
)
#: Words of prose that every tutorial says ("you", "let's", "like", "now"): they weigh
#: little in the model, but a pair of chatty notebooks can still share them most; a reason
#: names what the notebooks are about. Left out of reasons only: the model keeps them, so
#: its scores (and bench/similar_eval.py's measure of them) are unchanged.
FILLER_WORDS = frozenset(
    "a about above after again all almost along already also although always am among an "
    "and another any anything are around as at back be because been before being below "
    "between both but by can cannot could did do does doing done down during each either "
    "else enough etc even ever every few first following for from further get gets getting "
    "go goes going got had has have having he her here hers him his how however i if in "
    "instead into is it its itself just last least less let lets like likely look lot lots "
    "made make makes many may maybe me might more most much must my need needs never new "
    "next no nor not note now of off often on once one only or other others our ours out "
    "over own per perhaps please pretty quite rather really right said same say see seen "
    "several shall she should show shown simply since so some something soon still such sure "
    "take than that the their theirs them then there these they thing things this those "
    "though through thus to together too took two under until up upon us use used uses "
    "using very via want wants was way we well were what whatever when where whether which "
    "while who whom whose why will with within without would yet you your yours yourself "
    "ok okay hello hi thanks thank".split()
)
_PARTS = re.compile(r"[._]+|(?<=[a-z0-9])(?=[A-Z])")


def is_filler(word: str) -> bool:
    """True for a prose word too common to be a reason (``you``, ``let's``, ``Like``)."""
    folded = word.casefold().replace("\u2019", "'")
    return folded in FILLER_WORDS or folded.removesuffix("'s").replace("'", "") in FILLER_WORDS


def _fold_parts(by_word: dict[str, float]) -> list[str]:
    """Shared words, strongest first, each part of a longer shared identifier folded into it:
    ``pivot`` and ``table`` read better as the ``pivot_table`` they come from."""
    # Only the strongest few can be shown: folding all of them would cost quadratic time.
    ranked = sorted(by_word, key=lambda w: (-by_word[w], w))[: MAX_REASON_TERMS * 6]
    weight = {w: by_word[w] for w in ranked}
    parts_of = {w: {p.lower() for p in _PARTS.split(w) if p} for w in ranked}
    kept: list[str] = []
    for word in sorted(ranked, key=lambda w: (-len(w), w)):
        whole = next(
            (k for k in kept if word.lower() in parts_of[k] and word.lower() != k.lower()), None
        )
        if whole is None:
            kept.append(word)
        else:
            weight[whole] += weight[word]
    return sorted(kept, key=lambda w: (-weight[w], w))


# -- fitting helpers -----------------------------------------------------------------------


class _Accumulator:
    """Notebooks' features taken in one by one: per field a vocabulary and each notebook's
    (column, count) arrays; how many notebooks spell each term each way; the line sketches.

    A new term gets the next free id by ``dict.setdefault`` over a range, which leaves gaps
    (a known term wastes its id) but runs in C; ids are made dense once, at the end.
    """

    def __init__(self) -> None:
        self.hashes: list[str] = []
        self.vocabularies: list[dict[str, int]] = [{} for _ in FIELDS]
        self.next_id = [0 for _ in FIELDS]
        self.columns: list[list[npt.NDArray[np.int64]]] = [[] for _ in FIELDS]
        self.counts: list[list[npt.NDArray[np.float32]]] = [[] for _ in FIELDS]
        self.votes: list[Counter[tuple[str, str]]] = [Counter() for _ in range(len(FIELDS) - 1)]
        self.lines: list[npt.NDArray[np.uint32]] = []

    def add(self, digest: str, features: Features) -> None:
        self.hashes.append(digest)
        for f, terms in enumerate(features.terms):
            start = self.next_id[f]
            ids = map(self.vocabularies[f].setdefault, terms, range(start, start + len(terms)))
            self.columns[f].append(np.fromiter(ids, np.int64, len(terms)))
            self.counts[f].append(np.fromiter(terms.values(), np.float32, len(terms)))
            self.next_id[f] = start + len(terms)
        for votes, spellings in zip(self.votes, features.spellings, strict=False):
            votes.update(spellings.items())  # each notebook votes once for its spelling
        self.lines.append(features.lines)

    def count_matrix(self, f: int) -> tuple[sp.csr_matrix, list[str]]:
        """Field ``f``'s documents x terms count matrix, and its terms in column order."""
        vocabulary = self.vocabularies[f]
        ids = np.fromiter(vocabulary.values(), np.int64, len(vocabulary))
        order = np.argsort(ids)
        terms = list(vocabulary)
        sizes = np.array([len(c) for c in self.columns[f]], dtype=np.int64)
        indptr = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=indptr[1:])
        columns, counts = self.columns[f], self.counts[f]
        raw = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
        matrix = sp.csr_matrix(
            (
                np.concatenate(counts).astype(np.float64) if counts else np.zeros(0),
                np.searchsorted(ids[order], raw),  # gapped ids -> dense columns
                indptr,
            ),
            shape=(len(sizes), len(vocabulary)),
        )
        matrix.sort_indices()
        self.columns[f], self.counts[f] = [], []  # the matrix holds them now
        return matrix, [terms[i] for i in order]


def _row_scale(norms: npt.NDArray[np.float64], f: int, weights: Weights) -> npt.NDArray[np.float64]:
    """Per row: the factor that turns field ``f``'s raw TF-IDF into its share of a unit row.

    Each field is normalised to its weight; the whole row is then normalised over the fields
    it has. A field a notebook lacks takes no share, so no division by zero anywhere.
    """
    w = weights.by_field()
    present = norms > 0
    total = np.sqrt((present * w**2).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(present[:, f] & (total > 0), w[f] / (norms[:, f] * total), 0.0)
    return scale


def _row_sums(matrix: sp.csr_matrix, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Per row of ``matrix``, the sum of ``values`` (one per stored entry), in entry order."""
    shape = matrix.shape
    summed = sp.csr_matrix((values, matrix.indices, matrix.indptr), shape=shape) @ np.ones(shape[1])
    return np.asarray(summed, dtype=np.float64)


def _kept_scaled(
    matrix: sp.csr_matrix, keep: npt.NDArray[np.intp], scale: npt.NDArray[np.float64]
) -> sp.csr_matrix:
    """The columns ``keep`` (sorted) of ``matrix``, each row times its ``scale``.

    Done on the CSR arrays: scipy's column indexing and diagonal product copy the whole
    matrix twice over, a second apiece at 50,000 notebooks.
    """
    column = np.full(matrix.shape[1], -1, dtype=np.int64)
    column[keep] = np.arange(len(keep))
    columns = column[matrix.indices]
    kept = columns >= 0
    before = np.zeros(len(kept) + 1, dtype=np.int64)  # kept entries before each position
    np.cumsum(kept, out=before[1:])
    indptr = before[matrix.indptr]
    # Rounded to the model's float32 here rather than after stacking: the same numbers, in
    # half the memory.
    data = (matrix.data[kept] * np.repeat(scale, np.diff(indptr))).astype(_FLOAT)
    return sp.csr_matrix((data, columns[kept], indptr), shape=(matrix.shape[0], len(keep)))


def _spellings(
    terms: list[str], fields: npt.NDArray[np.int8] | list[int], spellings: list[dict[str, str]]
) -> list[str]:
    """How each term reads in reasons ("" for none).

    A code term that was only ever a part of identifiers has no spelling; nor have numbers
    and one- or two-letter terms, which tell a reader nothing. Modules read as themselves.
    """
    out: list[str] = []
    for term, f in zip(terms, fields, strict=True):
        if int(f) == IMPORT:
            out.append(term)
            continue
        spelling = spellings[int(f)].get(term, "")
        readable = len(spelling) >= 3 and not spelling.replace(".", "").isdigit()
        out.append(spelling if readable else "")
    return out


def _joined(
    lines: list[npt.NDArray[np.uint32]],
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    """Line sketches as one array with row pointers."""
    data = np.concatenate(lines) if lines else np.zeros(0, dtype=np.uint32)
    ptr = np.zeros(len(lines) + 1, dtype=np.int64)
    np.cumsum(np.array([len(x) for x in lines], dtype=np.int64), out=ptr[1:])
    return data.astype(np.uint32), ptr


def _sketches(
    data: npt.NDArray[np.uint32], ptr: npt.NDArray[np.int64]
) -> tuple[tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]], npt.NDArray[np.uint32]]:
    """All contents' line sketches (one array, row pointers), boilerplate removed."""
    n = len(ptr) - 1
    sizes = np.diff(ptr)
    limit = max(BOILERPLATE_MIN, int(BOILERPLATE_SHARE * n))
    values, df = np.unique(data, return_counts=True)
    boilerplate = values[df >= limit].astype(np.uint32)
    if len(boilerplate):
        keep = ~np.isin(data, boilerplate, assume_unique=False)
        rows = np.repeat(np.arange(n), sizes)
        data = data[keep]
        sizes = np.bincount(rows[keep], minlength=n).astype(np.int64)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=ptr[1:])
    return (data.astype(np.uint32), ptr), boilerplate


def _term_counts(
    f: int, tokens: list[str], token_counts: sp.csr_matrix
) -> tuple[sp.csr_matrix, list[str]]:
    """Field ``f``'s documents x terms counts from its documents x tokens counts, and its
    terms (sorted) in column order."""
    analysed = [token_terms(f, t) for t in tokens]
    vocabulary = sorted(set(chain.from_iterable(analysed)))
    column = {t: i for i, t in enumerate(vocabulary)}
    sizes = np.fromiter(map(len, analysed), dtype=np.int64, count=len(analysed))
    total = int(sizes.sum())
    cols = np.fromiter(map(column.__getitem__, chain.from_iterable(analysed)), np.int64, total)
    rows = np.repeat(np.arange(len(tokens), dtype=np.int64), sizes)
    # A token that gives a term twice counts twice: the COO -> CSR conversion sums repeats.
    analysis = sp.coo_matrix(
        (np.ones(total), (rows, cols)), shape=(len(tokens), len(vocabulary))
    ).tocsr()
    # int32 @ float64: scipy converts the data only (astype would copy the indices too).
    matrix = sp.csr_matrix(token_counts @ analysis, dtype=np.float64)
    # Sorted rows sum in column order, whatever order the tokens came in: a refit from the
    # cache gives the cold fit's numbers to the last bit.
    matrix.sort_indices()
    return matrix, vocabulary


def _token_spellings(f: int, tokens: list[str], token_counts: sp.csr_matrix) -> dict[str, str]:
    """Field ``f``'s spelling of each term: each token votes for its spellings once per
    document it is in."""
    df = np.bincount(token_counts.indices, minlength=len(tokens)).tolist()
    votes: Counter[tuple[str, str]] = Counter()
    for token, n in zip(tokens, df, strict=True):
        for pair in token_spellings(f, token):
            votes[pair] += n
    return _choose_spellings(votes)


def _choose_spellings(votes: Counter[tuple[str, str]]) -> dict[str, str]:
    """Each term's spelling: the one most notebooks use, the alphabetically first on a tie.

    Votes, rather than whichever notebook came last, make the choice independent of the
    order contents are read in (and of the process that read them).
    """
    best: dict[str, tuple[int, str]] = {}
    for (term, spelling), n in votes.items():
        held = best.get(term)
        if held is None or n > held[0] or (n == held[0] and spelling < held[1]):
            best[term] = (n, spelling)
    return {term: spelling for term, (_, spelling) in best.items()}
