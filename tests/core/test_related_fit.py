"""The related-terms fit keeps within its memory budget at 100,000 notebooks by taking the
learned columns out of the similarity matrix a block of rows at a time (issue 16: peak RSS
of the first sync's fit); the matrix it learns from must be exactly scipy's own selection."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import nbshelf.similar.related as related


@settings(max_examples=150, deadline=None)
@given(rows=st.integers(0, 30), cols=st.integers(1, 40), density=st.floats(0.0, 1.0),
       seed=st.integers(0, 2**32 - 1), block=st.integers(1, 9), data=st.data())
def test_the_learned_columns_are_scipys_selection(rows: int, cols: int, density: float,
                                                  seed: int, block: int,
                                                  data: st.DataObject) -> None:
    rng = np.random.default_rng(seed)
    matrix = sp.random(rows, cols, density=density, format="csr", dtype=np.float32,
                       random_state=rng)
    chosen = data.draw(st.lists(st.integers(0, cols - 1), unique=True))
    columns = np.array(sorted(chosen), dtype=np.int64)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(related, "_BLOCK_ROWS", block)
        got = related._columns_of(matrix, columns)
    expected = matrix[:, columns]
    assert got.shape == expected.shape and got.dtype == np.float32
    assert np.array_equal(got.toarray(), expected.toarray())
