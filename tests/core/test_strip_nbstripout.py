"""Stripping on publish, beside nbstripout (the peer that owns the behaviour, issue 14).

Every case runs nbstripout as its command line does (read with ``NO_CONVERT``,
``strip_output`` with the command line's defaults and its default extra keys,
``nbformat.writes``) and nbshelf's ``prepare`` on the same file, and compares the bytes.
The notebooks stand for those of nbstripout's own tests (``tests/e2e_notebooks/*.ipynb``
and ``tests/test_keep_output_tags*.ipynb`` in its repository), rebuilt here with nbformat's
builders so the tests need nothing but the installed package.

nbshelf's options in nbstripout's terms: ``--keep-id``; ``--keep-output`` when the user keeps
outputs; ``--strip-init-cells`` unless the notebook keeps its outputs. Where nbshelf differs
on purpose, ``DIFFERENCES`` says why and a test below pins the difference down.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbformat import NotebookNode, v4
from nbstripout import MetadataError, strip_output

from nbshelf.publish.share import Prepared, PublishError, prepare

#: The extra keys nbstripout's command line strips by default: the list
#: ``nbstripout._nbstripout.main`` starts from (0.9.1), before git config and --extra-keys.
NBSTRIPOUT_EXTRA_KEYS = [
    "metadata.signature",
    "metadata.widgets",
    "cell.metadata.collapsed",
    "cell.metadata.ExecuteTime",
    "cell.metadata.execution",
    "cell.metadata.heading_collapsed",
    "cell.metadata.hidden",
    "cell.metadata.scrolled",
]

#: Where nbshelf deliberately differs from ``nbstripout`` with its defaults, and why.
DIFFERENCES = {
    "keep-id": "cell ids stay (--keep-id): nbshelf's version diff pairs cells by id, and "
               "sequential ids would pair unrelated cells of two versions",
    "init-cell": "an init cell loses its outputs unless the notebook keeps outputs "
                 "(--strip-init-cells): 'run on load' does not say 'publish my output'; "
                 "safer, and StripReport.stricter names the cell",
    "loose-marking": "only JSON true (or a keep_output item of a tags list) keeps outputs; "
                     "nbstripout takes any truthy value ('yes', 1) and a word in a tags "
                     "string. Safer; StripReport.stricter names the cell or notebook",
    "loose-marking-and-tag": "keep_output: 'yes' with the tag is refused as contradictory; "
                             "nbstripout keeps the outputs. Safer: the author is asked",
    "papermill": "cell metadata 'papermill' (a run's times and status) goes with the other "
                 "timing keys; safer, StripReport.stricter names the cells",
    "empty-output": "every output goes; nbstripout (max_size 0) keeps an output with no "
                    "text at all. Neither is safer; nbshelf's rule is the plain one",
    "nbformat-keys": "a notebook without 'nbformat' is published as nbformat 4 (with its "
                     "minor); nbstripout writes it back without, and nbformat then reads it "
                     "as v1 and cannot open it",
    "old-versions": "nbformat 1-3 notebooks are upgraded to 4, then stripped: the cell "
                    "metadata the upgrade makes (collapsed) goes too, and so do the counts of "
                    "kept outputs (v3 'prompt_number'), as in v4; nbstripout strips an old "
                    "notebook in its own version and misses both",
}


def nbstripout_writes(text: str, *, keep_output: bool | None = None,
                      strip_init_cells: bool = False, keep_id: bool = True) -> str:
    """What nbstripout's command line writes for a notebook file's text (no final newline)."""
    with warnings.catch_warnings():  # as the command line reads and writes
        warnings.simplefilter("ignore", UserWarning)
        nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
        stripped = strip_output(
            nb, keep_output=keep_output, keep_count=False, keep_id=keep_id,
            extra_keys=NBSTRIPOUT_EXTRA_KEYS, drop_empty_cells=False, drop_tagged_cells=[],
            strip_init_cells=strip_init_cells, drop_output_types=set(),
            keep_output_types=set(), max_size=0,
        )
        return str(nbformat.writes(stripped))


def published(text: str, *, keep_outputs: bool = False) -> Prepared:
    return prepare(text.encode("utf-8"), "case.ipynb", keep_outputs=keep_outputs, scheme=[])


def peer_for_nbshelf(nb: NotebookNode, keep_outputs: bool) -> str:
    """nbstripout run with the options that are nbshelf's rules (see the module docstring)."""
    keeps = keep_outputs or nb.metadata.get("keep_output") is True
    return nbstripout_writes(nbformat.writes(nb), keep_output=True if keep_outputs else None,
                             strip_init_cells=not keeps)


