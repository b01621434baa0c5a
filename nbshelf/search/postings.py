"""Whoosh posting formats that count terms directly instead of through Token objects.

Whoosh's own formats build one ``Token`` per term and fill dictionaries term by term; with
nbshelf's analyzers the terms are already plain strings, so frequencies are counted with
``Counter`` and positions gathered in one pass. Indexing spends about a third of its time
here, so this is where the build rate is won. The stored values are byte-for-byte what
Whoosh's ``Frequency`` and ``Positions`` formats write, and they read them back.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint

from nbshelf.search.analysis import PART_GAP

Posting = tuple[str, int, float, bytes]


def _fast_terms(value: Any, analyzer: Any) -> Iterator[str] | None:
    terms = getattr(analyzer, "terms", None)
    return terms(value) if terms is not None and isinstance(value, str) else None


class CountedFrequency(Frequency):
    """``Frequency`` postings, counted in C."""

    def word_values(self, value: Any, analyzer: Any, **kwargs: Any) -> Iterator[Posting]:
        terms = _fast_terms(value, analyzer)
        if terms is None:
            yield from super().word_values(value, analyzer, **kwargs)
            return
        boost = self.field_boost
        for word, freq in Counter(terms).items():
            yield word, freq, freq * boost, pack_uint(freq)


class CountedPositions(Positions):
    """``Positions`` postings, gathered in one pass."""

    def word_values(self, value: Any, analyzer: Any, **kwargs: Any) -> Iterator[Posting]:
        terms = _fast_terms(value, analyzer)
        if terms is None:
            yield from super().word_values(value, analyzer, **kwargs)
            return
        positions: defaultdict[str, list[int]] = defaultdict(list)
        for pos, word in enumerate(terms):
            positions[word].append(pos)
        boost = self.field_boost
        for word, poslist in positions.items():
            yield word, len(poslist), len(poslist) * boost, self.encode(poslist)


class WeightedPositions(Positions):
    """Positions whose weight is the sum of each occurrence's part weight (the body field)."""

    #: Encoded single positions, the most common posting (a term once in a notebook): the
    #: same few thousand positions recur in every document.
    _single: dict[int, bytes] = {}  # noqa: RUF012 - a cache shared on purpose

    def _encode(self, poslist: list[int]) -> bytes:
        if len(poslist) != 1:
            return self.encode(poslist)
        found = self._single.get(poslist[0])
        if found is None:
            found = self._single[poslist[0]] = self.encode(poslist)
        return found

    def word_values(self, value: Any, analyzer: Any, **kwargs: Any) -> Iterator[Posting]:
        parts = getattr(analyzer, "part_terms", None)
        if parts is None or not isinstance(value, list):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        positions: defaultdict[str, list[int]] = defaultdict(list)
        weights: defaultdict[str, float] = defaultdict(float)
        start = 0
        for terms, weight in parts(value):
            for word, count in Counter(terms).items():
                weights[word] += count * weight
            for pos, word in enumerate(terms, start):
                positions[word].append(pos)
            start += len(terms) + PART_GAP
        boost = self.field_boost
        for word, poslist in positions.items():
            yield word, len(poslist), weights[word] * boost, self._encode(poslist)

