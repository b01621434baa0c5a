"""Library packs: notebooks carried between air-gapped machines on a USB stick.

A pack is a folder or a zip file holding ``notebooks/<source>/<path>`` and a manifest
(``nbshelf-pack.json``: paths, titles, hashes, sizes, markings, versions) whose own SHA-256
is in ``nbshelf-pack.sha256``. Added as a source, a pack is read-only and every notebook is
checked against the manifest: a changed, truncated, missing or extra file is a problem,
never a silently catalogued notebook.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from nbshelf import __version__
from nbshelf.errors import NbshelfError, NotebookInvalid
from nbshelf.scan import FileStat, ProblemRecord

MANIFEST = "nbshelf-pack.json"
CHECKSUM = "nbshelf-pack.sha256"
PREFIX = "notebooks/"
FORMAT = 1


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
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return MANIFEST in zf.namelist()
    return False


def write_pack(out: Path, entries: list[tuple[PackEntry, bytes]]) -> Path:
    """Write a pack folder, or a zip when ``out`` ends in ``.zip``; atomically either way."""
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
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
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
            target = staging / entry.path
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


@dataclass
class PackReader:
    """Reads a pack's notebooks for sync, checking each one against the manifest."""

    root: Path
    entries: dict[str, PackEntry] = field(default_factory=dict)
    problems: list[ProblemRecord] = field(default_factory=list)

    @classmethod
    def open(cls, root: Path) -> PackReader:
        """Read and check the manifest; problems of the pack as a whole are listed."""
        reader = cls(root)
        try:
            manifest_bytes = reader._read_raw(MANIFEST)
            expected = reader._read_raw(CHECKSUM).decode("ascii", "replace").split()
        except (OSError, KeyError):
            reader.problems.append(ProblemRecord(MANIFEST, "pack-damaged",
                                                 "the pack has no readable manifest"))
            return reader
        if not expected or hashlib.sha256(manifest_bytes).hexdigest() != expected[0]:
            reader.problems.append(ProblemRecord(
                MANIFEST, "pack-tampered",
                "the pack's manifest does not match its checksum: it was changed after the "
                "pack was made, so none of its notebooks can be trusted"))
            return reader
        try:
            listed = json.loads(manifest_bytes)["notebooks"]
            for item in listed:
                entry = PackEntry(**item)
                reader.entries[entry.path[len(PREFIX):]] = entry
        except (ValueError, KeyError, TypeError):
            reader.problems.append(ProblemRecord(MANIFEST, "pack-damaged",
                                                 "the pack's manifest cannot be read"))
        return reader

    @property
    def is_zip(self) -> bool:
        """True for a zip pack."""
        return self.root.is_file()

    def _read_raw(self, name: str) -> bytes:
        if self.is_zip:
            with zipfile.ZipFile(self.root) as zf:
                return zf.read(name)
        return (self.root / name).read_bytes()

    def stats(self) -> dict[str, FileStat]:
        """Each present notebook's (size, time, identity) so unchanged ones are not read."""
        found: dict[str, FileStat] = {}
        if self.is_zip:
            with zipfile.ZipFile(self.root) as zf:
                for info in zf.infolist():
                    if info.filename.startswith(PREFIX) and not info.is_dir():
                        stamp = int(datetime(*info.date_time).timestamp() * 1e9)
                        found[info.filename[len(PREFIX):]] = FileStat(
                            info.file_size, stamp, info.CRC)
            return found
        base = self.root / PREFIX
        for path in base.rglob("*") if base.is_dir() else []:
            if path.is_file():
                st = path.stat()
                found[path.relative_to(base).as_posix()] = FileStat(
                    st.st_size, st.st_mtime_ns, st.st_ino)
        return found

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
        try:
            data = self._read_raw(PREFIX + relpath)
        except (OSError, KeyError, zipfile.BadZipFile) as err:
            raise NotebookInvalid("pack-damaged", f"cannot be read from the pack: {err}") from None
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


def entry_path(source: str, relpath: str) -> str:
    """Where a notebook goes inside a pack."""
    return PREFIX + PurePosixPath(source, relpath).as_posix()
