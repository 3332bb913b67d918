"""Engines with one seeded bug each, and engines with harmless differences, for tests/test_seeded_bugs.py.

Each is a private copy of minigrad (its own classes and module state: `private_minigrad`) with one method
wrapped, so the minigrad every other test imports is never touched, in this process or another.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

import numpy as np

Method = Callable[..., Any]
Patch = Callable[[ModuleType], None]  # changes one thing in a private copy of minigrad

LOSS_ULPS = 48  # "a loss off by a few dozen ulps"
LR_ERROR = 1e-4  # "a learning-rate update off by 1e-4 relative"


def is_minigrad(name: str) -> bool:
    return name == "minigrad" or name.startswith("minigrad.")


@functools.cache
def compiled(path: str) -> CodeType:
    return compile(Path(path).read_bytes(), path, "exec", dont_inherit=True)


class CompiledOnce(importlib.machinery.SourceFileLoader):
    """Loads a minigrad module from code compiled once per process: where Python writes no bytecode
    (PYTHONDONTWRITEBYTECODE), each copy would compile minigrad's sources again (~20 ms a copy, several hundred
    copies a run)."""

    def get_code(self, fullname: str) -> CodeType:
        return compiled(self.get_filename(fullname))


class MinigradFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        spec = importlib.machinery.PathFinder.find_spec(name, path) if is_minigrad(name) else None
        if spec is not None and spec.origin is not None:
            spec.loader = CompiledOnce(name, spec.origin)
        return spec


def private_minigrad() -> ModuleType:
    """A fresh import of minigrad with its own modules, classes and globals (each module's code executed anew).
    sys.modules is restored at once, so `import minigrad` elsewhere still finds the shared one."""
    shared = {name: module for name, module in sys.modules.items() if is_minigrad(name)}
    for name in shared:
        del sys.modules[name]
    finder = MinigradFinder()
    sys.meta_path.insert(0, finder)
    try:
        return importlib.import_module("minigrad")
    finally:
        sys.meta_path.remove(finder)
        for name in [name for name in sys.modules if is_minigrad(name)]:
            del sys.modules[name]
        sys.modules.update(shared)


def wrap(owner: Any, name: str, wrapper: Callable[[Method], Method]) -> None:
    setattr(owner, name, wrapper(getattr(owner, name)))


@dataclass(frozen=True)
class Named:
    """What the diagnosis by op (reference/diagnose.py) says of a bug: the op, forward or backward, the input
    (for a gradient), and words its message contains."""

    op: str
    stage: str
    input: str | None
    says: str


@dataclass(frozen=True)
class Variant:
    """A minigrad with one change. For a bug: where the parity loop reports it (`step`, `quantity`: a quantity
    or, for an error, the stage that raised; None when the notebook's loop cannot see it), which contract
    checks it breaks, and what the diagnosis by op names (`named`; None for a harmless variant)."""

    name: str
    patch: Patch
    step: int | None = None
    quantity: str | None = None
    failing_checks: frozenset[str] = field(default_factory=frozenset)
    dtypes: tuple[str, ...] = ("float32", "float64")
    named: Named | None = None

    def engine(self) -> ModuleType:
        engine = private_minigrad()
        self.patch(engine)
        return engine


# ---------------------------------------------------------------- seeded bugs
def wrong_sign(engine: ModuleType) -> None:
    """Sub's backward gives the subtrahend +grad: d = y − p sends the wrong sign back to p."""

    def backward_with_wrong_sign(original: Method) -> Method:
        def gradients(self: Any, grad: Any) -> tuple[Any, Any]:
            grad_a, grad_b = original(self, grad)
            return grad_a, None if grad_b is None else -grad_b

        return gradients

    wrap(engine.ops.Sub, "gradients", backward_with_wrong_sign)


def bias_gradient_averaged(engine: ModuleType) -> None:
    """A broadcast input's gradient is averaged over the broadcast rows instead of summed."""

    def averaged(original: Method) -> Method:
        def unbroadcast(grad: Any, to: Any) -> Any:
            summed = original(grad, to)
            return (summed / (grad.size // summed.size)).astype(summed.dtype)

        return unbroadcast

    wrap(engine.ops, "unbroadcast", averaged)


def missing_division(engine: ModuleType) -> None:
    """Div's backward passes the gradient to the dividend without dividing it by the divisor."""

    def without_division(original: Method) -> Method:
        def gradients(self: Any, grad: Any) -> tuple[Any, Any]:
            grad_a, grad_b = original(self, grad)
            return (None if grad_a is None else grad), grad_b

        return gradients

    wrap(engine.ops.Div, "gradients", without_division)


def square_counts_one_side(engine: ModuleType) -> None:
    """Mul's backward, when both operands are the same tensor (x * x), credits only one of them."""

    def one_side(original: Method) -> Method:
        def backward(self: Any, grad: Any) -> tuple[Any, ...]:
            grad_a, grad_b = original(self, grad)
            (node_a, _), (node_b, _) = self.next_functions
            # x * x sends grad * x along both edges: drop the second
            return grad_a, (None if node_a is node_b else grad_b)

        return backward

    wrap(engine.ops.Mul, "backward", one_side)


def round_to_tf32(array: Any) -> Any:
    """float32 values with their mantissa rounded to TF32's 10 bits (11 significant bits), to nearest even."""
    if array.dtype != np.float32:
        return array
    mantissa, exponent = np.frexp(array)  # mantissa in [0.5, 1): 2^11 · mantissa has 11 significant bits
    return np.ldexp(np.round(mantissa * 2**11) / 2**11, exponent).astype(np.float32)


def tf32_matmul(engine: ModuleType) -> None:
    """Matrix products round their float32 inputs to TF32, as CUDA does with TF32 enabled."""

    def with_tf32_inputs(original: Method) -> Method:
        def forward(self: Any, a: Any, b: Any) -> Any:
            return original(self, round_to_tf32(a), round_to_tf32(b))

        return forward

    wrap(engine.ops.Mm, "forward", with_tf32_inputs)


def loss_off_by_ulps(engine: ModuleType) -> None:
    """A division with a scalar result (the loss) comes out LOSS_ULPS units in the last place too large."""

    def off(original: Method) -> Method:
        def forward(self: Any, a: Any, b: Any) -> Any:
            result = original(self, a, b)
            return np.asarray(result + LOSS_ULPS * np.spacing(result)) if result.ndim == 0 else result

        return forward

    wrap(engine.ops.Div, "forward", off)


def learning_rate_off(engine: ModuleType) -> None:
    """The in-place update `w -= step` subtracts the step scaled by 1 + LR_ERROR: an lr off by LR_ERROR."""

    def scaled(original: Method) -> Method:
        def subtract_in_place(self: Any, other: Any) -> Any:
            return original(self, other * (1 + LR_ERROR))

        return subtract_in_place

    wrap(engine.Tensor, "__isub__", scaled)


def no_grad_records(engine: ModuleType) -> None:
    """no_grad() does nothing: ops inside it still record a graph."""
    setattr(engine, "no_grad", contextlib.nullcontext)  # noqa: B010 - a module attribute mypy does not know


def zero_does_not_clear(engine: ModuleType) -> None:
    """zero_() returns the tensor unchanged."""
    engine.Tensor.zero_ = lambda self: self


def gradients_overwritten(engine: ModuleType) -> None:
    """A backward replaces a leaf's gradient instead of adding to it."""

    def overwrite(original: Method) -> Method:
        def accumulate(self: Any, grad: Any, *args: Any) -> None:
            self.grad = None
            original(self, grad, *args)

        return accumulate

    wrap(engine.Tensor, "_accumulate_grad", overwrite)


SEEDED_BUGS: tuple[Variant, ...] = (
    Variant(
        "wrong sign in Sub's backward", wrong_sign, 0, "w.grad", named=Named("-", "backward", "b", "sign is flipped")
    ),
    Variant(
        "bias gradient averaged instead of summed",
        bias_gradient_averaged,
        0,
        "b.grad",
        frozenset({"the gradient of a broadcast bias is summed over the batch"}),
        named=Named("bias broadcast", "backward", "b", "the mean over the 4 rows"),
    ),
    Variant(
        "missing division in Div's backward",
        missing_division,
        0,
        "w.grad",
        named=Named("/", "backward", "x", "the division by n is missing"),
    ),
    Variant(
        "x * x counts one side",
        square_counts_one_side,
        0,
        "w.grad",
        frozenset({"a tensor used twice (d * d) gets both contributions"}),
        named=Named("*", "backward", "a", "only one of the two factors"),
    ),
    Variant(
        "TF32 rounding of matmul inputs",
        tf32_matmul,
        0,
        "predictions",
        dtypes=("float32",),
        named=Named("@", "forward", None, "it should be"),
    ),
    Variant(f"loss off by {LOSS_ULPS} ulps", loss_off_by_ulps, 0, "loss", named=Named("/", "forward", None, "s/n")),
    Variant(
        f"learning-rate update off by {LR_ERROR:g} relative",
        learning_rate_off,
        0,
        "w",
        frozenset({"w -= ... under no_grad() keeps the same leaf"}),
        named=Named("-=", "forward", None, "yours subtracts 1.000"),
    ),
    Variant(
        "no_grad() still records",
        no_grad_records,
        0,
        "update",
        frozenset(
            {"results computed under no_grad() don't require grad", "w -= ... under no_grad() keeps the same leaf"}
        ),
        named=Named("-=", "forward", None, "no_grad() still records"),
    ),
    Variant(
        "zero_() doesn't clear",
        zero_does_not_clear,
        0,
        "zero_()",
        frozenset(
            {
                "zero_() clears a gradient and the next backward starts clean",
                # these two zero a gradient between their own backward passes
                "a tensor used twice (d * d) gets both contributions",
                "w -= ... under no_grad() keeps the same leaf",
            }
        ),
        named=Named("zero_", "forward", None, "left it unchanged"),
    ),
    Variant(
        "leaf gradients overwritten instead of accumulated",
        gradients_overwritten,
        failing_checks=frozenset({"gradients accumulate across backward calls"}),
        named=Named("accumulate", "backward", "w", "overwritten instead of accumulated"),
    ),
)


# ---------------------------------------------------------------- seeded bugs: one or more for each op of the loop
# Each op the notebook's loop uses gets a bug in its forward and one in its backward (where the loop runs one), so
# the diagnosis by op (reference/diagnose.py) is shown to name every op. Mistakes a learner writing an engine makes.
def sum_is_mean(engine: ModuleType) -> None:
    """sum() of every element returns their mean."""

    def mean(original: Method) -> Method:
        def forward(self: Any, a: Any, dim: Any = None, keepdim: bool = False) -> Any:
            total = original(self, a, dim, keepdim)
            return np.asarray(total / a.size, dtype=a.dtype) if dim is None else total

        return forward

    wrap(engine.ops.Sum, "forward", mean)


def sum_backward_is_mean(engine: ModuleType) -> None:
    """Sum's backward spreads grad/n to each element (mean's gradient)."""

    def divided(original: Method) -> Method:
        def backward(self: Any, grad: Any) -> tuple[Any, ...]:
            (spread,) = original(self, grad)
            return (spread / np.asarray(spread.size, dtype=spread.dtype),)

        return backward

    wrap(engine.ops.Sum, "backward", divided)


def sum_backward_ignores_grad(engine: ModuleType) -> None:
    """Sum's backward gives every element 1, whatever gradient arrives (grad is never multiplied in)."""

    def ones(original: Method) -> Method:
        def backward(self: Any, grad: Any) -> tuple[Any, ...]:
            spread: tuple[Any, ...] = original(self, np.ones_like(grad))
            return spread

        return backward

    wrap(engine.ops.Sum, "backward", ones)


def mul_adds(engine: ModuleType) -> None:
    """Mul's forward adds (Add copied to make Mul, and the operator left unchanged)."""

    def adds(original: Method) -> Method:
        def compute(self: Any, a: Any, b: Any) -> Any:
            original(self, a, b)  # keeps what backward saves
            return a + b

        return compute

    wrap(engine.ops.Mul, "compute", adds)


def mul_by_number_widens(engine: ModuleType) -> None:
    """A float32 tensor times a Python number gives float64 (as mygrad does): the number is not converted first."""

    def widened(original: Method) -> Method:
        def forward(self: Any, a: Any, b: Any) -> Any:
            if isinstance(b, float) and a.dtype == np.float32:
                return original(self, a.astype(np.float64), b)
            return original(self, a, b)

        return forward

    wrap(engine.ops.Mul, "forward", widened)


def add_subtracts(engine: ModuleType) -> None:
    """Add's forward computes a − b (Sub copied to make Add, and the operator left unchanged)."""
    engine.ops.Add.compute = lambda self, a, b: a - b


def add_forgets_second_input(engine: ModuleType) -> None:
    """Add's backward sends nothing to its second input."""

    def first_only(original: Method) -> Method:
        def gradients(self: Any, grad: Any) -> tuple[Any, Any]:
            return original(self, grad)[0], None

        return gradients

    wrap(engine.ops.Add, "gradients", first_only)


def sub_reversed(engine: ModuleType) -> None:
    """Sub's forward computes b − a."""
    engine.ops.Sub.compute = lambda self, a, b: b - a


def transpose_reshapes(engine: ModuleType) -> None:
    """t() reshapes to the transposed shape instead of transposing (the elements stay in reading order)."""

    def reshaped(original: Method) -> Method:
        def forward(self: Any, a: Any, dim0: int = 0, dim1: int = 1) -> Any:
            original(self, a, dim0, dim1)  # sets what backward uses
            return a.reshape(a.shape[::-1])

        return forward

    wrap(engine.ops.T, "forward", reshaped)


def transpose_backward_not_transposed(engine: ModuleType) -> None:
    """t()'s backward passes the gradient on without transposing it back."""
    engine.ops.T.backward = lambda self, grad: (grad,)


def mm_backward_transposed(engine: ModuleType) -> None:
    """Mm's backward gives the second operand gradᵀ @ a, the transpose of its gradient."""

    def transposed(original: Method) -> Method:
        def backward(self: Any, grad: Any) -> tuple[Any, ...]:
            grad_a, grad_b = original(self, grad)
            return grad_a, None if grad_b is None else grad_b.T

        return backward

    wrap(engine.ops.Mm, "backward", transposed)


def divisor_gradient_missing_division(engine: ModuleType) -> None:
    """Div's backward gives the divisor −grad·a/b, one division by b short of −grad·a/b²."""

    def short(original: Method) -> Method:
        def gradients(self: Any, grad: Any) -> tuple[Any, Any]:
            grad_a, grad_b = original(self, grad)
            b, _ = self.saved_values
            return grad_a, None if grad_b is None else grad_b * b

        return gradients

    wrap(engine.ops.Div, "gradients", short)


def numel_counts_rows(engine: ModuleType) -> None:
    """numel() returns the number of rows, len(t)."""
    engine.Tensor.numel = lambda self: len(self)


def no_in_place_subtract(engine: ModuleType) -> None:
    """No __isub__: Python runs `w -= v` as `w = w - v`, a new tensor."""
    del engine.Tensor.__isub__


def bias_gradient_not_summed(engine: ModuleType) -> None:
    """A broadcast input's gradient keeps the broadcast shape (never summed back to the input's shape)."""
    engine.ops.unbroadcast = lambda grad, to: grad


OPERATORS = "@ + - * / between tensors and with a Python number on either side"
BROADCASTING = "numpy broadcasting: a matrix with a row vector, either side"
READING = "numel(), t(), sum(), item(), detach(), numpy()"
BACKWARD = "backward() on a scalar fills the leaves' grad"
USED_TWICE = "a tensor used twice (d * d) gets both contributions"
BIAS_SUMMED = "the gradient of a broadcast bias is summed over the batch"
UPDATE_KEEPS_LEAF = "w -= ... under no_grad() keeps the same leaf"
PER_OP_BUGS = (
    Variant(
        "sum() is the mean",
        sum_is_mean,
        0,
        "loss",
        frozenset({READING, "optional: mean()"}),
        named=Named("sum", "forward", None, "the mean"),
    ),
    Variant(
        "Sum's backward is mean's",
        sum_backward_is_mean,
        0,
        "w.grad",
        frozenset(
            {
                BACKWARD,
                USED_TWICE,
                BIAS_SUMMED,
                UPDATE_KEEPS_LEAF,
                "gradients accumulate across backward calls",
                "zero_() clears a gradient and the next backward starts clean",
                "optional: mean()",
                "optional: sum(dim)",
                "optional: ** with a number",
            }
        ),
        named=Named("sum", "backward", "x", "the mean's gradient"),
    ),
    Variant(
        "Sum's backward ignores the gradient",
        sum_backward_ignores_grad,
        0,
        "w.grad",
        frozenset({"optional: sum(dim)"}),
        named=Named("sum", "backward", "x", "ignores the incoming gradient"),
    ),
    Variant(
        "Mul's forward adds",
        mul_adds,
        0,
        "loss",
        frozenset({OPERATORS, UPDATE_KEEPS_LEAF}),
        named=Named("*", "forward", None, "yours is x + c"),
    ),
    Variant(
        "x * number widens to float64",
        mul_by_number_widens,
        failing_checks=frozenset({OPERATORS}),
        dtypes=("float32",),
        named=Named("*", "forward", None, "should stay float32"),
    ),
    Variant(
        "Add's forward subtracts",
        add_subtracts,
        0,
        "predictions",
        frozenset({OPERATORS, BROADCASTING, USED_TWICE}),
        named=Named("+", "forward", None, "yours is a − b"),
    ),
    Variant(
        "Add's backward forgets b",
        add_forgets_second_input,
        0,
        "backward",
        frozenset({BIAS_SUMMED}),
        named=Named("+", "backward", "b", "never arrived"),
    ),
    Variant(
        "Sub's forward reversed",
        sub_reversed,
        0,
        "w.grad",
        frozenset({OPERATORS, BROADCASTING, UPDATE_KEEPS_LEAF}),
        named=Named("-", "forward", None, "yours is b − a"),
    ),
    Variant(
        "t() reshapes",
        transpose_reshapes,
        0,
        "predictions",
        frozenset({READING}),
        named=Named("t", "forward", None, "w reshaped to (3, 2), not transposed"),
    ),
    Variant(
        "t()'s backward not transposed back",
        transpose_backward_not_transposed,
        0,
        "backward",
        frozenset({BACKWARD}),
        named=Named("t", "backward", "w", "not transposed back"),
    ),
    Variant(
        "Mm's backward transposes b's gradient",
        mm_backward_transposed,
        0,
        "backward",
        frozenset({BACKWARD}),
        named=Named("@", "backward", "b", "the transposed shape"),
    ),
    Variant(
        "Div's backward: divisor's gradient one /b short",
        divisor_gradient_missing_division,
        named=Named("/", "backward", "b", "off by a factor of b"),
    ),
    Variant(
        "numel() counts rows",
        numel_counts_rows,
        0,
        "loss",
        frozenset({READING}),
        named=Named("numel", "forward", None, "the number of rows"),
    ),
    Variant(
        "no in-place -=",
        no_in_place_subtract,
        0,
        "zero_()",
        frozenset({UPDATE_KEEPS_LEAF}),
        named=Named("-=", "forward", None, "made a new tensor"),
    ),
    Variant(
        "bias gradient not summed",
        bias_gradient_not_summed,
        0,
        "backward",
        frozenset({BIAS_SUMMED}),
        named=Named("bias broadcast", "backward", "b", "sum it over the 4 rows"),
    ),
)
SEEDED_BUGS += PER_OP_BUGS


# ---------------------------------------------------------------- view and in-place bugs
# The notebook's loop and the contract checks can't see these; the differential fuzz (tests/test_fuzz.py) and
# the OpInfo tests must.
def stale_view_grad_fn(engine: ModuleType) -> None:
    """A view keeps the grad_fn it was made with after its base is modified in place (torch's becomes
    AsStridedBackward0, rooted at the base's new history). Each view's grad_fn is pinned when the view is
    made, and re-pinned only by an in-place op on the view itself."""
    original = engine.Tensor.__dict__["grad_fn"]  # a slot (or a property): read and written through it
    pinned: dict[int, tuple[Any, Any]] = {}  # id(view) -> (view, its pinned grad_fn); the view is kept alive

    def get(self: Any) -> Any:
        entry = pinned.get(id(self))
        return entry[1] if entry is not None and entry[0] is self else original.__get__(self, type(self))

    engine.Tensor.grad_fn = property(get, original.__set__)

    def pin(tensor: Any) -> None:
        pinned[id(tensor)] = (tensor, original.__get__(tensor, type(tensor)))

    apply = engine.autograd.Function.__dict__["apply"].__func__

    def pinning_views(cls: Any, *inputs: Any, **params: Any) -> Any:
        out = apply(cls, *inputs, **params)
        if cls.is_view:
            pin(out)
        return out

    engine.autograd.Function.apply = classmethod(pinning_views)

    def repinning(method: Method) -> Method:
        def in_place(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = method(self, *args, **kwargs)
            if id(self) in pinned:
                pin(self)
            return result

        return in_place

    for name in ("_in_place", "zero_"):
        wrap(engine.Tensor, name, repinning)


def version_not_bumped(engine: ModuleType) -> None:
    """An in-place arithmetic op (`+= -= *= /=` and their `_` methods) leaves the version counter as it was,
    so a tensor saved for backward and then modified goes undetected."""

    def unbumped(method: Method) -> Method:
        def in_place(self: Any, *args: Any, **kwargs: Any) -> Any:
            version = self._version
            result = method(self, *args, **kwargs)
            self._version_counter[0] = version
            return result

        return in_place

    wrap(engine.Tensor, "_in_place", unbumped)


def copy_saved(engine: ModuleType) -> None:
    """Backward's saved arrays are copies, not the input tensors themselves: an in-place edit after the save
    goes undetected (torch raises "modified by an inplace operation") and backward uses the old values."""

    def saving_copies(method: Method) -> Method:
        def save_for_backward(self: Any, *values: Any) -> None:
            method(self, *(np.array(value) if isinstance(value, np.ndarray) else value for value in values))

        return save_for_backward

    wrap(engine.autograd.Function, "save_for_backward", saving_copies)


VIEW_AND_IN_PLACE_BUGS = (
    Variant("stale view grad_fn after the base is modified in place", stale_view_grad_fn),
    Variant("version not bumped by an in-place op", version_not_bumped),
    Variant("a copy saved for backward instead of the tensor", copy_saved),
)
# Every seeded engine bug: the differential fuzz and the OpInfo tests must catch each.
ENGINE_BUGS = SEEDED_BUGS + VIEW_AND_IN_PLACE_BUGS


# ---------------------------------------------------------------- harmless differences
def is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray | np.generic)  # minigrad's backward passes numpy scalars too


def in_float64(original: Method) -> Method:
    """The same computation on float64 copies of the array arguments, rounded back to their dtype once."""

    def computed_in_float64(*args: Any, **kwargs: Any) -> Any:
        dtypes = {arg.dtype for arg in args if is_array(arg)}
        if len(dtypes) != 1 or np.dtype(np.float32) not in dtypes:  # float32 only: other cases stay as they are
            return original(*args, **kwargs)
        dtype = dtypes.pop()
        result = original(*(np.asarray(arg, np.float64) if is_array(arg) else arg for arg in args), **kwargs)
        if isinstance(result, tuple):
            return tuple(None if part is None else np.asarray(part, dtype) for part in result)
        return np.asarray(result, dtype)

    return computed_in_float64


def accumulate_in_float64(engine: ModuleType) -> None:
    """Matrix products and sums (forward and backward) accumulate in float64 and round once to float32."""
    wrap(engine.ops.Mm, "forward", in_float64)
    wrap(engine.ops.Mm, "backward", in_float64)
    wrap(engine.ops.Sum, "forward", in_float64)
    wrap(engine.ops, "unbroadcast", in_float64)


def in_reversed_order(original: Method) -> Method:
    """The same sum over every axis reversed, so the terms are added in another order; the result is
    reversed back."""

    def reordered(*args: Any, **kwargs: Any) -> Any:
        result = np.asarray(original(*(np.flip(arg) if is_array(arg) else arg for arg in args), **kwargs))
        restored = np.array(np.flip(result))  # a copy in C order, as the sum gives (np.flip makes strides negative)
        return restored if result.base is None else restored[...]  # a view where the sum gave one (torch's sum_to)

    return reordered


def sum_in_reversed_order(engine: ModuleType) -> None:
    """Sums (the loss's, and the bias gradient's over the batch) add their terms in reversed order."""
    wrap(engine.ops.Sum, "forward", in_reversed_order)
    wrap(engine.ops, "unbroadcast", in_reversed_order)


HARMLESS = (
    Variant("accumulates in float64", accumulate_in_float64),
    Variant("sums in reversed order", sum_in_reversed_order),
)


def without_optional_ops(engine: ModuleType) -> None:
    """Tensors offer the contract only: no mean(), no **, and sum() takes no dim."""
    del engine.Tensor.mean
    del engine.Tensor.__pow__
    wrap(engine.Tensor, "sum", lambda original: lambda self: original(self))
    setattr(engine, "sum", lambda tensor: tensor.sum())  # noqa: B010 - a module attribute mypy does not know


CONTRACT_ONLY = Variant("offers the contract only", without_optional_ops)
