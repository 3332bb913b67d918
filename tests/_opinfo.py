"""torch's own OpInfo samples (`common_methods_invocations.op_db`) run against an engine (minigrad, or a copy of it
with a seeded bug), everything observable compared with torch. Used by tests/test_opinfo.py.

For each covered OpInfo and dtype, every `sample_inputs` and `reference_inputs` sample is run through each variant
torch's OpInfo has (function, method, in-place, operator, in-place operator), on fresh copies of the inputs that
keep torch's memory layout (non-contiguous and zero-stride samples stay so). After each call:
- errors: both raise, with the same type and message ("torch" read as the engine's name), or neither does;
- the result: dtype, shape, requires_grad, is_leaf, the grad_fn graph (names, edges, which leaf each
  AccumulateGrad holds), `_version`, whether it is the input (in place) or shares its memory (a view), the
  inputs' values and versions afterwards;
- values: to the bit for elementwise ops and integers; within a rounding-error bound (NUMERICS.md §2) where the
  order of additions is free (sum, mean, matrix products, a broadcast input's gradient) or where a library
  function (pow, log) is only accurate to an ulp. The bounds are derived in `Numerics`;
- backward with a drawn gradient: every leaf's `.grad` (None or not, dtype, shape, values), then a second
  backward (accumulation: each .grad doubles, exactly).

A careful runner checks what a plain sample cannot show, so the function variant also runs these probes:
- no_grad: the op under `no_grad()` (requires_grad, grad_fn, values);
- saved tensors: each input modified in place (under no_grad) after the forward, then backward: torch raises
  "modified by an inplace operation" exactly where the op saved that input;
- views: the base of a view (t, transpose, T) modified in place after the view was taken: the view's grad_fn
  and the gradient through it follow the base's new history;
- aliased operands: a binary op with the same tensor on both sides (x * x).
`error_inputs` are checked for the error type and torch's message regex.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch.testing._internal.common_methods_invocations import op_db
from torch.testing._internal.opinfo import core

# torch's testing classes carry no type hints: to mypy they are Any
OpInfo = Any
SampleInput: Any = core.SampleInput

DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64}
SEED = 1234  # torch's own default seed for OpInfo samples
LARGE = 20_000  # elements: samples larger than this run only with --opinfo-full (see test_opinfo.py)

# ---------------------------------------------------------------- what is skipped, and why
# Each reason names one thing the README declares out of scope ("Not covered" in "minigrad and torch"); a test
# checks that the README says each of these phrases.
SKIP_REASONS = {
    "dtype": "dtypes other than float32, float64 and int64",
    "matmul beyond 2-D": "matmul beyond 2-D",
    "rounding_mode": "div's `rounding_mode`",
    "memory_format": "clone's `memory_format`",
    "dtype argument": "the `dtype` argument of sum and mean",
    "device argument": "a `device` argument",
    "unbound method on a number": "a Tensor method called unbound on a Python number",
    "in place into overlapping memory": "in-place ops on a tensor whose elements overlap in memory",
    "in-place transposes": "`t_()` and `transpose_()`",
}
# Variants (by torch's name) out of scope: their calls are skipped, and counted, with this reason.
OUT_OF_SCOPE_VARIANTS = {"t_": "in-place transposes", "transpose_": "in-place transposes"}


# ---------------------------------------------------------------- the ops covered, and how their numbers compare
@dataclass(frozen=True)
class Numerics:
    """How one op's results may differ from torch's, per output element (u: unit roundoff, γ_n = nu/(1-nu)).

    - "exact": elementwise IEEE + - * / or data movement: to the bit. An input the op broadcast gets the sum of
      its gradient terms T over the broadcast dims (T the same bits in both engines): each engine within
      γ_(n-1)·Σ|T| of the exact sum of T.
    - "power": pow calls a library pow (and its gradient log), accurate to 1 ulp <= 2u relative in torch (Sleef,
      libm) and numpy: the result is within γ_2·|x^e|; a gradient term g·(e·x^(e-1)) within γ_4 (pow and two
      products), g·(x^e·log x) within γ_6 (pow, log, two products); broadcast sums add γ_(n-1) on top.
    - "sum": each output is a sum of n inputs: within γ_(n-1)·Σ|x| (mean: sum then one division, γ_n·Σ|x|/n);
      its gradient is the output's gradient spread (and divided by n): to the bit.
    - "product": each output is a dot product of length k: within γ_k·Σ|a_i·b_i|, and so is each gradient
      (g @ bᵀ, aᵀ @ g) with its own length. Σ|a_i·b_i| is the op itself on |a| and |b| (it is bilinear).
    - "move": data moved, not computed (views, clone, zero_): to the bit, gradients too.
    Integer results are always compared to the bit.
    """

    kind: str  # "exact", "power", "sum", "mean", "product", "move"


EXACT, POWER, SUM, MEAN, PRODUCT, MOVE = (Numerics(k) for k in ("exact", "power", "sum", "mean", "product", "move"))


@dataclass(frozen=True)
class Covered:
    """A torch OpInfo that minigrad covers: its name (and variant_test_name) and how its numbers compare.
    `function` translates an OpInfo whose function variant is a lambda into the engine's spelling."""

    name: str
    numerics: Numerics = EXACT
    variant: str = ""
    function: Callable[[ModuleType], Callable[..., Any]] | None = None
    view: bool = False  # the result shares its input's memory

    @property
    def full_name(self) -> str:
        return f"{self.name}.{self.variant}" if self.variant else self.name


