"""The kit's contract around a micrograd-style scalar engine: Karpathy's micrograd (pip install micrograd),
whose Value holds one number and its .grad, with no tensors, dtypes, requires_grad or no_grad().

A tensor here is a numpy array of Values (dtype=object, so numpy's broadcasting, @ and sum call Value's own
+ and *), with the dtype it stands for. Values hold numpy scalars of that dtype (np.float32(1.5) + np.float32(2)
stays float32), so micrograd computes in float32 or float64 as asked. micrograd computes every gradient; the
adapter reads the leaves' .grad after a backward, adds it to the tensor's .grad as torch does, and clears it.

    python -m reference --engine micrograd_adapter:engine            # from this folder
    python -m pytest --pyargs reference --engine micrograd_adapter:engine
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator
from typing import Any

import numpy as np
from micrograd.engine import Value

recording = [True]


class Tensor:
    def __init__(self, values: Any, dtype: Any, requires_grad: bool = False) -> None:
        self.values = np.asarray(values, dtype=object)  # of Values
        self.dtype = dtype
        self.requires_grad = requires_grad
        self.grad: Tensor | None = None

    @classmethod
    def of(cls, numbers: Any, dtype: Any, requires_grad: bool = False) -> Tensor:
        array = np.asarray(numbers, dtype=dtype)
        return cls(
            np.vectorize(Value, otypes=[object])(array) if array.size else array.astype(object), dtype, requires_grad
        )

    shape = property(lambda self: self.values.shape)

    def numpy(self) -> Any:
        return np.vectorize(lambda v: v.data, otypes=[self.dtype])(self.values).reshape(self.shape)

    def detach(self) -> Tensor:
        return Tensor.of(self.numpy(), self.dtype)

    def backward(self) -> None:
        self.values.item().backward()  # micrograd: every Value reachable gets its gradient
        for leaf in leaves_of(self):
            grads = np.vectorize(lambda v: v.grad, otypes=[leaf.dtype])(leaf.values).reshape(leaf.shape)
            leaf.grad = Tensor.of(grads if leaf.grad is None else leaf.grad.numpy() + grads, leaf.dtype)
            for value in leaf.values.flat:  # torch adds each backward's gradient once: clear micrograd's
                value.grad = 0

    def __isub__(self, other: Any) -> Tensor:  # under no_grad(): new Values in the same tensor object
        new = self.numpy() - (other.numpy() if isinstance(other, Tensor) else other)
        self.values = Tensor.of(new, self.dtype).values
        return self

    def zero_(self) -> Tensor:
        self.values = Tensor.of(np.zeros(self.shape), self.dtype).values
        return self

    numel = lambda self: self.values.size  # noqa: E731
    item = lambda self: self.numpy().item()  # noqa: E731
    t = lambda self: result(self.values.T, self)  # noqa: E731
    sum = lambda self: result(np.asarray(self.values.sum()), self)  # noqa: E731
    __matmul__ = lambda a, b: result(a.values @ b.values, a, b)  # noqa: E731
    __add__ = lambda a, b: result(a.values + operand(b), a, b)  # noqa: E731
    __radd__ = lambda a, b: result(operand(b) + a.values, a)  # noqa: E731
    __sub__ = lambda a, b: result(a.values - operand(b), a, b)  # noqa: E731
    __rsub__ = lambda a, b: result(operand(b) - a.values, a)  # noqa: E731
    __mul__ = lambda a, b: result(a.values * operand(b), a, b)  # noqa: E731
    __rmul__ = lambda a, b: result(operand(b) * a.values, a)  # noqa: E731
    __truediv__ = lambda a, b: result(a.values / operand(b), a, b)  # noqa: E731
    __rtruediv__ = lambda a, b: result(operand(b) / a.values, a)  # noqa: E731


def operand(x: Any) -> Any:
    return x.values if isinstance(x, Tensor) else x  # a Python number: micrograd wraps it in a Value


def result(values: Any, *inputs: Any) -> Tensor:
    tensors = [x for x in inputs if isinstance(x, Tensor)]
    out = Tensor(values, tensors[0].dtype, recording[-1] and any(x.requires_grad for x in tensors))
    out.inputs = tensors if out.requires_grad else []  # type: ignore[attr-defined]
    return out if out.requires_grad else out.detach()  # under no_grad(), no graph reaches the leaves


def leaves_of(root: Tensor) -> list[Tensor]:
    seen, leaves, stack = set(), [], [root]
    while stack:
        tensor = stack.pop()
        if id(tensor) not in seen:
            seen.add(id(tensor))
            inputs = getattr(tensor, "inputs", [])
            leaves += [tensor] if tensor.requires_grad and not inputs else []
            stack += inputs
    return leaves


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor.of(data, np.dtype(dtype or np.float32).type, requires_grad)


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    recording.append(False)
    try:
        yield
    finally:
        recording.pop()


# The engine the kit checks: `--engine micrograd_adapter:engine`.
engine = types.SimpleNamespace(
    float32=np.float32, float64=np.float64, tensor=tensor, no_grad=no_grad, sum=lambda t: t.sum()
)
