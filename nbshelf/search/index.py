"""The Whoosh full-text index: one document per distinct notebook content.

The index is derived data. It is rebuilt from the catalog whenever it is missing, corrupt or
of an older schema, into a fresh folder that replaces the old one only when complete. Day to
day it catches up from the catalog's ``index_pending`` queue after each sync.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import gc
import io
import itertools
import os
import pickle
import shutil
import sys
import threading
import warnings
import weakref
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, overload

from sqlalchemy import Engine
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher, W3PostingsWriter
from whoosh.columns import CompressedBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import FileIndex
from whoosh.matching import ReadTooFar
from whoosh.reading import EmptyReader, SegmentReader
from whoosh.searching import Searcher
from whoosh.system import _INT_SIZE, unpack_int
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

from nbshelf.catalog.pending import clear_pending, pending_hashes
from nbshelf.catalog.queries import contents, in_chunks, present_hashes, present_places
from nbshelf.errors import NbshelfError, NotebookInvalid
from nbshelf.notebook import Cell, read_cells
from nbshelf.notebook.doctext import cell_texts, notebook_labels, pack_cells
from nbshelf.progress import ProgressFn
from nbshelf.records import Place
from nbshelf.search.analysis import (
    PartsAnalyzer,
    called_names,
    code_analyzer,
    prose_analyzer,
    words_analyzer,
)
from nbshelf.search.matchers import ListedLengthsBM25F
from nbshelf.search.postings import CountedFrequency, CountedPositions, WeightedPositions
from nbshelf.store import BlobStore, atomic_write

#: Bump when the schema or the analysis changes: an older index is then rebuilt.
INDEX_VERSION = "6"  # 6: postings blocks packed (IndexCodec)
INDEX_NAME = "notebooks"
#: Weights of a document's parts, so a title match beats a passing mention, and code use
#: beats prose: (analysis, weight) for each part of the body field.
PARTS = {
    "title": ("prose", 6.0), "headings": ("prose", 3.0), "markdown": ("prose", 1.0),
    "code": ("code", 1.2), "outputs": ("output", 0.3), "path": ("code", 1.0),
    "tags": ("words", 3.0),
}
#: Weights of the fields searched only by filters (title:, path:, author:).
WEIGHTS = {"title": 1.0, "path": 1.0, "author": 1.0}
#: A commit of the index during a sync merges into its new segment the segments with at most
#: this share of its documents (``merge_small_ones``).
MERGE_SHARE = 0.25
#: What a document was made from, besides its content (immutable): its places as
#: (source, path, title). A content whose places changed since must be written again.
PlaceKey = tuple[tuple[str, str, str], ...]


class IndexUnavailable(NbshelfError):
    """The index is missing and this process may not build it (another one writes)."""


class IndexCodec(W3Codec):
    """Whoosh's codec, with two changes.

    No posting keeps a copy of its document's field length: Whoosh reads that length back
    from disk for every posting it writes (a fifth of an index build) only to estimate the
    best score a block of postings can reach, an estimate nbshelf never uses: it visits
    every match (``nbshelf.search.service.top_matches``). Scores are unchanged: they read
    field lengths from the per-document column as before.

    And a block of postings keeps its weights and values as packed bytes (``_pack_weights``,
    ``_pack_values``) rather than as pickled tuples of floats and of byte strings: a pickled
    float takes 9 bytes and a pickled byte string some 30 around its own. On the 10,000
    notebook tree that is a fifth of the postings file (bench/RESULTS.md, issue 16). The
    segments keep this codec (Whoosh pickles it with them), so they are read back by it.
    """

    length_stats = False

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> W3PostingsWriter:
        """Writes blocks of postings in the packed form."""
        return _PackedPostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                                     compression=self._compression,
                                     inlinelimit=self._inlinelimit)

    def postings_reader(self, dbfile: Any, terminfo: Any, format_: Any, term: Any = None,
                        scorer: Any = None) -> Any:
        """Reads what ``postings_writer`` wrote (never inlined: see ``W3Codec``'s limit)."""
        if terminfo.is_inlined():  # not written by this codec; kept as Whoosh reads it
            return super().postings_reader(dbfile, terminfo, format_, term, scorer)
        offset, length = terminfo.extent()
        return _PackedMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


#: Weights are stored as little-endian 4-byte floats, as Whoosh keeps them in memory.
_SWAP = sys.byteorder != "little"


def _pack_weights(weights: array[float]) -> bytes:
    packed = array("f", weights)
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def _unpack_weights(data: bytes) -> array[float]:
    weights = array("f")
    weights.frombytes(data)
    if _SWAP:
        weights.byteswap()
    return weights


def _pack_values(values: list[bytes]) -> tuple[bytes, bytes]:
    """Variable-size posting values as (their lengths as 4-byte integers, their bytes)."""
    lengths = array("I", [len(v) for v in values])
    if _SWAP:
        lengths.byteswap()
    return lengths.tobytes(), b"".join(values)


class _PackedValues(Sequence[bytes]):
    """A block's variable-size values, cut out one at a time when asked: a search that
    skips into a block (the word-pair check, ``nbshelf.search.rerank``) reads the value of
    one posting of its 128, so cutting them all would be wasted."""

    def __init__(self, packed: tuple[bytes, bytes]) -> None:
        sizes, self._joined = packed
        lengths = array("I")
        lengths.frombytes(sizes)
        if _SWAP:
            lengths.byteswap()
        self._ends = list(itertools.accumulate(lengths))

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> bytes: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...

    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        end = self._ends[index]  # IndexError past the end, as a tuple raises
        start = self._ends[index - 1] if index % len(self._ends) else 0
        return self._joined[start:end]


class _PackedPostingsWriter(W3PostingsWriter):
    """Whoosh's postings writer, with weights and variable-size values packed."""

    def _mini_weights(self) -> Any:
        found = super()._mini_weights()
        return _pack_weights(self._weights) if isinstance(found, tuple) else found

    def _mini_values(self) -> Any:
        fixed = self._format.fixed_value_size()
        if fixed is None or fixed < 0:
            return _pack_values(self._values)
        return super()._mini_values()


#: Decompressed postings blocks kept, per postings file (segment): the blocks a question's
#: words were scored in, read again for their positions. A block is about 4 kB; a
#: four-pair question at 50,000 notebooks read 100-170 blocks of each of its 4 files.
_BLOCKS_KEPT = 512
_BLOCKS: weakref.WeakKeyDictionary[Any, OrderedDict[int, Any]] = weakref.WeakKeyDictionary()
_BLOCKS_LOCK = threading.Lock()


def forget_blocks() -> None:
    """Drop every kept postings block (benchmarks: each question reads its own)."""
    with _BLOCKS_LOCK:
        _BLOCKS.clear()


#: Bytes read at once for a postings block's header: its length (4) and its pickled facts
#: (about 30: six small numbers).
_HEADER_BYTES = 96


class _PackedMatcher(W3LeafMatcher):
    """Reads the blocks ``_PackedPostingsWriter`` wrote."""

    # Whoosh's block state, which this class reads and sets (Whoosh declares no types)
    _data: Any
    _ids: Any
    _weights: Any
    _values: Any

    def _read_weights(self) -> None:
        if self._data is None:
            self._read_data()
        if isinstance(self._data[1], bytes):
            self._weights = _unpack_weights(self._data[1])
        else:  # None or one float: all weights alike, as Whoosh writes them
            super()._read_weights()

    def _read_values(self) -> None:
        if self._data is None:
            self._read_data()
        if self._fixedsize is None or self._fixedsize < 0:
            self._values = _PackedValues(self._data[2])
        else:
            super()._read_values()

    def _goto(self, position: int) -> None:
        """Whoosh's ``_goto``, with the block's header (its length, then its pickled facts)
        read in one call: Whoosh unpickles from the file, which reads it a few bytes at a
        time, and a skip through a long posting list reads every block's header."""
        head = self._postfile.get(position, _HEADER_BYTES)
        try:
            stream = io.BytesIO(head)
            stream.seek(_INT_SIZE)
            info = pickle.load(stream)  # noqa: S301 - the library's own index, as Whoosh reads it
        except (EOFError, pickle.UnpicklingError, ValueError):
            super()._goto(position)  # a header longer than read at once
            return
        self._data = self._ids = self._weights = self._values = None
        self._i = 0
        length = unpack_int(head[:_INT_SIZE])[0]
        self._lastblock = length < 0  # negative: the last block
        self._nextoffset = position + _INT_SIZE + abs(length)
        self._dataoffset = position + stream.tell()
        self._blocklength, self._maxid, self._maxweight, self._compression, low, high = info
        self._minlength = byte_to_length(low)
        self._maxlength = byte_to_length(high)

    def _read_data(self) -> None:
        """Whoosh's ``_read_data``, kept for the next matcher that reads the same block: a
        search reads a block to score its notebooks, then the word-pair check reads it
        again for their positions (``nbshelf.search.rerank``)."""
        with _BLOCKS_LOCK:
            kept = _BLOCKS.setdefault(self._postfile, OrderedDict())
            data = kept.get(self._dataoffset)
            if data is not None:
                kept.move_to_end(self._dataoffset)
        if data is None:
            super()._read_data()
            with _BLOCKS_LOCK:
                kept[self._dataoffset] = self._data
                if len(kept) > _BLOCKS_KEPT:
                    kept.popitem(last=False)
        else:
            self._data = data

    def _read_ids(self) -> None:
        """Whoosh's ``_read_ids``, decoding the block's id gaps in C (``accumulate``)
        instead of a Python generator: every search reads ids."""
        if self._data is None:
            self._read_data()
        ids = self._data[0]
        self._ids = ids if self._byteids else tuple(itertools.accumulate(ids))

    def skip_to(self, targetid: int) -> None:
        """Whoosh's ``skip_to``, with a binary search inside the block where it steps
        posting by posting: a block's ids are sorted, and the word-pair check skips to a
        few documents in postings of thousands (at 50,000 notebooks, most of its time was
        those steps)."""
        if not self.is_active():
            raise ReadTooFar
        if targetid <= self.id():
            return
        if targetid > self._maxid:
            self._skip_to_block(lambda: targetid > self._maxid)
            if not self.is_active():
                return
        if self._ids is None:
            self._read_ids()
        # the block's last id is its max id, at or past the target: this lands inside it
        self._i = bisect.bisect_left(self._ids, targetid, self._i)


def _text(analyzer: Any, name: str, *, phrase: bool) -> TEXT:
    """A text field whose postings are counted by ``nbshelf.search.postings``."""
    field = TEXT(analyzer=analyzer, field_boost=WEIGHTS[name], phrase=phrase)
    kind = CountedPositions if phrase else CountedFrequency
    field.format = kind(field_boost=WEIGHTS[name])
    return field


def _body() -> TEXT:
    """Every searchable part of a notebook in one weighted field: one term per query word
    instead of one per field, and one posting per term instead of one per field."""
    field = TEXT(analyzer=PartsAnalyzer(PARTS), phrase=True)
    field.format = WeightedPositions(field_boost=1.0)
    return field


def build_schema() -> Schema:
    """The index's fields; keyword fields are lower case and comma separated."""
    return Schema(
        hash=ID(stored=True, unique=True),
        body=_body(),
        title=_text(prose_analyzer(), "title", phrase=False),
        path=_text(code_analyzer(), "path", phrase=False),
        author=_text(words_analyzer(), "author", phrase=False),
        tags=KEYWORD(lowercase=True, commas=True, scorable=True),
        imports=KEYWORD(lowercase=True, commas=True, scorable=True),
        # the names its code calls, for ranking identifier-like queries (search/ranking.py):
        # only ever asked whether a notebook has one, so no scores or lengths are kept
        calls=KEYWORD,
        lang=ID,
        source=KEYWORD(lowercase=True, commas=True),
        marking=ID,
        facets=STORED,  # what the facet sidebar counts, read back per hit
        # the searchable text of each cell, for the snippets of the hits shown: reading it is
        # a fraction of the cost of reading and parsing the notebook
        cells=COLUMN(CompressedBytesColumn()),
    )


class SearchIndex:
    """The index folder ``<library>/index`` and the work of keeping it current."""

    def __init__(self, folder: Path, engine: Engine, store: BlobStore) -> None:
        self.folder = folder
        self.engine = engine
        self.store = store
        self._index: FileIndex | None = None
        self._searcher: Searcher | None = None
        self._checked = False
        self._lock = threading.Lock()

    # -- opening ---------------------------------------------------------------------------

    def is_current(self) -> bool:
        """True when an index of this version exists and opens (checked once per process)."""
        if self._checked:
            return True
        version = self.folder / "VERSION"
        if not version.is_file() or version.read_text().strip() != INDEX_VERSION:
            return False
        # Whoosh leaves a broken file open when it fails to read it: that is expected here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                whoosh_index.open_dir(str(self.folder), indexname=INDEX_NAME).close()
            except Exception:  # noqa: BLE001 - any failure to open means "rebuild it"
                opened = False
            else:
                opened = True
            gc.collect()
        if not opened:
            return False
        self._checked = True
        return True

    def open(self) -> FileIndex:
        """The open index; ``IndexUnavailable`` if there is none to open."""
        if self._index is None:
            if not self.is_current():
                raise IndexUnavailable(
                    "the search index is not built yet; it is built by the process that holds "
                    "the library (the app, or the next 'nbshelf sync')"
                )
            # Not memory-mapped: Whoosh copies each mapped file it opens into memory, so every
            # writer that deletes (each update) re-read the whole terms files (1 s at 50,000
            # notebooks); read through files, queries take the same time.
            storage = FileStorage(str(self.folder), supports_mmap=False)
            self._index = storage.open_index(INDEX_NAME)
        return self._index

    def searcher(self) -> Searcher:
        """A searcher kept open across queries and refreshed after each commit."""
        if self._searcher is not None and isinstance(self._searcher.reader(), EmptyReader):
            # Whoosh cannot refresh a searcher opened on an empty index: open a new one
            self._searcher.close()
            self._searcher = None
        if self._searcher is not None and not self._searcher.up_to_date():
            # Not Searcher.refresh(): it reuses segment readers by segment id, keeping the
            # deletions they had when opened, and whoosh-reloaded adds back the segments a
            # merge removed, so a reader's counts doubled after the writer's updates.
            self._searcher.close()
            self._searcher = None
        if self._searcher is None:
            self._searcher = self.open().searcher(weighting=ListedLengthsBM25F())
        return self._searcher

    def close(self) -> None:
        """Close the open searcher and index."""
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        if self._index is not None:
            self._index.close()
            self._index = None

    def clear_stale_locks(self) -> None:
        """Remove Whoosh's lock and leftovers: only the library's lock holder calls this."""
        for leftover in (self.folder.parent / "index.new", self.folder.parent / "index.old"):
            shutil.rmtree(leftover, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            (self.folder / f"{INDEX_NAME}_WRITELOCK").unlink()

    # -- building and updating -------------------------------------------------------------

    def rebuild(self, progress: ProgressFn | None = None, cancel: threading.Event | None = None,
                *, procs: int = 1) -> int:
        """Build the whole index anew from the catalog; return the documents written.

        The new index is written beside the old one and swapped in only when complete.
        """
        with self.engine.connect() as conn:
            queued = set(pending_hashes(conn))
            hashes = present_hashes(conn)
        staging = self.folder.parent / "index.new"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        index = whoosh_index.create_in(str(staging), build_schema(), indexname=INDEX_NAME)
        kwargs: dict[str, Any] = {"limitmb": writer_memory_mb(), "codec": IndexCodec()}
        if procs > 1:
            kwargs.update(procs=procs, multisegment=True)
        writer = index.writer(**kwargs)
        written = 0
        try:
            for done, batch in enumerate(in_chunks(hashes, 200)):
                if cancel is not None and cancel.is_set():
                    writer.cancel()
                    index.close()
                    shutil.rmtree(staging, ignore_errors=True)
                    return 0
                for document in self._documents(batch):
                    writer.add_document(**document)
                    written += 1
                if progress is not None:
                    progress(min((done + 1) * 200, len(hashes)), len(hashes), "indexing")
            writer.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                writer.cancel()
            raise
        finally:
            index.close()
        atomic_write(staging / "VERSION", INDEX_VERSION.encode())
        self._swap_in(staging)
        with self.engine.begin() as conn:
            clear_pending(conn, queued)
        return written

    def _swap_in(self, staging: Path) -> None:
        with self._lock:
            self.close()
            old = self.folder.parent / "index.old"
            if self.folder.exists():
                os.replace(self.folder, old)
            os.replace(staging, self.folder)
            shutil.rmtree(old, ignore_errors=True)
            self._checked = True

    def update_pending(self) -> int:
        """Bring the index up to date with the catalog's queue; return contents handled."""
        with self.engine.connect() as conn:
            queued = pending_hashes(conn)
        if not queued:
            return 0
        index = self.open()
        writer = index.writer(limitmb=64, codec=IndexCodec())
        try:
            present = {d["hash"]: d for d in self._documents(queued)}
            for digest in queued:
                if digest in present:
                    writer.update_document(**present[digest])
                else:
                    writer.delete_by_term("hash", digest)
            writer.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                writer.cancel()
            raise
        with self.engine.begin() as conn:
            clear_pending(conn, queued)
        return len(queued)

    def create_empty(self) -> None:
        """Put an empty index of this version in place of whatever is there (the start of a
        progressive build: the catalog must have queued every present content first)."""
        staging = self.folder.parent / "index.new"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        whoosh_index.create_in(str(staging), build_schema(), indexname=INDEX_NAME).close()
        atomic_write(staging / "VERSION", INDEX_VERSION.encode())
        self._swap_in(staging)

    def take_in(self, hashes: list[str], still_wanted: Callable[[], bool] | None = None,
                procs: int = 1) -> dict[str, PlaceKey]:
        """Write the documents of these contents as the catalog has them now (deleting those
        with no present place) in one commit, and merge small segments (``merge_doubling``).

        The queue is left as it is: the caller clears a content only if its places are still
        the ones returned (a sync may have given it another place since). Nothing is
        committed, and {} returned, when ``still_wanted`` says no (asked before each
        document and before the commit). ``procs`` > 1: that many processes write it.
        """
        kwargs: dict[str, Any] = {"limitmb": writer_memory_mb(), "codec": IndexCodec()}
        if procs > 1:  # Whoosh's multiprocess writer: each process writes a segment
            kwargs.update(procs=procs, multisegment=True)
        writer = self.open().writer(**kwargs)
        seen: dict[str, PlaceKey] = {}
        try:
            written = set()
            for document in self._documents(hashes, seen):
                if still_wanted is not None and not still_wanted():
                    writer.cancel()
                    return {}
                writer.update_document(**document)
                written.add(document["hash"])
            for digest in hashes:
                if digest not in written:
                    writer.delete_by_term("hash", digest)
            if still_wanted is not None and not still_wanted():
                writer.cancel()
                return {}
            # the multiprocess writer's own count is of the documents it wrote itself: none
            writer.commit(mergetype=functools.partial(merge_small_ones, gathered=len(written)))
        except BaseException:
            with contextlib.suppress(Exception):
                writer.cancel()
            raise
        return seen

    def optimize(self) -> None:
        """Merge the index into one segment (small updates each add one)."""
        self.open().optimize()

    # -- documents -------------------------------------------------------------------------

    def _documents(self, hashes: list[str],
                   seen: dict[str, PlaceKey] | None = None) -> Iterable[dict[str, Any]]:
        """Index documents for the contents that still have a present place; ``seen`` is
        told the places each content had when its document was made."""
        with self.engine.connect() as conn:
            places = present_places(conn, hashes)
            rows = contents(conn, hashes)
        for digest in hashes:
            where = places.get(digest)
            content = rows.get(digest)
            if seen is not None:
                seen[digest] = place_key(where or [])
            if where is None or content is None:
                continue
            try:
                raw, cells = read_cells(self.store.read(digest))
            except (OSError, NotebookInvalid):
                continue  # a lost blob is re-copied by the next sync, then indexed
            yield _document(digest, content, raw, cells, where)


def _document(
    digest: str, content: Any, raw: dict[str, Any], cells: list[Cell], where: list[Place]
) -> dict[str, Any]:
    texts = cell_texts(cells)
    labels = notebook_labels(raw)
    language = content.language or ""
    imports = [m.lower() for m in content.imports]
    code = "\n".join(t.text for t in texts if t.kind == "code")
    document = {
        "hash": digest,
        "body": [
            ("title", content.title),
            ("headings", "\n".join(content.headings)),
            ("markdown", "\n".join(t.text for t in texts if t.kind in ("markdown", "raw"))),
            ("code", code),
            ("outputs", "\n".join(t.text for t in texts if t.kind == "output")),
            ("path", "\n".join(p.path for p in where)),
            ("tags", " ".join(labels.tags)),
        ],
        "title": content.title,
        "path": "\n".join(p.path for p in where),
        "author": ", ".join(labels.authors),
        "tags": ",".join(t.lower() for t in labels.tags),
        "imports": ",".join(imports),
        "calls": " ".join(called_names(code)),
        "lang": language,
        "source": ",".join(s.lower() for s in sorted({p.source for p in where})),
        "marking": (labels.marking or "").lower(),
        "facets": {
            "language": language,
            "sources": sorted({p.source for p in where}),
            "imports": imports,
            "tags": [t.lower() for t in labels.tags],
        },
        "cells": pack_cells(texts),
    }
    # An empty value would still be indexed as a term in every document: leave it out.
    return {k: v for k, v in document.items() if v != ""}


def place_key(where: Iterable[Place]) -> PlaceKey:
    """The part of a content's places its document holds (source, path, title)."""
    return tuple((p.source, p.path, p.title) for p in where)


def merge_small_ones(writer: SegmentWriter, segments: list[Any], gathered: int = 0) -> list[Any]:
    """Whoosh merge policy for an index that grows by rounds of growing size: merge into the
    segment being written the segments (smallest first) with at most ``MERGE_SHARE`` of the
    documents gathered so far (at least ``gathered``: the commit's new documents); return the
    segments left as they are.

    Merging costs nearly what indexing does (7.4 s to merge four segments of 250 notebooks,
    7 s to index them), and four segments search as fast as one (p95 23.5 against 22.1 ms
    at 1,000 notebooks): a sync's rounds double in size instead (``ProgressiveIndex``),
    which keeps their segments few, and only the crumbs of the first rounds are merged.
    """
    gathered = max(1, gathered, writer.doc_count())
    kept: list[Any] = []
    for segment in sorted(segments, key=lambda seg: seg.doc_count_all()):
        if kept or segment.doc_count_all() > MERGE_SHARE * gathered:
            kept.append(segment)
            continue
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
        gathered += segment.doc_count()
    return kept


def writer_memory_mb() -> int:
    """Memory for each index writer's postings before it sorts them out to disk.

    Past the limit Whoosh writes sorted runs and merges them back at the end, in Python: with
    128 MB a 10,000-notebook build spilled about four runs per writer and took 76 CPU s; with
    512 MB it spills none and takes 53 (``bench/search.py``). A sixteenth of the machine's
    memory, between 128 and 512 MB: two writers then hold at most an eighth of it.
    """
    try:
        total_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (ValueError, OSError, AttributeError):  # not every system reports it
        return 128
    return max(128, min(512, total_mb // 16))
