"""Fixtures every test may use: a temporary library and a temporary source folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from nbshelf.library import Library

# In CI the property tests draw the same examples every run (a failure there reproduces);
# on a developer's machine they explore new ones each time.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Qt tests run headless everywhere; WebEngine refuses to start as root without this.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@pytest.fixture
def library_dir(tmp_path: Path) -> Path:
    """Where the test's library lives (not created yet)."""
    return tmp_path / "library"


@pytest.fixture
def share(tmp_path: Path) -> Path:
    """An empty folder standing for a network share or a USB stick."""
    folder = tmp_path / "share"
    folder.mkdir()
    return folder


@pytest.fixture
def library(library_dir: Path) -> Iterator[Library]:
    """A writer Library on a fresh folder."""
    lib = Library.open(library_dir)
    yield lib
    lib.close()


@pytest.fixture
def corpus() -> Path:
    """The shared corpus of real notebooks; the test is skipped where it is missing."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not here")
    return CORPUS
