"""The kit's contract around HIPS autograd (pip install autograd), whose API is functional: it differentiates
a Python function, `grad(f)(x)`, and has no tensor object, no .grad, no backward(), no no_grad().

So each tensor here keeps its value and, when it depends on leaves that require grad, a function computing it
from their values with autograd.numpy. backward() hands autograd that function of the leaves: autograd
computes every gradient; the adapter only adds them to the leaves' .grad, as torch does.

    python -m reference --engine autograd_adapter:engine             # from this folder
    python -m pytest --pyargs reference --engine autograd_adapter:engine
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Callable, Iterator
from typing import Any

import autograd.numpy as anp
import numpy as np
from autograd import grad as gradient_of

recording = [True]


class Tensor:
    def __init__(self, value: Any, requires_grad: bool = False, leaves: tuple[Tensor, ...] = (), compute: Any = None):
        self.value = np.asarray(value)  # autograd.numpy's sum gives a numpy scalar: a 0-d array here
        self.requires_grad = requires_grad
        self.grad: Tensor | None = None
        self.leaves = leaves  # the leaves requiring grad this depends on (itself, for such a leaf)
        self.compute = compute  # {id(leaf): its value} -> this value, in autograd.numpy; None for a leaf

    def of(self, values: dict[int, Any]) -> Any:
        """This tensor's value from the leaves' `values` (which autograd traces), or its own if a constant."""
        if self.compute is not None:
            return self.compute(values)
        return values.get(id(self), self.value)

    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype.type)  # numpy's scalar types: engine.float32 is np.float32

    def backward(self) -> None:
        leaves = self.leaves
        grads = gradient_of(lambda values: self.of({id(leaf): v for leaf, v in zip(leaves, values, strict=True)}))(
            [leaf.value for leaf in leaves]
        )
        for leaf, grad in zip(leaves, grads, strict=True):  # autograd returns gradients; torch adds them to .grad
            leaf.grad = Tensor(grad) if leaf.grad is None else Tensor(leaf.grad.value + grad)

    def __isub__(self, other: Any) -> Tensor:
        self.value -= other.value if isinstance(other, Tensor) else other
        return self

    def zero_(self) -> Tensor:
        self.value[...] = 0
        return self

    numel = lambda self: self.value.size  # noqa: E731
    item = lambda self: self.value.item()  # noqa: E731
    numpy = lambda self: self.value  # noqa: E731
    detach = lambda self: Tensor(self.value)  # noqa: E731
    t = lambda self: op(anp.transpose, self)  # noqa: E731
    sum = lambda self: op(anp.sum, self)  # noqa: E731
    __matmul__ = lambda a, b: op(anp.matmul, a, b)  # noqa: E731
    __add__ = lambda a, b: op(anp.add, a, b)  # noqa: E731
    __radd__ = lambda a, b: op(anp.add, b, a)  # noqa: E731
    __sub__ = lambda a, b: op(anp.subtract, a, b)  # noqa: E731
    __rsub__ = lambda a, b: op(anp.subtract, b, a)  # noqa: E731
    __mul__ = lambda a, b: op(anp.multiply, a, b)  # noqa: E731
    __rmul__ = lambda a, b: op(anp.multiply, b, a)  # noqa: E731
    __truediv__ = lambda a, b: op(anp.divide, a, b)  # noqa: E731
    __rtruediv__ = lambda a, b: op(anp.divide, b, a)  # noqa: E731


def op(function: Callable[..., Any], *operands: Any) -> Tensor:
    """`function` on the operands' values now, and (while recording, if a leaf requiring grad is among its
    inputs) as a function of those leaves, for backward()."""
    value = function(*(x.value if isinstance(x, Tensor) else x for x in operands))
    leaves = tuple({id(leaf): leaf for x in operands if isinstance(x, Tensor) for leaf in x.leaves}.values())
    if not (recording[-1] and leaves):
        return Tensor(value)
    return Tensor(value, True, leaves, lambda v: function(*(x.of(v) if isinstance(x, Tensor) else x for x in operands)))


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    leaf = Tensor(np.array(data, dtype=dtype), requires_grad)
    leaf.leaves = (leaf,) if requires_grad else ()
    return leaf


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    recording.append(False)
    try:
        yield
    finally:
        recording.pop()


# The engine the kit checks: `--engine autograd_adapter:engine`.
engine = types.SimpleNamespace(
    float32=np.float32, float64=np.float64, tensor=tensor, no_grad=no_grad, sum=lambda t: t.sum()
)