# --- the notebooks of nbstripout's tests, rebuilt ---------------------------------------

def _meta(version: str = "3.10.6") -> dict[str, Any]:
    return {"kernelspec": {"display_name": "Python 3", "language": "python",
                           "name": "python3"},
            "language_info": {"name": "python", "version": version}}


def _result(text: str, count: int | None) -> NotebookNode:
    return v4.new_output("execute_result", data={"text/plain": text}, execution_count=count)


def _stream(text: str) -> NotebookNode:
    return v4.new_output("stream", name="stdout", text=text)


def _code(source: str, *outputs: NotebookNode, count: int | None = None,
          **metadata: Any) -> NotebookNode:
    return v4.new_code_cell(source, outputs=list(outputs), execution_count=count,
                            metadata=metadata)


def _legacy(nb: NotebookNode, minor: int) -> NotebookNode:
    """An nbformat 4.0-4.4 notebook (no cell ids), as most of nbstripout's test files are."""
    nb.nbformat_minor = minor
    for cell in nb.cells:
        cell.pop("id", None)
    return nb


def nb_metadata() -> NotebookNode:
    """test_metadata.ipynb: an init cell, a keep_output: true cell, a plain one."""
    nb = v4.new_notebook(metadata={"celltoolbar": "Edit Metadata", **_meta("2.7.11")})
    nb.cells = [
        v4.new_markdown_cell("Cells with keep_output or init_cell are not stripped."),
        _code("1+1", _result("2", 1), count=1, collapsed=False, init_cell=True),
        _code("2+2", _result("4", 2), count=2, collapsed=False, keep_output=True),
        _code("3+3", _result("6", 3), count=3, collapsed=False),
    ]
    return _legacy(nb, 0)


def nb_metadata_notebook() -> NotebookNode:
    """test_metadata_notebook.ipynb: notebook-level keep_output, one cell opting out."""
    nb = v4.new_notebook(metadata={"keep_output": True, **_meta("2.7.11")})
    nb.cells = [
        v4.new_markdown_cell("The notebook keeps outputs; one cell says keep_output false."),
        _code("1+1", _result("2", None)),
        _code("2+2", _result("4", None), keep_output=False),
    ]
    return _legacy(nb, 0)


def nb_strip_init_cells() -> NotebookNode:
    """test_strip_init_cells.ipynb: an init cell, stripped (nbstripout --strip-init-cells)."""
    nb = v4.new_notebook(metadata=_meta("2.7.11"))
    nb.cells = [v4.new_markdown_cell("init cell"),
                _code("1+1", _result("2", 1), count=1, collapsed=False, init_cell=True)]
    return _legacy(nb, 0)


def nb_keep_output_tags() -> NotebookNode:
    """test_keep_output_tags.ipynb: ExecuteTime everywhere, a tag, a metadata marking."""
    timing = {"end_time": "2020-03-15T03:18:30.324432Z",
              "start_time": "2020-03-15T03:18:30.313427Z"}
    nb = v4.new_notebook(metadata=_meta())
    nb.cells = [
        v4.new_markdown_cell("Output is stripped unless the cell is marked."),
        _code("# no_output\nprint('no')", _stream("no\n"), count=1, ExecuteTime=timing),
        _code("# output\nprint('tag')", _stream("tag\n"), count=2, ExecuteTime=timing,
              tags=["keep_output"]),
        _code("# output\nprint('meta')", _stream("meta\n"), count=3, ExecuteTime=timing,
              keep_output=True),
    ]
    return _legacy(nb, 2)


