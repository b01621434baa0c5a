"""The text of a notebook that search and similarity look at, cell by cell.

Only what people search is kept: markdown, code, and the text of outputs, capped. Images,
base64 payloads, widget state and huge generated outputs are left out: they make an index
big and slow and never answer a query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from nbshelf.notebook import Cell, as_mapping

#: Caps, in characters: one output, all outputs of a notebook, and any one cell.
MAX_OUTPUT_CHARS = 2_000
MAX_OUTPUTS_CHARS = 20_000
MAX_CELL_CHARS = 20_000
#: A "word" this long is data (base64, hex dumps, minified JSON), not something to search.
_LONG_RUN = re.compile(r"\S{80,}")
_TAG = re.compile(r"<[^>]+>")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TEXT_MIMES = ("text/plain", "text/markdown", "text/latex")


@dataclass(frozen=True)
class CellText:
    """Searchable text of one cell (``kind`` code, markdown or raw) or of its outputs."""

    index: int
    kind: str  # "code" | "markdown" | "raw" | "output"
    text: str


def clean(text: str, limit: int) -> str:
    """Drop data-like runs and cut to ``limit`` characters."""
    if len(text) > limit * 4:
        text = text[: limit * 4]
    text = _LONG_RUN.sub(" ", text)
    return text[:limit]


def output_text(output: dict[str, Any]) -> str:
    """The human-readable text of one output, without markup or colour codes."""
    kind = output.get("output_type")
    if kind == "stream":
        return _join(output.get("text"))
    if kind == "error":
        return f"{output.get('ename', '')}: {output.get('evalue', '')}"
    data = output.get("data")
    if not isinstance(data, dict):
        return ""
    for mime in _TEXT_MIMES:
        if mime in data:
            return _join(data[mime])
    if "text/html" in data:
        return _TAG.sub(" ", _join(data["text/html"]))
    return ""


def _join(value: object) -> str:
    if isinstance(value, str):
        return _ANSI.sub("", value)
    if isinstance(value, list):
        return _ANSI.sub("", "".join(v for v in value if isinstance(v, str)))
    return ""


def cell_texts(cells: list[Cell]) -> list[CellText]:
    """Every cell's searchable text, and its outputs' text as a separate ``output`` entry."""
    found: list[CellText] = []
    outputs_left = MAX_OUTPUTS_CHARS
    for index, cell in enumerate(cells):
        if cell.source.strip():
            found.append(CellText(index, cell.kind, clean(cell.source, MAX_CELL_CHARS)))
        if cell.outputs and outputs_left > 0:
            parts = [clean(output_text(o), MAX_OUTPUT_CHARS) for o in cell.outputs]
            text = "\n".join(p for p in parts if p.strip())[:outputs_left]
            if text.strip():
                outputs_left -= len(text)
                found.append(CellText(index, "output", text))
    return found


def pack_cells(texts: list[CellText]) -> bytes:
    """``texts`` as compact JSON, kept in the search index for snippets."""
    return orjson.dumps([[t.index, t.kind, t.text] for t in texts])


def unpack_cells(data: bytes) -> list[CellText] | None:
    """What ``pack_cells`` packed; None when ``data`` is empty or not such a list."""
    if not data:
        return None
    try:
        return [CellText(index, kind, text) for index, kind, text in orjson.loads(data)]
    except (orjson.JSONDecodeError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Labels:
    """What a notebook's metadata says about it: tags, authors and its control marking."""

    tags: list[str]
    authors: list[str]
    marking: str | None


def notebook_labels(raw: dict[str, Any]) -> Labels:
    """Tags (``metadata.tags``/``nbshelf.tags``), authors and the ``nbshelf.marking``."""
    meta = as_mapping(raw.get("metadata"))
    own = as_mapping(meta.get("nbshelf"))
    tags = _strings(own.get("tags")) + _strings(meta.get("tags")) + _strings(meta.get("keywords"))
    authors: list[str] = []
    listed = meta.get("authors")
    for author in listed if isinstance(listed, list) else []:
        if isinstance(author, dict) and isinstance(author.get("name"), str):
            authors.append(author["name"])
        elif isinstance(author, str):
            authors.append(author)
    if isinstance(meta.get("author"), str):
        authors.append(meta["author"])
    marking = own.get("marking") if isinstance(own.get("marking"), str) else None
    return Labels(sorted(set(tags)), authors, marking)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []
