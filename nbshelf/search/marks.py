"""Where a query's words are in a piece of shown text (a rendered page's text, any part).

The search matched words through the analyses of each part (prose is stemmed, code is split
into identifiers); a page's text does not say which part it came from, so a word is marked
when any analysis finds a query word in it: "regressions" for ``regression``, ``read_csv``
and ``pd.read_csv`` for ``read csv``, "regression" for ``regre*``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from nbshelf.search.analysis import _IDENT, code_word_terms, fold, prose_terms, prose_word_terms
from nbshelf.search.query import field_terms, parse
from nbshelf.search.typed import as_you_type

Spans = list[tuple[int, int]]


@lru_cache(maxsize=65536)
def _plain_word_terms(word: str) -> tuple[str, ...]:
    return tuple(prose_terms(word, stemming=False))


class TermMarks:
    """The query's words in any text, as ``(start, end)`` offsets (:meth:`spans`).

    Args:
        text: the search box's text; its last word counts as a prefix too, as the list
            searched it (``nbshelf.search.typed``).
    """

    def __init__(self, text: str) -> None:
        parsed = parse(as_you_type(text))
        words = [w for w in parsed.words if w not in parsed.excluded]
        self._code = {t for w in words for t in field_terms("code", w)}
        self._prose = {t for w in words for t in field_terms("markdown", w)}
        self._plain = {t for w in words for t in field_terms("outputs", w)}
        self._prefixes = tuple(p for p in parsed.prefixes if p)
        self._memo: dict[str, bool] = {}

    @property
    def empty(self) -> bool:
        """True when there is nothing to mark (no words, or only filters such as lang:)."""
        return not (self._code or self._prose or self._plain or self._prefixes)

    def spans(self, text: str) -> Spans:
        """Where the query's words are in ``text``, in order, never overlapping."""
        found: Spans = []
        for match in _IDENT.finditer(text):
            word = match.group()
            if not self._matches(word):
                continue
            if "." in word and fold(word) not in self._code:
                # df.pivot_table matched through one of its names: mark only that name
                offset = match.start()
                for piece in word.split("."):
                    if piece and self._matches(piece):
                        found.append((offset, offset + len(piece)))
                    offset += len(piece) + 1
            else:
                found.append(match.span())
        return found

    def _matches(self, word: str) -> bool:
        known = self._memo.get(word)
        if known is None:
            known = self._memo[word] = self._check(word)
        return known

    def _check(self, word: str) -> bool:
        # code: the identifier or one of its names; prose: the stem; outputs: the word
        code = code_word_terms(word)
        if self._code.intersection(code):
            return True
        prose = prose_word_terms(word)
        if self._prose.intersection(prose) or self._plain.intersection(_plain_word_terms(word)):
            return True
        return any(t.startswith(p) for p in self._prefixes for t in (*code, *prose))


def term_marks(text: str) -> Callable[[str], Spans]:
    """``TermMarks(text).spans``: the function that finds the query's words in a text."""
    return TermMarks(text).spans