def nb_execution_timing() -> NotebookNode:
    """test_execution_timing.ipynb: JupyterLab's ``execution`` timing metadata."""
    execution = {"iopub.execute_input": "2020-05-28T20:57:07.733742Z",
                 "iopub.status.busy": "2020-05-28T20:57:07.733470Z",
                 "shell.execute_reply": "2020-05-28T20:57:07.788239Z"}
    nb = v4.new_notebook(metadata=_meta("3.7.4"))
    nb.cells = [_code("print('Hello World')", _stream("Hello World\n"), count=1,
                      execution=execution), _code("")]
    return _legacy(nb, 4)


def nb_widgets() -> NotebookNode:
    """test_widgets.ipynb: saved widget state in the notebook's metadata."""
    state = {"state": {"0da880c230634707bab4e9cd1fa24285": {"views": [{"cell_index": 1}]}},
             "version": "1.2.0"}
    nb = v4.new_notebook(metadata={**_meta("3.5.2"), "widgets": state})
    view = v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "0da880c2", "version_major": 2,
                                                     "version_minor": 0},
        "text/plain": "interactive(children=(IntSlider(value=1),))"})
    nb.cells = [_code("from ipywidgets import interact", count=5, collapsed=False),
                _code("@interact(foo=1)\ndef f(foo):\n    print(foo)", view, _stream("1\n"),
                      count=6, collapsed=False)]
    return _legacy(nb, 1)


def nb_drop_empty_cells() -> NotebookNode:
    """test_drop_empty_cells.ipynb, as nbstripout's default (--drop-empty-cells is off)."""
    nb = v4.new_notebook(metadata=_meta())
    nb.cells = [_code("print('kept')", _stream("kept\n"), count=1),
                v4.new_markdown_cell("# kept too"), _code(""), _code("\n \n    "),
                v4.new_markdown_cell("")]
    return _legacy(nb, 4)


def nb_drop_tagged_cells() -> NotebookNode:
    """test_drop_tagged_cells.ipynb, as nbstripout's default (no --drop-tagged-cells)."""
    nb = v4.new_notebook(metadata=_meta())
    nb.cells = [_code("print('x')", _stream("x\n"), count=1),
                v4.new_markdown_cell("text"), _code("a", tags=["test2"]), _code("b", tags=["test"]),
                v4.new_markdown_cell("tagged", metadata={"tags": ["test"]})]
    return _legacy(nb, 4)


def nb_nbformat45() -> NotebookNode:
    """test_nbformat45.ipynb: nbformat 4.5 cell ids, ``scrolled``."""
    nb = v4.new_notebook(metadata=_meta())
    nb.cells = [_code('"This is the new Jupyter notebook"', _result("'new'", 1), count=1),
                _code('"text2"', _result("'text2'", 1), count=1, scrolled=False),
                _code("def f(x):\n    return x+1\n\nprint('f(3) =', f(3))",
                      _stream("f(3) = 4\n"), count=3)]
    for cell, cell_id in zip(nb.cells, ("5c42035d", "886205fa", "a183d4e9"), strict=True):
        cell.id = cell_id
    return nb


def nb_empty_metadata() -> NotebookNode:
    """test_empty_metadata.ipynb: a notebook with empty metadata."""
    nb = v4.new_notebook(metadata={})
    nb.cells = [v4.new_markdown_cell("This notebook is missing metadata.kernelspec.",
                                     id="5c42035d")]
    return nb


def nb_unicode() -> NotebookNode:
    """test_unicode.ipynb: text outside ASCII, written as it is."""
    nb = v4.new_notebook(metadata=_meta())
    nb.cells = [_code('print("äöü")', _stream("äöü\n"), count=5, collapsed=False),
                v4.new_markdown_cell("Ünïcödé ✓ 中文")]
    return _legacy(nb, 0)


