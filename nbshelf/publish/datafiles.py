"""The data files a notebook reads, published beside it so that it still finds them.

A report that reads ``data/sales_2025.csv`` is of little use on a share without that file:
health there says "missing files". The files are found by the health check's own detection
(``nbshelf.health.checks.find_read_paths``: the paths the code reads through a string
literal), looked for in the notebook's folder, and copied to the same relative place beside
the published notebook.

Every path comes from a notebook, so from outside: it must be a plain relative path
(``safepath.check_relpath``: no ``..``, not absolute), not hidden (``.env``, ``.ssh/...``
hold secrets more often than data), it must stay inside the notebook's folder once links are
followed where it is read (``safepath.inside``) and inside the share where it is written.
Its size is capped (``limits.MAX_NOTEBOOK_BYTES``, counted on the bytes read) and each copy
is atomic under the file's share lock, as a notebook's is.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from nbshelf.errors import NbshelfError
from nbshelf.limits import MAX_NOTEBOOK_BYTES
from nbshelf.notebook import parse_notebook
from nbshelf.safepath import UnsafePath, check_relpath, inside

#: The largest data file published with a notebook (the cap every reader of outside files has).
MAX_DATA_BYTES = MAX_NOTEBOOK_BYTES

FOUND, MISSING, REFUSED = "found", "missing", "refused"
ABSENT, SAME, DIFFERENT = "absent", "same", "different"


@dataclass(frozen=True)
class DataFile:
    """One file a notebook reads, and whether it can go with it.

    Attributes:
        path: the path as the code reads it, relative to the notebook's folder.
        state: ``found`` (beside the notebook, can be published), ``missing`` (not there)
            or ``refused`` (a path that could lead anywhere: never read, never copied).
        size: its size in bytes when found.
        on_share: what the share holds at that place beside the target: ``absent``,
            ``same`` (identical bytes) or ``different`` (another file, replaced only when
            asked for by name).
        reason: a sentence saying why it is missing, refused or different; empty otherwise.
    """

    path: str
    state: str
    size: int | None = None
    on_share: str = ABSENT
    reason: str = ""

    @property
    def publishable(self) -> bool:
        """True when the file can be published with the notebook."""
        return self.state == FOUND

    @property
    def suggested(self) -> bool:
        """True when publishing it is the safe default: found, and overwriting nothing."""
        return self.publishable and self.on_share != DIFFERENT

    def to_json(self) -> dict[str, Any]:
        """path, state, size, on_share and reason."""
        return asdict(self)


class DataFileRefused(NbshelfError):
    """A data file asked for cannot be published with the notebook."""


def read_paths(data: bytes, name: str) -> list[str]:
    """The file paths a notebook's code reads (absolute ones too), as health finds them."""
    from nbshelf.health.checks import find_read_paths

    parsed = parse_notebook(data, name, validate=False)
    code = [c.source for c in parsed.cells if c.kind == "code"]
    return find_read_paths(code, parsed.summary.language or "python")


def _refusal(path: str) -> str | None:
    """Why the words of ``path`` alone rule it out, or None."""
    if path.startswith(("/", "~", "\\")) or (len(path) > 1 and path[1] == ":"):
        return (f"{path} is an absolute path: only files beside the notebook (paths relative "
                "to its folder) are published with it")
    if ".." in path.split("/"):
        return f"{path} leads out of the notebook's folder: it is never published with it"
    try:
        check_relpath(path, what="data file")
    except UnsafePath as err:
        return f"{err}: it is not published"
    if any(part.startswith(".") for part in PurePosixPath(path).parts):
        return f"{path} is a hidden file: hidden files are not published"
    return None


def examine(path: str, folder: Path | None) -> tuple[DataFile, Path | None]:
    """Where ``path`` is beside the notebook in ``folder``, and whether it may go with it."""
    refused = _refusal(path)
    if refused is not None:
        return DataFile(path, REFUSED, reason=refused), None
    if folder is None:
        return DataFile(path, MISSING, reason=(
            f"{path} could not be looked for: the notebook's folder is not reachable now")), None
    try:
        local = inside(folder, path, what="data file")
    except UnsafePath as err:
        return DataFile(path, REFUSED, reason=f"{err}: it is not published"), None
    try:
        st = local.stat()
    except OSError:
        st = None
    if st is None or not local.is_file():
        return DataFile(path, MISSING, reason=(
            f"{path} is not in the notebook's folder: readers of the share will miss it "
            "too")), None
    if st.st_size > MAX_DATA_BYTES:
        return DataFile(path, REFUSED, size=st.st_size, reason=(
            f"{path} is larger than {MAX_DATA_BYTES // (1024 * 1024)} MB; copy it to the "
            "share another way")), None
    return DataFile(path, FOUND, size=st.st_size), local


