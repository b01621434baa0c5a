"""Reading any notebook file and extracting what the catalog keeps about it.

Reading is lenient where Jupyter users expect it (a UTF-8 BOM, nbformat v2/v3, a notebook that
breaks the schema) and precise where it must refuse: every refusal is a ``NotebookInvalid``
whose ``kind`` and message say what is wrong in words.

The summary is taken from the raw JSON rather than from an upgraded ``NotebookNode``: it is
several times faster and still works on notebooks that nbformat cannot convert.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from nbshelf.errors import NotebookInvalid
from nbshelf.notebook.imports import find_imports
from nbshelf.notebook.titles import choose_title, markdown_headings

#: The newest nbformat major version this build reads.
NEWEST_NBFORMAT = 4


@dataclass(frozen=True)
class Cell:
    """One cell as the summary and the search index see it, whatever the nbformat."""

    kind: str  # "code", "markdown" or "raw"
    source: str
    outputs: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Summary:
    """What the catalog stores about one content version of a notebook."""

    title: str
    headings: list[str]
    kernel_name: str | None
    language: str | None
    nbformat: int
    nbformat_minor: int
    n_cells: int
    n_code: int
    n_markdown: int
    n_raw: int
    imports: list[str]
    source_hash: str
    schema_error: str | None


@dataclass(frozen=True)
class ParsedNotebook:
    """A notebook file that could be read: its raw JSON, cells and summary."""

    content_hash: str
    raw: dict[str, Any]
    cells: list[Cell]
    summary: Summary


def content_hash(data: bytes) -> str:
    """Return the hash that names a content version in the blob store."""
    return hashlib.sha256(data).hexdigest()


def parse_notebook(data: bytes, filename: str, *, validate: bool = True,
                   digest: str | None = None) -> ParsedNotebook:
    """Read notebook bytes into a ``ParsedNotebook``.

    Args:
        data: the file's bytes.
        filename: the file's name, used as the title when the notebook has no heading.
        validate: check the nbformat schema (a failure becomes ``summary.schema_error``).
        digest: ``content_hash(data)``, when the caller has it already (a sync hashes
            every file it reads; hashing it again was 3% of a first sync).

    Raises:
        NotebookInvalid: the bytes are not a notebook this build can read.
    """
    raw = _load_json(data)
    major, minor = _check_structure(raw)
    cells = list(iter_cells(raw))
    schema_error = _schema_error(raw, major, minor) if validate else None
    summary = summarize(raw, cells, filename, major, minor, schema_error)
    return ParsedNotebook(digest or content_hash(data), raw, cells, summary)


def read_cells(data: bytes) -> tuple[dict[str, Any], list[Cell]]:
    """The raw JSON and cells of notebook bytes already known to be a notebook (a blob).

    No hash, structure check or summary: search and indexing read blobs the catalog has
    already summarised, and the summary costs more than the parse.

    Raises:
        NotebookInvalid: the bytes are not notebook JSON.
    """
    raw = _load_json(data)
    return raw, list(iter_cells(raw))


def _load_json(data: bytes) -> dict[str, Any]:
    if not data.strip():
        raise NotebookInvalid("empty", "the file is empty" if not data else "the file is blank")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a UTF-8 BOM, as some Windows editors write; Jupyter accepts it too
    binary_at = _binary_offset(data)
    if binary_at is not None:
        raise NotebookInvalid(
            "not-text",
            f"the file holds binary data (byte 0x{data[binary_at]:02x} at offset {binary_at}), "
            "not notebook JSON",
        )
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise NotebookInvalid("invalid-json", _describe_json_error(data, err)) from None
    if not isinstance(raw, dict):
        raise NotebookInvalid(
            "not-a-notebook", f"the file is JSON but holds {_json_type(raw)}, not a notebook object"
        )
    return raw


def _binary_offset(data: bytes) -> int | None:
    """Offset of the first byte that cannot be in UTF-8 JSON text, or None."""
    nul = data.find(b"\x00", 0, 65536)
    if nul >= 0:
        return nul
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError as err:
        if err.reason != "unexpected end of data":  # a character cut at the 64 KiB boundary
            return err.start
    return None


def _describe_json_error(data: bytes, err: orjson.JSONDecodeError) -> str:
    text = data.decode("utf-8", errors="replace")
    pos = min(err.pos, len(text))
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    if not text[pos:].strip():
        return (
            f"the JSON ends early at line {line} (the file looks truncated: "
            f"{len(data):,} bytes, cut before the notebook closes)"
        )
    reason = str(err.msg) if getattr(err, "msg", None) else str(err)
    return f"invalid JSON at line {line}, column {col}: {reason}"


def _json_type(value: object) -> str:
    names = {
        dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number",
        bool: "a boolean",
    }
    return names.get(type(value), "null")


def _check_structure(raw: dict[str, Any]) -> tuple[int, int]:
    """Check that raw JSON is a notebook of a readable version; return (major, minor)."""
    major = raw.get("nbformat")
    if major is None:
        if "cells" in raw or "worksheets" in raw:
            major = 4 if "cells" in raw else 3
        else:
            raise NotebookInvalid(
                "not-a-notebook",
                "the file is JSON but not a notebook: it has no 'nbformat', 'cells' or "
                "'worksheets' key",
            )
    if not isinstance(major, int) or isinstance(major, bool):
        raise NotebookInvalid("not-a-notebook", f"'nbformat' is {major!r}, not a version number")
    if major > NEWEST_NBFORMAT:
        raise NotebookInvalid(
            "unsupported-version",
            f"nbformat {major} is newer than this version of nbshelf reads "
            f"(up to {NEWEST_NBFORMAT}); update nbshelf to read it",
        )
    if major < 1:
        raise NotebookInvalid("not-a-notebook", f"'nbformat' is {major}, not a notebook version")
    minor = raw.get("nbformat_minor", 0)
    minor = minor if isinstance(minor, int) and not isinstance(minor, bool) else 0
    # check what iter_cells will read: the worksheets when there is no list of cells
    if "cells" in raw or "worksheets" not in raw:
        _check_cells(raw.get("cells", []), "'cells'")
    else:
        worksheets = raw.get("worksheets", [])
        if not isinstance(worksheets, list):
            raise NotebookInvalid(
                "not-a-notebook", f"'worksheets' is {_json_type(worksheets)}, not a list"
            )
        for i, sheet in enumerate(worksheets):
            if not isinstance(sheet, dict):
                raise NotebookInvalid(
                    "not-a-notebook", f"worksheet {i} is {_json_type(sheet)}, not an object"
                )
            _check_cells(sheet.get("cells", []), f"worksheet {i}'s 'cells'")
    return major, minor


def _check_cells(cells: object, what: str) -> None:
    if not isinstance(cells, list):
        raise NotebookInvalid("not-a-notebook", f"{what} is {_json_type(cells)}, not a list")
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict):
            raise NotebookInvalid(
                "not-a-notebook",
                f"cell {i} is {_json_type(cell)}, not an object with a cell type and source",
            )


def _schema_error(raw: dict[str, Any], major: int, minor: int) -> str | None:
    """Describe the first nbformat schema error, or None when the notebook is valid."""
    if major < 3:
        # nbformat has no schema for v1/v2, but upgrades them: what is read is the upgrade
        upgraded = _upgraded(raw)
        if upgraded is None:
            return f"nbformat {major} could not be upgraded to a current version"
        raw, major, minor = upgraded, upgraded["nbformat"], upgraded["nbformat_minor"]
    ids = _cell_id_error(raw, major, minor)
    if ids is not None:
        return ids
    if major == 4 and plainly_valid(raw):
        return None  # nothing odd: the schema would find nothing either (see plainly_valid)
    # imported only now: nbformat's validator (jsonschema) takes ~1 s to import
    from nbformat.validator import ValidationError, iter_validate

    # iter_validate never mutates the dict (validate() would "repair" it). Missing cell ids
    # were looked at above (required from 4.5 on only).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            errors = iter_validate(raw, version=major, version_minor=minor)
            error = next((e for e in errors if not _is_missing_cell_id(e)), None)
        except ValidationError as err:
            error = err
    if error is None:
        return None
    path = list(getattr(error, "absolute_path", []) or [])
    if len(path) == 3 and path[0] == "cells" and path[2] == "source" and isinstance(path[1], int):
        value = raw["cells"][path[1]].get("source")
        return f"cell {path[1] + 1}'s source is {_json_type(value)}, not text"
    message = getattr(error, "message", None) or str(error)
    where = "/".join(str(p) for p in path)
    first_line = str(message).splitlines()[0] if str(message) else "invalid"
    return f"{first_line[:300]} (at {where})" if where else first_line[:300]


#: The keys of each cell type and output type the v4 schemas allow (all of 4.0-4.5 alike,
#: but for the cell ids of 4.5), beside the ones they require.
_CELL_KEYS = {
    "code": ({"cell_type", "metadata", "source", "outputs", "execution_count"}, frozenset()),
    "markdown": ({"cell_type", "metadata", "source"}, frozenset({"attachments"})),
    "raw": ({"cell_type", "metadata", "source"}, frozenset({"attachments"})),
}
_OUTPUT_KEYS = {
    "stream": {"output_type", "name", "text"},
    "display_data": {"output_type", "data", "metadata"},
    "execute_result": {"output_type", "data", "metadata", "execution_count"},
    "error": {"output_type", "ename", "evalue", "traceback"},
}
_NOTEBOOK_KEYS = {"metadata", "nbformat_minor", "nbformat", "cells"}
_CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
#: A mimetype whose value may be any JSON (the schema's ``^application/(.*\+)?json$``).
_JSON_MIME = re.compile(r"application/(.*\+)?json")


def plainly_valid(raw: dict[str, Any]) -> bool:
    """True when a v4.0-4.5 notebook is valid by checks far cheaper than the schema's.

    The checks are stricter than the schema: True means the schema finds nothing, False
    only that the schema must be asked (nbformat's validation costs ~0.5 ms a notebook, a
    sixth of a first sync; nearly every notebook a sync sees is plainly valid). Unique cell
    ids are checked apart (``_cell_id_error``): the schema does not check them.
    """
    if raw.keys() != _NOTEBOOK_KEYS or raw["nbformat"] != 4:
        return False
    minor = raw["nbformat_minor"]
    if type(minor) is not int or not 0 <= minor <= 5 or type(raw["nbformat"]) is not int:
        return False
    cells = raw["cells"]
    return (_plain_notebook_metadata(raw["metadata"]) and isinstance(cells, list)
            and all(_plain_cell(cell, minor) for cell in cells))


def _plain_notebook_metadata(meta: object) -> bool:
    if not isinstance(meta, dict):
        return False
    # "in", not get(): a key present with null breaks the schema as any other wrong type
    spec = meta.get("kernelspec")
    if "kernelspec" in meta and not (isinstance(spec, dict) and isinstance(spec.get("name"), str)
                                 and isinstance(spec.get("display_name"), str)):
        return False
    if "language_info" in meta and not _plain_language_info(meta["language_info"]):
        return False
    original = meta.get("orig_nbformat")
    if "orig_nbformat" in meta and not (type(original) is int and original >= 1):
        return False
    # the schemas name these two from 4.2 on; a string and a list satisfy every version
    if "title" in meta and not isinstance(meta["title"], str):
        return False
    return "authors" not in meta or isinstance(meta["authors"], list)


def _plain_language_info(info: object) -> bool:
    if not isinstance(info, dict) or not isinstance(info.get("name"), str):
        return False
    mode = info.get("codemirror_mode", "")
    return isinstance(mode, (str, dict)) and all(
        isinstance(info.get(key, ""), str)
        for key in ("file_extension", "mimetype", "pygments_lexer"))


def _plain_cell(cell: object, minor: int) -> bool:
    if not isinstance(cell, dict):
        return False
    kind = cell.get("cell_type")
    shape = _CELL_KEYS.get(kind) if isinstance(kind, str) else None
    if shape is None:
        return False
    required, optional = shape
    keys = cell.keys() - optional
    if minor >= 5:
        cell_id = cell.get("id")
        if not (isinstance(cell_id, str) and _CELL_ID.fullmatch(cell_id)):
            return False
        keys = keys - {"id"}
    if keys != required or not _multiline(cell["source"]):
        return False
    if "attachments" in cell and not _plain_attachments(cell["attachments"]):
        return False
    if not _plain_cell_metadata(cell["metadata"]):
        return False
    if cell["cell_type"] != "code":
        return True
    outputs = cell["outputs"]
    return (_count(cell["execution_count"]) and isinstance(outputs, list)
            and all(_plain_output(o) for o in outputs))


def _plain_cell_metadata(meta: object) -> bool:
    """Cell metadata whose every key the schemas name has a value no version refuses."""
    if not isinstance(meta, dict):
        return False
    if "collapsed" in meta and not isinstance(meta["collapsed"], bool):
        return False
    scrolled = meta.get("scrolled")
    if "scrolled" in meta and not (isinstance(scrolled, bool) or scrolled == "auto"):
        return False
    if "format" in meta and not isinstance(meta["format"], str):
        return False
    if "jupyter" in meta and not isinstance(meta["jupyter"], dict):
        return False
    execution = meta.get("execution")
    if "execution" in meta and not (
            isinstance(execution, dict) and all(isinstance(v, str) for v in execution.values())):
        return False
    name = meta.get("name")
    if "name" in meta and not (isinstance(name, str) and name and "\n" not in name):
        return False
    tags = meta.get("tags")
    return "tags" not in meta or (
        isinstance(tags, list) and len(set(map(str, tags))) == len(tags)
        and all(isinstance(t, str) and t and "," not in t and "\n" not in t for t in tags))


def _plain_output(output: object) -> bool:
    if not isinstance(output, dict):
        return False
    kind = output.get("output_type")
    keys = _OUTPUT_KEYS.get(kind) if isinstance(kind, str) else None
    if keys is None or output.keys() != keys:
        return False
    if kind == "stream":
        return isinstance(output["name"], str) and _multiline(output["text"])
    if kind == "error":
        traceback = output["traceback"]
        return (isinstance(output["ename"], str) and isinstance(output["evalue"], str)
                and isinstance(traceback, list) and all(isinstance(t, str) for t in traceback))
    if kind == "execute_result" and not _count(output["execution_count"]):
        return False
    return isinstance(output["metadata"], dict) and _plain_bundle(output["data"])


def _plain_bundle(bundle: object) -> bool:
    """A mimebundle: text for every mimetype, any JSON for the JSON ones."""
    return isinstance(bundle, dict) and all(
        _multiline(value) or (isinstance(mime, str) and _JSON_MIME.fullmatch(mime) is not None)
        for mime, value in bundle.items())


def _plain_attachments(attachments: object) -> bool:
    return isinstance(attachments, dict) and all(
        _plain_bundle(bundle) for bundle in attachments.values())


def _multiline(value: object) -> bool:
    """A string, or a list of strings (the schema's ``multiline_string``)."""
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value))


