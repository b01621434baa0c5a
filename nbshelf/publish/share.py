"""Publishing a notebook to a share or USB stick: stripped, checked, atomic, no lost update.

The file appears on the share in one step (a hidden temporary file in the target folder,
renamed into place), so nobody ever sees half a notebook. A target that someone else changed
since this library last saw it is never overwritten unless the user says ``force``; the
check and the write happen under the target's share lock (``nbshelf.publish.sharelock``), so of two
publishers racing for one target exactly one wins and the other is refused. The target is
resolved inside the share (a symbolic link never leads the write out of it), and temporary
files that killed publishes left in the target's folder are removed.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from nbformat import NBFormatError
from nbformat.validator import ValidationError

from nbshelf.errors import NbshelfError, NotebookInvalid
from nbshelf.notebook import content_hash, parse_notebook
from nbshelf.publish.leaks import Leak, scan_for_leaks
from nbshelf.publish.markings import notebook_marking
from nbshelf.publish.sharelock import LockBusy, ShareLock
from nbshelf.publish.strip import MarkingContradiction, StripReport, strip_notebook
from nbshelf.safepath import UnsafePath, inside


class PublishError(NbshelfError):
    """Publishing cannot go ahead; the message says why and what to do."""


class PublishConflict(PublishError):
    """The target changed since this library last saw it.

    Attributes:
        suggested: a free path beside the target (``report (2).ipynb``) to publish under
            instead, when one was looked for.
    """

    def __init__(self, message: str, suggested: str | None = None) -> None:
        super().__init__(message)
        self.suggested = suggested


class PublishBusy(PublishConflict):
    """Another publish to the same target held its lock for longer than a short wait."""


@dataclass
class Prepared:
    """A notebook ready to publish: its bytes, and what the preview shows."""

    data: bytes
    stripped: StripReport
    leaks: list[Leak]
    marking: str | None
    #: True when the notebook carries its marking itself (metadata or first line), False
    #: when it has none or only the one chosen for this publish.
    marked_in_notebook: bool = False


@dataclass
class PublishResult:
    """What a publish did."""

    source: str
    path: str
    target: str
    stripped: StripReport
    leaks: list[Leak] = field(default_factory=list)
    marking: str | None = None
    overwrote: bool = False
    unchanged: bool = False
    notebook_id: int | None = None
    #: the data files published with it (paths relative to its folder), and how many of
    #: them were written (the others were on the share already, identical)
    data: list[str] = field(default_factory=list)
    data_copied: int = 0

    def to_json(self) -> dict[str, Any]:
        """The JSON report of ``nbshelf publish``."""
        return {
            "source": self.source, "path": self.path, "target": self.target,
            "stripped": self.stripped.to_json(), "warnings": [x.to_json() for x in self.leaks],
            "marking": self.marking, "overwrote": self.overwrote, "unchanged": self.unchanged,
            "id": self.notebook_id, "data": self.data, "data_copied": self.data_copied,
        }


def prepare(data: bytes, name: str, *, keep_outputs: bool, scheme: list[str],
            marking: str | None = None) -> Prepared:
    """Turn a notebook file's bytes into what would be published (the preview's source).

    Any notebook nbshelf reads is published as nbformat 4: an older one is upgraded, and one
    without its ``nbformat`` key gets it. Stripping follows nbstripout (``strip.py``).

    Args:
        data: the file's bytes.
        name: the file's name, for messages.
        keep_outputs: keep outputs (except cells marked ``keep_output: false``), as
            ``nbstripout --keep-output``.
        scheme: the library's markings, to read the notebook's.
        marking: a marking to give the published copy (``metadata.nbshelf.marking``) when the
            notebook has none; the notebook's own is never changed.

    Raises:
        PublishError: the bytes are not a notebook, an old notebook cannot be upgraded, a
            cell is marked both to keep and not to keep its outputs, or ``marking`` is not
            one of the scheme's or contradicts the notebook's own.
    """
    try:
        parsed = parse_notebook(data, name, validate=False)
    except NotebookInvalid as err:
        raise PublishError(f"{name} cannot be published: {err.message}") from None
    raw = _as_v4(parsed.raw, parsed.summary.nbformat, parsed.summary.nbformat_minor, name)
    try:
        stripped, report = strip_notebook(raw, keep_outputs=keep_outputs)
    except MarkingContradiction as err:
        raise PublishError(f"{name} cannot be published: {err}") from None
    own = notebook_marking(stripped, scheme)
    if marking is not None:
        _give_marking(stripped, own, marking, scheme, name)
    return Prepared(_v4_bytes(stripped), report, scan_for_leaks(stripped),
                    notebook_marking(stripped, scheme), marked_in_notebook=own is not None)


def _give_marking(nb: dict[str, Any], own: str | None, marking: str, scheme: list[str],
                  name: str) -> None:
    """Write ``marking`` into the copy's metadata, as a person marks a notebook in Jupyter.

    A marking the notebook carries is its author's decision: a publish may repeat it, never
    lower or change it.
    """
    chosen = next((m for m in scheme if m.upper() == marking.strip().upper()), None)
    if chosen is None:
        raise PublishError(
            f"{marking!r} is not one of this library's markings "
            f"({', '.join(scheme) or 'none are set'})")
    if own is not None:
        if own.upper() != chosen.upper():
            raise PublishError(
                f"{name} is marked {own} in the notebook itself; nbshelf does not change a "
                "marking the notebook carries")
        return
    meta = nb.setdefault("metadata", {})
    own_meta = meta.get("nbshelf")
    meta["nbshelf"] = {**(own_meta if isinstance(own_meta, dict) else {}), "marking": chosen}


#: What nbformat's converters raise on an old notebook they cannot upgrade. They assume a
#: well-formed v1-v3 notebook, and a cell without a key or with a value of another type
#: fails with whatever Python error that leads to (a markdown cell in a v1 notebook:
#: UnboundLocalError, a NameError).
_UPGRADE_FAILURES = (ValidationError, NBFormatError, AttributeError, KeyError, TypeError,
                     ValueError, IndexError, NameError)


def _as_v4(raw: dict[str, Any], major: int, minor: int, name: str) -> dict[str, Any]:
    """The notebook as nbformat 4 with the keys Jupyter needs to open it, added when missing.

    ``major`` and ``minor`` are the version the notebook has or that reading took it for (a
    notebook with ``cells`` and no ``nbformat`` is v4); nbformat itself would take it for v1
    and lose its cells. ``nbformat`` becomes 4 and an ``nbformat_minor`` that is not a count
    is replaced; added when missing are ``metadata`` and ``cells``, a cell's ``metadata`` and
    a code cell's ``outputs`` and ``execution_count``, without which Jupyter's reader fails.
    Nothing else is changed.
    """
    if major < 4:
        raw = _upgraded(raw, major, minor, name)
    elif raw.get("worksheets"):
        raise PublishError(
            f"{name} cannot be published: it is an nbformat 4 notebook that also holds "
            "nbformat 3 'worksheets', whose outputs would not be stripped. Open and save it "
            "in Jupyter, or remove the 'worksheets' key"
        )
    nb = dict(raw)
    nb["nbformat"] = 4
    cells = [_with_cell_keys(c) if isinstance(c, dict) else c for c in nb.get("cells") or []]
    written = nb.get("nbformat_minor")
    if not isinstance(written, int) or isinstance(written, bool) or written < 0:
        # cell ids came in 4.5; a notebook with none is a valid 4.4 one
        nb["nbformat_minor"] = 5 if any(isinstance(c, dict) and "id" in c for c in cells) else 4
    nb.setdefault("metadata", {})
    nb["cells"] = cells
    return nb


def _with_cell_keys(cell: dict[str, Any]) -> dict[str, Any]:
    """The cell, with the keys nbformat's reader needs added when missing."""
    added: dict[str, Any] = {"metadata": {}}
    if cell.get("cell_type") == "code":
        added.update(outputs=[], execution_count=None)
    if all(key in cell for key in added):
        return cell
    return {**added, **cell}


