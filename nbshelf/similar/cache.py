"""The refit cache: each content's tokens, kept beside the model so a refit reads only new ones.

Reading a blob and splitting it into tokens is most of the cost of a fit (at 50,000 generated
notebooks, some 70 CPU seconds against 8 for the fit itself), and a content never changes: its
hash names its bytes. So the tokens of every content the model covers are kept with the model
in ``<library>/similar``, and a refit reads and splits only the contents new since then.

Tokens, not terms, are kept: the terms of a field are the analysis of each token
(``features.token_terms``), which the fit runs once per distinct token. The table is
columnar (per field a token list and a CSR matrix of counts), so 50,000 contents are a few
arrays, not 50,000 dictionaries, and load in a fraction of a second.

The cache is derived data. ``Similarity`` writes it into the model's staging folder (see
``SimilarModel.save``), so a kill leaves the old model with its old cache, the new pair, or
(between the two renames of the swap) neither, and then both are rebuilt. A file that is
missing, damaged, of another version or made by other extraction rules is ignored, and the
refit reads every blob again.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count, repeat
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from nbshelf.notebook.doctext import MAX_CELL_CHARS
from nbshelf.search.analysis import _IDENT, _WORD
from nbshelf.similar.features import (
    FIELDS,
    MAX_CODE_CHARS,
    MAX_LINES,
    MAX_PROSE_CHARS,
    MIN_LINE_CHARS,
    blob_text,
    line_hashes,
    text_tokens,
)
from nbshelf.similar.npzfile import write_npz
from nbshelf.store import BlobStore

#: The cache file in the model folder.
TOKENS_FILE = "tokens.npz"
#: Bump when what a content's tokens are changes in a way the fingerprint below cannot see
#: (how cells are read or cleaned, say).
CACHE_VERSION = "1"

#: (hash, title, headings, imports, language) of one content, as the catalog has it.
ContentRow = tuple[str, str, list[str], list[str], str | None]


def _fingerprint() -> str:
    """The rules that made a cache: its version and the extraction's patterns and caps."""
    rules = [
        CACHE_VERSION, _IDENT.pattern, _WORD.pattern, MAX_CODE_CHARS, MAX_PROSE_CHARS,
        MAX_CELL_CHARS, MAX_LINES, MIN_LINE_CHARS, len(FIELDS),
    ]  # fmt: skip
    return hashlib.sha256(repr(rules).encode()).hexdigest()[:16]


def summary_key(row: ContentRow) -> int:
    """A checksum of the catalog fields a content's tokens come from besides its blob.

    The title, headings and imports are the catalog's; if a newer catalog reads them
    differently, the key changes and the content is read again.
    """
    _, title, headings, imports, _ = row
    return zlib.crc32(repr((title, headings, imports)).encode("utf-8", "surrogatepass"))


