"""The differentiable ops, each a Function with its forward and backward side by side.

Forward takes numpy arrays (a Python number stays a number) and returns an array; backward takes the
gradient of the output and returns one gradient per input. Broadcasting ops sum each gradient back to its
input's shape with `unbroadcast`, the one place that rule lives. Each class's `grad_fn_name` is torch's name
for its node, which `type(node).__name__` gives (see Function.__init_subclass__).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from minigrad import autograd
from minigrad._fma import fused_multiply_add
from minigrad.autograd import SCALAR_TYPE_NAMES, Array, Function, SavedAttributes, Scalar, is_dense

Operand = Array | Scalar
ndarray = np.ndarray  # a global: one lookup on the hot path, not two
Layout = tuple[tuple[int, ...], np.dtype[Any]] | None  # an input's shape and dtype; None for a Python number


# ---------------------------------------------------------------- helpers
def result_dtype(a: Operand, b: Operand) -> np.dtype[Any]:
    """torch's type promotion: tensors with dimensions decide first, then 0-d tensors, then Python numbers;
    a Python float never widens a float tensor, and makes an integer one float32 (torch's default)."""
    arrays = [x for x in (a, b) if isinstance(x, np.ndarray)]
    for group in ([x.dtype for x in arrays if x.ndim], [x.dtype for x in arrays if not x.ndim]):
        floats = [d for d in group if d.kind == "f"]
        if floats:
            return max(floats, key=lambda d: d.itemsize)
    if any(isinstance(x, float) for x in (a, b)):
        return np.dtype(np.float32)
    return np.dtype(np.int64)


def promote(a: Operand, b: Operand) -> tuple[Operand, Operand]:
    """Cast both operands to `result_dtype`; the common cases need no cast and return at once."""
    if isinstance(a, np.ndarray) and (
        a.dtype == b.dtype
        if isinstance(b, np.ndarray)
        else a.dtype.kind == "f" and (type(b) is float or (type(b) is int and -EXACT_INT <= b <= EXACT_INT))
    ):
        return a, b  # same dtype, or a float array with a Python number, which numpy (NEP 50) keeps in a's dtype
    dtype = result_dtype(a, b)
    return cast(a, dtype), cast(b, dtype)


EXACT_INT = 2**53  # a Python int up to this converts to float64 exactly, so numpy then rounds it once, as torch


def cast(x: Operand, dtype: np.dtype[Any]) -> Operand:
    if isinstance(x, np.ndarray):
        return x.astype(dtype, copy=False)
    converted: Operand = (int_scalar(x) if isinstance(x, int) else np.float64(x)).astype(dtype)
    return converted


def int_scalar(x: int) -> np.integer[Any]:
    """A Python int as torch converts it: int64, else uint64 (an int64 tensor then wraps it), else an error."""
    if not -(2**63) <= x < 2**64:
        raise OverflowError("int too big to convert" if x > 0 else "can't convert negative int to unsigned")
    converted: np.integer[Any] = np.int64(x) if x < 2**63 else np.uint64(x)
    return converted


def layout(x: Operand) -> Layout:
    return (x.shape, x.dtype) if isinstance(x, np.ndarray) else None


def unbroadcast(grad: Array, to: Layout) -> Array:
    """Sum a broadcast gradient back to an input's shape (over the leading dims numpy added, and over the
    dims where the input had size 1), in the input's dtype."""
    assert to is not None  # a Python number needs no gradient
    shape, dtype = to
    # as torch's sum_to: a gradient of the input's shape stays as it is (-0.0 too, which a sum would make +0.0)
    if grad.shape != shape and not shape:  # the sum of everything, a new tensor
        grad = np.asarray(np.add.reduce(grad, axis=None))
    elif grad.shape != shape:
        leading = grad.ndim - len(shape)
        stretched = (
            ()  # only leading dims, the common case (a bias): no need to look for dims of size 1
            if grad.shape[leading:] == shape
            else tuple(leading + i for i, n in enumerate(shape) if n == 1 and grad.shape[leading + i] != 1)
        )
        grad = c_ordered(np.add.reduce(grad, axis=tuple(range(leading)) + stretched, keepdims=True))
        if leading:  # a view of the sum without the leading dims (it tells: see run_backward)
            grad = grad.reshape(shape)
    if grad.dtype == dtype:
        return grad
    # torch's cast keeps a dense gradient's layout and writes any other in C order (numpy's may pick another)
    return grad.astype(dtype, order="K" if is_dense(grad) else "C")


def c_ordered(array: Array) -> Array:
    """torch writes a reduction's result, and a number's power, into a new tensor in C order; numpy lays it out
    as its input (the layout shows: a leaf takes a gradient as its .grad only in its own layout)."""
    return array if array.ndim < 2 or array.flags.c_contiguous else np.array(array, order="C")


def grad_first(grad: Array, *gradients: Array | None) -> tuple[Array | None, ...]:
    """Gradients computed by formulas whose first operand is `grad` (`grad * x`), laid out as torch's."""
    # A broadcast grad's order is C but where its strides say; one whose every stride is 0 (the expand of a sum's
    # gradient, the common case) says nothing: numpy's results are in C order too.
    if grad.ndim > 1 and not grad.flags.c_contiguous and any(grad.strides):
        # grad passed on as it is (add's) stays itself: one tensor, even a broadcast one
        return tuple(
            [
                gradient if gradient is None or gradient is grad else laid_out_as(gradient, grad)
                for gradient in gradients
            ]
        )
    return gradients


def laid_out_as(result: Array, *operands: Operand) -> Array:
    """An elementwise op's result, laid out as torch's TensorIterator lays out the op's output: its dims ordered
    by the operands' strides, the first operand's first, an operand leaving the choice to the next where one of
    the two dims is broadcast (stride 0) or their strides are equal (torch's reorder_dimensions); with no
    operand deciding, C order. numpy's ufuncs order the dims their own way where the operands' layouts disagree.
    The layout shows: a leaf takes a gradient as its .grad only in its own layout."""
    shape = result.shape
    if len(shape) < 2:
        return result
    strides = [broadcast_strides(x, shape) for x in operands if isinstance(x, np.ndarray) and x.ndim]

    def comparison(faster: int, slower: int) -> int:
        """1: `faster` should be the slower of the two dims; -1: it should not; 0: no operand says."""
        for stride in strides:
            if stride[faster] and stride[slower]:
                if stride[faster] != stride[slower]:
                    return 1 if stride[faster] > stride[slower] else -1
                if shape[faster] > shape[slower]:  # equal strides: the smaller dim goes inside
                    return 1
        return 0

    order = list(range(len(shape)))[::-1]  # fastest first, as torch's perm: an insertion sort, as torch's
    for i in range(1, len(order)):
        moving = i
        for earlier in range(i - 1, -1, -1):
            said = comparison(order[earlier], order[moving])
            if said > 0:
                order[earlier], order[moving] = order[moving], order[earlier]
                moving = earlier
            elif said < 0:
                break
    return in_dim_order(result, order[::-1])


def broadcast_strides(array: Array, shape: tuple[int, ...]) -> tuple[int, ...]:
    """`array`'s strides as an operand broadcast to `shape`: 0 along a dim it lacks or stretches from size 1."""
    leading = len(shape) - array.ndim
    stretched = [
        0 if n == 1 and shape[leading + i] != 1 else stride
        for i, (n, stride) in enumerate(zip(array.shape, array.strides, strict=True))
    ]
    return (0,) * leading + tuple(stretched)


def in_order_of(result: Array, strides: tuple[int, ...]) -> Array:
    """`result`, or a copy of it, whose dims are laid out in the order of these strides (largest outermost)."""
    return in_dim_order(result, sorted(range(len(strides)), key=lambda d: -strides[d]))


def in_dim_order(result: Array, order: list[int]) -> Array:
    """`result`, or a copy of it, whose dims are laid out in this order (the outermost first)."""
    permuted = result.transpose(order)
    if permuted.flags.c_contiguous:
        return result  # already in that order
    relaid: Array = permuted.copy().transpose([order.index(d) for d in range(len(order))])
    return relaid


def broadcast_error(a: Operand, b: Operand) -> RuntimeError:
    """torch's message for shapes that don't broadcast, naming the first mismatch from the right."""
    shape_a, shape_b = np.shape(a), np.shape(b)
    ndim = max(len(shape_a), len(shape_b))
    for offset in range(1, ndim + 1):
        size_a = shape_a[-offset] if offset <= len(shape_a) else 1
        size_b = shape_b[-offset] if offset <= len(shape_b) else 1
        if size_a != size_b and 1 not in (size_a, size_b):
            return RuntimeError(
                f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) "
                f"at non-singleton dimension {ndim - offset}"
            )
    raise AssertionError("shapes broadcast")


