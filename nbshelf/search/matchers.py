"""Whoosh queries and scoring that nbshelf needs to behave differently: a faster prefix and
phrase, a correct NOT, field lengths read once per segment.

Each keeps Whoosh's query syntax and scores; they change only how the work is done.
"""

from __future__ import annotations

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
