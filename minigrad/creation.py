"""Making tensors: from data, filled with a constant, or random normal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.autograd import Array
from minigrad.capture import refuse_inside_recording
from minigrad.tensor import DTYPES, Tensor, dtype, float32, float64, int64

SizeArg = int | Sequence[int]
ONLY_FLOAT_REQUIRES_GRAD = "Only Tensors of floating point and complex dtype can require gradients"


def from_array(array: Array, requires_grad: bool = False) -> Tensor:
    """Wrap an array (no copy) after checking what minigrad supports."""
    refuse_inside_recording()
    if array.dtype not in DTYPES:
        supported = ", ".join(str(d) for d in DTYPES)
        raise TypeError(f"minigrad supports the dtypes {supported}; got numpy {array.dtype}")
    if requires_grad and array.dtype.kind != "f":
        raise RuntimeError(ONLY_FLOAT_REQUIRES_GRAD)
    return Tensor(array, requires_grad=requires_grad)


def tensor(data: Any, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (nested lists, a numpy array, a number or a Tensor).

    As torch: Python floats become float32 and Python ints int64; a numpy array keeps its dtype.
    """
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        array = np.array(data, dtype=dtype.numpy)
    elif isinstance(data, np.ndarray | np.generic):
        array = np.array(data)
    else:
        array = np.array(data)
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
        elif array.dtype.kind in "iu":
            array = array.astype(np.int64)
    return from_array(array, requires_grad)


def from_numpy(array: Array) -> Tensor:
    """A tensor sharing memory with `array`, keeping its dtype."""
    return from_array(array)


def shape_of(size: tuple[SizeArg, ...]) -> tuple[int, ...]:
    """`zeros(2, 3)` and `zeros((2, 3))` mean the same, as in torch."""
    if len(size) == 1 and not isinstance(size[0], int):
        return tuple(size[0])
    return tuple(int(n) for n in size)  # type: ignore[arg-type]


def full(size: tuple[SizeArg, ...], value: float, dtype: dtype | None, requires_grad: bool) -> Tensor:
    return from_array(np.full(shape_of(size), value, dtype=(dtype or float32).numpy), requires_grad)


def zeros(*size: SizeArg, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    return full(size, 0, dtype, requires_grad)


def ones(*size: SizeArg, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    return full(size, 1, dtype, requires_grad)


def zeros_like(input: Tensor, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    return full((input.shape,), 0, dtype or input.dtype, requires_grad)


def ones_like(input: Tensor, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    return full((input.shape,), 1, dtype or input.dtype, requires_grad)


class Generator:
    """A seeded source of random numbers (numpy's PCG64). Seeds give repeatable draws, but not torch's
    draws: torch's generator is its own, so `randn` values differ from torch's for the same seed."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng()

    def manual_seed(self, seed: int) -> Generator:
        self.rng = np.random.default_rng(seed)
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    return default_generator.manual_seed(seed)


def randn(
    *size: SizeArg, dtype: dtype | None = None, requires_grad: bool = False, generator: Generator | None = None
) -> Tensor:
    """Samples from the standard normal distribution."""
    dtype = dtype or float32
    if dtype not in (float32, float64):
        raise RuntimeError(f"\"normal_kernel_cpu\" not implemented for '{ {int64: 'Long'}[dtype] }'")
    rng = (generator or default_generator).rng
    return from_array(rng.standard_normal(shape_of(size), dtype=dtype.numpy), requires_grad)