def nb_view_and_counts() -> NotebookNode:
    """What issue 14 found: kept cells' counts, collapsed/scrolled/hidden, a raw cell,
    attachments, a trusted flag (nbformat's writer drops it)."""
    nb = v4.new_notebook(metadata=_meta())
    nb.cells = [
        v4.new_markdown_cell("## Part", metadata={"heading_collapsed": True},
                             attachments={"a.png": {"image/png": "iVBORw0KGgo="}}),
        _code("x", _result("1", 7), _stream("a\nb\n"), count=7, tags=["keep_output"],
              scrolled=True, hidden=True, trusted=True),
        _code("y", v4.new_output("error", ename="E", evalue="bad", traceback=["tb"]), count=8,
              collapsed=True, keep_output=False),
        v4.new_raw_cell("raw", metadata={"format": "text/plain"}),
    ]
    return nb


def nb_init_cell_contradiction() -> NotebookNode:
    """An init cell marked both ways: the init_cell marking decides, nothing is refused."""
    nb = v4.new_notebook(metadata=_meta())
    nb.cells = [_code("x", _stream("x\n"), count=1, init_cell=True, keep_output=False,
                      tags=["keep_output"])]
    return nb


def nb_mixed_outputs() -> NotebookNode:
    """Every output type, in a kept cell and a stripped one, with svg and json bundles."""
    bundle = {"image/svg+xml": "<svg>\n</svg>\n", "application/json": {"a": [1, 2]},
              "text/html": "<b>\nhi</b>", "application/javascript": "x;\ny;"}
    outputs = [_result("2", 3), v4.new_output("display_data", data=bundle),
               _stream("out\n"), v4.new_output("stream", name="stderr", text="err\n"),
               v4.new_output("error", ename="KeyError", evalue="'k'", traceback=["a", "b"])]
    nb = v4.new_notebook(metadata=_meta())
    nb.cells = [_code("a", *outputs, count=3, keep_output=True),
                _code("b", *outputs, count=4)]
    return nb


AGREED: list[tuple[str, Callable[[], NotebookNode], bool]] = [
    ("test_metadata", nb_metadata, False),
    ("test_metadata --keep-output", nb_metadata, True),
    ("test_metadata_notebook", nb_metadata_notebook, False),
    ("test_metadata_notebook --keep-output", nb_metadata_notebook, True),
    ("test_strip_init_cells", nb_strip_init_cells, False),
    ("test_keep_output_tags", nb_keep_output_tags, False),
    ("test_execution_timing", nb_execution_timing, False),
    ("test_widgets", nb_widgets, False),
    ("test_widgets --keep-output", nb_widgets, True),
    ("test_drop_empty_cells (dontdrop)", nb_drop_empty_cells, False),
    ("test_drop_tagged_cells (dontdrop)", nb_drop_tagged_cells, False),
    ("test_nbformat45 --keep-id", nb_nbformat45, False),
    ("test_empty_metadata --keep-id", nb_empty_metadata, False),
    ("test_unicode", nb_unicode, False),
    ("issue 14: counts, view state, signature", nb_view_and_counts, False),
    ("issue 14: counts, view state --keep-output", nb_view_and_counts, True),
    ("init cell marked both ways", nb_init_cell_contradiction, False),
    ("every output type", nb_mixed_outputs, False),
    ("every output type --keep-output", nb_mixed_outputs, True),
]


@pytest.mark.parametrize(("build", "keep_outputs"), [(b, k) for _, b, k in AGREED],
                         ids=[name for name, _, _ in AGREED])
def test_publish_writes_what_nbstripout_writes(build: Callable[[], NotebookNode],
                                               keep_outputs: bool) -> None:
    nb = build()
    ours = published(nbformat.writes(nb), keep_outputs=keep_outputs)
    assert ours.data.decode("utf-8") == peer_for_nbshelf(nb, keep_outputs)


