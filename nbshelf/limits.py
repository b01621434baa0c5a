"""Bounds on what nbshelf reads from outside, in one place so every reader uses the same."""

from __future__ import annotations

#: Files larger than this are listed as problems rather than read into memory: folder
#: sources, pack members (counted on bytes inflated) and share manifests alike.
MAX_NOTEBOOK_BYTES = 256 * 1024 * 1024