def normalize_dims(dim: int | tuple[int, ...] | list[int], ndim: int) -> tuple[int, ...]:
    """Dims as non-negative axes, with torch's IndexError for one out of range (a 0-d tensor has dim 0)."""
    rank = max(ndim, 1)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    for d in dims:
        if not -rank <= d < rank:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {d})")
    return tuple(d % rank for d in dims)


# ---------------------------------------------------------------- elementwise, two operands
class BinaryOp(Function):
    """`a op b` for tensors or numbers: torch's type promotion, numpy broadcasting, and gradients summed
    back to each input's shape. Subclasses give `compute` (the forward on promoted arrays) and `gradients`."""

    __slots__ = ("layouts",)

    def forward(self, a: Operand, b: Operand) -> Array:
        # promote()'s commonest case, two arrays of one dtype, checked here: this is the hot path
        same = a.__class__ is ndarray and b.__class__ is ndarray and a.dtype == b.dtype
        promoted_a, promoted_b = (a, b) if same else promote(a, b)
        recording = True in self.needs_input_grad
        if recording:  # backward sums gradients back to these shapes and dtypes
            self.layouts = ((a.shape, a.dtype), (b.shape, b.dtype)) if same else (layout(a), layout(b))  # type: ignore[union-attr]
            if a is autograd.writing_into and self.needs_input_grad[1]:  # `a op= b`: a's old value, which
                promoted_a = np.array(promoted_a)  # backward needs, is about to be overwritten: keep a copy
        try:
            result: Array = self.compute(promoted_a, promoted_b)
        except ValueError:
            raise broadcast_error(a, b) from None
        if result.ndim > 1 and (  # torch's layout (numpy's matches it where every operand is in C order); only
            (promoted_a.__class__ is ndarray and not promoted_a.flags.c_contiguous)  # arrays of the ndarray class
            or (promoted_b.__class__ is ndarray and not promoted_b.flags.c_contiguous)  # (capture's keep numpy's)
        ):
            result = laid_out_as(
                result, *((promoted_b, promoted_a) if self.operands_swapped else (promoted_a, promoted_b))
            )
        # the casts are watched wherever a graph is recorded, even if no edge takes a gradient (torch saves div's
        # divisor for any gradient, and checks it in backward all the same)
        if self._inputs and (promoted_b is not b or (promoted_a is not a and a is not autograd.writing_into)):
            # a's copy (above) is no longer a's data: only the operands that still are get watched
            in_place = a is autograd.writing_into
            self.watch_cast_inputs(((promoted_b, b, 1),) if in_place else ((promoted_a, a, 0), (promoted_b, b, 1)))
        return result

    def watch_cast_inputs(self, casts: tuple[tuple[Operand, Operand, int], ...]) -> None:
        """An operand saved after being cast to the result's dtype is still its input tensor: watch that
        tensor's version (torch saves the tensor itself)."""
        for cast_value, original, index in casts:
            given = self._inputs[index]
            if getattr(given, "_data", None) is original:
                self.watch(cast_value, given)  # type: ignore[arg-type]

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        if True not in self.needs_input_grad:  # no edge takes a gradient: torch only unpacks what it saved
            if self.saved_names:
                self.saved_values  # noqa: B018 - it raises if what was saved is freed or modified
            return None, None
        grad_a, grad_b = self.gradients(grad)
        if grad.ndim > 1 and not grad.flags.c_contiguous:  # grad comes first in torch's formulas (C order is
            grad_a, grad_b = grad_first(grad, grad_a, grad_b)  # what they would have anyway)
        layout_a, layout_b = self.layouts
        # unbroadcast only what needs it: most gradients already have their input's shape and dtype
        if grad_a is not None and (grad_a.shape != layout_a[0] or grad_a.dtype != layout_a[1]):  # type: ignore[index]
            grad_a = unbroadcast(grad_a, layout_a)
        if grad_b is not None and (grad_b.shape != layout_b[0] or grad_b.dtype != layout_b[1]):  # type: ignore[index]
            grad_b = unbroadcast(grad_b, layout_b)
        return grad_a, grad_b

    operands_swapped: ClassVar[bool] = False  # torch computes it as `b op a` (Rsub)

    def compute(self, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def gradients(self, grad: Array) -> tuple[Array | None, Array | None]:
        raise NotImplementedError


# torch's add and sub take `alpha`, a factor for b; minigrad's have none, i.e. always 1.
ALPHA: SavedAttributes = {"alpha": lambda node: 1}


class Add(BinaryOp):
    grad_fn_name = "AddBackward0"
    saved_attributes = ALPHA

    def compute(self, a: Any, b: Any) -> Any:
        return a + b

    def gradients(self, grad: Array) -> tuple[Array | None, Array | None]:
        return (grad if self.needs_input_grad[0] else None), (grad if self.needs_input_grad[1] else None)


class Sub(BinaryOp):
    grad_fn_name = "SubBackward0"
    saved_attributes = ALPHA

    def compute(self, a: Any, b: Any) -> Any:
        return a - b

    def gradients(self, grad: Array) -> tuple[Array | None, Array | None]:
        return (grad if self.needs_input_grad[0] else None), (-grad if self.needs_input_grad[1] else None)


class Rsub(BinaryOp):
    """`a.__rsub__(b)` for a tensor b: b - a, recorded with the edges in that order (a, b), as torch."""

    grad_fn_name = "RsubBackward0"
    saved_attributes = ALPHA
    operands_swapped = True

    def compute(self, a: Any, b: Any) -> Any:
        return b - a

    def gradients(self, grad: Array) -> tuple[Array | None, Array | None]:
        return (-grad if self.needs_input_grad[0] else None), (grad if self.needs_input_grad[1] else None)


class RsubNumber(Rsub):
    """`number - tensor`: torch records it as an op of its own, whose one input is the tensor (the number
    is a parameter: `RsubNumber.apply(tensor, b=number)`), so its grad_fn has one edge, as torch's."""

    grad_fn_name = "RsubBackward1"

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        return grad_first(grad, -grad)  # the tensor's shape and dtype: a number neither broadcasts nor widens it


class AddScaled(Add):
    """`a + alpha * b` (torch's `alpha=`), rounded once: torch's kernel computes it with a fused
    multiply-add. `b`'s gradient is grad * alpha (derivatives.yaml: maybe_multiply(grad, alpha))."""

    __slots__ = ("alpha",)
    grad_fn_name = "AddBackward0"
    saved_attributes: ClassVar[SavedAttributes] = {"alpha": lambda node: node.alpha}

    def forward(self, a: Operand, b: Operand, alpha: Scalar = 1) -> Array:
        self.alpha = alpha
        return super().forward(a, b)

    def compute(self, a: Any, b: Any) -> Any:
        dtype, alpha = a.dtype, self.alpha  # promote() made `a` an array or numpy scalar of the result's dtype
        np.broadcast_shapes(np.shape(a), np.shape(b))  # torch checks the shapes before alpha (ValueError: forward)
        if isinstance(alpha, bool):
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
        if dtype.kind != "f":
            if isinstance(alpha, float):
                raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
            return a + b * dtype.type(alpha)  # integers: exact, wrapping as torch's
        if dtype == np.float32 and np.isfinite(alpha) and abs(alpha) > np.finfo(np.float32).max:
            raise RuntimeError("value cannot be converted to type float without overflow")
        return fused_multiply_add(np.asarray(b, dtype), dtype.type(alpha), np.asarray(a))  # laid out by forward

    def gradients(self, grad: Array) -> tuple[Array | None, Array | None]:
        grad_a, grad_b = super().gradients(grad)
        return grad_a, (None if grad_b is None else grad_b * grad.dtype.type(self.alpha))


class SubScaled(AddScaled):
    """`a - alpha * b`: torch computes it as `a + (-alpha) * b`."""

    grad_fn_name = "SubBackward0"
    saved_attributes: ClassVar[SavedAttributes] = {"alpha": lambda node: -node.alpha}

    def forward(self, a: Operand, b: Operand, alpha: Scalar = 1) -> Array:
        return super().forward(a, b, alpha if isinstance(alpha, bool) else -alpha)


class Mul(BinaryOp):
    grad_fn_name = "MulBackward0"
    saves_per_gradient = True
    saved_names = ("other", "self")
    saved_inputs = (1, 0)

    def compute(self, a: Any, b: Any) -> Any:
        self.save_for_backward(b if self.needs_input_grad[0] else None, a if self.needs_input_grad[1] else None)
        return a * b

    def gradients(self, grad: Array) -> tuple[Array | None, Array | None]:
        b, a = self.saved_values
        if a is b and a is not None:  # x * x: grad * x along both edges, added one after the other (as torch)
            product = grad * a
            # torch's two products are equal: one array along both edges, which run_backward adds to itself in
            # place, as torch adds the second into the first (unless the edges lead to two tensors)
            same_input = self.next_functions[0][0] is self.next_functions[1][0]
            return product, (product if same_input else product.copy())
        if a is not None and a.dtype != grad.dtype and self.layouts[0] is not None:
            a = a.astype(self.layouts[0][1])  # `x *= y` into a narrower x: torch saved x in x's own dtype
        return (grad * b if b is not None else None), (grad * a if a is not None else None)


class Div(BinaryOp):
    grad_fn_name = "DivBackward0"
    saved_names = ("other", "self")
    saved_inputs = (1, 0)

    def compute(self, a: Any, b: Any) -> Any:
        if a.dtype.kind != "f":  # promote() made both operands arrays or scalars of one dtype
            a, b = cast(a, np.dtype(np.float32)), cast(b, np.dtype(np.float32))  # true division, as torch
        self.save_for_backward(b, a if self.needs_input_grad[1] else None)  # b first: torch checks b first
        return a / b

    def gradients(self, grad: Array) -> tuple[Array | None, Array | None]:
        b, a = self.saved_values
        # torch's formulas, term for term, so the bits agree: grad / b and -grad * ((a / b) / b)
        return (grad / b if self.needs_input_grad[0] else None), (-grad * ((a / b) / b) if a is not None else None)


# ---------------------------------------------------------------- elementwise, one operand
class Neg(Function):
    grad_fn_name = "NegBackward0"

    def forward(self, a: Array) -> Array:
        return np.asarray(-a)  # a 0-d array negates to a numpy scalar: keep it an array

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        return grad_first(grad, -grad)


class Pow(Function):
    """`a ** exponent` for a Python number exponent."""

    __slots__ = ("exponent",)
    grad_fn_name = "PowBackward0"
    saved_names = ("self",)
    saved_inputs = (0,)
    saved_attributes: ClassVar[SavedAttributes] = {"exponent": lambda node: node.exponent}

    def forward(self, a: Array, exponent: Scalar) -> Array:
        self.exponent = exponent
        # `a **= exponent` overwrites a, whose old value backward needs: keep a copy (as torch)
        self.save_for_backward(np.array(a) if a is autograd.writing_into else a)
        if a.dtype.kind != "f" and isinstance(exponent, int) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if a.dtype.kind != "f" and isinstance(exponent, float):
            a = a.astype(np.float32)  # torch: an integer tensor to a float power is float32
        return power(a, exponent)

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        (a,) = self.saved_values
        if self.exponent == 0:  # torch: zeros_like(self, LEGACY_CONTIGUOUS_MEMORY_FORMAT), in C order
            return (np.zeros(grad.shape, grad.dtype),)
        return grad_first(grad, grad * (self.exponent * power(a, self.exponent - 1)))  # torch's formula


def power(a: Array, exponent: Scalar) -> Array:
    """`a ** exponent` as torch's CPU kernel computes it, so the bits agree: for a float tensor it computes
    these exponents with + - * / and sqrt (numpy's own shortcuts cover 0, 1, 2, -1 and 0.5 the same way).
    Any other exponent calls pow, and 0.5 torch's sqrt, which in torch (Sleef, MKL) may differ from numpy's
    in the last bit."""
    if a.dtype.kind == "f":
        if exponent == 3:
            return np.asarray(a * a * a)
        if exponent == -2:
            return np.asarray(1 / (a * a))
        if exponent == -0.5:
            return np.asarray(1 / np.sqrt(a))
    return np.asarray(a**exponent)


def elementwise_power(base: Any, exponent: Any) -> Array:
    """`base ** exponent` element by element (torch's pow kernel for two tensors: pow for floats, always;
    for integers, a negative exponent gives 0, or +-1 for a base of +-1, where numpy would raise)."""
    if np.result_type(base).kind == "f":
        return np.asarray(np.power(base, exponent))
    negative = exponent < 0
    result = np.power(base, np.where(negative, 0, exponent))
    if np.any(negative):
        odd = (exponent % 2 == 1) & (base == -1)
        result = np.where(negative, np.where(base == 1, 1, np.where(odd, -1, np.where(base == -1, 1, 0))), result)
    return np.asarray(result, dtype=np.result_type(base))


class PowTensor(BinaryOp):
    """`a ** b` for a tensor exponent. Backward is derivatives.yaml's pow_backward_self and
    pow_backward_exponent, term for term: grad * (b * a ** (b - 1)) (0 where b == 0), and
    grad * (result * log(a)) (0 where a == 0 and b >= 0)."""

    grad_fn_name = "PowBackward1"
    saved_names = ("self", "exponent", "result")
    saved_inputs = (0, 1, None)
    saves_result = True

    def compute(self, a: Any, b: Any) -> Any:
        result = elementwise_power(a, b)
        self.save_for_backward(a, b, result)
        return result

    def gradients(self, grad: Array) -> tuple[Array | None, Array | None]:
        a, b, result = self.saved_values
        zero = grad.dtype.type(0)
        grad_a = np.where(b == 0, zero, grad * (b * elementwise_power(a, b - 1))) if self.needs_input_grad[0] else None
        grad_b = grad * np.where((a == 0) & (b >= 0), zero, result * np.log(a)) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class PowOfNumber(Function):
    """`number ** tensor`: the number is a parameter (`PowOfNumber.apply(exponent, base=number)`), so the
    grad_fn has one edge, as torch's. Backward: grad * (result * log(base)) (0 where base == 0 and the
    exponent >= 0)."""

    __slots__ = ("base",)
    grad_fn_name = "PowBackward2"
    saved_names = ("exponent", "result")
    saved_inputs = (0, None)
    saves_result = True
    saved_attributes: ClassVar[SavedAttributes] = {"self": lambda node: node.base}

    def forward(self, exponent: Array, base: Scalar) -> Array:
        self.base = base
        base_cast, exponent_cast = promote(base, exponent)
        # torch: 1 ** x is 1, whatever x
        result = c_ordered(np.ones_like(exponent_cast) if base == 1 else elementwise_power(base_cast, exponent_cast))
        self.save_for_backward(exponent_cast, result)
        return result

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        exponent, result = self.saved_values
        log_base = grad.dtype.type(np.log(np.float64(self.base)))  # torch: the log of the number, in double
        if self.base == 0:
            return grad_first(grad, grad * np.where(exponent >= 0, grad.dtype.type(0), result * log_base))
        return grad_first(grad, grad * (result * log_base))


class Clone(Function):
    """A copy that stays in the graph: its gradient passes straight through."""

    grad_fn_name = "CloneBackward0"

    def forward(self, a: Array) -> Array:
        return np.array(a)

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        return (grad,)


class Zero(Function):
    """`t.zero_()` on a tensor in the graph: no gradient flows back through the zeroed values."""

    grad_fn_name = "ZeroBackward0"

    def forward(self, a: Array) -> Array:
        return np.zeros_like(a)

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        # torch's zeros_like keeps a dense grad's strides, even a size-1 dim's 0, which a leaf's .grad can't take;
        # a broadcast grad's it orders as an elementwise result's (numpy's zeros_like may order it otherwise)
        if not is_dense(grad):
            return (laid_out_as(np.zeros(grad.shape, grad.dtype), grad),)
        zeros = np.zeros_like(grad)
        if 0 in grad.strides:
            zeros = np.lib.stride_tricks.as_strided(zeros, strides=grad.strides)
        return (zeros,)


class Reciprocal(Function):
    """`1 / a`; torch computes `number / tensor` as `reciprocal(tensor) * number`, and so do we."""

    grad_fn_name = "ReciprocalBackward0"
    saved_names = ("result",)
    saved_inputs = (None,)
    saves_result = True

    def forward(self, a: Array) -> Array:
        if a.dtype.kind != "f":
            a = a.astype(np.float32)
        result = np.asarray(1 / a)  # saved, so an array now (apply makes the output one)
        self.save_for_backward(result)
        return result

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        (result,) = self.saved_values
        return grad_first(grad, -grad * (result * result))


# ---------------------------------------------------------------- reductions
class Sum(Function):
    """Sum over all elements (SumBackward0) or over `dim` (SumBackward1); backward spreads the gradient
    back over the summed dims."""

    __slots__ = ("dims", "dropped", "keepdim", "shape")
    grad_fn_name = "SumBackward0"
    saved_attributes: ClassVar[SavedAttributes] = {"self_sym_sizes": lambda node: node.shape}

    def forward(self, a: Array, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Array:
        self.shape, self.keepdim = a.shape, keepdim
        dims = () if dim is None else normalize_dims(dim, a.ndim)
        if dims and len(set(dims)) < len(dims):
            duplicate = next(d for d in dims if dims.count(d) > 1)
            raise RuntimeError(f"dim {duplicate} appears multiple times in the list of dims")
        if dims and a.ndim:
            self.dims = dims
            # the dims given, which the result dropped: torch's sum_backward unsqueezes them before expanding
            self.dropped = () if keepdim else dims
        else:  # as torch, no dims (None or ()) means all of them; a 0-d tensor's dim 0 is itself
            self.dims, self.dropped = tuple(range(a.ndim)), ()
        # np.add.reduce, as ndarray.sum calls it: numpy's warnings then come from here (see autograd.py)
        return c_ordered(np.add.reduce(a, axis=self.dims, keepdims=keepdim))  # type: ignore[call-overload]

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        return (expand(np.expand_dims(grad, self.dropped) if self.dropped else grad, self.shape),)


def expand(grad: Array, shape: tuple[int, ...]) -> Array:
    """`grad` repeated along the dims of size 1 that `shape` makes larger, as a read-only view (no copy), with
    torch's strides (they decide whether a leaf takes it as its .grad: Tensor._has_layout_of)."""
    if grad.ndim == 0:  # a sum of everything, the common case: a view whose every stride is 0, built directly
        view: Array = np.ndarray(shape, grad.dtype, grad, 0, (0,) * len(shape))  # 10x cheaper than broadcast_to
        view.flags.writeable = False
        return view
    # numpy's broadcast_to zeroes the stride of a dim of size 1; torch's expand keeps it
    return grad.view() if grad.shape == shape else np.broadcast_to(grad, shape)


# What sum and mean over `dim` keep besides the input's shape.
DIM_ATTRIBUTES: SavedAttributes = {
    "dim": lambda node: node.dims,
    "keepdim": lambda node: node.keepdim,
}


class SumDim(Sum):
    grad_fn_name = "SumBackward1"
    saved_attributes = DIM_ATTRIBUTES


class Mean(Sum):
    grad_fn_name = "MeanBackward0"
    saved_attributes: ClassVar[SavedAttributes] = {"self_sym_numel": lambda node: int(np.prod(node.shape))}

    def forward(self, a: Array, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Array:
        if a.dtype.kind != "f":
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
                f"dtype. Got: {SCALAR_TYPE_NAMES[a.dtype.name]}"
            )
        total = super().forward(a, dim, keepdim)
        return np.asarray(total / self.count(), dtype=a.dtype)

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        (spread,) = super().backward(grad)
        assert spread is not None
        return grad_first(spread, spread / np.asarray(self.count(), dtype=grad.dtype))

    def count(self) -> int:
        return int(np.prod([self.shape[d] for d in self.dims]))


class MeanDim(Mean):
    grad_fn_name = "MeanBackward1"
    saved_attributes = DIM_ATTRIBUTES


# ---------------------------------------------------------------- shape
class Transpose(Function):
    """Swap two dims; a view, as in torch (it shares memory with its input)."""

    __slots__ = ("axes",)
    grad_fn_name = "TransposeBackward0"
    is_view = True

    def forward(self, a: Array, dim0: int = 0, dim1: int = 1) -> Array:
        axes = list(range(a.ndim))
        d0, d1 = normalize_dims((dim0, dim1), a.ndim)
        if a.ndim:
            axes[d0], axes[d1] = axes[d1], axes[d0]
        self.axes = tuple(axes)
        view: Array = a.transpose(self.axes)
        return view

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        return (grad.transpose(self.axes),)  # a swap of two dims (or a reversal) is its own inverse

    def view_of(self, array: Array) -> Array:
        """The same view of another array of the input's shape (for in-place ops on views)."""
        view: Array = array.transpose(self.axes)
        return view


class T(Transpose):
    grad_fn_name = "TBackward0"

    def forward(self, a: Array, dim0: int = 0, dim1: int = 1) -> Array:
        if a.ndim > 2:  # checked here, after autograd's refusal of a view made under no_grad (torch's order)
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {a.ndim}D")
        self.axes = (1, 0) if a.ndim == 2 else tuple(range(a.ndim))  # as torch, 1-D and 0-d: their own transpose
        view: Array = a.transpose(self.axes)
        return view


class Permute(Transpose):
    """`.T`: all dims reversed."""

    grad_fn_name = "PermuteBackward0"
    saved_attributes: ClassVar[SavedAttributes] = {"dims": lambda node: node.axes}

    def forward(self, a: Array, dim0: int = 0, dim1: int = 1) -> Array:
        self.axes = tuple(reversed(range(a.ndim)))
        view: Array = a.transpose(self.axes)
        return view


class Unsqueeze(Function):
    __slots__ = ("dim",)
    grad_fn_name = "UnsqueezeBackward0"
    saved_attributes: ClassVar[SavedAttributes] = {"dim": lambda node: node.dim}
    is_view = True

    def forward(self, a: Array, dim: int) -> Array:
        self.dim = dim
        return self.view_of(a)

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        return (np.squeeze(grad, self.dim),)

    def view_of(self, array: Array) -> Array:
        return np.expand_dims(array, self.dim)


class Squeeze(Unsqueeze):
    grad_fn_name = "SqueezeBackward4"

    def forward(self, a: Array, dim: int) -> Array:
        self.dim = dim
        return self.view_of(a)

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        return (np.expand_dims(grad, self.dim),)

    def view_of(self, array: Array) -> Array:
        return np.squeeze(array, self.dim)


# ---------------------------------------------------------------- matrix products
TYPE_NAMES = {"float32": "float", "float64": "double", "int64": "long int"}


class Mm(Function):
    """Matrix times matrix."""

    __slots__ = ("column_major",)
    grad_fn_name = "MmBackward0"
    saves_per_gradient = True
    saved_names = ("mat2", "self")
    saved_inputs = (1, 0)

    def forward(self, a: Array, b: Array) -> Array:
        # torch checks shapes and dtypes in the kernel, after autograd's checks (a view made under no_grad...)
        if a.ndim != 2:
            raise RuntimeError("self must be a matrix")
        if b.ndim != 2:
            raise RuntimeError("mat2 must be a matrix")
        if a.shape[1] != b.shape[0]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})"
            )
        if a.dtype != b.dtype:  # mm does not promote (nor do mv and dot, each with its own words)
            raise RuntimeError(
                "expected m1 and m2 to have the same dtype, but got: "
                f"{TYPE_NAMES[a.dtype.name]} != {TYPE_NAMES[b.dtype.name]}"
            )
        # Each gradient needs only the other operand: save just what an input that needs grad will use
        # (b first: torch checks b's version first), and the layout of the input whose gradient it is.
        needs_a, needs_b = self.needs_input_grad
        self.save_for_backward(b if needs_a else None, a if needs_b else None)
        self.column_major = (needs_a and is_column_major(a), needs_b and is_column_major(b))
        return a @ b

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        b, a = self.saved_values
        # torch's mm_mat1_backward and mm_mat2_backward: an input in column-major order gets its gradient in
        # that order too, as the transpose of the product of the transposes (its layout shows: .grad's version)
        a_column_major, b_column_major = self.column_major
        grad_a = None if b is None else ((b @ grad.T).T if a_column_major else grad @ b.T)
        grad_b = None if a is None else ((grad.T @ a).T if b_column_major else a.T @ grad)
        return grad_a, grad_b


