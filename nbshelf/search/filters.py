"""Query words the search index cannot answer, taken out before the rest is searched.

Light on purpose (no Whoosh): the app's start path reads queries with it.
"""

from __future__ import annotations

import re

#: ``health:STATUS``: the notebooks whose health check says STATUS (ok, failing, stale...).
#: The index knows nothing of health; ``split_health`` takes these out of a query, and the
#: library keeps the answer to the notebooks of those statuses.
_HEALTH = re.compile(r"(?<!\S)health:(\S+)", re.IGNORECASE)


def split_health(text: str) -> tuple[str, frozenset[str]]:
    """``text`` without its ``health:STATUS`` filters, and the statuses they ask for."""
    statuses = frozenset(m.lower() for m in _HEALTH.findall(text))
    rest = _HEALTH.sub(" ", text) if statuses else text
    return " ".join(rest.split()) if statuses else text, statuses
