"""Diffing versions of a notebook, with nbdime beside nbshelf as the oracle.

nbdime owns notebook diffing: on its own test notebooks, on generated pairs and on large
notebooks of the corpus nbshelf must pair the cells as ``nbdime.diff_notebooks`` does and find
the same cells added, removed and modified, with the same parts changed.
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import json
import os
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbformat import v4

from nbshelf.library import Library
from nbshelf.notebook.diff import PARTS, diff_notebooks, read_for_diff
from tests.helpers import run_cli

nbdime = pytest.importorskip("nbdime", reason="nbdime, the oracle, is in the test extra")

Change = tuple[str, int | None, int | None, tuple[str, ...]]

#: nbdime's own test notebooks, in the installed package.
NBDIME_FILES = Path(importlib.util.find_spec("nbdime").origin or "").parent / "tests" / "files"

#: Pairs where nbshelf differs from nbdime on purpose, with the reason.
KNOWN_DIFFERENCES = {
    ("attachment--empty_attachments_list.ipynb", "attachment--remove_attachment.ipynb"):
        "an empty attachments object and none are the same to nbshelf (nothing a reader sees "
        "changed); nbdime reports the 'attachments' key added or removed",
    ("attachment--remove_attachment.ipynb", "attachment--empty_attachments_list.ipynb"):
        "the same pair the other way round",
}


# -- the oracle --------------------------------------------------------------------------------


def nbdime_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """nbdime's cell diff as (kind, old index, new index, parts changed)."""
    from nbdime import diff_notebooks as nbdime_diff

    diff = nbdime_diff(nbformat.from_dict(old), nbformat.from_dict(new))
    cells = next((e["diff"] for e in diff if e["key"] == "cells"), [])
    changes: list[Change] = []
    i = j = 0
    for entry in cells:  # ops on the old list, by key; unmentioned cells pair unchanged
        skip = max(0, entry["key"] - i)
        i, j = i + skip, j + skip
        if entry["op"] == "addrange":
            changes += [("added", None, j + k, ()) for k in range(len(entry["valuelist"]))]
            j += len(entry["valuelist"])
        elif entry["op"] == "removerange":
            changes += [("removed", i + k, None, ()) for k in range(entry["length"])]
            i += entry["length"]
        else:
            changes.append(("modified", i, j, _parts(entry["diff"])))
            i, j = i + 1, j + 1
    return sorted(changes, key=str)


def _parts(cell_diff: list[dict[str, Any]]) -> tuple[str, ...]:
    """What an nbdime cell patch changes, filed as nbshelf files it (nbdime's ignore targets:
    output metadata is metadata, execution counts are details, ids count as metadata)."""
    parts = set()
    for entry in cell_diff:
        if entry["key"] == "outputs" and entry["op"] == "patch":
            for out in entry["diff"]:
                if out["op"] != "patch":
                    parts.add("outputs")
                parts |= {e["key"] if e["key"] in ("metadata", "execution_count") else "outputs"
                          for e in out.get("diff", [])}
        else:
            parts.add(entry["key"] if entry["key"] in PARTS else "metadata")
    return tuple(sorted(parts))


def nbshelf_changes(old: dict[str, Any], new: dict[str, Any], **flags: bool) -> list[Change]:
    return sorted(((c.kind, c.old_index, c.new_index, tuple(sorted(c.changed)))
                   for c in diff_notebooks(old, new, **flags)), key=str)


def only(changes: Iterable[Change], wanted: set[str]) -> list[Change]:
    """nbdime's changes with what nbshelf leaves out unless asked left out."""
    kept = []
    for kind, i, j, parts in changes:
        parts = tuple(p for p in parts if p in wanted)
        if kind != "modified" or parts:
            kept.append((kind, i, j, parts))
    return kept


