"""Opening the catalog database: SQLite in WAL mode, schema version in ``user_version``."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError

from nbshelf.catalog.models import Base
from nbshelf.errors import LibraryError

#: The schema this build writes. Each step in ``_UPGRADES`` takes the schema one version up.
SCHEMA_VERSION = 3


def _add_marking_column(conn: Connection, _library: Path) -> None:
    """Schema 1 -> 2: contents remember what may be their control marking."""
    columns = {row[1] for row in conn.execute(text("PRAGMA table_info(contents)"))}
    if "marking" not in columns:
        conn.execute(text("ALTER TABLE contents ADD COLUMN marking TEXT"))


def _retitle(conn: Connection, library: Path) -> None:
    """Schema 2 -> 3: titles a reader would give ("Chapter 9 – ..." rather than "Setup")."""
    from nbshelf.catalog.retitle import retitle_contents

    retitle_contents(conn, library)


#: Each step gets the connection of the upgrade's transaction and the library folder.
_UPGRADES: dict[int, Callable[[Connection, Path], None]] = {1: _add_marking_column, 2: _retitle}


def open_engine(path: Path, *, readonly: bool = False) -> Engine:
    """Open (and for a writer, create or upgrade) the catalog at ``path``.

    A reader's connections are opened read-only by SQLite itself (``mode=ro``): whatever a
    reader's code does, it cannot write the catalog. In WAL mode it still sees each commit of
    the writer, and never blocks it.
    """
    if not readonly:
        engine = create_engine(f"sqlite:///{path}")
        event.listen(engine, "connect", _configure_connection)
        with engine.begin() as conn:
            _create_or_upgrade(conn, path)
    else:
        engine = create_engine(f"sqlite:///file:{quote(str(path))}?mode=ro&uri=true")
        event.listen(engine, "connect", _configure_reader)
        try:
            with engine.connect() as conn:
                _check_version(conn, path)
        except OperationalError:
            if not _on_read_only_disk(path):
                raise
            engine.dispose()
            engine = _immutable_engine(path)
    return engine


def _on_read_only_disk(path: Path) -> bool:
    """True when the catalog's folder cannot be written and it has no unmerged WAL, so that
    reading it as an immutable file gives exactly what was committed."""
    wal = Path(f"{path}-wal")
    read_only = not os.access(path.parent, os.W_OK) or _read_only_mount(path.parent)
    return read_only and (not wal.exists() or wal.stat().st_size == 0)


def _read_only_mount(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _immutable_engine(path: Path) -> Engine:
    """A catalog on a read-only disk (a library on a write-protected stick, a read-only
    mount): SQLite cannot make the WAL's shared-memory file beside it, so it is read as an
    immutable file, which a read-only disk guarantees it is."""
    engine = create_engine(f"sqlite:///file:{quote(str(path))}?mode=ro&immutable=1&uri=true")
    with engine.connect() as conn:
        _check_version(conn, path)
    return engine


def _configure_reader(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")  # wait out a writer's checkpoint
    cursor.close()


def _configure_connection(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # in WAL: consistent after any crash
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")  # readers wait out a writer's commit
    cursor.close()


def _user_version(conn: Connection) -> int:
    return int(conn.execute(text("PRAGMA user_version")).scalar_one())


def _check_version(conn: Connection, path: Path) -> int:
    version = _user_version(conn)
    if version > SCHEMA_VERSION:
        raise LibraryError(
            f"the library {path.parent} was made by a newer nbshelf (catalog schema {version}, "
            f"this one reads up to {SCHEMA_VERSION}); update nbshelf to open it"
        )
    return version


def _create_or_upgrade(conn: Connection, path: Path) -> None:
    version = _check_version(conn, path)
    if version == 0:
        Base.metadata.create_all(conn)  # a new library: today's schema at once
    else:
        # New tables and indexes need no upgrade step: creating what is missing is enough.
        # First, so that a step may use them (retitling queues contents for the index).
        Base.metadata.create_all(conn, checkfirst=True)
        for step in range(version, SCHEMA_VERSION):
            _UPGRADES[step](conn, path.parent)
    # PRAGMA takes no bound parameters; the value is our own integer constant.
    conn.execute(text(f"PRAGMA user_version = {SCHEMA_VERSION:d}"))
