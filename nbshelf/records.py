"""Plain result types the ``Library`` facade returns; each knows its JSON form (DESIGN.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


def iso_time(seconds: float | None) -> str | None:
    """POSIX seconds as an ISO 8601 UTC timestamp, or None."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class SourceInfo:
    """A source as ``source list`` shows it."""

    name: str
    path: str
    kind: str
    available: bool
    notebooks: int
    last_sync: float | None
    relocated_from: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON object."""
        data = asdict(self)
        data["status"] = "available" if self.available else "unavailable"
        data["last_sync"] = iso_time(self.last_sync)
        return data


@dataclass(frozen=True)
class ProblemInfo:
    """A file that is a problem, or a source that is unavailable."""

    source: str
    path: str
    kind: str
    message: str

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON object: source, path, kind, message."""
        return asdict(self)


@dataclass
class SyncReport:
    """The outcome of ``Library.sync``, summed over the synced sources."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    problems: list[ProblemInfo] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    cancelled: bool = False
    changed_ids: list[int] = field(default_factory=list)
    removed_ids: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON object."""
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "problems": [p.to_json() for p in self.problems],
            "unavailable": list(self.unavailable),
            "cancelled": self.cancelled,
        }


@dataclass(frozen=True)
class Place:
    """A notebook where some content lives: the one type for "also at" in ``show``, search
    hits and similar notebooks, and for where the index finds a content's notebooks."""

    id: int
    source: str
    path: str
    removed: bool = False
    title: str = ""
    language: str | None = None

    def to_json(self) -> dict[str, Any]:
        """id, source, path, removed."""
        return {"id": self.id, "source": self.source, "path": self.path,
                "removed": self.removed}


@dataclass(frozen=True)
class NotebookInfo:
    """What ``show`` tells about one notebook."""

    id: int
    source: str
    path: str
    title: str
    headings: list[str]
    kernel: str | None
    language: str | None
    nbformat: str
    cells: dict[str, int]
    imports: list[str]
    size: int
    mtime: float
    content_hash: str
    first_seen: float
    last_seen: float
    removed_at: float | None
    versions: int
    also_at: list[Place]
    schema_warning: str | None
    #: the stored file of the current version: compressed since issue 16, so read it through
    #: the store (``Library.store.read(content_hash)``, or publish it: publishing reads a
    #: store path through the store), never as a notebook file
    blob: str

    def to_json(self) -> dict[str, Any]:
        """The JSON form, with times as ISO 8601."""
        data = asdict(self)
        for key in ("mtime", "first_seen", "last_seen", "removed_at"):
            data[key] = iso_time(data[key])
        data["removed"] = self.removed_at is not None
        data["also_at"] = [p.to_json() for p in self.also_at]
        return data


@dataclass(frozen=True)
class NotebookRow:
    """One line of the library list: what the table shows, nothing more."""

    id: int
    title: str
    source: str
    path: str
    language: str | None
    mtime: float
    size: int
    removed: bool
    #: False when its source could not be reached at its last sync (a stick unplugged)
    available: bool = True

    def to_json(self) -> dict[str, Any]:
        """The JSON form, with the time as ISO 8601."""
        data = asdict(self)
        data["mtime"] = iso_time(self.mtime)
        return data


@dataclass(frozen=True)
class NotebookHealth:
    """"Will it run here?" for one notebook: the static check and its last run together."""

    id: int
    source: str
    path: str
    title: str
    status: str
    detail: str
    kernel: str | None
    missing_modules: list[str]
    missing_files: list[str]
    messages: list[str]
    last_run: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        """One entry of ``nbshelf health --json``."""
        return asdict(self)


@dataclass(frozen=True)
class VersionInfo:
    """One content version in a notebook's history."""

    number: int
    content_hash: str
    seen_at: float
    mtime: float
    title: str
    size: int
    current: bool

    def to_json(self) -> dict[str, Any]:
        """The JSON form, with times as ISO 8601."""
        data = asdict(self)
        data["seen_at"] = iso_time(self.seen_at)
        data["mtime"] = iso_time(self.mtime)
        return data
