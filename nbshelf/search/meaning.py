"""Search by meaning: the notebooks close to a query in the library's related-terms space.

A query's plain words are analysed as the similarity features analyse a notebook (code
identifiers and their parts, prose and title words stemmed), mapped to the terms the
related-terms model (``nbshelf.similar.related``) knows in every field, and folded into its
LSA space; the nearest notebooks by cosine are the meaning hits. They pass the query's
filters, phrases, prefixes and exclusions as partial matches do, checked for the closest
notebooks only (``partial.members``): only the plain words are read for their meaning. A
word the model does not know adds nothing, and a library without a usable model searches by
keyword only.

Each hit says why: the notebook's own strongest terms that lie close to the query, and the
query words they are close to ("about: merge, join — close to “combine”, “key”"); and the
cell where those terms are densest (``best_cell``).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
import numpy.typing as npt
from whoosh import query as wq
from whoosh.searching import Searcher

from nbshelf.notebook.doctext import CellText
from nbshelf.search.analysis import _IDENT, _WORD, code_word_terms, prose_word_terms
from nbshelf.search.partial import members
from nbshelf.search.query import ParsedQuery
from nbshelf.similar.features import CODE, PROSE, TITLE
from nbshelf.similar.related import RELATED_FILE, RelatedTerms

#: A notebook this close to the query (cosine in the LSA space) is a meaning hit. Below it,
#: notebooks share only the library's general drift (measured in bench/RESULTS.md).
MIN_COSINE = 0.35
#: The most meaning hits listed (their count is given whole, among the ``SCAN`` closest).
MAX_MEANING = 30
#: The closest notebooks looked at: enough to fill the list past filters and exact matches.
SCAN = 500
#: Notebook terms named in a reason, and query words it says they are close to.
REASON_TERMS = 3
REASON_WORDS = 3
#: How a reason reads: ``ABOUT`` its terms, ``TERM_SEPARATOR`` between them, then
#: ``CLOSE_TO`` the query words (the app's rows show the part before ``CLOSE_TO``).
ABOUT = "about: "
TERM_SEPARATOR = ", "
CLOSE_TO = " — close to "
#: A term or word this close (cosine of term vectors) counts as related in a reason.
CLOSE = 0.15
#: Characters of a cell read for its best-cell count: a huge cell is not read whole.
CELL_CHARS = 20_000


@dataclass(frozen=True)
class ByMeaning:
    """A notebook found by meaning.

    Attributes:
        hash: its content.
        score: its cosine with the query in the LSA space.
        docnum: its document in the search index.
        reason: the sentence a user reads.
        terms: the notebook's terms behind the reason, as (field, term): where they are
            densest is its best cell.
    """

    hash: str
    score: float
    docnum: int
    reason: str
    terms: tuple[tuple[int, str], ...]


@dataclass
class MeaningMatches:
    """The meaning hits of a query: the best (at most the room asked for), and how many of
    the ``SCAN`` closest notebooks pass the query's filters."""

    best: list[ByMeaning]
    total: int


@dataclass
class _Query:
    """A query folded into the space: its unit vector, and each known word's unit vector."""

    vector: npt.NDArray[np.float32]
    words: list[tuple[str, npt.NDArray[np.float32]]]
    own: set[int]  # the model's columns of the query's own words


