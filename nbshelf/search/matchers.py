"""Whoosh queries and scoring that nbshelf needs to behave differently: a faster prefix and
phrase, a correct NOT, field lengths read once per segment.

Each keeps Whoosh's query syntax and scores; they change only how the work is done.
"""

from __future__ import annotations

from math import log
from typing import Any
from weakref import WeakKeyDictionary

from whoosh import matching
from whoosh import query as wq
from whoosh.query.spans import Span, SpanNear2
from whoosh.scoring import BM25F, BM25FScorer


class PreloadedPrefix(wq.Prefix):
    """A prefix whose expansions are matched from one preloaded array of documents.

    Whoosh ORs the expanded terms as a tree of union matchers, one per term (``plot*`` has
    150 in a library of 10,000 notebooks), which costs several times more than reading each
    term's postings once into an array.
    """

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        terms = [wq.Term(self.fieldname, t) for t in self._btexts(searcher.reader()) if t]
        if not terms:
            return matching.NullMatcher()
        if len(terms) == 1:
            # boosted like the union: with several segments, each may hold one expansion
            return wq.Term(self.fieldname, terms[0].text, boost=self.boost).matcher(
                searcher, context)
        union = wq.Or(terms, boost=self.boost)
        union.matcher_type = wq.Or.ARRAY_MATCHER
        # scored like Whoosh's own Prefix: the sum of the expanded terms' scores (Whoosh
        # asks for constant scores, but its searcher fills in its weighting when none is
        # given, so its prefixes rank by BM25F; these must rank the same)
        return union.matcher(searcher, context)


class BestPrefix(PreloadedPrefix):
    """A prefix scored in each document by the best of the words it starts there, not their
    sum: what the app searches while a word is typed (``regre OR regre*``). A notebook
    that has many words starting with it (``csvread1``, ``csvread2``...) ranks no higher
    for that. Each word counts as if it were as rare as the prefix (the rarity of the
    documents holding any of them): "regre" ranks a title that says "Regression" above a
    passing "regresar", though the Spanish word is the rarer. It matches what
    ``PreloadedPrefix`` matches."""

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        terms = [wq.Term(self.fieldname, t) for t in self._btexts(searcher.reader()) if t]
        if len(terms) < 2 or context is None or context.weighting is None:
            return super().matcher(searcher, context)  # unscored (counting) or one word
        best: dict[int, float] = {}
        for term in terms:
            found = term.matcher(searcher, context)
            idf = getattr(getattr(found, "scorer", None), "idf", None) or 1.0
            while found.is_active():
                docnum, score = found.id(), found.score() / idf  # the word's rarity out
                if score > best.get(docnum, 0.0):
                    best[docnum] = score
                found.next()
        parent = searcher.get_parent()
        rarity = log(parent.doc_count_all() / (len(best) + 1)) + 1  # BM25F's idf, for all
        ids = sorted(best)
        return matching.ListMatcher(ids, weights=[best[i] * rarity * self.boost for i in ids])


class _BestOfMatcher(matching.DisjunctionMaxMatcher):
    """Whoosh's ``DisjunctionMaxMatcher`` with two of its faults fixed (whoosh-reloaded 2.7):
    a document only one side holds was scored with the other side's score at *its* current
    document (so rankings changed with document numbers), and skipping low scores dropped
    every document of one side when the other ran out."""

    def score(self) -> float:
        a, b = self.a, self.b
        if not a.is_active():
            return float(b.score())
        if not b.is_active():
            return float(a.score())
        if a.id() != b.id():  # only the side at the current (lower) document holds it
            return float(a.score() if a.id() < b.id() else b.score())
        return max(float(a.score()), float(b.score()))

    def replace(self, minquality: float = 0) -> Any:
        # A document's score is the better side's: a side that cannot reach ``minquality``
        # alone is dropped, the other kept (a max, not a sum, so each may be cut alone).
        a = self.a.replace(minquality) if self.a.is_active() else self.a
        b = self.b.replace(minquality) if self.b.is_active() else self.b
        if not a.is_active():
            return b if b.is_active() else matching.NullMatcher()
        if not b.is_active():
            return a
        if a is self.a and b is self.b:
            return self
        return self.__class__(a, b, tiebreak=self.tiebreak)


