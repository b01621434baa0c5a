"""The cheap schema check a sync runs first (issue 16): it may send a notebook on to
nbformat's schema for nothing, but it never calls a notebook valid that the schema refuses,
so a notebook that breaks the schema is still listed with its warning."""

from __future__ import annotations

import copy
import json
import os
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbformat import v4
from nbformat.validator import ValidationError, iter_validate

from nbshelf.notebook import parse_notebook
from nbshelf.notebook.reading import plainly_valid
from tests.helpers import PYTHON_META


def rich_notebook(minor: int) -> dict[str, Any]:
    """A valid v4 notebook using every part of the schema the cheap check looks at."""
    nb = v4.new_notebook(metadata={**PYTHON_META, "title": "T", "authors": [{"name": "A"}],
                                   "orig_nbformat": 3})
    nb.cells = [
        v4.new_markdown_cell("# Title ![x](attachment:x.png)", metadata={"tags": ["intro"]},
                             attachments={"x.png": {"image/png": "iVBORw0KGgo="}}),
        v4.new_code_cell("print(1)", execution_count=1, metadata={
            "collapsed": False, "scrolled": "auto", "name": "first", "jupyter": {},
            "execution": {"iopub.status.busy": "2024-01-01T00:00:00Z"}}, outputs=[
            v4.new_output("stream", name="stdout", text=["1\n"]),
            v4.new_output("execute_result", execution_count=1,
                          data={"text/plain": "1", "application/json": {"a": [1]}}),
            v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="},
                          metadata={"image/png": {"width": 10}}),
            v4.new_output("error", ename="E", evalue="bad", traceback=["line"]),
        ]),
        v4.new_raw_cell("raw", metadata={"format": "text/html"}),
    ]
    raw: dict[str, Any] = json.loads(json.dumps(nb))
    raw["nbformat_minor"] = minor
    for number, cell in enumerate(raw["cells"]):
        if minor >= 5:
            cell["id"] = f"cell-{number}"
        else:
            cell.pop("id", None)
    return raw


def schema_errors(raw: dict[str, Any]) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return [e.message for e in iter_validate(raw, version=4,
                                                     version_minor=raw["nbformat_minor"])]
        except ValidationError as err:
            return [err.message]


def places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (dict keys and list indexes)."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += places(item, (*path, index))
    return found


ODD_VALUES = [None, 0, -1, 1.5, True, False, "", "a,b", "x\ny", "auto", "stdout", [],
              ["a", "a"], [1], ["a", 1], {}, {"name": 1}, {"text/plain": 1}, "cell id!",
              "a" * 65, 4, 5, 6]


@pytest.mark.parametrize("minor", range(6))
def test_the_notebooks_jupyter_writes_are_plainly_valid(minor: int) -> None:
    raw = rich_notebook(minor)
    assert schema_errors(raw) == []
    assert plainly_valid(raw)  # the schema is not asked: the fast path a sync takes


#: Hypothesis examples per run (20,000 passed once, in 70 s: set it to look harder).
EXAMPLES = int(os.environ.get("NBSHELF_SCHEMA_EXAMPLES", "600"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(minor=st.integers(0, 5), data=st.data())
def test_never_plainly_valid_where_the_schema_finds_an_error(minor: int,
                                                             data: st.DataObject) -> None:
    raw = rich_notebook(minor)
    broken = copy.deepcopy(raw)
    path = data.draw(st.sampled_from(places(raw)[1:]))
    parent = broken
    for step in path[:-1]:
        parent = parent[step]
    how = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if how == "replace":
        parent[path[-1]] = data.draw(st.sampled_from(ODD_VALUES))
    elif how == "delete":
        del parent[path[-1]]
    elif isinstance(parent[path[-1]], dict):
        parent[path[-1]][data.draw(st.sampled_from(["extra", "id", "name", "tags",
                                                    "text/html", "collapsed"]))] = (
            data.draw(st.sampled_from(ODD_VALUES)))
    if plainly_valid(broken):
        assert schema_errors(broken) == [], (path, how)


def test_a_notebook_the_cheap_check_doubts_still_gets_the_schemas_words() -> None:
    raw = rich_notebook(4)
    raw["cells"][1]["metadata"]["tags"] = ["a,b"]
    assert not plainly_valid(raw)
    summary = parse_notebook(json.dumps(raw).encode(), "x.ipynb").summary
    assert summary.schema_error is not None and "a,b" in summary.schema_error
