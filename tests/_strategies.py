"""Hypothesis strategies shared by the op, autograd and finite-difference tests: shapes (0-d and size-1 dims
included), broadcastable pairs, float arrays, and the Python numbers that can meet a tensor."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

Array = npt.NDArray[Any]

# deadline=None: the first example pays for imports and warm-up. The example counts keep each file well under
# the time budget on two cores; raise them (or use --hypothesis-seed) to search harder.
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(SETTINGS, max_examples=3)

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
matrix_sides = st.integers(1, 5)
# Scalars that meet a tensor: exact small ones and ones that round in float32 (0.1, 1/3).
numbers = st.sampled_from([2, -3, 0, 1, 0.5, -1.5, 0.1, 1 / 3, 1e-3, 7.25])


def broadcast_pairs(max_dims: int = 3) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Two shapes that broadcast together (different ranks, size-1 dims, 0-d)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_dims, max_side=4).map(
        lambda s: s.input_shapes
    )


def values(dtype: Any, special: bool = False, magnitude: float = 100.0) -> st.SearchStrategy[float]:
    """Zeros of both signs and values with 2^-10 <= |x| <= magnitude: a gradient term like g·a/b² stays far
    from overflow, so no sum of terms overflows in one order and not in another. `special` adds infinities
    and nan (for elementwise ops; in a sum an infinite term makes the result inf or nan in any order)."""
    width = np.dtype(dtype).itemsize * 8
    size = st.floats(2.0**-10, magnitude, width=width)
    finite = st.one_of(size, size.map(lambda v: -v), st.sampled_from([0.0, -0.0]))
    return st.one_of(finite, st.sampled_from([np.inf, -np.inf, np.nan])) if special else finite


def arrays(dtype: Any, shape: tuple[int, ...], **kwargs: Any) -> st.SearchStrategy[Array]:
    return hnp.arrays(dtype, shape, elements=values(dtype, **kwargs))


def nonzero_arrays(dtype: Any, shape: tuple[int, ...], positive: bool = False) -> st.SearchStrategy[Array]:
    """Values with 1/2 <= |x| <= 2 (only positive ones if asked), where division and powers stay smooth: for
    finite differences."""
    size = st.floats(0.5, 2.0, width=np.dtype(dtype).itemsize * 8)
    return hnp.arrays(dtype, shape, elements=size if positive else st.one_of(size, size.map(lambda v: -v)))
