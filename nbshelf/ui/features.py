"""Which parts of the library facade exist yet, and the one place the UI adapts to them.

Search, similar, render, run and health are being built beside the app; each lands as a
``Library`` method. The window asks :func:`available` (a class attribute check: no I/O) and
shows a plain placeholder that says what is missing where a feature has not landed. When one
lands, its adapter here is the only code to check against its final signature.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from nbshelf.library import Library

#: What each planned feature is called in the placeholders.
FEATURES = {
    "search": "Full-text search",
    "similar": "Similar notebooks",
    "render": "The rendered notebook view",
    "run": "Running notebooks",
    "health": "Health checks",
    "facets": "Filter counts",
    "markings": "The Marking column",
}


def available(feature: str) -> bool:
    """True when ``Library`` has the method for ``feature`` (``search``, ``similar``, ...)."""
    return callable(getattr(Library, feature, None))


def placeholder(feature: str) -> str:
    """The sentence a placeholder shows for a feature that has not landed."""
    return f"{FEATURES[feature]} is not part of this build yet."


def _as_json(result: Any) -> Any:
    to_json = getattr(result, "to_json", None)
    return to_json() if callable(to_json) else result


def search_ids(library: Library, text: str, limit: int | None = 200) -> tuple[list[int], int]:
    """The ids of the best ``limit`` notebooks matching ``text`` (all when None), best first,
    and how many match in all (worker thread).

    Adapter over ``Library.search_ids(text, limit=N)``: ids only, no snippets, so the list
    shows as soon as the index answers; the rows on screen fetch theirs afterwards
    (``Library.snippets``, see ``nbshelf.ui.hits``).

    Raises:
        IndexUnavailable: the index is not built yet (the writer builds it after a sync).
    """
    ids, total = library.search_ids(text, limit=limit)
    return list(ids), int(total)


def similar_hits(library: Library, notebook_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """The contract's ``similar`` results for one notebook: dicts with id, title, source, path,
    score, relation and reasons (worker thread)."""
    result = library.similar(notebook_id, limit=limit)  # type: ignore[attr-defined]
    if isinstance(result, list):  # ``list[SimilarNotebook]``, each with ``to_json()``
        return [_as_json(hit) for hit in result]
    return list(_as_json(result)["results"])


def facets(
    library: Library, text: str, ids: Collection[int] | None = None
) -> dict[str, dict[str, int]]:
    """Counts by language, source, module (``import``) and tag of the notebooks matching
    ``text``, and among ``ids`` when given (worker thread).

    Raises:
        IndexUnavailable: the index is not built yet (the writer builds it after a sync).
    """
    found = library.facets(text) if ids is None else library.facets(text, ids=ids)
    return {group: dict(found.get(group, {})) for group in ("language", "source", "import", "tag")}


def all_search_ids(library: Library, text: str) -> list[int]:
    """Every notebook matching ``text``, best first, without snippets (worker thread).

    Raises:
        IndexUnavailable: the index is not built yet.
    """
    return search_ids(library, text, limit=None)[0]


def markings(library: Library, ids: list[int] | None = None) -> dict[int, str]:
    """Each notebook's control marking (all, or these ids), by id, for those that have one
    (worker thread). Adapter over ``Library.markings(ids=None) -> dict[int, str]``."""
    return dict(library.markings(ids))
