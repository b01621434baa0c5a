"""What a user types in the search box, turned into a Whoosh query. It never raises but
for a query past the bounds below (``QueryTooLong``).

Syntax: words (all must match; when few notebooks have them all, those with most of the
plain words follow, see ``nbshelf.search.partial``), ``"exact phrase"``, ``prefix*``
(``word OR word*``, what the app searches for a word being typed, ranks a prefix's matches by
the best word each has, so the whole word comes first), ``field:value`` filters
(``lang:``, ``import:``, ``source:``, ``tag:``, ``title:``, ``marking:``, ``path:``,
``author:``; and ``health:``, which the library applies, see ``split_health``), ``-word``
to exclude, and ``OR`` between two terms. Anything malformed (an unbalanced quote, a lone
``OR`` or ``-``, an empty filter) is read as plain words. Each word costs work in the
analysers, the matchers and the spelling suggestion, so its size and their number are capped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from whoosh import query as wq

from nbshelf.errors import NbshelfError
from nbshelf.notebook import normalize_language
from nbshelf.search.analysis import STOP_WORDS, code_query_term, code_terms, fold, prose_terms
from nbshelf.search.filters import split_health as split_health  # the library applies it
from nbshelf.search.matchers import AndNot, BestOf, BestPrefix, ExactPhrase, PreloadedPrefix

#: The field every word is looked for in: all searchable parts, weighted (nbshelf.search.index).
BODY = "body"
#: Parts whose words are stemmed like prose.
_PROSE = {"title", "headings", "markdown"}
#: What a user may write before ``:``, and the index field it filters.
FILTERS = {
    "lang": "lang", "language": "lang", "import": "imports", "imports": "imports",
    "module": "imports", "source": "source", "tag": "tags", "tags": "tags", "title": "title",
    "marking": "marking", "path": "path", "author": "author",
}
# A token: a quoted phrase, whole even behind a minus or a filter name (-"a b",
# tag:"machine learning"), else a run of non-spaces.
_TOKEN = re.compile(r'-?(?:\w+:)?"[^"]*"|\S+')
#: Prefixes shorter than this match too many terms to be useful (and are slow).
MIN_PREFIX = 2
#: The weight of a word being typed read as a prefix, against the whole word's 1.
TYPED_PREFIX_WEIGHT = 0.5
#: A clause that adds nothing to the query (a stop word).
_SKIP = wq.Every()
#: The longest word searched: no identifier or word of a notebook is near it, and the work
#: a word costs grows with its length (a 100,000-character word took 16 s).
MAX_WORD_CHARS = 256
#: The most words (and phrase words, filters, exclusions) in one query.
MAX_QUERY_WORDS = 64


class QueryTooLong(NbshelfError):
    """A query past the bounds: a word too long, or too many words."""


def check_bounds(text: str) -> None:
    """Refuse a query with a word longer than ``MAX_WORD_CHARS`` or more than
    ``MAX_QUERY_WORDS`` words, with a message saying which."""
    words = [w for w in text.split() if w != "OR"]  # noqa: S105 - the operator
    longest = max(words, key=len, default="")
    if len(longest) > MAX_WORD_CHARS:
        raise QueryTooLong(
            f"a word of the query is {len(longest):,} characters long; nbshelf searches words "
            f"of up to {MAX_WORD_CHARS} characters")
    if len(words) > MAX_QUERY_WORDS:
        raise QueryTooLong(
            f"the query has {len(words):,} words; nbshelf searches up to {MAX_QUERY_WORDS} "
            "words at a time")


@dataclass
class Part:
    """One clause of a query as the user wrote it, for the partial matches
    (``nbshelf.search.service``): which clauses a notebook may lack, and what to call them.

    Attributes:
        text: the clause as written (``forecast``, ``"time series"``, ``lang:r``,
            ``-julia``; a word being typed is the word, without its ``OR word*``).
        query: what it matches.
        optional: a plain word (or words joined by ``OR``): a partial match may lack it.
            Phrases, filters, prefixes and exclusions stay required.
        negated: an exclusion (``-word``).
        loose: a phrase's words, each with its query: read as optional words only when
            nothing at all matched (the reading of a phrase in the wrong order).
    """

    text: str
    query: wq.Query
    optional: bool = False
    negated: bool = False
    loose: list[tuple[str, wq.Query]] = field(default_factory=list)


@dataclass
class ParsedQuery:
    """The Whoosh query, and the words to highlight in snippets."""

    query: wq.Query
    words: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    plain: bool = False  # True when the input was malformed and read as plain words
    #: Those of ``words`` the query excludes (``-word``): no hit has them to mark.
    excluded: list[str] = field(default_factory=list)
    #: Its clauses in order (stop words left out): what partial matches are made of.
    parts: list[Part] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when nothing searchable was typed."""
        return self.query is wq.NullQuery