def test_the_report_says_what_went_and_what_stayed() -> None:
    raw = json.loads(nbformat.writes(nb_view_and_counts()))
    raw["metadata"]["signature"] = "sha256:abc"  # nbformat's writer drops it; old files have it
    report = published(json.dumps(raw)).stripped
    assert (report.outputs, report.cells_with_outputs, report.kept_cells) == (1, [2], [1])
    assert (report.execution_counts, report.view_state, report.signature) == (2, 3, True)
    assert report.describe() == (
        "removes 1 outputs from 1 cells, 2 execution counts, the collapsed/scrolled state of "
        "3 cells, the notebook's trust signature; keeps the outputs of cell 2")
    kept = published(nbformat.writes(nb_metadata_notebook())).stripped
    assert kept.kept_by_default and kept.describe().endswith(
        "keeps the outputs of cell 2 (outputs are kept unless a cell says keep_output: false)")


# --- refused, as nbstripout refuses ------------------------------------------------------

@pytest.mark.parametrize("at", [0, 2])
def test_a_cell_marked_both_ways_is_refused_naming_it(at: int) -> None:
    """test_metadata_exception.ipynb, and the same cell third in a notebook."""
    nb = v4.new_notebook(metadata=_meta())
    nb.cells = [v4.new_markdown_cell("m"), _code("print(1)", _stream("1\n"), count=1)]
    nb.cells.insert(at, _code("print('both')", _stream("both\n"), count=1, keep_output=False,
                              tags=["keep_output"]))
    text = nbformat.writes(nb)
    with pytest.raises(MetadataError, match="contradicts"):
        nbstripout_writes(text)
    for keep_outputs in (False, True):
        with pytest.raises(PublishError, match=rf"^case.ipynb cannot be published: cell "
                                               rf"{at + 1} is marked both ways: its metadata "
                                               "says keep_output: false but its tags"):
            published(text, keep_outputs=keep_outputs)


# --- where nbshelf differs, on purpose (DIFFERENCES) ---------------------------------------

def test_difference_keep_id() -> None:
    text = nbformat.writes(nb_nbformat45())
    assert [c["id"] for c in json.loads(nbstripout_writes(text, keep_id=False))["cells"]] == [
        "0", "1", "2"]
    assert [c["id"] for c in json.loads(published(text).data)["cells"]] == [
        "5c42035d", "886205fa", "a183d4e9"]


def test_difference_init_cell() -> None:
    nb = nb_metadata()
    ours = published(nbformat.writes(nb))
    cli_default = json.loads(nbstripout_writes(nbformat.writes(nb)))
    assert cli_default["cells"][1]["outputs"]  # nbstripout keeps the init cell's output
    assert json.loads(ours.data)["cells"][1]["outputs"] == []
    assert ours.stripped.stricter == ["cell 2 is an init cell: its outputs are removed"]
    assert "stricter than nbstripout: cell 2 is an init cell" in ours.stripped.describe()


def _one_cell_file(output: dict[str, Any], cell_meta: dict[str, Any],
                   nb_meta: dict[str, Any] | None = None) -> str:
    """A file with one code cell, written by hand: nbformat's builders refuse odd values."""
    nb = {"cells": [{"cell_type": "code", "execution_count": 1, "id": "c1", "metadata": cell_meta,
                     "outputs": [output], "source": "x"}],
          "metadata": {**_meta(), **(nb_meta or {})}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb)


@pytest.mark.parametrize(("cell_meta", "nb_meta", "why"), [
    ({"keep_output": "yes"}, {}, 'cell 1 has keep_output: "yes", not true'),
    ({"keep_output": 1}, {}, "cell 1 has keep_output: 1, not true"),
    ({"tags": "keep_output"}, {}, "cell 1 has its tags as a string, not a list"),
    ({"init_cell": "yes"}, {"keep_output": True}, 'cell 1 has init_cell: "yes", not true'),
    ({}, {"keep_output": 1}, "the notebook has keep_output: 1, not true"),
])
def test_difference_loose_marking(cell_meta: dict[str, Any], nb_meta: dict[str, Any],
                                  why: str) -> None:
    text = _one_cell_file(_stream("x\n"), cell_meta, nb_meta)
    assert json.loads(nbstripout_writes(text))["cells"][0]["outputs"]
    ours = published(text)
    assert json.loads(ours.data)["cells"][0]["outputs"] == []
    assert ours.stripped.stricter[0].startswith(why)


