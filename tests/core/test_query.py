"""The query language, unit by unit: what each form a user types becomes as a Whoosh query.

No index is needed: each test compares the query ``parse`` builds with the one the syntax
promises (``nbshelf/search/query.py``), down to its classes, fields and terms. The terms a
word stands for come from ``nbshelf/search/analysis.py``: prose is stemmed (``tables`` ->
``tabl``), code is one canonical identifier (``read_csv`` -> ``readcsv``), outputs are words
as written.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from nbshelf.errors import NbshelfError
from nbshelf.search.matchers import AndNot, ExactPhrase, PreloadedPrefix
from nbshelf.search.query import (
    FILTERS,
    MAX_QUERY_WORDS,
    MAX_WORD_CHARS,
    MIN_PREFIX,
    ParsedQuery,
    QueryTooLong,
    check_bounds,
    filter_query,
    parse,
    phrase_query,
    prefix_query,
    word_query,
)


def body(text: str) -> wq.Term:
    return wq.Term("body", text)


def fields(query: wq.Query) -> set[str]:
    """The fields a query looks in (its leaves', prefixes included)."""
    return {q.fieldname for q in query.leaves() if hasattr(q, "fieldname")}


PIVOT = body("pivot")  # a word every analysis leaves as it is
JULIA = body("julia")
TABLE = wq.Or([body("tabl"), body("table")])  # the prose stem, and the word as written


# -- words ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("word", "expected"), [
    ("pivot", PIVOT),  # every analysis agrees: one term
    ("2024", body("2024")),
    ("tables", wq.Or([body("tabl"), body("tables")])),  # prose stem, word as written
    ("read_csv", wq.Or([body("read_csv"), body("readcsv")])),  # prose word, code identifier
    ("groupBy", wq.Or([body("groupbi"), body("groupby")])),
    # prose stem, code identifier, output word: three analyses, three terms
    ("Running_Tests", wq.Or([body("running_test"), body("runningtests"),
                             body("running_tests")])),
    # a dotted name: its parts next to each other in prose, the whole name in code
    ("pd.read_csv", wq.Or([wq.And([body("pd"), body("read_csv")]), body("pd.read_csv")])),
    ("Ünïcödé", wq.Or([body("unicod"), body("unicode")])),  # accents fold
    # CJK is indexed as overlapping pairs in prose; the run as one identifier in code
    ("数据结构", wq.Or([wq.And([body("数据"), body("据结"), body("结构")]), body("数据结构")])),
])
def test_a_word_is_one_term_per_distinct_analysis(word: str, expected: wq.Query) -> None:
    assert word_query(word) == expected
    assert parse(word).query == expected


def test_a_word_of_punctuation_only_has_no_query() -> None:
    assert word_query("!!!") is None


def test_every_word_is_required() -> None:
    parsed = parse("pivot table julia")
    assert parsed.query == wq.And([PIVOT, TABLE, JULIA])
    assert (parsed.words, parsed.prefixes, parsed.plain) == (["pivot", "table", "julia"], [],
                                                             False)


def test_stop_words_are_skipped_but_kept_for_highlighting() -> None:
    parsed = parse("The pivot of a table")
    assert parsed.query == wq.And([PIVOT, TABLE])
    assert parsed.words == ["The", "pivot", "of", "a", "table"]
    assert parse("pivot or julia").query == wq.And([PIVOT, JULIA])  # lower-case "or" is a word


def test_a_query_of_stop_words_only_is_empty() -> None:
    parsed = parse("the of")
    assert parsed.empty and not parsed.plain


@pytest.mark.parametrize("text", ["", "   ", "((", "!! ?", '""', "*", "-"])
def test_nothing_searchable_is_an_empty_query(text: str) -> None:
    parsed = parse(text)
    assert parsed.empty
    assert parsed.query is wq.NullQuery


def test_and_and_not_are_not_operators() -> None:
    # There is no AND/NOT syntax: the words are skipped, never searched for
    assert parse("pivot AND julia").query == wq.And([PIVOT, JULIA])
    assert parse("NOT pivot").query == PIVOT


def test_punctuation_around_a_word_is_dropped() -> None:
    assert parse("(pivot),").query == PIVOT
    assert parse("pivot ((").query == PIVOT


def test_an_unknown_filter_name_is_a_word() -> None:
    parsed = parse("foo:bar")
    assert parsed.query == wq.And([body("foo"), body("bar")])
    assert parsed.words == ["foo:bar"]


# -- phrases ----------------------------------------------------------------------------------