COVERED = [
    Covered("add"),
    Covered("sub"),
    Covered("mul"),
    Covered("div", variant="no_rounding_mode"),
    Covered("div", variant="trunc_rounding"),
    Covered("div", variant="floor_rounding"),
    Covered("neg"),
    Covered("__radd__"),
    Covered("__rsub__"),
    Covered("__rmul__"),
    Covered("__rdiv__", function=lambda mg: mg.Tensor.__rtruediv__),  # torch's name for __rtruediv__
    Covered("pow", POWER),
    Covered("__rpow__", POWER),
    Covered("sum", SUM),
    Covered("mean", MEAN),
    Covered("matmul", PRODUCT),
    Covered("__rmatmul__", PRODUCT),
    Covered("mm", PRODUCT),
    Covered("mv", PRODUCT),
    Covered("dot", PRODUCT),
    Covered("t", MOVE, view=True),
    Covered("transpose", MOVE, view=True),
    Covered("T", MOVE, function=lambda mg: lambda x: x.T, view=True),
    Covered("clone", MOVE),
    Covered("zeros_like", MOVE),
    Covered("ones_like", MOVE),
    Covered("zero_", MOVE, function=lambda mg: lambda x: x.clone().zero_()),
]


def opinfo(covered: Covered) -> OpInfo:
    return next(op for op in op_db if (op.name, op.variant_test_name) == (covered.name, covered.variant))


# ---------------------------------------------------------------- samples
@functools.cache
def samples(covered: Covered, dtype: torch.dtype) -> tuple[tuple[str, Any], ...]:
    """`sample_inputs`, then the `reference_inputs` that are not already among them (for most ops
    reference_inputs starts with sample_inputs), in a fixed order from a fixed seed. Drawn once per process:
    the seeded bugs' sweeps read them again (a check copies a sample's tensors and never changes them)."""
    return tuple(drawn_samples(opinfo(covered), dtype))


def drawn_samples(op: OpInfo, dtype: torch.dtype) -> Iterator[tuple[str, Any]]:
    requires_grad = dtype.is_floating_point and op.supports_autograd
    torch.manual_seed(SEED)
    basic = list(op.sample_inputs("cpu", dtype, requires_grad=requires_grad, set_seed=False))
    yield from (("sample", s) for s in basic)
    if op.reference_inputs_func is None:
        return
    torch.manual_seed(SEED)
    references = op.reference_inputs("cpu", dtype, requires_grad=requires_grad, set_seed=False)
    seen = {fingerprint(s) for s in basic}
    for sample in references:
        if fingerprint(sample) not in seen:
            yield "reference", sample


def fingerprint(sample: Any) -> str:
    def describe(x: Any) -> str:
        if isinstance(x, torch.Tensor):
            return f"T{tuple(x.shape)}{x.stride()}{x.dtype}{x.requires_grad}{x.detach().flatten()[:8].tolist()}"
        if isinstance(x, list | tuple):
            return "(" + ",".join(map(describe, x)) + ")"
        if isinstance(x, dict):
            return describe(tuple(x.items()))
        return repr(x)

    return describe((sample.input, sample.args, sample.kwargs))


def tensors_of(sample: Any) -> list[torch.Tensor]:
    values = [sample.input, *sample.args, *sample.kwargs.values()]
    return [x for x in values if isinstance(x, torch.Tensor)]


def overlaps(x: torch.Tensor) -> bool:
    """Whether two elements of x share one memory location (x from expand, or as_strided)."""
    if x.is_contiguous() or x.numel() < 2:
        return False
    offsets: Any = torch.arange(x.untyped_storage().nbytes() // x.element_size()).as_strided(
        x.shape, x.stride(), x.storage_offset()
    )
    return bool(offsets.unique().numel() < x.numel())


def has_zero_stride(x: torch.Tensor) -> bool:
    return any(stride == 0 and n > 1 for n, stride in zip(x.shape, x.stride(), strict=True))


def skip_reason(covered: Covered, sample: Any) -> str | None:
    """Why a sample is out of scope (a key of SKIP_REASONS), or None when it runs."""
    tensors = tensors_of(sample)
    dtypes = [x.dtype for x in tensors] + [v for v in sample.kwargs.values() if isinstance(v, torch.dtype)]
    if any(d not in DTYPES.values() for d in dtypes):
        return "dtype"
    if "rounding_mode" in sample.kwargs:
        return "rounding_mode"
    if "memory_format" in sample.kwargs:
        return "memory_format"
    if "dtype" in sample.kwargs and covered.name in ("sum", "mean"):
        return "dtype argument"
    if "device" in sample.kwargs:
        return "device argument"
    if covered.numerics is PRODUCT and any(x.ndim > 2 for x in tensors):
        return "matmul beyond 2-D"
    if covered.name.startswith("__") and not isinstance(sample.input, torch.Tensor):
        return "unbound method on a number"
    return None


# ---------------------------------------------------------------- copies that keep the memory layout
def numpy_copy(x: torch.Tensor) -> np.ndarray[Any, Any]:
    """A numpy array with its own memory laid out as x's (same strides, same offset into a copied buffer)."""
    whole = torch.empty(0, dtype=x.dtype).set_(x.detach().untyped_storage())
    buffer = whole.numpy().copy()
    strides = tuple(s * buffer.itemsize for s in x.stride())
    return np.lib.stride_tricks.as_strided(buffer[x.storage_offset() :], tuple(x.shape), strides)


