"""Publishing to a share: stripped, warned about, marked, atomic, and never losing an update."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from nbshelf.library import Library
from nbshelf.publish.markings import MarkingRefused
from nbshelf.publish.share import PublishConflict
from tests.helpers import make_notebook, write_notebook


def notebook_with_outputs(path: Path, *, marking_line: str | None = None) -> Path:
    nb = make_notebook(title="Quarterly report", code=["print(42)", "plot()"])
    if marking_line:
        nb.cells.insert(0, v4.new_markdown_cell(marking_line))
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[0].outputs = [v4.new_output("stream", text="42\n")]
    code[0].execution_count = 1
    code[0].metadata["ExecuteTime"] = {"start_time": "2026-01-01T00:00:00"}
    code[1].outputs = [v4.new_output("display_data", data={"text/plain": "<figure>"})]
    code[1].metadata["tags"] = ["keep_output"]
    nb.metadata["widgets"] = {"state": {}}
    return write_notebook(path, nb)


@pytest.fixture
def share_lib(library: Library, share: Path) -> Library:
    library.add_source(share, name="share")
    library.sync()
    return library


def test_outputs_are_stripped_except_keep_output(share_lib: Library, share: Path,
                                                 tmp_path: Path) -> None:
    result = share_lib.publish(notebook_with_outputs(tmp_path / "q3.ipynb"), "share")
    published = json.loads((share / "q3.ipynb").read_text())
    code = [c for c in published["cells"] if c["cell_type"] == "code"]
    assert code[0]["outputs"] == [] and code[0]["execution_count"] is None
    assert "ExecuteTime" not in code[0]["metadata"]
    assert "".join(code[1]["outputs"][0]["data"]["text/plain"]) == "<figure>"
    assert "widgets" not in published["metadata"]
    assert (result.stripped.outputs, result.stripped.kept_cells) == (1, [2])
    assert "removes 1 outputs from 1 cells" in result.stripped.describe()
    assert share_lib.show("share:q3.ipynb").title == "Quarterly report"
    assert (share / "q3.ipynb").stat().st_mode & 0o044 == 0o044  # colleagues can read it


def test_keep_outputs_and_a_preview_that_writes_nothing(share_lib: Library, share: Path,
                                                       tmp_path: Path) -> None:
    source = notebook_with_outputs(tmp_path / "q3.ipynb")
    preview = share_lib.prepare_publish(source)
    assert preview.stripped.outputs == 1 and not (share / "q3.ipynb").exists()
    share_lib.publish(source, "share", as_path="team/q3-full.ipynb", keep_outputs=True)
    published = json.loads((share / "team" / "q3-full.ipynb").read_text())
    assert [c for c in published["cells"] if c["cell_type"] == "code"][0]["outputs"]


def test_scan_warns_about_local_paths_user_names_and_secrets(share_lib: Library,
                                                            tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "leaky.ipynb", code=[
        "df = pd.read_csv('/home/alice/q3/sales.csv')",
        "conn = connect(password='hunter2!')",
        "src = '/mnt/finance/ledger.csv'",
        "key = 'AKIAABCDEFGHIJKLMNOP'",
    ])
    kinds = sorted(leak.kind for leak in share_lib.publish(path, "share").leaks)
    assert kinds == ["credential", "credential", "local-path", "user-name"]


def test_someone_elses_change_is_never_overwritten(tmp_path: Path, share: Path) -> None:
    alice = Library.open(tmp_path / "alice-lib")
    bob = Library.open(tmp_path / "bob-lib")
    try:
        for lib in (alice, bob):
            lib.add_source(share, name="team")
            lib.sync()
        alice.publish(write_notebook(tmp_path / "a" / "plan.ipynb", title="Alice's plan"),
                      "team")
        bobs = write_notebook(tmp_path / "b" / "plan.ipynb", title="Bob's plan")
        with pytest.raises(PublishConflict, match="this library never saw it"):
            bob.publish(bobs, "team")
        bob.sync()  # now Bob's library has seen Alice's version...
        bob.publish(bobs, "team")  # ...and Bob knowingly replaces it
        assert bob.show("team:plan.ipynb").title == "Bob's plan"
        alice_next = write_notebook(tmp_path / "a" / "plan.ipynb", title="Alice's plan v2")
        with pytest.raises(PublishConflict, match="since this library last saw it"):
            alice.publish(alice_next, "team")
        assert "Bob's plan" in (share / "plan.ipynb").read_text()
        alice.publish(alice_next, "team", force=True)
        assert "Alice's plan v2" in (share / "plan.ipynb").read_text()
    finally:
        alice.close()
        bob.close()


def test_markings_required_and_ceiling(share_lib: Library, tmp_path: Path) -> None:
    share_lib.settings.set("markings", ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"])
    share_lib.settings.set("marking_required", True, "share")
    share_lib.settings.set("marking_ceiling", "CONFIDENTIAL", "share")
    unmarked = write_notebook(tmp_path / "plain.ipynb")
    with pytest.raises(MarkingRefused, match="accepts only marked notebooks"):
        share_lib.publish(unmarked, "share")
    secret = notebook_with_outputs(tmp_path / "s.ipynb", marking_line="**SECRET//NOFORN**")
    with pytest.raises(MarkingRefused, match="marked SECRET, above what source 'share' may "
                                             r"hold \(CONFIDENTIAL\)"):
        share_lib.publish(secret, "share")
    nb = make_notebook(title="Marked in metadata")
    nb.metadata["nbshelf"] = {"marking": "confidential"}
    result = share_lib.publish(write_notebook(tmp_path / "m.ipynb", nb), "share")
    assert result.marking == "CONFIDENTIAL"
    assert share_lib.search("marking:confidential").hits[0].title == "Marked in metadata"


def test_paths_outside_the_source_are_refused(share_lib: Library, tmp_path: Path) -> None:
    from nbshelf.publish.share import PublishError

    path = write_notebook(tmp_path / "x.ipynb")
    for bad in ("../escape.ipynb", "/etc/x.ipynb", ".hidden/x.ipynb"):
        with pytest.raises(PublishError):
            share_lib.publish(path, "share", as_path=bad)


def test_a_killed_publish_leaves_no_partial_file_in_view(share: Path, tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib") as lib:
        lib.add_source(share, name="share")
    big = make_notebook(title="Big", code=["x"])
    big.cells[1].metadata["tags"] = ["keep_output"]
    big.cells[1].outputs = [v4.new_output("stream", text="y" * 150_000_000)]
    source = write_notebook(tmp_path / "big.ipynb", big)
    for delay in (0.3, 0.8, 1.5):
        proc = subprocess.Popen([sys.executable, "-m", "nbshelf", "--library",
                                 str(tmp_path / "lib"), "publish", str(source), "--to", "share",
                                 "--force"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        visible = [p for p in os.listdir(share) if not p.startswith(".")]
        if visible:  # either no notebook yet, or the whole one
            assert visible == ["big.ipynb"]
            assert nbformat.reads((share / "big.ipynb").read_text(), 4).cells[0].source == "# Big"


def test_diff_between_versions(share_lib: Library, share: Path) -> None:
    path = write_notebook(share / "d.ipynb", make_notebook(title="D", code=["a = 1", "b = 2"]))
    share_lib.sync()
    nb = nbformat.read(path, 4)
    nb.cells[1].source = "a = 10"
    nb.cells.append(v4.new_code_cell("c = 3"))
    nbformat.write(nb, path)
    os.utime(path, ns=(1, 5_000_000_000_000_000_000))
    share_lib.sync()
    changes = share_lib.diff("share:d.ipynb")
    assert [(c.kind, c.new_index) for c in changes] == [("modified", 1), ("added", 3)]
    assert "-a = 1" in changes[0].source_diff and "+a = 10" in changes[0].source_diff
    assert share_lib.diff("share:d.ipynb", 1, 1) == []


def test_markings_are_listed_for_the_library_column(share_lib: Library, share: Path) -> None:
    share_lib.settings.set("markings", ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"])
    notebook_with_outputs(share / "s.ipynb", marking_line="**SECRET//NOFORN**")
    nb = make_notebook(title="Declared")
    nb.metadata["nbshelf"] = {"marking": "confidential"}
    write_notebook(share / "d.ipynb", nb)
    write_notebook(share / "plain.ipynb", title="Nothing to see")
    share_lib.sync()
    by_path = {share_lib.show(i).path: m for i, m in share_lib.markings().items()}
    assert by_path == {"s.ipynb": "SECRET", "d.ipynb": "CONFIDENTIAL"}


def test_a_library_from_schema_1_is_upgraded_and_its_markings_filled_in(
    library_dir: Path, share: Path
) -> None:
    import sqlite3

    notebook_with_outputs(share / "s.ipynb", marking_line="SECRET")
    with Library.open(library_dir) as lib:
        lib.add_source(share, name="share")
        lib.sync()
    with sqlite3.connect(library_dir / "catalog.sqlite") as db:  # as schema 1 left it
        db.execute("ALTER TABLE contents DROP COLUMN marking")
        db.execute("PRAGMA user_version = 1")
    with Library.open(library_dir) as lib:
        lib.settings.set("markings", ["UNCLASSIFIED", "SECRET"])
        assert list(lib.markings().values()) == ["SECRET"]
        assert lib.show("share:s.ipynb").title == "Quarterly report"
