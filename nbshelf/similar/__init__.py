"""Similar notebooks that explain themselves: content similarity, near copies, reasons.

``SimilarModel`` is the fitted model (TF-IDF per field, cosine neighbours, line sketches for
copies); ``Similarity`` keeps a library's model in ``<library>/similar`` and answers
"which notebooks are like this one" with places, as the ``similar`` command lists them.
"""

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

__all__ = [
    "Coverage", "Features", "Neighbour", "Place", "SimilarModel", "SimilarNotebook",
    "Similarity", "Weights", "arrange", "build_model", "features_from_text", "features_of",
    "present_hashes",
]  # fmt: skip
