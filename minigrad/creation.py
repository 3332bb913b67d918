"""Making tensors: from data, filled with a constant, or random normal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.autograd import Array, is_dense
from minigrad.capture import refuse_inside_recording
from minigrad.tensor import DTYPES, ArgumentTypeError, Tensor, dtype, float32, float64, int64

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
    refuse_inside_recording()  # before reading `data`: capture makes numpy's arrays traced ones meanwhile
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, np.ndarray | np.generic):
        array = np.array(data, dtype=None if dtype is None else dtype.numpy)
    else:
        array = python_array(data, dtype)
    return from_array(array, requires_grad)


INT64_RANGE = (-(2**63), 2**63)


def python_array(data: Any, dtype: dtype | None) -> Array:
    """Python numbers, nested in lists or tuples, as torch reads them (its dtypes, checks and errors)."""
    try:
        array = np.array(data)
    except ValueError:  # ragged: numpy refuses, in its own words
        raise ragged_error(data, dtype) from None
    if array.dtype.kind in "US":
        raise TypeError("new(): invalid data type 'str'")
    values = array.ravel().tolist()
    if array.dtype.kind == "O" and None in values:
        raise RuntimeError("Could not infer dtype of NoneType")
    defaults = {"f": float32, "i": int64, "u": int64, "O": int64}  # u, O: ints beyond int64, refused below
    if dtype is None and array.dtype.kind not in defaults:
        return array  # bool: from_array says minigrad lacks it
    target = (dtype or defaults[array.dtype.kind]).numpy
    if target.kind == "i" and array.dtype.kind in "fuO":
        low, high = INT64_RANGE
        in_range = [isinstance(v, int | float) and low <= v < high for v in values]
        if not all(in_range):
            if array.dtype.kind == "f":
                raise RuntimeError("value cannot be converted to type int64 without overflow")
            raise ValueError("Overflow when unpacking long long")
    converted: Array = np.array(data, dtype=target)
    return converted


def ragged_error(data: Any, dtype: dtype | None) -> Exception:
    """torch's error for nested lists that are not a grid: it takes each dim's length from the first
    element at that depth, then checks every list against it."""
    sizes, first = [], data
    while isinstance(first, list | tuple):
        sizes.append(len(first))
        if not first:
            break
        first = first[0]

    def leaves(x: Any) -> list[Any]:
        return [leaf for item in x for leaf in leaves(item)] if isinstance(x, list | tuple) else [x]

    floating = dtype.is_floating_point if dtype is not None else any(isinstance(v, float) for v in leaves(data))

    def check(x: Any, dim: int) -> Exception | None:
        if dim == len(sizes):
            if not isinstance(x, list | tuple):
                return None
            if floating:
                return TypeError(f"must be real number, not {type(x).__name__}")
            return TypeError(f"'{type(x).__name__}' object cannot be interpreted as an integer")
        if not isinstance(x, list | tuple):
            return TypeError("not a sequence")
        if len(x) != sizes[dim]:
            return ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(x)})")
        return next((error for item in x if (error := check(item, dim + 1)) is not None), None)

    error = check(data, 0)
    assert error is not None, "numpy refused a grid"
    return error


def from_numpy(array: Array) -> Tensor:
    """A tensor sharing memory with `array`, keeping its dtype."""
    return from_array(array)


def shape_of(size: tuple[Any, ...], function: str) -> tuple[int, ...]:
    """`zeros(2, 3)` and `zeros((2, 3))` mean the same, as in torch; torch's errors for anything else."""
    if not size:
        raise TypeError(f'{function}() missing 1 required positional arguments: "size"')
    if len(size) == 1 and isinstance(size[0], list | tuple):
        size = tuple(size[0])
        for position, n in enumerate(size):
            if not is_int(n):
                raise TypeError(
                    f"{function}(): argument 'size' (position 1) must be tuple of ints, but found element of type "
                    f"{type(n).__name__} at pos {position}"
                )
    for position, n in enumerate(size, start=1):
        if not is_int(n):
            if len(size) == 1:
                raise ArgumentTypeError(function, "size", 1, "tuple of ints", n)
            raise TypeError(
                f"{function}(): argument 'size' failed to unpack the object at pos {position} with error "
                f'"type must be tuple of ints,but got {type(n).__name__}"'
            )
    shape = tuple(int(n) for n in size)
    negative = [n for n in shape if n < 0]
    if negative and function == "zeros":
        raise RuntimeError("zeros: Dimension size must be non-negative.")
    if negative:
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative[0]}: {list(shape)}")
    return shape


def is_int(n: object) -> bool:
    return isinstance(n, int | np.integer) and not isinstance(n, bool)


def full(size: tuple[SizeArg, ...], value: float, dtype: dtype | None, requires_grad: bool, function: str) -> Tensor:
    return from_array(np.full(shape_of(size, function), value, dtype=(dtype or float32).numpy), requires_grad)


def zeros(*size: SizeArg, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    return full(size, 0, dtype, requires_grad, "zeros")


def ones(*size: SizeArg, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    return full(size, 1, dtype, requires_grad, "ones")


def full_like(input: Tensor, value: float, dtype: dtype | None, requires_grad: bool) -> Tensor:
    """A new tensor of `input`'s shape and, as torch's default (preserve_format), its strides (a transposed
    tensor's: a gradient made this way then passes a transpose's backward in the leaf's own layout)."""
    data = input._data
    values = np.full_like(data, value, (dtype or input.dtype).numpy, "K" if is_dense(data) else "C")
    return from_array(values, requires_grad)


def zeros_like(input: Tensor, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    return full_like(input, 0, dtype, requires_grad)


def ones_like(input: Tensor, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    return full_like(input, 1, dtype, requires_grad)


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
    return from_array(rng.standard_normal(shape_of(size, "randn"), dtype=dtype.numpy), requires_grad)
