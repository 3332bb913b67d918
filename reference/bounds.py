"""Rounding-error bounds (NUMERICS.md §2): how far a floating-point result may lie from the exact one.

A sum of n terms computed in any order is within γ_(n-1)·Σ|x_i| of the exact sum; a dot product of
length n within γ_n·Σ|x_i·y_i|. Two engines that each stay within B of the exact value stay within 2B of
each other. The bounds are evaluated in float64 from the inputs, so they hold for float32 engines whatever
order they add in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]


def unit_roundoff(dtype: npt.DTypeLike) -> float:
    """u = 2^-24 for float32, 2^-53 for float64: the largest relative error of one rounding."""
    return float(np.finfo(dtype).eps) / 2


def gamma(n: int, dtype: npt.DTypeLike) -> float:
    """γ_n = n·u / (1 − n·u), the relative error bound of n successive roundings."""
    nu = n * unit_roundoff(dtype)
    if nu >= 1:
        raise ValueError(f"γ_{n} is undefined: n·u = {nu} ≥ 1")
    return nu / (1 - nu)


def sum_bound(x: Array, axis: int | tuple[int, ...] | None, dtype: npt.DTypeLike) -> Array:
    """Bound on |computed − exact| of x.sum(axis) in `dtype`, for any summation order."""
    x = np.abs(np.asarray(x, dtype=np.float64))
    n = x.size if axis is None else int(np.prod([x.shape[a] for a in np.atleast_1d(axis)]))
    return np.asarray(gamma(max(n - 1, 0), dtype) * x.sum(axis=axis))


def matmul_bound(a: Array, b: Array, dtype: npt.DTypeLike) -> Array:
    """Bound on |computed − exact| of a @ b in `dtype` (a dot product of length k per element)."""
    a64, b64 = np.abs(np.asarray(a, dtype=np.float64)), np.abs(np.asarray(b, dtype=np.float64))
    k = a64.shape[-1] if a64.ndim else 1
    return np.asarray(gamma(k, dtype) * (a64 @ b64))
