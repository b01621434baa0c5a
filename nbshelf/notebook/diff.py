"""Cell-level differences between two versions of a notebook, paired as nbdime pairs them.

Cells are paired with nbdime's multilevel algorithm (``nbdime.diffing.notebooks``): a longest
common subsequence of cells with equal ids first, then, in each stretch between those pairs,
of cells alike at three levels of strictness (near-equal source and equal outputs; alike
source and outputs that pair up; alike source) and of the same type. Cells without ids
(nbformat 4.0-4.4, most notebooks) are thus paired by content, and a cell whose id changed
but whose text is close is one modified cell, not a removal and an addition.

nbdime itself is the oracle (tests/core/test_diff_nbdime.py), not the engine. Its import is
cheap (15 ms over nbformat), but on the largest notebook of the corpus (286 cells, 3.8 MB)
one diff takes 3.6 s (no change) to 15.6 s (every output changed), where this takes 3 to
510 ms; and the module graph PyInstaller follows from it reaches jupyter_server, tornado,
GitPython and requests. The predicates below are nbdime's, with its thresholds and the same
tie-breaking of the common subsequence; they are fast because each comparison tries
difflib's cheap bounds on the ratio (lengths, then letter counts) before the ratio, and a
common tail is paired without filling the grid.

What changed in a paired cell: its type, source and attachments always; its outputs,
metadata (cell and output metadata, cell ids) and execution counts only when asked, as
nbdime's ``--ignore-outputs``, ``--ignore-metadata``/``--ignore-id`` and ``--ignore-details``
leave them out.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nbshelf.errors import NotebookInvalid
from nbshelf.notebook.reading import as_mapping, read_cells

#: What can change in a paired cell, in the order it is reported.
PARTS = ("cell_type", "source", "attachments", "outputs", "execution_count", "metadata")

# nbdime's constants (nbdime/diffing/notebooks.py and generic.py).
_APPROXIMATE = 0.7  # compare_strings_approximate's default threshold
_STRICT = 0.95  # compare_text_strict's
_SHORT = 10  # two texts both shorter than this are alike (compare_text_approximate)
_MIMEDATA_MAXLEN = 10000  # TEXT_MIMEDATA_MAX_COMPARE_LENGTH
_STREAM_MAXLEN = 1000  # STREAM_MAX_COMPARE_LENGTH
_BASE64 = re.compile(r"^(?:[a-z0-9+/]{4})*(?:[a-z0-9+/]{2}==|[a-z0-9+/]{3}=)?$", re.IGNORECASE)
_POINTER = re.compile(r"0x[a-f0-9]{8,16}", re.IGNORECASE)

_ABSENT = object()  # a key a cell does not have, unlike one set to null

Snake = tuple[int, int, int]  # (i, j, n): a[i:i+n] pairs with b[j:j+n]
Compare = Callable[[int, int], bool]


@dataclass(frozen=True)
class CellChange:
    """One added, removed or modified cell.

    Attributes:
        kind: ``"added"``, ``"removed"`` or ``"modified"``.
        old_index: the cell's place in the old version (from 0), None when added.
        new_index: its place in the new version (from 0), None when removed.
        cell_type: ``code``, ``markdown`` or ``raw`` (the new cell's, unless removed).
        source_diff: unified diff lines of the source (all ``+`` or ``-`` for a whole cell).
        changed: what changed in a modified cell, a subset of ``PARTS`` in that order.
    """

    kind: str
    old_index: int | None
    new_index: int | None
    cell_type: str
    source_diff: list[str] = field(default_factory=list)
    changed: tuple[str, ...] = ()

    @property
    def outputs_changed(self) -> bool:
        """The cell's outputs differ (only looked at when outputs were asked for)."""
        return "outputs" in self.changed

    @property
    def metadata_changed(self) -> bool:
        """The cell's metadata or id differ (only looked at when metadata was asked for)."""
        return "metadata" in self.changed

    def to_json(self) -> dict[str, Any]:
        """The JSON form: cell numbers count from 1, the source diff is one text."""
        return {
            "kind": self.kind, "cell_type": self.cell_type,
            "old_cell": None if self.old_index is None else self.old_index + 1,
            "new_cell": None if self.new_index is None else self.new_index + 1,
            "changed": list(self.changed), "source_diff": "\n".join(self.source_diff),
        }


def read_for_diff(data: bytes) -> dict[str, Any]:
    """Notebook bytes as an nbformat 4 dict whose cells keep the file's own ids.

    Multiline strings are joined and ``trusted`` dropped from cell metadata, as nbformat's
    reader does; nothing is validated, and no id is made up: cells without an id (nbformat
    4.0-4.4, or older versions upgraded here) have none, so they are paired by content.

    Raises:
        NotebookInvalid: the bytes are not a notebook.
    """
    raw, _cells = read_cells(data)
    major = raw.get("nbformat")
    if isinstance(major, int) and major < 4:
        raw = _upgrade(data)
    cells = raw.get("cells")
    cells = cells if isinstance(cells, list) else []
    return {"metadata": as_mapping(raw.get("metadata")),
            "cells": [_clean_cell(c) for c in cells if isinstance(c, dict)]}


def _upgrade(data: bytes) -> dict[str, Any]:
    import nbformat
    from nbformat import ValidationError
    from nbformat.reader import reads

    try:
        nb = nbformat.convert(reads(data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")), 4)
    except (ValidationError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise NotebookInvalid("not-a-notebook", f"the notebook cannot be upgraded: {err}") from None
    for cell in nb.get("cells", []):
        cell.pop("id", None)  # made up by the upgrade, different on every read
    return dict(nb)


def _clean_cell(cell: dict[str, Any]) -> dict[str, Any]:
    clean = dict(cell)
    clean["cell_type"] = str(cell.get("cell_type"))
    clean["source"] = _joined(cell.get("source", ""))
    metadata = dict(as_mapping(cell.get("metadata")))
    metadata.pop("trusted", None)  # set by the viewer, never part of the notebook
    clean["metadata"] = metadata
    if "attachments" in cell:
        clean["attachments"] = {name: _joined_bundle(bundle)
                                for name, bundle in as_mapping(cell["attachments"]).items()}
    if clean["cell_type"] == "code":
        outputs = cell.get("outputs")
        clean["outputs"] = [_clean_output(o) for o in outputs if isinstance(o, dict)] if (
            isinstance(outputs, list)) else []
    return clean


def _clean_output(output: dict[str, Any]) -> dict[str, Any]:
    clean = dict(output)
    if isinstance(output.get("text"), list):
        clean["text"] = _joined(output["text"])
    if isinstance(output.get("data"), dict):
        clean["data"] = _joined_bundle(output["data"])
    return clean


def _joined(value: object) -> str:
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def _joined_bundle(bundle: object) -> dict[str, Any]:
    """A MIME bundle with its multiline strings joined (JSON data stays as it is)."""
    joined = {}
    for mime, value in as_mapping(bundle).items():
        is_json = mime == "application/json" or (
            mime.startswith("application/") and mime.endswith("+json"))
        if not is_json and isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = "".join(value)
        joined[mime] = value
    return joined


def diff_notebooks(old: dict[str, Any], new: dict[str, Any], *, outputs: bool = False,
                   metadata: bool = False, execution_count: bool = False) -> list[CellChange]:
    """The cell changes from ``old`` to ``new``, in notebook order.

    Args:
        old: the old version, as ``read_for_diff`` gives it.
        new: the new version, likewise.
        outputs: report changed outputs too.
        metadata: report changed cell and output metadata and cell ids too.
        execution_count: report changed execution counts too.
    """
    a, b = _cells(old), _cells(new)
    wanted = {"cell_type", "source", "attachments"} | {name for name, on in (
        ("outputs", outputs), ("metadata", metadata), ("execution_count", execution_count)) if on}
    compare = _OutputComparer()
    changes: list[CellChange] = []
    i0 = j0 = 0
    for i, j, n in [*_align(_CellComparer(a, b, compare)), (len(a), len(b), 0)]:
        changes += [CellChange("removed", k, None, a[k]["cell_type"], _unified(a[k]["source"], ""))
                    for k in range(i0, i)]
        changes += [CellChange("added", None, k, b[k]["cell_type"], _unified("", b[k]["source"]))
                    for k in range(j0, j)]
        for k in range(n):
            changed = tuple(p for p in _changed(a[i + k], b[j + k], compare) if p in wanted)
            if changed:
                x, y = a[i + k]["source"], b[j + k]["source"]
                changes.append(CellChange("modified", i + k, j + k, b[j + k]["cell_type"],
                                          _unified(x, y) if x != y else [], changed))
        i0, j0 = i + n, j + n
    return changes


def _cells(nb: dict[str, Any]) -> list[dict[str, Any]]:
    cells = nb.get("cells")
    return [_clean_cell(c) for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def _changed(x: dict[str, Any], y: dict[str, Any], compare: _OutputComparer) -> list[str]:
    """What differs between two paired cells, as ``PARTS`` names.

    Cells with the same id pair even across types (a code cell turned into markdown keeps
    its id): that cell's type, outputs and execution count changed. An output differing only
    in its metadata is a metadata change and one differing only in its execution count an
    execution-count change, as nbdime files them. Cell ids and keys outside the schema count
    as metadata.
    """
    changed = {"metadata" if key in ("id", "metadata") or key not in PARTS else key
               for key in x.keys() | y.keys()
               if key != "attachments" and x.get(key, _ABSENT) != y.get(key, _ABSENT)}
    # no attachments and an empty {} are the same: nothing a reader sees changed
    if (x.get("attachments") or y.get("attachments")) and (
            x.get("attachments") != y.get("attachments")):
        changed.add("attachments")
    xo, yo = x.get("outputs"), y.get("outputs")
    if isinstance(xo, list) and isinstance(yo, list) and xo != yo:
        changed.discard("outputs")
        changed |= _output_changes(xo, yo, compare)
    return sorted(changed, key=PARTS.index)


def _output_changes(xo: list[dict[str, Any]], yo: list[dict[str, Any]],
                    compare: _OutputComparer) -> set[str]:
    """What differs between two output lists, their outputs paired as nbdime pairs them."""
    snakes = _snakes_multilevel(len(xo), len(yo), compare.levels(xo, yo))
    changed = set() if sum(n for _i, _j, n in snakes) == len(xo) == len(yo) else {"outputs"}
    for i, j, n in snakes:
        for p, q in zip(xo[i:i + n], yo[j:j + n], strict=True):
            for key in p.keys() | q.keys():
                if p.get(key) != q.get(key):
                    changed.add(key if key in ("metadata", "execution_count") else "outputs")
    return changed


def _unified(old: str, new: str) -> list[str]:
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1)
    return [line for line in lines if not line.startswith(("---", "+++"))]


# -- alignment: nbdime's multilevel longest common subsequence ------------------------------------


def _align(cells: _CellComparer) -> list[Snake]:
    """The runs of paired cells ``(i, j, n)``: ``a[i:i+n]`` pairs with ``b[j:j+n]``.

    The pairs are those of nbdime's ``diff_notebooks``: its four cell predicates, strictest
    first, each filling the gaps the stricter one left.
    """
    # Without any id the id level pairs nothing: skip its grid.
    by_id = any("id" in c for c in cells.a) and any("id" in c for c in cells.b)
    levels = [cells.approximate, cells.moderate, cells.strict] + ([cells.same_id] if by_id else [])
    return _snakes_multilevel(len(cells.a), len(cells.b), levels)


def _snakes_multilevel(n_a: int, n_b: int, compares: Sequence[Compare],
                       rect: tuple[int, int, int, int] | None = None,
                       level: int | None = None) -> list[Snake]:
    """nbdime's ``compute_snakes_multilevel``: ``compares`` from loosest to strictest."""
    level = len(compares) - 1 if level is None else level
    i0, j0, i1, j1 = rect or (0, 0, n_a, n_b)
    snakes = _lcs_snakes(i0, j0, i1, j1, compares[level])
    if level == 0:
        return snakes
    merged: list[Snake] = [(0, 0, 0)]
    for i, j, n in [*snakes, (i1, j1, 0)]:
        if i > i0 and j > j0:
            merged += _snakes_multilevel(n_a, n_b, compares, (i0, j0, i, j), level - 1)
        if n > 0:
            li, lj, ln = merged[-1]
            if li + ln == i and lj + ln == j:
                merged[-1] = (li, lj, ln + n)
            else:
                merged.append((i, j, n))
        i0, j0 = i + n, j + n
    return merged if merged[0][2] else merged[1:]


def _lcs_snakes(i0: int, j0: int, i1: int, j1: int, compare: Compare) -> list[Snake]:
    """nbdime's brute-force longest common subsequence of ``a[i0:i1]`` and ``b[j0:j1]``.

    Its tie-breaking (walking back from the ends, a pair taken as soon as it compares equal,
    else a step back in ``a`` when that keeps the length) decides which of equal cells pair.
    """
    # The walk back takes pairs at the ends first: pair them without filling the grid.
    tail = 0
    while i1 - tail > i0 and j1 - tail > j0 and compare(i1 - tail - 1, j1 - tail - 1):
        tail += 1
    n, m = i1 - tail - i0, j1 - tail - j0
    pairs: list[tuple[int, int]] = []
    if n and m:
        grid = [[compare(i0 + x, j0 + y) for y in range(m)] for x in range(n)]
        length = [[0] * (m + 1) for _ in range(n + 1)]
        for x in range(1, n + 1):
            row, above, matches = length[x], length[x - 1], grid[x - 1]
            for y in range(1, m + 1):
                row[y] = above[y - 1] + 1 if matches[y - 1] else max(above[y], row[y - 1])
        x, y = n, m
        while x > 0 and y > 0:
            if grid[x - 1][y - 1]:
                x, y = x - 1, y - 1
                pairs.append((i0 + x, j0 + y))
            elif length[x][y] == length[x - 1][y]:
                x -= 1
            else:
                y -= 1
        pairs.reverse()
    pairs += [(i1 - tail + k, j1 - tail + k) for k in range(tail)]
    snakes: list[Snake] = []
    for i, j in pairs:
        if snakes and snakes[-1][0] + snakes[-1][2] == i and snakes[-1][1] + snakes[-1][2] == j:
            snakes[-1] = (snakes[-1][0], snakes[-1][1], snakes[-1][2] + 1)
        else:
            snakes.append((i, j, 1))
    return snakes


class _CellComparer:
    """nbdime's four cell predicates over two cell lists, by index, with their costly parts
    (source likeness, output alignment) kept for the next level."""

    def __init__(self, a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]],
                 outputs: _OutputComparer) -> None:
        self.a, self.b, self.outputs = a, b, outputs
        self._counts: dict[tuple[int, int], Counter[str]] = {}
        self._alike: dict[tuple[int, int], bool] = {}
        self._outputs_alike: dict[tuple[int, int], bool] = {}

    def same_id(self, i: int, j: int) -> bool:
        """``compare_cell_by_ids``."""
        x, y = self.a[i], self.b[j]
        return "id" in x and "id" in y and x["id"] == y["id"]

    def strict(self, i: int, j: int) -> bool:
        """``compare_cell_strict``: near-equal source (ratio > 0.95), equal outputs."""
        x, y = self.a[i], self.b[j]
        if x["cell_type"] != y["cell_type"]:
            return False
        if x["source"] != y["source"] and not _similar(
                x["source"], y["source"], _STRICT, counts=lambda: self._counts_of(i, j)):
            return False
        if x["cell_type"] != "code":
            return True
        xo, yo = x["outputs"], y["outputs"]
        return len(xo) == len(yo) and all(
            self.outputs.strict(p, q) for p, q in zip(xo, yo, strict=True))

    def moderate(self, i: int, j: int) -> bool:
        """``compare_cell_moderate``: alike source, outputs that all pair up."""
        x, y = self.a[i], self.b[j]
        if not self.approximate(i, j):
            return False
        if x["cell_type"] != "code":
            return True
        xo, yo = x["outputs"], y["outputs"]
        if bool(xo) != bool(yo):
            return False
        key = (i, j)
        if key not in self._outputs_alike:
            snakes = _snakes_multilevel(len(xo), len(yo), self.outputs.levels(xo, yo))
            self._outputs_alike[key] = len(xo) == len(yo) == sum(n for _i, _j, n in snakes)
        return self._outputs_alike[key]

    def approximate(self, i: int, j: int) -> bool:
        """``compare_cell_approximate``: same type, alike source (ratio > 0.7)."""
        x, y = self.a[i], self.b[j]
        if x["cell_type"] != y["cell_type"]:
            return False
        key = (i, j)
        if key not in self._alike:
            self._alike[key] = _text_alike(x["source"], y["source"],
                                           counts=lambda: self._counts_of(i, j))
        return self._alike[key]

    def _counts_of(self, i: int, j: int) -> tuple[Counter[str], Counter[str]]:
        """The letter counts of the sources of ``a[i]`` and ``b[j]`` (difflib's quick_ratio)."""
        for key, cell in (((0, i), self.a[i]), ((1, j), self.b[j])):
            if key not in self._counts:
                self._counts[key] = Counter(cell["source"])
        return self._counts[(0, i)], self._counts[(1, j)]


def _similar(x: str, y: str, threshold: float, maxlen: int | None = None,
             counts: Callable[[], tuple[Counter[str], Counter[str]]] | None = None) -> bool:
    """nbdime's ``compare_strings_approximate``: difflib's ratio above ``threshold``, its
    cheap upper bounds (lengths, then letter counts) tried first."""
    if bool(x) != bool(y):
        return False
    if x == y:
        return True
    total = len(x) + len(y)
    if 2.0 * min(len(x), len(y)) / total < threshold:  # real_quick_ratio
        return False
    cx, cy = counts() if counts else (Counter(x), Counter(y))
    if 2.0 * (cx & cy).total() / total < threshold:  # quick_ratio
        return False
    if maxlen is not None and len(x) > maxlen and len(y) > maxlen:
        return False
    return difflib.SequenceMatcher(None, x, y, autojunk=False).ratio() > threshold


def _text_alike(x: str, y: str, maxlen: int | None = None,
                counts: Callable[[], tuple[Counter[str], Counter[str]]] | None = None) -> bool:
    """nbdime's ``compare_text_approximate``: short texts are always alike."""
    if bool(x) != bool(y):
        return False
    if len(x) < _SHORT and len(y) < _SHORT:
        return True
    return _similar(x, y, _APPROXIMATE, maxlen, counts)


class _OutputComparer:
    """nbdime's output predicates. Whether a long text is base64 data (an image) is kept per
    text: one image is compared with every output of the other version."""

    def __init__(self) -> None:
        self._base64: dict[str, bool] = {}

    def levels(self, xo: list[dict[str, Any]], yo: list[dict[str, Any]]) -> list[Compare]:
        """The predicates pairing two output lists, loosest first."""
        return [lambda i, j: self.approximate(xo[i], yo[j]),
                lambda i, j: self.strict(xo[i], yo[j])]

    def approximate(self, x: dict[str, Any], y: dict[str, Any]) -> bool:
        """nbdime's ``compare_output_approximate`` (metadata and execution count left out)."""
        kind = x.get("output_type")
        if kind != y.get("output_type") or x.keys() != y.keys():
            return False
        handled = {"output_type", "metadata", "execution_count"}
        if kind == "stream":
            if x.get("name") != y.get("name") or not _similar(
                    _joined(x.get("text")), _joined(y.get("text")), _APPROXIMATE, _STREAM_MAXLEN):
                return False
            handled |= {"name", "text"}
        elif kind == "error":
            xt, yt = x.get("traceback") or [], y.get("traceback") or []
            if x.get("ename") != y.get("ename") or x.get("evalue") != y.get("evalue") or len(
                    xt) != len(yt) or not all(
                    _similar(str(p), str(q), _APPROXIMATE) for p, q in zip(xt, yt, strict=True)):
                return False
            handled |= {"ename", "evalue", "traceback"}
        elif kind in ("display_data", "execute_result"):
            if not self._bundles_alike(x.get("data"), y.get("data"), strict=False):
                return False
            handled.add("data")
        return all(x[k] == y[k] for k in x.keys() - handled)

    def strict(self, x: dict[str, Any], y: dict[str, Any]) -> bool:
        """nbdime's ``compare_output_strict``: all but the data equal, the data near-equal."""
        if x.get("output_type") != y.get("output_type") or x.keys() != y.keys():
            return False
        if any(x[k] != y[k] for k in x.keys() - {"output_type", "data"}):
            return False
        return self._bundles_alike(x.get("data"), y.get("data"), strict=True)

    def _bundles_alike(self, x: object, y: object, *, strict: bool) -> bool:
        """nbdime's ``compare_mimebundle_approximate`` / ``_strict``."""
        if x is None or y is None:
            return x is None and y is None
        if not isinstance(x, dict) or not isinstance(y, dict):
            return x == y
        return x.keys() == y.keys() and all(
            self._mimedata_alike(mime, x[mime], y[mime], strict=strict) for mime in x)

    def _mimedata_alike(self, mime: str, x: object, y: object, *, strict: bool) -> bool:
        """nbdime's ``_compare_mimedata``: base64 data must be equal, text alike."""
        mime = mime.lower()
        if x == y:
            return True
        if not (isinstance(x, str) and isinstance(y, str)):
            return False
        # one-line reprs differing only in addresses (<object at 0x7f...>) are the same output
        if mime == "text/plain" and "\n" not in x and "\n" not in y and (
                _POINTER.split(x) == _POINTER.split(y)):
            return True
        if not mime.startswith("text/") and self._is_base64(x):
            return False
        if strict:
            return _similar(x, y, _STRICT, _MIMEDATA_MAXLEN)
        return _text_alike(x, y, _MIMEDATA_MAXLEN)

    def _is_base64(self, text: str) -> bool:
        if len(text) < 64:
            return False
        if text not in self._base64:
            self._base64[text] = _BASE64.match("".join(text.splitlines())) is not None
        return self._base64[text]
