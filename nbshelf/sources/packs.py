"""Library packs: notebooks carried between air-gapped machines on a USB stick.

A pack is a folder or a zip file holding ``notebooks/<source>/<path>`` and a manifest
(``nbshelf-pack.json``: paths, titles, hashes, sizes, markings, versions) whose own SHA-256
is in ``nbshelf-pack.sha256``. Added as a source, a pack is read-only and every notebook is
checked against the manifest: a changed, truncated, missing or extra file is a problem,
never a silently catalogued notebook.
"""

from __future__ import annotations

import errno
import hashlib
import json
import lzma
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO

import orjson

from nbshelf import __version__
from nbshelf.errors import NbshelfError, NotebookInvalid
from nbshelf.limits import MAX_NOTEBOOK_BYTES
from nbshelf.safepath import UnsafePath, check_relpath, inside
from nbshelf.sources.scan import FileStat, ProblemRecord
from nbshelf.store import temp_prefix

MANIFEST = "nbshelf-pack.json"
CHECKSUM = "nbshelf-pack.sha256"
PREFIX = "notebooks/"
FORMAT = 1
#: A manifest lists a few hundred bytes per notebook: 64 MB is ~200,000 notebooks.
MAX_MANIFEST_BYTES = 64 * 2**20


class PackError(NbshelfError):
    """A pack cannot be written or opened as asked."""


@dataclass(frozen=True)
class PackEntry:
    """One notebook in a pack's manifest."""

    path: str  # inside the pack, under notebooks/
    title: str
    sha256: str
    size: int
    marking: str | None
    source: str
    original_path: str
    version: int

    def to_json(self) -> dict[str, Any]:
        """The manifest's record of this notebook."""
        return self.__dict__.copy()


def is_pack(path: Path) -> bool:
    """True for a pack folder or a zip file holding a pack manifest."""
    if path.is_dir():
        return (path / MANIFEST).is_file()
    try:
        if path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                return MANIFEST in zf.namelist()
    except ZIP_ERRORS:
        pass  # a damaged zip is not a pack we can read
    return False


def write_pack(out: Path, entries: list[tuple[PackEntry, bytes]]) -> Path:
    """Write a pack folder, or a zip when ``out`` ends in ``.zip``; atomically either way."""
    for entry, _ in entries:
        # a path that slipped into a catalog cannot lead the write (or a reader's unzip) out
        check_relpath(entry.path, what="pack entry")
    manifest = {
        "format": FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "generator": f"nbshelf {__version__}",
        "notebooks": [e.to_json() for e, _ in entries],
    }
    manifest_bytes = json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")
    checksum = hashlib.sha256(manifest_bytes).hexdigest().encode() + b"\n"
    if out.exists() and (out.is_file() or any(out.iterdir())):
        raise PackError(f"{out} already exists; choose a new name for the pack")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".zip":
        # named like every nbshelf temporary file, so a killed export's is found and removed
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=temp_prefix(out.name), suffix=".tmp")
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                for entry, data in entries:
                    zf.writestr(entry.path, data)
                zf.writestr(MANIFEST, manifest_bytes)
                zf.writestr(CHECKSUM, checksum)
            os.replace(tmp, out)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return out
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        for entry, data in entries:
            target = inside(staging, entry.path, what="pack entry")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (staging / MANIFEST).write_bytes(manifest_bytes)
        (staging / CHECKSUM).write_bytes(checksum)
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


class _BadEntry(Exception):
    """A manifest record that cannot be trusted; becomes a problem of the pack."""

    def __init__(self, shown: str, kind: str, message: str) -> None:
        super().__init__(message)
        self.shown, self.kind, self.message = shown, kind, message


def _shown(value: object) -> str:
    """A hostile name as a problem's path may hold it: no control characters, not too long."""
    text = value if isinstance(value, str) else MANIFEST
    text = "".join("?" if ord(c) < 32 or ord(c) == 127 else c for c in text)
    return text if len(text) <= 300 else text[:297] + "..."


_TEXT_FIELDS = ("path", "title", "source", "original_path")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _entry(item: object, position: int) -> PackEntry:
    """One manifest record, every field checked for type and form; ``_BadEntry`` if not."""
    if not isinstance(item, dict):
        raise _BadEntry(MANIFEST, "pack-damaged",
                        f"the manifest's notebook #{position + 1} is not a record; not read")
    path = item.get("path")
    shown = _shown(path)
    if not isinstance(path, str):
        raise _BadEntry(shown, "pack-damaged",
                        f"the manifest's notebook #{position + 1} has no path; not read")
    try:
        check_relpath(path, what="pack entry")
        if not path.startswith(PREFIX):
            raise UnsafePath(f"the pack entry '{shown}' is not under {PREFIX}")
        check_relpath(path[len(PREFIX):], what="pack entry")
    except UnsafePath as err:
        raise _BadEntry(shown, "pack-unsafe-path",
                        f"{err}: a pack must never name a file outside its notebooks folder; "
                        "not read") from None
    wrong = [name for name in _TEXT_FIELDS if not isinstance(item.get(name), str)]
    if not isinstance(item.get("sha256"), str) or not _HEX64.fullmatch(item["sha256"]):
        wrong.append("sha256")
    wrong += [name for name in ("size", "version")
              if not _is_count(item.get(name))]
    if item.get("marking") is not None and not isinstance(item.get("marking"), str):
        wrong.append("marking")
    if wrong:
        raise _BadEntry(shown, "pack-damaged",
                        f"the manifest's record of '{shown}' is damaged ({', '.join(wrong)} "
                        "missing or of the wrong type); not read")
    return PackEntry(path, item["title"], item["sha256"], item["size"], item.get("marking"),
                     item["source"], item["original_path"], item["version"])


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _zip_failure(err: BaseException) -> str:
    """What a zip library error means, in words."""
    if isinstance(err, NotImplementedError):
        return "it is compressed with a method nbshelf cannot read"
    if isinstance(err, RuntimeError) and "encrypted" in str(err):
        return "it is encrypted (password-protected); packs are plain zip files"
    if isinstance(err, zipfile.BadZipFile | zlib.error | EOFError | lzma.LZMAError):
        return f"the zip is damaged ({err})"
    if isinstance(err, OSError):
        return f"it cannot be read ({err.strerror or err})"
    return f"the zip is malformed ({type(err).__name__}: {err})"


#: What reading one zip member can raise: a damaged zip (bad CRC, bad header, truncated
#: stream), an unknown compression method, encryption, nonsense in the headers.
ZIP_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, lzma.LZMAError,
              NotImplementedError, RuntimeError, ValueError, struct.error, OverflowError)


