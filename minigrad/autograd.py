"""Reverse-mode autograd: grad mode, graph nodes, and the backward pass.

Every differentiable op is a `Function` subclass (see ops.py). Calling an op records one `Function`
instance, the node torch calls `grad_fn`: it keeps what backward needs (`save_for_backward`) and the
edges to its inputs' nodes (`next_functions`). Leaves that require grad are reached through an
`AccumulateGrad` node, as in torch, so the graph can be walked the same way.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
ndarray = np.ndarray  # a global: one lookup on the hot path, not two
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


# ---------------------------------------------------------------- numpy's warnings
# torch computes inf and nan silently; numpy warns (RuntimeWarning) of overflow, x / 0, inf - inf... numpy's C code
# attributes the warning to the Python frame that called it, so a filter ignoring the RuntimeWarnings of minigrad's
# modules, first in the list, silences minigrad's own and leaves the user's numpy code alone (minigrad calls
# numpy's C functions, not its Python wrappers, where they can warn: np.add.reduce, not ndarray.sum).
def own_warnings_filter_first() -> None:
    """Put that filter first. A filter added later comes before it (`simplefilter("error")`, pytest's,
    importing torch), so each op checks that it is still first (one identity test) and, if not, calls this."""
    global OWN_WARNINGS_IGNORED
    warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"minigrad(\.|$)")  # moves it if present
    OWN_WARNINGS_IGNORED = warnings.filters[0]


OWN_WARNINGS_IGNORED: Any = None
own_warnings_filter_first()
NO_FILTERS = (None,)  # what `warnings.filters or NO_FILTERS` reads when the list is empty


# The array an in-place op (`a += b`, `a.mul_(b)`) is about to overwrite, while it computes `a + b`: the op
# saves a copy of it rather than the array itself (see BinaryOp.forward). None otherwise.
writing_into: Array | None = None


# ---------------------------------------------------------------- graph nodes
BACKWARD_TWICE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
    "if you need to access saved tensors after calling backward."
)
Edge = tuple["Node | None", int]
NO_EDGE: Edge = (None, 0)
SavedAttributes = dict[str, Callable[[Any], object]]  # torch's name for a thing a node keeps -> how to get it
# How torch's messages name dtypes ("result type Float can't be cast to ... Long").
SCALAR_TYPE_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long"}


# Backward runs the ready node made last first, as torch's engine does: every recorded node takes the next
# number (torch's sequence_nr), and a leaf's AccumulateGrad node, the highest (torch: UINT64_MAX). The order
# fixes in which order a node's gradient contributions are added, and so the bits of the sum.
next_sequence_nr = itertools.count().__next__
LEAF_SEQUENCE_NR = 2**64 - 1
NO_GRAD = [(False,) * n for n in range(4)]  # needs_input_grad when no gradient is recorded, by number of inputs


class Node:
    """What backward visits: `backward(grad)` returns one gradient per edge in `next_functions`."""

    __slots__ = ("__weakref__",)
    is_view: ClassVar[bool] = False  # its output shares its input's memory (and so its version counter)
    # The version torch's backward leaves its first gradient at (CopySlices and AsStrided write into theirs in
    # place); a leaf's .grad shows it when that gradient becomes the .grad.
    grad_version: ClassVar[int] = 0
    saves_result: ClassVar[bool] = False  # a Function whose forward saves its own output (see watch_result)
    next_functions: tuple[Edge, ...]
    sequence_nr: int

    def name(self) -> str:
        return type(self).__name__

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        raise NotImplementedError

    def release(self) -> None:
        """Free what was saved for backward (called after backward unless retain_graph=True)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"

    def __lt__(self, other: Node) -> bool:
        """Backward's ready queue is a heap of nodes: the first is the one torch runs first, the highest
        sequence number (AccumulateGrad nodes tie, and torch runs those in any order)."""
        return self.sequence_nr > other.sequence_nr