class Meaning:
    """The related-terms model of a library (``<library>/similar/related.npz``), loaded on
    first use and again whenever a refit replaces the file (the writer may refit while this
    process searches)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._model: RelatedTerms | None = None
        self._key: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    def model(self) -> RelatedTerms | None:
        """The model, or None when there is none usable (search by keyword only)."""
        if self.folder is None:
            return None
        try:
            stat = os.stat(self.folder / RELATED_FILE)
            key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError:
            key = (0, 0, 0)  # none yet (a new or an old library): keyword search
        with self._lock:
            if key != self._key:
                self._model = RelatedTerms.load(self.folder) if key != (0, 0, 0) else None
                self._key = key
            return self._model

    def prepare(self, searcher: Searcher) -> None:
        """Load the model, and the document number of each of its rows in ``searcher``'s
        index, now rather than on the first search that needs them (at 100,000 notebooks
        about 1 s and 0.6 s, bench/RESULTS.md)."""
        model = self.model()
        if model is not None:
            _document_numbers(searcher, model)
            model.term_space()  # and its lookup tables, each made on first use
            model.row("")
            model.column(0, "")

    def matches(self, searcher: Searcher, parsed: ParsedQuery, only: set[str] | None,
                exclude: set[str], room: int) -> MeaningMatches | None:
        """The notebooks closest to the plain words of ``parsed`` that pass its filters,
        phrases, prefixes and exclusions (and ``only``), leaving out the contents in
        ``exclude`` (the exact matches); None when there is no model or no known word."""
        model = self.model()
        words = plain_words(parsed)
        if model is None or not words or room <= 0:
            return None
        with one_thread():
            query = fold_query(model, words)
            if query is None:
                return None
            scores = model.docs @ query.vector
        closest = [r for r in _closest(scores, SCAN).tolist() if model.hashes[r] not in exclude
                   and (only is None or model.hashes[r] in only)]
        strict = [p.query for p in parsed.parts if not p.optional and not p.negated]
        excluded = [p.query for p in parsed.parts if p.negated]
        kept: list[tuple[str, float, int, int]] = []
        total = 0
        if strict or excluded:
            # Filters are checked for these notebooks only: reading every Python notebook
            # of 50,000 for ``lang:python`` took 91 ms, and each candidate's document
            # number looked up alone another 40 (bench/RESULTS.md, issue 18).
            numbers = _document_numbers(searcher, model)
            found = {row: int(numbers[row]) for row in closest if numbers[row] >= 0}
            allowed = members(searcher, _all(strict), found.values()) if strict else None
            refused = members(searcher, wq.Or(excluded), found.values()) if excluded else set()
            for row in closest:
                docnum = found.get(row)
                if docnum is None or docnum in refused or (allowed is not None
                                                           and docnum not in allowed):
                    continue  # not in the index (yet, or any more), or filtered out
                kept.append((model.hashes[row], float(scores[row]), docnum, row))
            total = len(kept)
        else:
            for row in closest:
                if len(kept) >= room:
                    total += 1  # counted; its document is looked up only when it is listed
                    continue
                docnum = searcher.document_number(hash=model.hashes[row])
                if docnum is None:
                    continue  # not in the index (yet, or any more)
                kept.append((model.hashes[row], float(scores[row]), docnum, row))
                total += 1
        best = [ByMeaning(d, s, n, *explain(model, query, row))
                for d, s, n, row in kept[:room]]
        return MeaningMatches(best, total)


_BLAS: list[Any] = []  # the thread-pool controller (None: none), made on first use (1 ms)


def one_thread() -> contextlib.AbstractContextManager[object]:
    """BLAS on the calling thread only, for the products of one search (a few million
    multiplications). OpenBLAS's own threads spin after such a product, taking the cores
    from the Python work that follows: on the 2-core machine at load 4, a search by meaning
    of 10,000 notebooks took 64 ms with them and 33 ms without (its keyword part alone 18
    and 16). Process-wide while it lasts, as BLAS's setting is."""
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController  # scikit-learn's own dependency
        except ImportError:
            _BLAS.append(None)
        else:
            _BLAS.append(ThreadpoolController())
    controller = _BLAS[0]
    if controller is None:
        return contextlib.nullcontext()
    limited: contextlib.AbstractContextManager[object] = controller.limit(
        limits=1, user_api="blas")
    return limited


def _all(queries: list[wq.Query]) -> wq.Query:
    return wq.And(queries) if len(queries) > 1 else queries[0]


#: Each index reader's document numbers of a model's rows (-1: not in the index), made
#: once per reader: the reader's documents never change.
_NUMBERS: WeakKeyDictionary[object, tuple[RelatedTerms, npt.NDArray[np.int64]]] = (
    WeakKeyDictionary())


def _document_numbers(searcher: Searcher, model: RelatedTerms) -> npt.NDArray[np.int64]:
    """The document number of each row of ``model`` in ``searcher``'s index (-1: none).

    Read from the ``hash`` field's terms, whose single posting's document is the term's
    smallest (10,000 notebooks: 53 ms, once per reader; asking for 500 documents one by one
    took 40 ms every query).
    """
    reader = searcher.reader()
    cached = _NUMBERS.get(reader)
    if cached is not None and cached[0] is model:
        return cached[1]
    rows = {h.encode("ascii"): i for i, h in enumerate(model.hashes)}
    numbers = np.full(len(model.hashes), -1, dtype=np.int64)
    for sub, offset in searcher.leaf_searchers():
        leaf = sub.reader()
        deletions = leaf.has_deletions()
        for text, info in leaf.iter_field("hash"):
            row = rows.get(text)
            if row is None:
                continue
            local = info.min_id()
            if deletions and leaf.is_deleted(local):
                # an older copy of the document, kept until its segment merges: ask
                found = searcher.document_number(hash=text.decode("ascii"))
                numbers[row] = -1 if found is None else found
            else:
                numbers[row] = offset + local
    _NUMBERS[reader] = (model, numbers)
    return numbers


def plain_words(parsed: ParsedQuery) -> list[str]:
    """The plain words of a query (each side of ``a OR b``): what is read for its meaning.
    Filters, phrases, prefixes and exclusions are kept strict, never read for meaning."""
    words: list[str] = []
    for part in parsed.parts:
        if part.optional and not part.negated:
            words.extend(w for w in part.text.split(" OR ") if w.strip())
    return list(dict.fromkeys(words))


