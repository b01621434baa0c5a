"""Whoosh queries that nbshelf needs to behave differently: a faster prefix, a correct NOT.

Both keep Whoosh's query syntax and scoring; they change only how documents are matched.
"""

from __future__ import annotations

from typing import Any

from whoosh import matching
from whoosh import query as wq
from whoosh.searching import SearchContext


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
            return terms[0].matcher(searcher, context)
        union = wq.Or(terms, boost=self.boost)
        union.matcher_type = wq.Or.ARRAY_MATCHER
        # a prefix scores alike wherever it matches, as Whoosh's own Prefix does
        context = context.set(weighting=None) if context else SearchContext(weighting=None)
        return union.matcher(searcher, context)


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
