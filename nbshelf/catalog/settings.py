"""Library settings: a schema of typed values with defaults, stored in the catalog.

Nothing is pickled: each value is JSON, checked against its declared type on the way in.
Per-source settings are keyed ``source:<name>:<setting>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects.sqlite import insert

from nbshelf.catalog.models import SettingRow
from nbshelf.errors import LibraryError, NbshelfError


class SettingError(NbshelfError):
    """A setting that does not exist, or a value of the wrong type."""


@dataclass(frozen=True)
class Setting:
    """One setting's schema."""

    key: str
    kind: type
    default: Any
    description: str
    per_source: bool = False


SCHEMA = {s.key: s for s in (
    Setting("markings", list, [],
            "the control markings this organisation uses, lowest first "
            "(e.g. UNCLASSIFIED, CONFIDENTIAL, SECRET)"),
    Setting("marking_required", bool, False,
            "publishing to this source needs a marked notebook", per_source=True),
    Setting("marking_ceiling", str, "",
            "the highest marking this source may hold (empty: no ceiling)", per_source=True),
    Setting("stale_after_days", int, 90,
            "a notebook whose last good run is older than this is 'stale'"),
    Setting("shelves", list, [],
            "saved searches shown in the app's sidebar, each 'Name = query'"),
    Setting("sync_interval_minutes", int, 15,
            "how often the app syncs shares on its own (0: only at start and on request)"),
)}


class Settings:
    """Typed access to a library's settings."""

    def __init__(self, engine: Engine, *, readonly: bool = False) -> None:
        self.engine = engine
        self.readonly = readonly

    def get(self, key: str, source: str | None = None) -> Any:
        """The value of a setting (its default when never set)."""
        schema = _schema(key, source)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(SettingRow.value).where(SettingRow.key == _stored_key(key, source))
            ).first()
        return schema.default if row is None else row.value

    def set(self, key: str, value: Any, source: str | None = None) -> None:
        """Store a value after checking its type (a writer's job)."""
        if self.readonly:
            raise LibraryError("this library was opened read-only; settings cannot be changed")
        schema = _schema(key, source)
        if not isinstance(value, schema.kind) or (
            isinstance(value, list) and not all(isinstance(v, str) for v in value)
        ):
            raise SettingError(f"{key} takes {schema.kind.__name__} values, not {value!r}")
        with self.engine.begin() as conn:
            stored = _stored_key(key, source)
            conn.execute(delete(SettingRow).where(SettingRow.key == stored))
            conn.execute(insert(SettingRow).values(key=stored, value=value))


def _schema(key: str, source: str | None) -> Setting:
    schema = SCHEMA.get(key)
    if schema is None:
        raise SettingError(f"there is no setting {key!r} (settings: {', '.join(SCHEMA)})")
    if schema.per_source != (source is not None):
        where = "a source" if schema.per_source else "the whole library"
        raise SettingError(f"{key} is a setting of {where}")
    return schema


def _stored_key(key: str, source: str | None) -> str:
    return f"source:{source}:{key}" if source is not None else key


# -- notes kept beside the settings: not in the schema, never set by users ---------------------


def last_walk(engine: Engine, source: str) -> float | None:
    """When a source was last walked in full by a sync that completed (None: never); kept as
    ``source:<name>:last_walk`` (``nbshelf.sources.manifest`` says why)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(SettingRow.value).where(SettingRow.key == _stored_key("last_walk", source))
        ).first()
    value = None if row is None else row.value
    return float(value) if isinstance(value, int | float) else None


def note_walk(engine: Engine, source: str, when: float | None) -> None:
    """Remember a source's completed full walk (None forgets it: the next sync walks)."""
    key = _stored_key("last_walk", source)
    with engine.begin() as conn:
        conn.execute(delete(SettingRow).where(SettingRow.key == key))
        if when is not None:
            conn.execute(insert(SettingRow).values(key=key, value=when))