def _upgraded(raw: dict[str, Any], major: int, minor: int, name: str) -> dict[str, Any]:
    from nbformat.converter import convert
    from nbformat.reader import reads

    # the version reading found, written in: a notebook without it is v1 to nbformat, and
    # its converters assert that the minor is a number
    text = json.dumps({**raw, "nbformat": major, "nbformat_minor": max(minor, 0)})
    try:
        node = convert(reads(text), 4)
        result: dict[str, Any] = json.loads(json.dumps(node))
    except _UPGRADE_FAILURES as err:
        raise PublishError(
            f"{name} cannot be published: it is an nbformat {major} notebook that nbformat "
            f"cannot upgrade to version 4 ({type(err).__name__}: {_first_line(err)}). Open "
            "and save it in Jupyter first"
        ) from None
    return result


def _first_line(err: Exception) -> str:
    lines = str(err).splitlines()
    return lines[0][:200] if lines else "no details"


#: Mime types nbformat writes as lists of lines besides ``text/*`` (nbformat.v4.rwbase).
_SPLIT_MIMES = frozenset({"application/javascript", "image/svg+xml"})


def _v4_bytes(nb: dict[str, Any]) -> bytes:
    """The file nbformat 4 writes for ``nb`` (``nbformat.writes``), for any JSON shape.

    The same bytes as nbformat's writer for a well-formed notebook (the tests compare
    them): multi-line text as lists of lines, transient keys dropped, sorted keys, indent 1.
    nbformat's writer itself fails on a cell without ``cell_type`` or an output without
    ``output_type``; this one writes such a cell as it is.
    """
    out = dict(nb)
    if "metadata" in nb:
        out["metadata"] = _without(nb["metadata"], "orig_nbformat", "orig_nbformat_minor",
                                   "signature")
    cells = nb.get("cells")
    if isinstance(cells, list):
        out["cells"] = [_split_cell(c) if isinstance(c, dict) else c for c in cells]
    text = json.dumps(out, sort_keys=True, indent=1, separators=(",", ": "), ensure_ascii=False)
    return text.encode("utf-8")