class BestOf(wq.DisjunctionMax):
    """Documents any subquery matches, each scored by its best one: the app's query for a
    word being typed (``regre OR regre*``: as the whole word, or as the start of one).
    Whoosh's ``DisjunctionMax`` with a matcher that scores right (see ``_BestOfMatcher``)."""

    def _matcher(self, subs: Any, searcher: Any, context: Any) -> Any:
        reader = searcher.reader()
        return self._tree_matcher(subs, _BestOfMatcher, searcher, context,
                                  lambda q: q.estimate_size(reader), tiebreak=self.tiebreak)


class _ExactPhraseMatcher(SpanNear2.SpanNear2Matcher):
    """Documents where the words stand one after another: the positions of the k-th word,
    less k, meet the first word's positions. Whoosh's span matcher gets there by building
    and comparing a ``Span`` object for every position, several times slower."""

    def __init__(self, ms: list[Any]) -> None:
        super().__init__(ms, slop=1, ordered=True, mindist=1)

    def copy(self) -> _ExactPhraseMatcher:
        return self.__class__([m.copy() for m in self.ms])

    def _get_spans(self) -> list[Span]:
        starts = set(self.ms[0].value_as("positions"))
        for k, m in enumerate(self.ms[1:], 1):
            starts.intersection_update(p - k for p in m.value_as("positions"))
            if not starts:
                return []
        last = len(self.ms) - 1
        return [Span(start, start + last) for start in sorted(starts)]


class ExactPhrase(wq.Phrase):
    """Words next to each other, in order (``"linear regression"``)."""

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        if self.slop != 1 or len(self.words) < 2:
            return super().matcher(searcher, context)
        field = searcher.schema[self.fieldname]
        reader = searcher.reader()
        terms = []
        for word in self.words:
            text = field.to_bytes(word)
            if (self.fieldname, text) not in reader:
                return matching.NullMatcher()  # a word the index lacks: no phrase either
            terms.append(wq.Term(self.fieldname, text))
        found = _ExactPhraseMatcher([t.matcher(searcher, context) for t in terms])
        return found if self.boost == 1.0 else matching.WrappingMatcher(found, boost=self.boost)


class _AndNotMatcher(matching.AndNotMatcher):
    """Whoosh's matcher for ``a ANDNOT b`` lets ``a``'s first document through when ``b``
    holds it but starts at an earlier document; this one checks the first one too."""

    def _find_first(self) -> None:
        if self.a.is_active() and self.b.is_active():
            self._find_next()


class AndNot(wq.AndNot):
    """``a`` without the documents matching ``b`` (``-word`` in a query)."""

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        wanted = self.a.matcher(searcher, context)
        excluded = self.b.matcher(searcher, searcher.boolean_context())
        return _AndNotMatcher(wanted, excluded)


#: Each segment reader's field lengths, by field; a reader's documents never change, and
#: the entry goes with the reader.
_LENGTHS: WeakKeyDictionary[Any, dict[str, list[int]]] = WeakKeyDictionary()


def _field_lengths(reader: Any, fieldname: str) -> list[int]:
    found = _LENGTHS.setdefault(reader, {})
    if fieldname not in found:
        found[fieldname] = [reader.doc_field_length(d, fieldname, 1)
                            for d in range(reader.doc_count_all())]
    return found[fieldname]


class ListedLengthsBM25F(BM25F):
    """BM25F reading each document's field length from a list made once per segment.

    Whoosh reads the length from the segment's column file for every match it scores: a
    third of the time of a query that matches thousands of notebooks. The lengths, and so
    the scores, are the same.
    """

    def scorer(self, searcher: Any, fieldname: str, text: Any, qf: int = 1) -> Any:
        scorer = super().scorer(searcher, fieldname, text, qf=qf)
        if isinstance(scorer, BM25FScorer):
            scorer.dfl = _field_lengths(searcher.reader(), fieldname).__getitem__
        return scorer