def agrees(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Same cells added, removed and modified, with everything compared and by default."""
    want = nbdime_changes(old, new)
    every = nbshelf_changes(old, new, outputs=True, metadata=True, execution_count=True)
    default = nbshelf_changes(old, new)
    return every == want and default == only(want, {"cell_type", "source", "attachments"})


def nbdime_pairs() -> list[tuple[Path, Path]]:
    """Every ordered pair of nbdime's test notebooks that are versions of one notebook
    (``X.ipynb``, ``X--1.ipynb``, ``X--local.ipynb``...; ``multilevel-test-*``)."""
    groups: dict[str, list[Path]] = {}
    for path in sorted(NBDIME_FILES.glob("*.ipynb")):
        group = path.stem.split("--")[0]
        groups.setdefault("multilevel-test" if group.startswith("multilevel-test") else group,
                          []).append(path)
    return [pair for files in groups.values() for pair in itertools.permutations(files, 2)]


def test_nbshelf_pairs_cells_as_nbdime_does_on_nbdimes_test_notebooks() -> None:
    if not NBDIME_FILES.is_dir():
        pytest.skip(f"nbdime's test notebooks are not installed ({NBDIME_FILES})")
    pairs = nbdime_pairs()
    assert len(pairs) >= 100
    differed = []
    for old, new in pairs:
        # Both read as nbshelf reads a version, so both get the same input: nbformat.read
        # would make up an id for the cell of cellids--base.ipynb that has none.
        if not agrees(read_for_diff(old.read_bytes()), read_for_diff(new.read_bytes())):
            differed.append((old.name, new.name))
    assert set(differed) <= set(KNOWN_DIFFERENCES), differed
    assert len(pairs) - len(differed) >= 0.95 * len(pairs)


# -- generated pairs: edits, moves, copies, new ids, new outputs ---------------------------------

LINES = ["x = 1", "y = 2", "print(x)", "import numpy as np", "df.head()", "z",
         "for i in range(10):", "    total += i", "# Results", "plot(a, b)"]
source = st.lists(st.sampled_from(LINES), max_size=4).map("\n".join)
output = st.one_of(
    st.builds(lambda text: v4.new_output("stream", name="stdout", text=text),
              st.sampled_from(["1\n", "hello world\n", "result: 42 and some more\n"])),
    st.builds(lambda text, n: v4.new_output("execute_result", data={"text/plain": text},
                                            execution_count=n),
              st.sampled_from(["1", "array([1, 2, 3])", "<Foo at 0x7f0012345678>",
                               "<Foo at 0x7f0087654321>", "a longer text output line"]),
              st.integers(1, 3)),
    st.builds(lambda last: v4.new_output("error", ename="E", evalue="v",
                                         traceback=["Traceback line", last]),
              st.sampled_from(["in f()", "in g()"])),
)


@st.composite
def cells(draw: st.DrawFn, with_ids: bool) -> dict[str, Any]:
    if draw(st.booleans()):
        cell = v4.new_code_cell(draw(source), outputs=draw(st.lists(output, max_size=2)),
                                execution_count=draw(st.integers(1, 5)))
    else:
        cell = v4.new_markdown_cell(draw(source))
    cell.id = draw(st.sampled_from(["a", "b", "c", "d", "e", "f"]))
    if not with_ids:
        del cell["id"]
    return cell


@st.composite
def versions(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    with_ids = draw(st.booleans())
    old = draw(st.lists(cells(with_ids), max_size=7))
    new = copy.deepcopy(old)
    for _ in range(draw(st.integers(0, 4))):
        edit = draw(st.sampled_from(["remove", "insert", "edit", "copy", "swap", "outputs",
                                     "id", "metadata"]))
        if not new and edit != "insert":
            continue
        at = draw(st.integers(0, len(new) - 1)) if new else 0
        if edit == "remove":
            del new[at]
        elif edit == "insert":
            new.insert(at, draw(cells(with_ids)))
        elif edit == "edit":
            new[at]["source"] += draw(st.sampled_from(["", "!", "\nq", "\nprint(y)"]))
        elif edit == "copy":
            new.insert(draw(st.integers(0, len(new))), copy.deepcopy(new[at]))
        elif edit == "swap":
            other = draw(st.integers(0, len(new) - 1))
            new[at], new[other] = new[other], new[at]
        elif edit == "outputs" and new[at]["cell_type"] == "code":
            new[at]["outputs"] = draw(st.lists(output, max_size=2))
            new[at]["execution_count"] = draw(st.integers(1, 5))
        elif edit == "id" and with_ids:
            new[at]["id"] = draw(st.sampled_from(["a", "new1", "new2"]))
        elif edit == "metadata":
            new[at]["metadata"] = {"tags": ["t"]}
    return {"cells": old, "metadata": {}}, {"cells": new, "metadata": {}}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(versions())
def test_generated_versions_pair_as_with_nbdime(pair: tuple[dict[str, Any], dict[str, Any]]) -> (
        None):
    old, new = pair
    assert nbshelf_changes(old, new, outputs=True, metadata=True, execution_count=True) == (
        nbdime_changes(old, new))


@pytest.mark.corpus
@pytest.mark.slow
def test_large_corpus_notebooks_edited_and_rerun_diff_as_with_nbdime(corpus: Path) -> None:
    for name in ["rasbt-python-machine-learning-book-3rd-edition/ch03/ch03.ipynb",
                 "donnemartin-data-science-ipython-notebooks/pandas/pandas.ipynb"]:
        old = read_for_diff((corpus / name).read_bytes())
        edited = copy.deepcopy(old)
        for cell in random.Random(1).sample(edited["cells"], 10):
            cell["source"] += "\n# edited"
        del edited["cells"][5]
        edited["cells"].insert(20, v4.new_markdown_cell("# New"))
        rerun = copy.deepcopy(old)
        for cell in rerun["cells"]:
            if cell["cell_type"] == "code":
                cell["execution_count"] = (cell.get("execution_count") or 0) + 100
                for out in cell["outputs"]:
                    if "text" in out:
                        out["text"] = "again " + out["text"]
        for new in (edited, rerun):
            assert agrees(old, new), name


# -- notebooks built here ----------------------------------------------------------------------


def v40(*cells: dict[str, Any]) -> dict[str, Any]:
    """An nbformat 4.0 notebook as a file holds it: no cell ids."""
    nb = v4.new_notebook(cells=[copy.deepcopy(c) for c in cells])
    nb.nbformat_minor = 0
    for cell in nb.cells:
        del cell["id"]
    return json.loads(json.dumps(nb))


def code(text: str, *outputs: Any, n: int | None = None) -> dict[str, Any]:
    return v4.new_code_cell(text, outputs=list(outputs), execution_count=n)


def as_bytes(nb: dict[str, Any]) -> bytes:
    return json.dumps(nb).encode()


def test_a_v40_notebook_with_one_cell_edited_has_exactly_one_modified_cell() -> None:
    cells = [v4.new_markdown_cell("# Sales"), code("import pandas as pd", n=1),
             code("df = pd.read_csv('sales.csv')", n=2), code("df.describe()", n=3)]
    old = read_for_diff(as_bytes(v40(*cells)))
    cells[2].source = "df = pd.read_csv('sales-2026.csv')"
    new = read_for_diff(as_bytes(v40(*cells)))
    assert all("id" not in c for c in old["cells"])  # none made up: they would not match
    changes = diff_notebooks(old, new, outputs=True, metadata=True, execution_count=True)
    assert [(c.kind, c.old_index, c.new_index, c.changed) for c in changes] == [
        ("modified", 2, 2, ("source",))]
    assert changes[0].source_diff == ["@@ -1 +1 @@", "-df = pd.read_csv('sales.csv')",
                                      "+df = pd.read_csv('sales-2026.csv')"]
    assert agrees(old, new)


def test_a_cell_whose_id_changed_but_text_is_close_is_modified() -> None:
    old = v4.new_notebook(cells=[code("total = sum(values)"), code("print(total)")])
    new = copy.deepcopy(old)
    new.cells[1].id = "a-new-id"
    new.cells[1].source = "print(total, 'units')"
    changes = diff_notebooks(old, new)
    assert [(c.kind, c.old_index, c.new_index, c.changed) for c in changes] == [
        ("modified", 1, 1, ("source",))]
    with_ids = diff_notebooks(old, new, metadata=True)
    assert with_ids[0].changed == ("source", "metadata")  # the id, reported with metadata
    assert agrees(old, new)


def test_an_attachment_changed_is_a_modified_cell() -> None:
    cell = v4.new_markdown_cell("![chart](attachment:chart.png)",
                                attachments={"chart.png": {"image/png": "iVBORw0KGgo="}})
    old = v40(cell)
    new = copy.deepcopy(old)
    new["cells"][0]["attachments"]["chart.png"]["image/png"] = "iVBORw0KGgoAAAA="
    changes = diff_notebooks(old, new)
    assert [(c.kind, c.changed, c.source_diff) for c in changes] == [
        ("modified", ("attachments",), [])]
    assert changes[0].to_json()["changed"] == ["attachments"]
    assert agrees(old, new)


def test_execution_counts_are_reported_only_when_asked() -> None:
    result = v4.new_output("execute_result", data={"text/plain": "3"}, execution_count=1)
    old = v40(code("1 + 2", result, n=1))
    new = copy.deepcopy(old)
    new["cells"][0]["execution_count"] = 7
    new["cells"][0]["outputs"][0]["execution_count"] = 7
    assert diff_notebooks(old, new, outputs=True) == []
    changes = diff_notebooks(old, new, outputs=True, execution_count=True)
    assert [(c.kind, c.changed) for c in changes] == [("modified", ("execution_count",))]
    assert agrees(old, new)


def test_metadata_noise_is_nothing_unless_metadata_is_asked_for() -> None:
    old = v40(code("plot()", v4.new_output("display_data", data={"text/plain": "<Figure>"}),
                   n=1), v4.new_markdown_cell("Notes"))
    new = copy.deepcopy(old)
    new["metadata"]["widgets"] = {"state": {}}
    new["cells"][0]["metadata"].update(collapsed=True, scrolled=True,
                                       ExecuteTime={"end_time": "2026-01-01"})
    new["cells"][0]["outputs"][0]["metadata"] = {"needs_background": "light"}
    new["cells"][1]["metadata"]["trusted"] = True  # dropped on reading, as nbformat does
    noisy = read_for_diff(as_bytes(new))
    assert diff_notebooks(old, noisy, outputs=True, execution_count=True) == []
    changes = diff_notebooks(old, noisy, metadata=True)
    assert [(c.kind, c.old_index, c.changed) for c in changes] == [("modified", 0, ("metadata",))]
    assert agrees(old, noisy)


def test_added_and_removed_cells_and_the_json_form() -> None:
    old = v40(v4.new_markdown_cell("# Title"), code("a = 1"), code("b = 2"))
    new = v40(v4.new_markdown_cell("# Title"), code("b = 2"), v4.new_markdown_cell("## End"))
    changes = [c.to_json() for c in diff_notebooks(old, new)]
    assert changes == [
        {"kind": "removed", "cell_type": "code", "old_cell": 2, "new_cell": None,
         "changed": [], "source_diff": "@@ -1 +0,0 @@\n-a = 1"},
        {"kind": "added", "cell_type": "markdown", "old_cell": None, "new_cell": 3,
         "changed": [], "source_diff": "@@ -0,0 +1 @@\n+## End"},
    ]
    assert agrees(old, new)


def test_an_upgraded_v3_notebook_gets_no_made_up_ids() -> None:
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "old"}, "worksheets": [
        {"cells": [{"cell_type": "code", "input": "x = 1", "language": "python",
                    "outputs": [], "metadata": {}}], "metadata": {}}]}
    nb = read_for_diff(as_bytes(v3))
    assert [(c["cell_type"], c["source"], "id" in c) for c in nb["cells"]] == [
        ("code", "x = 1", False)]
    assert diff_notebooks(nb, read_for_diff(as_bytes(v3)), metadata=True) == []


def test_library_and_command_line_diff_a_notebook_without_ids(library: Library, share: Path,
                                                              library_dir: Path) -> None:
    path = share / "sales.ipynb"
    cells = [v4.new_markdown_cell("# Sales"), code("import pandas as pd"),
             code("df = pd.read_csv('sales.csv')"), code("df.describe()")]
    path.write_bytes(as_bytes(v40(*cells)))
    library.add_source(share, name="share")
    library.sync()
    cells[2].source = "df = pd.read_csv('sales-2026.csv')"
    cells.append(v4.new_markdown_cell("## Notes"))
    path.write_bytes(as_bytes(v40(*cells)))
    os.utime(path, ns=(1, 5_000_000_000_000_000_000))
    library.sync()
    assert [(c.kind, c.old_index, c.new_index) for c in library.diff("share:sales.ipynb")] == [
        ("modified", 2, 2), ("added", None, 4)]
    library.close()

    result = run_cli(library_dir, "diff", "share:sales.ipynb", "1", "2", "--json")
    assert result.code == 0, result.stderr
    assert result.json["changes"] == [
        {"kind": "modified", "cell_type": "code", "old_cell": 3, "new_cell": 3,
         "changed": ["source"], "source_diff": "@@ -1 +1 @@\n-df = pd.read_csv('sales.csv')\n"
                                               "+df = pd.read_csv('sales-2026.csv')"},
        {"kind": "added", "cell_type": "markdown", "old_cell": None, "new_cell": 5,
         "changed": [], "source_diff": "@@ -0,0 +1 @@\n+## Notes"},
    ]
    human = run_cli(library_dir, "diff", "share:sales.ipynb")
    assert human.stdout.splitlines() == [
        "modified code cell 3: source", "    @@ -1 +1 @@", "    -df = pd.read_csv('sales.csv')",
        "    +df = pd.read_csv('sales-2026.csv')", "added markdown cell 5", "    @@ -0,0 +1 @@",
        "    +## Notes"]
    same = run_cli(library_dir, "diff", "share:sales.ipynb", "2", "2", "--outputs")
    assert same.stdout.strip() == "no differences in cell sources, attachments and outputs"
