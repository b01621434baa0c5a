"""The crash log: tracebacks of bugs, kept where a user can send them to us."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from nbshelf import __version__
from nbshelf.records import iso_time

log = logging.getLogger(__name__)


def log_folder() -> Path:
    """Where nbshelf writes its logs (the user's log folder)."""
    import platformdirs

    return Path(platformdirs.user_log_dir("nbshelf", appauthor=False))


def write_crash_log(details: str, *, who: str = "cli") -> Path | None:
    """Append a traceback to ``crash.log``; returns its path (None if it cannot be written)."""
    path = log_folder() / "crash.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"--- {iso_time(time.time())} nbshelf {__version__} ({who})\n{details}")
    except OSError as err:
        log.error("cannot write the crash log %s: %s", path, err)
        return None
    return path
