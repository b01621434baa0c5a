"""Turning text into search terms: prose is stemmed, code is split the way people search it.

Code: ``pd.read_csv(`` is indexed as ``pd.read_csv`` (the dotted name), ``pd``, ``readcsv``
(each identifier in one canonical form: lower case, no underscores, so ``groupBy``,
``group_by`` and ``groupby`` are one term) and its parts ``read``, ``csv``. A query word is
turned into the same canonical form, so each of those spellings finds the others.

Every script is searchable: accents fold (``ünïcödé`` is ``unicode``), and runs of Chinese,
Japanese or Korean characters, which have no spaces, are indexed as overlapping pairs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

from whoosh.analysis import Token, Tokenizer
from whoosh.lang.porter import stem

# Han, Hiragana, Katakana, Hangul: scripts written without spaces between words.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_WORD = re.compile(rf"[^\W_{_CJK}](?:[^\W{_CJK}]|['’](?=\w))*|[{_CJK}]+")
_IDENT = re.compile(rf"[^\W\d{_CJK}][^\W{_CJK}]*(?:\.[^\W\d{_CJK}][^\W{_CJK}]*)*|[{_CJK}]+|\d+")
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_]+")
#: Common English words that carry no meaning in a query (a short list: code needs "in", "is").
STOP_WORDS = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was "
    "were will with".split()
)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case and strip accents (``Ünïcödé`` -> ``unicode``); CJK is left alone."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def fold_text(text: str) -> str:
    """``fold`` for long text (a cell), which would only fill ``fold``'s cache of words."""
    return fold.__wrapped__(text)


def canonical(identifier: str) -> str:
    """One spelling for an identifier: ``groupBy``, ``group_by``, ``GROUPBY`` -> ``groupby``."""
    return fold(identifier).replace("_", "")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return stem(word)


def cjk_pairs(run: str) -> list[str]:
    """Overlapping character pairs of a CJK run (a lone character stands alone)."""
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def prose_terms(text: str, *, stemming: bool = True, numbers: bool = True) -> list[str]:
    """Terms of prose: folded words, stemmed, stop words out, CJK as pairs.

    ``numbers=False`` drops numbers: in outputs they are table cells and timings, never
    what anyone searches, and half of all output terms.
    """
    return [t for word in _WORD.findall(text) for t in _prose_word(word, stemming, numbers)]


@lru_cache(maxsize=262144)
def _prose_word(word: str, stemming: bool, numbers: bool) -> tuple[str, ...]:
    """The terms of one word of prose (cached: prose repeats its words)."""
    if _CJK_RUN.fullmatch(word):
        return tuple(cjk_pairs(word))
    if not numbers and word.isdigit():
        return ()
    word = fold(word).replace("’", "'")
    if word in STOP_WORDS or len(word) > 60:
        return ()
    return (_stem(word) if stemming else word,)


@lru_cache(maxsize=131072)
def _identifier_terms(ident: str) -> tuple[str, ...]:
    if _CJK_RUN.fullmatch(ident):
        return tuple(cjk_pairs(ident))
    if ident.isdigit():
        return (ident,) if len(ident) <= 12 else ()
    terms: list[str] = []
    pieces = ident.split(".")
    if len(pieces) > 1:
        terms.append(fold(ident))
    for piece in pieces:
        whole = canonical(piece)
        if whole:
            terms.append(whole)
        parts = [fold(p) for p in _PARTS.findall(piece)]
        if len(parts) > 1:
            terms.extend(p for p in parts if p != whole)
    return tuple(terms)


def code_terms(text: str) -> list[str]:
    """Terms of code: dotted names, canonical identifiers and their parts, numbers."""
    return [t for ident in _IDENT.findall(text) if len(ident) <= 100
            for t in _identifier_terms(ident)]


#: A call: a (dotted) name, then an opening bracket (``pd.read_csv(``, ``CSV.read(``, and
#: ``.sum(`` after a call or an index).
_CALL = re.compile(r"(?:(?<![\w.])|(?<=[)\]]\.))([^\W\d]\w*(?:\.[^\W\d]\w*)*)[ \t]*\(")
#: Words that a bracket follows in code without being called.
_NOT_CALLS = frozenset(
    "if elif for while return and or not in is switch case catch function def lambda with "
    "assert print".split()
)