def _count(value: object) -> bool:
    """An execution count: None or an integer from 0 (never a boolean)."""
    return value is None or (type(value) is int and value >= 0)


def _upgraded(raw: dict[str, Any]) -> dict[str, Any] | None:
    """A v1/v2 notebook as nbformat upgrades it to v4, or None when it cannot."""
    import nbformat

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            node = nbformat.reads(json.dumps(raw), as_version=4)
        except Exception:  # noqa: BLE001 - any failure of the upgrade is "cannot be upgraded"
            return None
    upgraded: dict[str, Any] = json.loads(json.dumps(node))
    return upgraded


def _cell_id_error(raw: dict[str, Any], major: int, minor: int) -> str | None:
    """Cells without an id in a 4.5+ notebook, or two cells with one id (cells from 1)."""
    if (major, minor) < (4, 5):
        return None
    seen: dict[str, int] = {}
    for number, cell in enumerate(raw.get("cells", []), start=1):
        if not isinstance(cell, dict):
            continue
        cell_id = cell.get("id")
        if cell_id is None:
            return (f"cell {number} has no id; nbformat 4.{minor} notebooks give every cell "
                    "one (Jupyter adds it when the notebook is saved again)")
        if isinstance(cell_id, str) and cell_id in seen:
            return (f"cells {seen[cell_id]} and {number} have the same id {cell_id[:40]!r}; "
                    "each cell's id must be unique")
        if isinstance(cell_id, str):
            seen[cell_id] = number
    return None


