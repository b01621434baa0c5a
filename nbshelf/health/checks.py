"""Will a notebook run here? Static checks before running, and the status after runs.

The static check looks at one notebook and this machine, without running anything:

* a kernel for it is installed (``nbshelf.run.kernels.choose_kernel``);
* every module it imports resolves *in that kernel's environment*: the kernel's Python is
  asked (one short subprocess per kernel per batch, ``importlib.util.find_spec`` on the
  module names, which imports nothing); a module beside the notebook counts as found. For
  kernels that are not Python the check is reported as not available rather than guessed;
* the relative data files its code reads with a string literal (``pd.read_csv("data/x.csv")``,
  ``open("notes.txt")``, ``np.loadtxt(...)``) are present in the notebook's folder.

What a notebook's content says (kernel, language, imports, data files) is cached per content
hash; what a kernel's environment holds is cached per kernel and trusted until a folder on
that Python's ``sys.path`` changes (installing or removing a package changes one). Both live
in memory and, when a cache folder is given, in one small JSON file there. Files beside the
notebook are looked at every time: a stat is cheaper than being wrong.

Run-history statuses (``failing``, ``never-run``, ``stale``) come from ``health_status``.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from nbshelf.errors import KernelMissing, NotebookInvalid
from nbshelf.notebook import parse_notebook
from nbshelf.run.kernels import (
    KernelChoice,
    choose_kernel,
    installed_kernels,
    kernel_python,
    language_label,
)
from nbshelf.store import atomic_write

#: Static statuses, worst first. "unreadable" is a file that is not a notebook at all (the
#: catalog lists those as problems, never as notebooks).
STATIC_STATUSES = ("unreadable", "kernel-missing", "missing-deps", "missing-files", "ok")
#: Every status ``health_status`` returns.
STATUSES = (
    "ok", "failing", "missing-deps", "kernel-missing", "missing-files", "never-run", "stale",
    "unreadable",
)

CACHE_FILE = "health-cache.json"
_CACHE_VERSION = 1
_PROBE_TIMEOUT = 60.0

# Asks a Python which of the module names on stdin it can find. Top-level names only, so
# find_spec imports nothing; '' (the current folder) is dropped: the notebook's own folder is
# checked by the caller.
_PROBE = """\
import importlib.util, json, sys
sys.path[:] = [p for p in sys.path if p not in ('', '.')]
found = {}
for name in json.loads(sys.stdin.read()):
    try:
        found[name] = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        found[name] = False
