"""Bounds on what nbshelf reads from outside, in one place so every reader uses the same."""

from __future__ import annotations

#: Files larger than this are listed as problems rather than read into memory: folder
#: sources, pack members (counted on bytes inflated) and share manifests alike.
MAX_NOTEBOOK_BYTES = 256 * 1024 * 1024

#: The most bytes a compressed blob may inflate to when read back. Every blob was read under
#: ``MAX_NOTEBOOK_BYTES`` when it was stored; the margin keeps blobs readable if that cap is
#: ever lowered, while a damaged or hostile blob still cannot make a reader allocate more.
MAX_BLOB_BYTES = MAX_NOTEBOOK_BYTES + 64 * 1024 * 1024