class AccumulateGrad(Node):
    """The node of a leaf: backward adds the arriving gradient into `variable.grad`."""

    __slots__ = ("variable",)
    next_functions = ()
    sequence_nr = LEAF_SEQUENCE_NR

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"  # torch's C++ name; its Python class is AccumulateGrad

    def backward(self, grad: Array, version: int = 0, held: bool = False) -> tuple[Array | None, ...]:
        """`version`, `held`: what torch's tensor for `grad` would show (see run_backward)."""
        variable = self.variable
        # an in-place op made the leaf an op's output since the graph was made (a view: its grad_fn is rebuilt)
        if variable._grad_fn is not None or (variable._base is not None and variable.grad_fn is not None):
            raise RuntimeError("leaf variable has been moved into the graph interior")
        # as torch: not after requires_grad_(False) since the graph was made, unless it still requires grad
        # through its base (a view made under no_grad)
        if variable.requires_grad:
            variable._accumulate_grad(grad, version, held)
        return ()


# What a node saved for backward: the values, and the watches of those that are a tensor's data. torch raises if
# that tensor was modified in place between the save and backward: a watch is (the value's index, the tensor's
# version counter, its version at the save, the tensor: None for the node's own output, which can't hold it (a
# reference cycle), the name of the node whose output it is). Plain tuples: the save is on every op's path.
Watch = tuple[int, list[int], int, "Tensor | None", str]
Saved = tuple[tuple[Any, ...], tuple[Watch, ...]]
NOTHING_SAVED: Saved = ((), ())


def origin(tensor: Tensor) -> str:
    """How torch's message names the op whose output a tensor is now: its grad_fn's name without
    "Backward0" ("Mul", "Sum1", "AsStrided" for a view whose base was modified in place)."""
    node = tensor.grad_fn
    return "" if node is None else f", which is output 0 of {origin_name(node.name())},"


def origin_name(node_name: str) -> str:
    return node_name.replace("Backward0", "").replace("Backward", "")