def called_names(code: str) -> list[str]:
    """The names code calls, canonical and each once: the called name and, for a dotted
    one, its last two names joined (``pd.read_csv(`` gives ``readcsv`` and ``pdreadcsv``;
    R's ``read.csv(`` gives ``csv`` and ``readcsv``)."""
    found: dict[str, None] = {}
    for name in _CALL.findall(code):
        pieces = name.split(".")
        if len(name) > 100 or pieces[-1] in _NOT_CALLS:
            continue
        found[canonical(pieces[-1])] = None
        if len(pieces) > 1:
            found[canonical(pieces[-2] + pieces[-1])] = None
    return list(found)


@lru_cache(maxsize=262_144)
def code_word_terms(word: str) -> tuple[str, ...]:
    """``code_terms`` of one word, cached: search (snippets) and similarity (tokens) look
    the same few hundred thousand words up again and again."""
    return tuple(code_terms(word))


@lru_cache(maxsize=262_144)
def prose_word_terms(word: str) -> tuple[str, ...]:
    """``prose_terms`` of one word, cached (see ``code_word_terms``)."""
    return tuple(prose_terms(word))


def code_query_term(word: str) -> str:
    """The one code term a query word stands for (a dotted name stays dotted)."""
    return fold(word) if "." in word.strip(".") else canonical(word)


class _TermTokenizer(Tokenizer):
    """A Whoosh tokenizer over one of the term functions above.

    One Token object is reused, as Whoosh asks; positions count terms, so parts of one
    identifier are adjacent and phrase queries over them work.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _TermTokenizer) and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(self.kind)

    def terms(self, value: str) -> list[str]:
        """The terms of ``value`` as plain strings (the fast path of ``nbshelf.search.index``)."""
        if self.kind == "code":
            return code_terms(value)
        return prose_terms(value, stemming=self.kind == "prose", numbers=self.kind != "output")

    def __call__(  # noqa: PLR0913 - Whoosh's tokenizer signature
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        terms = iter([value]) if not tokenize else self.terms(value)
        for pos, term in enumerate(terms, start_pos):
            token.text = term
            token.boost = 1.0
            if keeporiginal:
                token.original = term
            if positions:
                token.pos = pos
            if chars:
                token.startchar = token.endchar = start_char
            yield token


def prose_analyzer() -> _TermTokenizer:
    """The analyzer of prose fields (stemmed)."""
    return _TermTokenizer("prose")


def words_analyzer() -> _TermTokenizer:
    """The analyzer of text that is searched word for word (outputs, names): not stemmed."""
    return _TermTokenizer("words")


def output_analyzer() -> _TermTokenizer:
    """The analyzer of output text: words as they are, numbers left out."""
    return _TermTokenizer("output")


def code_analyzer() -> _TermTokenizer:
    """The analyzer of code fields."""
    return _TermTokenizer("code")


#: Positions left empty between the parts of a document, so no phrase spans two parts.
PART_GAP = 100


class PartsAnalyzer(_TermTokenizer):
    """The analyzer of the ``body`` field: a document's parts, each analysed its own way.

    A value is a list of (part, text) pairs, e.g. ("title", ...), ("code", ...). Each part
    has an analysis (prose, code, output, words) and a weight; a term's weight in the
    document is the sum over its occurrences, so a word in a title counts six times a word
    in prose, and each query word needs one term, not one per field.
    """

    def __init__(self, parts: dict[str, tuple[str, float]]) -> None:
        super().__init__("prose")
        self.parts = parts

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PartsAnalyzer) and other.parts == self.parts

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.parts)))

    def part_terms(self, value: list[tuple[str, str]]) -> Iterator[tuple[list[str], float]]:
        """Each part's terms in order, with the part's weight; parts are ``PART_GAP`` apart."""
        for part, text in value:
            kind, weight = self.parts[part]
            yield _TermTokenizer(kind).terms(text), weight