@dataclass
class TokenTable:
    """The tokens of many contents, columnar.

    Attributes:
        hashes: the contents, one per row.
        keys: per row, the ``summary_key`` of the catalog row it was read with.
        tokens: per field (``FIELDS`` order), its tokens in column order.
        counts: per field, a rows x tokens CSR matrix of counts (int32).
        line_data, line_ptr: the rows' line sketches (``features.line_hashes``), all in one
            array: row ``i``'s are ``line_data[line_ptr[i]:line_ptr[i + 1]]``.
    """

    hashes: list[str]
    keys: npt.NDArray[np.uint32]
    tokens: list[list[str]]
    counts: list[sp.csr_matrix]
    line_data: npt.NDArray[np.uint32]
    line_ptr: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.hashes)

    @classmethod
    def empty(cls) -> TokenTable:
        """A table of no content."""
        return TableBuilder().table()

    def take(self, rows: npt.NDArray[np.intp] | Sequence[int]) -> TokenTable:
        """These rows, in this order; tokens no row has any more are dropped."""
        rows = np.asarray(rows, dtype=np.intp)
        sizes = np.diff(self.line_ptr)[rows]
        ptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(sizes, out=ptr[1:])
        starts = self.line_ptr[:-1][rows]
        # Each kept sketch's positions in line_data, without a Python loop over rows.
        within = np.arange(int(ptr[-1]), dtype=np.int64) - np.repeat(ptr[:-1], sizes)
        data = self.line_data[np.repeat(starts, sizes) + within]
        tokens: list[list[str]] = []
        counts: list[sp.csr_matrix] = []
        for words, matrix in zip(self.tokens, self.counts, strict=True):
            kept, used = _compact(sp.csr_matrix(matrix[rows]), len(words))
            tokens.append(words if used is None else [words[i] for i in used])
            counts.append(kept)
        return TokenTable(
            [self.hashes[i] for i in rows], self.keys[rows], tokens, counts, data, ptr
        )

    def select(self, rows: Sequence[int]) -> TokenTable:
        """These rows in hash order (the order the model keeps), without tokens no row has."""
        order = sorted(rows, key=self.hashes.__getitem__)
        if order == list(range(len(self))):
            return self  # a cold fit: batches come in hash order and nothing is dropped
        return self.take(order)

    # -- on disk -----------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the table to ``path`` (in ``Similarity``, a file of the model's staging
        folder: the folder swap puts the model and its cache in place together)."""
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "fingerprint": np.array(_fingerprint()),
            "hashes": np.array(self.hashes, dtype="S64"),
            "keys": self.keys.astype(np.uint32),
            "line_data": self.line_data,
            "line_ptr": self.line_ptr,
        }
        for f, (words, matrix) in enumerate(zip(self.tokens, self.counts, strict=True)):
            text, lengths = _pack(words)
            arrays[f"text{f}"] = text
            arrays[f"lengths{f}"] = lengths
            arrays[f"indptr{f}"] = matrix.indptr.astype(np.int64)
            arrays[f"indices{f}"] = matrix.indices.astype(np.int32)
            # Counts are small: two bytes each unless a content repeats a token 65,536 times.
            big = matrix.nnz and int(matrix.data.max()) > np.iinfo(np.uint16).max
            arrays[f"counts{f}"] = matrix.data.astype(np.uint32 if big else np.uint16)
        # Written beside and renamed over: readers see the old file or the whole new one.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as out:
                write_npz(out, arrays)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> TokenTable | None:
        """The table saved at ``path``; None when it is missing, damaged, of another version
        or made by other extraction rules (the caller then reads every content)."""
        try:
            with open(path, "rb") as file, np.load(file, allow_pickle=False) as arrays:
                if str(arrays["fingerprint"]) != _fingerprint():
                    return None
                table = cls._from_arrays(arrays)
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
            return None
        return table if table._consistent() else None

    @classmethod
    def _from_arrays(cls, arrays: np.lib.npyio.NpzFile) -> TokenTable:
        hashes = [h.decode("ascii") for h in arrays["hashes"]]
        tokens: list[list[str]] = []
        counts: list[sp.csr_matrix] = []
        for f in range(len(FIELDS)):
            words = _unpack(arrays[f"text{f}"], arrays[f"lengths{f}"])
            data = arrays[f"counts{f}"].astype(np.int32)
            matrix = sp.csr_matrix(
                (data, arrays[f"indices{f}"], arrays[f"indptr{f}"]), shape=(len(hashes), len(words))
            )
            tokens.append(words)
            counts.append(matrix)
        return cls(
            hashes,
            arrays["keys"].astype(np.uint32),
            tokens,
            counts,
            arrays["line_data"].astype(np.uint32),
            arrays["line_ptr"].astype(np.int64),
        )

    def _consistent(self) -> bool:
        n = len(self.hashes)
        ptr = self.line_ptr
        if len(self.keys) != n or len(ptr) != n + 1 or len(self.tokens) != len(FIELDS):
            return False
        if ptr[0] != 0 or ptr[-1] != len(self.line_data) or (np.diff(ptr) < 0).any():
            return False
        for words, matrix in zip(self.tokens, self.counts, strict=True):
            indptr, indices = matrix.indptr, matrix.indices
            if matrix.shape != (n, len(words)) or indptr[0] != 0 or indptr[-1] != len(indices):
                return False
            if (np.diff(indptr) < 0).any() or (len(indices) and int(indices.max()) >= len(words)):
                return False
            if len(indices) and int(indices.min()) < 0:
                return False
        return True


class TableBuilder:
    """Builds a ``TokenTable`` one content at a time (in a worker process: the table it makes
    is a few lists and arrays, cheap to send back, unlike one dictionary per notebook)."""

    def __init__(self) -> None:
        self.hashes: list[str] = []
        self.keys: list[int] = []
        self.tokens: list[list[str]] = [[] for _ in FIELDS]  # each row's distinct tokens
        self.counts: list[list[int]] = [[] for _ in FIELDS]
        self.sizes: list[list[int]] = [[] for _ in FIELDS]
        self.lines: list[npt.NDArray[np.uint32]] = []

    def add(
        self, digest: str, key: int, tokens: Sequence[list[str]], lines: npt.NDArray[np.uint32]
    ) -> None:
        """Take in one content: its tokens per field and its line sketch."""
        self.hashes.append(digest)
        self.keys.append(key)
        for f, found in enumerate(tokens):
            counted = Counter(found)
            self.tokens[f] += counted  # its keys, in C; numbered once per batch, in table()
            self.counts[f] += counted.values()
            self.sizes[f].append(len(counted))
        self.lines.append(lines)

    def add_blob(self, row: ContentRow, data: bytes) -> None:
        """Take in a stored notebook, with the catalog row of its content.

        Raises:
            ValueError: the bytes are not JSON.
        """
        digest, title, headings, imports, _ = row
        code, prose = blob_text(data)
        code, prose = code[:MAX_CODE_CHARS], prose[:MAX_PROSE_CHARS]
        tokens = text_tokens(code, prose, title, headings, imports)
        self.add(digest, summary_key(row), tokens, line_hashes(code, prose))

    def table(self) -> TokenTable:
        """The table of everything taken in so far."""
        n = len(self.hashes)
        counts: list[sp.csr_matrix] = []
        words: list[list[str]] = []
        for f in range(len(FIELDS)):
            vocabulary, indices = _numbered(self.tokens[f])
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.array(self.sizes[f], dtype=np.int64), out=indptr[1:])
            matrix = sp.csr_matrix(
                (np.array(self.counts[f], dtype=np.int32), indices, indptr),
                shape=(n, len(vocabulary)),
            )
            counts.append(matrix)
            words.append(vocabulary)
        sizes = np.array([len(x) for x in self.lines], dtype=np.int64)
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(sizes, out=ptr[1:])
        data = np.concatenate(self.lines) if self.lines else np.zeros(0, dtype=np.uint32)
        return TokenTable(
            list(self.hashes), np.array(self.keys, dtype=np.uint32), words, counts,
            data.astype(np.uint32), ptr,
        )  # fmt: skip


def _numbered(tokens: list[str]) -> tuple[list[str], npt.NDArray[np.int32]]:
    """The distinct tokens in order of first appearance, and each token's number among them.

    ``dict.setdefault`` over a counter numbers new tokens in C; known tokens waste their
    number, leaving gaps, and a gapped number's rank among the handed-out ones is its dense
    number (they were handed out in increasing order).
    """
    vocabulary: dict[str, int] = {}
    gapped = np.fromiter(map(vocabulary.setdefault, tokens, count()), np.int64, len(tokens))
    handed = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(vocabulary))
    return list(vocabulary), np.searchsorted(handed, gapped).astype(np.int32)


def read_contents(store_root: str, rows: Sequence[ContentRow]) -> TokenTable:
    """The tokens of contents read from the blob store (a missing or unreadable blob is
    skipped: the next sync copies it again, and the next refit takes it in)."""
    store = BlobStore(Path(store_root))
    builder = TableBuilder()
    for row in rows:
        try:
            builder.add_blob(row, store.read(row[0]))
        except (OSError, ValueError):
            continue
    return builder.table()


class TableMerger:
    """Tables taken in one by one (as worker processes hand them back) and made one.

    Each table's tokens are renumbered into one token list per field as it comes, so the
    main process does that work while it waits for the next batch, not after the last.
    """

    def __init__(self) -> None:
        self.vocabularies: list[dict[str, int]] = [{} for _ in FIELDS]
        self.blocks: list[list[tuple[sp.csr_matrix, npt.NDArray[np.int32]]]] = [[] for _ in FIELDS]
        self.parts: list[TokenTable] = []

    def add(self, table: TokenTable) -> None:
        """Take in the rows of ``table``, after those taken in so far."""
        self.parts.append(table)
        for f, vocabulary in enumerate(self.vocabularies):
            self.blocks[f].append((table.counts[f], _ids(vocabulary, table.tokens[f])))

    def table(self) -> TokenTable:
        """All rows taken in, as one table."""
        if len(self.parts) == 1:
            return self.parts[0]
        counts = [
            _stack_rows(blocks, len(vocabulary))
            for blocks, vocabulary in zip(self.blocks, self.vocabularies, strict=True)
        ]
        parts = self.parts
        sizes = np.concatenate([np.diff(t.line_ptr) for t in parts] or [np.zeros(0, np.int64)])
        ptr = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=ptr[1:])
        empty = np.zeros(0, dtype=np.uint32)
        return TokenTable(
            [h for t in parts for h in t.hashes],
            np.concatenate([t.keys for t in parts] or [empty]).astype(np.uint32),
            [list(v) for v in self.vocabularies],
            counts,
            np.concatenate([t.line_data for t in parts] or [empty]).astype(np.uint32),
            ptr,
        )


def _ids(vocabulary: dict[str, int], words: list[str]) -> npt.NDArray[np.int32]:
    """The ids of ``words`` in ``vocabulary``, adding the ones it lacks.

    The look-up runs in C (``map`` of ``dict.get``); only new words take a Python step,
    and after the first few batches most words are known.
    """
    ids = np.fromiter(map(vocabulary.get, words, repeat(-1)), dtype=np.int32, count=len(words))
    for i in np.flatnonzero(ids < 0).tolist():
        ids[i] = vocabulary.setdefault(words[i], len(vocabulary))
    return ids


def _stack_rows(
    blocks: Sequence[tuple[sp.csr_matrix, npt.NDArray[np.int32]]], width: int
) -> sp.csr_matrix:
    """Stack CSR blocks, each with its columns renumbered (column ``c`` of a block becomes
    ``ids[c]`` of ``width`` columns); the rows' indices stay in the blocks' order."""
    n = sum(matrix.shape[0] for matrix, _ in blocks)
    indptr = np.zeros(n + 1, dtype=np.int64)
    at, offset = 1, 0
    for matrix, _ in blocks:
        rows = matrix.shape[0]
        indptr[at : at + rows] = matrix.indptr[1:].astype(np.int64) + offset
        at, offset = at + rows, offset + int(matrix.indptr[-1])
    indices = [ids[matrix.indices] for matrix, ids in blocks if matrix.nnz]
    data = [matrix.data for matrix, _ in blocks if matrix.nnz]
    return sp.csr_matrix(
        (
            np.concatenate(data).astype(np.int32) if data else np.zeros(0, dtype=np.int32),
            np.concatenate(indices).astype(np.int32) if indices else np.zeros(0, dtype=np.int32),
            indptr,
        ),
        shape=(n, width),
    )


def _compact(
    matrix: sp.csr_matrix, width: int
) -> tuple[sp.csr_matrix, npt.NDArray[np.intp] | None]:
    """Drop the columns no row uses; return the matrix and the kept old column numbers
    (None when every column is used)."""
    used = np.zeros(width, dtype=bool)
    used[matrix.indices] = True
    if used.all():
        return matrix, None
    kept = np.flatnonzero(used)
    new = np.full(width, -1, dtype=np.int32)
    new[kept] = np.arange(len(kept), dtype=np.int32)
    compact = sp.csr_matrix(
        (matrix.data, new[matrix.indices], matrix.indptr), shape=(matrix.shape[0], len(kept))
    )
    return compact, kept


def _pack(words: list[str]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int32]]:
    """Strings as one UTF-8 byte array and their lengths in characters (any str, even one
    with a lone surrogate from a notebook's JSON, round-trips)."""
    text = "".join(words).encode("utf-8", "surrogatepass")
    lengths = np.fromiter(map(len, words), dtype=np.int32, count=len(words))
    return np.frombuffer(text, dtype=np.uint8), lengths


def _unpack(text: npt.NDArray[np.uint8], lengths: npt.NDArray[np.int32]) -> list[str]:
    """The strings ``_pack`` packed.

    Raises:
        ValueError: the lengths do not cut the text into whole strings (a damaged file).
    """
    whole = text.tobytes().decode("utf-8", "surrogatepass")
    ends = np.cumsum(lengths, dtype=np.int64)
    if (lengths < 0).any() or (int(ends[-1]) if len(ends) else 0) != len(whole):
        raise ValueError("token lengths do not match the token text")
    starts = ends - lengths
    return [whole[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