class Function(Node):
    """One differentiable op. Subclasses define, side by side:

    - `forward(self, *inputs)`: numpy arrays (or Python numbers) in, the result array out; it calls
      `self.save_for_backward(...)` with whatever backward will need.
    - `backward(self, grad)`: the gradient of the output in, one gradient per input out (None for an input
      that needs none: `self.needs_input_grad` says which do).
    """

    __slots__ = ("_inputs", "_saved", "needs_input_grad", "next_functions", "sequence_nr")
    grad_fn_name: ClassVar[str]  # torch's class name for this node, e.g. "MulBackward0"
    # What the node keeps, under the names torch shows it by as `_saved_<name>` (tools such as torchviz read
    # them): `saved_names` name the values given to save_for_backward, in order (each shown as the tensor it
    # came from, or as a new tensor); `saved_attributes` give torch's name for other things the node keeps.
    saved_names: ClassVar[tuple[str, ...]] = ()
    saved_inputs: ClassVar[tuple[int | None, ...]] = ()  # for each saved name, the input it is (None: no input)
    saved_attributes: ClassVar[SavedAttributes] = {}
    # torch saves each value only for the gradients an edge takes (mul, mm, mv, dot), or for any (div's divisor,
    # pow's base): a backward whose edges are all None then unpacks nothing, or what was saved.
    saves_per_gradient: ClassVar[bool] = False
    forward: Callable[..., Array]
    needs_input_grad: tuple[bool, ...]
    _saved: Saved | None  # None once released
    _inputs: tuple[Tensor | Scalar, ...]  # the inputs, during forward only (for save_for_backward)

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
        # Each saved array that is its input's data watches that input's version (`saved_inputs` says which
        # input each may be: inputs may share one array, as `x` and `x.detach()` do).
        if not self._inputs:
            return  # no graph will be recorded: nothing to save (one whose edges are all None saves, as torch)
        inputs = self._inputs
        watches = []
        for index, input_index in enumerate(self.saved_inputs):
            if input_index is not None:
                given = inputs[input_index]
                if given.__class__ is Tensor and given._data is values[index]:
                    counter = given._version_counter
                    watches.append((index, counter, counter[0], given, ""))
        self._saved = (values, tuple(watches))

    @property
    def saved_values(self) -> tuple[Any, ...]:
        if self._saved is None:
            if self.saves_per_gradient and all(child is None for child, _ in self.next_functions):
                # every input requires grad only through a base, as a view made under no_grad does: its edge is
                # None, and torch saved nothing for the gradients no edge takes (nor freed anything)
                return (None,) * len(self.saved_names)
            raise RuntimeError(BACKWARD_TWICE)
        values, watches = self._saved
        for watch in watches:
            if watch[1][0] != watch[2]:
                raise self._modified(watch)
        return values

    def _modified(self, watch: Watch) -> RuntimeError:
        """torch's error for a saved value whose tensor was modified in place since the save."""
        index, counter, version, tensor, output_of = watch
        assert self._saved is not None
        # the tensor's data, not the value: the value may be a copy cast to another dtype
        data = np.asarray(self._saved[0][index]) if tensor is None else tensor._data
        where = f", which is output 0 of {origin_name(output_of)}," if tensor is None else origin(tensor)
        return RuntimeError(
            "one of the variables needed for gradient computation has been modified by an inplace "
            f"operation: [minigrad.{SCALAR_TYPE_NAMES[data.dtype.name]}Tensor [{', '.join(map(str, data.shape))}]]"
            f"{where} is at version {counter[0]}; expected version {version} instead."
        )

    def _unpack_saved(self, index: int) -> Tensor | None:
        """What save_for_backward kept at `index`: the input tensor it is the data of, else a new tensor."""
        if self._saved is None:
            raise RuntimeError(BACKWARD_TWICE)
        values, watches = self._saved
        for watch in watches:
            if watch[0] == index:
                if watch[1][0] != watch[2]:
                    raise self._modified(watch)
                if watch[3] is not None:
                    return watch[3]
        value = values[index]
        return None if value is None else Tensor(np.asarray(value))

    def release(self) -> None:
        self._saved = None

    def watch(self, value: object, tensor: Tensor, output_of: str = "") -> None:
        """Watch `tensor`'s version for each saved value that is `value` (a cast input's copy, which is still the
        input for torch; or the node's output, `output_of` naming the node, whose tensor it doesn't hold)."""
        assert self._saved is not None
        values, watches = self._saved
        indices = [index for index, saved in enumerate(values) if saved is value]
        counter = tensor._version_counter
        kept = [watch for watch in watches if watch[0] not in indices]
        new = [(index, counter, counter[0], None if output_of else tensor, output_of) for index in indices]
        self._saved = values, tuple(sorted(kept + new, key=lambda watch: watch[0]))

    def watch_result(self, result: Array, output: Tensor) -> None:
        """`result`, saved by forward, is now the data of `output`: backward checks that it was not modified in
        place since (as torch checks a saved output)."""
        if self._saved is not None:
            self.watch(result, output, self.name())

    def view_of(self, array: Array) -> Array:
        """For a view op (`is_view`): the same view of another array of its input's shape."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Tensor | Scalar, **params: Any) -> Tensor:
        """Run forward on the inputs' arrays and, when grad mode is on and an input requires grad, record
        the node in the graph."""
        if (warnings.filters or NO_FILTERS)[0] is not OWN_WARNINGS_IGNORED:  # rare: a filter came first
            own_warnings_filter_first()
        node = cls()
        node._saved = NOTHING_SAVED
        arrays: list[Any] = []
        needs: list[bool] = []
        edges: list[Edge] = []  # next_functions, while grad mode is on
        recording = False
        through_base = False  # an input requires grad only through its base (a view made under no_grad...)
        try:
            for x in inputs:  # one loop, not a comprehension per list: this is the hot path
                if x.__class__ is Tensor:
                    arrays.append(x._data)
                    # a view requires grad when its base does (torch's rule; see Tensor.requires_grad)
                    if x._requires_grad or (x._base is not None and x._base._requires_grad):
                        needs.append(True)
                        through_base = through_base or not x._requires_grad
                        if _grad_enabled:
                            if not recording:  # as torch: numbered before linked (a view's new grad_fn is later)
                                recording = True
                                node.sequence_nr = next_sequence_nr()
                            # x._node(), inlined for the common case: an op's output, not a view
                            edges.append((x._grad_fn if x._grad_fn is not None and x._base is None else x._node(), 0))
                        continue
                else:
                    arrays.append(x)
                needs.append(False)
                edges.append(NO_EDGE)
        except RuntimeError:  # a view's grad_fn refused: torch has converted the number arguments before
            check_numbers((*inputs, *params.values()))
            raise
        if recording:  # forward saves only what these gradients will need
            node.next_functions = tuple(edges)
            # as torch, compute (and save for) only the gradients an edge takes: a view made under no_grad
            # requires grad through its base, but its edge is None
            node.needs_input_grad = tuple([child is not None for child, _ in edges] if through_base else needs)
            node._inputs = inputs
        else:
            node.needs_input_grad = NO_GRAD[len(inputs)]
            node._inputs = ()
        output = node.forward(*arrays, **params)
        if recording:
            node._inputs = ()
        if output.__class__ is not ndarray and not isinstance(output, ndarray):
            output = np.asarray(output)  # numpy returns a 0-d result as a scalar; a tensor holds an array
        if recording:
            out = Tensor(output, True, node)  # requires grad, with this grad_fn
            if cls.saves_result:
                node.watch_result(output, out)
        else:
            out = Tensor(output)
        if cls.is_view:
            base = inputs[0]
            assert isinstance(base, Tensor)
            out._make_view_of(base, node)
        return out


def check_numbers(arguments: tuple[Any, ...]) -> None:
    """torch's OverflowError for an int argument beyond 64 bits."""
    from minigrad.ops import int_scalar  # ops builds on this module

    for x in arguments:
        if type(x) is int:
            int_scalar(x)