def share_place(share_root: Path, target_folder: str, path: str) -> Path:
    """Where data file ``path`` goes for a notebook published into ``target_folder``.

    Raises:
        UnsafePath: it would be written outside the share (a link in its folders).
    """
    rel = (PurePosixPath(target_folder) / path).as_posix()
    return inside(share_root, rel, what="data file")


def compare(local: Path, placed: Path) -> str:
    """``absent``, ``same`` or ``different``: what the share holds where a copy would go."""
    try:
        theirs = placed.stat()
    except OSError:
        return ABSENT
    if not placed.is_file():
        return DIFFERENT
    if theirs.st_size != local.stat().st_size:
        return DIFFERENT
    return SAME if read_capped(placed) == read_capped(local) else DIFFERENT


def read_capped(path: Path) -> bytes:
    """The bytes of ``path``, refusing a file that grew past the cap since it was looked at.

    Raises:
        DataFileRefused: it is larger than ``MAX_DATA_BYTES``.
        OSError: it cannot be read.
    """
    with open(path, "rb") as file:
        data = file.read(MAX_DATA_BYTES + 1)
    if len(data) > MAX_DATA_BYTES:
        raise DataFileRefused(f"{path.name} is larger than {MAX_DATA_BYTES // (1024 * 1024)} MB")
    return data


def survey(data: bytes, name: str, folder: Path | None, share_root: Path | None,
           target_folder: str | None) -> list[DataFile]:
    """Every file the notebook reads, looked for beside it and, when a target is known,
    compared with what the share holds at the place it would go."""
    found = []
    for path in read_paths(data, name):
        item, local = examine(path, folder)
        if local is not None and share_root is not None and target_folder is not None:
            item = _on_share(item, local, share_root, target_folder)
        found.append(item)
    return found


def _on_share(item: DataFile, local: Path, share_root: Path, target_folder: str) -> DataFile:
    try:
        placed = share_place(share_root, target_folder, item.path)
    except UnsafePath as err:
        return DataFile(item.path, REFUSED, item.size, reason=f"{err}: it is not published")
    try:
        state = compare(local, placed)
    except (OSError, DataFileRefused):
        state = DIFFERENT
    reason = (f"the share already holds a different {item.path}: publishing it replaces "
              "theirs") if state == DIFFERENT else ""
    return DataFile(item.path, FOUND, item.size, on_share=state, reason=reason)


@dataclass(frozen=True)
class Copy:
    """A data file to copy: from beside the notebook to beside the published one."""

    path: str
    local: Path


def plan_copies(wanted: Collection[str], folder: Path | None) -> list[Copy]:
    """The copies to make for the paths asked for, all checked before anything is written.

    Raises:
        DataFileRefused: one of them is refused or missing (nothing is written then).
    """
    copies = []
    for path in dict.fromkeys(wanted):
        item, local = examine(path, folder)
        if local is None:
            raise DataFileRefused(f"the data file {item.reason}")
        copies.append(Copy(path, local))
    return copies


def copy_into_share(copy: Copy, placed: Path) -> bool:
    """Copy one data file to ``placed`` atomically (its share lock held by the caller);
    False when the share already held the same bytes.

    Raises:
        DataFileRefused: it grew past the cap.
        OSError: it cannot be read or written.
    """
    from nbshelf.store import atomic_write, remove_stale_temps, shared_file_mode

    data = read_capped(copy.local)
    try:
        if placed.is_file() and placed.stat().st_size == len(data) \
                and read_capped(placed) == data:
            return False
    except DataFileRefused:
        pass  # theirs is too big to compare: it is replaced by ours, which is not
    remove_stale_temps(placed.parent)
    atomic_write(placed, data, mode=shared_file_mode(placed))
    return True


def folder_of(relpath: str) -> str:
    """The folder part of a notebook's path in its source ('' at the top)."""
    parent = PurePosixPath(relpath).parent.as_posix()
    return "" if parent == "." else parent

