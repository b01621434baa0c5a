"""Ranking for identifier-like queries: code that calls the name, in the library's languages.

"read csv", "read_csv", "groupby", "train test split" are names of functions more often
than words. BM25 alone ranks a Julia notebook that says ``CSV.read`` as high as a Python one
that calls ``pd.read_csv(``: both have "read" and "csv". Each notebook's called names are
indexed (``calls``: ``pd.read_csv(`` gives ``readcsv`` and ``pdreadcsv``), and a query
whose words, joined, name something called somewhere (for a lone plain word: called in
more notebooks than write it in prose) is an identifier-like query: the
notebooks that call it get a bonus, a larger one in the languages most of the library is
written in. The bonus only reorders: what matches is what matched before.
"""

from __future__ import annotations

import re
from typing import Any
from weakref import WeakKeyDictionary

from whoosh import query as wq
from whoosh.searching import Searcher

from nbshelf.search.analysis import canonical
from nbshelf.search.query import field_terms

#: The index field of called names (see ``nbshelf.search.analysis.called_names``).
CALLS = "calls"
#: Added to the score of a notebook that calls the name the query's words spell. A typical
#: word's BM25F score is 2 to 8: a call outweighs a passing mention, not a title match.
CALL_BONUS = 4.0
#: Added on top when that notebook is in one of the library's dominant languages.
LANGUAGE_BONUS = 2.0
#: A language is dominant when at least this share of the notebooks are written in it.
DOMINANT_SHARE = 0.3
#: The longest run of words joined into one name ("train test split" is three).
MAX_JOINED = 4
# A plain word of a query: no filter, quote, exclusion, star or operator.
_NAME = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)*")
_OPERATORS = {"OR", "AND", "NOT"}

_DOMINANT: WeakKeyDictionary[Any, frozenset[str]] = WeakKeyDictionary()


def dominant_languages(searcher: Searcher) -> frozenset[str]:
    """The languages at least ``DOMINANT_SHARE`` of the library's notebooks are in (read once
    per index reader: its documents never change)."""
    reader = searcher.reader()
    found = _DOMINANT.get(reader)
    if found is None:
        total = reader.doc_count()
        counts: dict[str, int] = {}
        if total and "lang" in reader.schema:
            for term in reader.lexicon("lang"):
                name = term.decode() if isinstance(term, bytes) else str(term)
                counts[name] = reader.doc_frequency("lang", name)
        found = frozenset(lang for lang, n in counts.items() if n >= DOMINANT_SHARE * total)
        _DOMINANT[reader] = found
    return found


def name_runs(text: str) -> list[list[str]]:
    """Runs of plain words, in order; a filter, a phrase, an operator or an exclusion ends a
    run (``lang:julia read csv`` has one run, ``read csv``)."""
    runs: list[list[str]] = [[]]
    for token in text.split():
        if _NAME.fullmatch(token) and token not in _OPERATORS:
            runs[-1].append(token)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def called_forms(text: str) -> list[str]:
    """The names a query may spell, as the ``calls`` field holds them: every run of two to
    ``MAX_JOINED`` words joined (``read csv`` -> ``readcsv``), and a lone word, or a word
    that is clearly a name (``read_csv``, ``pd.read_csv``), as itself."""
    runs = name_runs(text)
    alone = len(runs) == 1 and len(runs[0]) == 1
    forms: list[str] = []
    for run in runs:
        for size in range(1, min(MAX_JOINED, len(run)) + 1):
            for start in range(len(run) - size + 1):
                words = run[start : start + size]
                if size == 1 and not (alone or "_" in words[0] or "." in words[0]):
                    continue  # "plot" in "scatter plot" is a word, not the name plot()
                form = canonical("".join(words).replace(".", ""))
                if form not in forms:
                    forms.append(form)
    return forms


def _mostly_a_word(searcher: Searcher, text: str, form: str) -> bool:
    """True when a lone plain word (``unicode``, ``plot``) is in more notebooks' prose than
    their calls: a word people write about, not only a name they call."""
    words = text.split()
    if len(words) != 1 or "_" in words[0] or "." in words[0] or canonical(words[0]) != form:
        return False
    prose = field_terms("markdown", words[0])
    said = searcher.doc_frequency("body", prose[0]) if len(prose) == 1 else 0
    return said > searcher.doc_frequency(CALLS, form)


def ranked(searcher: Searcher, text: str, query: wq.Query) -> wq.Query:
    """``query``, with the call and language bonuses when ``text`` is identifier-like (the
    same matches; only their order changes)."""
    reader = searcher.reader()
    if CALLS not in reader.schema:
        return query
    forms = [f for f in called_forms(text) if f and reader.doc_frequency(CALLS, f)
             and not _mostly_a_word(searcher, text, f)]
    if not forms:
        return query
    calls: wq.Query = wq.Or([wq.Term(CALLS, f) for f in forms])
    # (a constant score of 0 would count as 1: Whoosh reads a zero weight as "none given")
    bonus: list[wq.Query] = [wq.ConstantScoreQuery(calls, CALL_BONUS)] if CALL_BONUS else []
    languages = dominant_languages(searcher)
    if languages and LANGUAGE_BONUS:
        in_language = wq.Or([wq.Term("lang", lang) for lang in sorted(languages)])
        bonus.append(wq.ConstantScoreQuery(wq.And([calls, in_language]), LANGUAGE_BONUS))
    return wq.AndMaybe(query, wq.Or(bonus)) if bonus else query
