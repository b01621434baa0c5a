"""Similar notebooks that explain themselves: content similarity, near copies, reasons.

``SimilarModel`` is the fitted model (TF-IDF per field, cosine neighbours, line sketches for
copies); ``Similarity`` keeps a library's model in ``<library>/similar`` and answers
"which notebooks are like this one" with places, as the ``similar`` command lists them.

The names are imported on first use: a worker process that reads notebooks for a fit
imports ``nbshelf.similar.cache`` only, and should not pay for scikit-learn and the catalog
(two seconds per process on a busy machine).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbshelf.similar.features import Features, features_from_text, features_of
    from nbshelf.similar.model import Coverage, Neighbour, SimilarModel, Weights
    from nbshelf.similar.service import (
        Place,
        Similarity,
        SimilarNotebook,
        arrange,
        build_model,
        present_hashes,
    )

_WHERE = {
    "Features": "features", "features_from_text": "features", "features_of": "features",
    "Coverage": "model", "Neighbour": "model", "SimilarModel": "model", "Weights": "model",
    "Place": "service", "Similarity": "service", "SimilarNotebook": "service",
    "arrange": "service", "build_model": "service", "present_hashes": "service",
}  # fmt: skip

__all__ = [
    "Coverage", "Features", "Neighbour", "Place", "SimilarModel", "SimilarNotebook",
    "Similarity", "Weights", "arrange", "build_model", "features_from_text", "features_of",
    "present_hashes",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"nbshelf.similar.{module}"), name)