def test_a_phrase_is_an_exact_phrase_per_analysis() -> None:
    parsed = parse('"linear regression"')
    assert parsed.query == wq.Or([ExactPhrase("body", ["linear", "regress"]),
                                  ExactPhrase("body", ["linear", "regression"])])
    assert all(type(q) is ExactPhrase and q.slop == 1 for q in parsed.query.subqueries)
    assert parsed.words == ["linear", "regression"]


def test_a_phrase_of_one_term_is_that_term() -> None:
    assert parse('"pivot"').query == wq.Or([PIVOT])
    assert phrase_query("pivot") == wq.Or([PIVOT])


def test_a_phrase_in_code_keeps_the_terms_an_identifier_is_indexed_as() -> None:
    # pd.read_csv(x) is indexed as pd.read_csv, pd, readcsv, read, csv, x at positions in a row
    assert phrase_query("pd.read_csv(x)") == wq.Or([
        ExactPhrase("body", ["pd", "read_csv", "x"]),
        ExactPhrase("body", ["pd.read_csv", "pd", "readcsv", "read", "csv", "x"]),
    ])


def test_stop_words_of_a_phrase_count_only_in_code() -> None:
    # prose does not index "the": in prose the phrase is "data"; code keeps "the"
    assert phrase_query("the data") == wq.Or([body("data"),
                                              ExactPhrase("body", ["the", "data"])])


def test_a_phrase_among_words_is_required_like_them() -> None:
    parsed = parse('pivot "linear regression" julia')
    assert isinstance(parsed.query, wq.And)
    first, phrase, last = parsed.query.subqueries
    assert (first, last) == (PIVOT, JULIA)
    assert [type(q) for q in phrase.subqueries] == [ExactPhrase, ExactPhrase]


# -- prefixes ---------------------------------------------------------------------------------


def test_a_prefix_looks_in_the_body_and_in_module_names() -> None:
    parsed = parse("plot*")
    assert parsed.query == wq.Or([PreloadedPrefix("body", "plot"),
                                  PreloadedPrefix("imports", "plot")])
    assert all(type(q) is PreloadedPrefix for q in parsed.query.subqueries)
    assert (parsed.words, parsed.prefixes) == ([], ["plot"])


def test_a_prefix_with_underscores_also_looks_for_the_canonical_identifier() -> None:
    assert prefix_query("read_csv*") == wq.Or([
        PreloadedPrefix("body", "read_csv"), PreloadedPrefix("body", "readcsv"),
        PreloadedPrefix("imports", "read_csv"),
    ])


def test_a_prefix_is_folded() -> None:
    parsed = parse("Plöt*")
    assert parsed.query == wq.Or([PreloadedPrefix("body", "plot"),
                                  PreloadedPrefix("imports", "plot")])
    assert parsed.prefixes == ["plot"]


def test_prefixes_shorter_than_min_prefix_are_read_as_words() -> None:
    short, long_enough = "p" * (MIN_PREFIX - 1), "p" * MIN_PREFIX
    assert prefix_query(short + "*") is None
    assert prefix_query(long_enough + "*") is not None
    parsed = parse(short + "*")
    assert parsed.plain
    assert parsed.query == body(short)


def test_a_prefix_of_punctuation_is_read_as_words() -> None:
    assert prefix_query("c++*") is None
    parsed = parse("c++*")
    assert parsed.plain and parsed.query == body("c")


# -- filters ----------------------------------------------------------------------------------


def test_the_filter_names_are_the_documented_ones() -> None:
    # a new filter needs its line in the module docstring, the README and the tests below
    assert set(FILTERS) == {"lang", "language", "import", "imports", "module", "source", "tag",
                            "tags", "title", "marking", "path", "author"}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_every_filter_looks_only_in_its_field(name: str) -> None:
    parsed = parse(f"{name}:value")
    assert not parsed.plain
    assert fields(parsed.query) == {FILTERS[name]}
    assert parse(f"{name.upper()}:value").query == parsed.query  # names ignore case


