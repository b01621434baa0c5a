"""Builders the tests share: notebooks made with nbformat's v4 builders, CLI runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat import v4

PYTHON_META = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
}


def make_notebook(
    title: str = "A notebook",
    code: list[str] | None = None,
    markdown: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> nbformat.NotebookNode:
    """A v4 notebook: a title heading, more markdown cells, then code cells."""
    nb = v4.new_notebook(metadata=metadata if metadata is not None else PYTHON_META)
    nb.cells.append(v4.new_markdown_cell(f"# {title}"))
    nb.cells.extend(v4.new_markdown_cell(text) for text in markdown or [])
    nb.cells.extend(v4.new_code_cell(src) for src in code or ["print('hello')"])
    return nb


def write_notebook(path: Path, nb: nbformat.NotebookNode | None = None, **kwargs: Any) -> Path:
    """Write a notebook file (creating folders); returns its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb if nb is not None else make_notebook(**kwargs), str(path))
    return path


@dataclass
class CliResult:
    """A finished ``nbshelf`` process."""

    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        """stdout parsed as the one JSON object the contract promises."""
        return json.loads(self.stdout)


def run_cli(library: Path, *args: str, cwd: Path | None = None, timeout: float = 120) -> CliResult:
    """Run ``python -m nbshelf --library LIBRARY ARGS`` as a user would."""
    env = {k: v for k, v in os.environ.items() if k != "NBSHELF_LIBRARY"}
    proc = subprocess.run(
        [sys.executable, "-m", "nbshelf", "--library", str(library), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def write_raw_blobs(library: Path) -> int:
    """Turn a library's store into the format before issue 16: every blob rewritten as the
    notebook's own bytes, at the same path, the way the store used to write them (temp file
    and rename). Returns how many blobs were rewritten."""
    from nbshelf.store import BlobStore, atomic_write

    store = BlobStore(library / "blobs")
    count = 0
    for path in sorted((library / "blobs").glob("*/*.ipynb")):
        digest = path.parent.name + path.name.removesuffix(".ipynb")
        atomic_write(path, store.read(digest))
        count += 1
    return count
