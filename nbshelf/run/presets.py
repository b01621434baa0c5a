"""Parameter presets: a notebook's run parameters saved as YAML, to fill the run form again.

A preset is a YAML mapping of parameter names to values, the same file ``nbshelf run -f``
reads. It lives in one of two places:

- the library's own: ``<library>/presets/<notebook id>.yaml``, the only one nbshelf writes;
- one beside the notebook in its source, ``NAME.params.yaml`` for ``NAME.ipynb``, written by
  its author; sources are read-only, so nbshelf only ever reads it.

Loading prefers the library's preset. Files are read with PyYAML's safe loader (no
timestamps, as papermill reads them) and written with ``yaml.safe_dump``, atomically.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from nbshelf.errors import ParameterError
from nbshelf.run.parameters import (
    Parameter,
    _check_name,
    coerce_value,
    parse_yaml_parameters,
)
from nbshelf.store import atomic_write

#: The library's folder of presets.
PRESETS_FOLDER = "presets"
#: A preset file beside ``NAME.ipynb`` is ``NAME`` + this.
BESIDE_SUFFIX = ".params.yaml"
#: A preset larger than this is not a form's worth of values: refused unread.
MAX_PRESET_BYTES = 1024 * 1024
#: How deep lists and mappings may nest in a preset.
MAX_DEPTH = 20

_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Preset:
    """A preset read from disk.

    Attributes:
        values: parameter name → value, as YAML typed it.
        path: the file it came from.
        beside: True when it is the file beside the notebook (not the library's own).
    """

    values: dict[str, Any]
    path: Path
    beside: bool = False


def library_preset_path(library_root: Path, notebook_id: int) -> Path:
    """``<library>/presets/<notebook id>.yaml``."""
    return Path(library_root) / PRESETS_FOLDER / f"{int(notebook_id)}.yaml"


def beside_preset_path(notebook_file: Path | str) -> Path:
    """``NAME.params.yaml`` beside ``NAME.ipynb`` (any other name keeps its full stem)."""
    file = Path(notebook_file)
    name = file.name
    stem = name[: -len(".ipynb")] if name.lower().endswith(".ipynb") else file.stem
    return file.with_name((stem or "notebook") + BESIDE_SUFFIX)


def notebook_file(folder: Path | None, catalog_path: str) -> Path | None:
    """The notebook's file in its source folder (``folder_of``), from its catalog path."""
    if folder is None:
        return None
    return folder / PurePosixPath(catalog_path.replace("\\", "/")).name


def dump_preset(values: Mapping[str, Any]) -> str:
    """The YAML text of a preset.

    Raises:
        ParameterError: a name is not a Python name, or a value is not one YAML keeps as
            it is (text, numbers, booleans, None, and lists and mappings of them).
    """
    import yaml

    plain: dict[str, Any] = {}
    for name, value in values.items():
        if not isinstance(name, str):
            raise ParameterError(f"a preset names a parameter {name!r}: names are text")
        _check_name(name)
        plain[name] = _plain(value, name, 0)
    # allow_unicode=False: PyYAML writes some characters (NEL, U+0085) bare when allowed,
    # and reads them back as a line break; escaped, every text comes back as it went.
    return str(yaml.safe_dump(plain, sort_keys=False, allow_unicode=False,
                              default_flow_style=False))


def parse_preset(text: str, *, what: str = "the preset") -> dict[str, Any]:
    """The values of a preset's YAML text.

    Raises:
        ParameterError: not YAML (or a tag the safe loader refuses), not a mapping, a name
            that is not a Python name, a value nested too deep, or too large.
    """
    if len(text) > MAX_PRESET_BYTES:
        raise ParameterError(f"{what} is too large ({len(text):,} characters)")
    try:
        values = parse_yaml_parameters(text, what=what)
    except RecursionError:
        raise ParameterError(f"{what} nests too deep") from None
    for name, value in values.items():
        try:
            _check_name(name)
        except ParameterError as err:
            raise ParameterError(f"{what}: {err}") from None
        _plain(value, name, 0)
    return values


def read_preset(path: Path, *, beside: bool = False) -> Preset:
    """Read one preset file.

    Raises:
        ParameterError: it cannot be read, is not UTF-8, too large, or not a valid preset.
    """
    try:
        size = path.stat().st_size
        if size > MAX_PRESET_BYTES:
            raise ParameterError(f"the preset {path} is too large ({size:,} bytes)")
        text = path.read_bytes().decode("utf-8")
    except OSError as err:
        raise ParameterError(f"cannot read the preset {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise ParameterError(f"the preset {path} is not UTF-8 text") from None
    return Preset(parse_preset(text, what=f"the preset {path}"), path, beside)


def load_preset(library_root: Path, notebook_id: int,
                notebook_path: Path | None = None) -> Preset | None:
    """The library's preset for the notebook, else the one beside its file, else None.

    Raises:
        ParameterError: the preset found cannot be read or is not valid.
    """
    own = library_preset_path(library_root, notebook_id)
    if own.is_file():
        return read_preset(own)
    if notebook_path is not None:
        beside = beside_preset_path(notebook_path)
        if beside.is_file():
            return read_preset(beside, beside=True)
    return None


def save_preset(library_root: Path, notebook_id: int, values: Mapping[str, Any]) -> Path:
    """Write the library's preset for the notebook atomically; return its path.

    Raises:
        ParameterError: a name or value a preset cannot hold.
        ParameterError: also when the presets folder cannot be written.
    """
    text = dump_preset(values)
    target = library_preset_path(library_root, notebook_id)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, text.encode("utf-8"))
    except OSError as err:
        raise ParameterError(f"cannot write the preset {target}: {err.strerror or err}"
                             ) from None
    return target


def form_value(parameter: Parameter, text: str) -> Any:
    """A form field's text typed as ``nbshelf run -p`` types it after the default.

    Raises:
        BadParameterValue: the text does not fit the parameter's type.
    """
    value = coerce_value(parameter, text)
    if isinstance(value, tuple | set | frozenset):
        value = list(value)  # YAML's safe dumper writes neither
    return value


def form_text(value: Any, kind: str) -> str:
    """The text a form field shows for a preset's value (``form_value`` reads it back)."""
    if kind == "str" and isinstance(value, str):
        return value
    if isinstance(value, list) and kind == "tuple":
        value = tuple(value)
    elif isinstance(value, list) and kind == "set":
        value = set(value)
    return repr(value)  # Python's literal: what ``form_value`` reads back


def _plain(value: Any, name: str, depth: int) -> Any:
    """``value`` if a preset may hold it; raise ``ParameterError`` otherwise."""
    if depth > MAX_DEPTH:
        raise ParameterError(f"the value of '{name}' nests too deep")
    if isinstance(value, float) and not math.isfinite(value):
        return value  # YAML writes .nan and .inf and reads them back
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, list | tuple):
        return [_plain(item, name, depth + 1) for item in value]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, _SCALARS):
                raise ParameterError(f"the value of '{name}' has a key {key!r} a preset "
                                     "cannot hold")
        return {key: _plain(item, name, depth + 1) for key, item in value.items()}
    raise ParameterError(f"the value of '{name}' is a {type(value).__name__}; a preset holds "
                         "text, numbers, true/false, null, lists and mappings")
