"""The Tensor: a numpy array, plus what autograd needs (requires_grad, grad, grad_fn, a version counter)."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any, Concatenate, ParamSpec

import numpy as np

from minigrad import autograd, ops
from minigrad._printing import tensor_repr
from minigrad.autograd import (
    SCALAR_TYPE_NAMES,
    AccumulateGrad,
    Array,
    AsStrided,
    CopySlices,
    Function,
    Node,
    Scalar,
    is_dense,
    origin_name,
    run_backward,
)


class dtype:  # noqa: N801 - torch's name
    """A tensor's element type. Printed as torch prints it (`torch.float32`), so printed text matches."""

    __slots__ = ("is_floating_point", "name", "numpy")

    def __init__(self, name: str) -> None:
        self.name = name
        self.numpy = np.dtype(name)
        self.is_floating_point = self.numpy.kind == "f"

    def __repr__(self) -> str:
        return f"torch.{self.name}"


float32, float64, int64 = dtype("float32"), dtype("float64"), dtype("int64")
DTYPES = {d.numpy: d for d in (float32, float64, int64)}
DEFAULT_DTYPES = (float32, int64)  # the ones a tensor's repr leaves unsaid


class Size(tuple[int, ...]):
    """A tensor's shape: a tuple that prints as torch's `torch.Size([2, 3])`."""

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"


LEAF_IN_PLACE = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_MADE_WITHOUT_GRAD = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that this use "
    "case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the "
    "inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or both outside (if "
    "you want the inplace to be tracked)."
)
OVERLAP = (
    "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single memory "
    "location. Please clone() the tensor before performing the operation."
)
POW_OF_NUMBERS = (  # torch has no pow of two numbers
    "pow() received an invalid combination of arguments - got ({}, {}), but expected one of:\n"
    " * (Tensor input, Tensor exponent, *, Tensor out = None)\n"
    " * (Number self, Tensor exponent, *, Tensor out = None)\n"
    " * (Tensor input, Number exponent, *, Tensor out = None)\n"
)
INTERNAL_OVERLAP = (
    "unsupported operation: more than one element of the written-to tensor refers to a single memory location. "
    "Please clone() the tensor before performing the operation."
)
INT_REQUIRES_GRAD = "only Tensors of floating point dtype can require gradients"
P = ParamSpec("P")


def in_place(method: Callable[Concatenate[Tensor, P], Tensor]) -> Callable[Concatenate[Tensor, P], Tensor]:
    """`Tensor.add_` from `Tensor.add`: the result computed out of place, then written into the tensor."""

    def method_(self: Tensor, /, *args: P.args, **kwargs: P.kwargs) -> Tensor:
        try:
            return self._in_place(method, *args, **kwargs)
        except ArgumentTypeError as error:
            error.function += "_"
            raise

    method_.__name__ = method_.__qualname__ = method.__name__ + "_"
    return method_


class AllDims:
    """`sum()` with no dim given (torch's SumBackward0); `sum(dim=None)` is torch's other overload
    (SumBackward1, and keepdim applies)."""

    def __repr__(self) -> str:
        return "all dims"


ALL_DIMS = AllDims()
Dims = int | Sequence[int] | None | AllDims


