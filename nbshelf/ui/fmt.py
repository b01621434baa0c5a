"""How the app writes times, sizes and counts for people (no Qt, no I/O)."""

from __future__ import annotations

import time
from datetime import datetime

_LANGUAGES = {"python": "Python", "r": "R", "julia": "Julia", "scala": "Scala", "sql": "SQL"}


def when(seconds: float | None) -> str:
    """Local date and time to the minute, ``2024-05-02 14:03``; empty for None."""
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M")


def day(seconds: float | None) -> str:
    """Local date, ``2024-05-02`` (the list's Modified column: the time is in its tooltip)."""
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d")


def ago(seconds: float | None, now: float | None = None) -> str:
    """How long ago, in words a user reads at a glance: ``just now``, ``5 min ago``."""
    if seconds is None:
        return "never"
    delta = max(0.0, (now if now is not None else time.time()) - seconds)
    if delta < 60:
        return "just now"
    if delta < 3600:
        return f"{int(delta // 60)} min ago"
    if delta < 86400:
        hours = int(delta // 3600)
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    return when(seconds)


def size(num_bytes: int | None) -> str:
    """``1.2 MB`` style sizes (powers of 1000, as file managers show them)."""
    if num_bytes is None:
        return ""
    value = float(num_bytes)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def language(name: str | None) -> str:
    """A kernel language as people write it: ``Python``, ``R``, ``Julia``."""
    if not name:
        return ""
    return _LANGUAGES.get(name.lower(), name)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 notebook``, ``1,234 notebooks``."""
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"