def test_difference_loose_marking_and_tag() -> None:
    text = _one_cell_file(_stream("x\n"), {"keep_output": "yes", "tags": ["keep_output"]})
    assert json.loads(nbstripout_writes(text))["cells"][0]["outputs"]
    with pytest.raises(PublishError, match='cell 1 is marked both ways: its metadata says '
                                           'keep_output: "yes"'):
        published(text)


def test_difference_papermill() -> None:
    nb = v4.new_notebook(metadata=_meta())
    run = {"duration": 0.5, "end_time": "2026-01-01T00:00:01", "exception": False,
           "start_time": "2026-01-01T00:00:00", "status": "completed"}
    nb.cells = [_code("x", _stream("x\n"), count=1, papermill=run, tags=["parameters"])]
    text = nbformat.writes(nb)
    assert "papermill" in json.loads(nbstripout_writes(text))["cells"][0]["metadata"]
    ours = published(text)
    assert json.loads(ours.data)["cells"][0]["metadata"] == {"tags": ["parameters"]}
    assert ours.stripped.timing == 1
    assert ours.stripped.stricter == ["cell 1's papermill run metadata is removed"]


def test_difference_empty_output() -> None:
    text = _one_cell_file({"output_type": "", "metadata": {}}, {})
    assert json.loads(nbstripout_writes(text))["cells"][0]["outputs"] == [
        {"output_type": "", "metadata": {}}]
    assert json.loads(published(text).data)["cells"][0]["outputs"] == []


def test_difference_nbformat_keys_the_issue_14_crash() -> None:
    """test_missing_nbformat.ipynb: published before as ``internal error (UnboundLocalError)``."""
    nb = {"cells": [{"cell_type": "markdown", "id": "5c42035d", "metadata": {},
                     "source": ["This notebook is missing `nbformat` and `nbformat_minor`."]},
                    {"cell_type": "code", "id": "b", "metadata": {"collapsed": False},
                     "execution_count": 2, "source": ["1+1"],
                     "outputs": [{"output_type": "execute_result", "execution_count": 2,
                                  "data": {"text/plain": ["2"]}, "metadata": {}}]}],
          "metadata": _meta()}
    text = json.dumps(nb)
    peer = json.loads(nbstripout_writes(text))
    assert "nbformat" not in peer
    ours = published(text)
    assert json.loads(ours.data) == {**peer, "nbformat": 4, "nbformat_minor": 5}
    assert nbformat.reads(ours.data.decode(), as_version=4).cells[0].source.startswith("This")
    assert (ours.stripped.outputs, ours.stripped.execution_counts) == (1, 1)


def _v2_notebook() -> dict[str, Any]:
    """test_nbformat2.ipynb: nbformat 2, worksheets, ``input`` lines, ``prompt_number``."""
    def cell(lines: list[str], n: int, output: dict[str, Any]) -> dict[str, Any]:
        return {"cell_type": "code", "collapsed": False, "input": lines, "language": "python",
                "outputs": [output], "prompt_number": n}

    return {"metadata": {"name": "01_notebook_introduction"}, "nbformat": 2, "worksheets": [{
        "cells": [
            cell(['"This is the new Jupyter notebook"'], 1,
                 {"output_type": "pyout", "prompt_number": 1, "text": ["'This is new'"]}),
            cell(["ls"], 2, {"output_type": "stream", "stream": "stdout",
                             "text": ["a.ipynb  b.ipynb", "c.ipynb"]}),
            cell(["def f(x):", "    return x+1", "", 'print "f(3) = ", f(3)'], 3,
                 {"output_type": "stream", "stream": "stdout", "text": ["f(3) =  4"]}),
        ]}]}


