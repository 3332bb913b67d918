"""A learner's engine written apart from minigrad, to show the diagnosis by op on an engine outside the kit.

numpy arrays, a closure per op for backward, a topological sort. Where a learner's formulas would differ from
torch's, these do, and all of them are correct: a/b's gradients as grad·(1/b) and −grad·a/(b·b), sums added
exactly with math.fsum and rounded once, products accumulated in float64 and rounded once.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
Gradients = Callable[[Array], tuple[Array, ...]]

float32, float64 = np.dtype(np.float32), np.dtype(np.float64)
recording = True


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    global recording
    before, recording = recording, False
    try:
        yield
    finally:
        recording = before


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.array(data, dtype=dtype), requires_grad)


def sum(t: Tensor) -> Tensor:  # noqa: A001 - the contract's name
    return t.sum()


def lift(value: Tensor | float, like: Tensor) -> Tensor:
    """A Python number becomes a constant of `like`'s dtype (converted first, as torch does)."""
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value, dtype=like.dtype))


def unbroadcast(grad: Array, shape: tuple[int, ...]) -> Array:
    """Sum a broadcast gradient back to `shape`, row by row."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    def __init__(
        self, data: Array, requires_grad: bool = False, parents: tuple[Tensor, ...] = (), grads: Gradients | None = None
    ) -> None:
        self.data, self.requires_grad, self.parents, self.grads = data, requires_grad, parents, grads
        self.grad: Tensor | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    def numel(self) -> int:
        return int(self.data.size)

    def item(self) -> float:
        return float(self.data.item())

    def detach(self) -> Tensor:
        return Tensor(self.data)

    def numpy(self) -> Array:
        return self.data

    def zero_(self) -> Tensor:
        self.data[...] = 0
        return self

    def __isub__(self, other: Tensor | float) -> Tensor:
        self.data -= lift(other, self).data
        return self

    # ------------------------------------------------------------ ops: the result and each input's gradient
    def result(self, data: Array, inputs: tuple[Tensor, ...], grads: Gradients) -> Tensor:
        if recording and any(x.requires_grad for x in inputs):
            return Tensor(np.asarray(data, dtype=self.dtype), True, inputs, grads)
        return Tensor(np.asarray(data, dtype=self.dtype))

    def __add__(self, other: Tensor | float) -> Tensor:
        b = lift(other, self)
        return self.result(
            self.data + b.data, (self, b), lambda g: (unbroadcast(g, self.shape), unbroadcast(g, b.shape))
        )

    def __sub__(self, other: Tensor | float) -> Tensor:
        b = lift(other, self)
        return self.result(
            self.data - b.data, (self, b), lambda g: (unbroadcast(g, self.shape), unbroadcast(-g, b.shape))
        )

    def __mul__(self, other: Tensor | float) -> Tensor:
        b = lift(other, self)
        return self.result(
            self.data * b.data,
            (self, b),
            lambda g: (unbroadcast(g * b.data, self.shape), unbroadcast(g * self.data, b.shape)),
        )

    def __truediv__(self, other: Tensor | float) -> Tensor:
        b = lift(other, self)
        return self.result(
            self.data / b.data,
            (self, b),
            lambda g: (
                unbroadcast(g * (1 / b.data), self.shape),
                unbroadcast(-g * self.data / (b.data * b.data), b.shape),
            ),
        )

    def __radd__(self, other: float) -> Tensor:
        return self + other

    def __rsub__(self, other: float) -> Tensor:
        return lift(other, self) - self

    def __rmul__(self, other: float) -> Tensor:
        return self * other

    def __rtruediv__(self, other: float) -> Tensor:
        return lift(other, self) / self

    def __matmul__(self, other: Tensor) -> Tensor:
        product = self.data.astype(np.float64) @ other.data.astype(np.float64)
        return self.result(product, (self, other), lambda g: (g @ other.data.T, self.data.T @ g))

    def t(self) -> Tensor:
        return self.result(self.data.T, (self,), lambda g: (g.T,))

    def sum(self) -> Tensor:
        return self.result(np.asarray(math.fsum(self.data.flat)), (self,), lambda g: (np.broadcast_to(g, self.shape),))

    # ------------------------------------------------------------ backward
    def backward(self) -> None:
        order: list[Tensor] = []
        seen: set[int] = set()

        def visit(node: Tensor) -> None:
            if id(node) not in seen:
                seen.add(id(node))
                for parent in node.parents:
                    visit(parent)
                order.append(node)

        visit(self)
        grads = {id(self): np.ones_like(self.data)}
        for node in reversed(order):
            grad = grads.pop(id(node), None)
            if grad is None or not node.requires_grad:
                continue
            if node.grads is None:
                node.accumulate(grad)
                continue
            for parent, parent_grad in zip(node.parents, node.grads(grad), strict=True):
                if parent.requires_grad:
                    grads[id(parent)] = grads[id(parent)] + parent_grad if id(parent) in grads else parent_grad

    def accumulate(self, grad: Array) -> None:
        if self.grad is None:
            self.grad = Tensor(np.array(grad, dtype=self.dtype))
        else:
            self.grad.data += grad
