"""Where notebooks come from: source rules, walking a folder, share manifests, syncing into
the library, and packs carried between machines.

``reachable`` and ``present`` are re-exported here (``from nbshelf.sources import reachable``).
"""

from nbshelf.sources.rules import present, reachable

__all__ = ["present", "reachable"]