def _v3_notebook() -> dict[str, Any]:
    """An nbformat 3 notebook: a heading cell, a kept cell, a collapsed one."""
    return {"metadata": {"name": "", "signature": "sha256:1"}, "nbformat": 3,
            "nbformat_minor": 0, "worksheets": [{"metadata": {}, "cells": [
                {"cell_type": "heading", "level": 1, "metadata": {}, "source": "Title"},
                {"cell_type": "code", "collapsed": True, "input": "1+1", "language": "python",
                 "metadata": {"keep_output": True}, "prompt_number": 1,
                 "outputs": [{"output_type": "pyout", "prompt_number": 1, "metadata": {},
                              "text": "2"}]},
                {"cell_type": "code", "collapsed": False, "input": "print(3)",
                 "language": "python", "metadata": {}, "prompt_number": 2,
                 "outputs": [{"output_type": "stream", "stream": "stdout", "text": "3\n"}]},
            ]}]}


def _without_ids(nb: dict[str, Any]) -> dict[str, Any]:
    """The upgrade gives v3 cells random ids."""
    return {**nb, "cells": [{k: v for k, v in c.items() if k != "id"} for c in nb["cells"]]}


@pytest.mark.parametrize("build", [_v2_notebook, _v3_notebook])
def test_difference_old_versions(build: Callable[[], dict[str, Any]]) -> None:
    text = json.dumps(build())
    upgraded_peer = json.loads(nbformat.writes(
        nbformat.reads(nbstripout_writes(text), as_version=4)))
    for cell in upgraded_peer["cells"]:
        cell["metadata"].pop("collapsed", None)  # moved into cell metadata by the upgrade
        for output in cell.get("outputs", []):  # v3 "prompt_number", which nbstripout keeps
            output["execution_count"] = None
    ours = json.loads(published(text).data)
    assert _without_ids(ours) == _without_ids(upgraded_peer)
    assert ours["nbformat"] == 4 and all(c["id"] for c in ours["cells"])


# --- random markings: nbshelf agrees with nbstripout on every combination ------------------

_MARK = st.sampled_from([None, True, False])  # None: no such key


@st.composite
def marked_notebooks(draw: st.DrawFn) -> tuple[NotebookNode, bool]:
    nb = v4.new_notebook(metadata=_meta())
    if (level := draw(_MARK)) is not None:
        nb.metadata["keep_output"] = level
    if draw(st.booleans()):
        nb.metadata["widgets"] = {"state": {}}
    for n in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["code", "code", "markdown", "raw"]))
        meta: dict[str, Any] = {}
        for key in ("keep_output", "init_cell", "collapsed", "scrolled"):
            if (value := draw(_MARK)) is not None:
                meta[key] = value
        tags = draw(st.sampled_from([None, [], ["keep_output"], ["x", "keep_output"], ["x"]]))
        if tags is not None:
            meta["tags"] = tags
        if draw(st.booleans()):
            meta["ExecuteTime"] = {"start_time": "2026-01-01T00:00:00"}
        if kind != "code":
            nb.cells.append(v4.new_markdown_cell(f"m{n}", metadata=meta) if kind == "markdown"
                            else v4.new_raw_cell(f"r{n}", metadata=meta))
            continue
        count = draw(st.sampled_from([None, n + 1]))
        outputs = draw(st.lists(st.sampled_from(["result", "stream", "error"]), max_size=3))
        made = [_result(str(n), count) if o == "result" else _stream(f"{n}\n") if o == "stream"
                else v4.new_output("error", ename="E", evalue="", traceback=[])
                for o in outputs]
        nb.cells.append(_code(f"c{n}", *made, count=count, **meta))
    return nb, draw(st.booleans())


@settings(max_examples=150, deadline=None)
@given(marked_notebooks())
def test_random_markings_agree_with_nbstripout(case: tuple[NotebookNode, bool]) -> None:
    nb, keep_outputs = case
    try:
        expected = peer_for_nbshelf(nb, keep_outputs)
    except MetadataError:
        with pytest.raises(PublishError, match="is marked both ways"):
            published(nbformat.writes(nb), keep_outputs=keep_outputs)
        return
    assert published(nbformat.writes(nb), keep_outputs=keep_outputs).data.decode() == expected


# --- any shape: publish returns or refuses, never crashes --------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 6) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=6,
)


