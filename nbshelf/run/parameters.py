"""Papermill-compatible notebook parameters.

A notebook declares its parameters in the code cell tagged ``parameters``: assignments whose
values are the defaults (``alpha = 0.5``, ``alpha <- 0.5`` in R). A run with parameters gets
a new code cell tagged ``injected-parameters`` right after that cell (at the top when there
is none, or in place of an earlier injected cell), written by papermill's own translator for
the kernel's language, so run records open in Jupyter and in papermill tooling alike and the
cell is papermill's for the same values. Values given as text (``-p alpha=0.7``, a form field)
take the type of the default; values read from YAML (``-f``, ``-y``) keep their YAML type.

Python parameters cells are read with ``ast`` (help is the comment after the assignment, as
papermill's inspection reads it); other languages line by line (``nbshelf.run.languages``).
papermill is imported only to write the injected cell: listing parameters (``show``,
``parameters``) reads the notebook's JSON and nothing more.
"""

from __future__ import annotations

import ast
import functools
import keyword
import logging
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nbshelf.errors import BadParameterValue, ParameterError, UnknownParameter
from nbshelf.notebook import normalize_language
from nbshelf.run.languages import LINE_LANGUAGES, parse_lines, split_comment

log = logging.getLogger(__name__)

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"

#: Type names a ``Parameter`` can have. "None" is a default of None (any literal fits);
#: "expression" is a default that is not a literal (``date.today()``).
TYPE_NAMES = ("int", "float", "bool", "str", "None", "list", "dict", "tuple", "set", "expression")

#: A parameters file or YAML string larger than this is refused (it is read into memory).
MAX_PARAMETERS_BYTES = 16 * 1024 * 1024

_TYPES: dict[str, type] = {
    "int": int, "float": float, "bool": bool, "str": str, "list": list, "dict": dict,
    "tuple": tuple, "set": set,
}
_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}
_MAGIC_LINE = re.compile(r"^\s*[%!?]")
_TYPE_COMMENT = re.compile(r"^type:\s*(?P<type>\S*)\s*")

#: nbshelf's language names (``normalize_language``) → the name papermill registers the
#: language's translator under, for kernels and notebooks that spell a language otherwise.
_PAPERMILL_LANGUAGES = {
    "python": "python", "r": "R", "julia": "julia", "scala": "scala", "matlab": "matlab",
    "c#": ".net-csharp", "f#": ".net-fsharp", "powershell": ".net-powershell", "bash": "bash",
}


@dataclass(frozen=True)
class Parameter:
    """One parameter of a notebook, for a form, a ``-p`` check or ``nbshelf parameters``.

    Attributes:
        name: the variable name.
        default: the default as written in the parameters cell (``0.5``, ``"north"``); a
            default written over several lines is joined into one, as papermill shows it.
        type: one of ``TYPE_NAMES``; a type annotation or ``# type:`` comment naming one of
            them wins over the type of the literal.
        help: the comment after the assignment, if any (without a ``type: X`` prefix).
    """

    name: str
    default: str
    type: str
    help: str = ""

    def to_json(self) -> dict[str, str]:
        """name, type, default, help."""
        return asdict(self)


# -- reading the notebook -------------------------------------------------------------------


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


