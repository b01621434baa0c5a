"""Parameter presets: YAML files that fill the run form, in the library or beside a notebook."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from nbshelf.errors import BadParameterValue, ParameterError
from nbshelf.run.parameters import Parameter
from nbshelf.run.presets import (
    MAX_PRESET_BYTES,
    beside_preset_path,
    dump_preset,
    form_text,
    form_value,
    library_preset_path,
    load_preset,
    notebook_file,
    parse_preset,
    save_preset,
)

VALUES: dict[str, Any] = {
    "alpha": 0.7,
    "n": 12,
    "region": "south",
    "verbose": True,
    "start": None,
    "years": [2020, 2021],
    "limits": {"low": 1, "high": 9},
    "when": "2024-01-01",  # stays text, as papermill reads it
    "note": "yes",  # text that YAML 1.1 would take for true if written bare
    "number_text": "0.5",
}


def test_save_then_load_round_trips_typed_values(tmp_path: Path) -> None:
    path = save_preset(tmp_path, 7, VALUES)
    assert path == tmp_path / "presets" / "7.yaml"
    preset = load_preset(tmp_path, 7)
    assert preset is not None and not preset.beside
    assert preset.values == VALUES
    assert list(preset.values) == list(VALUES)  # the form's order is kept
    assert all(type(preset.values[k]) is type(v) for k, v in VALUES.items())


def test_saving_replaces_atomically_and_leaves_no_temp_file(tmp_path: Path) -> None:
    save_preset(tmp_path, 3, {"n": 1})
    save_preset(tmp_path, 3, {"n": 2})
    assert [p.name for p in (tmp_path / "presets").iterdir()] == ["3.yaml"]
    assert load_preset(tmp_path, 3).values == {"n": 2}  # type: ignore[union-attr]


def test_the_library_preset_wins_over_the_one_beside_the_notebook(tmp_path: Path) -> None:
    source = tmp_path / "share"
    source.mkdir()
    notebook = source / "analysis.ipynb"
    beside = source / "analysis.params.yaml"
    beside.write_text("alpha: 0.1\n", encoding="utf-8")
    assert beside_preset_path(notebook) == beside
    found = load_preset(tmp_path / "lib", 1, notebook)
    assert found is not None and found.beside and found.values == {"alpha": 0.1}
    save_preset(tmp_path / "lib", 1, {"alpha": 0.9})
    found = load_preset(tmp_path / "lib", 1, notebook)
    assert found is not None and not found.beside and found.values == {"alpha": 0.9}
    assert beside.read_text(encoding="utf-8") == "alpha: 0.1\n"  # the source is never written


def test_no_preset_anywhere_is_none(tmp_path: Path) -> None:
    assert load_preset(tmp_path, 5, tmp_path / "x.ipynb") is None
    assert load_preset(tmp_path, 5) is None


def test_paths() -> None:
    assert library_preset_path(Path("/lib"), 42) == Path("/lib/presets/42.yaml")
    assert beside_preset_path("/s/a.b.IPYNB").name == "a.b.params.yaml"
    assert notebook_file(Path("/s/sub"), "sub/a.ipynb") == Path("/s/sub/a.ipynb")
    assert notebook_file(None, "a.ipynb") is None


@pytest.mark.parametrize(
    "text",
    [
        "!!python/object/apply:os.system ['echo pwned']",
        "x: !!python/object/apply:os.system ['echo pwned']",
        "x: !!python/name:os.system",
        "- 1\n- 2\n",  # a list, not a mapping
        "just text",
        "a: [1, 2\n",  # not YAML
        "not a name: 1\n",
        "class: 1\n",  # a keyword
        "1: one\n",
        "a: &x [*x]\n",  # a recursive alias
    ],
)
def test_a_hostile_or_odd_preset_is_refused_with_a_message(tmp_path: Path, text: str) -> None:
    file = tmp_path / "presets" / "1.yaml"
    file.parent.mkdir()
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ParameterError) as caught:
        load_preset(tmp_path, 1)
    assert str(caught.value)


def test_billion_laughs_is_refused_or_small() -> None:
    # Aliases expand into shared objects, not copies: loading is cheap, but nesting is capped.
    lol = "a: &a [x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(24)
    )
    with pytest.raises(ParameterError, match="nests too deep"):
        parse_preset(lol)


def test_an_oversized_or_binary_preset_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "presets" / "1.yaml"
    file.parent.mkdir()
    file.write_bytes(b"a: '" + b"x" * MAX_PRESET_BYTES + b"'\n")
    with pytest.raises(ParameterError, match="too large"):
        load_preset(tmp_path, 1)
    file.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(ParameterError, match="UTF-8"):
        load_preset(tmp_path, 1)


def test_only_the_safe_loader_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("an unsafe YAML loader was used")

    monkeypatch.setattr(yaml, "unsafe_load", refuse)
    monkeypatch.setattr(yaml, "full_load", refuse)
    seen: list[type] = []
    real_load = yaml.load

    def spy(stream: Any, Loader: type) -> Any:  # noqa: N803 - PyYAML's name
        seen.append(Loader)
        return real_load(stream, Loader=Loader)  # noqa: S506 - only passes the loader on

    monkeypatch.setattr(yaml, "load", spy)
    assert parse_preset("a: 1\n") == {"a": 1}
    assert seen and all(issubclass(loader, yaml.SafeLoader) for loader in seen)


@pytest.mark.parametrize("value", [{1, 2}, object(), Path("/x"), b"bytes", {(1, 2): 3}])
def test_values_a_preset_cannot_hold_are_refused_on_save(tmp_path: Path, value: Any) -> None:
    with pytest.raises(ParameterError):
        save_preset(tmp_path, 1, {"x": value})
    assert not (tmp_path / "presets" / "1.yaml").exists()


def test_a_bad_name_is_refused_on_save(tmp_path: Path) -> None:
    with pytest.raises(ParameterError):
        dump_preset({"not a name": 1})


def test_a_folder_that_cannot_be_written_is_a_message(tmp_path: Path) -> None:
    (tmp_path / "presets").write_text("a file where the folder goes", encoding="utf-8")
    with pytest.raises(ParameterError, match="cannot write the preset"):
        save_preset(tmp_path, 1, {"n": 1})


@pytest.mark.parametrize(
    ("kind", "default", "text", "value"),
    [
        ("int", "10", "12", 12),
        ("float", "0.5", "0.7", 0.7),
        ("str", "'north'", "south", "south"),
        ("str", "'north'", "12", "12"),
        ("bool", "False", "true", True),
        ("list", "[1]", "[1, 2]", [1, 2]),
        ("dict", "{}", "{'a': 1}", {"a": 1}),
        ("tuple", "(1, 2)", "(3, 4)", [3, 4]),
        ("None", "None", "None", None),
    ],
)
def test_form_text_and_value_round_trip(kind: str, default: str, text: str,
                                        value: Any) -> None:
    parameter = Parameter("p", default, kind)
    assert form_value(parameter, text) == value
    again = parse_preset(dump_preset({"p": form_value(parameter, text)}))["p"]
    assert form_value(parameter, form_text(again, kind)) == value


def test_a_form_value_that_does_not_fit_its_type_is_refused() -> None:
    with pytest.raises(BadParameterValue):
        form_value(Parameter("n", "10", "int"), "ten")


plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
                       .filter(lambda n: n not in {"if", "in", "is", "or", "and", "as",
                                                   "def", "del", "for", "not", "try"}),
                       plain, max_size=6))
def test_any_plain_values_round_trip(values: dict[str, Any]) -> None:
    assert parse_preset(dump_preset(values)) == values


def test_nan_and_infinity_round_trip() -> None:
    again = parse_preset(dump_preset({"a": math.inf, "b": math.nan}))
    assert again["a"] == math.inf and math.isnan(again["b"])
