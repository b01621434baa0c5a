"""Running notebooks from the library: records kept, versions linked, health from runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nbformat import v4
from sqlalchemy import update

from nbshelf.catalog.models import Notebook
from nbshelf.errors import KernelMissing
from nbshelf.library import Library
from tests.helpers import make_notebook, run_cli, write_notebook


@pytest.fixture
def team(library: Library, share: Path) -> Library:
    (share / "data").mkdir()
    (share / "data" / "numbers.csv").write_text("1\n2\n3\n")
    write_notebook(share / "good.ipynb", title="Good", code=[
        "total = sum(int(x) for x in open('data/numbers.csv'))", "print(total)"])
    write_notebook(share / "bad.ipynb", title="Bad", code=["x = 1", "y = 2", "1 / 0", "z = 3"])
    params = make_notebook(title="Params", code=["region = 'North'\nyear = 2025",
                                                 "print(region, year + 1)"])
    params.cells[1].metadata["tags"] = ["parameters"]
    write_notebook(share / "params.ipynb", params)
    write_notebook(share / "geo.ipynb", title="Geo", code=["import geopandas_not_here"])
    julia = {"kernelspec": {"name": "julia-9.9", "language": "julia", "display_name": "Julia"}}
    write_notebook(share / "jl.ipynb", title="Julia", code=["println(1)"], metadata=julia)
    library.add_source(share, name="team")
    library.sync()
    return library


def test_a_run_reads_relative_files_and_keeps_its_record(team: Library, share: Path) -> None:
    before = (share / "good.ipynb").read_bytes()
    result = team.run("team:good.ipynb")
    assert (result.status, result.failed_cell) == ("ok", None)
    record = json.loads(result.record.read_text())
    assert "".join(record["cells"][2]["outputs"][0]["text"]) == "6\n"
    assert (share / "good.ipynb").read_bytes() == before  # the library's copy is untouched
    runs = team.runs("team:good.ipynb")
    assert [(r.status, r.current_version) for r in runs] == [("ok", True)]
    assert team.health("team:good.ipynb")[0].status == "ok"


def test_a_failing_run_and_its_health(team: Library) -> None:
    result = team.run("team:bad.ipynb")
    assert (result.status, result.failed_cell, result.error) == (
        "error", 3, "ZeroDivisionError: division by zero")
    health = team.health("team:bad.ipynb")[0]
    assert health.status == "failing" and "cell 4" in health.detail


def test_parameters_are_listed_typed_and_injected(team: Library) -> None:
    # defaults come as the literals written in the cell, for the form to show and edit
    assert [(p.name, p.default, p.type) for p in team.parameters("team:params.ipynb")] == [
        ("region", "'North'", "str"), ("year", "2025", "int")]
    result = team.run("team:params.ipynb", parameters={"region": "West", "year": "2030"})
    record = json.loads(result.record.read_text())
    printed = "".join("".join(o.get("text", "")) for c in record["cells"]
                      for o in c.get("outputs", []))
    assert printed == "West 2031\n"
    assert team.runs("team:params.ipynb")[0].parameters == {"region": "West", "year": 2030}


def test_health_before_running_names_what_is_missing(team: Library) -> None:
    by_path = {h.path: h for h in team.health()}
    assert by_path["geo.ipynb"].status == "missing-deps"
    assert by_path["geo.ipynb"].missing_modules == ["geopandas_not_here"]
    assert by_path["jl.ipynb"].status == "kernel-missing"
    assert by_path["params.ipynb"].status == "never-run"
    with pytest.raises(KernelMissing, match="Installed kernels"):
        team.run("team:jl.ipynb")


def test_cli_run_exit_codes_and_json(team: Library, library_dir: Path) -> None:
    team.close()
    ok = run_cli(library_dir, "run", "team:good.ipynb", "--json")
    assert ok.code == 0 and ok.json["status"] == "ok" and ok.json["failed_cell"] is None
    bad = run_cli(library_dir, "run", "team:bad.ipynb", "--json")
    assert bad.code == 1 and bad.json["failed_cell"] == 3  # 0-based: the title is cell 0
    assert "at cell 4" in bad.stderr
    typed = run_cli(library_dir, "run", "team:params.ipynb", "-p", "year=soon", "--json")
    assert typed.code == 1 and "year" in typed.json["error"]
    health = run_cli(library_dir, "health", "--json")
    assert health.code == 0 and len(health.json["notebooks"]) == 5


def test_list_order_filter_and_ranked_ids(team: Library) -> None:
    titles = [r.title for r in team.notebook_rows(team.notebook_ids())]
    assert titles == sorted(titles, key=str.lower)
    langs = [r.language for r in team.notebook_rows(team.notebook_ids(order_by="language",
                                                                      descending=True))]
    assert langs[0] == "python" and langs[-1] == "julia"
    assert [r.title for r in team.notebook_rows(team.notebook_ids(title_contains="AR"))] == [
        "Params"]
    ids, total = team.search_ids("region")
    assert total == 1 and team.show(ids[0]).title == "Params"
    assert team.snippets(ids[0], "region")[0].kind == "code"


def test_a_run_of_an_unreachable_notebook_works_in_a_library_folder(
    team: Library, share: Path, tmp_path: Path
) -> None:
    nb = make_notebook(title="Anywhere", code=["import os\nprint(os.getcwd())"])
    nb.cells[1].outputs = [v4.new_output("stream", text="old\n")]
    write_notebook(share / "anywhere.ipynb", nb)
    team.sync()
    share.rename(tmp_path / "unplugged")
    result = team.run("team:anywhere.ipynb")
    assert result.status == "ok"
    assert str(team.root) in result.record.read_text()


def test_health_run_runs_what_can_run_with_a_time_limit(team: Library, share: Path) -> None:
    write_notebook(share / "slow.ipynb", title="Slow", code=["import time\ntime.sleep(60)"])
    team.sync()
    found = {h.path: h for h in team.health_run(time_limit=3)}
    assert found["good.ipynb"].status == "ok"
    assert found["bad.ipynb"].status == "failing"
    assert found["slow.ipynb"].status == "failing"
    assert "longer than 3 s" in found["slow.ipynb"].last_run["error"]
    assert found["geo.ipynb"].status == "missing-deps" and found["geo.ipynb"].last_run is None
    assert [r.status for r in team.runs("team:slow.ipynb")] == ["timeout"]


def test_a_run_record_renders_like_any_notebook(team: Library) -> None:
    team.run("team:bad.ipynb")
    run_id = team.runs("team:bad.ipynb")[0].id
    page = team.render_run(run_id)
    assert "ZeroDivisionError" in page and "(run " in page


def test_a_catalog_path_that_leads_out_of_its_source_runs_in_a_library_folder(
    team: Library, share: Path, tmp_path: Path
) -> None:
    """However a path with '..' got into a catalog, the kernel's folder stays in bounds."""
    nb = make_notebook(title="Where", code=["import os\nprint(os.getcwd())"])
    write_notebook(share / "where.ipynb", nb)
    team.sync()
    (tmp_path / "outside").mkdir()
    with team.engine.begin() as conn:
        conn.execute(update(Notebook).where(Notebook.relpath == "where.ipynb")
                     .values(relpath="../outside/where.ipynb"))
    result = team.run("team:../outside/where.ipynb")
    assert result.status == "ok"
    printed = result.record.read_text()
    assert str(team.root) in printed and str(tmp_path / "outside") not in printed
    assert result.record.resolve().is_relative_to(team.root.resolve())