@pytest.mark.parametrize(("text", "expected"), [
    ("lang:Python3", wq.Term("lang", "python")),  # kernel spellings become the language
    ("language:julia", wq.Term("lang", "julia")),
    ("lang:py", wq.Term("lang", "python")),
    ("lang:c++", wq.Term("lang", "c++")),
    ("lang:COBOL", wq.Term("lang", "cobol")),  # a language nbshelf does not know, lower case
    ("import:Pandas", wq.Term("imports", "pandas")),
    ("imports:numpy", wq.Term("imports", "numpy")),
    ("module:matplotlib.pyplot", wq.Term("imports", "matplotlib.pyplot")),
    ("source:Team", wq.Term("source", "team")),
    ("tag:ML", wq.Term("tags", "ml")),
    ("tags:draft", wq.Term("tags", "draft")),
    ("marking:SECRET", wq.Term("marking", "secret")),
    # title is prose (stemmed); path is code; author is words as written
    ("title:Pivoting", wq.And([wq.Term("title", "pivot")])),
    ("path:pivot.ipynb", wq.And([wq.Term("path", "pivot.ipynb")])),
    ("path:finance/pivot.ipynb", wq.And([wq.Term("path", t) for t in
                                         ("finance", "pivot.ipynb", "pivot", "ipynb")])),
    ("author:Lovelaces", wq.And([wq.Term("author", "lovelaces")])),
])
def test_filter_values_are_analysed_as_their_field_is(text: str, expected: wq.Query) -> None:
    assert parse(text).query == expected


@pytest.mark.parametrize(("text", "fieldname", "prefix"), [
    ("import:pan*", "imports", "pan"), ("imports:Sci*", "imports", "sci"),
    ("module:mat*", "imports", "mat"), ("source:te*", "source", "te"),
    ("tag:ma*", "tags", "ma"), ("tags:x*", "tags", "x"), ("marking:SEC*", "marking", "sec"),
])
def test_keyword_filters_take_a_prefix(text: str, fieldname: str, prefix: str) -> None:
    query = parse(text).query
    assert type(query) is wq.Prefix
    assert (query.fieldname, query.text) == (fieldname, prefix)


def test_filter_query_takes_a_quoted_value_whole() -> None:
    assert filter_query("tag", '"machine learning"') == wq.Term("tags", "machine learning")


def test_a_quoted_filter_value_is_one_value() -> None:
    parsed = parse('tag:"machine learning"')
    assert parsed.query == wq.Term("tags", "machine learning")
    assert parsed.words == []


@pytest.mark.parametrize(("name", "value"), [(name, "") for name in sorted(FILTERS)] + [
    ("tag", '""'), ("title", "the"), ("author", "of"), ("path", "!!")])
def test_filters_with_nothing_to_find_have_no_query(name: str, value: str) -> None:
    assert filter_query(name, value) is None


@pytest.mark.parametrize("text", ["lang:", "pivot tag:", "title:the"])
def test_an_empty_filter_is_read_as_plain_words(text: str) -> None:
    parsed = parse(text)
    assert parsed.plain
    assert fields(parsed.query) == {"body"}


def test_title_path_and_author_values_are_highlighted_the_others_are_not() -> None:
    parsed = parse("title:Sales path:pivot.ipynb author:Ada lang:python import:numpy "
                   "tag:ml source:team marking:secret")
    assert parsed.words == ["Sales", "pivot.ipynb", "Ada"]


# -- exclusion and OR -------------------------------------------------------------------------


def test_minus_excludes_with_nbshelfs_and_not() -> None:
    query = parse("pivot -julia").query
    assert type(query) is AndNot  # Whoosh's own AndNot lets a first match through
    assert (query.a, query.b) == (PIVOT, wq.Or([JULIA]))


def test_every_exclusion_goes_in_one_or() -> None:
    query = parse("pivot -julia -lang:r -tens*").query
    assert type(query) is AndNot
    assert query.a == PIVOT
    assert query.b == wq.Or([JULIA, wq.Term("lang", "r"),
                             wq.Or([PreloadedPrefix("body", "tens"),
                                    PreloadedPrefix("imports", "tens")])])


def test_excluding_a_stop_word_or_nothing_excludes_nothing() -> None:
    assert parse("pivot -the").query == PIVOT
    assert parse("pivot -").query == PIVOT


def test_a_query_of_exclusions_only_is_read_as_plain_words() -> None:
    # Whoosh cannot list "every notebook without julia" cheaply: read it as the word
    parsed = parse("-julia")
    assert parsed.plain
    assert parsed.query == JULIA


def test_minus_excludes_a_phrase() -> None:
    query = parse('pivot -"linear regression"').query
    assert type(query) is AndNot
    assert query.a == PIVOT
    assert query.b == wq.Or([phrase_query("linear regression")])


def test_or_joins_the_terms_either_side() -> None:
    assert parse("pivot OR julia").query == wq.Or([PIVOT, JULIA])


