"""Papermill-compatible notebook parameters.

A notebook declares its parameters in the code cell tagged ``parameters``: simple assignments
whose values are the defaults (``alpha = 0.5``). A run with parameters gets a new code cell
tagged ``injected-parameters`` right after that cell (at the top when there is none, or in
place of an earlier injected cell), written as papermill writes it, so run records open in
Jupyter and in papermill tooling alike. Values given as text (``-p alpha=0.7``, a form field)
take the type of the default.

Only Python notebooks have parameters here: the parameters cell is read with ``ast``.
"""

from __future__ import annotations

import ast
import io
import keyword
import math
import re
import tokenize
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from nbshelf.errors import BadParameterValue, ParameterError, UnknownParameter

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"

#: Type names a ``Parameter`` can have. "None" is a default of None (any literal fits);
#: "expression" is a default that is not a literal (``date.today()``).
TYPE_NAMES = ("int", "float", "bool", "str", "None", "list", "dict", "tuple", "set", "expression")

_TYPES: dict[str, type] = {
    "int": int, "float": float, "bool": bool, "str": str, "list": list, "dict": dict,
    "tuple": tuple, "set": set,
}
_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}
_MAGIC_LINE = re.compile(r"^\s*[%!?]")


@dataclass(frozen=True)
class Parameter:
    """One parameter of a notebook, for a form or a ``-p`` check.

    Attributes:
        name: the variable name.
        default: the default as written in the parameters cell (``0.5``, ``"north"``).
        type: one of ``TYPE_NAMES``.
        help: the comment at the end of the assignment's line, if any.
    """

    name: str
    default: str
    type: str
    help: str = ""


def _cells(nb: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    cells = nb.get("cells")
    if isinstance(cells, list):
        return [c for c in cells if isinstance(c, Mapping)]
    return []


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source or "")


def _tags(cell: Mapping[str, Any]) -> list[str]:
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, Mapping) else None
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def tagged_cell_index(nb: Mapping[str, Any], tag: str) -> int | None:
    """Index of the first cell carrying ``tag``, or None."""
    for index, cell in enumerate(_cells(nb)):
        if tag in _tags(cell):
            return index
    return None


def notebook_parameters(nb: Mapping[str, Any]) -> list[Parameter]:
    """The parameters a v4 notebook declares, in order; empty when it has no parameters cell.

    Args:
        nb: the notebook as a JSON dict (``ParsedNotebook.raw`` of a v4 notebook, or a
            ``NotebookNode``).

    Raises:
        ParameterError: the parameters cell is not valid Python.
    """
    index = tagged_cell_index(nb, PARAMETERS_TAG)
    if index is None:
        return []
    return parse_parameters_cell(_source(_cells(nb)[index]))


def parse_parameters_cell(source: str) -> list[Parameter]:
    """The simple assignments of a parameters cell as ``Parameter``s.

    IPython magics and shell lines are skipped; a name assigned twice keeps its last default.

    Raises:
        ParameterError: the cell is not valid Python.
    """
    lines = source.splitlines()
    code = "\n".join("" if _MAGIC_LINE.match(line) else line for line in lines)
    try:
        tree = ast.parse(code)
    except SyntaxError as err:
        raise ParameterError(
            f"The notebook's parameters cell is not valid Python (line {err.lineno}: {err.msg}), "
            "so its parameters cannot be read."
        ) from None
    found: dict[str, Parameter] = {}
    for node in tree.body:
        for name, value, annotation in _assignments(node):
            comment = _line_comment(lines, getattr(node, "end_lineno", node.lineno))
            found.pop(name, None)  # reassigned: moves to its latest position
            found[name] = Parameter(
                name=name,
                default=ast.get_source_segment(code, value) or ast.unparse(value),
                type=_type_name(value, annotation),
                help=comment,
            )
    return list(found.values())


def _assignments(node: ast.stmt) -> Iterator[tuple[str, ast.expr, ast.expr | None]]:
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Name):
                yield target.id, node.value, None
            elif (
                isinstance(target, ast.Tuple | ast.List)
                and isinstance(node.value, ast.Tuple | ast.List)
                and len(target.elts) == len(node.value.elts)
            ):
                for sub, value in zip(target.elts, node.value.elts, strict=True):
                    if isinstance(sub, ast.Name):
                        yield sub.id, value, None
    elif (
        isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.value is not None
    ):
        yield node.target.id, node.value, node.annotation


def _line_comment(lines: list[str], lineno: int) -> str:
    """The comment at the end of a line (``alpha = 0.5  # learning rate``), or ""."""
    if not 0 < lineno <= len(lines) or "#" not in lines[lineno - 1]:
        return ""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(lines[lineno - 1]).readline))
    except (tokenize.TokenError, SyntaxError):
        return ""
    comments = [t.string for t in tokens if t.type == tokenize.COMMENT]
    return comments[-1].lstrip("#").strip() if comments else ""


def _type_name(value: ast.expr, annotation: ast.expr | None) -> str:
    try:
        literal = ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return "expression"
    if literal is None:
        if isinstance(annotation, ast.Name) and annotation.id in _TYPES:
            return annotation.id  # `n: int = None`
        return "None"
    name = type(literal).__name__
    return name if name in _TYPES else "expression"  # bytes, complex: typed as Python text


def parse_cli_parameters(items: Iterable[str]) -> dict[str, str]:
    """``name=value`` strings (``-p`` options) as a dict; later ones win.

    Raises:
        ParameterError: an item has no ``=`` or its name is not a valid Python name.
    """
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise ParameterError(
                f"The parameter '{item}' has no value: write it as NAME=VALUE, e.g. alpha=0.5."
            )
        _check_name(name)
        values[name] = value
    return values


