"""Fixtures of the app's tests: offscreen Qt, a started task runner over a temporary library."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6

# Before any QApplication exists: headless everywhere; WebEngine refuses root without this.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
# Index builds fork no writer processes beside Qt's threads (as in the app).
os.environ.setdefault("NBSHELF_INDEX_PROCS", "1")

from nbshelf.library import Library  # noqa: E402
from nbshelf.ui.viewer import NotebookViewer, register_scheme  # noqa: E402
from tests.helpers import write_notebook  # noqa: E402
from tests.ui.uihelpers import SHARE_TITLES  # noqa: E402

# The viewer's URL scheme must be declared before pytest-qt creates the QApplication.
register_scheme()


@pytest.fixture
def make_share(tmp_path: Path) -> Callable[..., Path]:
    """``make_share(name, titles)``: a folder holding one notebook per title."""

    def make(name: str = "share", titles: list[str] | None = None) -> Path:
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        for i, title in enumerate(titles or ["First notebook"]):
            write_notebook(
                folder / f"{i:03d}-{title.lower().replace(' ', '-')}.ipynb",
                title=title,
                markdown=["## Data", "## Results"],
            )
        return folder

    return make


@pytest.fixture
def synced(library_dir: Path, make_share: Callable[..., Path]) -> Path:
    """A library with one synced source, "share", holding ``SHARE_TITLES``."""
    with Library.open(library_dir) as lib:
        lib.add_source(make_share("share", SHARE_TITLES))
        lib.sync()
    return library_dir


@pytest.fixture
def runner_for(qapp: object) -> Iterator[Callable[[Path], object]]:
    """``runner_for(library_dir)``: a started ``TaskRunner`` on that library; shut down after."""
    from nbshelf.ui.tasks import TaskRunner

    made: list[TaskRunner] = []

    def make(root: Path) -> TaskRunner:
        runner = TaskRunner(
            open_writer=lambda: Library.open(root),
            open_reader=lambda: Library.open(root, readonly=True),
        )
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.shutdown()


@pytest.fixture(autouse=True)
def delete_windows_after_each_test(qapp: object) -> Iterator[None]:
    """Delete every window a test leaves, before the next test and before Qt shuts down.

    A web view still alive when the interpreter exits crashes Qt WebEngine's teardown
    (exit code 139 after all tests passed): the app deletes its window for the same reason.
    """
    yield
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


#: How long a test waits for a page to load (WebEngine's first start is slow on CI).
VIEWER_TIMEOUT_MS = 30_000


@pytest.fixture
def viewer(qtbot: Any) -> Iterator[NotebookViewer]:
    """A shown viewer, 900 × 700, deleted after the test."""
    view = NotebookViewer()
    view.resize(900, 700)
    view.show()
    yield view
    # Delete it now, as a closing window would: a view left for interpreter exit outlives
    # WebEngine's own teardown.
    view.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(view), timeout=VIEWER_TIMEOUT_MS)
