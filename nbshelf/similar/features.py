"""What the similarity model looks at in one notebook: terms by field, and its lines.

Terms come from the same analysis search uses (``nbshelf.search.analysis``): code is split into
dotted names, canonical identifiers and their parts; prose is folded and stemmed, CJK runs
become character pairs. Each term is kept under its field (code, prose, title, import), so
``plot`` in code and ``plot`` in prose are different features with weights of their own.

Lines are kept separately, as small hashes: two notebooks that share most of their lines are
copies of each other whatever their TF-IDF vectors say, and lines are what people edit.
Outputs are left out: they are numbers, tables and timings that change on every run.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain

import numpy as np
import numpy.typing as npt
import orjson

from nbshelf.notebook import Cell, ParsedNotebook, iter_cells
from nbshelf.notebook.doctext import MAX_CELL_CHARS, clean
from nbshelf.search.analysis import (
    _IDENT,
    _WORD,
    canonical,
    code_word_terms,
    fold,
    prose_word_terms,
)

#: Field codes, as stored in the model (one byte per vocabulary column).
CODE, PROSE, TITLE, IMPORT = 0, 1, 2, 3
FIELDS = ("code", "prose", "title", "import")
#: Characters of code and of prose read per notebook: enough to know what a notebook is
#: about; a 5 MB notebook of generated code says nothing more in its second megabyte.
MAX_CODE_CHARS = 60_000
MAX_PROSE_CHARS = 40_000
#: Lines kept per notebook for copy detection: the ones with the smallest hashes (a
#: bottom-k sketch), so two sketches of the same lines pick the same lines.
MAX_LINES = 512
#: A line shorter than this (``end``, ``}``, ``x``) says nothing about copying.
MIN_LINE_CHARS = 6
#: Hashes of markdown lines have this bit set, code lines do not: one array holds both.
PROSE_LINE_BIT = np.uint32(1 << 31)


@dataclass
class Features:
    """One notebook as the model sees it.

    Attributes:
        terms: term counts per field (``FIELDS`` order).
        lines: sorted unique hashes of its code lines (and markdown lines, with
            ``PROSE_LINE_BIT`` set), at most ``MAX_LINES``.
        language: the notebook's language, if known.
    """

    terms: tuple[Counter[str], Counter[str], Counter[str], Counter[str]]
    lines: npt.NDArray[np.uint32] = field(default_factory=lambda: np.zeros(0, dtype=np.uint32))
    language: str | None = None
    #: For the code, prose and title fields: how each whole term reads to a person
    #: (``pivottable`` is ``pivot_table``, ``regress`` is ``regression``).
    spellings: tuple[dict[str, str], ...] = field(default_factory=lambda: ({}, {}, {}))

    @property
    def empty(self) -> bool:
        """True when the notebook has no term at all (no cells, or only blank ones)."""
        return not any(self.terms)


def features_of(
    parsed: ParsedNotebook,
    *,
    title: str | None = None,
    headings: list[str] | None = None,
    imports: list[str] | None = None,
    language: str | None = None,
) -> Features:
    """Extract the features of a parsed notebook.

    Args:
        parsed: the notebook, from ``nbshelf.notebook.parse_notebook``.
        title, headings, imports, language: the catalog's values, when the caller has them
            (they are the parsed summary's otherwise).
    """
    summary = parsed.summary
    code, prose = cell_sources(parsed.cells)
    return features_from_text(
        code=code,
        prose=prose,
        title=summary.title if title is None else title,
        headings=summary.headings if headings is None else headings,
        imports=summary.imports if imports is None else imports,
        language=summary.language if language is None else language,
    )


def cell_sources(cells: list[Cell]) -> tuple[str, str]:
    """The code and the prose (markdown and raw cells) of a notebook, each capped."""
    code: list[str] = []
    prose: list[str] = []
    code_left, prose_left = MAX_CODE_CHARS, MAX_PROSE_CHARS
    for cell in cells:
        if not cell.source.strip():
            continue
        if cell.kind == "code" and code_left > 0:
            code.append(clean(cell.source, min(MAX_CELL_CHARS, code_left)))
            code_left -= len(code[-1])
        elif cell.kind != "code" and prose_left > 0:
            prose.append(clean(cell.source, min(MAX_CELL_CHARS, prose_left)))
            prose_left -= len(prose[-1])
    return "\n".join(code), "\n".join(prose)


def features_from_text(
    *,
    code: str = "",
    prose: str = "",
    title: str = "",
    headings: list[str] | None = None,
    imports: list[str] | None = None,
    language: str | None = None,
) -> Features:
    """Extract features from a notebook's text fields (for text that is not a notebook file)."""
    code = code[:MAX_CODE_CHARS]
    prose = prose[:MAX_PROSE_CHARS]
    code_tokens, prose_tokens, heading_tokens, import_tokens = text_tokens(
        code, prose, title, headings or [], imports or []
    )
    terms = (
        _count_terms(code_tokens, code_word_terms),
        _count_terms(prose_tokens, prose_word_terms),
        _count_terms(heading_tokens, prose_word_terms),
        Counter(import_tokens),
    )
    # Built by C code end to end (cached per token): a Python loop here costs a fifth of
    # the whole analysis. Distinct tokens in the order they come (not a set's, which changes
    # with each process's string hashing), so a term spelled two ways reads the same in every
    # process: as its last spelling in the text.
    spellings = (
        dict(chain.from_iterable(map(_code_spelling, dict.fromkeys(code_tokens)))),
        dict(chain.from_iterable(map(_prose_spelling, dict.fromkeys(prose_tokens)))),
        dict(chain.from_iterable(map(_prose_spelling, dict.fromkeys(heading_tokens)))),
    )
    return Features(terms, line_hashes(code, prose), language, spellings)


def text_tokens(
    code: str, prose: str, title: str, headings: list[str], imports: list[str]
) -> tuple[list[str], list[str], list[str], list[str]]:
    """The tokens of each field (``FIELDS`` order), before analysis: code identifiers, prose
    words, heading words (the title is also the first heading: counted twice, as a title
    should), and imported modules in lower case.

    A field's terms are the analysis of each of its tokens (``token_terms``), so tokens are
    what the refit cache keeps: the analysis runs once per distinct token, not per notebook.
    """
    heading_text = "\n".join([title, *headings])
    return (
        _IDENT.findall(code[:MAX_CODE_CHARS]),
        _WORD.findall(prose[:MAX_PROSE_CHARS]),
        _WORD.findall(heading_text),
        [m.lower() for m in imports if m],
    )


def token_terms(f: int, token: str) -> tuple[str, ...]:
    """The terms one token of field ``f`` gives (with repeats: ``a.a`` gives ``a`` twice)."""
    if f == CODE:
        return code_word_terms(token)
    if f == IMPORT:
        return (token,)
    return prose_word_terms(token)


def token_spellings(f: int, token: str) -> tuple[tuple[str, str], ...]:
    """(term, spelling) pairs of one token of field ``f``: how its terms read to a person.
    Modules have none: they read as themselves."""
    if f == CODE:
        return _code_spelling(token)
    if f == IMPORT:
        return ()
    return _prose_spelling(token)


@lru_cache(maxsize=262_144)
def _code_spelling(token: str) -> tuple[tuple[str, str], ...]:
    """(term, spelling) of a code token's dotted name and whole identifiers, not its parts.

    A code term that never gets a spelling is only ever a part of identifiers (``csv`` of
    ``read_csv``): reasons leave it out, the identifier says it better.
    """
    if len(token) > 100 or not token[:1].isalpha():
        return ()
    pieces = token.split(".")
    found = [(fold(token), token)] if len(pieces) > 1 else []
    found.extend((canonical(p), p) for p in pieces if canonical(p))
    return tuple(found)


@lru_cache(maxsize=262_144)
def _prose_spelling(token: str) -> tuple[tuple[str, str], ...]:
    """(stem, word) of a prose word: ``regress`` reads as ``regression``."""
    terms = prose_word_terms(token)
    if len(terms) == 1:
        return ((terms[0], fold(token)),)
    return tuple((t, t) for t in terms)  # CJK pairs read as themselves


def _count_terms(tokens: list[str], analyse: Callable[[str], tuple[str, ...]]) -> Counter[str]:
    """Term counts of a text, from the matches of the analyser's own token pattern.

    Analysing one token alone gives exactly the terms it gives inside the text, and tokens
    repeat so much that a cache of each token's terms makes this several times faster than
    analysing the whole text (the counting itself stays in C).
    """
    return Counter(chain.from_iterable(map(analyse, tokens)))


def line_hashes(code: str, prose: str) -> npt.NDArray[np.uint32]:
    """The bottom-``MAX_LINES`` sketch of a notebook's normalised, non-trivial lines."""
    found: set[int] = set()
    for text, bit in ((code, 0), (prose, int(PROSE_LINE_BIT))):
        for line in {line.strip() for line in text.splitlines()}:
            if len(line) >= MIN_LINE_CHARS:
                found.add((zlib.crc32(line.encode("utf-8", "surrogatepass")) >> 1) | bit)
    hashes = np.fromiter(found, dtype=np.uint32, count=len(found))
    hashes.sort()
    return hashes[:MAX_LINES]


def sketch_overlap(
    a: npt.NDArray[np.uint32], b: npt.NDArray[np.uint32], *, prose: bool | None = None
) -> tuple[float, int, int]:
    """Estimated Jaccard overlap of two line sketches, with the sizes of both sides.

    Args:
        a, b: sketches from ``line_hashes``.
        prose: only markdown lines (True), only code lines (False), or both (None).

    Returns:
        (jaccard, lines in a, lines in b); jaccard is 0.0 when either side is empty.
    """
    if prose is not None:
        a = a[(a >= PROSE_LINE_BIT) == prose]
        b = b[(b >= PROSE_LINE_BIT) == prose]
    if not len(a) or not len(b):
        return 0.0, len(a), len(b)
    # Bottom-k estimate: of the k smallest hashes of the union, the share found in both.
    union = np.union1d(a, b)
    if max(len(a), len(b)) >= MAX_LINES:  # a cut sketch: only the union's k smallest are known
        union = union[:MAX_LINES]
    both = np.intersect1d(a, b, assume_unique=True)
    shared = np.count_nonzero(np.isin(union, both, assume_unique=True))
    return float(shared / len(union)), len(a), len(b)


def blob_text(data: bytes) -> tuple[str, str]:
    """The code and the prose of a stored notebook (``cell_sources`` of its cells).

    Only the cells are read from the JSON: the catalog already holds the title, headings and
    imports, and computing them again is most of the cost of a full parse.

    Raises:
        ValueError: the bytes are not JSON (``orjson.JSONDecodeError`` is a ``ValueError``).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    raw = orjson.loads(data)
    cells = list(iter_cells(raw)) if isinstance(raw, dict) else []
    return cell_sources(cells)


def features_of_blob(
    data: bytes,
    *,
    title: str,
    headings: list[str],
    imports: list[str],
    language: str | None,
) -> Features:
    """Extract the features of a stored notebook whose catalog summary the caller has.

    Raises:
        ValueError: the bytes are not JSON.
    """
    code, prose = blob_text(data)
    return features_from_text(
        code=code,
        prose=prose,
        title=title,
        headings=headings,
        imports=imports,
        language=language,
    )
