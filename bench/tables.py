"""Fixed-width tables the benchmarks print: the first column left-aligned, the rest right."""

from __future__ import annotations

Columns = list[tuple[str, int]]  # (heading, width)


def header(cols: Columns) -> list[str]:
    """The heading line and its underline."""
    head = "  ".join(
        name.rjust(width) if i else name.ljust(width) for i, (name, width) in enumerate(cols)
    )
    return [head, "-" * len(head)]


def row(cols: Columns, values: list[str]) -> str:
    """One line of values under ``header(cols)``."""
    return "  ".join(
        value.rjust(width) if i else value.ljust(width)
        for i, ((_, width), value) in enumerate(zip(cols, values, strict=True))
    )