def field_terms(part: str, text: str) -> list[str]:
    """The index terms ``text`` stands for in one part (title, markdown, code, outputs...)."""
    if part == "code" or part == "path":
        if re.fullmatch(r"[\w.]+", text) and not text.isdigit():
            return [code_query_term(text)]
        return list(code_terms(text))
    if part in _PROSE:
        return list(prose_terms(text))
    return list(prose_terms(text, stemming=False))


def _variants(text: str, parts: tuple[str, ...]) -> list[list[str]]:
    """The distinct term lists ``text`` stands for across these parts' analyses."""
    found: list[list[str]] = []
    for part in parts:
        terms = field_terms(part, text)
        if terms and terms not in found:
            found.append(terms)
    return found


def word_query(text: str) -> wq.Query | None:
    """A word: found in any part of a notebook (all its terms, as one part analyses them).

    One body term per analysis (prose stem, code identifier, word as written): one to three
    terms in all, where looking in each field would take nine.
    """
    alternatives: list[wq.Query] = [
        wq.Term(BODY, terms[0]) if len(terms) == 1 else wq.And([wq.Term(BODY, t) for t in terms])
        for terms in _variants(text, ("markdown", "code", "outputs"))
    ]
    return wq.Or(alternatives) if len(alternatives) > 1 else (
        alternatives[0] if alternatives else None)


def phrase_query(text: str) -> wq.Query | None:
    """Words in this order, within one part of a notebook (its prose, its code...)."""
    alternatives: list[wq.Query] = [
        wq.Term(BODY, terms[0]) if len(terms) == 1 else ExactPhrase(BODY, terms)
        for terms in _variants(text, ("markdown", "code"))
    ]
    return wq.Or(alternatives) if alternatives else None


def prefix_query(text: str, *, typed: bool = False) -> wq.Query | None:
    """Words starting with ``text`` anywhere in a notebook, or module names; ``typed``: the
    word being typed (``word OR word*``), scored by the best word it starts (``BestPrefix``)."""
    stem = fold(text.rstrip("*"))
    if len(stem) < MIN_PREFIX or not re.fullmatch(r"[\w.]+", stem):
        return None
    prefixes = {stem, stem.replace("_", "")}
    kind, boost = (BestPrefix, TYPED_PREFIX_WEIGHT) if typed else (PreloadedPrefix, 1.0)
    clauses = [kind(BODY, p, boost=boost) for p in sorted(prefixes)]
    return wq.Or([*clauses, kind("imports", stem, boost=boost)])


def filter_query(name: str, value: str) -> wq.Query | None:
    """``lang:julia``, ``import:pandas``, ``title:pivot`` and the like."""
    fieldname = FILTERS[name]
    value = value.strip('"')
    if not value:
        return None
    if fieldname == "lang":
        return wq.Term("lang", normalize_language(value) or value.lower())
    if fieldname in ("imports", "tags", "source", "marking"):
        if value.endswith("*"):
            return wq.Prefix(fieldname, value.rstrip("*").lower())
        return wq.Term(fieldname, value.lower())
    terms = field_terms(fieldname, value)
    if not terms:
        return None
    return wq.And([wq.Term(fieldname, t) for t in terms])


