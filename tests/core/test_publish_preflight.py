"""The pre-flight of a publish: every check made before the button, and the data files that
go with a notebook (issue 15 point 6)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from nbshelf.health.checks import find_data_files, find_read_paths
from nbshelf.library import Library
from nbshelf.publish.share import PublishConflict, PublishError
from tests.helpers import make_notebook, run_cli, write_notebook

SCHEME = ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET"]


@pytest.fixture
def team(library: Library, share: Path) -> Library:
    """A library with the share as source 'team', a marking scheme and no rules yet."""
    library.add_source(share, name="team")
    library.sync()
    library.settings.set("markings", SCHEME)
    return library


def report_with_data(folder: Path, *, extra: list[str] | None = None) -> Path:
    """A report that reads data/sales_2025.csv, which lies beside it."""
    nb = write_notebook(folder / "report.ipynb", title="Sales 2025", code=[
        "import pandas as pd\ndf = pd.read_csv('data/sales_2025.csv')", *(extra or [])])
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "data" / "sales_2025.csv").write_text("region,total\nnorth,12\n")
    return nb


def test_leak_warnings_number_cells_from_1(team: Library, tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "leaky.ipynb", title="Leaky", code=[
        "print('fine')", "password = 'hunter22'\nkey = 'AKIAABCDEFGHIJKLMNOP'"])
    check = team.preflight_publish(nb, "team")
    # cells: 1 the title, 2 print, 3 the secrets
    assert {w.cell for w in check.warnings} == {2}
    assert all(w.message.startswith("cell 3 ") for w in check.warnings)
    assert len(check.warnings) == 2 and check.blockers == []


def test_a_secret_notebook_is_refused_by_a_confidential_share_before_publishing(
        team: Library, share: Path, tmp_path: Path) -> None:
    team.settings.set("marking_ceiling", "CONFIDENTIAL", "team")
    nb = make_notebook(title="Plans")
    nb.metadata["nbshelf"] = {"marking": "SECRET"}
    path = write_notebook(tmp_path / "plans.ipynb", nb)
    check = team.preflight_publish(path, "team")
    assert check.marking == "SECRET" and check.marked_in_notebook
    assert check.ceiling == "CONFIDENTIAL"
    assert check.blockers == [
        "The notebook is marked SECRET, above what source 'team' may hold (CONFIDENTIAL)."]
    assert list(share.iterdir()) == []  # a check writes nothing
    # the notebook's own marking is never lowered by a publish
    with pytest.raises(PublishError, match="marked SECRET in the notebook itself"):
        team.preflight_publish(path, "team", marking="CONFIDENTIAL")


def test_an_unmarked_notebook_is_marked_by_the_publish(team: Library, share: Path,
                                                      tmp_path: Path) -> None:
    team.settings.set("marking_required", True, "team")
    path = write_notebook(tmp_path / "plain.ipynb", title="Plain")
    assert team.preflight_publish(path, "team").blockers  # unmarked: refused
    check = team.preflight_publish(path, "team", marking="confidential")
    assert check.blockers == [] and check.marking == "CONFIDENTIAL"
    assert not check.marked_in_notebook
    result = team.publish(path, "team", marking="confidential")
    assert result.marking == "CONFIDENTIAL"
    published = json.loads((share / "plain.ipynb").read_text())
    assert published["metadata"]["nbshelf"] == {"marking": "CONFIDENTIAL"}
    assert team.markings([result.notebook_id]) == {result.notebook_id: "CONFIDENTIAL"}
    with pytest.raises(PublishError, match="not one of this library's markings"):
        team.publish(path, "team", as_path="other.ipynb", marking="TOP SECRET")


def test_the_data_file_goes_with_the_notebook_and_health_finds_it(
        team: Library, share: Path, tmp_path: Path) -> None:
    nb = report_with_data(tmp_path / "mine")
    check = team.preflight_publish(nb, "team", as_path="reports/q3.ipynb")
    [data] = check.data_files
    assert (data.path, data.state, data.on_share, data.suggested) == (
        "data/sales_2025.csv", "found", "absent", True)
    # without it, the share says what the issue saw: missing files
    team.publish(nb, "team", as_path="bare/q3.ipynb")
    assert team.health("team:bare/q3.ipynb")[0].missing_files == ["data/sales_2025.csv"]
    result = team.publish(nb, "team", as_path="reports/q3.ipynb",
                          data=["data/sales_2025.csv"])
    assert result.data == ["data/sales_2025.csv"] and result.data_copied == 1
    landed = share / "reports" / "data" / "sales_2025.csv"
    assert landed.read_text() == "region,total\nnorth,12\n"
    assert landed.stat().st_mode & 0o044 == 0o044  # colleagues can read it
    health = team.health("team:reports/q3.ipynb")[0]
    assert health.missing_files == [] and health.status != "missing-files"
    # published again: the share holds the same bytes, nothing is rewritten
    again = team.preflight_publish(nb, "team", as_path="reports/q3.ipynb")
    assert again.data_files[0].on_share == "same"
    assert team.publish(nb, "team", as_path="reports/q3.ipynb",
                        data=["data/sales_2025.csv"]).data_copied == 0


def test_a_different_data_file_on_the_share_is_not_replaced_by_default(
        team: Library, share: Path, tmp_path: Path) -> None:
    nb = report_with_data(tmp_path / "mine")
    (share / "data").mkdir()
    (share / "data" / "sales_2025.csv").write_text("someone else's numbers\n")
    [data] = team.preflight_publish(nb, "team").data_files
    assert data.publishable and data.on_share == "different" and not data.suggested
    assert "different" in data.reason


def test_data_paths_that_escape_are_refused_and_never_copied(
        team: Library, share: Path, tmp_path: Path) -> None:
    secret = tmp_path / "etc" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0\n")
    mine = tmp_path / "a" / "b"
    (mine / "linked").mkdir(parents=True)
    (mine / "linked" / "out.csv").symlink_to(secret)
    (mine / ".env").write_text("TOKEN=1\n")
    nb = report_with_data(mine, extra=[
        "open('../../etc/passwd').read()", "open('/etc/passwd').read()",
        "pd.read_csv('linked/out.csv')", "open('.env').read()"])
    check = team.preflight_publish(nb, "team")
    states = {d.path: d.state for d in check.data_files}
    assert states == {"../../etc/passwd": "refused", "/etc/passwd": "refused",
                      "linked/out.csv": "refused", ".env": "refused",
                      "data/sales_2025.csv": "found"}
    reasons = {d.path: d.reason for d in check.data_files}
    assert "leads out of the notebook's folder" in reasons["../../etc/passwd"]
    assert "absolute path" in reasons["/etc/passwd"]
    for bad in ("../../etc/passwd", "/etc/passwd", "linked/out.csv", ".env"):
        with pytest.raises(PublishError, match="nothing was written"):
            team.publish(nb, "team", data=["data/sales_2025.csv", bad])
    assert list(share.iterdir()) == []  # not the notebook, not the good data file either
    assert "root:x" not in "".join(p.read_text() for p in share.rglob("*") if p.is_file())


def test_a_conflict_offers_a_free_name_that_keeps_theirs(tmp_path: Path, share: Path) -> None:
    alice = Library.open(tmp_path / "alice-lib")
    bob = Library.open(tmp_path / "bob-lib")
    try:
        for lib in (alice, bob):
            lib.add_source(share, name="team")
            lib.sync()
        write_notebook(share / "plans" / "report (2).ipynb", title="Taken already")
        for lib in (alice, bob):
            lib.sync()
        mine = write_notebook(tmp_path / "b" / "report.ipynb", title="Bob's report")
        bob.publish(mine, "team", as_path="plans/report.ipynb")
        alice_edit = write_notebook(tmp_path / "a" / "report.ipynb", title="Alice's edit")
        alice.publish(alice_edit, "team", as_path="plans/report.ipynb", force=True)
        mine = write_notebook(tmp_path / "b" / "report.ipynb", title="Bob's second")
        check = bob.preflight_publish(mine, "team", as_path="plans/report.ipynb")
        assert check.exists and check.blockers == []
        assert check.conflict is not None and check.conflict.startswith(
            "Someone changed this notebook on the share since you synced it")
        assert check.suggested_path == "plans/report (3).ipynb"
        assert "--" not in check.conflict
        with pytest.raises(PublishConflict) as refused:
            bob.publish(mine, "team", as_path="plans/report.ipynb")
        assert refused.value.suggested == "plans/report (3).ipynb"
        assert "--as" not in str(refused.value) and "--force" not in str(refused.value)
        bob.publish(mine, "team", as_path=check.suggested_path)
        assert "Alice's edit" in (share / "plans" / "report.ipynb").read_text()
        assert "Bob's second" in (share / "plans" / "report (3).ipynb").read_text()
    finally:
        alice.close()
        bob.close()


def test_a_target_that_cannot_be_written_is_said_before(team: Library, tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "x.ipynb")
    nowhere = team.preflight_publish(nb, "nowhere")
    assert nowhere.target_refusal and nowhere.blockers == [nowhere.target_refusal]
    assert "nowhere" in nowhere.target_refusal
    check = team.preflight_publish(nb, "team", as_path="../x.ipynb")
    assert check.target_refusal and check.path == ""


def test_the_detection_is_health_s_own(tmp_path: Path) -> None:
    cells = ["import pandas as pd\npd.read_csv('a.csv')\nopen('/etc/hosts')",
             "df.to_csv('out.csv')\npd.read_csv('out.csv')\npd.read_csv('https://x/y.csv')",
             "open('~/notes.txt')\nnp.load('../up.npy')\nopen(f'{x}.csv')"]
    every = find_read_paths(cells)
    assert every == ["../up.npy", "/etc/hosts", "a.csv", "~/notes.txt"]
    assert find_data_files(cells) == ["../up.npy", "a.csv"]


def test_cli_publishes_with_data_and_marks(tmp_path: Path, share: Path) -> None:
    lib_dir = tmp_path / "lib"
    with Library.open(lib_dir) as lib:
        lib.add_source(share, name="team")
        lib.settings.set("markings", SCHEME)
        lib.settings.set("marking_required", True, "team")
    nb = report_with_data(tmp_path / "mine", extra=["open('../../etc/passwd')"])
    dry = run_cli(lib_dir, "publish", str(nb), "--to", "team", "--dry-run", "--json")
    assert dry.code == 0, dry.stderr
    assert dry.json["preflight"]["blockers"] and not list(share.iterdir())
    done = run_cli(lib_dir, "publish", str(nb), "--to", "team", "--with-data",
                   "--marking", "UNCLASSIFIED", "--json")
    assert done.code == 0, done.stderr
    assert done.json["data"] == ["data/sales_2025.csv"] and done.json["marking"] == "UNCLASSIFIED"
    assert [d["path"] for d in done.json["data_skipped"]] == ["../../etc/passwd"]
    assert (share / "data" / "sales_2025.csv").is_file()
    theirs = nbformat.v4.new_notebook()
    theirs.metadata["nbshelf"] = {"marking": "UNCLASSIFIED"}
    nbformat.write(theirs, str(share / "report.ipynb"))
    refused = run_cli(lib_dir, "publish", str(nb), "--to", "team", "--marking",
                      "UNCLASSIFIED")
    assert refused.code == 1 and "--as report (2).ipynb, or --force" in refused.stderr
