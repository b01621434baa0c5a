"""Exporting a notebook of the library as a script, Markdown, a notebook file or one HTML page.

Scripts, Markdown and notebook files come from nbconvert's own exporters (``ScriptExporter``,
``MarkdownExporter``, ``NotebookExporter``), so an export reads as ``jupyter nbconvert --to``
writes it. HTML does not: nbconvert's HTML templates load MathJax and require.js from CDNs and
keep a notebook's scripts, so the page is nbshelf's own viewer page (``Library.render(...,
standalone=True)``: sanitized, styles inlined, math as MathML), checked once more here with
``render.audit`` before it is written.

What a notebook says is untrusted here too:

- ``language_info.nbconvert_exporter`` names the exporter ``ScriptExporter`` hands the work
  to, by entry point or by *dotted import path*; only ``python`` is honoured, so a notebook
  cannot make a "script" export import a module of its choosing or come out as an HTML page.
- ``language_info.file_extension`` names the script's extension; only a known script
  extension is taken (never ``.html``, never a path), else the language's usual one.
- Markdown's images (outputs and attachments) are written beside the ``.md`` in a
  ``NAME_files`` folder, as nbconvert writes them; each name is checked to stay there.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from nbshelf.errors import NbshelfError, NotebookInvalid
from nbshelf.safepath import inside
from nbshelf.store import atomic_write

if TYPE_CHECKING:
    from nbformat import NotebookNode

#: The formats ``export`` writes.
FORMATS = ("script", "markdown", "html", "notebook")

#: A language's usual script extension, by the lower-cased name in language_info/kernelspec.
SCRIPT_EXTENSIONS = {
    "python": ".py", "python3": ".py", "ipython": ".py", "r": ".R", "julia": ".jl",
    "javascript": ".js", "typescript": ".ts", "scala": ".scala", "java": ".java",
    "kotlin": ".kt", "groovy": ".groovy", "c": ".c", "c++": ".cpp", "cpp": ".cpp",
    "c#": ".cs", "csharp": ".cs", "f#": ".fs", "fsharp": ".fs", "go": ".go", "rust": ".rs",
    "ruby": ".rb", "perl": ".pl", "bash": ".sh", "sh": ".sh", "zsh": ".sh",
    "powershell": ".ps1", "matlab": ".m", "octave": ".m", "sas": ".sas", "stata": ".do",
    "sql": ".sql", "haskell": ".hs", "lua": ".lua", "fortran": ".f90", "swift": ".swift",
    "wolfram language": ".wl", "maxima": ".mac", "gnuplot": ".gp", "scheme": ".scm",
    "clojure": ".clj", "elixir": ".ex", "erlang": ".erl", "ocaml": ".ml", "php": ".php",
}  # fmt: skip
#: Extensions taken from ``language_info.file_extension`` as the kernel wrote them (IRkernel
#: writes ".r", as ``jupyter nbconvert --to script`` then names the file).
_TRUSTED_EXTENSIONS = frozenset(SCRIPT_EXTENSIONS.values()) | {".r", ".hpp", ".cc"}
#: The only ``nbconvert_exporter`` a notebook may name (the one Python kernels write).
_ALLOWED_DELEGATES = frozenset({"python", "script"})
_FORMAT_EXTENSIONS = {"markdown": ".md", "html": ".html", "notebook": ".ipynb"}
#: nbformat versions converted to v4 for nbconvert (v1, from 2011, does not convert reliably).
_READABLE = (2, 3, 4)
_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_UNSAFE_NAME = re.compile(r"[^\w.-]")
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Exported:
    """A conversion, before it is written.

    Attributes:
        body: the main file's bytes.
        files: files written beside it (Markdown's images), by path relative to its folder.
        notes: what nbconvert said it left out, for the user.
    """

    body: bytes
    files: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def check_format(to: str) -> str:
    """Return ``to`` if it is a format ``export`` writes; raise ``NbshelfError`` otherwise."""
    if to not in FORMATS:
        raise NbshelfError(f"unknown export format {to!r}; choose one of {', '.join(FORMATS)}")
    return to


def export_notebook(data: bytes, to: str, *, name: str, out: str | Path | None = None,
                    force: bool = False, language: str | None = None, page: str | None = None,
                    folder: Path | None = None) -> dict[str, Any]:
    """Convert a notebook version and write it; return what was written.

    Args:
        data: the notebook's bytes (any nbformat; v2/v3 are upgraded). Unused for html.
        to: ``script``, ``markdown``, ``html`` or ``notebook``.
        name: the notebook's path in its source; its file name names the default output.
        out: the file to write, or a folder to write the default name into; default: the
            notebook's name with the format's extension, in the current folder.
        force: replace files that exist (never the notebook's own file in its source).
        language: the catalog's language for the notebook, when its metadata names none.
        page: for html, the page ``Library.render(..., standalone=True)`` made.
        folder: the notebook's folder in its source, when reachable.

    Returns:
        ``{"output": path, "format": to, "bytes": int, "files": [paths beside it],
        "warnings": [what nbconvert left out]}``.

    Raises:
        NbshelfError: an unknown format, a file that exists (without ``force``) or cannot
            be written; ``NotebookInvalid`` when the notebook cannot be converted.
    """
    check_format(to)
    if to == "html":
        if page is None:
            raise ValueError("an html export needs the rendered page")
        target = output_path(name, _FORMAT_EXTENSIONS[to], out)
        made = html_export(page)
    else:
        nb = read_notebook(data)
        extension = script_extension(nb, language) if to == "script" else _FORMAT_EXTENSIONS[to]
        target = output_path(name, extension, out)
        made = convert(nb, to, _safe_stem(target.stem), extension)
    own = folder / _file_name(name) if folder is not None else None
    files = write_export(made, target, force=force, protect=own)
    return {"output": str(target), "format": to, "bytes": len(made.body),
            "files": [str(p) for p in files], "warnings": made.notes}


def read_notebook(data: bytes) -> NotebookNode:
    """Notebook bytes as a v4.5 ``NotebookNode`` nbconvert accepts without a warning.

    v2/v3 notebooks are converted and v4.0-4.4 upgraded; missing, malformed or repeated cell
    ids are replaced (nbconvert would warn and do the same); metadata that breaks the schema
    is dropped, as ``nbformat.validator.normalize`` does.

    Raises:
        NotebookInvalid: the bytes cannot be read as a notebook.
    """
    import nbformat
    from nbformat.validator import normalize

    try:
        raw = json.loads(data.removeprefix(_BOM).decode("utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("it is not a JSON object")
        # as the catalog reads it (notebook/reading.py): no version means 4 with cells, else 3
        major = raw.setdefault("nbformat", 4 if "cells" in raw else 3)
        if type(major) is not int or major not in _READABLE:
            raise ValueError(f"nbformat {major!r} is not a version nbconvert exports "
                             f"({', '.join(map(str, _READABLE))})")
        minor = raw.get("nbformat_minor", 0)
        minor = raw["nbformat_minor"] = minor if type(minor) is int and minor >= 0 else 0
        if major == 4:
            _complete_cells(raw)
        if major < 4:
            nb = _converted(raw, major, minor)
        else:
            nb = nbformat.versions[major].to_notebook_json(raw, minor=minor)
        if minor < 5 and major == 4:
            nb = nbformat.v4.upgrade(nb, from_version=4, from_minor=minor)
        if not isinstance(nb.get("cells"), list) or not all(
                isinstance(c, dict) for c in nb.cells):
            raise ValueError("its 'cells' is not a list of cells")
        _fix_cell_ids(nb.cells)
        nb.setdefault("metadata", nbformat.NotebookNode())
        _changes, fixed = normalize(nb, strip_invalid_metadata=True)
        return nbformat.from_dict(fixed)
    except (nbformat.ValidationError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise NotebookInvalid("not-exportable",
                              f"the notebook cannot be exported: {_short(err)}") from None


def _converted(raw: dict[str, Any], major: int, minor: int) -> NotebookNode:
    """A v2/v3 notebook as v4, as nbformat converts it."""
    import nbformat

    try:
        return nbformat.convert(nbformat.versions[major].to_notebook_json(raw, minor=minor), 4)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"it says nbformat {major}, but nbformat cannot convert it to "
                         f"nbformat 4 ({type(err).__name__}: {_short(err)})") from None


def _complete_cells(raw: dict[str, Any]) -> None:
    """Fill in what v4 cells must hold and lenient writers leave out: the catalog and the
    viewer read such notebooks, and nbconvert's templates need the fields."""
    cells = raw.get("cells")
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        raise ValueError("its 'cells' is not a list of cells")
    if not isinstance(raw.get("metadata"), dict):
        raw["metadata"] = {}
    for cell in cells:
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
        cell.setdefault("source", "")
        if cell.get("cell_type") == "code":
            outputs = cell.get("outputs")
            cell["outputs"] = [o for o in outputs if isinstance(o, dict)] if isinstance(
                outputs, list) else []
            for out in cell["outputs"]:
                if out.get("output_type") in ("display_data", "execute_result"):
                    for key in ("data", "metadata"):
                        if not isinstance(out.get(key), dict):
                            out[key] = {}
            cell.setdefault("execution_count", None)
        elif "attachments" in cell and not isinstance(cell["attachments"], dict):
            del cell["attachments"]


def _fix_cell_ids(cells: list[Any]) -> None:
    from nbformat.v4.nbbase import random_cell_id

    seen: set[str] = set()
    for cell in cells:
        cell_id = cell.get("id")
        while not isinstance(cell_id, str) or not _CELL_ID.match(cell_id) or cell_id in seen:
            cell_id = random_cell_id()
        cell["id"] = cell_id
        seen.add(cell_id)


def script_extension(nb: dict[str, Any], language: str | None = None) -> str:
    """The extension of the notebook's script: its kernel's (``language_info``) when that is a
    known script extension, else its language's usual one, else ``.txt`` (as nbconvert)."""
    metadata = _as_dict(nb.get("metadata"))
    info = _as_dict(metadata.get("language_info"))
    declared = info.get("file_extension")
    if isinstance(declared, str) and declared in _TRUSTED_EXTENSIONS:
        return declared
    for named in (info.get("name"), _as_dict(metadata.get("kernelspec")).get("language"),
                  language):
        if isinstance(named, str) and named.strip().lower() in SCRIPT_EXTENSIONS:
            return SCRIPT_EXTENSIONS[named.strip().lower()]
    return ".txt"


def convert(nb: NotebookNode, to: str, stem: str, extension: str = ".txt") -> Exported:
    """Run nbconvert's exporter for ``script``, ``markdown`` or ``notebook``.

    Args:
        nb: the notebook, as ``read_notebook`` gives it (not changed).
        to: the format.
        stem: names Markdown's image folder (``STEM_files``) and its images, as nbconvert's
            command line names them after the notebook.
        extension: a script's extension (``script_extension``), told to ``ScriptExporter``
            in place of the notebook's own.

    Raises:
        NotebookInvalid: nbconvert finds the notebook breaks the nbformat schema.
    """
    import nbformat
    from nbconvert.exporters import MarkdownExporter, NotebookExporter, ScriptExporter
    from traitlets import TraitError

    exporters = {"script": ScriptExporter, "markdown": MarkdownExporter,
                 "notebook": NotebookExporter}
    if to == "script":
        nb = _for_script_exporter(nb, extension)
    resources = {"unique_key": stem, "output_files_dir": f"{stem}_files"}
    try:
        # nbconvert warns (UserWarning) for each output it cannot represent; those become
        # notes for the user (catch_warnings is process-wide: the Library runs on one thread)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            body, produced = exporters[to]().from_notebook_node(nb, resources=resources)
    except nbformat.ValidationError as err:
        raise NotebookInvalid("not-exportable", f"nbconvert cannot export it as {to}: the "
                              f"notebook breaks the nbformat schema ({_short(err)})") from None
    except (KeyError, TypeError, AttributeError, ValueError, TraitError) as err:
        # nbconvert's templates assume well-formed cells and outputs; a notebook the library
        # reads leniently may still have none of that
        raise NotebookInvalid("not-exportable", f"nbconvert cannot export it as {to}: "
                              f"{type(err).__name__}: {_short(err)}") from None
    files = {}
    for rel, content in (produced.get("outputs") or {}).items():
        files[str(rel).replace(os.sep, "/")] = (
            content if isinstance(content, bytes) else str(content).encode("utf-8"))
    return Exported(body.encode("utf-8"), files, _notes(caught))


def _notes(caught: list[warnings.WarningMessage]) -> list[str]:
    """What nbconvert warned the user about (an output it cannot represent in the format is
    left out: a widget, a JavaScript output), once each; any other warning goes on as one."""
    notes: list[str] = []
    for found in caught:
        if found.category is UserWarning:
            text = f"nbconvert: {found.message}"
            if text not in notes:
                notes.append(text)
        else:
            warnings.warn_explicit(found.message, found.category, found.filename, found.lineno)
    return notes


def _for_script_exporter(nb: NotebookNode, extension: str) -> NotebookNode:
    """A copy whose ``language_info`` ``ScriptExporter`` may act on: no ``nbconvert_exporter``
    but python's (it would import whatever that names, an entry point or any dotted path, and
    return its output), our ``file_extension``, a ``mimetype`` only if it is text."""
    import copy

    info = _as_dict(nb.get("metadata")).get("language_info")
    if not isinstance(info, dict):
        return nb
    nb = copy.deepcopy(nb)
    info = nb.metadata.language_info
    delegate = info.get("nbconvert_exporter")
    if not (isinstance(delegate, str) and delegate in _ALLOWED_DELEGATES):
        info.pop("nbconvert_exporter", None)
    info["file_extension"] = extension
    if not isinstance(info.get("mimetype"), str):
        info.pop("mimetype", None)
    return nb


def html_export(page: str) -> Exported:
    """The viewer's standalone page as an export, checked to load and run nothing.

    Raises:
        NbshelfError: the page would reach out or run a script (a defence that must hold).
    """
    from nbshelf.render.audit import remote_references

    found = remote_references(page)
    if found:
        raise NbshelfError(f"the page would load {found[0]}; not written (please report this)")
    return Exported(page.encode("utf-8"))


def output_path(name: str, extension: str, out: str | Path | None) -> Path:
    """Where an export goes: ``out``, or the default name inside ``out`` when it is a folder,
    or the default name (the notebook's, with ``extension``) in the current folder."""
    default = Path(_notebook_stem(name) + extension)
    if out is None:
        return Path.cwd() / default
    chosen = Path(os.path.abspath(Path(out).expanduser()))
    return chosen / default if chosen.is_dir() else chosen


def write_export(made: Exported, target: Path, *, force: bool, protect: Path | None = None
                 ) -> list[Path]:
    """Write the files beside ``target`` and then ``target``, each atomically; return the
    paths of the files beside it.

    Raises:
        NbshelfError: a file exists and ``force`` is not given; ``target`` is the notebook's
            own file (``protect``); a file cannot be written. ``UnsafePath`` when a file's
            name would lead out of ``target``'s folder.
    """
    beside = [(inside(target.parent, rel, what="image file"), data)
              for rel, data in sorted(made.files.items())]
    if protect is not None and _same_file(target, protect):
        raise NbshelfError(f"{target} is the notebook itself; choose another file with -o")
    if not force:
        for path in [target, *(p for p, _ in beside)]:
            if path.exists() or path.is_symlink():
                raise NbshelfError(f"{path} exists; use --force to replace it")
    where = target.parent
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        for where, data in beside:
            where.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(where, data, mode=0o644)
        where = target
        atomic_write(target, made.body, mode=0o644)
    except OSError as err:
        raise NbshelfError(f"cannot write {where}: {err.strerror or err}") from None
    return [p for p, _ in beside]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _file_name(name: str) -> str:
    """The file name of a catalog path (forward slashes; an opened file's may be native)."""
    return PurePosixPath(name.replace("\\", "/")).name


def _notebook_stem(name: str) -> str:
    base = _file_name(name)
    stem = base[: -len(".ipynb")] if base.lower().endswith(".ipynb") else Path(base).stem
    return stem or "notebook"


def _safe_stem(stem: str) -> str:
    """A stem fit for links in Markdown (nbconvert writes attachment paths unquoted)."""
    return _UNSAFE_NAME.sub("_", stem) or "notebook"


def _as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _short(err: BaseException) -> str:
    if isinstance(err, KeyError):
        return f"it has no {err.args[0]!r} field" if err.args else "a field is missing"
    text = str(getattr(err, "message", None) or err).strip().splitlines()
    first = text[0] if text else type(err).__name__
    return first if len(first) <= 200 else first[:197] + "..."