class Tensor:
    """An n-dimensional array that can record the ops applied to it and backpropagate through them.

    Build one with `minigrad.tensor(...)` and the other factories; ops return new Tensors. `_data` is the
    numpy array; views (`t()`, `detach()`) share it, and share its version counter, as in torch.

    A view made by an op (`t()`, `transpose`...) also knows its `_base` and the view ops that made it from
    the base, as torch's views do: it requires grad when its base does, an in-place op on it rewrites the
    base's history (CopySlices), and once its base or another view of it is modified in place, its grad_fn
    is rebuilt from the base's new history (AsStridedBackward0) when next read.
    """

    __slots__ = (
        "_accumulator",
        "_base",
        "_data",
        "_grad_fn",
        "_requires_grad",
        "_version_counter",
        "_view_made_without_grad",
        "_view_ops",
        "_view_version",
        "grad",
    )

    # Set on views only (by _make_view_of): the view ops from the base to this view; the version at which
    # grad_fn was last set; whether it was made under no_grad (then in-place edits with grad are refused).
    # Declared here, not in __init__: a declaration there costs time on every tensor made.
    _view_ops: tuple[Function, ...]
    _view_version: int
    _view_made_without_grad: bool

    def __init__(self, data: Array, requires_grad: bool = False, grad_fn: Node | None = None) -> None:
        self._data = data
        self._requires_grad = requires_grad  # its own flag, torch's requires_grad_ (or it has a grad_fn)
        self.grad: Tensor | None = None
        self._grad_fn = grad_fn
        self._version_counter = [0]  # a list, so that views can share it
        self._accumulator: weakref.ref[AccumulateGrad] | None = None
        self._base: Tensor | None = None  # for a view (t(), transpose...): the tensor whose memory it shares

    def _make_view_of(self, base: Tensor, op: Function) -> None:
        """Make this tensor, `op`'s output, a view of `base` (itself maybe a view): same memory, same version
        counter; its `_base` is the tensor that owns the memory."""
        self._version_counter = base._version_counter
        self._view_version = base._version_counter[0]
        if base._base is None:
            self._base, self._view_ops = base, (op,)
            self._view_made_without_grad = not autograd._grad_enabled
        else:
            self._base, self._view_ops = base._base, (*base._view_ops, op)
            self._view_made_without_grad = not autograd._grad_enabled or base._view_made_without_grad

    # ------------------------------------------------------------ what it is
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Size | int:
        if dim is None:
            return self.shape
        int_argument(dim, "size", "dim", 1)
        if not self.ndim:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        size: int = self._data.shape[ops.normalize_dims(dim, self.ndim)[0]]
        return size

    @property
    def dtype(self) -> dtype:
        return DTYPES[self._data.dtype]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def __len__(self) -> int:
        if not self._data.ndim:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad_fn(self) -> Node | None:
        if self._base is not None and self._view_version != self._version_counter[0]:
            self._rebuild_view_grad_fn()
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, node: Node | None) -> None:
        self._grad_fn = node

    def _rebuild_view_grad_fn(self) -> None:
        """This view's base, or another view of it, was modified in place: its grad_fn becomes torch's
        AsStridedBackward0 over the base's history as it is now."""
        base = self._base
        assert base is not None
        if self._grad_fn is None and not base._requires_grad:
            return  # nothing to rebuild (torch leaves its version mark as it was, too)
        if self._view_made_without_grad:
            raise self._made_without_grad_error("its base or another view of its base has been")
        self._grad_fn, self._requires_grad = AsStrided(base, self._view_ops), True
        self._view_version = self._version_counter[0]

    def _made_without_grad_error(self, modified: str) -> RuntimeError:
        """torch's refusal of a view made under no_grad (or a view of one) that is, or whose memory has been,
        modified in place with grad mode on: worded by whether the view has a grad_fn of its own."""
        node = self._grad_fn
        subject = (
            "A view was" if node is None else f"Output 0 of {origin_name(node.name())} is a view of a view which was"
        )
        return RuntimeError(VIEW_MADE_WITHOUT_GRAD.replace("A view was", subject).replace("is being", modified))

    def _is_view(self) -> bool:
        """Whether it shares memory with `_base` (torch's spellings, which tools such as torchviz read)."""
        return self._base is not None

    @property
    def _version(self) -> int:
        return self._version_counter[0]

    def __repr__(self) -> str:
        try:
            # torch prints a C++ node's name without its namespace: grad_fn=<CopySlices>
            grad_fn_name = None if self.grad_fn is None else self.grad_fn.name().rsplit("::", 1)[-1]
        except RuntimeError:  # a view whose grad_fn torch refuses (made in no_grad, base modified since)
            grad_fn_name = "Invalid"  # as torch prints it
        return tensor_repr(
            self._data,
            dtype_name=None if self.dtype in DEFAULT_DTYPES else repr(self.dtype),
            grad_fn_name=grad_fn_name,
            requires_grad=self.requires_grad,
        )

    # ------------------------------------------------------------ getting values out
    def item(self) -> Scalar:
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        value: Scalar = self._data.item()
        return value

    def tolist(self) -> Any:
        return self._data.tolist()

    def numpy(self) -> Array:
        """The array itself (shared memory, as torch's numpy())."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def detach(self) -> Tensor:
        """The same data, cut from the graph; it shares memory and the version counter with this tensor."""
        out = Tensor(self._data)
        out._version_counter = self._version_counter
        return out

    def cpu(self) -> Tensor:
        return self

    # ------------------------------------------------------------ autograd
    @property
    def requires_grad(self) -> bool:
        # A view requires grad when its base does, even one made under no_grad or before base.requires_grad_()
        return self._requires_grad or (self._base is not None and self._base._requires_grad)

    @requires_grad.setter
    def requires_grad(self, requires_grad: bool) -> None:
        # torch's setter words two refusals differently from requires_grad_(). Both read the grad_fn field as it
        # is (`_grad_fn`), not as a view's read rebuilds it: a view made under no_grad stays a leaf here.
        if not isinstance(requires_grad, bool):
            raise RuntimeError("requires_grad must be a bool")
        if requires_grad and self._grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self.requires_grad_(requires_grad)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if not isinstance(requires_grad, bool):
            raise ArgumentTypeError("requires_grad_", "requires_grad", 1, "bool", requires_grad)
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError(INT_REQUIRES_GRAD)
        if not requires_grad and self._grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            )
        self._requires_grad = requires_grad
        return self

    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None) -> None:
        """Backpropagate from this tensor: every leaf that requires grad gets d(self)/d(leaf) added to `.grad`."""
        if gradient is not None and not isinstance(gradient, Tensor):  # torch also takes a sequence of one
            gradients = tuple(gradient)  # a number raises "'float' object is not iterable", as in torch
            for g in gradients:
                if not isinstance(g, Tensor | None):
                    raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
            if not gradients:
                raise RuntimeError("got 1 tensors and 0 gradients")
            gradient = gradients[0]
        if gradient is None:
            if self._data.size != 1 and self.requires_grad:  # torch's order of checks
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            data = self._data
            # np.array(1) is 5x cheaper than ones_like; capture's arrays are of a class of their own (it sees
            # ones_like made the root gradient)
            grad = np.array(1, data.dtype) if data.__class__ is np.ndarray and not data.ndim else np.ones_like(data)
        else:
            if gradient.shape != self.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of minigrad.Size({list(gradient.shape)}) and "
                    f"output[0] has a shape of minigrad.Size({list(self.shape)})."
                )
            grad = gradient._data.astype(self._data.dtype)
        root = self._node()
        if root is None:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        # the caller holds the gradient, whose version a view of it shows (torch's backward uses that tensor)
        version = 0 if gradient is None else gradient._version
        run_backward(root, grad, bool(retain_graph), root_flags=(version, True))

    def _node(self) -> Node | None:
        """Where backward enters this tensor: its grad_fn, or for a leaf that requires grad its AccumulateGrad
        node (held weakly: the graph holds it, as in torch, so no reference cycle forms); else None (a view
        made under no_grad requires grad through its base, but gradients don't flow into it)."""
        grad_fn = self._grad_fn if self._base is None else self.grad_fn
        if grad_fn is not None:
            return grad_fn
        if not self._requires_grad:
            return None
        node = None if self._accumulator is None else self._accumulator()
        if node is None:
            node = AccumulateGrad(self)
            self._accumulator = weakref.ref(node)
        return node

    def _accumulate_grad(self, grad: Array, version: int = 0, held: bool = False) -> None:
        """Add `grad` into `.grad`. Its version follows torch's: the first gradient, when only the engine held
        it and it has this tensor's layout, becomes the .grad as it is (keeping its `version`); otherwise torch
        copies it (version 1). Later gradients add in place (one more)."""
        if self.grad is None:
            data = self._data
            if not held and grad.dtype == data.dtype and self._has_layout_of(grad):
                self.grad = Tensor(np.array(grad))  # a copy all the same: numpy's arrays may be shared
                self.grad._version_counter[0] = version
            else:  # torch copies it into a new tensor of this tensor's layout (one version)
                copy = np.array(grad, data.dtype, order="C")  # torch: in C order unless the leaf is dense
                self.grad = Tensor(ops.laid_out_as(copy, data) if is_dense(data) else copy)
                self.grad._version_counter[0] = 1
        else:
            self.grad._data += grad
            self.grad._version_counter[0] += 1

    def _has_layout_of(self, grad: Array) -> bool:
        """torch's "gradient layout contract": a dense tensor's .grad has its strides (sizes 1 aside)."""
        data = self._data
        if not is_dense(data):
            return bool(grad.flags.c_contiguous)
        return all(
            (stride == own) if size != 1 else stride != 0
            for size, stride, own in zip(grad.shape, grad.strides, data.strides, strict=True)
        )

    # ------------------------------------------------------------ arithmetic
    # Each op is one method under torch's name; `minigrad.add(a, b)` and the rest are these same methods
    # (__init__.py), and `add_` and the rest their in-place forms (`in_place`). The operators call the ops
    # directly; given what is neither a tensor nor a number they return NotImplemented, so that Python raises
    # its own TypeError ("unsupported operand type(s) for +"), as torch's do.
    def add(self, other: Tensor | Scalar, *, alpha: Scalar = 1) -> Tensor:
        other = argument(other, "add", "other", 1)
        if type(alpha) is int and alpha == 1:
            return ops.Add.apply(self, other)
        return ops.AddScaled.apply(self, other, alpha=number(alpha, "add", "alpha"))

    def sub(self, other: Tensor | Scalar, *, alpha: Scalar = 1) -> Tensor:
        other = argument(other, "sub", "other", 1)
        if type(alpha) is int and alpha == 1:
            return ops.Sub.apply(self, other)
        return ops.SubScaled.apply(self, other, alpha=number(alpha, "sub", "alpha"))

    def mul(self, other: Tensor | Scalar) -> Tensor:
        return ops.Mul.apply(self, argument(other, "mul", "other", 1))

    def div(self, other: Tensor | Scalar) -> Tensor:
        return ops.Div.apply(self, argument(other, "div", "other", 1))

    def neg(self) -> Tensor:
        return ops.Neg.apply(self)

    def pow(self, exponent: Tensor | Scalar) -> Tensor:
        exponent = argument(exponent, "pow", "exponent", 1)
        if not isinstance(self, Tensor):  # number ** tensor, or minigrad.pow(number, tensor)
            if not isinstance(exponent, Tensor):
                raise TypeError(POW_OF_NUMBERS.format(type(self).__name__, type(exponent).__name__))
            return ops.PowOfNumber.apply(exponent, base=self)  # PowBackward2
        if isinstance(exponent, Tensor):
            return ops.PowTensor.apply(self, exponent)  # PowBackward1
        if isinstance(exponent, int):
            ops.int_scalar(exponent)  # torch's OverflowError for an int beyond 64 bits
        return ops.Pow.apply(self, exponent=exponent)  # PowBackward0

    def clone(self) -> Tensor:
        return ops.Clone.apply(self)

    def __add__(self, other: Tensor | Scalar) -> Tensor:
        return ops.Add.apply(self, other) if isinstance(other, OPERANDS) else self._numpy_scalar("__add__", other)

    def __radd__(self, other: Tensor | Scalar) -> Tensor:
        # torch's edge order: self first
        return ops.Add.apply(self, other) if isinstance(other, OPERANDS) else self._numpy_scalar("__radd__", other)

    def __sub__(self, other: Tensor | Scalar) -> Tensor:
        return ops.Sub.apply(self, other) if isinstance(other, OPERANDS) else self._numpy_scalar("__sub__", other)

    def __rsub__(self, other: Tensor | Scalar) -> Tensor:
        if isinstance(other, Tensor):
            return ops.Rsub.apply(self, other)  # RsubBackward0, edges (self, other)
        if isinstance(other, OPERANDS):
            return ops.RsubNumber.apply(self, b=other)  # RsubBackward1, one edge
        return self._numpy_scalar("__rsub__", other)

    def __mul__(self, other: Tensor | Scalar) -> Tensor:
        return ops.Mul.apply(self, other) if isinstance(other, OPERANDS) else self._numpy_scalar("__mul__", other)

    def __rmul__(self, other: Tensor | Scalar) -> Tensor:
        # torch's edge order: self first
        return ops.Mul.apply(self, other) if isinstance(other, OPERANDS) else self._numpy_scalar("__rmul__", other)

    def __truediv__(self, other: Tensor | Scalar) -> Tensor:
        return ops.Div.apply(self, other) if isinstance(other, OPERANDS) else self._numpy_scalar("__truediv__", other)

    def __rtruediv__(self, other: Tensor | Scalar) -> Tensor:
        if isinstance(other, OPERANDS):  # as torch records it: MulBackward0 over ReciprocalBackward0
            return ops.Mul.apply(ops.Reciprocal.apply(self), other)
        return self._numpy_scalar("__rtruediv__", other)

    def __neg__(self) -> Tensor:
        return ops.Neg.apply(self)

    def __pow__(self, exponent: Tensor | Scalar) -> Tensor:
        return self.pow(exponent) if isinstance(exponent, OPERANDS) else self._numpy_scalar("__pow__", exponent)

    def __rpow__(self, base: Tensor | Scalar) -> Tensor:
        if isinstance(base, OPERANDS):
            return Tensor.pow(base, self)  # type: ignore[arg-type]
        return self._numpy_scalar("__rpow__", base)

    def _numpy_scalar(self, operator: str, other: object) -> Tensor:
        """An operator given something other than a tensor or a Python number: a numpy scalar stands for
        its Python number (torch takes it so), a numpy array for a constant tensor (in torch, numpy takes
        over and hands back a tensor); for anything else, NotImplemented."""
        method: Callable[[Tensor | Scalar], Tensor] = getattr(self, operator)
        if isinstance(other, np.integer | np.floating | np.bool_):
            return method(other.item())
        if isinstance(other, np.ndarray) and other.dtype in DTYPES:
            return method(Tensor(other))
        return NotImplemented  # type: ignore[no-any-return]

    # ------------------------------------------------------------ in place
    add_ = in_place(add)
    sub_ = in_place(sub)
    mul_ = in_place(mul)
    div_ = in_place(div)
    neg_ = in_place(neg)
    pow_ = in_place(pow)  # noqa: A003 - the method above

    # The in-place operators, as the others, return NotImplemented for what is not a number or a tensor.
    # `-=` is the notebook's update step: they call the op itself, past the methods' argument handling.
    def __ipow__(self, exponent: Tensor | Scalar) -> Tensor:
        return self.pow_(exponent) if isinstance(exponent, OPERANDS) else self._numpy_scalar("__ipow__", exponent)

    def __iadd__(self, other: Tensor | Scalar) -> Tensor:
        return (
            self._in_place(ops.Add.apply, other)
            if isinstance(other, OPERANDS)
            else self._numpy_scalar("__iadd__", other)
        )

    def __isub__(self, other: Tensor | Scalar) -> Tensor:
        return (
            self._in_place(ops.Sub.apply, other)
            if isinstance(other, OPERANDS)
            else self._numpy_scalar("__isub__", other)
        )

    def __imul__(self, other: Tensor | Scalar) -> Tensor:
        return (
            self._in_place(ops.Mul.apply, other)
            if isinstance(other, OPERANDS)
            else self._numpy_scalar("__imul__", other)
        )

    def __itruediv__(self, other: Tensor | Scalar) -> Tensor:
        return (
            self._in_place(ops.Div.apply, other)
            if isinstance(other, OPERANDS)
            else self._numpy_scalar("__itruediv__", other)
        )

    def zero_(self) -> Tensor:
        recording = autograd._grad_enabled and self._check_in_place()
        node = ops.Zero.apply(self).grad_fn if recording else None  # backward passes no gradient through
        self._data.fill(0)
        self._version_counter[0] += 1
        if node is not None:
            self._set_history(node)
        return self

    def _check_in_place(self, *others: Tensor) -> bool:
        """torch's checks before an in-place op that will be recorded (grad mode is on, and this tensor or
        another operand requires grad); returns whether it will be."""
        if not autograd._grad_enabled or not (self.requires_grad or any(x.requires_grad for x in others)):
            return False
        base = self._base
        if base is not None:
            if self._view_made_without_grad:
                raise self._made_without_grad_error("is being")
            if self.requires_grad and base.is_leaf:
                raise RuntimeError("a view of " + LEAF_IN_PLACE)
        if self.requires_grad and self.is_leaf:
            raise RuntimeError(LEAF_IN_PLACE)
        return True

    def _in_place(self, method: Callable[..., Tensor], *args: Any, **kwargs: Any) -> Tensor:
        """`self.add_(other)`: computed as `self.add(other)` (recorded in the graph when grad mode is on),
        checked, then written into this tensor's own array, so views and `.grad` stay attached."""
        tensors = [x for x in args if isinstance(x, Tensor)]
        if kwargs:
            tensors += [x for x in kwargs.values() if isinstance(x, Tensor)]
        try:
            recorded = autograd._grad_enabled and self._check_in_place(*tensors)  # torch checks these first,
        except RuntimeError:
            for x in args:  # after converting its number arguments: an int beyond 64 bits fails before
                if type(x) is int:
                    ops.int_scalar(x)
            raise
        data = self._data
        if (
            0 in data.strides
            and data.size > 1
            and any(n > 1 for n, s in zip(data.shape, data.strides, strict=True) if not s)
        ):
            raise RuntimeError(INTERNAL_OVERLAP)  # an expanded tensor: one element written from several places
        for other in tensors:
            if other._data.base is not None or self._data.base is not None:  # else neither can overlap the other
                self._check_no_partial_overlap(other._data)
        if recorded:
            autograd.writing_into = self._data  # BinaryOp keeps a copy of the old value if backward needs it
            try:
                result = method(self, *args, **kwargs)
            finally:
                autograd.writing_into = None
        else:
            result = method(self, *args, **kwargs)
        if result._data.shape != self._data.shape:
            raise RuntimeError(
                f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(result.shape)}"
            )
        if result._data.dtype != self._data.dtype and not np.can_cast(
            result._data.dtype, self._data.dtype, "same_kind"
        ):
            raise RuntimeError(
                f"result type {SCALAR_TYPE_NAMES[result._data.dtype.name]} can't be cast to the desired output type "
                f"{SCALAR_TYPE_NAMES[self._data.dtype.name]}"
            )
        self._data[...] = result._data
        self._version_counter[0] += 1
        node = result._grad_fn
        if node is not None:
            if node.saves_result and isinstance(node, Function):  # its saved result is this tensor now
                node.watch_result(result._data, self)
            self._set_history(node)
        return self

    def _check_no_partial_overlap(self, source: Array) -> None:
        """torch refuses to write into memory that the other operand reads in another layout (`b = a.t();
        b += a`). Its rule (get_overlap_status): two dense arrays over the same bytes with the same strides are
        one layout (`a += a`, or a (2, 1) tensor and its (1, 2) transpose); any other overlap of dense arrays
        is refused; an array with gaps or repeats is not checked."""
        data = self._data
        if source is data or not (is_packed(data) and is_packed(source)) or not np.shares_memory(data, source):
            return
        same_layout = (
            source.__array_interface__["data"] == data.__array_interface__["data"]
            and source.nbytes == data.nbytes
            and source.strides == data.strides
        )
        if not same_layout:
            raise RuntimeError(OVERLAP)

    def _set_history(self, node: Node) -> None:
        """After an in-place op recorded as `node`: this tensor is now that op's output (torch's
        rebase_history). For a view, the base's history is rewritten instead (CopySlices), and the view's
        grad_fn is rebuilt from it at once (as torch, so that nodes are numbered in torch's order)."""
        base = self._base
        if base is None:
            self._grad_fn, self._requires_grad = node, True
            return
        assert isinstance(node, Function)
        base._grad_fn, base._requires_grad = CopySlices(base, self._view_ops, node), True
        self._rebuild_view_grad_fn()

    # ------------------------------------------------------------ reductions
    def sum(self, dim: Dims = ALL_DIMS, keepdim: bool = False) -> Tensor:
        if dim is ALL_DIMS:
            return ops.Sum.apply(self)
        return ops.SumDim.apply(self, dim=dim, keepdim=keepdim)  # dim=None: all dims, and keepdim holds

    def mean(self, dim: Dims = ALL_DIMS, keepdim: bool = False) -> Tensor:
        if dim is ALL_DIMS:
            return ops.Mean.apply(self)
        return ops.MeanDim.apply(self, dim=dim, keepdim=keepdim)

    # ------------------------------------------------------------ shape
    def t(self) -> Tensor:
        return ops.T.apply(self)

    @property
    def T(self) -> Tensor:  # noqa: N802 - torch's name
        return ops.Permute.apply(self)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        int_argument(dim0, "transpose", "dim0", 1)
        int_argument(dim1, "transpose", "dim1", 2)
        return ops.Transpose.apply(self, dim0=dim0, dim1=dim1)

    # ------------------------------------------------------------ matrix products
    def matmul(self, other: Tensor) -> Tensor:
        """torch.matmul for 1-D and 2-D operands, recorded in the graph as torch records each case."""
        if not isinstance(other, Tensor):
            raise ArgumentTypeError("matmul", "other", 1, "Tensor", other)
        dims = self._data.ndim, other._data.ndim
        if dims == (2, 2):
            return ops.Mm.apply(self, other)
        if dims == (2, 1):
            return ops.Mv.apply(self, other)
        if dims == (1, 1):
            return ops.Dot.apply(self, other)
        if dims == (1, 2):
            row = ops.Unsqueeze.apply(self, dim=0)
            product = ops.Squeeze.apply(ops.Mm.apply(row, other), dim=0)
            # torch squeezes the product in place (squeeze_): the result is no view, and at version 1
            product._base, product._version_counter = None, [1]
            return product
        if 0 in dims:
            raise RuntimeError(
                f"both arguments to matmul need to be at least 1D, but they are {dims[0]}D and {dims[1]}D"
            )
        raise NotImplementedError(f"minigrad's matmul takes 1-D and 2-D tensors, not {self.ndim}-D and {other.ndim}-D")

    def __matmul__(self, other: Tensor) -> Tensor:
        return self.matmul(other) if isinstance(other, Tensor) else NotImplemented

    def __rmatmul__(self, other: Tensor) -> Tensor:
        return other.matmul(self) if isinstance(other, Tensor) else NotImplemented

    def mm(self, mat2: Tensor) -> Tensor:
        return ops.Mm.apply(self, tensor_argument(mat2, "mm", "mat2"))

    def mv(self, vec: Tensor) -> Tensor:
        return ops.Mv.apply(self, tensor_argument(vec, "mv", "vec"))

    def dot(self, tensor: Tensor) -> Tensor:
        return ops.Dot.apply(self, tensor_argument(tensor, "dot", "tensor"))