def _is_missing_cell_id(error: Exception) -> bool:
    return getattr(error, "validator", None) == "required" and "'id'" in str(
        getattr(error, "message", "")
    )


def _text(value: object, joiner: str = "") -> str:
    """Join Jupyter's multiline strings (a str or a list of str); anything else is empty.

    nbformat 3 and 4 keep each line's newline; nbformat 1 and 2 lists hold bare lines.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return joiner.join(v for v in value if isinstance(v, str))
    return ""


def iter_cells(raw: dict[str, Any]) -> Iterator[Cell]:
    """Yield the cells of a v1–v4 notebook as ``Cell``s; odd cells are read as far as possible."""
    if "worksheets" in raw and "cells" not in raw:
        sheets = raw.get("worksheets") or []
        cells = [c for s in sheets if isinstance(s, dict) for c in (s.get("cells") or [])]
    else:
        cells = raw.get("cells") or []
    major = raw.get("nbformat")
    joiner = "\n" if isinstance(major, int) and major < 3 else ""
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        kind = cell.get("cell_type")
        outputs = cell.get("outputs")
        outputs = [o for o in outputs if isinstance(o, dict)] if isinstance(outputs, list) else []
        if kind == "code":
            # v3 keeps code in "input"; v4 in "source"
            src = _text(cell.get("source") if "source" in cell else cell.get("input"), joiner)
            yield Cell("code", src, outputs)
        elif kind == "heading":  # v3 heading cells become markdown headings, as nbformat does
            level = cell.get("level")
            marks = "#" * (max(1, min(level, 6)) if isinstance(level, int) else 1)
            yield Cell("markdown", f"{marks} {_text(cell.get('source'), joiner)}")
        elif kind in ("markdown", "raw"):
            yield Cell(kind, _text(cell.get("source"), joiner), [])
        else:
            # unknown types still count; their text is raw text
            yield Cell("raw", _text(cell.get("source"), joiner), outputs)


def summarize(
    raw: dict[str, Any],
    cells: list[Cell],
    filename: str,
    major: int,
    minor: int,
    schema_error: str | None,
) -> Summary:
    """Build the catalog summary of one notebook."""
    leveled = [h for cell in cells if cell.kind == "markdown"
               for h in markdown_headings(cell.source)]
    headings = [text for _, text in leveled]
    kernel_name, language = kernel_and_language(raw, cells)
    code = [c.source for c in cells if c.kind == "code"]
    sources = "\x1e".join(f"{c.kind}\x1f{c.source}" for c in cells)
    return Summary(
        title=choose_title(cells, filename, leveled),
        headings=headings,
        kernel_name=kernel_name,
        language=language,
        nbformat=major,
        nbformat_minor=minor,
        n_cells=len(cells),
        n_code=len(code),
        n_markdown=sum(1 for c in cells if c.kind == "markdown"),
        n_raw=sum(1 for c in cells if c.kind == "raw"),
        imports=find_imports(code, language or "python"),
        source_hash=hashlib.sha256(sources.encode("utf-8", "surrogatepass")).hexdigest(),
        schema_error=schema_error,
    )


#: Kernel-name prefixes and language spellings mapped to the one name nbshelf uses.
_LANGUAGE_ALIASES = {
    "python": "python", "python2": "python", "python3": "python", "ipython": "python",
    "py": "python", "r": "r", "ir": "r", "julia": "julia", "c#": "c#", "csharp": "c#",
    ".net-csharp": "c#", "f#": "f#", "fsharp": "f#", ".net-fsharp": "f#",
    "powershell": "powershell", ".net-powershell": "powershell", "pwsh": "powershell",
    "c++": "c++", "c++11": "c++", "c++14": "c++", "c++17": "c++", "c++20": "c++",
    "c++23": "c++", "xcpp": "c++", "scala": "scala", "kotlin": "kotlin", "go": "go",
    "gophernotes": "go", "rust": "rust", "haskell": "haskell", "ihaskell": "haskell",
    "ruby": "ruby", "octave": "octave", "sql": "sql", "sqlite": "sql", "xsql": "sql",
    "bash": "bash", "sh": "bash", "javascript": "javascript", "typescript": "typescript",
    "java": "java",
}


def normalize_language(name: str | None) -> str | None:
    """Map a kernel's language or kernel name to nbshelf's lower-case language name."""
    if not name or not isinstance(name, str):
        return None
    key = name.strip().lower()
    if key in _LANGUAGE_ALIASES:
        return _LANGUAGE_ALIASES[key]
    for prefix in ("python", "julia", "ir", "xcpp", "scala", "kotlin", "haskell", "rust"):
        if key.startswith(prefix) and (len(key) == len(prefix) or not key[len(prefix)].isalpha()):
            return _LANGUAGE_ALIASES[prefix]
    return key


def as_mapping(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one: metadata is often odd."""
    return value if isinstance(value, dict) else {}


