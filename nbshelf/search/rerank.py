"""Reordering by meaning: among notebooks that match a question equally, those about it first.

A plain question ("working with time series", "handling missing data") matches many
notebooks that mention its words in passing; BM25 ranks them by how often and where the
words occur, not by what the notebook is about. With search by meaning on, each group of
matches of the same kind (every word; then the same number of the words) is reordered by
one score, the sum of:

- its BM25F score, over the group's best (1 for the best);
- ``ADJACENT_WEIGHT`` times the share of the question's neighbouring word pairs the
  notebook has side by side ("time series", "missing data" as written, not apart);
- ``RELATED_WEIGHT`` times how much of the notebook's strongest terms lie close to the
  question (``related_scores``), over the group's best: the question's words, and the
  ``NEIGHBOURS`` terms closest to each in the library's related-terms space
  (``nbshelf.similar.related``: ``datetime`` and ``timedelta`` for "dates and times").

Groups never mix: every exact match still comes before every partial one, and an
identifier query is never reordered (``nbshelf.search.service`` skips it). The weights
were chosen on the development half of ``bench/meaning_eval.py``'s questions only (the
split is in its docstring); its test half was not looked at for them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.searching import Searcher

from nbshelf.search.meaning import one_thread, word_columns
from nbshelf.search.query import BODY, ParsedQuery, field_terms
from nbshelf.similar.related import RelatedTerms

#: Weight of the share of neighbouring word pairs found side by side (dev half: 0.3 to 2
#: all help at 10k; 0.6 is best on the two libraries together).
ADJACENT_WEIGHT = 0.6
#: Weight of closeness to the question through the related terms (dev half: 0.15 to 0.3
#: help, 0.6 hurts: it then outvotes the words themselves).
RELATED_WEIGHT = 0.3
#: Terms taken as close to each question word: the nearest ones in the related-terms
#: space, if at least ``NEIGHBOUR_MIN`` close (cosine of term vectors).
NEIGHBOURS = 10
NEIGHBOUR_MIN = 0.3
#: The best matches of a group that are reordered: a reader looks at the first screens
#: (dev half, 10k: 100 finds 0.401, 50 0.376, 30 0.361).
RERANK_DEPTH = 100
#: The most word pairs looked for, the first ones of a question: each costs a pass over the
#: candidates' postings, and on the dev half a fifth or later pair changed no answer.
MAX_PAIRS = 4

#: A match to reorder: (content hash, BM25F score, document number).
Scored = tuple[str, float, int]


def adjacent_pairs(parsed: ParsedQuery) -> list[tuple[str, str]]:
    """The question's neighbouring plain words, as pairs (``a b c``: ``a b``, ``b c``), at
    most ``MAX_PAIRS``; stop words in between are skipped, as the index skips them."""
    words = [p.text for p in parsed.parts if p.optional and " OR " not in p.text]
    return list(zip(words, words[1:], strict=False))[:MAX_PAIRS]


def adjacent_shares(searcher: Searcher, pairs: list[tuple[str, str]],
                    docnums: Sequence[int]) -> npt.NDArray[np.float64]:
    """For each document, the share of ``pairs`` it has side by side. Only the documents
    asked about are looked at (``term_positions``): the cost is theirs, not that of every
    notebook holding the two words; and each term once, however many pairs it is in
    ("combine two tables on a key column": five terms walked, not eight)."""
    shares = np.zeros(len(docnums))
    if not pairs or not docnums:
        return shares
    wanted = sorted(set(docnums))
    # as prose (stems): the code reading of a question's words ("time", "series" as
    # identifiers) doubled the cost and found no more answers on the dev half
    phrases = [field_terms("markdown", f"{first} {second}") for first, second in pairs]
    walked: dict[str, dict[int, Sequence[int]]] = {}
    # the rarest terms first: a later one is looked for only where a pair it is in can
    # still stand (its partners walked so far all have the document)
    for term in sorted({t for terms in phrases for t in terms},
                       key=lambda t: (searcher.doc_frequency(BODY, t), t)):
        partners = [[walked[u] for u in terms if u != term and u in walked]
                    for terms in phrases if term in terms]
        needed = [d for d in wanted if any(all(d in u for u in group) for group in partners)]
        walked[term] = term_positions(searcher, term, needed)
    for terms in phrases:
        found = _side_by_side([walked[t] for t in terms]) if terms else set()
        shares += [d in found for d in docnums]
    return shares / len(pairs)


def term_positions(searcher: Searcher, term: str, wanted: Sequence[int]
                   ) -> dict[int, Sequence[int]]:
    """The positions of body ``term`` in each of ``wanted`` (sorted) that has it."""
    return {docnum: matcher.value_as("positions")
            for docnum, matcher in term_postings(searcher, term, wanted)}


def term_postings(searcher: Searcher, term: str, wanted: Sequence[int]
                  ) -> Iterator[tuple[int, Any]]:
    """Body ``term``'s postings matcher at each of ``wanted`` (sorted) that has it, with
    that document's number.

    The postings skip from one wanted document to the next, segment by segment: a phrase
    query's matcher would walk every notebook holding the words (10,000 notebooks: most of
    a query's time).
    """
    key = searcher.schema[BODY].to_bytes(term)
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        end = offset + reader.doc_count_all()
        local = [d - offset for d in wanted if offset <= d < end]
        if not local or (BODY, key) not in reader:
            continue  # a term this segment lacks
        matcher = reader.postings(BODY, key)
        for docnum in local:
            if matcher.id() < docnum:
                matcher.skip_to(docnum)
                if not matcher.is_active():
                    break
            if matcher.id() == docnum:
                yield offset + docnum, matcher


def _side_by_side(positions: list[dict[int, Sequence[int]]]) -> set[int]:
    """The documents where the terms (their positions by document, in order) stand one
    after another, as ``matchers.ExactPhrase`` finds them: the k-th term at a position k
    after the first's."""
    if len(positions) == 1:
        return set(positions[0])
    found: set[int] = set()
    first, rest = positions[0], positions[1:]
    for docnum, at in first.items():
        if all(docnum in other for other in rest) and _in_order(at, [o[docnum] for o in rest]):
            found.add(docnum)
    return found