def layout_copy(lib: ModuleType, x: torch.Tensor) -> Any:
    """A fresh leaf of `lib` (torch or the engine) with x's values, dtype, requires_grad and memory layout, at
    version 0. (torch's clone() would make a non-contiguous tensor contiguous.)"""
    out = lib.from_numpy(numpy_copy(x))
    return out.requires_grad_(True) if x.requires_grad else out


@dataclass
class Inputs:
    """One engine's fresh copies of a sample's arguments; `leaves` in the order of the sample's tensors (the
    same torch tensor twice gives the same copy twice)."""

    input: Any
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    leaves: list[Any]


def unchanged(x: Any) -> Any:
    return x


def copies(sample: Any, make: Callable[[torch.Tensor], Any], translate: Callable[[Any], Any]) -> Inputs:
    made: dict[int, Any] = {}

    def convert(x: Any) -> Any:
        if isinstance(x, torch.Tensor):
            if id(x) not in made:
                made[id(x)] = make(x)
            return made[id(x)]
        if isinstance(x, list | tuple):
            return type(x)(convert(y) for y in x)
        return translate(x)

    converted = convert(sample.input), convert(sample.args), {k: convert(v) for k, v in sample.kwargs.items()}
    return Inputs(*converted, leaves=list(made.values()))


# ---------------------------------------------------------------- comparing values
def bits(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return x.view({4: np.uint32, 8: np.uint64}[x.itemsize]) if x.dtype.kind == "f" else x


def value_problem(mine: np.ndarray[Any, Any], theirs: np.ndarray[Any, Any], bound: Any) -> str | None:
    """None when `mine` equals torch's `theirs` to the bit (nan equal to nan), or, with a bound B (per element),
    within B where both are finite and bitwise where either is not. B is the two-engine allowance (2x each's)."""
    if (mine.dtype, mine.shape) != (theirs.dtype, theirs.shape):
        return f"dtype/shape {mine.dtype}{mine.shape} vs torch {theirs.dtype}{theirs.shape}"
    if mine.dtype.kind != "f" or bound is None:
        same = bits(mine) == bits(theirs)
    else:
        finite = np.isfinite(mine) & np.isfinite(theirs)
        with np.errstate(invalid="ignore"):  # inf - inf where either is not finite: compared bitwise below
            error = np.abs(mine.astype(np.float64) - theirs.astype(np.float64))
        same = np.where(finite, error <= np.broadcast_to(bound, mine.shape), bits(mine) == bits(theirs))
    if mine.dtype.kind == "f":
        same |= np.isnan(mine) & np.isnan(theirs)
    if same.all():
        return None
    where = np.argwhere(~same)[:3]
    shown = ", ".join(f"{tuple(i)}: {mine[tuple(i)]!r} vs torch {theirs[tuple(i)]!r}" for i in where)
    limit = "" if bound is None else f" (bound {np.broadcast_to(bound, mine.shape)[tuple(where[0])]:.3g})"
    return f"{(~same).sum()} of {same.size} elements differ{limit}: {shown}"


def gammas(n: Any, dtype: torch.dtype) -> np.ndarray[Any, Any]:
    """γ_n = nu/(1 - nu) for u the unit roundoff of `dtype`, elementwise for an array of n."""
    nu = np.asarray(n, dtype=np.float64) * (float(torch.finfo(dtype).eps) / 2)
    return np.asarray(nu / (1 - nu))


def allowance(dtype: torch.dtype, rho: float, roundings: Any, magnitude: torch.Tensor) -> np.ndarray[Any, Any]:
    """How far two engines may differ on a result that is a sum of terms, each computed with relative error
    <= rho and then added with `roundings` roundings (γ_roundings), whose absolute values add up to
    `magnitude` (computed in float64 by torch). Each engine is within (rho + γ·(1+rho))·Σ|t| of the exact sum;
    the allowance is twice that. Σ|t| is itself computed, from computed terms: dividing by (1 - rho) and by
    1 - γ_roundings(float64) makes it an upper bound on the exact Σ|t|."""
    g = gammas(roundings, dtype)
    each = (rho + g * (1 + rho)) / (1 - rho) / (1 - gammas(roundings, torch.float64))
    return np.asarray(2 * each * magnitude.detach().double().numpy())


# ---------------------------------------------------------------- one call on both engines
@dataclass
class Call:
    """One variant of one sample, on one engine: the arguments, and what came out."""

    inputs: Inputs
    result: Any = None
    error: BaseException | None = None


@dataclass
class Report:
    """What a sweep ran and skipped (counts by kind and by reason), and one line per difference found."""

    samples: Counter[str] = field(default_factory=Counter)  # "sample", "reference", "error", "large (not run)"
    runs: Counter[str] = field(default_factory=Counter)  # calls, by variant
    skips: Counter[str] = field(default_factory=Counter)  # by reason (SKIP_REASONS)
    mismatches: list[str] = field(default_factory=list)


def same_error(mine: BaseException | None, theirs: BaseException | None, engine_name: str) -> str | None:
    """None when both returned, or both raised the same error type with torch's message (as the engine words
    it); otherwise what differs."""
    if mine is None and theirs is None:
        return None
    if theirs is None:
        return f"torch returned; {engine_name} raised {describe_error(mine)}"  # type: ignore[arg-type]
    if mine is None:
        return f"torch raised {describe_error(theirs)}; {engine_name} returned"
    expected = torch_message(str(theirs), engine_name)
    if not isinstance(mine, type(theirs)):
        return f"error type: {describe_error(mine)}; torch {describe_error(theirs)}"
    if str(mine) != expected:
        return f"error message: {str(mine)!r}; torch {expected!r}"
    return None


def describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:300]}"