def _split_cell(cell: dict[str, Any]) -> dict[str, Any]:
    out = dict(cell)
    if "metadata" in cell:
        out["metadata"] = _without(cell["metadata"], "trusted")
    if isinstance(cell.get("source"), str):
        out["source"] = cell["source"].splitlines(True)
    attachments = cell.get("attachments")
    if isinstance(attachments, dict):
        out["attachments"] = {k: _split_bundle(v) for k, v in attachments.items()}
    outputs = cell.get("outputs")
    if cell.get("cell_type") == "code" and isinstance(outputs, list):
        out["outputs"] = [_split_output(o) for o in outputs]
    return out


def _split_output(output: object) -> object:
    if not isinstance(output, dict):
        return output
    kind = output.get("output_type")
    if kind in ("execute_result", "display_data") and "data" in output:
        return {**output, "data": _split_bundle(output["data"])}
    if kind == "stream" and isinstance(output.get("text"), str):
        return {**output, "text": output["text"].splitlines(True)}
    return output


def _split_bundle(bundle: object) -> object:
    if not isinstance(bundle, dict):
        return bundle
    return {key: value.splitlines(True)
            if isinstance(value, str) and (key.startswith("text/") or key in _SPLIT_MIMES)
            else value for key, value in bundle.items()}


def _without(meta: object, *keys: str) -> object:
    if not isinstance(meta, dict):
        return meta
    return {k: v for k, v in meta.items() if k not in keys}


def target_relpath(file_name: str, as_path: str | None) -> str:
    """The path inside the source to publish to; refuses paths that leave the source."""
    wanted = PurePosixPath((as_path or file_name).replace("\\", "/"))
    if wanted.is_absolute() or ".." in wanted.parts or not wanted.parts:
        raise PublishError(f"{as_path} must be a path inside the source, like reports/q3.ipynb")
    if any(part.startswith(".") for part in wanted.parts):
        raise PublishError(f"{as_path}: hidden names (starting with '.') are not published")
    if wanted.suffix.lower() != ".ipynb":
        wanted = wanted.with_name(wanted.name + ".ipynb")
    return wanted.as_posix()