def _check_name(name: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ParameterError(f"'{name}' cannot be a parameter name: it is not a Python name.")


def coerce_parameters(nb: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """Type parameter values given as text after the defaults of the notebook's parameters.

    A notebook without a parameters cell takes any name, typed as papermill's command line
    types it (``True``/``False``/``None``, whole numbers, decimal numbers, else text).

    Args:
        nb: the notebook as a v4 JSON dict or ``NotebookNode``.
        values: name → value as typed by the user.

    Returns:
        name → typed value, in the order given.

    Raises:
        UnknownParameter: a name the parameters cell does not define.
        BadParameterValue: a value that does not fit the type of its default.
        ParameterError: the parameters cell cannot be read, or a name is not a Python name.
    """
    if tagged_cell_index(nb, PARAMETERS_TAG) is None:
        typed: dict[str, Any] = {}
        for name, text in values.items():
            _check_name(name)
            typed[name] = _untyped(text)
        return typed
    declared = {p.name: p for p in notebook_parameters(nb)}
    typed = {}
    for name, text in values.items():
        parameter = declared.get(name)
        if parameter is None:
            listed = ", ".join(
                f"{p.name} ({p.type}, default {p.default})" for p in declared.values()
            )
            raise UnknownParameter(
                f"This notebook has no parameter called '{name}'. "
                + (f"Its parameters are: {listed}." if listed else "Its parameters cell is empty.")
            )
        typed[name] = coerce_value(parameter, text)
    return typed


def coerce_value(parameter: Parameter, text: str) -> Any:
    """One value given as text, typed after the parameter's default.

    Raises:
        BadParameterValue: the text is not a value of that type.
    """
    kind = parameter.type
    stripped = text.strip()
    if kind == "str":
        return text
    if kind in ("None", "expression"):
        return _literal_or_text(text)
    if kind == "bool":
        if stripped.lower() in _TRUE:
            return True
        if stripped.lower() in _FALSE:
            return False
        raise _bad(parameter, text, "true or false")
    if kind == "int":
        try:
            return int(stripped)
        except ValueError:
            raise _bad(parameter, text, "a whole number") from None
    if kind == "float":
        try:
            return float(stripped)
        except ValueError:
            raise _bad(parameter, text, "a number") from None
    expected = _TYPES[kind]
    what = {"list": "a list such as [1, 2]", "dict": "a dictionary such as {\"a\": 1}",
            "tuple": "a tuple such as (1, 2)", "set": "a set such as {1, 2}"}[kind]
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise _bad(parameter, text, what) from None
    if kind == "tuple" and isinstance(value, list):
        value = tuple(value)
    if not isinstance(value, expected):
        raise _bad(parameter, text, what)
    return value


def _bad(parameter: Parameter, text: str, expected: str) -> BadParameterValue:
    return BadParameterValue(
        f"The parameter '{parameter.name}' takes {expected} (its default is "
        f"{parameter.default}); '{text}' is not one."
    )


def _literal_or_text(text: str) -> Any:
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text


def _untyped(text: str) -> Any:
    """A value without a default to type it, as papermill's ``-p`` reads one."""
    if text in ("True", "False"):
        return text == "True"
    if text == "None":
        return None
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            continue
    return text


def python_literal(value: Any) -> str:
    """A value as Python source, as papermill's Python translator writes it."""
    if value is None or isinstance(value, bool | int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return repr(value)
        if math.isnan(value):
            return "float('nan')"
        return "float('-inf')" if value < 0 else "float('inf')"
    if isinstance(value, str):
        escaped = value.encode("unicode_escape").decode("utf-8").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, dict):
        items = ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(python_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, set | frozenset):
        if not value:
            return "set()"
        return "{" + ", ".join(python_literal(v) for v in sorted(value, key=repr)) + "}"
    return python_literal(str(value))


def injected_source(values: Mapping[str, Any]) -> str:
    """The source of an ``injected-parameters`` cell for a Python notebook."""
    return "# Parameters\n" + "".join(f"{k} = {python_literal(v)}\n" for k, v in values.items())


def inject_parameters(nb: Any, values: Mapping[str, Any]) -> int:
    """Add the ``injected-parameters`` cell to a v4 ``NotebookNode``, in place, as papermill does.

    The cell replaces an earlier injected cell, else follows the parameters cell, else goes
    first. ``metadata.papermill.parameters`` records the values, as papermill records them.

    Returns:
        The index of the injected cell.
    """
    from nbformat import v4

    cell = v4.new_code_cell(source=injected_source(values))
    cell.metadata["tags"] = [INJECTED_TAG]
    injected = tagged_cell_index(nb, INJECTED_TAG)
    parameters = tagged_cell_index(nb, PARAMETERS_TAG)
    if injected is not None:
        nb.cells[injected] = cell
        index = injected
    elif parameters is not None:
        index = parameters + 1
        nb.cells.insert(index, cell)
    else:
        index = 0
        nb.cells.insert(0, cell)
    papermill = nb.metadata.setdefault("papermill", {})
    papermill["parameters"] = {k: jsonable(v) for k, v in values.items()}
    return index


def jsonable(value: Any) -> Any:
    """A typed parameter value as plain JSON (tuples and sets as lists, inf and nan as text)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return [jsonable(v) for v in sorted(value, key=repr)]
    return value