def is_column_major(matrix: Array) -> bool:
    """torch's test: strides (1, rows), in elements."""
    row_stride, column_stride = matrix.strides
    return row_stride == matrix.itemsize and column_stride == matrix.shape[0] * matrix.itemsize


class Mv(Function):
    """Matrix times vector."""

    grad_fn_name = "MvBackward0"
    saves_per_gradient = True
    saved_names = ("self", "vec")
    saved_inputs = (0, 1)

    def forward(self, a: Array, v: Array) -> Array:
        if a.ndim != 2 or v.ndim != 1:
            raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a.ndim}, {v.ndim}")
        if a.shape[1] != v.shape[0]:
            raise RuntimeError(
                f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{a.shape[1]}), vec ({v.shape[0]})"
            )
        if a.dtype != v.dtype:  # torch computes mv as addmv(out, a, v), out of v's dtype, and names all three
            vec, mat = SCALAR_TYPE_NAMES[v.dtype.name], SCALAR_TYPE_NAMES[a.dtype.name]
            raise RuntimeError(f"addmv input tensors must have the same dtype, but got {vec}, {mat}, and {vec}")
        self.save_for_backward(a if self.needs_input_grad[1] else None, v if self.needs_input_grad[0] else None)
        return a @ v

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        a, v = self.saved_values
        # np.outer's product, computed here: numpy's warnings then come from minigrad's frame (see autograd.py)
        return (grad[:, None] * v if v is not None else None), (a.T @ grad if a is not None else None)