class CopySlices(Node):
    """The new history of a view's base after an in-place op `fn` on the view (torch's CopySlices): the
    base's gradient passes through unchanged outside the view, and through `fn`'s backward inside it."""

    __slots__ = ("base_strides", "fn", "next_functions", "sequence_nr", "view_ops")
    grad_version = 2  # torch copies the gradient into a new tensor, then the slice's gradient into that

    def __init__(self, base: Tensor, view_ops: tuple[Function, ...], fn: Function) -> None:
        self.sequence_nr = next_sequence_nr()
        self.view_ops, self.fn = view_ops, fn
        self.base_strides = layout_of(base)
        # fn's first input was the view: its gradient goes to the base's previous history instead
        self.next_functions = ((base._node(), 0), *fn.next_functions[1:])

    def name(self) -> str:
        return "torch::autograd::CopySlices"  # torch's C++ name; its Python class is CopySlices

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        if self.fn is None:
            raise RuntimeError(BACKWARD_TWICE)
        result = copy_in_layout(grad, self.base_strides)  # writable even if grad was broadcast
        grad_slice = replay_view(self.view_ops, result)  # the view's elements, inside `result`
        grads = self.fn.backward(grad_slice.copy())
        if grads[0] is None:
            return grads
        grad_slice[...] = grads[0]
        return (result, *grads[1:])

    def release(self) -> None:
        if self.fn is not None:
            self.fn.release()
        self.fn = None  # type: ignore[assignment]


class AsStrided(Node):
    """The grad_fn of a view whose base (or another view of it) was modified in place after the view was
    made (torch's AsStridedBackward0): the gradient is put back in the base's layout. minigrad's views all
    reorder every element (transpose, squeeze...), so that is each view op's backward, last to first."""

    __slots__ = ("base_strides", "next_functions", "sequence_nr", "view_ops")
    grad_version = 1  # torch copies the gradient into zeros of the base's size

    def __init__(self, base: Tensor, view_ops: tuple[Function, ...]) -> None:
        self.sequence_nr = next_sequence_nr()
        self.view_ops = view_ops
        self.next_functions = ((base._node(), 0),)
        self.base_strides = layout_of(base)

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        for op in reversed(self.view_ops):
            (grad,) = op.backward(grad)  # type: ignore[assignment]
        # as torch's as_strided_backward: a view of a new array, in the base's layout
        result = copy_in_layout(grad, self.base_strides)
        return (result[...],)


