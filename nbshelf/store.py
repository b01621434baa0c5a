"""The content-addressed blob store: every notebook version, by the hash of its bytes.

Blobs are immutable. A blob is written to a temporary file in its final folder, flushed to
disk and renamed into place, so a kill at any moment leaves either no blob or a whole one;
leftover temporary files are removed the next time a writer opens the library.

A sync writes many blobs per catalog transaction, and compressing and fsyncing each in line
was a quarter of a first sync (bench/RESULTS.md, issue 16). So ``put(..., later=True)``
hands the blob to threads of the store's, which compress, write, fsync and rename it while
the sync parses the next notebooks; ``flush()``, called before the transaction that records
the blobs commits, waits for them and then syncs the folders they were renamed into, so
that their names survive a power cut too. The invariant is unchanged: a catalog row
never names a blob that a crash could lose.

Blobs are stored compressed as one zstd frame (issue 16: half the disk on the real corpus;
the measurements are in bench/RESULTS.md, "Compact store"). The hash, and so the name, is
still that of the original bytes: identity and deduplication do not depend on the format.
The format is told by the first bytes, so no catalog change was needed: a zstd frame starts
with the magic 28 B5 2F FD, while a blob written before issue 16 is the notebook's JSON and
starts with whitespace or ``{``. Both read back as the original bytes, through ``read``
only: nothing else may open a blob file (``nbshelf maintenance compact`` rewrites the old
ones compressed).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbshelf.errors import BlobDamaged
from nbshelf.limits import MAX_BLOB_BYTES
from nbshelf.progress import ProgressFn

if TYPE_CHECKING:
    import zstandard

_TMP_SUFFIX = ".tmp"
#: ``atomic_write``'s temporary files are ``.NAME.nbshelf-XXXXXXXX.tmp`` (``mkstemp``'s eight
#: random characters): specific enough that nbshelf can tell its own leftovers on a share
#: from another tool's ``.NAME.tmp`` or a user's file, and remove only its own.
_TMP_MARK = ".nbshelf-"
TEMP_NAME = re.compile(r"\A\..+" + re.escape(_TMP_MARK) + r"[a-z0-9_]{8}"
                       + re.escape(_TMP_SUFFIX) + r"\Z", re.DOTALL)


#: A temporary file of nbshelf's older than this (seconds) is a killed writer's leftover:
#: a live write keeps touching its file, and no publish takes minutes between two writes.
STALE_TEMP_S = 300


#: The first bytes of every zstd frame (RFC 8878). No notebook JSON starts with them.
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: Threads that write the blobs a sync puts with ``later``.
_SYNC_THREADS = 4
#: zstd's default level: on the corpus it saves 50% (level 19 and lzma save 51% at 100-300x
#: the compression time; zlib saves 47% and reads 3-4x slower). See bench/RESULTS.md.
ZSTD_LEVEL = 3
_DIGEST = re.compile(r"\A[0-9a-f]{64}\Z")
# zstandard's (de)compressor objects may not be used by two threads at once, and the store
# is read from the app's lanes and the index builder's threads: one pair per thread.
_codecs = threading.local()


def _zstd() -> Any:
    """The zstandard module, imported on first use: it is not needed to start the app."""
    import zstandard

    return zstandard


def _compressor() -> zstandard.ZstdCompressor:
    found = getattr(_codecs, "compressor", None)
    if found is None:
        # the content size in the header lets a reader refuse a blob that would inflate
        # past the cap before decompressing; the checksum catches a blob damaged on disk
        found = _zstd().ZstdCompressor(level=ZSTD_LEVEL, write_content_size=True,
                                       write_checksum=True)
        _codecs.compressor = found
    return found


def _decompressor() -> zstandard.ZstdDecompressor:
    found = getattr(_codecs, "decompressor", None)
    if found is None:
        found = _codecs.decompressor = _zstd().ZstdDecompressor()
    return found


def compress(data: bytes) -> bytes:
    """``data`` as one zstd frame, the format of a stored blob.

    Always compressed, even when that does not make it smaller (a few bytes more on
    incompressible data): a blob that starts with the magic is then always a frame.
    """
    return _compressor().compress(data)


def decode_blob(stored: bytes, where: str) -> bytes:
    """The original bytes of a stored blob, compressed or written raw before issue 16.

    Decompression writes into a buffer of the size the frame's header declares, after
    checking it against ``MAX_BLOB_BYTES``: it cannot produce more than that, so a damaged
    or hostile blob is a ``BlobDamaged``, never a ``MemoryError``.

    Args:
        stored: the blob file's bytes.
        where: the blob's path, for the message.

    Raises:
        BlobDamaged: a truncated or corrupt frame (the frame's checksum), trailing bytes
            after it, no size in its header, or a size past the cap.
    """
    if not stored.startswith(ZSTD_MAGIC):
        return stored  # a raw blob, as the store wrote them before compression
    zstandard = _zstd()
    try:
        size = zstandard.frame_content_size(stored)
    except zstandard.ZstdError:
        raise BlobDamaged(where, "its header is cut short or garbled") from None
    if size < 0:  # every frame the store writes says its size
        raise BlobDamaged(where, "its header does not say how large it is")
    if size > MAX_BLOB_BYTES:
        raise BlobDamaged(where, f"it claims {size:,} bytes, more than a notebook may have")
    try:
        data = _decompressor().decompress(stored, max_output_size=size,
                                          allow_extra_data=False)
    except zstandard.ZstdError as err:
        raise BlobDamaged(where, f"it does not decompress: {err}") from None
    if len(data) != size:
        raise BlobDamaged(where, f"it gave {len(data):,} bytes, its header says {size:,}")
    return data


@dataclass
class CompactReport:
    """What ``BlobStore.compact`` did.

    Attributes:
        blobs: blob files looked at.
        compacted: raw blobs rewritten compressed.
        already: blobs that were compressed already.
        damaged: raw blobs whose bytes no longer match their name, left as they are.
        bytes_before: the size of the blobs looked at, before.
        bytes_after: their size after (the damaged and the untouched ones as they are).
        cancelled: stopped before the end; every blob is whole, in one format or the other.
    """

    blobs: int = 0
    compacted: int = 0
    already: int = 0
    damaged: list[str] | None = None
    bytes_before: int = 0
    bytes_after: int = 0
    cancelled: bool = False

    def to_json(self) -> dict[str, Any]:
        """The ``maintenance compact`` JSON object."""
        return {"blobs": self.blobs, "compacted": self.compacted, "already": self.already,
                "damaged": list(self.damaged or []), "bytes_before": self.bytes_before,
                "bytes_after": self.bytes_after, "cancelled": self.cancelled}


class BlobStore:
    """Blobs under ``<library>/blobs/ab/cdef….ipynb``, compressed (see the module's notes).

    The name keeps ``.ipynb`` whatever the format, so an old blob and its compressed
    rewrite are one file: a reader never has to look under two names.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        #: writes of blobs put with ``later`` that ``flush`` has not waited for yet
        self._syncing: list[Future[None]] = []
        #: their hashes: ``put`` and ``has`` count them in
        self._writing: set[str] = set()
        #: the folders those blobs were renamed into (and the root, for a new folder)
        self._folders: set[Path] = set()
        self._syncer: ThreadPoolExecutor | None = None

    def path(self, digest: str) -> Path:
        """Where the blob with this hash lives (whether or not it exists). Not for reading
        it as a notebook: the file may be compressed; ``read`` gives the original bytes."""
        return self.root / digest[:2] / f"{digest[2:]}.ipynb"

    def has(self, digest: str) -> bool:
        """True when the blob is in the store (or being written into it: see ``put``)."""
        return digest in self._writing or self.path(digest).is_file()

    def read(self, digest: str) -> bytes:
        """The original bytes of a blob.

        Raises:
            FileNotFoundError: the blob is missing.
            BlobDamaged: it cannot be read back (an ``OSError`` too: see ``BlobDamaged``).
        """
        return self._read_file(self.path(digest))

    def digest_of(self, file: str | Path) -> str | None:
        """The hash of the blob ``file`` is, or None when it is not one of this store's
        blob files (callers handed a path, such as ``NotebookInfo.blob``, read it by hash)."""
        path = Path(file)
        try:
            folder = path.parent.resolve()
            inside = folder.parent == self.root.resolve()
        except OSError:
            return None
        digest = folder.name + path.name.removesuffix(".ipynb")
        if not inside or not path.name.endswith(".ipynb") or not _DIGEST.match(digest):
            return None
        return digest

    def is_compressed(self, digest: str) -> bool:
        """True when the blob is stored compressed (False: raw, or missing)."""
        try:
            with self.path(digest).open("rb") as handle:
                return handle.read(len(ZSTD_MAGIC)) == ZSTD_MAGIC
        except FileNotFoundError:
            return False

    def put(self, digest: str, data: bytes, *, later: bool = False) -> bool:
        """Store ``data`` (the original bytes, whose hash is ``digest``) compressed and
        atomically; return False if it was already there.

        Args:
            later: the blob is written and made durable in the background, and is known
                to be once the next ``flush`` returns (the caller calls it before it
                records the blob); until then only ``has`` and ``put`` know of it.
        """
        target = self.path(digest)
        if digest in self._writing or target.is_file():
            return False
        if not target.parent.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(self.root)  # a new folder's name is in the root's listing
        if not later:
            atomic_write(target, compress(data))
            return True
        if self._syncer is None:
            # zstd and fsync release the GIL: the blobs are compressed and written while the
            # caller parses the next notebooks, and fsyncs made at once share the journal's
            # commits
            self._syncer = ThreadPoolExecutor(max_workers=_SYNC_THREADS,
                                              thread_name_prefix="blob-writer")
        self._syncing.append(self._syncer.submit(_write_blob, target, data))
        self._writing.add(digest)
        self._folders.add(target.parent)
        return True

    def flush(self) -> None:
        """Make every blob put with ``later`` durable, with its name in its folder.

        Raises:
            OSError: an fsync failed (the disk is full or failing); the blobs are then not
                known to be durable and must not be recorded.
        """
        pending, self._syncing = self._syncing, []
        folders, self._folders = self._folders, set()
        self._writing = set()
        if self._syncer is None:
            for folder in sorted(folders):  # only the root, for blobs put without ``later``
                _fsync_folder(folder)
            return
        try:
            _wait_all(pending)
            # The folders once their blobs are synced, all at once: one after another, the
            # 140-odd folders a batch of 200 blobs touches took 4 s of a 10,000-notebook
            # sync (each forces a journal commit); at once they share one (bench/RESULTS.md)
            _wait_all([self._syncer.submit(_fsync_folder, f) for f in sorted(folders)])
        finally:
            # threads per batch, not per store: nothing is left running between syncs, and
            # starting them costs far less than the fsyncs they wait for
            self._syncer.shutdown(wait=True)
            self._syncer = None

    def _read_file(self, path: Path) -> bytes:
        # read at most the cap (and one byte to tell): a blob file is never larger than the
        # notebook it holds, so a larger one is damaged, and must not be read whole
        with path.open("rb") as handle:
            stored = handle.read(MAX_BLOB_BYTES + 1)
        if len(stored) > MAX_BLOB_BYTES:
            raise BlobDamaged(str(path), "it is larger than a notebook may be")
        return decode_blob(stored, str(path))

    def compact(self, *, progress: ProgressFn | None = None,
                cancel: threading.Event | None = None) -> CompactReport:
        """Rewrite the raw blobs (written before compression) compressed, each atomically.

        A raw blob whose bytes no longer have its hash is left alone and listed as damaged:
        compressing it would make a damaged copy look sound. Stopping (``cancel``) between
        two blobs leaves every blob whole, in one format or the other, and both read.
        The caller holds the writer lock: nothing else writes blobs meanwhile.
        """
        report = CompactReport(damaged=[])
        files = self._blob_files()
        for done, (digest, path) in enumerate(files):
            if progress is not None:
                progress(done, len(files), "Compacting the stored notebooks")
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            self._compact_one(digest, path, report)
        else:
            if progress is not None:
                progress(len(files), len(files), "Compacting the stored notebooks")
        return report

    def _blob_files(self) -> list[tuple[str, Path]]:
        """Every blob file as (hash, path), in a stable order."""
        if not self.root.is_dir():
            return []
        found = []
        for folder in sorted(self.root.iterdir()):
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.ipynb")):
                digest = folder.name + path.name.removesuffix(".ipynb")
                if _DIGEST.match(digest):
                    found.append((digest, path))
        return found

    def _compact_one(self, digest: str, path: Path, report: CompactReport) -> None:
        report.blobs += 1
        try:
            stored = path.read_bytes()
        except FileNotFoundError:
            return  # removed meanwhile (a source removed by this same writer): nothing to do
        report.bytes_before += len(stored)
        if stored.startswith(ZSTD_MAGIC):
            report.already += 1
            report.bytes_after += len(stored)
            return
        if hashlib.sha256(stored).hexdigest() != digest:
            assert report.damaged is not None
            report.damaged.append(str(path))
            report.bytes_after += len(stored)
            return
        packed = compress(stored)
        atomic_write(path, packed)
        report.compacted += 1
        report.bytes_after += len(packed)

    def delete(self, digest: str) -> None:
        """Remove a blob that nothing references any more."""
        with contextlib.suppress(FileNotFoundError):
            self.path(digest).unlink()

    def remove_leftovers(self) -> int:
        """Delete temporary files a killed writer left behind; return how many."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for folder in self.root.iterdir():
            if folder.is_dir():
                for tmp in folder.glob(f"*{_TMP_SUFFIX}"):
                    tmp.unlink(missing_ok=True)
                    removed += 1
        return removed


def shared_file_mode(existing: Path) -> int:
    """The mode a file written for others should have: the old file's, else the default
    the user's umask gives new files (so colleagues can read what is published)."""
    try:
        return existing.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def temp_prefix(name: str) -> str:
    """The start of the name of a temporary file written for ``name`` (``TEMP_NAME``)."""
    return f".{name}{_TMP_MARK}"


def atomic_write(target: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``target`` so that readers see the old file or the whole new one.

    Args:
        target: the file to write.
        data: its new content.
        mode: permission bits for the file; None leaves the temporary file's private 0600
            (right for the library, wrong on a share: see ``shared_file_mode``).
    """
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=temp_prefix(target.name),
                               suffix=_TMP_SUFFIX)
    try:
        if mode is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_blob(target: Path, data: bytes) -> None:
    atomic_write(target, compress(data))


def _wait_all(futures: list[Future[None]]) -> None:
    """Wait for every one of ``futures``; then raise the first failure, if any."""
    failure: OSError | None = None
    for future in futures:
        try:
            future.result()
        except OSError as err:
            failure = failure or err
    if failure is not None:
        raise failure


def _fsync_folder(folder: Path) -> None:
    """Make the names in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a folder; NTFS journals renames itself
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temps(folder: str | Path, older_than: float = STALE_TEMP_S) -> int:
    """Remove the temporary files killed nbshelf writes left in ``folder``; return how many.

    Only nbshelf's own (``.NAME.nbshelf-XXXXXXXX.tmp``, see ``store.TEMP_NAME``), only
    regular files (never a link), only when untouched for ``older_than`` seconds: another
    computer may be writing a young one right now. Not recursive. Sync can call it for each
    folder of a folder source; nothing here fails for a folder that is gone or unreadable.
    """
    removed = 0
    cutoff = time.time() - older_than
    try:
        with os.scandir(folder) as entries:
            leftovers = [e for e in entries if TEMP_NAME.match(e.name)]
    except OSError:
        return 0
    for entry in leftovers:
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue  # gone meanwhile, or not ours to remove: the next publish tries again
    return removed
