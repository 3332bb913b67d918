"""minigrad: a tiny tensor and reverse-mode autograd engine on numpy, mirroring the slice of torch's API
that the linear-regression notebook uses, so its cells run unchanged after `import minigrad as torch`.

Where to look: tensor.py (the Tensor), ops.py (each op's forward and backward), autograd.py (grad mode,
graph nodes, the backward pass), creation.py (factories), _printing.py (torch's text for a tensor).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec

# autograd first: tensor.py and ops.py build on it (see the import at the end of autograd.py).
from minigrad import autograd
from minigrad.autograd import Scalar, enable_grad, is_grad_enabled, no_grad
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
from minigrad.tensor import OPERANDS, ArgumentTypeError, Size, Tensor, dtype, float32, float64, int64

float = float32  # noqa: A001 - torch's alias
double = float64
long = int64


P = ParamSpec("P")


def function_form(method: Callable[Concatenate[Tensor, P], Tensor], numbers: bool = False) -> Callable[..., Tensor]:
    """`minigrad.add(input, other)` from `Tensor.add(self, other)`: the same code, `input` as `self`. `numbers`:
    the input may be a Python number (torch.add(2, t)). torch counts a function's arguments from `input`,
    a method's after `self`: an argument's position in a TypeError moves on by one."""

    def function(input: Tensor | Scalar, *args: P.args, **kwargs: P.kwargs) -> Tensor:
        if not isinstance(input, Tensor) and not (numbers and isinstance(input, OPERANDS)):
            raise ArgumentTypeError(method.__name__, "input", 1, "Tensor", input)
        try:
            return method(input, *args, **kwargs)  # type: ignore[arg-type]
        except ArgumentTypeError as error:
            if error.position is not None:
                error.position += 1
            raise

    function.__name__ = function.__qualname__ = method.__name__
    function.__doc__ = method.__doc__
    return function


add = function_form(Tensor.add, numbers=True)
sub = function_form(Tensor.sub, numbers=True)
mul = function_form(Tensor.mul, numbers=True)
div = function_form(Tensor.div, numbers=True)
pow = function_form(Tensor.pow, numbers=True)  # noqa: A001 - torch's name
neg = function_form(Tensor.neg)
clone = function_form(Tensor.clone)
matmul = function_form(Tensor.matmul)
mm = function_form(Tensor.mm)
mv = function_form(Tensor.mv)
dot = function_form(Tensor.dot)
t = function_form(Tensor.t)
transpose = function_form(Tensor.transpose)
sum = function_form(Tensor.sum)  # noqa: A001 - torch's name
mean = function_form(Tensor.mean)


__all__ = [
    "CaptureError",
    "Generator",
    "Size",
    "Tensor",
    "add",
    "autograd",
    "capture",
    "clone",
    "div",
    "dot",
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
    "mul",
    "mv",
    "neg",
    "no_grad",
    "ones",
    "ones_like",
    "pow",
    "randn",
    "sub",
    "sum",
    "t",
    "tensor",
    "transpose",
    "zeros",
    "zeros_like",
]
