"""Answering a search: ranked notebooks, each with the cells that matched, and facets.

Snippets are made only for the hits returned, from the matching cells' own text (the
notebook's blob, parsed once and cached), never by re-tokenising whole documents.
"""

from __future__ import annotations

import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine
from whoosh import collectors
from whoosh import query as wq
from whoosh.searching import Results, Searcher

from nbshelf.catalog.queries import present_places
from nbshelf.errors import NotebookInvalid
from nbshelf.notebook import read_cells
from nbshelf.notebook.doctext import CellText, cell_texts, unpack_cells
from nbshelf.records import Place
from nbshelf.search.analysis import (
    _IDENT,
    _PARTS,
    _WORD,
    code_terms,
    code_word_terms,
    fold,
    fold_text,
    prose_terms,
    prose_word_terms,
)
from nbshelf.search.meaning import MAX_MEANING, ByMeaning, Meaning, plain_words
from nbshelf.search.meaning import best_cell as meaning_cell
from nbshelf.search.partial import MAX_PARTIAL, PARTIAL_BELOW, Partial, partial_matches
from nbshelf.search.plaintext import markdown_text
from nbshelf.search.query import BODY, ParsedQuery, field_terms, parse
from nbshelf.search.ranking import dominant_languages, ranked
from nbshelf.search.rerank import (
    RERANK_DEPTH,
    adjacent_pairs,
    adjacent_shares,
    expanded_query,
    related_scores,
    reorder,
)
from nbshelf.search.typed import as_you_type
from nbshelf.similar.related import RelatedTerms
from nbshelf.store import BlobStore

if TYPE_CHECKING:
    from nbshelf.search.index import ProgressFn as IndexProgressFn
    from nbshelf.search.index import SearchIndex
    from nbshelf.search.progressive import ProgressiveIndex, RoundFn

MAX_SNIPPETS = 3
#: An excerpt's length: more than a wide row shows (the app elides it to the width it
#: paints, around the match), little enough for a line of the command line's output.
SNIPPET_CHARS = 320
#: Of which before the first match: a row centres the match when it has room for this.
SNIPPET_BEFORE = 120
#: Matches looked at in one cell: enough to rank cells and to mark an excerpt, and a cell
#: that mentions ``DataFrame`` 500 times costs no more than one that mentions it 24 times.
MAX_SPANS = 24
#: Characters of cell text kept for snippets (about twice that in bytes): enough for the
#: hits of the last few dozen queries, so typing a query word by word re-reads few blobs.
_CELL_CACHE_CHARS = 16_000_000
#: Markdown cells kept as read (their markup taken out), for the snippets of the next query.
_READ_CELLS = 20_000


@dataclass(frozen=True)
class Snippet:
    """A matching cell: its index, kind, an excerpt, and where the terms are in it."""

    cell: int
    kind: str
    text: str
    highlights: list[tuple[int, int]]

    def to_json(self) -> dict[str, Any]:
        """cell, kind, text and highlights (start, end offsets into text)."""
        return {"cell": self.cell, "kind": self.kind, "text": self.text,
                "highlights": [list(h) for h in self.highlights]}


@dataclass(frozen=True)
class SearchHit:
    """One notebook in the results (identical copies elsewhere are in ``also_at``)."""

    id: int
    source: str
    path: str
    title: str
    language: str | None
    score: float
    snippets: list[Snippet]
    also_at: list[Place]
    #: True when it lacks some of the query's words (it comes after every exact match).
    partial: bool = False
    #: The words (or ``OR`` groups, or a loosened phrase) of the query it lacks.
    missing: tuple[str, ...] = ()
    #: True when it was found by meaning (``nbshelf.search.meaning``), not by every word.
    by_meaning: bool = False
    #: Why it was found by meaning, as a user reads it ("" when not by meaning).
    reason: str = ""
    #: The cell (index from 0) where what it is about is densest, for a meaning hit.
    best_cell: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The contract's result object."""
        return {
            "id": self.id, "source": self.source, "path": self.path, "title": self.title,
            "language": self.language, "score": round(self.score, 4),
            "snippets": [s.to_json() for s in self.snippets],
            "also_at": [{"id": a.id, "source": a.source, "path": a.path} for a in self.also_at],
            "partial": self.partial, "missing": list(self.missing),
            "by_meaning": self.by_meaning, "reason": self.reason, "best_cell": self.best_cell,
        }


