"""The library's health (``lib.checking``): will each notebook run here, from the static
checks (cached per content and kernel) and the last run of each."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from pathlib import Path, PurePosixPath

from sqlalchemy import Engine

from nbshelf.catalog import notebooks as catalog
from nbshelf.health.checks import HealthChecker, HealthInput, health_status, status_detail
from nbshelf.notebook.service import notebook_folder
from nbshelf.records import NotebookHealth
from nbshelf.run.runbook import RunBook
from nbshelf.store import BlobStore


def _reader(store: BlobStore, digest: str) -> Callable[[], bytes]:
    return lambda: store.read(digest)


class HealthService:
    """Checks the library's notebooks; readers use the cache the writer keeps."""

    def __init__(self, cache_dir: Path, engine: Engine, store: BlobStore, runbook: RunBook,
                 *, writer: bool) -> None:
        self.engine = engine
        self.store = store
        self.runbook = runbook
        self.writer = writer
        self.checker = HealthChecker(cache_dir=cache_dir)

    def check(self, ids: Collection[int] | None, *, stale_after_days: float
              ) -> list[NotebookHealth]:
        """"Will it run here?" for these ids (those still in the library), or all."""
        rows = catalog.health_rows(self.engine, ids)
        inputs = [
            HealthInput(r.content_hash, _reader(self.store, r.content_hash),
                        notebook_folder(r.path, r.kind, r.relpath),
                        PurePosixPath(r.relpath).name)
            for r in rows
        ]
        reports = self.checker.check(inputs)
        if self.writer:
            self.checker.save()
        last = self.runbook.last_runs()
        max_age = stale_after_days or math.inf
        found = []
        for r, report in zip(rows, reports, strict=True):
            run = last.get(r.id)
            summary = run.summary() if run else None
            status = health_status(report, summary, run is not None and not run.current_version,
                                   max_age)
            found.append(NotebookHealth(
                r.id, r.name, r.relpath, r.title, status, status_detail(status, report, summary),
                report.kernel, report.missing_modules, report.missing_files, report.messages,
                run.to_json() if run else None,
            ))
        return found
