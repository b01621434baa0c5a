"""Read the parts of a notebook dict that rendering needs, whatever its shape.

Notebooks arrive as plain dicts parsed from JSON: nbformat v3 (cells inside worksheets, code
in ``input``, outputs such as ``pyout`` with mime types under short keys) or v4.0-4.5, and some
have missing or odd fields. This module turns either into one small, tolerant model so the
rest of the renderer never has to guess; it never raises for content.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# v3 stored output data under short keys; v4 uses mime types.
_V3_MIME = {
    "text": "text/plain",
    "html": "text/html",
    "svg": "image/svg+xml",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "latex": "text/latex",
    "json": "application/json",
    "javascript": "application/javascript",
    "markdown": "text/markdown",
}
_V3_OUTPUT_TYPE = {"pyout": "execute_result", "pyerr": "error"}


@dataclass
class Output:
    """One output of a code cell, in v4 terms.

    Attributes:
        kind: ``stream``, ``display_data``, ``execute_result``, ``error`` or whatever the file
            says (unknown kinds are rendered as a placeholder).
        data: mime type → text (multi-line values already joined).
        metadata: per-mime metadata (image width/height).
        name: the stream name (``stdout``/``stderr``) for streams.
        text: the stream text.
        ename, evalue, traceback: the parts of an error.
        execution_count: the prompt number of an ``execute_result``.
    """

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    name: str = "stdout"
    text: str = ""
    ename: str = ""
    evalue: str = ""
    traceback: list[str] = field(default_factory=list)
    execution_count: int | None = None


@dataclass
class Cell:
    """One cell: its kind, source and what came with it.

    Attributes:
        kind: ``markdown``, ``code``, ``raw``, ``heading`` (v3) or what the file says.
        source: the cell's text.
        execution_count: the ``In [n]`` number, if any.
        outputs: the outputs of a code cell.
        attachments: attachment name → {mime: base64} for markdown images.
        level: the heading level of a v3 heading cell.
    """

    kind: str
    source: str
    execution_count: int | None = None
    outputs: list[Output] = field(default_factory=list)
    attachments: dict[str, Any] = field(default_factory=dict)
    level: int = 1


def text_of(value: object) -> str:
    """Join a notebook multi-line string (a str or a list of str) into one str.

    Args:
        value: what the file holds; anything else yields ``""`` or its ``str``.

    Returns:
        The text.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(v if isinstance(v, str) else str(v) for v in value)
    if value is None:
        return ""
    return str(value)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int_or_none(value: object) -> int | None:
    # bool is an int subclass; a prompt number of True is nonsense, not 1.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def iter_raw_cells(nb: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield the cell dicts of a v3 or v4 notebook, skipping anything that is not a dict.

    Args:
        nb: the parsed notebook.

    Yields:
        Each cell dict in order (v3 worksheets are concatenated).
    """
    if isinstance(nb.get("worksheets"), list):
        for ws in nb["worksheets"]:
            for cell in _dict(ws).get("cells") or []:
                if isinstance(cell, dict):
                    yield cell
        return
    cells = nb.get("cells")
    if isinstance(cells, list):
        for cell in cells:
            if isinstance(cell, dict):
                yield cell


def _output(raw: dict[str, Any]) -> Output:
    kind = str(raw.get("output_type") or "unknown")
    kind = _V3_OUTPUT_TYPE.get(kind, kind)
    out = Output(kind=kind, metadata=_dict(raw.get("metadata")))
    if kind == "stream":
        out.name = str(raw.get("name") or raw.get("stream") or "stdout")
        out.text = text_of(raw.get("text"))
    elif kind == "error":
        out.ename = text_of(raw.get("ename"))
        out.evalue = text_of(raw.get("evalue"))
        tb = raw.get("traceback")
        out.traceback = [text_of(t) for t in tb] if isinstance(tb, list) else []
    else:
        data = raw.get("data")
        if isinstance(data, dict):
            out.data = {str(k): v for k, v in data.items()}
        else:
            # v3: mime data sits beside output_type under short keys.
            out.data = {_V3_MIME[k]: v for k, v in raw.items() if k in _V3_MIME}
        out.execution_count = _int_or_none(raw.get("execution_count", raw.get("prompt_number")))
    return out


def read_cell(raw: dict[str, Any]) -> Cell:
    """Turn one cell dict of any version into a :class:`Cell`.

    Args:
        raw: the cell as found in the file.

    Returns:
        The cell; missing fields take empty values.
    """
    kind = str(raw.get("cell_type") or "unknown")
    source = text_of(raw.get("source", raw.get("input")))
    cell = Cell(kind=kind, source=source)
    if kind == "code":
        cell.execution_count = _int_or_none(raw.get("execution_count", raw.get("prompt_number")))
        outputs = raw.get("outputs")
        if isinstance(outputs, list):
            cell.outputs = [_output(o) for o in outputs if isinstance(o, dict)]
    cell.attachments = _dict(raw.get("attachments"))
    level = raw.get("level")
    if isinstance(level, int) and 1 <= level <= 6:
        cell.level = level
    return cell


def language_of(nb: dict[str, Any]) -> str:
    """The notebook's programming language, for highlighting.

    Args:
        nb: the parsed notebook.

    Returns:
        A lower-case language name (``python`` when the file does not say).
    """
    meta = _dict(nb.get("metadata"))
    for value in (
        _dict(meta.get("kernelspec")).get("language"),
        _dict(meta.get("language_info")).get("name"),
        meta.get("language"),
    ):
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    for ws in nb.get("worksheets") or []:
        for cell in _dict(ws).get("cells") or []:
            lang = _dict(cell).get("language")
            if isinstance(lang, str) and lang.strip():
                return lang.strip().lower()
    return "python"


def kernel_of(nb: dict[str, Any]) -> str:
    """The kernel's display name as the file records it, or ``""``."""
    spec = _dict(_dict(nb.get("metadata")).get("kernelspec"))
    return str(spec.get("display_name") or spec.get("name") or "")
