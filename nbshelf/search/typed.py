"""What the window searches while a query is being typed: its last word also as a prefix.

Light on purpose (no Whoosh): the app's list and sidebar read queries with it on their way
to the index. The command line never uses it: ``nbshelf search regre`` stays an exact search.
"""

from __future__ import annotations

import re

from nbshelf.search.analysis import STOP_WORDS, fold

#: A word shorter than this is not searched as a prefix while typing: two letters expand to
#: thousands of terms (slow, and nothing a reader wants yet).
MIN_TYPED_PREFIX = 3
# The last word of the text, when it is a plain word (no quote, filter, exclusion or star).
_LAST_WORD = re.compile(r"(?:^|\s)([\w.]+)$")
_OPERATORS = {"OR", "AND", "NOT"}


def as_you_type(text: str) -> str:
    """The query for ``text`` as typed so far: its last word, unless a space follows it, is
    searched as a whole word or as the start of a longer one (``regre`` finds "regression";
    whole words rank first, matching both ways).

    Left as it is: a last word followed by a space, quoted, a filter (``lang:py``), an
    exclusion (``-word``), already a prefix (``word*``), an operator, a stop word, or
    shorter than ``MIN_TYPED_PREFIX`` letters.

    Args:
        text: the search box's text.

    Returns:
        The query to search (without surrounding spaces).
    """
    if not text or text[-1].isspace() or text.count('"') % 2:
        return text.strip()
    found = _LAST_WORD.search(text)
    if found is None:
        return text.strip()
    word = found.group(1).strip(".")
    folded = fold(word)
    if (len(folded) < MIN_TYPED_PREFIX or word in _OPERATORS or folded in STOP_WORDS
            or word != found.group(1)):
        return text.strip()
    return f"{text[: found.start(1)]}{word} OR {word}*".strip()
