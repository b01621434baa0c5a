"""The similarity model's arrays on disk: numpy's ``.npz`` (a zip of ``.npy`` files),
deflated at level 1.

``np.savez`` stores them raw and ``np.savez_compressed`` deflates at level 6. On the 10,000
notebook tree (bench/RESULTS.md, issue 16) level 1 takes the model and its refit cache from
77 MB to 46 MB for 1.4 s of CPU per save (level 6: 43 MB for 8.7 s), and loading them both
takes 0.2 s longer. ``np.load`` reads either kind, so models saved raw before still load.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from typing import IO

import numpy as np
import numpy.typing as npt
from numpy.lib import format as npy_format

#: Deflate level: past 1 the arrays (sparse indices, float weights) shrink by 2-3% more only.
LEVEL = 1


def write_npz(out: IO[bytes], arrays: Mapping[str, npt.ArrayLike]) -> None:
    """Write ``arrays`` to ``out`` as an ``.npz`` file that ``np.load`` reads, deflated."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=LEVEL) as archive:
        for name, value in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                npy_format.write_array(member, np.asanyarray(value), allow_pickle=False)