def is_packed(array: Array) -> bool:
    """torch's is_non_overlapping_and_dense: the elements fill a block of memory, each once, in some order
    of the dims."""
    expected = array.itemsize
    for size, stride in sorted(zip(array.shape, array.strides, strict=True), key=lambda dim: dim[1]):
        if size != 1:
            if stride != expected:
                return False
            expected *= size
    return True


OPERANDS = (Tensor, int, float)  # what the operators take as they are (bool is an int)


class ArgumentTypeError(TypeError):
    """torch's TypeError for an argument of the wrong type. Its message is made when shown, so that the
    function form (`minigrad.add`, whose arguments count from `input`) and the in-place form (`add_`) can
    restate it in their own terms."""

    def __init__(self, function: str, name: str, position: int | None, expected: str, value: object) -> None:
        super().__init__()
        self.function, self.name, self.position, self.expected = function, name, position, expected
        kind = type(value)  # as torch names it: numpy's types with their module
        self.got = f"numpy.{kind.__name__}" if kind.__module__ == "numpy" else kind.__name__

    def __str__(self) -> str:
        where = "" if self.position is None else f" (position {self.position})"
        return f"{self.function}(): argument '{self.name}'{where} must be {self.expected}, not {self.got}"


def argument(value: object, function: str, name: str, position: int) -> Tensor | Scalar:
    """A tensor-or-number argument as torch's argument parser takes it: a numpy scalar becomes its Python
    number, and anything else that is not a tensor or a number is refused."""
    if isinstance(value, OPERANDS):
        return value
    if isinstance(value, np.integer | np.floating | np.bool_):
        number: Scalar = value.item()
        return number
    raise ArgumentTypeError(function, name, position, "Tensor", value)


def int_argument(value: object, function: str, name: str, position: int) -> None:
    if not isinstance(value, int | np.integer) or isinstance(value, bool):
        raise ArgumentTypeError(function, name, position, "int", value)


def tensor_argument(value: object, function: str, name: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise ArgumentTypeError(function, name, 1, "Tensor", value)
    return value


def number(value: object, function: str, name: str) -> Scalar:
    """A keyword-only number argument (`alpha=`)."""
    if isinstance(value, int | float):
        return value
    if isinstance(value, np.integer | np.floating | np.bool_):
        scalar: Scalar = value.item()
        return scalar
    raise ArgumentTypeError(function, name, None, "Number", value)