def torch_message(message: str, engine_name: str) -> str:
    """torch's message as the engine should word it: "torch" read as its name, and without the anomaly-mode
    hint (minigrad has no anomaly mode: a difference the README declares)."""
    message = message.split(" Hint: enable anomaly detection")[0]
    return message.replace("torch", engine_name)


# ---------------------------------------------------------------- the variants of an op
@dataclass(frozen=True)
class Variant:
    kind: str  # "function", "method", "inplace", "operator", "inplace_operator"
    name: str  # torch's name for it
    torch_fn: Callable[..., Any]
    engine_fn: Callable[..., Any]
    in_place: bool = False
    on_tensor: bool = False  # a method: needs a tensor to be called on


def missing(engine_name: str, name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        raise AttributeError(f"{engine_name} has no {name}")

    return call


def method_call(name: str) -> Callable[..., Any]:
    return lambda x, *args, **kwargs: getattr(x, name)(*args, **kwargs)


def variants(mg: ModuleType, covered: Covered, op: OpInfo) -> list[Variant]:
    """The variants torch's OpInfo has, each with the engine's spelling of it."""
    if covered.function is not None:
        engine_function = covered.function(mg)
    else:
        name = op.op.__name__
        is_method = op.op in (getattr(torch.Tensor, name, None), getattr(torch._C.TensorBase, name, None))
        owner = mg.Tensor if is_method else mg
        engine_function = getattr(owner, name, None) or missing(mg.__name__, name)
    found = [Variant("function", op.op.__name__, op.op, engine_function)]
    if op.method_variant is not None and op.method_variant is not op.op:
        name = op.method_variant.__name__
        found.append(Variant("method", name, method_call(name), method_call(name), on_tensor=True))
    if op.inplace_variant is not None:
        name = op.inplace_variant.__name__
        found.append(Variant("inplace", name, method_call(name), method_call(name), in_place=True, on_tensor=True))
    if op.operator_variant is not None:
        found.append(Variant("operator", op.operator_variant.__name__, op.operator_variant, op.operator_variant))
    if op.inplace_operator_variant is not None:
        operator = op.inplace_operator_variant
        found.append(Variant("inplace_operator", operator.__name__, operator, operator, in_place=True, on_tensor=True))
    return found


# ---------------------------------------------------------------- running and comparing
@dataclass
class Run:
    """One variant of one sample on one engine: its inputs (`self` is what an in-place op wrote into: a clone
    of the input when that requires grad, as torch's OpInfo tests do), and the result or the error."""

    inputs: Inputs
    self: Any = None
    result: Any = None
    error: Exception | None = None
    warnings: list[str] = field(default_factory=list)  # torch is silent where numpy warns (x / 0, inf - inf)


def run(variant: Variant, fn: Callable[..., Any], inputs: Inputs) -> Run:
    outcome = Run(inputs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            target = inputs.input
            if variant.in_place and target.requires_grad:
                target = target.clone()
            outcome.self = target
            outcome.result = fn(target, *inputs.args, **inputs.kwargs)
        except Exception as error:
            outcome.error = error
    outcome.warnings = [f"{w.category.__name__}: {w.message}" for w in caught]
    return outcome


class Checker:
    """Runs samples of one OpInfo on torch and on an engine and records every difference in a Report."""

    def __init__(self, mg: ModuleType, covered: Covered, dtype: torch.dtype, report: Report) -> None:
        self.mg, self.covered, self.dtype, self.report = mg, covered, dtype, report
        self.op = opinfo(covered)
        self.name = mg.__name__
        self.variants = variants(mg, covered, self.op)
        self.sample_where = self.where = ""

    # ------------------------------------------------------------ inputs
    def torch_inputs(self, sample: Any) -> Inputs:
        return copies(sample, lambda x: layout_copy(torch, x), unchanged)

    def engine_inputs(self, sample: Any) -> Inputs:
        def translate(x: Any) -> Any:
            return getattr(self.mg, str(x).removeprefix("torch.")) if isinstance(x, torch.dtype) else x

        return copies(sample, lambda x: layout_copy(self.mg, x), translate)

    def at(self, variant: Variant, context: str = "") -> None:
        self.where = f"{self.sample_where} [{variant.kind}{' ' + context if context else ''}]"

    def mismatch(self, what: str) -> None:
        self.report.mismatches.append(f"{self.where}: {what}")

    # ------------------------------------------------------------ one sample
    def check(self, index: int, source: str, sample: Any, probes: bool) -> None:
        self.sample_where = (
            f"{self.covered.full_name} {str(self.dtype).removeprefix('torch.')} {source} #{index} "
            f"{sample.summary()[:300]}"
        )
        self.bounds: Bounds | None = None
        self.rng = np.random.default_rng(index)
        for variant in self.variants:
            if variant.on_tensor and not isinstance(sample.input, torch.Tensor):
                continue  # a method needs a tensor to be called on
            if variant.kind == "operator" and not tensors_of(sample):
                continue  # number + number: Python's own arithmetic
            if variant.name in OUT_OF_SCOPE_VARIANTS:
                self.report.skips[OUT_OF_SCOPE_VARIANTS[variant.name]] += 1
                continue
            target = sample.input
            if variant.in_place and overlaps(target) and not has_zero_stride(target):
                # torch refuses to write into a tensor with a zero stride (compared: minigrad must too); other
                # overlaps it cannot detect cheaply, and its result then depends on its kernel's loop order
                self.report.skips["in place into overlapping memory"] += 1
                continue
            self.at(variant)
            self.report.runs[variant.kind] += 1
            try:
                self.check_variant(variant, sample, probes)
            except Exception as error:
                self.mismatch(f"comparing raised {describe_error(error)}")

    def check_variant(self, variant: Variant, sample: Any, probes: bool) -> None:
        theirs = run(variant, variant.torch_fn, self.torch_inputs(sample))
        mine = run(variant, variant.engine_fn, self.engine_inputs(sample))
        if mine.warnings != theirs.warnings:
            self.mismatch(f"warnings: {mine.warnings[:2]}, torch {theirs.warnings[:2]}")
        problem = same_error(mine.error, theirs.error, self.name)
        if problem:
            self.mismatch(problem)
            return
        if theirs.error is not None:
            self.check_unchanged(mine, theirs)
            return
        if self.bounds is None:
            self.bounds = Bounds(self, sample, theirs.result, self.rng)
        bounds = self.bounds
        if not self.check_result(mine, theirs, bounds):
            return
        if theirs.result.requires_grad:
            self.check_backward(mine, theirs, bounds, twice=variant.kind == "function")
        if probes and variant.kind == "function":
            self.probe_no_grad(variant, sample, bounds)
            self.probe_saved_tensors(variant, sample, bounds)
            if self.covered.view:
                self.probe_view(variant, sample)
            self.probe_aliased_operands(variant, sample)

    def check_result(self, mine: Run, theirs: Run, bounds: Bounds | None, grad: bool = True) -> bool:
        """Compare what a call returned and what it left in its inputs; False if it is too different to go on."""
        out, ref = mine.result, theirs.result
        if not isinstance(out, self.mg.Tensor):
            self.mismatch(f"returned {type(out).__name__}, torch a Tensor")
            return False
        facts = {
            "dtype": (repr(out.dtype), str(ref.dtype)),
            "shape": (tuple(out.shape), tuple(ref.shape)),
            "numel()": (out.numel(), ref.numel()),
            "dim()": (out.dim(), ref.dim()),
            "requires_grad": (out.requires_grad, ref.requires_grad),
            "is_leaf": (out.is_leaf, ref.is_leaf),
            "_version": (out._version, ref._version),
            "is the input (in place)": (out is mine.self, ref is theirs.self),
        }
        if self.covered.view:  # a view's layout is defined: the input's strides, permuted
            array = out.detach().numpy()
            facts["strides"] = (tuple(step // array.itemsize for step in array.strides), ref.stride())
        for i, (leaf_mine, leaf_theirs) in enumerate(zip(mine.inputs.leaves, theirs.inputs.leaves, strict=True)):
            if ref.numel() and leaf_theirs.numel():
                facts[f"shares memory with input {i}"] = (
                    np.may_share_memory(out.detach().numpy(), leaf_mine.detach().numpy()),
                    ref.untyped_storage().data_ptr() == leaf_theirs.untyped_storage().data_ptr(),
                )
        ok = True
        for what, (a, b) in facts.items():
            if a != b:
                self.mismatch(f"{what}: {a!r}, torch {b!r}")
                ok = False
        if not ok:
            return False
        problem = graph_problem(out.grad_fn, ref.grad_fn, mine.inputs.leaves, theirs.inputs.leaves)
        if problem:
            self.mismatch(f"grad_fn graph: {problem}")
        problem = value_problem(out.detach().numpy(), ref.detach().numpy(), bounds.result if bounds else None)
        if problem:
            self.mismatch(f"values: {problem}")
        self.check_unchanged(mine, theirs)
        return True

    def check_unchanged(self, mine: Run, theirs: Run) -> None:
        """The inputs after the call (an error, or an op that does not write into them, leaves them as they
        were; an in-place op changes its self): values and versions as torch's."""
        for i, (a, b) in enumerate(zip(mine.inputs.leaves, theirs.inputs.leaves, strict=True)):
            if b is theirs.result and a is mine.result:
                continue  # an in-place op wrote its result into this input: compared as the result
            if a._version != b._version:
                self.mismatch(f"input {i}'s _version: {a._version}, torch {b._version}")
            problem = value_problem(a.detach().numpy(), b.detach().numpy(), None)
            if problem:
                self.mismatch(f"input {i} afterwards: {problem}")

    def check_backward(self, mine: Run, theirs: Run, bounds: Bounds, twice: bool) -> None:
        """Backward from the result with the drawn gradient; then, for the function variant, again (with the
        graph retained): every leaf's .grad is compared each time (after the second, exactly doubled)."""
        for times in (1, 2) if twice else (1,):
            errors: list[Exception | None] = []
            for outcome, lib in ((theirs, torch), (mine, self.mg)):
                try:
                    outcome.result.backward(lib.from_numpy(bounds.grad_output.copy()), retain_graph=twice)
                    errors.append(None)
                except Exception as error:
                    errors.append(error)
            problem = same_error(errors[1], errors[0], self.name)
            if problem:
                self.mismatch(f"backward: {problem}")
                return
            if errors[0] is not None:
                return
            self.compare_grads(mine.inputs.leaves, theirs.inputs.leaves, bounds, times, "backward")

    def compare_grads(self, mine: list[Any], theirs: list[Any], bounds: Bounds, times: int, what: str) -> None:
        for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            if not b.is_leaf:  # written into in place by an op that required grad: no .grad (torch warns)
                if a.grad is not None:
                    self.mismatch(f"{what} {times}: input {i} has a .grad; torch's is not a leaf")
                continue
            if (a.grad is None) != (b.grad is None):
                self.mismatch(f"{what} {times}: input {i}'s .grad is {a.grad!r:.60}, torch's {b.grad!r:.60}")
                continue
            if b.grad is None:
                continue
            bound = bounds.grads[i]
            problem = value_problem(a.grad.numpy(), b.grad.numpy(), None if bound is None else times * bound)
            if problem:
                self.mismatch(f"{what} {times}: input {i}'s .grad: {problem}")

    # ------------------------------------------------------------ probes
    def fresh(self, sample: Any) -> tuple[Inputs, Inputs]:
        return self.engine_inputs(sample), self.torch_inputs(sample)

    def probe_no_grad(self, variant: Variant, sample: Any, bounds: Bounds) -> None:
        mine_inputs, their_inputs = self.fresh(sample)
        with torch.no_grad():
            theirs = run(variant, variant.torch_fn, their_inputs)
        with self.mg.no_grad():
            mine = run(variant, variant.engine_fn, mine_inputs)
        self.at(variant, "under no_grad")
        problem = same_error(mine.error, theirs.error, self.name)
        if problem:
            self.mismatch(problem)
        elif theirs.error is None:
            self.check_result(mine, theirs, bounds)

    def probe_saved_tensors(self, variant: Variant, sample: Any, bounds: Bounds) -> None:
        """After the forward, each input in turn is modified in place under no_grad (x *= 1: the values stay,
        the version moves on); backward must then raise where the op saved that input, as torch does."""
        for i, leaf in enumerate(self.torch_inputs(sample).leaves):
            if not leaf.requires_grad or overlaps(leaf):  # x *= 1 can't write into overlapping memory
                continue
            self.at(variant, f"with input {i} modified in place after the forward")
            mine_inputs, their_inputs = self.fresh(sample)
            mine, theirs = run(variant, variant.engine_fn, mine_inputs), run(variant, variant.torch_fn, their_inputs)
            if mine.error is not None or theirs.error is not None:
                continue  # already compared
            with torch.no_grad():
                their_inputs.leaves[i].mul_(1)
            with self.mg.no_grad():
                mine_inputs.leaves[i].mul_(1)
            self.check_backward(mine, theirs, bounds, twice=False)

    def probe_view(self, variant: Variant, sample: Any) -> None:
        """A view of a non-leaf, whose base is then modified in place (base *= 2): the view's grad_fn and
        version follow the base, and the gradient through the view includes the multiplication."""
        if not (isinstance(sample.input, torch.Tensor) and sample.input.requires_grad):
            return
        self.at(variant, "with its base modified in place after the view")
        runs = []
        for lib, inputs, fn in (
            (self.mg, self.engine_inputs(sample), variant.engine_fn),
            (torch, self.torch_inputs(sample), variant.torch_fn),
        ):
            outcome = Run(inputs)
            try:
                base = inputs.input.clone()
                outcome.self = base
                outcome.result = fn(base, *inputs.args, **inputs.kwargs)
                base.mul_(2)
            except Exception as error:
                outcome.error = error
            runs.append((lib, outcome))
        (_, mine), (_, theirs) = runs
        problem = same_error(mine.error, theirs.error, self.name)
        if problem:
            self.mismatch(problem)
            return
        if theirs.error is not None:
            return
        exact = Bounds.exact(theirs.result, len(theirs.inputs.leaves), np.random.default_rng(0))
        if self.check_result(mine, theirs, exact):
            self.check_backward(mine, theirs, exact, twice=False)

    def probe_aliased_operands(self, variant: Variant, sample: Any) -> None:
        """A binary op with one tensor on both sides (x * x): both of its gradients reach the same leaf."""
        other = sample.args[0] if sample.args else None
        if not (
            self.covered.numerics is EXACT
            and isinstance(sample.input, torch.Tensor)
            and isinstance(other, torch.Tensor)
            and other.shape == sample.input.shape
            and other.dtype == sample.input.dtype
            and sample.input.requires_grad
        ):
            return
        aliased = SampleInput(sample.input, args=(sample.input, *sample.args[1:]), kwargs=sample.kwargs)
        self.at(variant, "with one tensor as both operands")
        mine, theirs = (
            run(variant, variant.engine_fn, self.engine_inputs(aliased)),
            run(variant, variant.torch_fn, self.torch_inputs(aliased)),
        )
        problem = same_error(mine.error, theirs.error, self.name)
        if problem:
            self.mismatch(problem)
            return
        if theirs.error is None:
            exact = Bounds.exact(theirs.result, 1, np.random.default_rng(1))
            if self.check_result(mine, theirs, exact):
                self.check_backward(mine, theirs, exact, twice=False)


def graph_problem(mine: Any, theirs: Any, my_leaves: list[Any], their_leaves: list[Any]) -> str | None:
    """The two grad_fn graphs walked side by side through next_functions: node names, edges, input numbers,
    and for each AccumulateGrad node, which input leaf it accumulates into."""
    pairs, seen = [(mine, theirs, "grad_fn")], set()
    while pairs:
        a, b, path = pairs.pop()
        if (a is None) != (b is None):
            return f"{path}: {a!r}, torch {b!r}"
        if a is None or (id(a), id(b)) in seen:
            continue
        seen.add((id(a), id(b)))
        if a.name() != b.name():
            return f"{path}: {a.name()}, torch {b.name()}"
        if hasattr(b, "variable"):
            index = next((i for i, leaf in enumerate(their_leaves) if leaf is b.variable), None)
            if not (index is not None and getattr(a, "variable", None) is my_leaves[index]):
                return f"{path}: AccumulateGrad of another tensor than torch's (input {index})"
        if len(a.next_functions) != len(b.next_functions):
            return f"{path}: {len(a.next_functions)} edges, torch {len(b.next_functions)}"
        for i, ((na, ia), (nb, ib)) in enumerate(zip(a.next_functions, b.next_functions, strict=True)):
            if ia != ib:
                return f"{path}.next_functions[{i}]: input_nr {ia}, torch {ib}"
            pairs.append((na, nb, f"{path}.next_functions[{i}]"))
    return None


# ---------------------------------------------------------------- the bounds of one sample
class Bounds:
    """For one sample: the drawn gradient of the output, the allowance for the result (None: to the bit), and one
    allowance per input leaf for its gradient; derived from torch's own function-variant run (see Numerics)."""

    def __init__(self, checker: Checker, sample: Any, result: torch.Tensor, rng: np.random.Generator) -> None:
        self.grad_output = draw_gradient(result, rng)
        leaves = checker.torch_inputs(sample).leaves
        self.grads: list[Any] = [None] * len(leaves)
        self.result: Any = None
        kind, dtype = checker.covered.numerics.kind, result.dtype
        if not dtype.is_floating_point or kind == "move" or (kind == "exact" and not needs_sums(sample, result)):
            return
        grad_output = torch.from_numpy(self.grad_output)
        if kind in ("sum", "mean"):
            self.result = reduction_allowance(checker.op, sample, result, kind)
        elif kind == "product":
            self.result, self.grads = product_allowances(checker.op, sample, result, grad_output)
        else:  # elementwise: exact, or power
            rho_result, rho_terms = (0.0, 0.0) if kind == "exact" else (gammas(2, dtype), gammas(6, dtype))
            if kind == "power":
                self.result = allowance(dtype, float(rho_result), 0, result.abs())
            self.grads = elementwise_grad_allowances(checker.op, sample, result, grad_output, float(rho_terms))

    @classmethod
    def exact(cls, result: torch.Tensor, leaves: int, rng: np.random.Generator) -> Bounds:
        bounds = cls.__new__(cls)
        bounds.grad_output, bounds.result, bounds.grads = draw_gradient(result, rng), None, [None] * leaves
        return bounds


def draw_gradient(result: torch.Tensor, rng: np.random.Generator) -> np.ndarray[Any, Any]:
    """The gradient of the output for backward: uniform in [-2, 2), in the output's dtype (drawn, not ones, so a
    gradient that drops or reuses the wrong element shows)."""
    numpy_dtype = np.dtype(str(result.dtype).removeprefix("torch."))
    if numpy_dtype.kind != "f":
        return np.zeros(tuple(result.shape), numpy_dtype)
    return rng.uniform(-2, 2, tuple(result.shape)).astype(numpy_dtype)


def needs_sums(sample: Any, result: torch.Tensor) -> bool:
    """Whether some input requiring grad was broadcast: its gradient is then a sum over the broadcast dims."""
    return any(x.requires_grad and x.shape != result.shape for x in tensors_of(sample))


def abs64(sample: Any, requires_grad: bool) -> Inputs:
    """The sample's tensors as float64 absolute values (fresh leaves); other arguments (dims) as they are."""

    def make(x: torch.Tensor) -> torch.Tensor:
        return x.detach().abs().double().requires_grad_(requires_grad and x.requires_grad)

    return copies(sample, make, unchanged)


def reduction_allowance(op: OpInfo, sample: Any, result: torch.Tensor, kind: str) -> Any:
    """sum: each output adds n inputs with n-1 roundings; mean: then divides by n, one more rounding. The op on
    |x| in float64 gives Σ|x| (mean: Σ|x|/n)."""
    assert isinstance(sample.input, torch.Tensor)
    n = sample.input.numel() // result.numel() if result.numel() else 0
    inputs = abs64(sample, requires_grad=False)
    magnitude = op.op(inputs.input, *inputs.args, **inputs.kwargs)
    return allowance(result.dtype, 0.0, n - 1 if kind == "sum" else n, magnitude)


def product_allowances(
    op: OpInfo, sample: Any, result: torch.Tensor, grad_output: torch.Tensor
) -> tuple[Any, list[Any]]:
    """Each output element, and each gradient element (g @ bᵀ, aᵀ @ g), is a dot product: within γ_k·Σ|terms|.
    The op is bilinear, so Σ|terms| is the op (and its backward) on |a|, |b| and |g|, and k is the op on ones."""
    inputs = abs64(sample, requires_grad=True)
    magnitude = op.op(inputs.input, *inputs.args, **inputs.kwargs)
    magnitude.backward(grad_output.abs().double())
    ones = copies(sample, lambda x: torch.ones_like(x, dtype=torch.float64).requires_grad_(x.requires_grad), unchanged)
    lengths = op.op(ones.input, *ones.args, **ones.kwargs)
    lengths.backward(torch.ones_like(lengths))
    grads = [
        None if x.grad is None else allowance(result.dtype, 0.0, n.grad.numpy(), x.grad)
        for x, n in zip(inputs.leaves, ones.leaves, strict=True)
    ]
    return allowance(result.dtype, 0.0, lengths.detach().numpy(), magnitude), grads


def expanded_copy(t: torch.Tensor, x: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """A fresh leaf of t, expanded to `shape` (and materialized) if t is x."""
    fresh = t.detach().expand(shape).clone() if t is x else t.detach()
    return fresh.requires_grad_(t.requires_grad)


def elementwise_grad_allowances(
    op: OpInfo, sample: Any, result: torch.Tensor, grad_output: torch.Tensor, rho: float
) -> list[Any]:
    """An input of the output's shape gets one term per element (to the bit when rho is 0); a broadcast input the
    sum of the terms T it would get had it been expanded to the output's shape first, which torch computes here."""
    allowances: list[Any] = []
    for i, x in enumerate(copies(sample, unchanged, unchanged).leaves):
        if not x.requires_grad:
            allowances.append(None)
            continue
        if x.shape == result.shape and rho == 0:
            allowances.append(None)
            continue
        expanded = copies(sample, functools.partial(expanded_copy, x=x, shape=result.shape), unchanged)
        out = op.op(expanded.input, *expanded.args, **expanded.kwargs)
        out.backward(grad_output)
        terms = expanded.leaves[i].grad
        assert terms is not None
        n = terms.numel() // x.numel() if x.numel() else 0
        allowances.append(allowance(result.dtype, rho, max(n - 1, 0), terms.abs().double().sum_to_size(x.shape)))
    return allowances


# ---------------------------------------------------------------- sweeps
def size(sample: Any) -> int:
    return sum(x.numel() for x in tensors_of(sample))


def sweep(
    mg: ModuleType,
    covered: Covered,
    dtype: torch.dtype,
    full: bool,
    probes: bool = True,
    sources: tuple[str, ...] = ("sample", "reference"),
) -> Report:
    """Every sample of one OpInfo in one dtype through every variant; `full` False leaves out the samples of more
    than LARGE elements (counted as "large (not run)"); `sources` picks sample_inputs, reference_inputs or both.
    The probes run on sample_inputs (they test autograd's semantics, which reference_inputs' extra layouts and
    values don't change)."""
    report = Report()
    checker = Checker(mg, covered, dtype, report)
    for index, (source, sample) in enumerate(samples(covered, dtype)):
        if source not in sources:
            continue
        reason = skip_reason(covered, sample)
        if reason is not None:
            report.skips[reason] += 1
        elif not full and size(sample) > LARGE:
            report.samples["large (not run)"] += 1
        else:
            report.samples[source] += 1
            checker.check(index, source, sample, probes)
    return report


def sweep_error_inputs(mg: ModuleType, covered: Covered) -> Report:
    """Each ErrorInput through the function variant: torch raises it (checked, so the regex is torch's own), and
    the engine raises the same type with a message matching torch's regex, "torch" read as the engine's name,
    leaving its inputs as they were."""
    report = Report()
    checker = Checker(mg, covered, torch.float32, report)
    function = checker.variants[0]
    if checker.op.error_inputs_func is None:
        return report
    torch.manual_seed(SEED)
    for index, error_input in enumerate(checker.op.error_inputs("cpu", set_seed=False)):
        sample = error_input.sample_input
        checker.sample_where = f"{covered.full_name} error input #{index} {sample.summary()[:300]}"
        checker.at(function)
        reason = skip_reason(covered, sample)
        if reason is not None:
            report.skips[reason] += 1
            continue
        report.samples["error"] += 1
        theirs = run(function, function.torch_fn, checker.torch_inputs(sample))
        mine = run(function, function.engine_fn, checker.engine_inputs(sample))
        pattern = error_input.error_regex.replace("torch", mg.__name__)
        if not (
            isinstance(theirs.error, error_input.error_type) and re.search(error_input.error_regex, str(theirs.error))
        ):
            checker.mismatch(f"torch itself does not raise {error_input.error_type.__name__}({pattern!r})")
        elif not isinstance(mine.error, error_input.error_type) or not re.search(pattern, str(mine.error)):
            got = "returned" if mine.error is None else f"raised {describe_error(mine.error)}"
            checker.mismatch(f"expected {error_input.error_type.__name__} matching {pattern!r}; {mg.__name__} {got}")
        else:
            checker.check_unchanged(mine, theirs)
    return report


# ---------------------------------------------------------------- counts for the README and the baseline
def main() -> None:
    """`python tests/_opinfo.py [--full] [--write-baseline]`: run the sweep on minigrad and print, per op and dtype,
    the samples run (by kind), the calls (by variant), the skips (by reason) and the mismatches; with
    --write-baseline, write the skip counts to tests/opinfo_skips.json."""
    import json
    import sys
    from pathlib import Path

    import minigrad

    full = "--full" in sys.argv
    counts: dict[str, dict[str, int]] = {}
    totals: Counter[str] = Counter()
    for covered in COVERED:
        op = opinfo(covered)
        reports = {name: sweep(minigrad, covered, dtype, full) for name, dtype in DTYPES.items() if dtype in op.dtypes}
        reports["errors"] = sweep_error_inputs(minigrad, covered)
        for name, report in reports.items():
            if report.skips:
                counts[f"{covered.full_name} {name}"] = dict(sorted(report.skips.items()))
            totals.update(report.samples)
            totals.update({f"calls: {kind}": n for kind, n in report.runs.items()})
            totals.update({f"skipped: {reason}": n for reason, n in report.skips.items()})
            totals["mismatches"] += len(report.mismatches)
            print(
                f"{covered.full_name:22} {name:8} samples {dict(report.samples)} calls {sum(report.runs.values())} "
                f"skipped {dict(report.skips)} mismatches {len(report.mismatches)}"
            )
            for line in report.mismatches[:3]:
                print("    ", line[:400])
    print("total:", dict(sorted(totals.items())))
    if "--write-baseline" in sys.argv:
        Path(__file__).with_name("opinfo_skips.json").write_text(json.dumps(counts, indent=1) + "\n")


if __name__ == "__main__":
    main()
