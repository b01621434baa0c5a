"""Which modules or packages a notebook's code uses: Python, R and Julia.

Python is read with ``ast`` but only on the import statements, cut out of each cell first: a
whole cell often does not parse (IPython magics, ``!shell`` lines, work in progress), while its
import lines almost always do. On real notebooks this finds the same modules as parsing whole
cells and is several times faster.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Iterable, Iterator

_PY_IMPORT_START = re.compile(r"^[ \t]*(?:import|from)[ \t]+[\w.]")
# Cell magics whose body is not Python: the whole cell is skipped.
_NON_PYTHON_CELL_MAGICS = re.compile(
    r"^%%(?!time\b|timeit\b|capture\b|prun\b|debug\b|python\b|python3\b)\w+"
)


def find_imports(code_cells: Iterable[str], language: str) -> list[str]:
    """Return the sorted top-level module names imported by the code cells."""
    if language == "r":
        found: set[str] = set(_r_packages(code_cells))
    elif language == "julia":
        found = set(_julia_packages(code_cells))
    elif language == "python":
        found = set(_python_modules(code_cells))
    else:
        found = set()
    return sorted(found)


def _python_modules(cells: Iterable[str]) -> Iterator[str]:
    for cell in cells:
        if _NON_PYTHON_CELL_MAGICS.match(cell.lstrip()):
            continue
        for statement in _python_import_statements(cell):
            yield from _modules_of(statement)


def _python_import_statements(cell: str) -> Iterator[str]:
    """Cut each import statement out of a cell, joining its continuation lines."""
    lines = cell.splitlines()
    i = 0
    while i < len(lines):
        if not _PY_IMPORT_START.match(lines[i]):
            i += 1
            continue
        statement = [lines[i]]
        open_parens = lines[i].count("(") - lines[i].count(")")
        while (open_parens > 0 or statement[-1].rstrip().endswith("\\")) and i + 1 < len(lines):
            i += 1
            statement.append(lines[i])
            open_parens += lines[i].count("(") - lines[i].count(")")
        i += 1
        yield textwrap.dedent("\n".join(statement))


def _modules_of(statement: str) -> Iterator[str]:
    # A trailing ";" or comment is fine for ast; an import inside a broken line is not.
    try:
        tree = ast.parse(statement)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module.split(".")[0]


_R_LIBRARY = re.compile(
    r"\b(?:library|require|requireNamespace|suppressPackageStartupMessages\(\s*library)"
    r"\s*\(\s*['\"]?([A-Za-z][A-Za-z0-9.]*)['\"]?"
)
_R_NAMESPACE = re.compile(r"\b([A-Za-z][A-Za-z0-9.]*)::{1,2}[A-Za-z.]")


def _r_packages(cells: Iterable[str]) -> Iterator[str]:
    for cell in cells:
        code = "\n".join(line.split("#", 1)[0] for line in cell.splitlines())
        yield from _R_LIBRARY.findall(code)
        yield from _R_NAMESPACE.findall(code)


_JULIA_USING = re.compile(r"^[ \t]*(?:using|import)[ \t]+([^\n#]+)", re.M)
_JULIA_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_!]*)")


def _julia_packages(cells: Iterable[str]) -> Iterator[str]:
    for cell in cells:
        for match in _JULIA_USING.finditer(cell):
            names = match.group(1).split(":", 1)[0]  # "using A: f, g" imports from A only
            for part in names.split(","):
                name = _JULIA_NAME.match(part)
                if name and not part.strip().startswith("."):
                    yield name.group(1).split(".")[0]
