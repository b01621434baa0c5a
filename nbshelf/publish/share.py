"""Publishing a notebook to a share or USB stick: stripped, checked, atomic, no lost update.

The file appears on the share in one step (a hidden temporary file in the target folder,
renamed into place), so nobody ever sees half a notebook. A target that someone else changed
since this library last saw it is never overwritten unless the user says ``force``; the
check and the write happen under the target's share lock (``nbshelf.publish.sharelock``), so of two
publishers racing for one target exactly one wins and the other is refused. The target is
resolved inside the share (a symbolic link never leads the write out of it), and temporary
files that killed publishes left in the target's folder are removed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import nbformat

from nbshelf.errors import NbshelfError, NotebookInvalid
from nbshelf.notebook import content_hash, parse_notebook
from nbshelf.publish.leaks import Leak, scan_for_leaks
from nbshelf.publish.markings import notebook_marking
from nbshelf.publish.sharelock import LockBusy, ShareLock
from nbshelf.publish.strip import StripReport, strip_notebook
from nbshelf.safepath import UnsafePath, inside


class PublishError(NbshelfError):
    """Publishing cannot go ahead; the message says why and what to do."""


class PublishConflict(PublishError):
    """The target changed since this library last saw it."""


class PublishBusy(PublishConflict):
    """Another publish to the same target held its lock for longer than a short wait."""


@dataclass
class Prepared:
    """A notebook ready to publish: its bytes, and what the preview shows."""

    data: bytes
    stripped: StripReport
    leaks: list[Leak]
    marking: str | None


@dataclass
class PublishResult:
    """What a publish did."""

    source: str
    path: str
    target: str
    stripped: StripReport
    leaks: list[Leak] = field(default_factory=list)
    marking: str | None = None
    overwrote: bool = False
    unchanged: bool = False
    notebook_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON report of ``nbshelf publish``."""
        return {
            "source": self.source, "path": self.path, "target": self.target,
            "stripped": self.stripped.to_json(), "warnings": [x.to_json() for x in self.leaks],
            "marking": self.marking, "overwrote": self.overwrote, "unchanged": self.unchanged,
            "id": self.notebook_id,
        }


def prepare(data: bytes, name: str, *, keep_outputs: bool, scheme: list[str]) -> Prepared:
    """Turn a notebook file's bytes into what would be published (the preview's source)."""
    try:
        parsed = parse_notebook(data, name, validate=False)
    except NotebookInvalid as err:
        raise PublishError(f"{name} cannot be published: {err.message}") from None
    raw = parsed.raw
    if parsed.summary.nbformat < 4:
        raw = _upgraded(data)
    stripped, report = (raw, StripReport()) if keep_outputs else strip_notebook(raw)
    out = nbformat.writes(nbformat.from_dict(stripped), version=4)
    return Prepared(out.encode("utf-8"), report, scan_for_leaks(stripped),
                    notebook_marking(stripped, scheme))


def _upgraded(data: bytes) -> dict[str, Any]:
    node = nbformat.reads(data.decode("utf-8-sig"), as_version=4)
    result: dict[str, Any] = json.loads(json.dumps(node))
    return result


def target_relpath(file_name: str, as_path: str | None) -> str:
    """The path inside the source to publish to; refuses paths that leave the source."""
    wanted = PurePosixPath((as_path or file_name).replace("\\", "/"))
    if wanted.is_absolute() or ".." in wanted.parts or not wanted.parts:
        raise PublishError(f"{as_path} must be a path inside the source, like reports/q3.ipynb")
    if any(part.startswith(".") for part in wanted.parts):
        raise PublishError(f"{as_path}: hidden names (starting with '.') are not published")
    if wanted.suffix.lower() != ".ipynb":
        wanted = wanted.with_name(wanted.name + ".ipynb")
    return wanted.as_posix()


def resolve_target(root: str | Path, relpath: str, where: str) -> Path:
    """The real path ``relpath`` is written to under the source folder ``root``.

    Symbolic links the share holds are followed as the write would follow them; one that
    leads out of the share (a linked folder, or the target itself a link) is refused.

    Raises:
        PublishError: the target would be written outside the source folder.
    """
    try:
        return inside(root, relpath, what="target")
    except UnsafePath as err:
        raise PublishError(f"{where} cannot be published: {err}") from None


@contextmanager
def target_lock(target: Path, where: str) -> Iterator[None]:
    """Hold the share lock of ``target`` (its folder exists) for the check and the write.

    Raises:
        PublishBusy: another publish to the target holds it, after a short wait.
        PublishError: the folder refuses the lock file.
    """
    lock = ShareLock(target)
    try:
        lock.acquire()
    except LockBusy as err:
        raise PublishBusy(f"{where}: {err}") from None
    except OSError as err:
        raise PublishError(f"cannot write {where} (its lock file: {err.strerror or err})"
                           ) from None
    try:
        yield
    finally:
        lock.release()


def check_conflict(target: Path, last_seen: str | None, new_hash: str, *, force: bool,
                   where: str) -> bool:
    """Refuse to overwrite someone else's change; return True when the target exists.

    Args:
        target: the file on the share.
        last_seen: the content hash this library last saw at that path (sync or publish).
        new_hash: the hash of what is being published.
        force: overwrite anyway.
        where: ``SOURCE:PATH`` for messages.
    """
    try:
        current = target.read_bytes()
    except FileNotFoundError:
        return False
    except OSError as err:
        raise PublishError(f"cannot read the existing {where}: {err.strerror}") from None
    current_hash = content_hash(current)
    if force or current_hash == last_seen or current_hash == new_hash:
        return True
    st = target.stat()
    when = datetime.fromtimestamp(st.st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
    who = _owner(st.st_uid)
    changed = f"changed by {who} at {when}" if who else f"changed at {when}"
    seen = "since this library last saw it" if last_seen else "and this library never saw it"
    raise PublishConflict(
        f"{where} was {changed}, {seen}: publishing would overwrite their work. Sync and look "
        "at it first, publish under another name (--as), or overwrite it (--force)"
    )


def _owner(uid: int) -> str | None:
    try:
        import pwd
    except ImportError:  # Windows
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None
