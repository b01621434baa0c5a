"""nbshelf's Whoosh matchers against Whoosh's own, on random small indexes.

``nbshelf/search/matchers.py`` promises that each of its classes keeps Whoosh's hits and
scores and changes only how the work is done, except ``AndNot``, which fixes a Whoosh bug;
``nbshelf/search/index.py`` promises the same of ``IndexCodec``. Each property builds a real
Whoosh index in memory from random documents over a tiny vocabulary (so words, prefixes and
phrases do match), in one or two segments, some documents deleted, and compares:

- the documents found with the ones a brute-force reading of the documents finds;
- the scores with stock Whoosh's for the same query (``Prefix``, ``Phrase``, default
  ``BM25F``, the default codec). ``AndNot`` is compared with the answer worked out by hand
  (``a``'s hits less ``b``'s), since stock Whoosh's is wrong. ``PreloadedPrefix`` finds what
  ``Prefix`` finds but does not score as it does: that test is marked xfail.

Two fields are tried: a plain Whoosh ``TEXT`` field with positions, and nbshelf's own
``body`` field (its parts analysed apart, ``PART_GAP`` positions between them, weights
summed per part), where these matchers do their work in the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from whoosh import query as wq
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import TEXT, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.index import Index
from whoosh.searching import Searcher

from nbshelf.search.index import PARTS, IndexCodec, build_schema
from nbshelf.search.matchers import (
    AndNot,
    BestOf,
    ExactPhrase,
    ListedLengthsBM25F,
    PreloadedPrefix,
)
from nbshelf.search.service import top_matches

#: Words that every nbshelf analysis (prose, code, output, words) leaves as they are, and that
#: share prefixes: ``ab`` expands to three terms, ``c`` to two.
VOCAB = ("ab", "abc", "abd", "ac", "b", "bd", "cab", "ca")
#: Prefixes to expand; ``zz`` expands to nothing.
PREFIXES = ("a", "ab", "abc", "ac", "b", "c", "ca", "zz")
BOOSTS = st.sampled_from([1.0, 1.0, 2.5])
SETTINGS = settings(max_examples=100, deadline=None)

Doc = tuple[tuple[str, tuple[str, ...]], ...]  # (part, words) pairs


@dataclass(frozen=True)
class Corpus:
    """Documents (docnum ``i`` is ``docs[i]``), committed as one or two segments."""

    nbshelf_body: bool  # nbshelf's body field; else a plain TEXT field
    docs: tuple[Doc, ...]
    split: int  # docs[:split] go in the first segment, the rest in a second one
    deleted: frozenset[int] = frozenset()

    def alive(self) -> Iterator[tuple[int, Doc]]:
        return ((i, doc) for i, doc in enumerate(self.docs) if i not in self.deleted)

    def having(self, found: Any) -> set[int]:
        """Documents with a part whose word list ``found(words)`` is true for."""
        return {i for i, doc in self.alive() if any(found(words) for _, words in doc)}


def plain(*texts: str) -> Corpus:
    """A plain-field corpus of one segment, a document per text."""
    docs = tuple((("text", tuple(text.split())),) for text in texts)
    return Corpus(False, docs, len(docs))


@st.composite
def corpora(draw: st.DrawFn) -> Corpus:
    nbshelf_body = draw(st.booleans())
    words = st.lists(st.sampled_from(VOCAB), max_size=8).map(tuple)
    if nbshelf_body:
        doc = st.lists(st.tuples(st.sampled_from(sorted(PARTS)), words), min_size=1,
                       max_size=3).map(tuple)
    else:
        doc = words.map(lambda w: (("text", w),))
    docs = tuple(draw(st.lists(doc, min_size=1, max_size=12)))
    split = draw(st.integers(0, len(docs)))
    deleted = draw(st.frozensets(st.integers(0, len(docs) - 1), max_size=len(docs) // 3))
    return Corpus(nbshelf_body, docs, split, deleted)


def schema(corpus: Corpus) -> Schema:
    if corpus.nbshelf_body:
        return Schema(body=build_schema()["body"])
    return Schema(body=TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=True))


def field_value(corpus: Corpus, doc: Doc) -> Any:
    if corpus.nbshelf_body:
        return [(part, " ".join(words)) for part, words in doc]
    return " ".join(doc[0][1])


def add(ix: Index, corpus: Corpus, docs: tuple[Doc, ...], codec: Any) -> None:
    if not docs:
        return
    writer = ix.writer(codec=codec)
    for doc in docs:
        writer.add_document(body=field_value(corpus, doc))
    writer.commit(merge=False)  # keep the segments apart: docnums stay the corpus's order


def build(corpus: Corpus, codec: Any = None) -> Index:
    ix = RamStorage().create_index(schema(corpus))
    add(ix, corpus, corpus.docs[: corpus.split], codec or W3Codec())
    add(ix, corpus, corpus.docs[corpus.split :], codec or W3Codec())
    if corpus.deleted:
        writer = ix.writer()
        for docnum in corpus.deleted:
            writer.delete_document(docnum)
        writer.commit(merge=False)
    return ix


@contextmanager
def searching(corpus: Corpus, **kwargs: Any) -> Iterator[Searcher]:
    with build(corpus).searcher(**kwargs) as searcher:
        yield searcher


def hits(searcher: Searcher, query: wq.Query) -> dict[int, float]:
    """Every document the query finds, with its score."""
    return {hit.docnum: hit.score for hit in searcher.search(query, limit=None)}


def same(ours: dict[int, float], theirs: dict[int, float]) -> None:
    assert sorted(ours) == sorted(theirs)
    assert ours == pytest.approx(theirs)


def contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(words[i : i + n] == phrase for i in range(len(words) - n + 1))


# -- BestOf (the app's "word OR word*" while a word is typed) ---------------------------------


@SETTINGS
@given(corpus=corpora(), word=st.sampled_from(VOCAB), prefix=st.sampled_from(PREFIXES))
# Whoosh's DisjunctionMax gave "ab" (only the prefix side holds it) the score of "b b b"
# (the word side's document at that moment): the ranking changed with the docnums.
@example(corpus=plain("b b b", "ab"), word="b", prefix="a")
@example(corpus=plain("ab", "b b b"), word="b", prefix="a")
def test_best_of_scores_each_document_by_its_best_side(corpus: Corpus, word: str,
                                                       prefix: str) -> None:
    with searching(corpus) as searcher:
        whole = hits(searcher, wq.Term("body", word))
        start = hits(searcher, PreloadedPrefix("body", prefix))
        query = BestOf([wq.Term("body", word), PreloadedPrefix("body", prefix)])
        ours = hits(searcher, query)
        expected = {d: max(whole.get(d, 0.0), start.get(d, 0.0)) for d in {*whole, *start}}
        same(ours, expected)
        # The top k (Whoosh skips what cannot reach them) are the best k of all of them
        best = sorted(expected.values(), reverse=True)
        for k in range(1, len(best) + 1):
            top = [hit.score for hit in searcher.search(query, limit=k)]
            assert top == pytest.approx(best[:k])


# -- PreloadedPrefix --------------------------------------------------------------------------


@SETTINGS
@given(corpus=corpora(), prefix=st.sampled_from(PREFIXES), boost=BOOSTS)
def test_preloaded_prefix_finds_what_whoosh_prefix_finds(corpus: Corpus, prefix: str,
                                                         boost: float) -> None:
    with searching(corpus) as searcher:
        ours = hits(searcher, PreloadedPrefix("body", prefix, boost=boost))
        stock = hits(searcher, wq.Prefix("body", prefix, boost=boost))
    assert set(ours) == corpus.having(lambda words: any(w.startswith(prefix) for w in words))
    assert sorted(ours) == sorted(stock)


@SETTINGS
@given(corpus=corpora(), prefix=st.sampled_from(PREFIXES), boost=BOOSTS)
@example(corpus=plain("cab ca", "cab cab cab ab", "ca"), prefix="c", boost=1.0)
def test_preloaded_prefix_scores_as_whoosh_prefix(corpus: Corpus, prefix: str,
                                                  boost: float) -> None:
    """Stock Prefix scores by the sum of its expansions' BM25F scores wherever Whoosh ORs
    them as a tree of unions: two expansions, or an index over 5,000 documents (a real
    library). On small indexes with three or more expansions it preloads them unscored
    and every match scores its boost: a heuristic of Whoosh's, not a ranking, which
    nbshelf does not copy. So the stock side here is Prefix's own Or, in its tree form
    (and, for a lone expansion, its term with the prefix's boost, which Whoosh drops)."""
    with searching(corpus) as searcher:
        ours = hits(searcher, PreloadedPrefix("body", prefix, boost=boost))
        expansions = [wq.Term("body", t, boost=boost)
                      for t in wq.Prefix("body", prefix)._btexts(searcher.reader()) if t]
        if len(expansions) < 2:
            stock = hits(searcher, expansions[0]) if expansions else {}
        else:
            expansions = [wq.Term("body", t.text) for t in expansions]
            tree = wq.Or(expansions, boost=boost)
            tree.matcher_type = wq.Or.DEFAULT_MATCHER
            stock = hits(searcher, tree)
    same(ours, stock)


# -- ExactPhrase ------------------------------------------------------------------------------


@st.composite
def phrases(draw: st.DrawFn, corpus: Corpus) -> tuple[str, ...]:
    """A phrase of 1 to 4 words: any words (``zz`` is in no document), or words in a row
    taken from a document, so that most phrases are found somewhere."""
    anywhere = st.lists(st.sampled_from((*VOCAB, "zz")), min_size=1, max_size=4).map(tuple)
    runs = [words for doc in corpus.docs for _, words in doc if words]
    if not runs or draw(st.booleans()):
        return draw(anywhere)
    words = draw(st.sampled_from(runs))
    start = draw(st.integers(0, len(words) - 1))
    end = draw(st.integers(start + 1, min(len(words), start + 4)))
    return words[start:end]


@SETTINGS
@given(corpus=corpora(), data=st.data(), boost=BOOSTS)
def test_exact_phrase_finds_and_scores_as_whoosh_phrase(corpus: Corpus, data: st.DataObject,
                                                        boost: float) -> None:
    phrase = data.draw(phrases(corpus))
    with searching(corpus) as searcher:
        ours = hits(searcher, ExactPhrase("body", list(phrase), boost=boost))
        stock = hits(searcher, wq.Phrase("body", list(phrase), boost=boost))
    # within one part: nbshelf's parts stand PART_GAP positions apart
    assert set(ours) == corpus.having(lambda words: contains(words, phrase))
    same(ours, stock)


def test_a_phrase_of_repeated_words_is_found_only_where_they_repeat() -> None:
    corpus = plain("ab ab", "ab b ab", "ab ab ab", "b ab")
    with searching(corpus) as searcher:
        ours = hits(searcher, ExactPhrase("body", ["ab", "ab"]))
        stock = hits(searcher, wq.Phrase("body", ["ab", "ab"]))
    assert set(ours) == {0, 2}
    same(ours, stock)


# -- AndNot -----------------------------------------------------------------------------------

#: The queries the two sides of ``AndNot`` are drawn from: what ``parse`` puts there.
Leaf = tuple[str, Any]
LEAVES: st.SearchStrategy[Leaf] = st.one_of(
    st.tuples(st.just("term"), st.sampled_from((*VOCAB, "zz"))),
    st.tuples(st.just("prefix"), st.sampled_from(PREFIXES)),
    st.tuples(st.just("phrase"), st.lists(st.sampled_from(VOCAB[:4]), min_size=2,
                                          max_size=3).map(tuple)),
)


def ours_of(node: Any) -> wq.Query:
    """The query with nbshelf's matchers, as ``parse`` builds it."""
    kind, *args = node
    if kind == "term":
        return wq.Term("body", args[0])
    if kind == "prefix":
        return PreloadedPrefix("body", args[0])
    if kind == "phrase":
        return ExactPhrase("body", list(args[0]))
    a, b = ours_of(args[0]), ours_of(args[1])
    return {"and": wq.And([a, b]), "or": wq.Or([a, b]), "andnot": AndNot(a, b)}[kind]


def by_hand(node: Any, searcher: Searcher) -> dict[int, float]:
    """What the query must find and score: each leaf searched alone, combined here as
    Whoosh's matchers combine them (intersection and union add scores; ``a`` without ``b``
    keeps ``a``'s score).

    A prefix leaf is nbshelf's own, searched alone: its scores differ from Whoosh's
    ``Prefix`` (see the xfail above); this checks only how it combines.
    """
    kind, *args = node
    if kind == "term":
        return hits(searcher, wq.Term("body", args[0]))
    if kind == "prefix":
        return hits(searcher, PreloadedPrefix("body", args[0]))
    if kind == "phrase":
        return hits(searcher, wq.Phrase("body", list(args[0])))
    a, b = by_hand(args[0], searcher), by_hand(args[1], searcher)
    if kind == "and":
        return {d: a[d] + b[d] for d in a.keys() & b.keys()}
    if kind == "or":
        return {d: a.get(d, 0.0) + b.get(d, 0.0) for d in a.keys() | b.keys()}
    return {d: score for d, score in a.items() if d not in b}


#: Whoosh's bug: ``a`` first matches document 1, ``b`` starts earlier (document 0) and also
#: holds document 1; Whoosh's AndNotMatcher only checks the first documents of both sides.
WHOOSH_BUG = plain("b", "a b", "a")


@SETTINGS
@given(corpus=corpora(), a=LEAVES, b=LEAVES)
@example(corpus=WHOOSH_BUG, a=("term", "a"), b=("term", "b"))
def test_and_not_finds_a_less_b_with_as_scores(corpus: Corpus, a: Leaf, b: Leaf) -> None:
    with searching(corpus) as searcher:
        ours = hits(searcher, ours_of(("andnot", a, b)))
        expected = by_hand(("andnot", a, b), searcher)
    same(ours, expected)


def test_and_not_drops_a_first_match_the_excluded_side_reaches_from_before() -> None:
    with searching(WHOOSH_BUG) as searcher:
        ours = hits(searcher, AndNot(wq.Term("body", "a"), wq.Term("body", "b")))
        stock = hits(searcher, wq.AndNot(wq.Term("body", "a"), wq.Term("body", "b")))
        a_alone = hits(searcher, wq.Term("body", "a"))
    assert set(ours) == {2}  # "a" is in 1 and 2, "b" in 0 and 1
    assert ours[2] == pytest.approx(a_alone[2])
    # The case still shows Whoosh's bug; when Whoosh fixes it, nbshelf's AndNot can go.
    assert set(stock) == {1, 2}


def test_and_not_stays_right_after_a_reset() -> None:
    with searching(WHOOSH_BUG) as searcher:
        query = AndNot(wq.Term("body", "a"), wq.Term("body", "b"))
        matcher = query.matcher(searcher, searcher.context())
        assert list(matcher.all_ids()) == [2]
        matcher.reset()
        assert list(matcher.all_ids()) == [2]


# -- queries as parse builds them -------------------------------------------------------------

TREES = st.recursive(
    LEAVES, lambda kids: st.tuples(st.sampled_from(["and", "or", "andnot"]), kids, kids),
    max_leaves=5)


@SETTINGS
@given(corpus=corpora(), tree=TREES)
@example(corpus=WHOOSH_BUG, tree=("or", ("andnot", ("term", "a"), ("term", "b")),
                                  ("term", "zz")))
def test_nested_queries_find_and_score_as_their_parts_combined(corpus: Corpus,
                                                                tree: Any) -> None:
    # PreloadedPrefix's array matcher inside intersections (skip_to), AndNot inside unions
    with searching(corpus) as searcher:
        same(hits(searcher, ours_of(tree)), by_hand(tree, searcher))


# -- ListedLengthsBM25F and IndexCodec --------------------------------------------------------


@SETTINGS
@given(corpus=corpora(), tree=TREES)
def test_listed_lengths_bm25f_scores_as_bm25f(corpus: Corpus, tree: Any) -> None:
    query = ours_of(tree)
    ix = build(corpus)
    with ix.searcher(weighting=ListedLengthsBM25F()) as listed, ix.searcher() as stock:
        same(hits(listed, query), hits(stock, query))


@SETTINGS
@given(corpus=corpora(), tree=TREES)
def test_listed_lengths_follow_new_documents_after_a_refresh(corpus: Corpus,
                                                             tree: Any) -> None:
    # the lengths are listed once per segment reader: a refreshed searcher must not
    # score the second segment's documents with the first one's lengths
    query = ours_of(tree)
    first = max(corpus.split, 1)  # Whoosh cannot refresh a searcher of an empty index
    ix = RamStorage().create_index(schema(corpus))
    add(ix, corpus, corpus.docs[:first], W3Codec())
    listed = ix.searcher(weighting=ListedLengthsBM25F())
    try:
        hits(listed, query)
        add(ix, corpus, corpus.docs[first:], W3Codec())
        listed = listed.refresh()
        with ix.searcher() as stock:
            same(hits(listed, query), hits(stock, query))
    finally:
        listed.close()


@SETTINGS
@given(corpus=corpora(), tree=TREES, limit=st.integers(1, 4))
def test_index_codec_changes_no_hit_and_no_score(corpus: Corpus, tree: Any,
                                                 limit: int) -> None:
    query = ours_of(tree)
    with (build(corpus, IndexCodec()).searcher(weighting=ListedLengthsBM25F()) as ours,
          build(corpus).searcher() as stock):
        every = hits(ours, query)
        same(every, hits(stock, query))
        # as the app reads it: the best few, with every match counted
        top = top_matches(ours, query, limit)
        assert len(top) == len(every)
        assert [hit.score for hit in top] == pytest.approx(
            sorted(every.values(), reverse=True)[:limit])
