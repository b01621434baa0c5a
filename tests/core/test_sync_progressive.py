"""Searchable while syncing (issue 16): during a first sync the index takes in each batch the
catalog commits, so a reader (a second window, ``nbshelf search``) finds what has arrived so
far, never a notebook the catalog lacks; the similarity model comes at the end, and until
then ``similar`` says it is being learned.

The sync is paused inside its own progress callback (on the writer's thread, mid-copy) while
the test looks at the library as a reader would: without the batches being indexed as they
commit, nothing could be found before the copy ends.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from nbshelf.errors import SimilarLearning
from nbshelf.library import Library
from nbshelf.sources import sync as sync_module
from nbshelf.sources.sync import SyncProgress
from tests.helpers import make_notebook, run_cli, write_notebook

N = 300
WORD = "reservoir"


@pytest.fixture
def share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A share of ``N`` notebooks that all mention ``WORD``; batches of 30 files."""
    monkeypatch.setattr(sync_module, "BATCH_FILES", 30)
    folder = tmp_path / "share"
    for i in range(N):
        nb = make_notebook(title=f"Reservoir levels {i}",
                           markdown=[f"The {WORD} of site {i} over the year."],
                           code=[f"import pandas as pd\nlevels_{i} = pd.read_csv('site{i}.csv')"])
        write_notebook(folder / f"site{i // 50}" / f"nb{i:03}.ipynb", nb)
    return folder


def catalog_hashes(root: Path) -> set[str]:
    with sqlite3.connect(root / "catalog.sqlite") as db:
        return {h for (h,) in db.execute(
            "SELECT content_hash FROM notebooks WHERE removed_at IS NULL")}


def index_hashes(reader: Library) -> set[str]:
    """Every content the index holds (its committed documents)."""
    searcher = reader.searching.index.searcher()
    return {fields["hash"] for fields in searcher.reader().all_stored_fields()}


def found_by_reader(root: Path) -> tuple[int, set[str], set[str]]:
    """A reader's view: how many notebooks a search finds, the index's contents, and then
    the catalog's (read after the index: the catalog only grows during a first sync)."""
    with Library.open(root, readonly=True) as reader:
        try:
            total = reader.search(WORD, limit=5).total
            indexed = index_hashes(reader)
        except Exception:  # noqa: BLE001 - the index is not there yet
            total, indexed = 0, set()
    return total, indexed, catalog_hashes(root)


def pausing_at(copied: int, look: Callable[[], bool],
               seen: list[SyncProgress]) -> Callable[[SyncProgress], None]:
    """A sync progress callback that, once ``copied`` notebooks are in, holds the sync until
    ``look()`` is true (at most 60 s), once."""
    done = threading.Event()

    def progress(p: SyncProgress) -> None:
        seen.append(p)
        if p.phase == "copy" and p.copied >= copied and not done.is_set():
            done.set()
            deadline = time.monotonic() + 60
            while not look() and time.monotonic() < deadline:
                time.sleep(0.1)

    return progress


