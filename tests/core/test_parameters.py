"""Papermill-compatible parameters: reading the parameters cell, typing values, injecting."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from nbshelf.errors import BadParameterValue, NbshelfError, ParameterError, UnknownParameter
from nbshelf.run.execution import run_notebook
from nbshelf.run.kernels import KernelChoice, own_kernel
from nbshelf.run.parameters import (
    INJECTED_TAG,
    Parameter,
    coerce_parameters,
    inject_parameters,
    injected_source,
    notebook_parameters,
    parse_cli_parameters,
    python_literal,
)
from tests.helpers import make_notebook

CELL = """\
alpha = 0.5  # learning rate
n = 10
region = "north"
verbose = False
years = [2020, 2021]
limits = {"low": 1, "high": 9}
start = None
%matplotlib inline
today = date.today()
width: int = None
"""


def parameterized(cell: str = CELL) -> nbformat.NotebookNode:
    nb = make_notebook(code=["import datetime", cell, "print(alpha)"])
    nb.cells[2].metadata["tags"] = ["parameters"]
    return nb


def test_the_parameters_cell_gives_names_defaults_and_types() -> None:
    params = notebook_parameters(parameterized())
    assert params[0] == Parameter("alpha", "0.5", "float", "learning rate")
    assert [(p.name, p.type, p.default) for p in params[1:]] == [
        ("n", "int", "10"),
        ("region", "str", '"north"'),
        ("verbose", "bool", "False"),
        ("years", "list", "[2020, 2021]"),
        ("limits", "dict", '{"low": 1, "high": 9}'),
        ("start", "None", "None"),
        ("today", "expression", "date.today()"),
        ("width", "int", "None"),
    ]


def test_a_notebook_without_parameters_cell_has_no_parameters() -> None:
    assert notebook_parameters(make_notebook(code=["alpha = 1"])) == []


def test_raw_json_works_as_well_as_notebook_nodes() -> None:
    raw = json.loads(nbformat.writes(parameterized()))
    assert [p.name for p in notebook_parameters(raw)][:2] == ["alpha", "n"]


def test_values_take_the_type_of_their_default() -> None:
    typed = coerce_parameters(parameterized(), {
        "alpha": "0.7", "n": "12", "region": "south", "verbose": "yes",
        "years": "[2022]", "limits": '{"low": 0}', "start": "3", "today": "'2024-01-01'",
        "width": "80",
    })
    assert typed == {
        "alpha": 0.7, "n": 12, "region": "south", "verbose": True, "years": [2022],
        "limits": {"low": 0}, "start": 3, "today": "2024-01-01", "width": 80,
    }
    assert coerce_parameters(parameterized(), {"alpha": "3", "start": "hello"}) == {
        "alpha": 3.0, "start": "hello",
    }
    assert type(coerce_parameters(parameterized(), {"alpha": "3"})["alpha"]) is float
    assert coerce_parameters(parameterized(), {"region": "42"})["region"] == "42"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("n", "1.5", "whole number"),
        ("alpha", "fast", "a number"),
        ("verbose", "maybe", "true or false"),
        ("years", "2022", "a list"),
        ("limits", "[1]", "a dictionary"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_in_words(name: str, value: str, words: str) -> None:
    with pytest.raises(BadParameterValue) as err:
        coerce_parameters(parameterized(), {name: value})
    message = str(err.value)
    assert f"'{name}'" in message and words in message and f"'{value}'" in message
    assert isinstance(err.value, NbshelfError)


def test_an_unknown_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(UnknownParameter) as err:
        coerce_parameters(parameterized(), {"alpah": "1"})
    message = str(err.value)
    assert "no parameter called 'alpah'" in message
    assert "alpha (float, default 0.5)" in message and "n (int, default 10)" in message


def test_a_broken_parameters_cell_is_reported() -> None:
    with pytest.raises(ParameterError, match="not valid Python"):
        coerce_parameters(parameterized("alpha = = 1"), {"alpha": "2"})


def test_cli_strings_split_on_the_first_equals_sign() -> None:
    assert parse_cli_parameters(["a=1", "query=x=y", "a=2", "empty="]) == {
        "a": "2", "query": "x=y", "empty": "",
    }
    with pytest.raises(ParameterError, match="NAME=VALUE"):
        parse_cli_parameters(["alpha"])
    with pytest.raises(ParameterError, match="not a Python name"):
        parse_cli_parameters(["2x=1"])


def test_the_injected_cell_follows_the_parameters_cell_as_papermill_writes_it() -> None:
    nb = parameterized()
    values = coerce_parameters(nb, {"alpha": "0.7", "region": 'say "hi"', "verbose": "1"})
    index = inject_parameters(nb, values)
    assert index == 3
    cell = nb.cells[3]
    assert cell.cell_type == "code" and cell.metadata["tags"] == [INJECTED_TAG]
    assert cell.source == '# Parameters\nalpha = 0.7\nregion = "say \\"hi\\""\nverbose = True\n'
    assert nb.metadata["papermill"]["parameters"]["alpha"] == 0.7
    nbformat.validate(nb)


def test_without_a_parameters_cell_the_injected_cell_goes_first_untyped() -> None:
    nb = make_notebook(code=["print(x)"])
    values = coerce_parameters(nb, {"x": "3", "y": "2.5", "z": "True", "w": "text", "v": "None"})
    assert values == {"x": 3, "y": 2.5, "z": True, "w": "text", "v": None}
    assert inject_parameters(nb, values) == 0
    assert nb.cells[0].metadata["tags"] == [INJECTED_TAG]


def test_an_earlier_injected_cell_is_replaced() -> None:
    nb = parameterized()
    inject_parameters(nb, {"alpha": 1.0})
    count = len(nb.cells)
    assert inject_parameters(nb, {"alpha": 2.0}) == 3
    assert len(nb.cells) == count
    assert nb.cells[3].source.endswith("alpha = 2.0\n")


@pytest.mark.parametrize(
    "value",
    [0, -3, 2.5, 1e-12, True, None, "plain", "é ü \n tab\t 'q' \"dq\" \\", [1, "a", None],
     {"k": [1.5, {"n": False}]}, (1,), (1, 2), {3, 1}],
)
def test_python_literals_read_back_as_the_same_value(value: object) -> None:
    assert ast.literal_eval(python_literal(value)) == value


def test_non_finite_floats_are_written_as_python_can_read_them() -> None:
    source = injected_source({"a": math.inf, "b": -math.inf, "c": math.nan})
    namespace: dict[str, float] = {}
    exec(source, namespace)  # noqa: S102 - our own generated assignments
    assert namespace["a"] == math.inf and namespace["b"] == -math.inf
    assert math.isnan(namespace["c"])


def test_bad_parameters_fail_before_any_kernel_starts(tmp_path: Path) -> None:
    data = nbformat.writes(parameterized()).encode()
    with pytest.raises(UnknownParameter):
        run_notebook(
            data, cwd=tmp_path, record_path=tmp_path / "r.ipynb", kernel=own_kernel(),
            parameters={"nope": "1"},
        )
    assert not (tmp_path / "r.ipynb").exists()


def test_an_r_notebook_gets_papermills_r_cell(tmp_path: Path) -> None:
    # was: parameters refused for any kernel but Python (issue 14: papermill translates R)
    r_kernel = KernelChoice(
        name="ir", display_name="R", language="r", argv=("R-not-installed", "{connection_file}"),
    )
    spec = {"name": "ir", "language": "R", "display_name": "R"}
    nb = make_notebook(code=["print(x)"], metadata={"kernelspec": spec})
    nb.cells.insert(1, v4.new_code_cell("x <- 1\nflag <- FALSE  # a switch",
                                        metadata={"tags": ["parameters"]}))
    result = run_notebook(
        nbformat.writes(nb).encode(), cwd=tmp_path, record_path=tmp_path / "r.ipynb",
        kernel=r_kernel, parameters={"x": "2", "flag": "yes"},
    )
    assert result.status == "error" and "could not start" in (result.error or "")
    assert result.parameters == {"x": 2, "flag": True}  # typed after the R defaults
    record = json.loads((tmp_path / "r.ipynb").read_text())
    injected = record["cells"][2]
    assert injected["metadata"]["tags"] == [INJECTED_TAG]
    assert "".join(injected["source"]) == "# Parameters\nx = 2\nflag = TRUE\n"