def layout_of(base: Tensor) -> tuple[int, ...] | None:
    """What CopySlices and AsStrided lay a base's gradient out by, as torch: its strides if it is dense."""
    return base._data.strides if is_dense(base._data) else None


def copy_in_layout(grad: Array, strides: tuple[int, ...] | None) -> Array:
    """A new array of `grad`'s values, its dims in the order of `strides` (None: C order)."""
    result = np.array(grad, order="C")
    return result if strides is None or result.ndim < 2 else ops.in_order_of(result, strides)


def replay_view(view_ops: tuple[Function, ...], array: Array) -> Array:
    """The view that `view_ops` took of their base, taken of `array` (an array of the base's shape)."""
    for op in view_ops:
        array = op.view_of(array)
    return array


for node_class, torch_name in ((CopySlices, "CopySlices"), (AsStrided, "AsStridedBackward0")):
    node_class.__name__ = node_class.__qualname__ = torch_name


# ---------------------------------------------------------------- the backward pass
Grads = tuple[Array | None, ...]  # what a node's backward returns: one gradient (or None) per edge
Flags = tuple[int, bool]  # see run_backward's `unusual`
COMMON: Flags = (0, False)  # a new tensor (or a view of one) at version 0, that the engine alone holds
BackwardObserver = Callable[[Node, Array, Grads], None]
# Set by minigrad.walkthrough.watch_backward to see each step of a backward pass; None otherwise.
observer: BackwardObserver | None = None