def test_or_binds_to_the_term_before_it_only() -> None:
    assert parse("pivot julia OR python").query == wq.And([PIVOT, wq.Or([JULIA,
                                                                        body("python")])])
    assert parse("pivot OR julia table").query == wq.And([wq.Or([PIVOT, JULIA]), TABLE])


def test_ors_chain() -> None:
    assert parse("pivot OR julia OR python").query == wq.Or([wq.Or([PIVOT, JULIA]),
                                                             body("python")])


def test_or_between_a_filter_and_a_prefix() -> None:
    query = parse("lang:julia OR import:pan*").query
    assert query == wq.Or([wq.Term("lang", "julia"), wq.Prefix("imports", "pan")])


# -- malformed input --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ('"unbalanced pivot', wq.And([wq.Or([body("unbalanc"), body("unbalanced")]), PIVOT])),
    ('pivot "julia', wq.And([PIVOT, JULIA])),
    ("OR pivot", PIVOT),  # a leading OR
    ("pivot OR", PIVOT),  # a trailing OR
    ("pivot OR the", PIVOT),  # an OR with only a stop word after it
    ("a OR pivot", PIVOT),  # an OR with only a stop word before it
    ("pivot lang:", wq.And([PIVOT, body("lang")])),  # an empty filter
    ("p* julia", wq.And([body("p"), JULIA])),  # a prefix too short
])
def test_malformed_input_is_read_as_plain_words(text: str, expected: wq.Query) -> None:
    parsed = parse(text)
    assert parsed.plain
    assert parsed.query == expected
    assert fields(parsed.query) == {"body"}


def test_a_lone_or_is_an_empty_plain_query() -> None:
    parsed = parse("OR")
    assert parsed.plain and parsed.empty


def test_plain_words_are_highlighted_without_operators_or_stop_words() -> None:
    parsed = parse('"the pivot OR julia')
    assert parsed.words == ["pivot", "julia"]
    assert parsed.prefixes == []


#: Pieces of queries, typed in any order: syntax, words, filter names, odd characters.
PIECES = [*'ab.*_-:"() \\\x00é中', " OR ", " AND ", " NOT ", "pivot", "the", "pl*",
          *(f"{name}:" for name in FILTERS)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_any_text_parses_to_a_query_or_is_refused_in_words(text: str) -> None:
    try:
        parsed = parse(text)
    except QueryTooLong:
        return
    assert isinstance(parsed, ParsedQuery)
    assert parsed.empty or isinstance(parsed.query, wq.Query)
    if parsed.plain:
        assert parsed.empty or fields(parsed.query) == {"body"}


# -- highlighting -----------------------------------------------------------------------------


def test_words_and_prefixes_are_collected_for_highlighting() -> None:
    parsed = parse('pivot "linear regression" plot* title:Sales author:Ada lang:python '
                   "import:numpy -julia")
    assert parsed.words == ["pivot", "linear", "regression", "Sales", "Ada", "julia"]
    assert parsed.prefixes == ["plot"]
    assert type(parsed.query) is AndNot


# -- bounds -----------------------------------------------------------------------------------


def test_the_longest_word_is_allowed_one_more_is_refused() -> None:
    check_bounds("p" * MAX_WORD_CHARS)
    with pytest.raises(QueryTooLong, match=f"{MAX_WORD_CHARS + 1} characters long"):
        check_bounds("pivot " + "p" * (MAX_WORD_CHARS + 1))


def test_the_most_words_are_allowed_one_more_is_refused() -> None:
    check_bounds(" ".join(["pivot"] * MAX_QUERY_WORDS))
    check_bounds(" OR ".join(["pivot"] * MAX_QUERY_WORDS))  # the operator is not a word
    with pytest.raises(QueryTooLong, match=f"{MAX_QUERY_WORDS + 1} words"):
        check_bounds(" ".join(["pivot"] * (MAX_QUERY_WORDS + 1)))


def test_parse_refuses_a_query_past_the_bounds_with_a_known_error() -> None:
    with pytest.raises(QueryTooLong) as refused:
        parse("p" * 100_000)
    assert isinstance(refused.value, NbshelfError)
    assert "100,000 characters long" in str(refused.value)
    with pytest.raises(QueryTooLong):
        parse('"' + "x " * MAX_QUERY_WORDS + '"')  # phrase words count


def test_parsed_query_is_empty_only_for_the_null_query() -> None:
    assert ParsedQuery(wq.NullQuery).empty
    assert not ParsedQuery(PIVOT).empty
    assert ParsedQuery(PIVOT).words == [] and ParsedQuery(PIVOT).prefixes == []