@dataclass
class PackReader:
    """Reads a pack's notebooks for sync, checking each one against the manifest.

    Nothing from the pack is trusted until checked: the manifest is read with a size cap and
    parsed with a depth cap, each record's fields are type-checked and its path must stay in
    the pack's ``notebooks/`` folder; a notebook is read with a cap on the bytes actually
    inflated (what the zip or the manifest claims is no bound) and must match its hash.
    """

    root: Path
    entries: dict[str, PackEntry] = field(default_factory=dict)
    problems: list[ProblemRecord] = field(default_factory=list)
    _zip: zipfile.ZipFile | None = None

    @classmethod
    def open(cls, root: Path) -> PackReader:
        """Read and check the manifest; problems of the pack as a whole are listed."""
        reader = cls(root)
        try:
            if root.is_file():
                reader._zip = zipfile.ZipFile(root)
            manifest_bytes = reader._read_raw(MANIFEST, MAX_MANIFEST_BYTES)
            expected = reader._read_raw(CHECKSUM, 1024).decode("ascii", "replace").split()
        except KeyError:
            reader._problem(MANIFEST, "pack-damaged", "the pack has no readable manifest")
            return reader
        except ZIP_ERRORS as err:
            reader._problem(MANIFEST, "pack-damaged",
                            f"the pack's manifest cannot be read: {_zip_failure(err)}")
            return reader
        if len(manifest_bytes) > MAX_MANIFEST_BYTES:
            reader._problem(MANIFEST, "pack-damaged",
                            f"the pack's manifest is larger than {MAX_MANIFEST_BYTES // 2**20} MB; "
                            "no real pack needs that, so none of it was read")
            return reader
        if not expected or hashlib.sha256(manifest_bytes).hexdigest() != expected[0]:
            reader._problem(
                MANIFEST, "pack-tampered",
                "the pack's manifest does not match its checksum: it was changed after the "
                "pack was made, so none of its notebooks can be trusted")
            return reader
        reader._read_entries(manifest_bytes)
        return reader

    def _read_entries(self, manifest_bytes: bytes) -> None:
        try:
            # orjson refuses nesting deeper than 1,024 levels (json would recurse until
            # RecursionError), and the bytes are already capped
            listed = orjson.loads(manifest_bytes)
        except orjson.JSONDecodeError as err:
            self._problem(MANIFEST, "pack-damaged",
                          f"the pack's manifest is not valid JSON ({err}); none of it was read")
            return
        notebooks = listed.get("notebooks") if isinstance(listed, dict) else None
        if not isinstance(notebooks, list):
            self._problem(MANIFEST, "pack-damaged",
                          "the pack's manifest has no list of notebooks; none of it was read")
            return
        for position, item in enumerate(notebooks):
            try:
                entry = _entry(item, position)
            except _BadEntry as bad:
                self._problem(bad.shown, bad.kind, bad.message)
                continue
            relpath = entry.path[len(PREFIX):]
            if relpath in self.entries:
                self._problem(_shown(entry.path), "pack-damaged",
                              "the manifest lists this notebook twice; only the first is read")
                continue
            self.entries[relpath] = entry
        if notebooks and not self.entries:
            self._problem(MANIFEST, "pack-damaged",
                          "no record of the pack's manifest can be trusted; none was read")

    def _problem(self, relpath: str, kind: str, message: str) -> None:
        if all(p.relpath != relpath or p.kind != kind for p in self.problems):
            self.problems.append(ProblemRecord(relpath, kind, message))

    def close(self) -> None:
        """Let go of the zip file (a USB stick can then be ejected)."""
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    def __enter__(self) -> PackReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def is_zip(self) -> bool:
        """True for a zip pack."""
        return self.root.is_file()

    def _read_raw(self, name: str, limit: int) -> bytes:
        """Up to ``limit + 1`` bytes of a member: one more than allowed tells it is too big."""
        if self._zip is not None:
            with self._zip.open(name) as member:
                return _read_at_most(member, limit + 1)
        path = self.root / name
        if name != MANIFEST and name != CHECKSUM:
            path = inside(self.root / PREFIX, name[len(PREFIX):], what="pack entry")
        # O_NONBLOCK: a FIFO planted in a folder pack must not hang the sync
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise OSError(errno.EINVAL, "not a regular file")
            return _read_at_most(handle, limit + 1)

    def stats(self) -> dict[str, FileStat]:
        """Each present notebook's (size, time, identity) so unchanged ones are not read.

        A member whose name could lead out of the pack is not listed; it is a problem."""
        found: dict[str, FileStat] = {}
        if self._zip is not None:
            for info in self._zip.infolist():
                if info.filename in (MANIFEST, CHECKSUM) or info.is_dir():
                    continue
                relpath = self._member_relpath(info.filename)
                if relpath is not None:
                    found[relpath] = FileStat(info.file_size, _zip_stamp(info), info.CRC)
            return found
        base = self.root / PREFIX
        for path in base.rglob("*") if base.is_dir() else []:
            if path.is_file():
                st = path.stat()
                found[path.relative_to(base).as_posix()] = FileStat(
                    st.st_size, st.st_mtime_ns, st.st_ino)
        return found

    def _member_relpath(self, name: str) -> str | None:
        """The notebook path of a zip member, or None (and a problem) for a hostile name."""
        try:
            check_relpath(name, what="pack entry")
            if not name.startswith(PREFIX):
                raise UnsafePath(f"the pack entry '{_shown(name)}' is not under {PREFIX}")
        except UnsafePath as err:
            if not any(p.relpath == _shown(name) for p in self.problems):
                self._problem(_shown(name), "pack-unsafe-path",
                              f"{err}: a pack must never name a file outside its notebooks "
                              "folder; not read")
            return None
        return name[len(PREFIX):]

    def missing_and_extra(self, present: dict[str, FileStat]) -> list[ProblemRecord]:
        """Listed notebooks the pack lacks, and files it holds that the manifest does not list."""
        if not self.entries:
            return []  # no trusted manifest: the pack's own problem says so, once
        problems = [
            ProblemRecord(rel, "pack-missing", "the manifest lists this notebook but the pack "
                          "does not hold it (the copy is incomplete)")
            for rel in self.entries if rel not in present
        ]
        problems += [
            ProblemRecord(rel, "pack-extra", "this file is not in the pack's manifest: it was "
                          "added after the pack was made; not read")
            for rel in present if rel not in self.entries
        ]
        return problems

    def read_verified(self, relpath: str) -> bytes:
        """A notebook's bytes, or ``NotebookInvalid`` when they differ from the manifest."""
        entry = self.entries[relpath]
        if entry.size > MAX_NOTEBOOK_BYTES:
            raise NotebookInvalid(
                "too-large",
                f"the manifest says the file is {entry.size / 2**20:,.0f} MB; nbshelf reads "
                f"notebooks up to {MAX_NOTEBOOK_BYTES // 2**20} MB; not read")
        try:
            # one byte more than the manifest says: enough to know it is longer, and never
            # more than the cap, whatever the zip's header claims
            data = self._read_raw(PREFIX + relpath, entry.size)
        except UnsafePath as err:
            raise NotebookInvalid("pack-unsafe-path", f"{err}; not read") from None
        except KeyError:
            raise NotebookInvalid("pack-damaged", "cannot be read from the pack: it is not "
                                  "there") from None
        except ZIP_ERRORS as err:
            raise NotebookInvalid("pack-damaged",
                                  f"cannot be read from the pack: {_zip_failure(err)}") from None
        if len(data) > entry.size:
            raise NotebookInvalid(
                "pack-tampered",
                f"the file holds more than the {entry.size:,} bytes the manifest says: it was "
                "changed after the pack was made (or is a zip bomb); not read past that")
        if len(data) != entry.size:
            raise NotebookInvalid(
                "pack-truncated",
                f"the file holds {len(data):,} bytes where the manifest says {entry.size:,}: "
                "it was cut short or changed after the pack was made")
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise NotebookInvalid(
                "pack-tampered",
                "the file's checksum does not match the manifest: it was changed after the "
                "pack was made")
        return data


def _read_at_most(stream: BinaryIO | IO[bytes], limit: int) -> bytes:
    """Read until the end or ``limit`` bytes, in chunks, counting what was really read."""
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _zip_stamp(info: zipfile.ZipInfo) -> int:
    """A member's time as nanoseconds; 0 for the impossible dates a hostile zip may hold."""
    try:
        return int(datetime(*info.date_time).timestamp() * 1e9)
    except (ValueError, OverflowError):
        return 0


def entry_path(source: str, relpath: str, *, opened: bool = False) -> str:
    """Where a notebook goes inside a pack; ``UnsafePath`` for a path that could leave it.

    Args:
        source: the source's name (the first folder inside ``notebooks/``).
        relpath: the notebook's path in its source.
        opened: the notebook was opened from outside every source, so ``relpath`` is an
            absolute path of this machine: the pack holds it without its root.
    """
    if opened:
        relpath = "/".join(part for part in PurePosixPath(relpath.replace("\\", "/")).parts
                           if part not in ("/", "..") and not part.endswith(":"))
    path = f"{PREFIX}{source}/{relpath}"
    check_relpath(path, what="pack entry")
    return path