def kernel_and_language(raw: dict[str, Any], cells: list[Cell]) -> tuple[str | None, str | None]:
    """The kernelspec name and the normalized language: from metadata, else guessed."""
    meta = as_mapping(raw.get("metadata"))
    spec = as_mapping(meta.get("kernelspec"))
    info = as_mapping(meta.get("language_info"))
    kernel = spec.get("name") if isinstance(spec.get("name"), str) else None
    language = (
        normalize_language(spec.get("language"))
        or normalize_language(info.get("name"))
        or normalize_language(meta.get("language"))  # nbformat v3
        or normalize_language(kernel)
    )
    if language is None:
        language = guess_language([c.source for c in cells if c.kind == "code"])
    return kernel, language


_R_HINTS = re.compile(r"(<-|\blibrary\(|\bc\(|\bfunction\s*\()")
_JULIA_HINTS = re.compile(r"(^\s*using\s+\w|\bprintln\(|^\s*end\s*$|\bfunction\s+\w+\()", re.M)


def guess_language(code_cells: list[str]) -> str | None:
    """Guess a notebook's language from its code when the metadata says nothing.

    Python is the answer unless R or Julia idioms clearly dominate: most notebooks without
    metadata are old Python ones.
    """
    code = "\n".join(code_cells)
    if not code.strip():
        return None
    r_score = len(_R_HINTS.findall(code))
    julia_score = len(_JULIA_HINTS.findall(code))
    python_score = len(re.findall(r"^\s*(import |from \w|def |print\()", code, re.M))
    if r_score > max(python_score, julia_score):
        return "r"
    if julia_score > max(python_score, r_score):
        return "julia"
    return "python"