def run_backward(root: Node, grad: Array, retain_graph: bool, root_flags: Flags = (0, True)) -> None:
    """Propagate `grad` from `root` to the leaves, visiting the nodes in torch's order.

    A node runs once every node that feeds it a gradient has run, so its gradient is complete. Among the
    nodes ready to run, the one with the highest sequence number runs first (torch's ready queue), and each
    gradient arriving at a node is added to what arrived before it, in that order (torch's input buffer):
    so sums of several contributions have torch's bits. Both passes are loops, not recursion, so a graph of
    any depth works in linear time (and log time per node for the queue). `root_flags`: what torch's tensor
    for `grad` shows (see `unusual` below).
    """
    on_node = observer
    # Pass 1: count, for each node, how many edges lead into it.
    dependencies: dict[Node, int] = {}
    stack = [root]
    while stack:
        for child, _ in stack.pop().next_functions:
            if child is not None:
                if child in dependencies:
                    dependencies[child] += 1
                else:
                    dependencies[child] = 1
                    stack.append(child)
    # Pass 2: run the ready nodes, in torch's order: highest sequence number first (a heap: see Node.__lt__),
    # so AccumulateGrad nodes before any Function (theirs is the highest).
    buffers: dict[Node, Array] = {root: grad}  # each node's gradient so far
    # What torch's tensor for a buffered gradient would show, where it is not COMMON: its version (a view shows
    # its base's), and whether the caller holds it (the root's gradient, passed on). A gradient sent along two
    # edges is held by the other edge's buffer too (`shared`). torch adds a contribution in place only into a
    # tensor whose object and memory it alone holds (a view's memory is its base's), and a leaf takes a gradient
    # as its .grad only if no one else holds the tensor.
    unusual: dict[Node, Flags] = {root: root_flags}
    shared: set[Node] = set()  # nodes whose buffered gradient was sent along another edge too

    def held(child: Node, grad: Array, caller_holds: bool) -> bool:
        """Whether another than `child`'s buffer holds `grad` now: the caller, or (sent along two edges) the
        other edge's buffer, until that edge's node has run (torch counts the tensor's references)."""
        return caller_holds or (
            child in shared and any(other is grad for c, other in buffers.items() if c is not child)
        )

    def add(child: Node, grad: Array) -> None:
        """A second (or later) contribution to `child`'s gradient."""
        old = buffers[child]
        old_version, old_held = unusual.pop(child, COMMON)
        if child in shared:  # `old` was sent along two edges: this one (x + x: it is `grad` too), or another
            old_held = held(child, old, old_held or old is grad)
            shared.discard(child)
        # (elsewhere `grad` is `old` only for x * x: one new array for torch's two equal products, see Mul)
        # torch adds into the old tensor in place (one more version) where no one else holds it or its memory, a
        # view of it included (as `grad` may be: an expand of it), else into a new one (version 0), laid out as
        # torch lays out `old + grad`. In place here too (the x * x of a large loss then costs no third array);
        # not while an observer (walkthrough) keeps the gradients.
        in_place = not old_held and old.base is None and grad.base is not old and is_dense(old)
        if in_place and on_node is None and type(old) is ndarray and old.dtype == grad.dtype:
            old += grad
            buffers[child] = old
        else:
            total = np.asarray(old + grad)  # an array (not a numpy scalar), so that views of it know their base
            c_order = total.ndim < 2 or (old.flags.c_contiguous and grad.flags.c_contiguous)
            buffers[child] = total if c_order else ops.laid_out_as(total, old, grad)
        if in_place:
            unusual[child] = (old_version + 1, False)

    def receive(node: Node, child: Node, grad: Array, grad_in: Array, grads_out: Grads, info: Flags | None) -> None:
        """The first gradient to reach `child`, where it may be unusual: `grad_in` passed on (`info`: grad_in's
        flags, if unusual), a view of an unusual grad_in, or the first gradient of a CopySlices or AsStrided."""
        if grad is grad_in:  # passed on: the same tensor
            flags = info or COMMON
            if len(grads_out) == 2 and grads_out[0] is grads_out[1]:  # along both edges (x + y): two holders
                shared.add(child)
        elif info is not None and grad.base is not None and (grad.base is grad_in or grad.base is grad_in.base):
            flags = (info[0], False)  # a view of grad_in shows its version
        else:  # a new tensor
            flags = (node.grad_version if grad is grads_out[0] else 0, False)
        buffers[child] = grad
        if flags != COMMON or child in shared:
            unusual[child] = flags

    ready = [root]
    if (warnings.filters or NO_FILTERS)[0] is not OWN_WARNINGS_IGNORED:  # see own_warnings_filter_first
        own_warnings_filter_first()
    while ready:
        node = heappop(ready)
        grad_in = buffers.pop(node, None)
        info = unusual.pop(node, None) if unusual else None
        if grad_in is None:  # no gradient reached it: it still releases its inputs' dependency counts
            grads_out: Grads = (None,) * len(node.next_functions)
        else:
            if grad_in.__class__ is not ndarray and isinstance(grad_in, np.generic):
                # numpy computes a 0-d result as a scalar: a 0-d array, so that a view of it knows its base, and
                # what this node passes on along two edges is one array (torch's one tensor)
                grad_in = np.asarray(grad_in)
            if info is not None and type(node) is AccumulateGrad:
                grads_out = node.backward(grad_in, info[0], held(node, grad_in, info[1]))
            else:
                grads_out = node.backward(grad_in)
            if on_node is not None:
                on_node(node, grad_in, grads_out)
        if not retain_graph:
            node.release()
        if info is not None:
            shared.discard(node)
        fresh = node.grad_version == 0  # not CopySlices, AsStrided: their first gradient shows a version
        for (child, _), child_grad in zip(node.next_functions, grads_out, strict=False):  # one grad per edge
            if child is None:
                continue
            if child_grad is not None:
                if child in buffers:
                    add(child, child_grad)
                elif fresh and (
                    (child_grad is not grad_in and (info is None or child_grad.base is None))  # new, or a view of new
                    or (info is None and (len(grads_out) == 1 or grads_out[0] is not grads_out[1]))  # passed on once
                ):
                    buffers[child] = child_grad  # the common case
                else:
                    receive(node, child, child_grad, grad_in, grads_out, info)  # type: ignore[arg-type]
            remaining = dependencies[child] - 1
            dependencies[child] = remaining
            if remaining == 0:
                heappush(ready, child)


def is_dense(array: Array) -> bool:
    """No element repeated (a broadcast view repeats them with stride 0)."""
    return 0 not in array.strides or array.size <= 1


# At the end: tensor.py and ops.py build on everything above, and Function.apply needs the Tensor class.
from minigrad import ops  # noqa: E402
from minigrad.tensor import Tensor  # noqa: E402