def test_a_reader_finds_committed_notebooks_while_the_first_sync_copies(
        tmp_path: Path, share: Path) -> None:
    root = tmp_path / "lib"
    views: list[tuple[int, set[str], set[str]]] = []

    def look() -> bool:
        views.append(found_by_reader(root))
        return views[-1][0] > 0

    seen: list[SyncProgress] = []
    with Library.open(root) as lib:
        lib.add_source(share, name="share")
        report = lib.sync(progress=pausing_at(N // 2, look, seen))
        assert report.added == N
    # while the copy was held halfway, a reader found the notebooks committed so far
    total, indexed, catalog = views[-1]
    assert 0 < total < N
    # and at every look the index held nothing the catalog had not committed
    assert all(i <= c for _t, i, c in views)
    # the progress said how much was searchable while the copy went on
    assert any(p.phase == "copy" and p.searchable and p.copied < p.total for p in seen)
    # after the sync every notebook is found, and the index holds exactly the catalog
    total, indexed, catalog = found_by_reader(root)
    assert total == N
    assert indexed == catalog
    with Library.open(root, readonly=True) as reader:
        assert reader.index_behind() == 0


def test_after_the_copy_the_progress_counts_the_whole_sync_until_the_last_round(
        tmp_path: Path, share: Path) -> None:
    """A round still under way when the copy ends must not report the sync as all but done
    ("50 of 50 searchable" while 250 more wait): the total is always the whole sync's."""
    seen: list[SyncProgress] = []
    with Library.open(tmp_path / "lib") as lib:
        lib.add_source(share, name="share")
        lib.sync(progress=seen.append)
    after = [p for p in seen if p.phase == "index"]
    assert after and all(p.total == N for p in after), [(p.scanned, p.total) for p in after]
    assert [p.scanned for p in after] == sorted(p.scanned for p in after)
    assert after[-1].scanned == N
    # "learning which notebooks are alike" only once every notebook is searchable (if the
    # fit outlasts the last round: it may not, for 300 short notebooks)
    learn = [i for i, p in enumerate(seen) if p.phase == "learn"]
    assert all(seen[i].searchable == N for i in learn)
    assert all(i > seen.index(after[-1]) for i in learn)


def test_a_small_first_sync_says_when_only_the_similarity_fit_is_left(tmp_path: Path) -> None:
    share = tmp_path / "small"
    for i in range(4):
        write_notebook(share / f"nb{i}.ipynb", make_notebook(
            title=f"Reservoir levels {i}", markdown=[f"The {WORD} of site {i}."]))
    seen: list[SyncProgress] = []
    with Library.open(tmp_path / "lib") as lib:
        lib.add_source(share, name="small")
        lib.sync(progress=seen.append)
        assert lib.search(WORD).total == 4
    phases = [p.phase for p in seen]
    assert "learn" in phases and "copy" not in phases[phases.index("learn"):]


def test_a_cancelled_first_sync_keeps_what_it_indexed_and_the_next_one_finishes(
        tmp_path: Path, share: Path) -> None:
    root = tmp_path / "lib"
    cancel = threading.Event()

    def look() -> bool:
        if found_by_reader(root)[0] > 0:
            cancel.set()  # the user stops the sync once something is searchable
            return True
        return False

    with Library.open(root) as lib:
        lib.add_source(share, name="share")
        report = lib.sync(progress=pausing_at(N // 2, look, []), cancel=cancel)
    assert report.cancelled
    total, indexed, catalog = found_by_reader(root)
    assert 0 < total < N  # what was indexed before the stop is still found
    assert indexed <= catalog
    with Library.open(root) as lib:
        lib.sync()
    total, indexed, catalog = found_by_reader(root)
    assert total == N and indexed == catalog


def test_similar_says_still_learning_until_the_first_model_exists(
        tmp_path: Path, share: Path) -> None:
    root = tmp_path / "lib"
    answers: list[str] = []

    def look() -> bool:
        with Library.open(root, readonly=True) as reader:
            first = reader.notebook_ids()[0]
            with pytest.raises(SimilarLearning) as learning:
                reader.similar(first)
            answers.append(str(learning.value))
        cli = run_cli(root, "similar", str(first))
        answers.append(cli.stdout.strip())
        answers.append(str(run_cli(root, "similar", str(first), "--json").json))
        assert cli.code == 0
        return True

    with Library.open(root) as lib:
        lib.add_source(share, name="share")
        lib.sync(progress=pausing_at(N // 2, look, []))
    sentence = ("Similar notebooks will appear when the library has finished learning from "
                "the new notebooks.")
    assert answers[0] == sentence
    assert answers[1] == sentence  # the command line says the same
    assert "'learning': True" in answers[2]
    # once the sync has fitted the model, the neighbours come
    with Library.open(root, readonly=True) as reader:
        assert reader.similar(reader.notebook_ids()[0])
    assert not (root / "similar.learning").exists()
