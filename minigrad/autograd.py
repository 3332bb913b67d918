"""Reverse-mode autograd: grad mode, graph nodes, and the backward pass.

Every differentiable op is a `Function` subclass (see ops.py). Calling an op records one `Function`
instance, the node torch calls `grad_fn`: it keeps what backward needs (`save_for_backward`) and the
edges to its inputs' nodes (`next_functions`). Leaves that require grad are reached through an
`AccumulateGrad` node, as in torch, so the graph can be walked the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
Scalar = int | float
F = TypeVar("F", bound=Callable[..., Any])

# ---------------------------------------------------------------- grad mode
# A module global rather than torch's thread-local: one attribute read on every op is the cheapest check.
_grad_enabled = True


def is_grad_enabled() -> bool:
    return _grad_enabled


class _GradMode:
    """Context manager and decorator that sets grad mode for its block, then restores the previous mode."""

    enabled: ClassVar[bool]

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        # A bare `@no_grad` (no parentheses) passes the function here: decorate it, as torch does.
        mode = super().__new__(cls)
        return mode if func is None else mode(func)

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = self.enabled

    def __exit__(self, *exc_info: object) -> None:
        global _grad_enabled
        _grad_enabled = self._previous

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):  # noqa: N801 - torch's name
    """Ops inside record no graph; their results don't require grad."""

    enabled = False


class enable_grad(_GradMode):  # noqa: N801 - torch's name
    """Turns graph recording back on inside a `no_grad` block."""

    enabled = True


# ---------------------------------------------------------------- graph nodes
BACKWARD_TWICE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
    "if you need to access saved tensors after calling backward."
)
Edge = tuple["Node | None", int]
SavedAttributes = dict[str, Callable[[Any], object]]  # torch's name for a thing a node keeps -> how to get it
# How torch's messages name dtypes ("result type Float can't be cast to ... Long").
SCALAR_TYPE_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long"}