@dataclass
class SearchResults:
    """The answer to one query: the exact matches first, then the partial ones."""

    query: str
    #: How many notebooks match the whole query (the exact matches).
    total: int
    hits: list[SearchHit] = field(default_factory=list)
    #: When nothing matched: a corrected query that would match, if one is close.
    suggestion: str | None = None
    #: True when the query was malformed and read as plain words.
    plain: bool = False
    #: How many notebooks match some of the words but not all (``partial_matches``): the
    #: best of them follow the exact ones in ``hits``, each marked ``partial``.
    partial_total: int = 0
    #: Words of the query no notebook of the library mentions: searched without them.
    dropped: list[str] = field(default_factory=list)
    #: What the user reads about the dropped words ("No notebook mentions ..."), or None.
    note: str | None = None
    #: How many notebooks (not exact matches) are close to the query in meaning, counted
    #: apart: ``total`` stays the number of exact matches.
    meaning_total: int = 0

    @property
    def partial(self) -> bool:
        """True when some hits have only some of the words."""
        return any(h.partial for h in self.hits)

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON object."""
        return {
            "query": self.query, "total": self.total, "partial_total": self.partial_total,
            "meaning_total": self.meaning_total,
            "results": [h.to_json() for h in self.hits],
            "suggestion": self.suggestion, "partial": self.partial, "plain": self.plain,
            "dropped": list(self.dropped), "note": self.note,
        }


@dataclass
class IdMatches:
    """The answer to one query as notebook ids (no snippets): what the app's list shows.

    Attributes:
        ids: the exact matches, best first, then the partial ones.
        total: how many notebooks match the whole query.
        partial_total: how many match some of the words only.
        missing: for each partial match's id, the words it lacks.
        dropped: the words no notebook mentions.
        note: what the user reads about them, or None.
        reasons: for each id found by meaning, why (the sentence a user reads).
        meaning_total: how many notebooks (not exact matches) are close in meaning.
    """

    ids: list[int]
    total: int
    partial_total: int = 0
    missing: dict[int, tuple[str, ...]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    note: str | None = None
    reasons: dict[int, str] = field(default_factory=dict)
    meaning_total: int = 0


@dataclass(frozen=True)
class _After:
    """A match listed after the exact ones: partial (``missing`` is not None), found by
    meaning (``meant`` is not None), or both."""

    hash: str
    score: float
    docnum: int
    missing: tuple[str, ...] | None
    meant: ByMeaning | None


@dataclass
class _Found:
    """A query's matches before the catalog is asked: (hash, score, docnum) of the exact
    ones, best first; then the partial ones and those found by meaning, in their order."""

    exact: list[tuple[str, float, int]]
    total: int
    after: list[_After] = field(default_factory=list)
    partial_total: int = 0
    dropped: list[str] = field(default_factory=list)
    note: str | None = None
    meaning_total: int = 0


class Searching:
    """Runs queries against an open searcher and the catalog."""

    def __init__(self, engine: Engine, store: BlobStore, meaning: Meaning | None = None) -> None:
        self.engine = engine
        self.store = store
        self.meaning = meaning or Meaning(None)
        self._cells: OrderedDict[str, list[tuple[CellText, str]]] = OrderedDict()
        self._cached_chars = 0
        self._read: OrderedDict[tuple[str, int], tuple[CellText, str]] = OrderedDict()

    def clear_cache(self) -> None:
        """Forget the cells kept for snippets (the next snippets read their blobs again)
        and the postings blocks kept (the next search decompresses its own)."""
        from nbshelf.search.index import forget_blocks

        forget_blocks()
        self._cells.clear()
        self._read.clear()
        self._cached_chars = 0

    def _as_read(self, digest: str, cell: CellText) -> tuple[CellText, str]:
        """A markdown cell as a reader sees it (``_as_read``), with its folded text; made
        only for the cells a query may match (60 µs a cell), and kept for the next."""
        key = (digest, cell.index)
        found = self._read.get(key)
        if found is None:
            plain = _as_read(cell)
            found = self._read[key] = (plain, fold_text(plain.text))
            if len(self._read) > _READ_CELLS:
                self._read.popitem(last=False)
        return found

    def prepare(self, searcher: Searcher) -> None:
        """Read what searches read once per index reader (the library's dominant languages,
        the related-terms model and its rows' document numbers), so that the first search
        typed does not wait for them."""
        dominant_languages(searcher)
        self.meaning.prepare(searcher)

    def search(self, searcher: Searcher, text: str, limit: int = 20,
               only: set[str] | None = None, *, meaning: bool = True) -> SearchResults:
        """Ranked results for ``text`` with snippets for each returned hit; of the contents
        in ``only`` when given (a filter the index does not hold, such as ``health:``).

        When fewer than ``PARTIAL_BELOW`` notebooks match every word, the best notebooks
        that match some of them follow, marked (see ``partial_matches``); with ``meaning``,
        so do the notebooks close to the query in meaning (see ``_found``)."""
        parsed = parse(text)
        answer = SearchResults(text, 0, plain=parsed.plain)
        found = self._found(searcher, text, parsed, limit, only, meaning=meaning)
        if found is None:
            return answer
        answer.total, answer.partial_total = found.total, found.partial_total
        answer.dropped, answer.note = found.dropped, found.note
        answer.meaning_total = found.meaning_total
        if not found.exact and parsed.words and not found.after:
            answer.suggestion = _suggest(searcher, parsed, text)
        stored = _stored_cells(searcher)
        answer.hits = self._hits(found.exact, parsed, stored)
        if found.after:
            answer.hits += self._hits([(a.hash, a.score, a.docnum) for a in found.after],
                                      parsed, stored, after=found.after)
        return answer

    def _found(self, searcher: Searcher, text: str, parsed: ParsedQuery, limit: int | None,
               only: set[str] | None, *, partial: bool = True,
               meaning: bool = True) -> _Found | None:
        """The exact matches of ``parsed`` (the best ``limit``); then, when they are few,
        the best partial ones to fill ``limit`` (at most ``MAX_PARTIAL``); then, with
        ``meaning``, the notebooks close in meaning (at most ``MAX_MEANING``).

        Exact matches always come first, then the partial ones (most words first), then
        those found by meaning only. With ``meaning`` and a related-terms model, a query of
        plain words has each group reordered by meaning (``nbshelf.search.rerank``); an
        identifier query (``ranking.ranked`` reorders it) never is. None when nothing is
        asked."""
        query = _among(parsed, only)
        if query is None:
            return None
        ordered = ranked(searcher, text, query)
        identifier = ordered is not query
        model = self.meaning.model() if meaning and partial and not identifier else None
        reordering = _Reordering.of(searcher, parsed, model)
        depth = limit
        if reordering is not None and limit is not None:
            depth = max(limit, RERANK_DEPTH)  # the best of more matches than are listed
        results = top_matches(searcher, ordered, depth)
        found = _Found(_scored(results), len(results))
        room = MAX_PARTIAL if limit is None else limit - min(limit, len(found.exact))
        some = None
        if found.total < PARTIAL_BELOW and partial:
            asked = min(MAX_PARTIAL, room if reordering is None else max(room, RERANK_DEPTH))
            some = partial_matches(searcher, parsed, only, asked)
            if some is None and not found.total:
                some = partial_matches(searcher, parsed, only, asked, loosen=True)
        if reordering is not None:
            found.exact, best = reordering.apply(found.exact,
                                                 some.best if some is not None else [])
            if some is not None:
                some.best = best[: max(0, room)]
        found.exact = found.exact[:limit]
        if some is not None:
            found.partial_total = some.total
            found.dropped, found.note = some.dropped, some.note
        meant = None
        if meaning and partial and room > 0:
            exact = {h for h, _, _ in found.exact}
            meant = self.meaning.matches(searcher, parsed, only, exact, min(MAX_MEANING, room))
        if meant is not None:
            found.meaning_total = meant.total
        found.after = _after(some.best if some is not None else [],
                             meant.best if meant is not None else [])
        if limit is not None:
            found.after = found.after[: max(0, limit - len(found.exact))]
        return found

    def suggest(self, searcher: Searcher, text: str, *, rare: int = 0,
                typing: bool = False) -> str | None:
        """``text`` with its misspelt words corrected, or None when none is (see
        ``_suggest``); ``typing``: its last word is being typed (``nbshelf.search.typed``),
        so a word that starts known words is no typo."""
        parsed = parse(as_you_type(text) if typing else text)
        return _suggest(searcher, parsed, text.strip(), rare=rare)

    def search_ids(self, searcher: Searcher, text: str, limit: int | None = None,
                   only: set[str] | None = None, *, partial: bool = True,
                   meaning: bool = True) -> IdMatches:
        """Ranked ids (each content's first place), exact matches then partial ones and
        those found by meaning as ``search`` gives them (neither when ``partial`` is False:
        every exact match only; no meaning hits when ``meaning`` is False), with no
        snippets; of the contents in ``only`` when given."""
        parsed = parse(text)
        found = self._found(searcher, text, parsed, limit, only, partial=partial,
                            meaning=meaning)
        if found is None:
            return IdMatches([], 0)
        hashes = [h for h, _, _ in found.exact]
        after = {a.hash: a for a in found.after}
        places = self._places([*hashes, *after])
        ids, missing, reasons = [], {}, {}
        for digest in [*hashes, *after]:
            if places.get(digest):
                ids.append(places[digest][0].id)
                extra = after.get(digest)
                if extra is not None and extra.missing is not None:
                    missing[ids[-1]] = extra.missing
                if extra is not None and extra.meant is not None:
                    reasons[ids[-1]] = extra.meant.reason
        return IdMatches(ids, found.total, found.partial_total, missing, found.dropped,
                         found.note, reasons, found.meaning_total)

    def facets(self, searcher: Searcher, text: str,
               only: set[str] | None = None) -> dict[str, dict[str, int]]:
        """Counts by language, source, module and tag over every notebook matching ``text``
        (of the contents in ``only``, when given: a filter the index does not hold)."""
        parsed = parse(text)
        query = wq.Every() if parsed.empty else parsed.query
        counts: dict[str, Counter[str]] = {k: Counter() for k in
                                           ("language", "source", "import", "tag")}
        for docnum in searcher.docs_for_query(query):
            fields = searcher.stored_fields(docnum)
            if only is not None and fields.get("hash") not in only:
                continue
            stored = fields.get("facets") or {}
            if stored.get("language"):
                counts["language"][stored["language"]] += 1
            counts["source"].update(stored.get("sources", []))
            counts["import"].update(stored.get("imports", []))
            counts["tag"].update(stored.get("tags", []))
        return {name: dict(c.most_common(50)) for name, c in counts.items()}

    def snippets_of(self, searcher: Searcher | None, digest: str, text: str) -> list[Snippet]:
        """The snippets of one content for ``text`` (the rows the app shows)."""
        docnum = None if searcher is None else searcher.document_number(hash=digest)
        stored = None
        if searcher is not None and docnum is not None:
            stored = partial(_stored_cells(searcher), docnum)
        return self.snippets(digest, parse(text), stored)

    # -- hits --------------------------------------------------------------------------------

    def _hits(self, scored: list[tuple[str, float, int]], parsed: ParsedQuery,
              stored: Callable[[int], bytes],
              after: list[_After] | None = None) -> list[SearchHit]:
        """The hits of these matches; ``after``: they come after the exact ones (partial,
        found by meaning, or both), one for each."""
        if not scored:
            return []
        places = self._places([h for h, _, _ in scored])
        hits: list[SearchHit] = []
        for at, (digest, score, docnum) in enumerate(scored):
            where = places.get(digest)
            if not where:
                continue  # not in the catalog any more: the index is catching up
            first, *others = where
            extra = after[at] if after is not None else None
            missing = extra.missing if extra is not None else None
            meant = extra.meant if extra is not None else None
            cells = partial(stored, docnum)
            hits.append(SearchHit(
                id=first.id, source=first.source, path=first.path, title=first.title,
                language=first.language, score=score,
                snippets=self.snippets(digest, parsed, cells),
                also_at=list(others), partial=missing is not None, missing=missing or (),
                by_meaning=meant is not None, reason=meant.reason if meant else "",
                best_cell=self._meaning_cell(digest, cells, meant) if meant else None,
            ))
        return hits

    def _meaning_cell(self, digest: str, stored: Callable[[], bytes] | None,
                      meant: ByMeaning) -> int | None:
        """Where a meaning hit's terms are densest (its cells as cached for snippets)."""
        texts = self._cell_texts(digest, stored)
        return meaning_cell((cell for cell, _ in texts), meant.terms)

    def meaning_of(self, searcher: Searcher | None, digest: str, text: str
                   ) -> tuple[str, int | None] | None:
        """Why one content is close to ``text`` in meaning, and its best cell; None when it
        is not (or there is no model): what the app shows for a hit it opens."""
        from nbshelf.search.meaning import explain, fold_query, plain_words

        model = self.meaning.model()
        row = model.row(digest) if model is not None else None
        if model is None or row is None:
            return None
        query = fold_query(model, plain_words(parse(text)))
        if query is None:
            return None
        reason, terms = explain(model, query, row)
        docnum = None if searcher is None else searcher.document_number(hash=digest)
        stored = None
        if searcher is not None and docnum is not None:
            stored = partial(_stored_cells(searcher), docnum)
        meant = ByMeaning(digest, 0.0, docnum or 0, reason, terms)
        return reason, self._meaning_cell(digest, stored, meant)

    def _places(self, hashes: list[str]) -> dict[str, list[Place]]:
        with self.engine.connect() as conn:
            return present_places(conn, hashes)

    # -- snippets ----------------------------------------------------------------------------

    def _cell_texts(
        self, digest: str, stored: Callable[[], bytes] | None
    ) -> list[tuple[CellText, str]]:
        """The content's cells with their folded text (for a fast first look), cached.

        They come from the index's copy (``stored``) when there is one: a fraction of the
        cost of reading and parsing the notebook, whose outputs may weigh megabytes.
        """
        cached = self._cells.get(digest)
        if cached is not None:
            self._cells.move_to_end(digest)
            return cached
        found = unpack_cells(stored()) if stored is not None else None
        if found is None:
            try:
                found = cell_texts(read_cells(self.store.read(digest))[1])
            except (OSError, NotebookInvalid):
                found = []
        texts = [(c, fold_text(c.text)) for c in found]
        self._cells[digest] = texts
        self._cached_chars += _chars(texts)
        while self._cached_chars > _CELL_CACHE_CHARS and len(self._cells) > 1:
            self._cached_chars -= _chars(self._cells.popitem(last=False)[1])
        return texts

    def snippets(self, digest: str, parsed: ParsedQuery,
                 stored: Callable[[], bytes] | None = None) -> list[Snippet]:
        """Up to three best-matching cells of a content, with the query's terms marked.

        ``stored`` gives the index's packed copy of the content's cells, when the caller has
        the content's document in the index at hand.
        """
        wanted = _wanted_terms(parsed)
        if not wanted["code"] and not wanted["markdown"] and not parsed.prefixes:
            return []
        needles = _needles(parsed)
        memo: dict[tuple[str, str], bool] = {}
        ranked: list[tuple[tuple[int, int, int], CellText, list[tuple[int, int]]]] = []
        for cell, folded in self._cell_texts(digest, stored):
            if not any(n in folded for n in needles):
                continue  # no word of the query can be in this cell: skip tokenising it
            spans = _match_spans(cell, folded, needles, wanted, parsed.prefixes, memo)
            if spans:
                words = {cell.text[s:e].lower() for s, e in spans}
                strong = {w for w in words if _is_strong(cell, w, wanted)}
                distinct = len(words)
                ranked.append(((len(strong), distinct, len(spans)), cell, spans))
        ranked.sort(key=lambda r: (tuple(-x for x in r[0]), r[1].index))
        found: list[Snippet] = []
        for _, cell, spans in ranked:
            if len(found) == MAX_SNIPPETS:
                break
            if cell.kind in ("markdown", "raw"):
                # Shown as a reader sees it, markup out: matched again in that text (only
                # for the cells shown: taking the markup out costs more than matching).
                cell, folded = self._as_read(digest, cell)
                spans = _match_spans(cell, folded, needles, wanted, parsed.prefixes, memo)
                if not spans:
                    continue  # its words were in the markup only (a link's address)
            found.append(_excerpt(cell, spans))
        return found


def _after(some: list[Partial], meant: list[ByMeaning]) -> list[_After]:
    """The matches listed after the exact ones: the partial ones in their order, then the
    meaning hits they do not hold (a content found both ways is listed once, partial and by
    meaning). Not fused by rank: on the development half of ``bench/meaning_eval.py``'s
    questions, fusing them put notebooks that share no word of the question above those
    that lack one (corpus hit@5 0.569 fused, 0.604 one after the other)."""
    partial_of = {h: (score, docnum, missing) for h, score, docnum, missing in some}
    found: list[_After] = []
    meant_of = {m.hash: m for m in meant}
    for digest, (score, docnum, missing) in partial_of.items():
        found.append(_After(digest, score, docnum, missing, meant_of.get(digest)))
    found += [_After(m.hash, m.score, m.docnum, None, m) for m in meant
              if m.hash not in partial_of]
    return found


@dataclass
class _Reordering:
    """What reorders a plain query's matches by meaning (``nbshelf.search.rerank``): its
    neighbouring word pairs, and its weights over the related terms."""

    searcher: Searcher
    model: RelatedTerms
    pairs: list[tuple[str, str]]
    weights: npt.NDArray[np.float32] | None

    @classmethod
    def of(cls, searcher: Searcher, parsed: ParsedQuery,
           model: RelatedTerms | None) -> _Reordering | None:
        """None when there is nothing to reorder by: no model, or no plain word."""
        words = plain_words(parsed)
        if model is None or not words:
            return None
        return cls(searcher, model, adjacent_pairs(parsed), expanded_query(model, words))

    def apply(self, exact: list[tuple[str, float, int]], some: list[Partial]
              ) -> tuple[list[tuple[str, float, int]], list[Partial]]:
        """The exact matches and the partial ones, each group reordered (the first
        ``RERANK_DEPTH`` of each; partial ones within each group lacking as many words).
        The word pairs are looked for in all of them at once: each pair's matchers are
        made once per query."""
        head = exact[:RERANK_DEPTH]
        docnums = [d for _, _, d in head] + [d for _, _, d, _ in some]
        hashes = [h for h, _, _ in head] + [h for h, _, _, _ in some]
        shares = adjacent_shares(self.searcher, self.pairs, docnums)
        related = (np.zeros(len(docnums)) if self.weights is None
                   else related_scores(self.model, self.weights, hashes))
        exact = reorder(head, shares[: len(head)], related[: len(head)]) + exact[RERANK_DEPTH:]
        groups: dict[int, list[int]] = {}
        for at, match in enumerate(some, start=len(head)):
            groups.setdefault(len(match[3]), []).append(at)
        ordered: list[Partial] = []
        for lacking in sorted(groups):
            ats = groups[lacking]
            group = [some[at - len(head)] for at in ats]
            scored = [(h, s, at) for at, (h, s, _, _) in zip(ats, group, strict=True)]
            ordered += [some[at - len(head)] for _, _, at in
                        reorder(scored, shares[ats], related[ats])]
        return exact, ordered


def _as_read(cell: CellText) -> CellText:
    """A cell's text as a reader sees it: markdown without its markup (``**``, tags, TeX);
    code and outputs as they are. Snippets are cut from it and matched in it."""
    if cell.kind in ("markdown", "raw"):
        return CellText(cell.index, cell.kind, markdown_text(cell.text))
    return cell


def _scored(results: Results) -> list[tuple[str, float, int]]:
    return [(hit["hash"], hit.score, hit.docnum) for hit in results]


def _stored_cells(searcher: Searcher) -> Callable[[int], bytes]:
    """The packed cells of a document of this searcher (empty when its index has none)."""
    reader = searcher.reader()
    if not reader.has_column("cells"):
        return lambda docnum: b""
    column = reader.column_reader("cells")
    return lambda docnum: column[docnum]


def _chars(texts: list[tuple[CellText, str]]) -> int:
    return sum(len(cell.text) for cell, _ in texts)


def _among(parsed: ParsedQuery, only: set[str] | None) -> wq.Query | None:
    """The query, kept to the contents in ``only`` when given; None when nothing is asked
    (an empty query and no ``only``). An empty query with ``only`` is every one of them."""
    if only is None:
        return None if parsed.empty else parsed.query
    among: wq.Query = (wq.Or([wq.Term("hash", h) for h in sorted(only)]) if only
                       else wq.NullQuery)
    return among if parsed.empty else wq.And([parsed.query, among])


def top_matches(searcher: Searcher, query: wq.Query, limit: int | None) -> Results:
    """The best ``limit`` matches (all when None), with every match counted.

    Whoosh's default collector keeps replacing the matcher with a pruned one once its top
    list is full: ``len()`` of its results then runs the whole query a second time. Visiting
    every match once, without pruning, gives the same top list and the exact count in less
    time than that second run (``bench/search.py``).
    """
    if limit is None:
        return searcher.search(query, limit=None)
    collector = collectors.TopCollector(limit=limit, usequality=False, replace=0)
    searcher.search_with_collector(query, collector)
    return collector.results()


def _needles(parsed: ParsedQuery) -> set[str]:
    """Substrings one of which any matching cell's folded text must contain.

    A Porter stem less its last letter is a prefix of every word with that stem, and an
    identifier always contains its first part, so no matching cell is ever skipped.
    """
    needles = set(parsed.prefixes)
    for word in parsed.words:
        parts = [p for piece in re.findall(r"[^\W_]+", word) for p in _PARTS.findall(piece)]
        if not parts:
            continue
        # every match of the word holds all its parts: the longest is the rarest to find
        folded = fold(max(parts, key=len))
        stems = list(prose_terms(folded)) or [folded]
        needles.add(min([folded, *(s[:-1] or s for s in stems)], key=len))
    return {n for n in needles if n}


def _is_strong(cell: CellText, word: str, wanted: dict[str, set[str]]) -> bool:
    """True when the matched word is a whole query word, not just a part of one."""
    if cell.kind != "code":
        return True
    return bool(wanted["code_whole"].intersection(code_word_terms(word)[:2]))


def _wanted_terms(parsed: ParsedQuery) -> dict[str, set[str]]:
    whole = {t for w in parsed.words for t in field_terms("code", w)}
    return {
        "code_whole": whole,
        "code": whole | {t for w in parsed.words for t in code_terms(w)},
        "markdown": {t for w in parsed.words for t in field_terms("markdown", w)},
        "output": {t for w in parsed.words for t in field_terms("outputs", w)},
    }


@lru_cache(maxsize=65536)
def _output_word_terms(word: str) -> tuple[str, ...]:
    return tuple(prose_terms(word, stemming=False))


def _candidate_words(
    pattern: re.Pattern[str], text: str, folded: str, needles: set[str]
) -> list[re.Match[str]]:
    """The words of ``text`` that may match: those holding a needle.

    When folding kept the text's length (ASCII, and most accented text) a character of the
    folded text stands where it stood in the text, so only the words around needle
    occurrences are looked at; other text is read word by word.
    """
    if not text.isascii() and len(folded) != len(text):
        return list(pattern.finditer(text))  # offsets in folded text are not the text's
    found: dict[int, re.Match[str]] = {}
    for needle in needles:
        at = folded.find(needle)
        while at >= 0:
            start = at
            while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_."):
                start -= 1
            for match in pattern.finditer(text, start, at + len(needle) + 200):
                if match.end() > at:
                    if match.start() <= at:
                        found[match.start()] = match
                    break
            at = folded.find(needle, at + len(needle))
    return [found[k] for k in sorted(found)]


def _match_spans(
    cell: CellText,
    folded: str,
    needles: set[str],
    wanted: dict[str, set[str]],
    prefixes: list[str],
    memo: dict[tuple[str, str], bool],
) -> list[tuple[int, int]]:
    """Where the query's words are in ``cell`` (at most ``MAX_SPANS``); ``memo`` keeps
    which words matched, for the other cells of the notebook."""
    if cell.kind == "code":
        pattern, terms_of, targets = _IDENT, code_word_terms, wanted["code"]
    elif cell.kind == "output":
        pattern, terms_of, targets = _WORD, _output_word_terms, wanted["output"]
    else:
        pattern, terms_of, targets = _WORD, prose_word_terms, wanted["markdown"]
    spans: list[tuple[int, int]] = []
    for match in _candidate_words(pattern, cell.text, folded, needles):
        if len(spans) >= MAX_SPANS:
            break
        word = match.group()
        known = memo.get((cell.kind, word))
        if known is None:
            known = memo[(cell.kind, word)] = _matches(terms_of(word), targets, prefixes)
        if not known:
            continue
        if cell.kind == "code" and "." in word and fold(word) not in targets:
            # df.pivot_table matched through one of its names: mark only that name
            offset = match.start()
            for piece in word.split("."):
                if _matches(terms_of(piece), targets, prefixes):
                    spans.append((offset, offset + len(piece)))
                offset += len(piece) + 1
        else:
            spans.append(match.span())
    return spans


def _matches(terms: tuple[str, ...], targets: set[str], prefixes: list[str]) -> bool:
    return bool(targets.intersection(terms)) or any(
        t.startswith(p) for p in prefixes for t in terms
    )


def _excerpt(cell: CellText, spans: list[tuple[int, int]]) -> Snippet:
    """A window of the cell around its first matches, on word boundaries, one line."""
    start = max(0, spans[0][0] - SNIPPET_BEFORE)
    if start:
        space = cell.text.rfind(" ", 0, start + 1)
        start = space + 1 if space > start - 20 else start
    end = min(len(cell.text), start + SNIPPET_CHARS)
    raw = cell.text[start:end]
    prefix = "…" if start else ""
    suffix = "…" if end < len(cell.text) else ""
    # one line: newlines become spaces (same length, so offsets still hold)
    text = prefix + re.sub(r"\s", " ", raw) + suffix
    shift = len(prefix) - start
    marks = [(s + shift, e + shift) for s, e in spans if s >= start and e <= end]
    return Snippet(cell.index, cell.kind, text, marks)


#: Longer words are not spelling-corrected: a typo is not what makes a 40-letter word
#: unknown, and Whoosh's corrector costs grow with the word (~0.1 s at 200 letters).
MAX_SUGGESTED_CHARS = 40


#: With ``rare``, a word a few notebooks have is corrected only to a word this many times
#: more common (a typo a few notebooks share, "regresion", not a rare real word).
COMMONER = 5


def _suggest(searcher: Searcher, parsed: ParsedQuery, text: str, *, rare: int = 0) -> str | None:
    """``text`` with each unknown word replaced by the closest word the index has; None
    when no word needs it, or none has a close alternative.

    Args:
        searcher: the index's searcher.
        parsed: ``text`` parsed (as searched: its words are checked).
        text: the query as the user wrote it: the suggestion keeps its filters and syntax.
        rare: also correct a word at most this many notebooks have, to a word ``COMMONER``
            times more common (the app asks when a search found only a few notebooks).
    """
    corrected, changed = text, False
    typed = set(parsed.prefixes)
    for word in dict.fromkeys(parsed.words):
        if len(word) > MAX_SUGGESTED_CHARS or (fold(word) in typed
                                               and _has_prefix(searcher, fold(word))):
            continue  # a word being typed that starts known words is not a typo
        frequency = max((searcher.doc_frequency(BODY, t) for part in ("markdown", "code")
                         for t in field_terms(part, word)[:1]), default=0)
        if frequency > rare:
            continue
        best = _closest(searcher, word, frequency)
        if best is not None:
            corrected = re.sub(rf"(?<![\w.]){re.escape(word)}(?![\w.])", best, corrected)
            changed = True
    return corrected if changed else None


def _has_prefix(searcher: Searcher, prefix: str) -> bool:
    return next(iter(searcher.reader().expand_prefix(BODY, prefix)), None) is not None


def _closest(searcher: Searcher, word: str, frequency: int) -> str | None:
    """The closest word of the index (two edits at most) to a word ``frequency`` notebooks
    have: when some have it, only a word ``COMMONER`` times more common."""
    found = searcher.corrector(BODY).suggest(word.lower(), limit=5 if frequency else 1,
                                             maxdist=2)
    if not frequency:
        return found[0] if found else None
    wanted = max(3, COMMONER * frequency)
    return next((f for f in found if searcher.doc_frequency(BODY, f) >= wanted), None)


class SearchService:
    """The library's search (``lib.searching``): its index in ``<library>/index`` and the
    queries against it.

    Only a writer catches the index up with the catalog (``refresh``); a reader answers from
    what the index has committed.
    """

    def __init__(self, folder: Path, engine: Engine, store: BlobStore, *, writer: bool,
                 related: Path | None = None) -> None:
        """``related``: the folder of the related-terms model (search by meaning), which the
        similarity model's refits keep; None: keyword search only."""
        self.folder = folder
        self.engine = engine
        self.store = store
        self.writer = writer
        self._index: SearchIndex | None = None
        self._searching = Searching(engine, store, Meaning(related))

    @property
    def index(self) -> SearchIndex:
        """The search index, opened on first use."""
        if self._index is None:
            from nbshelf.search.index import SearchIndex

            self._index = SearchIndex(self.folder, self.engine, self.store)
            if self.writer:
                # Locks a killed writer left; before this process writes the index.
                self._index.clear_stale_locks()
        return self._index

    def close(self) -> None:
        """Let go of the index's files."""
        if self._index is not None:
            self._index.close()

    def refresh(self, progress: IndexProgressFn | None, cancel: threading.Event | None,
                procs: int) -> int:
        """Bring the index up to date: rebuilt if missing, old or corrupt, else the queued
        changes applied. Returns the documents written or updated (a writer's job)."""
        if not self.index.is_current():
            return self.index.rebuild(progress, cancel, procs=procs)
        return self.index.update_pending()

    def progressive(self, catalog: Path, on_round: RoundFn | None = None,
                    procs: int = 1) -> ProgressiveIndex:
        """An index that takes in a sync's batches as they commit (not started yet: see
        ``nbshelf.search.progressive``); a writer's job. ``procs``: processes for the last
        round, after the copy."""
        from nbshelf.search.progressive import ProgressiveIndex

        return ProgressiveIndex(self.index, self.engine, catalog, on_round, procs)

    def rebuild(self, progress: IndexProgressFn | None, cancel: threading.Event | None,
                procs: int) -> int:
        """Rebuild the index from the catalog and the blobs."""
        return self.index.rebuild(progress, cancel, procs=procs)

    def prepare(self) -> None:
        """Read now what the first search would read (``Searching.prepare``); nothing when
        there is no index yet."""
        from nbshelf.search.index import IndexUnavailable

        try:
            searcher = self.index.searcher()
        except IndexUnavailable:
            return
        self._searching.prepare(searcher)

    def search(self, text: str, limit: int, only: set[str] | None = None, *,
               meaning: bool = True) -> SearchResults:
        """Ranked results for ``text`` with snippets (see ``nbshelf.search.query``), of the
        contents in ``only`` when given; with ``meaning``, notebooks close in meaning too."""
        return self._searching.search(self.index.searcher(), text, limit=limit, only=only,
                                      meaning=meaning)

    def search_ids(self, text: str, limit: int | None, only: set[str] | None = None, *,
                   partial: bool = True, meaning: bool = True) -> IdMatches:
        """Ranked ids for ``text`` without snippets (exact matches, then partial ones and
        meaning hits unless ``partial`` is False), and the counts; see
        ``Searching.search_ids``."""
        return self._searching.search_ids(self.index.searcher(), text, limit=limit, only=only,
                                          partial=partial, meaning=meaning)

    def meaning_of(self, digest: str, text: str) -> tuple[str, int | None] | None:
        """Why one content is close to ``text`` in meaning and its best cell, or None (see
        ``Searching.meaning_of``)."""
        from nbshelf.search.index import IndexUnavailable

        try:
            searcher: Searcher | None = self.index.searcher()
        except IndexUnavailable:
            searcher = None
        return self._searching.meaning_of(searcher, digest, text)

    def suggest(self, text: str, *, rare: int = 0, typing: bool = False) -> str | None:
        """``text`` with its misspelt words corrected ("did you mean"), or None; see
        ``Searching.suggest``."""
        return self._searching.suggest(self.index.searcher(), text, rare=rare, typing=typing)

    def clear_cache(self) -> None:
        """Forget the cells kept for snippets."""
        self._searching.clear_cache()

    def snippets(self, digest: str, text: str) -> list[Snippet]:
        """The cells of one content that match ``text``."""
        from nbshelf.search.index import IndexUnavailable

        try:
            searcher: Searcher | None = self.index.searcher()
        except IndexUnavailable:
            searcher = None  # not built yet: the snippets come from the notebook itself
        return self._searching.snippets_of(searcher, digest, text)

    def facets(self, text: str, only: set[str] | None) -> dict[str, dict[str, int]]:
        """Counts by language, source, module and tag for the notebooks matching ``text``
        (of the contents in ``only``, when given)."""
        return self._searching.facets(self.index.searcher(), text, only)
