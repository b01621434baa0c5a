"""Partial matches: when few notebooks have every word of a query, those with most of them.

"forecast time series" used to find the three notebooks that say all three words, and not
"Working with Time Series". When fewer than ``PARTIAL_BELOW`` notebooks match every word,
the list goes on with the notebooks that match some of the plain words, ranked below every
exact match: more words matched first, then BM25 (a coordination factor over BM25), each
with the words it lacks. A word no notebook of the library mentions is dropped, and a note
says so. Filters, phrases, prefixes and exclusions stay required: only plain words become
optional, and a query of one plain word has no partial matches.

The pass reads each word's postings once, with their BM25F scores (no second query for the
union of the words), and runs only when the exact matches are few (``bench/search.py``
measures it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from whoosh import query as wq
from whoosh.searching import Searcher

from nbshelf.search.query import ParsedQuery, Part

#: Fewer exact matches than this, and the list continues with partial ones: a screenful of
#: exact matches is what a reader looks at; past it, notebooks lacking a word are noise.
PARTIAL_BELOW = 10
#: The most partial matches listed (their count is still given whole): a reader who wants
#: more than these narrows the query.
MAX_PARTIAL = 100

#: A partial match: the content's hash, its score, its document number, the words it lacks.
Partial = tuple[str, float, int, tuple[str, ...]]


def restrict(query: wq.Query, only: set[str] | None) -> wq.Query:
    """``query``, kept to the contents whose hashes are in ``only`` when given (as
    ``nbshelf.search.service`` keeps the exact matches)."""
    if only is None:
        return query
    among: wq.Query = (wq.Or([wq.Term("hash", h) for h in sorted(only)]) if only
                       else wq.NullQuery)
    return wq.And([query, among])


@dataclass
class PartialMatches:
    """The partial matches of a query.

    Attributes:
        best: the best of them (at most the ``room`` asked for), best first.
        total: how many notebooks match some, not all, of the words.
        dropped: the words no notebook mentions.
        note: what the user reads about them, or None.
    """

    best: list[Partial]
    total: int
    dropped: list[str]
    note: str | None


def partial_matches(
    searcher: Searcher, parsed: ParsedQuery, only: set[str] | None, room: int, *,
    loosen: bool = False,
) -> PartialMatches | None:
    """The notebooks that match some, not all, of the plain words of ``parsed`` (and all
    its filters, phrases and prefixes, and none of its exclusions), best first; with the
    words no notebook mentions, and the note that says so. None when the query has fewer
    than two plain words, or none that any notebook has.

    Args:
        searcher: the index's searcher.
        parsed: the query.
        only: the contents a filter the index does not hold (``health:``) keeps, or None.
        room: how many of the best to return (all are counted).
        loosen: read its phrases as plain words too: for a query nothing matched at all (a
            phrase in the wrong order); every match then lacks the phrase.
    """
    if loosen and not any(p.loose for p in parsed.parts):
        return None  # no phrase to loosen: the plain words were tried already
    parts = _loosened(parsed.parts) if loosen else parsed.parts
    optional = [p for p in parts if p.optional]
    if len(optional) < (1 if loosen else 2):
        return None
    scores = [_scores(searcher, p.query) for p in optional]
    kept = [at for at, found in enumerate(scores) if found]
    if not kept:
        return None  # no word is anywhere: the spelling suggestion is the better help
    dropped = [optional[at].text for at in range(len(optional)) if not scores[at]]
    # Each document's words and score, the sum of its words' BM25F scores (as an Or of the
    # words scores it), from one pass over each word's postings.
    found: dict[int, tuple[list[int], float]] = {}
    for at in kept:
        for docnum, score in scores[at].items():
            words, total = found.get(docnum, ([], 0.0))
            words.append(at)
            found[docnum] = (words, total + score)
    allowed, refused = _gate(searcher, parts, only, found)
    whole = len(optional)  # every word: an exact match, listed above the partial ones
    ranked = sorted(
        (-len(words), -score, docnum) for docnum, (words, score) in found.items()
        if (loosen or len(words) < whole) and (allowed is None or docnum in allowed)
        and docnum not in refused
    )  # more words first, then the better score; the document number keeps ties stable
    phrases = tuple(p.text for p in parsed.parts if p.loose) if loosen else ()
    best: list[Partial] = []
    for _, negative, docnum in ranked[: max(room, 0)]:
        has = found[docnum][0]
        # the words other notebooks have first: the dropped ones, which every hit lacks,
        # are said once in the note (and come last, where a short line cuts them off)
        missing = phrases + tuple(optional[at].text for at in kept if at not in has) + tuple(
            dropped)
        best.append((searcher.stored_fields(docnum)["hash"], -negative, docnum, missing))
    return PartialMatches(best, len(ranked), dropped, _note(parts, dropped))


def _scores(searcher: Searcher, query: wq.Query) -> dict[int, float]:
    """The BM25F score of every document ``query`` matches, by document number."""
    scores: dict[int, float] = {}
    context = searcher.context()
    for sub, offset in searcher.leaf_searchers():
        matcher = query.matcher(sub, context)
        while matcher.is_active():
            scores[offset + matcher.id()] = matcher.score()
            matcher.next()
    return scores


def _gate(searcher: Searcher, parts: list[Part], only: set[str] | None,
          among: Iterable[int]) -> tuple[set[int] | None, set[int]]:
    """Of the documents ``among``, those a partial match must be among (None: any), and
    those it must not be: all of the query's filters, phrases and prefixes, none of its
    exclusions, ``only``. Only those documents are checked (``members``): a filter
    such as ``lang:python`` holds most of the library."""
    strict = [p.query for p in parts if not p.optional and not p.negated]
    required: wq.Query | None = None
    if strict:
        required = wq.And(strict) if len(strict) > 1 else strict[0]
    if only is not None:
        required = restrict(required if required is not None else wq.Every(), only)
    docnums = list(among)
    allowed = None if required is None else members(searcher, required, docnums)
    excluded = [p.query for p in parts if p.negated]
    refused = members(searcher, wq.Or(excluded), docnums) if excluded else set()
    return allowed, refused


def members(searcher: Searcher, query: wq.Query, docnums: Iterable[int]) -> set[int]:
    """Those of ``docnums`` that ``query`` matches: its matcher skips from one to the next,
    so the cost is that of the documents asked about, not of all those it matches."""
    wanted = sorted(set(docnums))
    found: set[int] = set()
    if not wanted:
        return found
    context = searcher.boolean_context()
    for sub, offset in searcher.leaf_searchers():
        end = offset + sub.doc_count_all()
        matcher = query.matcher(sub, context)
        for docnum in wanted:
            if docnum < offset or docnum >= end:
                continue
            local = docnum - offset
            if not matcher.is_active():
                break
            if matcher.id() < local:
                matcher.skip_to(local)
                if not matcher.is_active():
                    break
            if matcher.id() == local:
                found.add(docnum)
    return found


def _loosened(parts: list[Part]) -> list[Part]:
    """The parts with each phrase read as its words (optional, as plain words are)."""
    loose: list[Part] = []
    for part in parts:
        if part.loose:
            loose += [Part(word, query, optional=True) for word, query in part.loose]
        else:
            loose.append(part)
    return loose


def _note(parts: list[Part], dropped: list[str]) -> str | None:
    """"No notebook mentions “forecast”; showing “time series”." (None: nothing dropped)."""
    if not dropped:
        return None
    gone = set(dropped)
    shown = " ".join(p.text for p in parts if p.text not in gone)
    named = " or ".join(f"“{word}”" for word in dict.fromkeys(dropped))
    return f"No notebook mentions {named}; showing “{shown}”."
