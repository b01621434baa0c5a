"""Notebooks as files: reading any nbformat (v2/v3 upgraded, v4.x) and checking it, their
summaries, the modules they import, their document text, and the changes between versions.

The reading API is re-exported here: ``from nbshelf.notebook import parse_notebook``.
"""

from nbshelf.notebook.reading import (
    Cell,
    ParsedNotebook,
    Summary,
    as_mapping,
    content_hash,
    iter_cells,
    normalize_language,
    parse_notebook,
    read_cells,
)

__all__ = [
    "Cell", "ParsedNotebook", "Summary", "as_mapping", "content_hash", "iter_cells",
    "normalize_language", "parse_notebook", "read_cells",
]
