"""minigrad: a tiny tensor and reverse-mode autograd engine on numpy, mirroring the slice of torch's API
that the linear-regression notebook uses, so its cells run unchanged after `import minigrad as torch`.

Where to look: tensor.py (the Tensor), ops.py (each op's forward and backward), autograd.py (grad mode,
graph nodes, the backward pass), creation.py (factories), _printing.py (torch's text for a tensor).
"""

from __future__ import annotations

from collections.abc import Sequence

# autograd first: tensor.py and ops.py build on it (see the import at the end of autograd.py).
from minigrad import autograd
from minigrad.autograd import enable_grad, is_grad_enabled, no_grad
from minigrad.capture import CaptureError, capture
from minigrad.creation import (
    Generator,
    from_numpy,
    manual_seed,
    ones,
    ones_like,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from minigrad.tensor import Size, Tensor, dtype, float32, float64, int64

float = float32  # noqa: A001 - torch's alias
double = float64
long = int64


def sum(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return input.sum(dim, keepdim)


def mean(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    return input.mean(dim, keepdim)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    return input.matmul(other)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    return input.mm(mat2)


__all__ = [
    "CaptureError",
    "Generator",
    "Size",
    "Tensor",
    "autograd",
    "capture",
    "double",
    "dtype",
    "enable_grad",
    "float",
    "float32",
    "float64",
    "from_numpy",
    "int64",
    "is_grad_enabled",
    "long",
    "manual_seed",
    "matmul",
    "mean",
    "mm",
    "no_grad",
    "ones",
    "ones_like",
    "randn",
    "sum",
    "tensor",
    "zeros",
    "zeros_like",
]
