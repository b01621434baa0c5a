"""The catalog's tables: the library's source of truth.

Times are POSIX seconds (UTC) as floats: cheap to compare, and formatted only for display.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class SourceKind(StrEnum):
    """What a source is; stored as its value (a StrEnum compares equal to the plain string)."""

    FOLDER = "folder"  # a folder: a share, a USB stick, a local folder
    DEMO = "demo"  # the demo library that ships with the app (a folder)
    OPENED = "opened"  # notebooks opened from outside every source; paths are absolute
    PACK = "pack"  # a library pack (folder or zip with a manifest): read-only, verified


class RunStatus(StrEnum):
    """How a run stands or ended."""

    RUNNING = "running"  # a "running" row whose runner died was killed
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


class Base(DeclarativeBase):
    """Declarative base of every catalog table."""


class Source(Base):
    """A folder nbshelf reads notebooks from: a share, a USB stick, a local folder."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    path: Mapped[str]
    kind: Mapped[str] = mapped_column(default=SourceKind.FOLDER.value)  # a SourceKind
    added_at: Mapped[float]
    last_sync: Mapped[float | None]
    available: Mapped[bool] = mapped_column(default=True)


class Content(Base):
    """One distinct notebook content (a blob) and what was extracted from it."""

    __tablename__ = "contents"
    # The few contents that break the schema, found without reading every content row.
    __table_args__ = (
        Index("ix_contents_schema_error", "hash", sqlite_where=text("schema_error IS NOT NULL")),
    )

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    title: Mapped[str]
    headings: Mapped[list[str]] = mapped_column(JSON)
    kernel_name: Mapped[str | None]
    language: Mapped[str | None]
    nbformat: Mapped[int]
    nbformat_minor: Mapped[int]
    n_cells: Mapped[int]
    n_code: Mapped[int]
    n_markdown: Mapped[int]
    n_raw: Mapped[int]
    imports: Mapped[list[str]] = mapped_column(JSON)
    source_hash: Mapped[str] = mapped_column(String(64), index=True)
    schema_error: Mapped[str | None]
    # nbshelf.publish.markings.marking_hint; None for contents catalogued before schema 2 (filled
    # in on first use)
    marking: Mapped[str | None]


class Notebook(Base):
    """A notebook at one place: (source, relative path), with its current content."""

    __tablename__ = "notebooks"
    __table_args__ = (UniqueConstraint("source_id", "relpath"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    relpath: Mapped[str]
    content_hash: Mapped[str] = mapped_column(ForeignKey("contents.hash"), index=True)
    first_seen: Mapped[float]
    last_seen: Mapped[float]
    removed_at: Mapped[float | None]
    # What the file looked like when last read: an unchanged (size, mtime, inode) is not read.
    size: Mapped[int]
    mtime_ns: Mapped[int] = mapped_column(Integer)
    inode: Mapped[int] = mapped_column(Integer)


class Version(Base):
    """A content a notebook has had, from the time it was first seen with it."""

    __tablename__ = "versions"
    __table_args__ = (Index("ix_versions_notebook", "notebook_id", "seen_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notebook_id: Mapped[int] = mapped_column(ForeignKey("notebooks.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(ForeignKey("contents.hash"), index=True)
    seen_at: Mapped[float]
    mtime_ns: Mapped[int] = mapped_column(Integer)


class Run(Base):
    """One run of a notebook version, and where its record (the executed copy) is."""

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_notebook", "notebook_id", "started"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notebook_id: Mapped[int] = mapped_column(ForeignKey("notebooks.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(ForeignKey("contents.hash"))
    record: Mapped[str]  # relative to <library>/runs
    started: Mapped[float]
    ended: Mapped[float | None]
    kernel: Mapped[str]
    parameters: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[str]  # a RunStatus
    cells_run: Mapped[int] = mapped_column(default=0)
    failed_cell: Mapped[int | None]
    error: Mapped[str | None]
    runner_pid: Mapped[int]


class SettingRow(Base):
    """One library setting, JSON-encoded; ``nbshelf.catalog.settings`` gives the schema."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[object] = mapped_column(JSON)


class IndexPending(Base):
    """A content whose search document must be (re)written or deleted.

    Rows are added in the same transaction as the catalog change that causes them, and
    removed only after the index has committed: a kill in between makes the index redo the
    work, never miss it.
    """

    __tablename__ = "index_pending"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)


class Problem(Base):
    """A file of a source that could not be read as a notebook, or read with a warning."""

    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), index=True
    )
    relpath: Mapped[str]
    kind: Mapped[str]
    message: Mapped[str]
    seen_at: Mapped[float]
    # The file's (size, mtime, inode) when it was found bad: unchanged, it is not read again.
    size: Mapped[int | None]
    mtime_ns: Mapped[int | None] = mapped_column(Integer)
    inode: Mapped[int | None] = mapped_column(Integer)