class Dot(Function):
    """Vector times vector."""

    grad_fn_name = "DotBackward0"
    saves_per_gradient = True
    saved_names = ("self", "tensor")
    saved_inputs = (0, 1)

    def forward(self, u: Array, v: Array) -> Array:
        if u.ndim != 1 or v.ndim != 1:
            raise RuntimeError(f"1D tensors expected, but got {u.ndim}D and {v.ndim}D tensors")
        if u.dtype != v.dtype:  # torch checks dtypes before sizes here (mm and mv: sizes first)
            raise RuntimeError(
                "dot : expected both vectors to have same dtype, but found "
                f"{SCALAR_TYPE_NAMES[u.dtype.name]} and {SCALAR_TYPE_NAMES[v.dtype.name]}"
            )
        if u.shape != v.shape:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{u.shape[0]}] and src [{v.shape[0]}] to have the same "
                f"number of elements, but got {u.shape[0]} and {v.shape[0]} elements respectively"
            )
        self.save_for_backward(u if self.needs_input_grad[1] else None, v if self.needs_input_grad[0] else None)
        product: Array = u @ v
        return product

    def backward(self, grad: Array) -> tuple[Array | None, ...]:
        u, v = self.saved_values
        return (grad * v if v is not None else None), (grad * u if u is not None else None)