def word_columns(model: RelatedTerms, word: str) -> list[int]:
    """The model's columns a query word stands for: its code terms, and its prose and
    title stems (``merge`` is ``merge`` in code and ``merg`` in prose)."""
    columns: list[int] = []
    for f, terms in ((CODE, code_word_terms(word)), (PROSE, prose_word_terms(word)),
                     (TITLE, prose_word_terms(word))):
        for term in dict.fromkeys(terms):
            col = model.column(f, term)
            if col is not None:
                columns.append(col)
    return columns


def fold_query(model: RelatedTerms, words: list[str]) -> _Query | None:
    """The query's place in the space (its known terms weighed by idf, as a notebook's
    are); None when the model knows none of its words."""
    found: list[tuple[str, npt.NDArray[np.float32]]] = []
    total = np.zeros(model.fold.shape[1], dtype=np.float32)
    own: set[int] = set()
    for word in words:
        columns = word_columns(model, word)
        if not columns:
            continue  # a word the model does not know adds nothing
        own.update(columns)
        vector = (model.idf[columns, None] * model.fold[columns]).sum(axis=0)
        total += vector
        if any(model.spellings[c] for c in columns):
            # a reason names a word a reader knows, never "per" or "how" (no spelling)
            found.append((word, _unit(vector)))
    norm = float(np.linalg.norm(total))
    if not own or norm == 0.0:
        return None
    return _Query((total / norm).astype(np.float32), found, own)


def _unit(vector: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm else vector


def _closest(scores: npt.NDArray[np.float32], count: int) -> npt.NDArray[np.intp]:
    """The rows of the ``count`` best scores of at least ``MIN_COSINE``, best first (the
    row breaks ties, so the order never changes from one run to the next)."""
    above = np.flatnonzero(scores >= MIN_COSINE)
    if len(above) > count:
        above = above[np.argpartition(-scores[above], count - 1)[:count]]
    return above[np.lexsort((above, -scores[above]))]


def explain(model: RelatedTerms, query: _Query, row: int
            ) -> tuple[str, tuple[tuple[int, str], ...]]:
    """Why notebook ``row`` is close to the query: the sentence, and its terms behind it.

    The notebook's strongest terms (its TF-IDF weight) that lie closest to the query, named
    by their readable spelling, and the query words closest to those terms.
    """
    space = model.term_space()
    top = model.top_terms[row]
    columns = top[top >= 0]
    weights = model.top_weights[row][: len(columns)]
    closeness = space[columns] @ query.vector
    # Closeness counts twice: in a library's own words everything on a topic is close, and
    # the terms nearest the query (merge, for "combine") say best why the notebook is here.
    order = np.argsort(-(weights * np.maximum(closeness, 0.0) ** 2), kind="stable")
    named: list[str] = []
    chosen: list[int] = []
    for at in order.tolist():
        col = int(columns[at])
        spelling = model.spellings[col]
        if closeness[at] < CLOSE or not spelling:
            continue
        if spelling.lower() in (n.lower() for n in named):
            continue  # merge in code and in prose: named once
        named.append(spelling)
        chosen.append(col)
        if len(named) == REASON_TERMS:
            break
    terms = tuple((int(model.term_fields[c]), model.terms[c]) for c in chosen)
    if not named:
        return "close in meaning to the query", terms
    close = _close_words(space[chosen], query.words)
    about = ABOUT + TERM_SEPARATOR.join(named)
    if not close:
        return about, terms
    return about + CLOSE_TO + TERM_SEPARATOR.join(f"“{w}”" for w in close), terms


def _close_words(terms: npt.NDArray[np.float32],
                 words: list[tuple[str, npt.NDArray[np.float32]]]) -> list[str]:
    """The query words closest to any of these terms, closest first."""
    ranked = sorted(((-float((terms @ vector).max()), at, word)
                     for at, (word, vector) in enumerate(words)))
    return [word for negative, _, word in ranked if -negative >= CLOSE][:REASON_WORDS]


def best_cell(cells: Iterable[CellText], terms: tuple[tuple[int, str], ...]) -> int | None:
    """The cell (index from 0) where a meaning hit's terms are densest: the most of them
    (distinct), then the most occurrences; the first on a tie. None when none has any."""
    code = {t for f, t in terms if f == CODE}
    prose = {t for f, t in terms if f in (PROSE, TITLE)}
    best: tuple[int, int] = (0, 0)
    found: int | None = None
    for cell in cells:
        if cell.kind == "output":
            continue
        text = cell.text[:CELL_CHARS]
        if cell.kind == "code":
            hits = [t for tok in _IDENT.findall(text) for t in code_word_terms(tok) if t in code]
        else:
            hits = [t for tok in _WORD.findall(text) for t in prose_word_terms(tok)
                    if t in prose]
        score = (len(set(hits)), len(hits))
        if score > best:
            best, found = score, cell.index
    return found