def resolve_target(root: str | Path, relpath: str, where: str) -> Path:
    """The real path ``relpath`` is written to under the source folder ``root``.

    Symbolic links the share holds are followed as the write would follow them; one that
    leads out of the share (a linked folder, or the target itself a link) is refused.

    Raises:
        PublishError: the target would be written outside the source folder.
    """
    try:
        return inside(root, relpath, what="target")
    except UnsafePath as err:
        raise PublishError(f"{where} cannot be published: {err}") from None


@contextmanager
def target_lock(target: Path, where: str) -> Iterator[None]:
    """Hold the share lock of ``target`` (its folder exists) for the check and the write.

    Raises:
        PublishBusy: another publish to the target holds it, after a short wait.
        PublishError: the folder refuses the lock file.
    """
    lock = ShareLock(target)
    try:
        lock.acquire()
    except LockBusy as err:
        raise PublishBusy(f"{where}: {err}") from None
    except OSError as err:
        raise PublishError(f"cannot write {where} (its lock file: {err.strerror or err})"
                           ) from None
    try:
        yield
    finally:
        lock.release()


def check_conflict(target: Path, last_seen: str | None, new_hash: str, *, force: bool,
                   where: str) -> bool:
    """Refuse to overwrite someone else's change; return True when the target exists.

    Args:
        target: the file on the share.
        last_seen: the content hash this library last saw at that path (sync or publish).
        new_hash: the hash of what is being published.
        force: overwrite anyway.
        where: ``SOURCE:PATH`` for messages.

    Raises:
        PublishConflict: someone else changed it; ``suggested`` holds a free name beside it.
    """
    state = conflict_state(target, last_seen, new_hash, where=where)
    if state is None:
        return False
    if force or not state.theirs:
        return True
    raise PublishConflict(
        f"{where} was {state.changed}, {state.seen}: publishing would overwrite their work. "
        "Look at theirs first (sync), publish yours under a new name, or replace theirs",
        suggested=free_name(target.parent, target.name),
    )


@dataclass(frozen=True)
class TargetState:
    """What is at a publish target now (see ``conflict_state``).

    Attributes:
        theirs: it holds a change this library did not make nor see: publishing would
            overwrite someone else's work.
        changed: "changed by NAME at TIME" (or without the name), for messages.
        seen: whether this library ever saw that path, in words.
    """

    theirs: bool
    changed: str
    seen: str


def conflict_state(target: Path, last_seen: str | None, new_hash: str, *,
                   where: str) -> TargetState | None:
    """The target's state, or None when there is no file there.

    Raises:
        PublishError: the existing file cannot be read.
    """
    try:
        current = target.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise PublishError(f"cannot read the existing {where}: {err.strerror}") from None
    current_hash = content_hash(current)
    theirs = current_hash not in (last_seen, new_hash)
    st = target.stat()
    when = datetime.fromtimestamp(st.st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
    who = _owner(st.st_uid)
    changed = f"changed by {who} at {when}" if who else f"changed at {when}"
    seen = "since this library last saw it" if last_seen else "and this library never saw it"
    return TargetState(theirs, changed, seen)


def free_name(folder: Path, name: str) -> str:
    """A name beside ``name`` in ``folder`` that nothing holds yet: ``report (2).ipynb``,
    then ``(3)`` and so on, as file managers name copies."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for number in range(2, 10_000):
        candidate = f"{stem} ({number}){suffix}"
        if not (folder / candidate).exists() and not (folder / candidate).is_symlink():
            return candidate
    return f"{stem} ({secrets.token_hex(3)}){suffix}"


def _owner(uid: int) -> str | None:
    try:
        import pwd
    except ImportError:  # Windows
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None