class Node:
    """What backward visits: `backward(grad)` returns one gradient per edge in `next_functions`."""

    __slots__ = ("__weakref__",)
    is_view: ClassVar[bool] = False  # its output shares its input's memory (and so its version counter)
    next_functions: tuple[Edge, ...]

    def name(self) -> str:
        return type(self).__name__

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        raise NotImplementedError

    def release(self) -> None:
        """Free what was saved for backward (called after backward unless retain_graph=True)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"


class AccumulateGrad(Node):
    """The node of a leaf: backward adds the arriving gradient into `variable.grad`."""

    __slots__ = ("variable",)
    next_functions = ()

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"  # torch's C++ name; its Python class is AccumulateGrad

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        self.variable._accumulate_grad(grad)
        return ()


class SavedValue:
    """A value saved for backward, with the tensor it is the data of (if any) and that tensor's version
    then, to detect later in-place edits."""

    __slots__ = ("tensor", "value", "version")

    def __init__(self, value: Array | Scalar | None, tensor: Tensor | None) -> None:
        self.value = value
        self.tensor = tensor
        self.version = tensor._version if tensor is not None else 0

    def unpack(self) -> Array | Scalar | None:
        tensor = self.tensor
        if tensor is not None and tensor._version != self.version:
            value = np.asarray(self.value)
            kind = SCALAR_TYPE_NAMES[value.dtype.name]
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: [minigrad.{kind}Tensor [{', '.join(map(str, value.shape))}]]{origin(tensor)} "
                f"is at version {tensor._version}; expected version {self.version} instead."
            )
        return self.value


def origin(tensor: Tensor) -> str:
    """How torch's message names the op whose output a tensor is now: its grad_fn's name without
    "Backward0" ("Mul", "Sum1"); a view edited in place has had its grad_fn replaced by an AsStrided one."""
    node = tensor.grad_fn
    if node is None:
        return ""
    name = "AsStrided" if node.is_view else node.name().replace("Backward0", "").replace("Backward", "")
    return f", which is output 0 of {name},"


class Function(Node):
    """One differentiable op. Subclasses define, side by side:

    - `forward(self, *inputs)`: numpy arrays (or Python numbers) in, the result array out; it calls
      `self.save_for_backward(...)` with whatever backward will need.
    - `backward(self, grad)`: the gradient of the output in, one gradient per input out (None for an input
      that needs none: `self.needs_input_grad` says which do).
    """

    __slots__ = ("_inputs", "_saved", "needs_input_grad", "next_functions")
    grad_fn_name: ClassVar[str]  # torch's class name for this node, e.g. "MulBackward0"
    # What the node keeps, under the names torch shows it by as `_saved_<name>` (tools such as torchviz read
    # them): `saved_names` name the values given to save_for_backward, in order (each shown as the tensor it
    # came from, or as a new tensor); `saved_attributes` give torch's name for other things the node keeps.
    saved_names: ClassVar[tuple[str, ...]] = ()
    saved_attributes: ClassVar[SavedAttributes] = {}
    forward: Callable[..., Array]
    needs_input_grad: tuple[bool, ...]
    _saved: tuple[SavedValue, ...] | None  # None once released
    _inputs: list[Tensor]  # the input tensors, during forward only (save_for_backward matches against them)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # The class is named for what it computes (ops.Div); type(grad_fn).__name__, which tools such as torchviz
        # print, is torch's node name (DivBackward0).
        super().__init_subclass__(**kwargs)
        if "grad_fn_name" in cls.__dict__:
            cls.__name__ = cls.__qualname__ = cls.grad_fn_name
        for index, name in enumerate(cls.__dict__.get("saved_names", ())):
            setattr(cls, f"_saved_{name}", property(functools.partial(Function._unpack_saved, index=index)))
        for name, get in cls.__dict__.get("saved_attributes", {}).items():
            setattr(cls, f"_saved_{name}", property(get))

    def save_for_backward(self, *values: Array | Scalar | None) -> None:
        # Each saved array is matched to the input tensor it belongs to, to watch that tensor's version.
        if True not in self.needs_input_grad:
            return  # no graph will be recorded: nothing to save
        self._saved = tuple([SavedValue(value, self._input_holding(value)) for value in values])

    def _input_holding(self, value: Array | Scalar | None) -> Tensor | None:
        for tensor in self._inputs:
            if tensor._data is value:
                return tensor
        return None

    @property
    def saved_values(self) -> tuple[Any, ...]:
        if self._saved is None:
            raise RuntimeError(BACKWARD_TWICE)
        return tuple(saved.unpack() for saved in self._saved)

    def _unpack_saved(self, index: int) -> Tensor | None:
        """What save_for_backward kept at `index`: the input tensor it is the data of, else a new tensor."""
        if self._saved is None:
            raise RuntimeError(BACKWARD_TWICE)
        saved = self._saved[index]
        value = saved.unpack()
        if value is None or saved.tensor is not None:
            return saved.tensor
        return Tensor(np.asarray(value))

    def release(self) -> None:
        self._saved = None

    @classmethod
    def apply(cls, *inputs: Tensor | Scalar, **params: Any) -> Tensor:
        """Run forward on the inputs' arrays and, when grad mode is on and an input requires grad, record
        the node in the graph."""
        node = cls()
        node._saved = ()
        if _grad_enabled:
            needs = tuple([isinstance(x, Tensor) and x._requires_grad for x in inputs])
        else:
            needs = (False,) * len(inputs)
        node.needs_input_grad = needs  # forward saves only what these gradients will need
        recording = True in needs
        node._inputs = [x for x in inputs if isinstance(x, Tensor)] if recording else []
        output = node.forward(*[x._data if isinstance(x, Tensor) else x for x in inputs], **params)
        node._inputs = []
        if recording:
            node.next_functions = tuple(
                [(x._node(), 0) if isinstance(x, Tensor) and x._requires_grad else (None, 0) for x in inputs]
            )
            out = Tensor(output, requires_grad=True, grad_fn=node)
        else:
            out = Tensor(output)
        if cls.is_view:  # it shares its input's memory, so an in-place edit of either bumps both
            base = inputs[0]
            assert isinstance(base, Tensor)
            out._version_counter = base._version_counter
            out._base = base._base if base._base is not None else base
        return out


# ---------------------------------------------------------------- the backward pass
BackwardObserver = Callable[[Node, Array, tuple[Array | None, ...]], None]
# Set by minigrad.walkthrough.watch_backward to see each step of a backward pass; None otherwise.
observer: BackwardObserver | None = None


def run_backward(root: Node, grad: Array, retain_graph: bool) -> None:
    """Propagate `grad` from `root` to the leaves.

    Nodes run in topological order: a node runs once every node that feeds it a gradient has run, so its
    gradient is complete (summed over all paths). Both passes are loops, not recursion, so a graph of any
    depth works in linear time.
    """
    on_node = observer
    # Pass 1: count, for each node, how many edges lead into it.
    dependencies: dict[Node, int] = {}
    stack = [root]
    seen = {root}
    while stack:
        for child, _ in stack.pop().next_functions:
            if child is not None:
                dependencies[child] = dependencies.get(child, 0) + 1
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
    # Pass 2: run each node once all its gradient contributions have arrived.
    pending: dict[Node, Array] = {root: grad}
    ready = [root]
    while ready:
        node = ready.pop()
        grad_in = pending.pop(node, None)
        if grad_in is None:  # no gradient reached it: it still releases its inputs' dependency counts
            grads_out: tuple[Array | None, ...] = (None,) * len(node.next_functions)
        else:
            grads_out = node.backward(grad_in)
            if on_node is not None:
                on_node(node, grad_in, grads_out)
        if not retain_graph:
            node.release()
        for (child, _), child_grad in zip(node.next_functions, grads_out, strict=False):  # one grad per edge
            if child is None:
                continue
            if child_grad is not None:
                # Out of place: a backward may pass the very same array on to several inputs.
                pending[child] = pending[child] + child_grad if child in pending else child_grad
            remaining = dependencies[child] - 1
            dependencies[child] = remaining
            if remaining == 0:
                ready.append(child)


# At the end: tensor.py builds on everything above, and Function.apply needs the Tensor class.
from minigrad.tensor import Tensor  # noqa: E402