def _mostly(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``usual`` seven times in eight, ``odd`` (any JSON, say) the eighth."""
    return st.integers(0, 7).flatmap(lambda n: odd if n == 0 else usual)


_LINES = st.text(max_size=12) | st.lists(st.text(max_size=8), max_size=3)
_OUTPUT = st.fixed_dictionaries({}, optional={
    "output_type": st.sampled_from(["stream", "execute_result", "display_data", "error",
                                    "pyout", "pyerr", ""]) | _JSON,
    "text": _LINES | _JSON, "name": st.sampled_from(["stdout", "stderr"]) | _JSON,
    "data": st.dictionaries(st.sampled_from(["text/plain", "image/svg+xml", "image/png",
                                             "application/json"]), _LINES | _JSON) | _JSON,
    "execution_count": _JSON, "prompt_number": _JSON, "metadata": _JSON, "stream": _JSON,
    "png": _JSON, "traceback": _JSON,
}) | _JSON
_CELL_META = st.fixed_dictionaries({}, optional={
    "keep_output": _JSON, "init_cell": _JSON, "trusted": _JSON, "collapsed": _JSON,
    "tags": st.lists(st.sampled_from(["keep_output", "x"]), max_size=2) | _JSON,
    "ExecuteTime": _JSON, "papermill": _JSON,
}) | _JSON
_CELL = st.fixed_dictionaries({}, optional={
    "cell_type": st.sampled_from(["code", "markdown", "raw", "heading", "html"]) | _JSON,
    "source": _LINES | _JSON, "input": _LINES | _JSON, "outputs": st.lists(_OUTPUT,
                                                                          max_size=3) | _JSON,
    "execution_count": _JSON, "prompt_number": _JSON, "metadata": _CELL_META, "id": _JSON,
    "attachments": st.dictionaries(st.text(max_size=4), _OUTPUT, max_size=2) | _JSON,
    "level": _JSON, "collapsed": _JSON, "language": _JSON,
})
_CELLS = st.lists(_mostly(_CELL, _JSON), max_size=4)
_SHAPED = st.fixed_dictionaries({}, optional={
    "nbformat": _mostly(st.sampled_from([1, 2, 3, 4, 4, 4, 5, 0]), _JSON),
    "nbformat_minor": st.integers(-1, 6) | _JSON,
    "metadata": st.fixed_dictionaries({}, optional={
        "keep_output": _JSON, "widgets": _JSON, "signature": _JSON, "orig_nbformat": _JSON,
        "nbshelf": _JSON, "kernelspec": _JSON}) | _JSON,
    "cells": _mostly(_CELLS, _JSON),
    "worksheets": st.lists(st.fixed_dictionaries({}, optional={"cells": _CELLS | _JSON,
                                                                "metadata": _JSON}) | _JSON,
                           max_size=2) | _JSON,
})
#: Notebook-like objects mostly, and now and then any JSON at all.
_NOTEBOOK = _mostly(_SHAPED, _JSON)


@pytest.mark.parametrize("raw", [
    {"nbformat": 2, "cells": 2},
    {"nbformat": 4, "worksheets": True},
    {"nbformat": 4, "worksheets": [{"cells": 4}]},
])
def test_shapes_the_reader_once_failed_on_are_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(PublishError):
        prepare(json.dumps(raw).encode(), "any.ipynb", keep_outputs=False, scheme=[])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_NOTEBOOK, st.booleans())
def test_any_notebook_shape_publishes_or_is_refused(raw: object, keep_outputs: bool) -> None:
    data = json.dumps(raw).encode()
    try:
        ready = prepare(data, "any.ipynb", keep_outputs=keep_outputs, scheme=["SECRET"])
    except PublishError as err:
        assert str(err).startswith("any.ipynb cannot be published: ")
        return
    out = json.loads(ready.data)
    assert (out["nbformat"], type(out["nbformat_minor"])) == (4, int)
    for index, cell in enumerate(out["cells"]):  # no output leaves unless its cell keeps it
        if cell.get("outputs") and index not in ready.stripped.kept_cells:
            pytest.fail(f"cell {index} was published with its outputs: {cell}")