def _metadata(nb: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    metadata = nb.get("metadata")
    value = metadata.get(key) if isinstance(metadata, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def tagged_cell_index(nb: Mapping[str, Any], tag: str) -> int | None:
    """Index of the first cell carrying ``tag``, or None."""
    for index, cell in enumerate(_cells(nb)):
        if tag in _tags(cell):
            return index
    return None


def notebook_kernel_name(nb: Mapping[str, Any]) -> str | None:
    """``metadata.kernelspec.name``, as papermill reads the kernel name, or None."""
    name = _metadata(nb, "kernelspec").get("name")
    return name if isinstance(name, str) and name else None


def notebook_language(nb: Mapping[str, Any]) -> str | None:
    """The notebook's language as papermill reads it (``language_info.name``, else
    ``kernelspec.language``), spelled as the notebook spells it; None when it names none."""
    for key in ("language_info", "kernelspec"):
        value = _metadata(nb, key).get("name" if key == "language_info" else "language")
        if isinstance(value, str) and value:
            return value
    return None


def notebook_parameters(nb: Mapping[str, Any], language: str | None = None) -> list[Parameter]:
    """The parameters a v4 notebook declares, in order; empty when it has no parameters cell.

    Lines of the parameters cell that cannot be read are skipped (and logged), as papermill's
    inspection skips them.

    Args:
        nb: the notebook as a JSON dict (``ParsedNotebook.raw`` of a v4 notebook, or a
            ``NotebookNode``).
        language: the language the cell is written in; default: the notebook's own.
    """
    index = tagged_cell_index(nb, PARAMETERS_TAG)
    if index is None:
        return []
    return parse_parameters_cell(_source(_cells(nb)[index]), language or notebook_language(nb))


def parse_parameters_cell(source: str, language: str | None = None) -> list[Parameter]:
    """The assignments of a parameters cell as ``Parameter``s.

    Python (also the default when no language is known): IPython magics and shell lines are
    skipped, lines that are not valid Python too; a name assigned twice keeps its last
    default. Other languages papermill translates are read line by line.
    """
    return _parse(source, language)[0]


def _parse(source: str, language: str | None) -> tuple[list[Parameter], list[str]]:
    """(parameters, problems): problems say which lines could not be read, and why."""
    lang = normalize_language(language) or "python"
    if lang in LINE_LANGUAGES:
        return [Parameter(a.name, a.default, a.type, a.help)
                for a in parse_lines(source, lang)], []
    return _parse_python(source)


def _parse_python(source: str) -> tuple[list[Parameter], list[str]]:
    lines = source.splitlines()
    code_lines = ["" if _MAGIC_LINE.match(line) else line for line in lines]
    problems: list[str] = []
    tree: ast.Module | None = None
    for _attempt in range(len(code_lines) + 1):
        code = "\n".join(code_lines)
        try:
            tree = ast.parse(code)
            break
        except SyntaxError as err:
            lineno = err.lineno or 0
            problems.append(f"line {lineno}: {err.msg}")
            if not 0 < lineno <= len(code_lines) or not code_lines[lineno - 1].strip():
                break  # nothing left to skip on that line: give up on the rest
            code_lines[lineno - 1] = ""  # skip the line, read the others
    if problems:
        log.debug("parameters cell: skipped what is not valid Python (%s)", "; ".join(problems))
    if tree is None:
        return [], problems
    found: dict[str, Parameter] = {}
    for node in tree.body:
        for name, value, annotation in _assignments(node):
            comment = _line_comment(lines, node)
            type_comment = _TYPE_COMMENT.match(comment)
            if type_comment:
                comment = comment[type_comment.end():]
            found.pop(name, None)  # reassigned: moves to its latest position
            found[name] = Parameter(
                name=name,
                default=_default_text(code, value),
                type=_type_name(value, annotation,
                                type_comment.group("type") if type_comment else None),
                help=comment.strip(),
            )
    return list(found.values()), problems


def _default_text(code: str, value: ast.expr) -> str:
    """The default as written; over several lines, joined as papermill's inspection joins
    them (each line stripped, comments before the last line dropped)."""
    segment = ast.get_source_segment(code, value) or ast.unparse(value)
    lines = segment.splitlines()
    if len(lines) <= 1:
        return segment
    return "".join(split_comment(line, "#")[0].strip() for line in lines[:-1]) + lines[-1].strip()


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


def _line_comment(lines: list[str], node: ast.stmt) -> str:
    """The comment after a statement on its last line (``alpha = 0.5  # learning rate``)."""
    lineno, end = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
    if lineno is None or end is None or not 0 < lineno <= len(lines):
        return ""
    rest = lines[lineno - 1].encode("utf-8")[end:].decode("utf-8", errors="replace")
    return rest.strip().removeprefix("#").strip() if rest.strip().startswith("#") else ""


def _type_name(value: ast.expr, annotation: ast.expr | None, type_comment: str | None) -> str:
    declared = None
    if isinstance(annotation, ast.Name):
        declared = annotation.id
    elif isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        declared = annotation.value  # a: "int" = 1
    declared = declared or type_comment
    if declared in _TYPES:
        return str(declared)  # `n: int = None`, `x: float = 1`, `x = 1  # type: float`
    try:
        literal = ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return "expression"
    if literal is None:
        return "None"
    name = type(literal).__name__
    return name if name in _TYPES else "expression"  # bytes, complex: typed as Python text


# -- values from the command line and from YAML -----------------------------------------------


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


@functools.cache
def _yaml_loader() -> type:
    """PyYAML's safe loader without timestamps: ``2024-01-01`` stays text, as papermill's
    ``NoDatesSafeLoader`` reads it."""
    import yaml

    class NoDatesSafeLoader(yaml.SafeLoader):
        yaml_implicit_resolvers = {
            first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }

    return NoDatesSafeLoader


def parse_yaml_parameters(text: str, *, what: str = "the YAML parameters") -> dict[str, Any]:
    """Parameters written as a YAML mapping (``-y 'alpha: 0.7'``), as papermill reads them.

    Raises:
        ParameterError: not YAML, or not a mapping of names to values.
    """
    import yaml

    if len(text) > MAX_PARAMETERS_BYTES:
        raise ParameterError(f"{what} are too large ({len(text):,} characters)")
    try:
        data = yaml.load(text, Loader=_yaml_loader())  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as err:
        raise ParameterError(f"{what} are not valid YAML: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(
            f"{what} must be a mapping of names to values (alpha: 0.7), "
            f"not a {type(data).__name__}"
        )
    for name in data:
        if not isinstance(name, str) or not name:
            raise ParameterError(f"{what} name a parameter {name!r}: names are text")
    return dict(data)


def read_parameters_file(path: str | Path) -> dict[str, Any]:
    """A YAML (or JSON) parameters file (``-f params.yaml``), as papermill reads it.

    Raises:
        ParameterError: the file cannot be read, is too large, or is not a YAML mapping.
    """
    file = Path(path).expanduser()
    try:
        size = file.stat().st_size
        if size > MAX_PARAMETERS_BYTES:
            raise ParameterError(f"the parameters file {file} is too large ({size:,} bytes)")
        text = file.read_bytes().decode("utf-8")
    except OSError as err:
        raise ParameterError(f"cannot read the parameters file {file}: "
                             f"{err.strerror or err}") from None
    except UnicodeDecodeError:
        raise ParameterError(f"the parameters file {file} is not UTF-8 text") from None
    return parse_yaml_parameters(text, what=f"the parameters in {file}")


# -- typing values after the defaults -------------------------------------------------------


def _is_python(language: str | None) -> bool:
    return (normalize_language(language) or "python") not in LINE_LANGUAGES


def _declared(nb: Mapping[str, Any], language: str | None) -> dict[str, Parameter] | None:
    """The declared parameters by name; None when the notebook has no parameters cell.

    Raises:
        ParameterError: a Python parameters cell none of which can be read.
    """
    index = tagged_cell_index(nb, PARAMETERS_TAG)
    if index is None:
        return None
    found, problems = _parse(_source(_cells(nb)[index]), language)
    if problems and not found:
        raise ParameterError(
            f"The notebook's parameters cell is not valid Python ({problems[0]}), "
            "so its parameters cannot be read."
        )
    return {p.name: p for p in found}


def _unknown(name: str, declared: dict[str, Parameter], nb: Mapping[str, Any],
             language: str | None) -> ParameterError:
    index = tagged_cell_index(nb, PARAMETERS_TAG)
    problems = _parse(_source(_cells(nb)[index]), language)[1] if index is not None else []
    if problems:
        return ParameterError(
            f"This notebook has no readable parameter called '{name}': its parameters cell "
            f"is not valid Python ({problems[0]})."
        )
    listed = ", ".join(f"{p.name} ({p.type}, default {p.default})" for p in declared.values())
    return UnknownParameter(
        f"This notebook has no parameter called '{name}'. "
        + (f"Its parameters are: {listed}." if listed else "Its parameters cell is empty.")
    )


def coerce_parameters(nb: Mapping[str, Any], values: Mapping[str, str], *,
                      language: str | None = None) -> dict[str, Any]:
    """Type parameter values given as text after the defaults of the notebook's parameters.

    A notebook without a parameters cell takes any name, typed as papermill's command line
    types it (``True``/``False``/``None``, whole numbers, decimal numbers, else text); so
    does a name missing from a parameters cell in a language other than Python (those cells
    are read line by line, which may miss one).

    Args:
        nb: the notebook as a v4 JSON dict or ``NotebookNode``.
        values: name → value as typed by the user.
        language: the language of the parameters cell; default: the notebook's own.

    Returns:
        name → typed value, in the order given.

    Raises:
        UnknownParameter: a name a Python parameters cell does not define.
        BadParameterValue: a value that does not fit the type of its default.
        ParameterError: the parameters cell cannot be read, or a name is not a Python name.
    """
    language = language or notebook_language(nb)
    declared = _declared(nb, language)
    typed: dict[str, Any] = {}
    for name, text in values.items():
        _check_name(name)
        parameter = declared.get(name) if declared is not None else None
        if parameter is not None:
            typed[name] = coerce_value(parameter, text)
        elif declared is not None and _is_python(language):
            raise _unknown(name, declared, nb, language)
        else:
            typed[name] = _untyped(text)
    return typed


def merge_parameters(nb: Mapping[str, Any], *, texts: Mapping[str, str] | None = None,
                     values: Mapping[str, Any] | None = None,
                     language: str | None = None) -> dict[str, Any]:
    """The values a run injects: ``values`` (from YAML, kept as typed) updated with ``texts``
    (from ``-p``, typed after the defaults), in papermill's order (a name keeps the place it
    was first given).

    Raises:
        ParameterError: as ``coerce_parameters``; a YAML name a Python parameters cell does
            not define is refused too.
    """
    language = language or notebook_language(nb)
    merged: dict[str, Any] = dict(values or {})
    if merged and _is_python(language):
        declared = _declared(nb, language)
        for name in merged:
            _check_name(name)
            if declared is not None and name not in declared:
                raise _unknown(name, declared, nb, language)
    merged.update(coerce_parameters(nb, texts, language=language) if texts else {})
    return merged


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


# -- writing the injected cell: papermill's translators -------------------------------------


@functools.cache
def _typed_python() -> Any:
    """papermill's Python translator, also writing the tuples and sets a typed ``-p`` value
    can be (papermill would write them as strings: its values come from YAML)."""
    from papermill.translators import PythonTranslator

    class TypedPythonTranslator(PythonTranslator):
        @classmethod
        def translate(cls, val: Any) -> str:
            if isinstance(val, tuple):
                inner = ", ".join(cls.translate(v) for v in val)
                return f"({inner},)" if len(val) == 1 else f"({inner})"
            if isinstance(val, set | frozenset):
                if not val:
                    return "set()"
                return "{" + ", ".join(cls.translate(v) for v in sorted(val, key=repr)) + "}"
            return str(super().translate(val))

    return TypedPythonTranslator


def find_translator(kernel_name: str | None, languages: Iterable[str | None]) -> Any:
    """papermill's translator for a kernel: by kernel name, else by the first language that
    has one (as papermill's ``find_translator``; nbshelf's language names are mapped to
    papermill's, so a kernel nbshelf knows as ``r`` finds papermill's ``R``).

    Raises:
        ParameterError: papermill translates parameters for none of them.
    """
    from papermill.exceptions import PapermillException
    from papermill.translators import PythonTranslator, papermill_translators

    candidates: list[str | None] = []
    for language in languages:
        if language:
            candidates += [language, _PAPERMILL_LANGUAGES.get(normalize_language(language) or "")]
    tried: list[str | None] = list(dict.fromkeys(c for c in candidates if c)) or [None]
    for candidate in tried:
        try:
            translator = papermill_translators.find_translator(kernel_name, candidate)
        except PapermillException:
            continue
        return _typed_python() if translator is PythonTranslator else translator
    what = ", ".join(str(c) for c in tried if c) or "none given"
    raise ParameterError(
        f"Parameters cannot be given to this notebook: papermill has no parameter translator "
        f"for its kernel '{kernel_name or '?'}' or its language ({what})."
    )


def _plain(value: Any) -> Any:
    """Tuples and sets as lists, for translators of languages that have neither."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return [_plain(v) for v in sorted(value, key=repr)]
    return value


def translate_parameters(values: Mapping[str, Any], *, kernel_name: str | None = None,
                         languages: Iterable[str | None] = ("python",)) -> str:
    """The source of the ``injected-parameters`` cell, as papermill writes it for this kernel.

    Raises:
        ParameterError: no translator, or one that cannot write a value (papermill's C#
            translator has no None, its bash translator no dictionaries...).
    """
    translator = find_translator(kernel_name, languages)
    python = translator is _typed_python()
    given = dict(values) if python else {k: _plain(v) for k, v in values.items()}
    try:
        return str(translator.codify(given, "Parameters"))
    except NotImplementedError as err:
        raise ParameterError(
            f"papermill cannot write these parameters for this notebook's language: {err}"
        ) from None


def python_literal(value: Any) -> str:
    """A value as Python source, as papermill's Python translator writes it."""
    return str(_typed_python().translate(value))


def injected_source(values: Mapping[str, Any]) -> str:
    """The source of an ``injected-parameters`` cell for a Python notebook."""
    return translate_parameters(values, languages=("python",))


def inject_parameters(nb: Any, values: Mapping[str, Any], *, kernel_name: str | None = None,
                      languages: Iterable[str | None] = ()) -> int:
    """Add the ``injected-parameters`` cell to a v4 ``NotebookNode``, in place, as papermill does.

    The cell replaces an earlier injected cell, else follows the parameters cell, else goes
    first. ``metadata.papermill.parameters`` records the values, as papermill records them.

    Args:
        nb: the notebook.
        values: the typed values.
        kernel_name: the kernel the notebook will run in; default: the notebook's own.
        languages: languages to find a translator by, in order, before the notebook's own
            (a notebook naming no language at all is taken as Python, as nbshelf runs it).

    Returns:
        The index of the injected cell.

    Raises:
        ParameterError: papermill cannot write these values for this kernel.
    """
    from nbformat import v4

    own = notebook_language(nb)
    chosen = [*languages, own] if (own or any(languages)) else ["python"]
    source = translate_parameters(values, kernel_name=kernel_name or notebook_kernel_name(nb),
                                  languages=chosen)
    cell = v4.new_code_cell(source=source)
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
