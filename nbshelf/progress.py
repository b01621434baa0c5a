"""How long work reports progress and learns it should stop: one convention for all of it.

Every long task (the index build, the similarity fit, a health run, a sync) takes a
``progress`` callback and a ``threading.Event`` it checks between steps; the UI's ``Job``
and the command line's progress line supply both. Index builds, fits and health runs report
``(done, total, message)`` (``ProgressFn``). A sync reports ``SyncProgress`` (its phase,
files found, files copied): the window refreshes its list as copies land, which a plain
count cannot tell it; the index build inside a sync reaches that same callback as phase
"index", and while a big sync copies, each report also says how many contents are searchable
already (``SyncProgress.searchable``: "12,400 of 100,000 checked, 12,400 copied; 10,000
searchable"). Work that was stopped says so in what it returns (``SyncReport.cancelled``), and
the command line exits 1 saying what was kept.
"""

from __future__ import annotations

from collections.abc import Callable

#: Told how far long work is: ``(done, total, message)``.
ProgressFn = Callable[[int, int, str], None]