def parse(text: str) -> ParsedQuery:
    """Parse a user's query; malformed input falls back to plain words.

    Raises:
        QueryTooLong: a word or the number of words is past the bounds.
    """
    check_bounds(text)
    if text.count('"') % 2:
        return _plain(text)
    tokens = _TOKEN.findall(text)
    parsed = ParsedQuery(wq.NullQuery)
    required: list[wq.Query] = []
    excluded: list[wq.Query] = []
    parts: list[Part] = []  # in step with ``required``
    exclusions: list[Part] = []
    pending_or = False
    for at, token in enumerate(tokens):
        # "word OR word*": the app's query for a word being typed (nbshelf.search.typed)
        typing = pending_or and at >= 2 and token == f"{tokens[at - 2]}*"
        if token == "OR":  # noqa: S105 - the OR operator, not a password
            if not required:
                return _plain(text)
            pending_or = True
            continue
        if token in ("AND", "NOT") or not re.search(r"\w", token):
            continue  # punctuation and words of a syntax we do not have: nothing to find
        negate = token.startswith("-") and len(token) > 1
        before = len(parsed.words)
        clause = _clause(token[1:] if negate else token, parsed, typed=typing)
        if negate:
            parsed.excluded.extend(parsed.words[before:])
        if clause is _SKIP:
            continue
        if clause is None:
            return _plain(text)
        part = _part(token, clause, negate)
        if negate:
            excluded.append(clause)
            exclusions.append(part)
        elif pending_or:
            # a word being typed: as the whole word, or as the start of one at half weight,
            # whichever scores more (a whole word is not counted twice, and comes first)
            required[-1] = (BestOf([required[-1], clause]) if typing
                            else wq.Or([required[-1], clause]))
            parts[-1] = _either(parts[-1], part, required[-1], typing=typing)
            pending_or = False
        else:
            required.append(clause)
            parts.append(part)
    if pending_or:
        return _plain(text)
    if not required:
        return parsed if not excluded else _plain(text)
    query: wq.Query = wq.And(required) if len(required) > 1 else required[0]
    if excluded:
        query = AndNot(query, wq.Or(excluded))
    parsed.query = query
    parsed.parts = parts + exclusions
    return parsed


def _part(token: str, clause: wq.Query, negate: bool) -> Part:
    """The clause of ``token`` as a ``Part``: optional when it is a plain word."""
    written = token[1:] if negate else token
    if negate:
        return Part(token, clause, negated=True)
    if written.startswith('"'):
        inner = written.strip('"').split()
        loose = [(w, q) for w in inner if fold(w) not in STOP_WORDS
                 and (q := word_query(w)) is not None]
        return Part(token, clause, loose=loose)
    plain = not written.endswith("*") and not (
        ":" in written and written.partition(":")[0].lower() in FILTERS)
    return Part(token.strip("()[]{},;!?") if plain else token, clause, optional=plain)


def _either(before: Part, after: Part, clause: wq.Query, *, typing: bool) -> Part:
    """``before OR after`` as one part: optional when both sides are plain words. A word
    being typed (``word OR word*``) is the word, and stays optional."""
    if typing:
        return Part(before.text, clause, optional=before.optional)
    return Part(f"{before.text} OR {after.text}", clause,
                optional=before.optional and after.optional)


def _clause(token: str, parsed: ParsedQuery, *, typed: bool = False) -> wq.Query | None:
    if token.startswith('"') and token.endswith('"') and len(token) >= 2:
        inner = token[1:-1].strip()
        parsed.words.extend(inner.split())
        return phrase_query(inner) if inner else None
    name, sep, value = token.partition(":")
    if sep and name.lower() in FILTERS:
        if FILTERS[name.lower()] in ("title", "path", "author"):
            parsed.words.append(value.strip('"'))
        return filter_query(name.lower(), value)
    if token.endswith("*") and len(token) > 1:
        parsed.prefixes.append(fold(token.rstrip("*")))
        return prefix_query(token, typed=typed)
    word = token.strip("()[]{},;!?")
    if not word:
        return None
    parsed.words.append(word)
    if fold(word) in STOP_WORDS:
        return _SKIP  # "the", "by": never required (prose does not even index them)
    return word_query(word)


def _plain(text: str) -> ParsedQuery:
    """Every word of ``text``, all required: the reading of a malformed query."""
    words = [w for w in re.findall(r"[\w.]+", text)
             if w not in ("OR", "AND", "NOT") and fold(w) not in STOP_WORDS]
    parts = [Part(w, q, optional=True) for w in words if (q := word_query(w)) is not None]
    if not parts:
        return ParsedQuery(wq.NullQuery, plain=True)
    query = wq.And([p.query for p in parts]) if len(parts) > 1 else parts[0].query
    return ParsedQuery(query, words=words, plain=True, parts=parts)