def _in_order(first: Sequence[int], rest: list[Sequence[int]]) -> bool:
    """True when some position of the first term has the k-th of ``rest`` k after it."""
    starts = set(first)
    for k, positions in enumerate(rest, 1):
        starts.intersection_update(p - k for p in positions)
        if not starts:
            return False
    return True


def expanded_query(model: RelatedTerms, words: list[str]) -> npt.NDArray[np.float32] | None:
    """The question as weights over the model's terms: each word's own terms at their idf,
    and the ``NEIGHBOURS`` terms closest to it at idf times closeness. None when the model
    knows no word of it."""
    found = [columns for w in words if (columns := word_columns(model, w))]
    if not found:
        return None
    weights = np.zeros(len(model.terms), dtype=np.float32)
    space = model.term_space()
    # one product for every word: the cost of a search is one pass over the terms
    centres = np.stack([space[columns].sum(axis=0) for columns in found], axis=1)
    centres /= np.maximum(np.linalg.norm(centres, axis=0, keepdims=True), 1e-12)
    with one_thread():
        closeness = space @ centres
    for k, columns in enumerate(found):
        weights[columns] += model.idf[columns]
        close = closeness[:, k]
        close[columns] = -1.0  # its own terms are in already
        count = min(NEIGHBOURS, len(close) - 1)
        if count <= 0:
            continue
        nearest = np.argpartition(-close, count - 1)[:count]
        nearest = nearest[close[nearest] >= NEIGHBOUR_MIN]
        weights[nearest] += close[nearest] * model.idf[nearest]
    return weights


def related_scores(model: RelatedTerms, weights: npt.NDArray[np.float32],
                   hashes: Sequence[str]) -> npt.NDArray[np.float64]:
    """How close each content is to the question: its strongest terms' weights in it times
    their weight in the question (0 for a content the model does not cover)."""
    rows = np.array([-1 if (r := model.row(h)) is None else r for h in hashes], dtype=np.int64)
    if not len(rows):
        return np.zeros(0)
    safe = np.maximum(rows, 0)
    terms = model.top_terms[safe]
    found = np.where(terms >= 0, weights[np.maximum(terms, 0)], 0.0) * model.top_weights[safe]
    return np.where(rows >= 0, found.sum(axis=1), 0.0).astype(np.float64)


def reorder(scored: list[Scored], shares: npt.NDArray[np.float64],
            related: npt.NDArray[np.float64]) -> list[Scored]:
    """``scored`` (one group, best first) in the order of the combined score; a tie keeps
    the group's order."""
    if len(scored) < 2:
        return list(scored)
    bm25 = np.array([s for _, s, _ in scored], dtype=np.float64)
    combined = (_over_best(bm25) + ADJACENT_WEIGHT * shares
                + RELATED_WEIGHT * _over_best(related))
    order = sorted(range(len(scored)), key=lambda i: (-combined[i], i))
    return [scored[i] for i in order]


def _over_best(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    best = float(values.max()) if len(values) else 0.0
    return values / best if best > 0 else np.zeros_like(values)
