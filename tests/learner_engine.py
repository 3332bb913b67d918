"""A learner's engine, as one might write it after micrograd: numpy arrays, a graph of closures, torch's
names. Not part of the kit: tests/test_plugin.py copies it alone into a temporary folder and points the
kit's pytest plugin at it (and at broken copies of it), as a learner would."""

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

float32, float64 = np.float32, np.float64
_recording = [True]


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    _recording.append(False)
    try:
        yield
    finally:
        _recording.pop()


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> "Tensor":
    return Tensor(np.array(data, dtype=dtype), requires_grad=requires_grad)


def sum(t: "Tensor") -> "Tensor":  # noqa: A001 - torch.sum
    return t.sum()


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """The gradient of a broadcast input: summed over the dimensions broadcasting added or stretched."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    def __init__(self, data: Any, requires_grad: bool = False, parents: tuple[Any, ...] = (), backward: Any = None):
        self.data = data
        self.requires_grad = requires_grad
        self.grad: Tensor | None = None
        self._parents = parents  # the tensors this one was computed from
        self._backward = backward  # grad of this -> grads of the parents

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype.type)

    def __repr__(self) -> str:
        return f"tensor({self.data.tolist()}, requires_grad={self.requires_grad})"

    def _result(self, data: Any, parents: tuple[Any, ...], backward: Any) -> "Tensor":
        parents = tuple(p if isinstance(p, Tensor) else Tensor(np.asarray(p, self.data.dtype)) for p in parents)
        if _recording[-1] and any(p.requires_grad for p in parents):
            return Tensor(data, True, parents, backward)
        return Tensor(data)

    @staticmethod
    def _data(value: Any) -> Any:
        return value.data if isinstance(value, Tensor) else value

    def __add__(self, other: Any) -> "Tensor":
        a, b = self.data, self._data(other)
        return self._result(a + b, (self, other), lambda g: (unbroadcast(g, np.shape(a)), unbroadcast(g, np.shape(b))))

    __radd__ = __add__

    def __sub__(self, other: Any) -> "Tensor":
        a, b = self.data, self._data(other)
        return self._result(a - b, (self, other), lambda g: (unbroadcast(g, np.shape(a)), unbroadcast(-g, np.shape(b))))

    def __rsub__(self, other: Any) -> "Tensor":
        return self._result(other - self.data, (self,), lambda g: (-g,))

    def __mul__(self, other: Any) -> "Tensor":
        a, b = self.data, self._data(other)
        return self._result(
            a * b, (self, other), lambda g: (unbroadcast(g * b, np.shape(a)), unbroadcast(g * a, np.shape(b)))
        )

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> "Tensor":
        a, b = self.data, self._data(other)
        return self._result(
            a / b, (self, other), lambda g: (unbroadcast(g / b, np.shape(a)), unbroadcast(-g * a / b / b, np.shape(b)))
        )

    def __rtruediv__(self, other: Any) -> "Tensor":
        a = self.data
        return self._result(other / a, (self,), lambda g: (-g * other / a / a,))

    def __matmul__(self, other: Any) -> "Tensor":
        a, b = self.data, other.data
        return self._result(a @ b, (self, other), lambda g: (g @ b.T, a.T @ g))

    def t(self) -> "Tensor":
        return self._result(self.data.T, (self,), lambda g: (g.T,))

    def sum(self) -> "Tensor":
        shape = self.data.shape
        return self._result(self.data.sum(), (self,), lambda g: (np.broadcast_to(g, shape).copy(),))

    def __isub__(self, other: Any) -> "Tensor":
        self.data -= self._data(other)
        return self

    def numel(self) -> int:
        return int(self.data.size)

    def item(self) -> Any:
        return self.data.item()

    def numpy(self) -> Any:
        return self.data

    def detach(self) -> "Tensor":
        return Tensor(self.data)

    def zero_(self) -> "Tensor":
        self.data[...] = 0
        return self

    def backward(self) -> None:
        order: list[Tensor] = []
        seen: set[int] = set()

        def visit(node: Tensor) -> None:
            if id(node) not in seen:
                seen.add(id(node))
                for parent in node._parents:
                    visit(parent)
                order.append(node)

        visit(self)
        grads = {id(self): np.ones_like(self.data)}
        for node in reversed(order):
            grad = grads.pop(id(node), None)
            if grad is None:
                continue
            if not node._parents:  # a leaf
                if node.requires_grad:
                    node.grad = Tensor(grad.astype(node.data.dtype)) if node.grad is None else node.grad + grad
                continue
            for parent, parent_grad in zip(node._parents, node._backward(grad), strict=True):
                if parent.requires_grad:
                    grads[id(parent)] = grads[id(parent)] + parent_grad if id(parent) in grads else parent_grad