sys.stdout.write(json.dumps({"found": found, "path": sys.path}))
"""


@dataclass(frozen=True)
class RunSummary:
    """What health needs to know about a notebook's last run (from its run record).

    Attributes:
        status: ``ok``, ``error``, ``timeout`` or ``cancelled``.
        ended: when the run ended (timezone-aware).
        failed_cell: 0-based index of the failing cell, or None.
        error: the error text, or None.
    """

    status: str
    ended: datetime
    failed_cell: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class HealthReport:
    """The static answer to "will it run here?" for one notebook.

    Attributes:
        status: ``ok``, ``missing-deps``, ``kernel-missing``, ``missing-files`` or
            ``unreadable`` (see ``STATIC_STATUSES``; the worst one found).
        kernel: the kernelspec name it would run in, or None when none fits.
        kernel_display_name: that kernel's display name, or None.
        language: the notebook's language (normalized), or None.
        missing_modules: imported modules that the kernel's environment does not have.
        missing_files: relative data files the code reads that are not beside the notebook.
        modules_checked: False when modules could not be checked (not Python, no kernel,
            the kernel's Python could not be asked).
        files_checked: False when the notebook's folder is not reachable.
        messages: what is wrong (or was not checked), in words a user can act on.
    """

    status: str
    kernel: str | None
    kernel_display_name: str | None
    language: str | None
    missing_modules: list[str] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)
    modules_checked: bool = True
    files_checked: bool = True
    messages: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON (the per-notebook part of ``nbshelf health --json``)."""
        return asdict(self)


@dataclass(frozen=True)
class NotebookFacts:
    """What the static check needs from a notebook's content; a pure function of its bytes."""

    kernel_name: str | None
    language: str | None
    imports: list[str]
    data_files: list[str]
    unreadable: str | None = None  # why the bytes are not a notebook


@dataclass(frozen=True)
class HealthInput:
    """One notebook to check.

    Attributes:
        content_hash: the hash of its bytes (the catalog's content hash); the cache key.
        read: returns its bytes; called only when its facts are not cached.
        folder: the notebook's folder, where relative data files and local modules are
            looked for; None when it is not reachable.
        name: its file name (used as the title when parsing).
    """

    content_hash: str
    read: Callable[[], bytes]
    folder: Path | None
    name: str = "notebook.ipynb"


# -- what a notebook reads ---------------------------------------------------------------------

# Calls whose first argument (or one of _PATH_KEYWORDS) names a file the code reads.
_READERS_ANY = {
    "read_csv", "read_table", "read_excel", "read_json", "read_parquet", "read_feather",
    "read_pickle", "read_hdf", "read_fwf", "read_stata", "read_sas", "read_spss", "read_orc",
    "read_xml", "loadtxt", "genfromtxt", "fromfile", "imread", "read_file", "open_dataset",
    "open_mfdataset", "load_workbook", "ExcelFile", "HDFStore", "read_shapefile",
}
# Names that read a file only on some receivers (spacy.load("en_core_web_sm") is no file).
_READERS_ON: dict[str, set[str | None]] = {
    "open": {None, "io", "codecs", "gzip", "bz2", "lzma", "Image", "tarfile", "zipfile"},
    "load": {"np", "numpy", "torch", "joblib"},
    "File": {"h5py"},
    "ZipFile": {None, "zipfile"},
    "connect": {"sqlite3"},
}
# Calls that write a file: a path the notebook writes is not expected beside it beforehand.
_WRITERS = {
    "to_csv", "to_excel", "to_json", "to_parquet", "to_pickle", "to_feather", "to_hdf",
    "to_stata", "to_netcdf", "to_file", "savefig", "save", "savetxt", "savez",
    "savez_compressed", "imsave", "imwrite", "write_text", "write_bytes", "ExcelWriter",
}
_WRITERS_SECOND = {"dump", "urlretrieve", "save"}  # joblib.dump(obj, "m.pkl"), torch.save
_PATH_KEYWORDS = {
    "filepath_or_buffer", "path", "path_or_buf", "io", "fname", "file", "filename",
    "filenames", "fp", "filepath", "database",
}
_MAGIC_LINE = re.compile(r"^\s*[%!?]")
# R, Julia and others: a reading function called with a string literal.
_OTHER_READERS = re.compile(
    r"""\b(?:read\.csv2?|read_csv2?|read\.table|read\.delim|read_tsv|read_excel|readRDS|fread|
        read\.xlsx|readxl::read_excel|CSV\.read|CSV\.File|readdlm|readtable|load)\s*\(\s*
        ["']([^"'\n]+)["']""",
    re.VERBOSE,
)
_OTHER_WRITERS = re.compile(
    r"""\b(?:write\.csv2?|write_csv|write\.table|saveRDS|save|CSV\.write|writedlm|
        serialize|savefig|write)\s*\(\s*["']([^"'\n]+)["']""",
    re.VERBOSE,
)
# Cell magics that create a file: %%writefile out.py
_WRITEFILE = re.compile(r"^\s*%%(?:writefile|file)\s+(?:-a\s+)?(\S+)", re.MULTILINE)
# numpy adds these suffixes to names given without them
_NUMPY_SUFFIX = {"save": ".npy", "savez": ".npz", "savez_compressed": ".npz"}


def _call_name(func: ast.expr) -> tuple[str | None, str | None]:
    """(receiver, name) of a call: ``pd.read_csv`` → ("pd", "read_csv"), ``open`` → (None, …)."""
    if isinstance(func, ast.Name):
        return None, func.id
    if isinstance(func, ast.Attribute):
        value = func.value
        receiver = value.id if isinstance(value, ast.Name) else (
            value.attr if isinstance(value, ast.Attribute) else "?"
        )
        return receiver, func.attr
    return "?", None


def _literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _path_argument(call: ast.Call, position: int = 0) -> str | None:
    if len(call.args) > position:
        return _literal(call.args[position])
    for keyword in call.keywords:
        if keyword.arg in _PATH_KEYWORDS:
            return _literal(keyword.value)
    return None


def _writes_with_open(call: ast.Call) -> bool:
    mode = _literal(call.args[1]) if len(call.args) > 1 else None
    for keyword in call.keywords:
        if keyword.arg == "mode":
            mode = _literal(keyword.value)
    return mode is not None and any(c in mode for c in "wax")


def _is_relative_file(path: str) -> bool:
    if not path.strip() or "://" in path or path.startswith(("/", "\\", "~")):
        return False
    if re.match(r"^[A-Za-z]:", path) or any(c in path for c in "*?[{}%<>|\n"):
        return False  # a Windows absolute path, a glob, a template, or no path at all
    return path not in (".", "..", os.devnull)


def _parse_cell(source: str) -> ast.Module | None:
    code = "\n".join("" if _MAGIC_LINE.match(line) else line for line in source.splitlines())
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None  # work in progress or not Python: read what the other cells say


def find_data_files(code_cells: Iterable[str], language: str | None = "python") -> list[str]:
    """Relative files the code reads through a string literal, minus the files it writes.

    Args:
        code_cells: the sources of the code cells.
        language: the notebook's normalized language; Python is read with ``ast``, other
            languages with a pattern for their common reading functions.

    Returns:
        Sorted paths as written in the code (forward slashes).
    """
    reads, writes = _reads_and_writes(code_cells, language)
    return sorted({_normal(p) for p in reads if _is_relative_file(p)} - writes)


def find_read_paths(code_cells: Iterable[str], language: str | None = "python") -> list[str]:
    """Every file path the code reads through a string literal, absolute ones included.

    The same detection as ``find_data_files`` (which keeps only the relative ones), for
    callers that must also say what they will not follow, such as publishing a notebook's
    data beside it: an absolute path or a home folder is read, but cannot go with it.

    Returns:
        Sorted paths (forward slashes), minus the files the code writes; URLs, globs and
        templates are not paths and are left out.
    """
    reads, writes = _reads_and_writes(code_cells, language)
    return sorted({_normal(p) for p in reads if _is_file_path(p)} - writes)


def _is_file_path(path: str) -> bool:
    """A literal that names one file somewhere: not a URL, a glob, a template or nothing."""
    if not path.strip() or "://" in path or any(c in path for c in "*?[{}%<>|\n"):
        return False
    return path not in (".", "..", os.devnull)


def _reads_and_writes(code_cells: Iterable[str], language: str | None
                      ) -> tuple[set[str], set[str]]:
    """(paths read, as written; paths written, normalized) by the code's string literals."""
    reads: set[str] = set()
    writes: set[str] = set()
    if language not in (None, "python"):
        for source in code_cells:
            reads.update(m.group(1) for m in _OTHER_READERS.finditer(source))
            writes.update(_normal(m.group(1)) for m in _OTHER_WRITERS.finditer(source))
        return reads, writes
    for source in code_cells:
        writes.update(_normal(m.group(1)) for m in _WRITEFILE.finditer(source))
        tree = _parse_cell(source)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                _note_call(node, reads, writes)
    return reads, writes


def _note_call(node: ast.Call, reads: set[str], writes: set[str]) -> None:
    """Add the file a call reads to ``reads``, or the files it writes to ``writes``."""
    receiver, name = _call_name(node.func)
    if name is None:
        return
    if name in _WRITERS or (name in _WRITERS_SECOND and len(node.args) > 1):
        # np.save("x", a) and joblib.dump(model, "m.pkl"): the literal names the file
        targets = [_literal(a) for a in node.args[:2]] + [_path_argument(node)]
        for target in filter(None, targets):
            writes.add(_normal(target))
            suffix = _NUMPY_SUFFIX.get(name)
            if suffix and not target.endswith(suffix):
                writes.add(_normal(target + suffix))
        return
    if name in _READERS_ANY or receiver in _READERS_ON.get(name, set()):
        path = _path_argument(node)
        if path is None:
            return
        if name == "open" and _writes_with_open(node):
            writes.add(_normal(path))
        else:
            reads.add(path)


def _normal(path: str) -> str:
    return str(PurePosixPath(path.replace("\\", "/")))


def notebook_facts(data: bytes, name: str) -> NotebookFacts:
    """Read what the static check needs from a notebook's bytes."""
    try:
        parsed = parse_notebook(data, name, validate=False)
    except NotebookInvalid as err:
        return NotebookFacts(None, None, [], [], unreadable=err.message)
    summary = parsed.summary
    code = [c.source for c in parsed.cells if c.kind == "code"]
    # summary.imports is nbshelf.notebook.imports.find_imports(code, language) on the same cells
    return NotebookFacts(
        kernel_name=summary.kernel_name,
        language=summary.language,
        imports=list(summary.imports),
        data_files=find_data_files(code, summary.language or "python"),
    )


# -- what a kernel's environment holds ---------------------------------------------------------


@dataclass
class _KernelModules:
    """Which module names a kernel's Python finds, and how to tell the answer is still true."""

    python: str | None
    modules: dict[str, bool] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    fingerprint: list[tuple[str, int]] = field(default_factory=list)
    error: str | None = None


def _fingerprint(path: Iterable[str]) -> list[tuple[str, int]]:
    """Modification times of the folders on a sys.path: installing a package changes one."""
    stamps = []
    for entry in path:
        try:
            stamps.append((entry, os.stat(entry).st_mtime_ns))
        except OSError:
            stamps.append((entry, -1))
    return stamps


def _kernel_key(kernel: KernelChoice) -> str:
    text = "\x00".join([kernel.name, *kernel.argv, json.dumps(kernel.env, sort_keys=True)])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _probe(
    python: str, kernel: KernelChoice, names: list[str]
) -> tuple[dict[str, bool], list[str]]:
    """Ask ``python`` which of ``names`` it finds; returns (found, its sys.path).

    Raises:
        OSError: the interpreter could not be run or gave no answer.
    """
    env = {**os.environ, **kernel.env}
    with tempfile.TemporaryDirectory(prefix="nbshelf-probe-") as neutral:
        try:
            proc = subprocess.run(
                [python, "-c", _PROBE],
                input=json.dumps(names),
                capture_output=True,
                text=True,
                cwd=neutral,
                env=env,
                timeout=_PROBE_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise OSError(f"{python} did not answer within {_PROBE_TIMEOUT:g} s") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise OSError(f"{python} exited with code {proc.returncode}: {last}")
    try:
        answer = json.loads(proc.stdout)
        return {str(k): bool(v) for k, v in answer["found"].items()}, list(answer["path"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise OSError(f"{python} gave an answer nbshelf cannot read") from None


def _find_in_process(names: list[str]) -> dict[str, bool]:
    """The module check for nbshelf's own kernel in a bundle, where it is this process."""
    importlib.invalidate_caches()
    found = {}
    for name in names:
        try:
            found[name] = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found[name] = False
    return found


def _local_module(folder: Path | None, name: str) -> bool:
    """True when the module is a file or package beside the notebook (the kernel's cwd)."""
    if folder is None:
        return False
    return (folder / f"{name}.py").is_file() or (folder / name).is_dir()


# -- the checker -------------------------------------------------------------------------------


class HealthChecker:
    """Static health checks with caches; one per library, reused across checks.

    Args:
        cache_dir: a folder for the on-disk cache (created if needed); None keeps the cache
            in memory only.
        kernels: the installed kernels; listed afresh for each batch when None.
    """

    def __init__(
        self, cache_dir: Path | None = None, kernels: list[KernelChoice] | None = None
    ) -> None:
        self.cache_dir = cache_dir
        self._kernels = kernels
        self._facts: dict[str, NotebookFacts] = {}
        self._envs: dict[str, _KernelModules] = {}
        self._dirty = False
        if cache_dir is not None:
            self._load()

    # the on-disk cache: one small JSON file, rewritten atomically after a batch that changed it

    def _load(self) -> None:
        assert self.cache_dir is not None
        try:
            data = orjson.loads((self.cache_dir / CACHE_FILE).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return  # no cache yet, or a damaged one: it is only a cache
        if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION:
            return
        with contextlib.suppress(TypeError, ValueError, AttributeError):
            self._facts = {k: NotebookFacts(**v) for k, v in data.get("facts", {}).items()}
            self._envs = {
                k: _KernelModules(
                    python=v["python"], modules=v["modules"], path=v["path"],
                    fingerprint=[(p, int(t)) for p, t in v["fingerprint"]],
                )
                for k, v in data.get("kernels", {}).items()
            }

    def save(self) -> None:
        """Write the cache to the cache folder, if there is one and it changed."""
        if self.cache_dir is None or not self._dirty:
            return
        data = {
            "version": _CACHE_VERSION,
            "facts": {k: asdict(v) for k, v in self._facts.items()},
            "kernels": {
                k: {"python": v.python, "modules": v.modules, "path": v.path,
                    "fingerprint": v.fingerprint}
                for k, v in self._envs.items() if v.error is None
            },
        }
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(self.cache_dir / CACHE_FILE, orjson.dumps(data))
        self._dirty = False

    def facts(self, item: HealthInput) -> NotebookFacts:
        """The notebook's facts, from the cache or read now."""
        cached = self._facts.get(item.content_hash)
        if cached is None:
            cached = notebook_facts(item.read(), item.name)
            self._facts[item.content_hash] = cached
            self._dirty = True
        return cached

    def check(self, items: Sequence[HealthInput]) -> list[HealthReport]:
        """Check notebooks; each kernel's Python is asked at most once for the whole batch.

        Returns:
            One report per item, in order.
        """
        kernels = self._kernels if self._kernels is not None else installed_kernels()
        facts = [self.facts(item) for item in items]
        chosen: list[KernelChoice | KernelMissing | None] = []
        wanted: dict[str, tuple[KernelChoice, set[str]]] = {}
        for item, fact in zip(items, facts, strict=True):
            if fact.unreadable is not None:
                chosen.append(None)
                continue
            try:
                kernel = choose_kernel(fact.kernel_name, fact.language, kernels)
            except KernelMissing as err:
                chosen.append(err)
                continue
            chosen.append(kernel)
            names = {m for m in fact.imports if not _local_module(item.folder, m)}
            if kernel.language == "python" and names:
                wanted.setdefault(_kernel_key(kernel), (kernel, set()))[1].update(names)
        for key, (kernel, names) in wanted.items():
            self._resolve(key, kernel, names)
        reports = [
            self._report(item, fact, choice)
            for item, fact, choice in zip(items, facts, chosen, strict=True)
        ]
        self.save()
        return reports

    def check_one(self, data: bytes, name: str, folder: Path | None) -> HealthReport:
        """Check one notebook given its bytes."""
        digest = hashlib.sha256(data).hexdigest()
        return self.check([HealthInput(digest, lambda: data, folder, name)])[0]

    def _resolve(self, key: str, kernel: KernelChoice, names: set[str]) -> None:
        """Make sure the kernel's answer for every name is known and still true."""
        env = self._envs.get(key)
        python = kernel_python(kernel)
        in_process = kernel.own and getattr(sys, "frozen", False)
        if env is not None and (env.python != python or env.error is not None):
            env = None
        if env is not None and env.fingerprint != _fingerprint(env.path):
            env = None  # a package was installed or removed since: ask again
        if env is None:
            env = _KernelModules(python=python)
            self._envs[key] = env
        unknown = sorted(n for n in names if n not in env.modules)
        if not unknown:
            return
        if in_process:
            env.modules.update(_find_in_process(unknown))
            env.path = list(sys.path)
            env.fingerprint = _fingerprint(env.path)
            self._dirty = True
            return
        if python is None:
            env.error = (
                f"nbshelf cannot tell which Python {kernel.display_name} runs (it starts "
                "through a wrapper), so its modules were not checked."
            )
            return
        try:
            found, path = _probe(python, kernel, unknown)
        except OSError as err:
            env.error = f"The modules could not be checked in {kernel.display_name}: {err}."
            return
        env.modules.update(found)
        env.path = path
        env.fingerprint = _fingerprint(path)
        self._dirty = True

    def _report(
        self,
        item: HealthInput,
        fact: NotebookFacts,
        choice: KernelChoice | KernelMissing | None,
    ) -> HealthReport:
        if fact.unreadable is not None:
            return HealthReport(
                status="unreadable", kernel=None, kernel_display_name=None, language=None,
                modules_checked=False, files_checked=False,
                messages=[f"The file cannot be read as a notebook: {fact.unreadable}."],
            )
        messages: list[str] = []
        missing_files, files_checked = self._missing_files(item, fact, messages)
        if isinstance(choice, KernelMissing) or choice is None:
            messages.insert(0, str(choice))
            return HealthReport(
                status="kernel-missing", kernel=None, kernel_display_name=None,
                language=fact.language, missing_files=missing_files, modules_checked=False,
                files_checked=files_checked, messages=messages,
            )
        kernel = choice
        if kernel.replaces:
            messages.insert(0, (
                f"The notebook's kernel '{kernel.replaces}' is not installed here; it will "
                f"run in {kernel.display_name} instead."
            ))
        missing_modules: list[str] = []
        modules_checked = True
        if kernel.language != "python":
            modules_checked = False
            label = language_label(kernel.language) or "this kernel's language"
            messages.append(
                f"Checking modules is not available for {label} notebooks: nbshelf cannot "
                "tell whether the packages they use are installed."
            )
        elif fact.imports:
            env = self._envs.get(_kernel_key(kernel))
            if env is not None and env.error is not None:
                modules_checked = False
                messages.append(env.error)
            elif env is not None:
                for name in fact.imports:
                    if not env.modules.get(name, True) and not _local_module(item.folder, name):
                        missing_modules.append(name)
                        messages.append(
                            f"The module `{name}` is not installed in {kernel.display_name}."
                        )
        status = "ok"
        if missing_files:
            status = "missing-files"
        if missing_modules:
            status = "missing-deps"
        return HealthReport(
            status=status, kernel=kernel.name, kernel_display_name=kernel.display_name,
            language=fact.language, missing_modules=missing_modules,
            missing_files=missing_files, modules_checked=modules_checked,
            files_checked=files_checked, messages=messages,
        )

    @staticmethod
    def _missing_files(
        item: HealthInput, fact: NotebookFacts, messages: list[str]
    ) -> tuple[list[str], bool]:
        if not fact.data_files:
            return [], True
        if item.folder is None or not item.folder.is_dir():
            messages.append(
                "The data files this notebook reads could not be checked: its folder is not "
                "reachable now."
            )
            return [], False
        missing = [p for p in fact.data_files if not (item.folder / p).exists()]
        for path in missing:
            messages.append(
                f"The data file `{path}` is not in the notebook's folder ({item.folder})."
            )
        return missing, True


def check_health(
    data: bytes,
    name: str,
    folder: Path | None,
    *,
    kernels: list[KernelChoice] | None = None,
) -> HealthReport:
    """The static health of one notebook, without a cache."""
    return HealthChecker(kernels=kernels).check_one(data, name, folder)


# -- after runs --------------------------------------------------------------------------------


def health_status(
    static_report: HealthReport,
    last_run: RunSummary | None,
    changed_since_run: bool,
    max_age_days: float,
    *,
    now: datetime | None = None,
) -> str:
    """A notebook's health from its static report and its last run.

    What the static check found comes first (it says what to fix); then the last run:
    ``never-run`` without one, ``stale`` when the notebook changed since or the last success
    is older than ``max_age_days``, ``failing`` when it did not succeed, else ``ok``.

    Args:
        static_report: the notebook's ``HealthReport``.
        last_run: its last finished run, or None. Pass the last run that was not cancelled:
            a cancelled run says nothing about the notebook, and counts as none.
        changed_since_run: the notebook's content differs from the version last run.
        max_age_days: how old a success may be; ``math.inf`` for no limit.
        now: the current time (for tests); defaults to now.
    """
    if static_report.status != "ok":
        return static_report.status
    if last_run is None or last_run.status == "cancelled":
        return "never-run"
    if changed_since_run:
        return "stale"
    if last_run.status != "ok":
        return "failing"
    if math.isfinite(max_age_days):
        age = (now or datetime.now(UTC)) - last_run.ended
        if age > timedelta(days=max_age_days):
            return "stale"
    return "ok"


def status_detail(status: str, static_report: HealthReport, last_run: RunSummary | None) -> str:
    """One line saying what a status means for this notebook, for lists and tooltips.

    Cells are counted from 1 here, as people count them (``failed_cell`` is 0-based).
    """
    if status == "failing" and last_run is not None:
        failed = last_run.failed_cell
        where = f"cell {failed + 1}" if failed is not None else "run"
        return f"failing ({where}: {last_run.error or last_run.status})"
    if status == "missing-deps":
        return "missing modules: " + ", ".join(static_report.missing_modules)
    if status == "missing-files":
        return "missing data files: " + ", ".join(static_report.missing_files)
    if status == "stale" and last_run is not None:
        return f"stale (last run {last_run.ended.date().isoformat()}, {last_run.status})"
    if status == "never-run":
        return "never run here"
    if static_report.messages and status != "ok":
        return static_report.messages[0]
    return status
