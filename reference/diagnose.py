"""Diagnosis by op: which op of the notebook's loop is wrong, forward or backward, for which input, by what rule.

The parity harness says *that* a step goes wrong ("step 0, w.grad[1, 1]"); this says *where*. It checks each op
the loop uses, one at a time, on small drawn inputs, and names the rule an op breaks in a learner's words:

    a - b: the gradient reaching b should be −grad; yours is +grad (its sign is flipped)

Order. Each check uses only ops already checked: `sum` first (its gradient is ones, read directly), then `*` by
a number and between tensors. From then on an op f is checked through L = sum(f(...) * g), with g a drawn
constant tensor, so the gradient reaching f's output is exactly g (1·g is exact) and each input's gradient is
compared with its rule applied to g ("grad" in the messages). Then `+`, `-`, `t`, `@`, `/`, `numel`, `-=` under
no_grad(), gradients accumulating over two backward calls, `zero_`, and the bias broadcast of `x @ w.t() + b`.
A check whose prerequisites fail is not run: its op is listed as not checked, never blamed.

Yardstick. Each value is compared with the exact one, computed in rational arithmetic (fractions.Fraction)
from the very float32/float64 inputs the engine held. Neither torch's rounding nor a float64 recomputation's
enters, so the allowance is the engine's own, and the diagnosis runs where torch is absent. The allowances
follow NUMERICS.md, with u the engine's unit roundoff and γ_r = r·u/(1 − r·u):
- a formula of r roundings made of products and quotients only is within γ_r·|exact|, in whatever order its
  factors are taken. r counts the longest usual way to write it, so any correct engine passes, not only one
  that copies torch's formula: a + b, a − b, a·b: 1 (which admits the correctly rounded value, and its
  neighbour only when the exact value lies near their midpoint); x·c with a Python number c: 2 (c is rounded
  to the dtype first); a/b and grad/b: 3, as a·(1/b) with the reciprocal from pow (micrograd's a * b**-1;
  pow is within one unit in the last place: two roundings' worth); −grad·a/b²: 5 (−grad·a·(1/b)²); copies
  (t(), 1·g): 0, bitwise;
- a sum of n terms is within γ_(n−1)·Σ|terms|, a dot product of length n within γ_n·Σ|products|, whatever
  order the engine adds in.
A broken rule is off by far more (a sign, a factor, a shape). Where the wrong value matches a common mistake
(a sign flip, a missing or extra factor, the incoming gradient ignored, a mean for a sum, a transposed or
unreduced shape, a gradient overwritten or not cleared) the message says so; otherwise it gives the element,
the value and the value it should be.
"""

from __future__ import annotations

import argparse
import contextlib
import numbers
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np

from reference.engines import EngineCannotStartError, EngineNotFoundError, load_engine
from reference.values import Array

Stage = Literal["forward", "backward"]

# The ops in the order they are checked (each check uses only ops before it).
OPS = ("tensor", "sum", "*", "+", "-", "t", "@", "/", "numel", "-=", "accumulate", "zero_", "bias broadcast")
# A quotient may be computed through a reciprocal, a / b = a·(1/b) (micrograd's a * b**-1), and that reciprocal
# through pow, which is faithful (within one unit in the last place) rather than correctly rounded: two roundings'
# worth of error. So a/b is allowed 1 + 2 roundings, grad/b as much, and −grad·a/b² 3 + 2.
RECIPROCAL = 2
SUSPECT_ROUNDINGS = 8  # a wrong formula is recognised within its expected value's allowance plus γ_8·|itself|


@dataclass(frozen=True)
class Failure:
    """One broken rule: `op` (one of OPS), the `expression` checked, `stage` (forward, or backward: the gradient
    reaching `input`), the `rule` in words and what was `seen`; `mistake` names a recognised common mistake."""

    op: str
    expression: str
    stage: Stage
    input: str | None  # backward: the input whose gradient is wrong; forward: None
    rule: str
    seen: str
    mistake: str | None = None  # "sign flipped", "off by a factor", "averaged", "transposed", ...; None: unrecognised

    def message(self) -> str:
        return f"{self.expression}: {self.rule}; {self.seen}"


@dataclass(frozen=True)
class Diagnosis:
    """Each op's verdict: the ops all of whose checks pass, the rules broken (at most one per op, stage and
    input: the first found), and the checks not run because an op they use fails."""

    dtype: str
    passed_ops: tuple[str, ...]
    failures: tuple[Failure, ...]
    not_checked: tuple[tuple[str, tuple[str, ...]], ...]  # (check, the failing ops it uses)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def failed_ops(self) -> tuple[str, ...]:
        return tuple(op for op in OPS if any(failure.op == op for failure in self.failures))

    def report(self) -> str:
        """A few lines: which ops fail, the rule each breaks, the ops that pass and those not checked."""
        title = f"diagnosis by op ({self.dtype}, small drawn inputs against exact arithmetic)"
        if self.passed:
            return f"{title}: all {len(self.passed_ops)} ops pass ({', '.join(self.passed_ops)})"
        lines = [f"{title}: {', '.join(self.failed_ops)} FAIL{'S' if len(self.failed_ops) == 1 else ''}"]
        for failure in self.failures:
            where = failure.stage if failure.input is None else f"{failure.stage}, {failure.input}"
            lines.append(f"  {failure.op} ({where}): {failure.message()}")
        if self.passed_ops:
            lines.append(f"  pass: {', '.join(self.passed_ops)}")
        if self.not_checked:
            needs = "; ".join(f"{name} (uses {', '.join(failing)})" for name, failing in self.not_checked)
            lines.append(f"  not checked: {needs}")
        return "\n".join(lines)


# ---------------------------------------------------------------- exact values and allowances
def exact(values: Any) -> Array:
    """An object array of Fractions equal to `values` (float32/float64 values and Python numbers are exact)."""
    array = np.asarray(values, dtype=np.float64)
    return np.array([Fraction(float(v)) for v in array.flat] or [], dtype=object).reshape(array.shape)


def gamma(r: int, u: Fraction) -> Fraction:
    return r * u / (1 - r * u)


class Suspect(NamedTuple):
    """A wrong value a common mistake gives, how to say so, and the mistake's name; `slack`: how far from
    `value` an engine making that mistake may land beyond the expected value's allowance (default γ_8·|value|)."""

    value: Array
    seen: str
    mistake: str
    slack: Array | None = None


@dataclass
class Where:
    """What is checked: the op, the expression, the stage, and for backward the input whose gradient it is."""

    op: str
    expression: str
    stage: Stage = "forward"
    input: str | None = None
    result: str = "the result"  # what a forward's value is called in messages

    def backward(self, input: str, expression: str | None = None) -> Where:
        return Where(self.op, expression or self.expression, "backward", input)

    def subject(self) -> str:
        return self.result if self.input is None else f"the gradient reaching {self.input}"


class CheckStoppedError(Exception):
    """A check cannot go on (the engine raised, or gave something that is not a tensor); its failure is recorded."""


@dataclass
class Bench:
    """What a check works with: the engine, the dtype, a seeded generator, and the failures found so far."""

    engine: Any
    dtype: str
    rng: np.random.Generator
    failures: list[Failure] = field(default_factory=list)

    @property
    def u(self) -> Fraction:
        return Fraction(1, 2**24) if self.dtype == "float32" else Fraction(1, 2**53)

    def gamma(self, r: int) -> Fraction:
        return gamma(r, self.u)

    def within(self, r: int, value: Array) -> Array:
        """The allowance of a formula of r roundings of products and quotients: γ_r·|value|."""
        return np.asarray(self.gamma(r) * np.abs(value), dtype=object)

    # ------------------------------------------------------------ inputs
    def normal(self, *shape: int) -> Array:
        return self.rng.standard_normal(shape).astype(self.dtype)

    def away_from_zero(self, *shape: int) -> Array:
        """Values of magnitude 0.5 to 2 and either sign: safe divisors."""
        return (self.rng.choice([-1.0, 1.0], shape) * self.rng.uniform(0.5, 2.0, shape)).astype(self.dtype)

    def number(self) -> float:
        """A Python float that float32 can't hold exactly, like the notebook's learning rate."""
        return float(self.rng.uniform(0.1, 0.9))

    def tensor(self, values: Array, requires_grad: bool = False) -> Any:
        return self.engine.tensor(values, dtype=getattr(self.engine, self.dtype), requires_grad=requires_grad)

    # ------------------------------------------------------------ running the engine
    def run(self, where: Where, what: Callable[[], Any]) -> Any:
        """`what()`; if the engine raises, the failure is recorded and the check stops."""
        try:
            return what()
        except CheckStoppedError:
            raise
        except Exception as error:
            self.fail(where, f"{where.expression} should run", raised(error), "raised")
            raise CheckStoppedError from error

    def backward(self, where: Where, output: Any, upstream: Array | None) -> None:
        """sum(output * g).backward() with g the constant tensor `upstream` (checked ops only), so that the
        gradient reaching `output` is exactly g; with no upstream, sum(output).backward() (grad 1)."""

        def run_backward() -> None:
            scaled = output if upstream is None else output * self.tensor(upstream)
            self.engine.sum(scaled).backward()

        self.run(Where(where.op, where.expression, "backward"), run_backward)

    def read(self, where: Where, tensor: Any, rule: str | None = None) -> Array:
        """The values of one of the engine's tensors; a failure (and the end of the check) for anything else."""
        if tensor is None:
            seen = "yours is None" if where.input is None else f"yours never arrived ({where.input}.grad is None)"
            self.stop(where, rule or f"{where.subject()} should be one of your engine's tensors", seen, "missing")
        if not hasattr(tensor, "detach"):
            kind = f"{type(tensor).__module__}.{type(tensor).__name__}".removeprefix("builtins.")
            self.stop(where, f"{where.subject()} should be one of your engine's tensors", f"yours is {kind}", "type")
        return np.asarray(self.run(where, lambda: tensor.detach().numpy()))

    # ------------------------------------------------------------ comparing
    def fail(self, where: Where, rule: str, seen: str, mistake: str | None) -> None:
        if not any((f.op, f.stage, f.input) == (where.op, where.stage, where.input) for f in self.failures):
            self.failures.append(Failure(where.op, where.expression, where.stage, where.input, rule, seen, mistake))

    def stop(self, where: Where, rule: str, seen: str, mistake: str | None) -> None:
        self.fail(where, rule, seen, mistake)
        raise CheckStoppedError

    def expect(
        self,
        where: Where,
        tensor: Any,
        formula: str,
        expected: Array,
        allowance: Array,
        suspects: Sequence[Suspect] = (),
        shapes: Mapping[tuple[int, ...], str] | None = None,
        factors: Mapping[str, Array] | None = None,
        upstream: Array | None = None,
    ) -> bool:
        """Whether `tensor` holds `expected` (exact) within `allowance`; if not, the failure is recorded, named
        after the first of `suspects`, then of the common mistakes, that the wrong value matches. `shapes` names
        wrong shapes; `factors` ({name: values}) the operands a wrong gradient may be off by; `upstream` the
        gradient reaching the output (a value that ignores it is recognised)."""
        rule = f"{where.subject()} should be {formula}"
        got = self.read(where, tensor, rule)
        expected = np.asarray(expected, dtype=object)
        if where.stage == "forward" and got.dtype != np.dtype(self.dtype):
            self.fail(where, f"{where.subject()} should stay {self.dtype}", f"yours is {got.dtype}", "dtype")
            return False
        if got.shape != expected.shape:
            self.fail(where, *wrong_shape(where, got.shape, expected.shape, shapes or {}))
            return False
        if not np.isfinite(got).all():
            index = first_index(~np.isfinite(got))
            seen = f"yours has {got[index]} at {index_text(index)} (it should be {float(expected[index]):.9g})"
            self.fail(where, rule, seen, "not finite")
            return False
        got_exact = exact(got)
        error = np.asarray(np.abs(got_exact - expected), dtype=object)  # 0-d: an array, not a Fraction
        allowance = np.asarray(allowance, dtype=object)
        over = np.asarray(error > allowance, dtype=bool)
        if not over.any():
            return True
        for suspect in (*suspects, *common_mistakes(formula, expected, factors or {}, upstream, where.stage)):
            value = np.broadcast_to(np.asarray(suspect.value, dtype=object), expected.shape)
            slack = self.within(SUSPECT_ROUNDINGS, value) if suspect.slack is None else suspect.slack
            near = np.abs(got_exact - value) <= allowance + slack
            if np.asarray(near, dtype=bool).all():
                self.fail(where, rule, suspect.seen, suspect.mistake)
                return False
        index = first_index(over * np.asarray(error, dtype=np.float64))
        digits = 9 if self.dtype == "float32" else 17  # enough to tell any two values of the dtype apart
        ulps = float(error[index]) / float(np.spacing(np.abs(np.asarray(expected[index], dtype=self.dtype))))
        in_ulps = f", {ulps:.3g} units in the last place" if ulps < 1000 else ""  # a near miss: say how near
        self.fail(
            where,
            rule,
            f"at {index_text(index)} yours is {float(got[index]):.{digits}g}, it should be "
            f"{float(expected[index]):.{digits}g} (|error| {float(error[index]):.3g}{in_ulps} > allowed "
            f"{float(allowance[index]):.3g})",
            None,
        )
        return False


def raised(error: BaseException) -> str:
    """One line: the exception and where the engine raised it (its innermost frame outside this file)."""
    lines = str(error).strip().splitlines()
    message = f"{type(error).__name__}: {lines[0][:200]}" if lines else type(error).__name__
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename != __file__]
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno}, in {frames[-1].name})" if frames else ""
    return f"yours raised {message}{where}"


def wrong_shape(
    where: Where, got: tuple[int, ...], expected: tuple[int, ...], shapes: Mapping[tuple[int, ...], str]
) -> tuple[str, str, str]:
    """(rule, seen, mistake) for a result of the wrong shape."""
    if where.input is None:
        rule = f"the result should have shape {expected}"
    else:
        rule = f"the gradient of {where.input} should have {where.input}'s shape {expected}"
    if got in shapes:
        return rule, f"yours has shape {got}: {shapes[got]}", "shape"
    if len(got) == 2 and got == expected[::-1]:
        return rule, f"yours has shape {got}, the transposed shape", "transposed"
    return rule, f"yours has shape {got}", "shape"


def first_index(mask: Array) -> tuple[int, ...]:
    """The index of the largest element of `mask` (for a boolean mask, the first True)."""
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))


def index_text(index: tuple[int, ...]) -> str:
    return f"[{', '.join(map(str, index))}]" if index else "the (only) element"


def negated(formula: str) -> str:
    """−formula, as a learner would write it (a note in parentheses after the formula is dropped)."""
    formula = formula.split(" (")[0]
    if formula.startswith("−"):
        return "+" + formula[1:]
    return f"−({formula})" if " " in formula else f"−{formula}"


def common_mistakes(
    formula: str, expected: Array, factors: Mapping[str, Array], upstream: Array | None, stage: Stage
) -> Iterator[Suspect]:
    """The wrong values common mistakes give, for a value that should be `expected` (= `formula`)."""
    yield Suspect(-expected, f"yours is {negated(formula)} (its sign is flipped)", "sign flipped")
    if stage == "backward" and upstream is not None and np.all(upstream != 0):
        ignoring = expected / np.asarray(upstream, dtype=object)
        yield Suspect(ignoring, "yours ignores the incoming gradient (the factor grad is missing)", "ignores grad")
    yield Suspect(np.zeros_like(expected), "yours is 0", "zero")
    for name, values in factors.items():
        values = np.asarray(values, dtype=object)
        if np.all(values != 0) and np.any(np.abs(values) != 1):
            seen = f"yours is off by a factor of {name}"
            yield Suspect(expected * values, f"{seen} (it is {name} times the right value)", "off by a factor")
            yield Suspect(expected / values, f"{seen} (it is the right value divided by {name})", "off by a factor")
    yield Suspect(2 * expected, "yours is twice the right value", "off by a factor")
    yield Suspect(expected / 2, "yours is half the right value", "off by a factor")


def other_ops(a: Any, b: Any, names: tuple[str, str], this: str) -> list[Suspect]:
    """The results of the other arithmetic ops on the same (exact) operands: a forward that computes the wrong
    one. `this` is the op's own formula, left out."""
    x, y = names
    values = {f"{x} + {y}": a + b, f"{x} − {y}": a - b, f"{y} − {x}": b - a, f"{x}·{y}": a * b}
    if np.all(b != 0):
        values[f"{x}/{y}"] = a / b
    if np.all(a != 0):
        values[f"{y}/{x}"] = b / a
    return [Suspect(value, f"yours is {text}", "wrong op") for text, value in values.items() if text != this]


# ---------------------------------------------------------------- the checks, in dependency order
@dataclass(frozen=True)
class OpCheck:
    name: str
    op: str
    needs: tuple[str, ...]  # names of the checks it relies on
    run: Callable[[Bench], None]


CHECKS: list[OpCheck] = []


def check(name: str, op: str, needs: tuple[str, ...] = ()) -> Callable[[Callable[[Bench], None]], None]:
    def register(run: Callable[[Bench], None]) -> None:
        assert all(need in {c.name for c in CHECKS} for need in needs), f"{name} needs a check not yet defined"
        CHECKS.append(OpCheck(name, op, needs, run))

    return register


def leaf(bench: Bench, values: Array) -> Any:
    return bench.tensor(values, requires_grad=True)


@check("tensor", "tensor")
def tensor_round_trip(bench: Bench) -> None:
    where = Where("tensor", "tensor(v, requires_grad=True)", result="its values (detach().numpy())")
    v = bench.normal(3, 2)
    t = bench.run(where, lambda: leaf(bench, v))
    bench.expect(where, t, "v, unchanged", exact(v), np.zeros(v.shape, dtype=object))


@check("sum", "sum", needs=("tensor",))
def sum_of_all(bench: Bench) -> None:
    where = Where("sum", "sum(x)")
    xv = bench.normal(4, 2)
    x_, count = exact(xv), xv.size
    x = leaf(bench, xv)
    total = bench.run(where, lambda: bench.engine.sum(x))
    bench.expect(
        where,
        total,
        "Σx, the sum of all 8 elements",
        x_.sum(),
        bench.gamma(count - 1) * np.abs(x_).sum(),
        [Suspect(x_.sum() / count, f"yours is the mean (Σx/{count}), not the sum", "averaged")],
        shapes={
            (2,): "summed over rows only; sum(x) adds every element into a 0-d tensor",
            (4,): "summed over columns only; sum(x) adds every element into a 0-d tensor",
        },
    )
    bench.run(where.backward("x"), lambda: total.backward())
    ones = np.ones(xv.shape, dtype=object)
    bench.expect(
        where.backward("x"),
        x.grad,
        "1 at every element (a sum passes its gradient to each term)",
        ones,
        np.zeros(xv.shape, dtype=object),
        [
            Suspect(ones / count, f"yours is 1/{count}, the mean's gradient, not the sum's", "averaged"),
            Suspect(ones * count, f"yours is {count}, the number of elements, not 1", "off by a factor"),
        ],
        shapes={(): "spread the gradient back to every element of x"},
    )


@check("* number", "*", needs=("sum",))
def times_number(bench: Bench) -> None:
    where = Where("*", "x * c (c a Python number)")
    xv, c = bench.normal(3, 2), bench.number()
    x_, c_ = exact(xv), Fraction(c)
    x = leaf(bench, xv)
    product = bench.run(where, lambda: x * c)
    bench.expect(where, product, "x·c", x_ * c_, bench.within(2, x_ * c_), other_ops(x_, c_, ("x", "c"), "x·c"))
    bench.backward(where, product, None)
    ones = np.ones(xv.shape, dtype=object)
    bench.expect(
        where.backward("x"),
        x.grad,
        "grad·c (grad is 1 here)",
        ones * c_,
        bench.within(1, ones * c_),
        [Suspect(ones, "yours is grad: the factor c is missing", "off by a factor")],
    )
    # a gradient other than 1 arriving: (x * c) * c2 sends grad = c2 back to x * c
    where = Where("*", "(x * c) * c2")
    c2 = bench.number()
    x = leaf(bench, xv)
    bench.backward(where, bench.run(where, lambda: (x * c) * c2), None)
    grad = ones * Fraction(c2)
    bench.expect(
        where.backward("x"),
        x.grad,
        "grad·c (grad is c2 here)",
        grad * c_,
        bench.within(3, grad * c_),
        [Suspect(grad, "yours is grad: the factor c is missing", "off by a factor")],
        upstream=grad,
    )


@check("sum with a gradient arriving", "sum", needs=("* number",))
def sum_passes_its_gradient(bench: Bench) -> None:
    where = Where("sum", "sum(x) * c")
    xv, c = bench.normal(3, 2), bench.number()
    x = leaf(bench, xv)
    bench.backward(where, bench.run(where, lambda: bench.engine.sum(x) * c), None)
    grad = np.full(xv.shape, Fraction(c), dtype=object)
    bench.expect(
        where.backward("x"), x.grad, "grad (c here) at every element", grad, bench.within(1, grad), upstream=grad
    )


@check("*", "*", needs=("sum",))
def times_tensor(bench: Bench) -> None:
    where = Where("*", "a * b")
    av, bv, gv = bench.normal(3, 2), bench.normal(3, 2), bench.normal(3, 2)
    a_, b_, g_ = exact(av), exact(bv), exact(gv)
    a, b = leaf(bench, av), leaf(bench, bv)
    product = bench.run(where, lambda: a * b)
    bench.expect(where, product, "a·b", a_ * b_, bench.within(1, a_ * b_), other_ops(a_, b_, ("a", "b"), "a·b"))
    bench.backward(where, product, None)  # grad 1: a.grad = b, b.grad = a
    for name, tensor, other in (("a", a, b_), ("b", b, a_)):
        factors = {"a": a_, "b": b_}
        bench.expect(
            where.backward(name),
            tensor.grad,
            f"grad·{'b' if name == 'a' else 'a'} (grad is 1 here)",
            other,
            bench.within(1, other),
            factors=factors,
        )
    # a gradient g arriving: sum((a * b) * g) sends g to a * b (checked just above, with grad 1)
    a, b = leaf(bench, av), leaf(bench, bv)
    bench.backward(where, bench.run(where, lambda: a * b), gv)
    for name, tensor, other in (("a", a, b_), ("b", b, a_)):
        bench.expect(
            where.backward(name),
            tensor.grad,
            f"grad·{'b' if name == 'a' else 'a'}",
            g_ * other,
            bench.within(1, g_ * other),
            factors={"a": a_, "b": b_},
            upstream=g_,
        )
    # a tensor used twice: both factors are a, so both contributions reach it
    where = Where("*", "a * a")
    a = leaf(bench, av)
    bench.backward(where, bench.run(where, lambda: a * a), gv)
    twice = 2 * g_ * a_
    bench.expect(
        where.backward("a"),
        a.grad,
        "2·grad·a (a is both factors: each sends grad·a)",
        twice,
        bench.within(1, twice),
        [Suspect(g_ * a_, "yours is grad·a: only one of the two factors was counted", "one side")],
        upstream=g_,
    )
    # the loop's d * d: a result of another op used twice (its two contributions must meet before going on)
    where = Where("*", "d * d, d = a * c")
    c = bench.number()
    a = leaf(bench, av)

    def square() -> Any:
        d = a * c
        return d * d

    bench.backward(where, bench.run(where, square), gv)
    twice = 2 * g_ * a_ * Fraction(c) ** 2
    bench.expect(
        where.backward("a"),
        a.grad,
        "2·grad·d·c",
        twice,
        bench.within(4, twice),
        [Suspect(twice / 2, "yours is grad·d·c: only one of d's two uses was counted", "one side")],
        upstream=g_,
    )


def elementwise(
    bench: Bench,
    op: str,
    formula: str,
    compute: Callable[[Any, Any], Any],
    gradients: Callable[[Array, Array, Array], tuple[tuple[str, Array, int, list[Suspect]], ...]],
    b_values: Array | None = None,
    roundings: int = 1,
) -> None:
    """Check `a op b` for two tensors of one shape: the forward (of `roundings` roundings), and each input's
    gradient (`gradients(a, b, g)`: per input, the rule's formula, exact value, roundings, typical mistakes)."""
    where = Where(op, f"a {op} b")
    av, gv = bench.normal(3, 2), bench.normal(3, 2)
    bv = bench.normal(3, 2) if b_values is None else b_values
    a_, b_, g_ = exact(av), exact(bv), exact(gv)
    a, b = leaf(bench, av), leaf(bench, bv)
    result = bench.run(where, lambda: compute(a, b))
    value = compute(a_, b_)
    allowance = bench.within(roundings, value)
    bench.expect(where, result, formula, value, allowance, other_ops(a_, b_, ("a", "b"), formula))
    bench.backward(where, result, gv)
    for (name, tensor), (rule, expected, roundings, suspects) in zip(
        (("a", a), ("b", b)), gradients(a_, b_, g_), strict=True
    ):
        bench.expect(
            where.backward(name),
            tensor.grad,
            rule,
            expected,
            bench.within(roundings, expected),
            suspects,
            factors={"a": a_, "b": b_},
            upstream=g_,
        )


@check("+", "+", needs=("*",))
def plus(bench: Bench) -> None:
    elementwise(bench, "+", "a + b", lambda a, b: a + b, lambda a, b, g: (("grad", g, 0, []), ("grad", g, 0, [])))


@check("-", "-", needs=("*",))
def minus(bench: Bench) -> None:
    elementwise(bench, "-", "a − b", lambda a, b: a - b, lambda a, b, g: (("grad", g, 0, []), ("−grad", -g, 0, [])))


@check("t", "t", needs=("*",))
def transpose(bench: Bench) -> None:
    where = Where("t", "w.t()")
    wv, gv = bench.normal(2, 3), bench.normal(3, 2)
    w_, g_ = exact(wv), exact(gv)
    w = leaf(bench, wv)
    transposed = bench.run(where, lambda: w.t())
    bench.expect(
        where,
        transposed,
        "w's rows as columns",
        w_.T,
        np.zeros((3, 2), dtype=object),
        [Suspect(w_.reshape(3, 2), "yours is w reshaped to (3, 2), not transposed", "reshaped")],
        shapes={(2, 3): "not transposed"},
    )
    bench.backward(where, transposed, gv)
    bench.expect(
        where.backward("w"),
        w.grad,
        "grad transposed back to w's shape",
        g_.T,
        np.zeros((2, 3), dtype=object),
        [Suspect(g_.reshape(2, 3), "yours is grad reshaped to (2, 3), not transposed back", "reshaped")],
        shapes={(3, 2): "grad not transposed back"},
        upstream=g_.T,
    )


@check("@", "@", needs=("*", "t"))
def matmul(bench: Bench) -> None:
    where = Where("@", "a @ b")
    av, bv, gv = bench.normal(4, 3), bench.normal(3, 2), bench.normal(4, 2)
    a_, b_, g_ = exact(av), exact(bv), exact(gv)
    a, b = leaf(bench, av), leaf(bench, bv)
    product = bench.run(where, lambda: a @ b)
    bench.expect(where, product, "a @ b", a_ @ b_, bench.gamma(3) * (np.abs(a_) @ np.abs(b_)))
    bench.backward(where, product, gv)
    bench.expect(where.backward("a"), a.grad, "grad @ bᵀ", g_ @ b_.T, bench.gamma(2) * (np.abs(g_) @ np.abs(b_.T)))
    bench.expect(where.backward("b"), b.grad, "aᵀ @ grad", a_.T @ g_, bench.gamma(4) * (np.abs(a_.T) @ np.abs(g_)))
    # the loop's form: x @ w.t(), x a constant
    where = Where("@", "x @ w.t()")
    wv = bench.normal(2, 3)
    w_ = exact(wv)
    x, w = bench.tensor(av), leaf(bench, wv)
    product = bench.run(where, lambda: x @ w.t())
    bench.expect(where, product, "x @ wᵀ", a_ @ w_.T, bench.gamma(3) * (np.abs(a_) @ np.abs(w_.T)))
    bench.backward(where, product, gv)
    bench.expect(where.backward("w"), w.grad, "gradᵀ @ x", g_.T @ a_, bench.gamma(4) * (np.abs(g_.T) @ np.abs(a_)))


@check("/", "/", needs=("*", "sum with a gradient arriving"))
def divide(bench: Bench) -> None:
    # the loop's form: a 0-d tensor (a sum) divided by a Python int
    where = Where("/", "s / n (s = sum(x), n = 10)")
    xv, n = bench.normal(1, 1), 10
    x_ = exact(xv)
    x = leaf(bench, xv)
    quotient = bench.run(where, lambda: bench.engine.sum(x) / n)
    value = x_.sum() / n
    allowance = bench.within(1 + RECIPROCAL, value)
    bench.expect(where, quotient, "s/n", value, allowance, other_ops(x_.sum(), Fraction(n), ("s", "n"), "s/n"))
    bench.run(where.backward("x"), lambda: quotient.backward())
    grad = np.full((1, 1), Fraction(1, n), dtype=object)
    bench.expect(
        where.backward("x"),
        x.grad,
        "grad/n (grad is 1 here)",
        grad,
        bench.within(1 + RECIPROCAL, grad),
        [Suspect(grad * n, "yours is grad: the division by n is missing", "off by a factor")],
        factors={"n": np.array(Fraction(n), dtype=object)},
    )
    elementwise(
        bench,
        "/",
        "a/b",
        lambda a, b: a / b,
        lambda a, b, g: (
            (
                "grad/b",
                g / b,
                1 + RECIPROCAL,
                [Suspect(g, "yours is grad: the division by b is missing", "off by a factor")],
            ),
            ("−grad·a/b²", -g * a / (b * b), 3 + RECIPROCAL, []),  # −grad·a·(1/b)², or −(grad·a)·b⁻² with pow
        ),
        b_values=bench.away_from_zero(3, 2),
        roundings=1 + RECIPROCAL,  # a·(1/b)
    )


@check("numel", "numel", needs=("tensor",))
def numel(bench: Bench) -> None:
    where = Where("numel", "x.numel(), x of shape (4, 2)")
    x = bench.tensor(bench.normal(4, 2))
    count = bench.run(where, lambda: x.numel())
    rule = "x.numel() should be 8, the number of elements (a Python int)"
    if isinstance(count, bool) or not isinstance(count, numbers.Integral):
        bench.fail(where, rule, f"yours returns {type(count).__name__} {count!r}", "type")
    elif count != 8:
        meaning = {4: ", the number of rows", 2: ", the number of columns (or of dimensions)"}.get(int(count), "")
        bench.fail(where, rule, f"yours is {count}{meaning}", None)


@check("-=", "-=", needs=("*", "-"))  # after -, which engines often compute -= with
def subtract_in_place(bench: Bench) -> None:
    where = Where("-=", "w -= v under no_grad()", result="w after w -= v")
    wv, vv, gv = bench.normal(2, 3), bench.normal(2, 3), bench.normal(2, 3)
    w_, v_, g_ = exact(wv), exact(vv), exact(gv)
    w, v = leaf(bench, wv), bench.tensor(vv)
    scaled = bench.run(where, lambda: under_no_grad(bench.engine, lambda: w * 0.5))
    if getattr(scaled, "requires_grad", False) is not False:
        bench.fail(
            where,
            "w * 0.5 under no_grad() should not require grad",
            "yours does (no_grad() still records the graph)",
            "no_grad records",
        )
    before = w

    def update() -> Any:
        nonlocal w
        with bench.engine.no_grad():
            w -= v
        return w

    bench.run(where, update)
    if w is not before:
        bench.stop(
            where,
            "w -= v should update w in place (the same object)",
            "yours made a new tensor (without __isub__, Python runs w = w - v)",
            "new object",
        )
    difference = w_ - v_
    if getattr(w, "requires_grad", None) is not True:
        bench.fail(where, "w should still require grad after w -= v under no_grad()", "yours doesn't", "lost grad")
    got = exact(bench.read(where, w))
    largest = int(np.argmax(np.abs(vv)))  # where the scale of what was subtracted is measured best
    scale = Fraction(float((w_.flat[largest] - got.flat[largest]) / v_.flat[largest])).limit_denominator(10**6)
    bench.expect(
        where,
        w,
        "w − v",
        difference,
        bench.within(1, difference),
        [
            Suspect(w_, "yours left w unchanged", "unchanged"),
            Suspect(w_ + v_, "yours is w + v", "wrong op"),
            Suspect(
                w_ - scale * v_,
                f"yours subtracts {float(scale):.6g}·v, not v",
                "off by a factor",
                bench.within(SUSPECT_ROUNDINGS, np.abs(w_) + np.abs(scale * v_)),
            ),
        ],
    )
    # the leaf still works: a backward after the update reaches it
    after = Where("-=", "sum(w * g) after w -= v")
    bench.backward(after, w, gv)
    bench.expect(after.backward("w"), w.grad, "grad", g_, bench.within(0, g_))


def under_no_grad(engine: Any, what: Callable[[], Any]) -> Any:
    with engine.no_grad():
        return what()


@check("accumulate", "accumulate", needs=("*",))
def gradients_accumulate(bench: Bench) -> None:
    where = Where("accumulate", "two backward() calls: sum(w * g1), then sum(w * g2)")
    wv, g1v, g2v = bench.normal(2, 3), bench.normal(2, 3), bench.normal(2, 3)
    g1, g2 = exact(g1v), exact(g2v)
    w = leaf(bench, wv)
    bench.backward(where, w, g1v)
    bench.backward(where, w, g2v)
    total = g1 + g2
    bench.expect(
        where.backward("w"),
        w.grad,
        "g1 + g2 (each backward adds to .grad)",
        total,
        bench.within(1, total),
        [
            Suspect(g2, "yours is g2 alone: overwritten instead of accumulated", "overwritten"),
            Suspect(g1, "yours is g1 alone: the second backward did not reach w", "not accumulated"),
        ],
    )


@check("zero_", "zero_", needs=("*",))
def zero_clears(bench: Bench) -> None:
    where = Where("zero_", "w.grad.zero_() under no_grad()", result="w.grad after zero_()")
    wv, g1v, g2v = bench.normal(2, 3), bench.normal(2, 3), bench.normal(2, 3)
    g1, g2 = exact(g1v), exact(g2v)
    w = leaf(bench, wv)
    bench.backward(where, w, g1v)
    grad = w.grad
    bench.read(where.backward("w"), grad)
    bench.run(where, lambda: under_no_grad(bench.engine, grad.zero_))
    zeros = np.zeros((2, 3), dtype=object)
    unchanged = "yours left it unchanged (zero_ must change the tensor itself, in place)"
    if not bench.expect(where, w.grad, "0 at every element", zeros, zeros, [Suspect(g1, unchanged, "not cleared")]):
        return
    after = Where("zero_", "sum(w * g2) after w.grad.zero_()")
    bench.backward(after, w, g2v)
    bench.expect(
        after.backward("w"),
        w.grad,
        "g2 (the next backward starts from 0)",
        g2,
        bench.within(1, g2),
        [Suspect(g1 + g2, "yours is g1 + g2: the old gradient came back", "not cleared")],
    )


@check("bias broadcast", "bias broadcast", needs=("+", "@", "t"))
def bias_broadcast(bench: Bench) -> None:
    where = Where("bias broadcast", "z + b, z of shape (4, 2), b of shape (2,)")
    zv, bv, gv = bench.normal(4, 2), bench.normal(2), bench.normal(4, 2)
    z_, b_, g_ = exact(zv), exact(bv), exact(gv)
    z, b = leaf(bench, zv), leaf(bench, bv)
    result = bench.run(where, lambda: z + b)
    bench.expect(where, result, "z + b, b added to every row", z_ + b_, bench.within(1, z_ + b_))
    bench.backward(where, result, gv)
    bench.expect(where.backward("z"), z.grad, "grad", g_, bench.within(0, g_))
    expect_bias_gradient(bench, where, b, g_)
    # the loop's form
    where = Where("bias broadcast", "x @ w.t() + b")
    xv, wv = bench.normal(4, 3), bench.normal(2, 3)
    x_, w_ = exact(xv), exact(wv)
    x, w, b = bench.tensor(xv), leaf(bench, wv), leaf(bench, bv)
    predictions = bench.run(where, lambda: x @ w.t() + b)
    value = x_ @ w_.T + b_
    bench.expect(where, predictions, "x @ wᵀ + b", value, bench.gamma(4) * (np.abs(x_) @ np.abs(w_.T) + np.abs(b_)))
    bench.backward(where, predictions, gv)
    bench.expect(where.backward("w"), w.grad, "gradᵀ @ x", g_.T @ x_, bench.gamma(4) * (np.abs(g_.T) @ np.abs(x_)))
    expect_bias_gradient(bench, where, b, g_)


def expect_bias_gradient(bench: Bench, where: Where, b: Any, g_: Array) -> None:
    rows = g_.shape[0]
    summed = g_.sum(axis=0)
    bench.expect(
        where.backward("b"),
        b.grad,
        f"grad summed over the {rows} rows b was broadcast to",
        summed,
        bench.gamma(rows - 1) * np.abs(g_).sum(axis=0),
        [
            Suspect(summed / rows, f"yours is the mean over the {rows} rows, not the sum (averaged)", "averaged"),
            Suspect(g_[-1], "yours is the last row's gradient alone (the rows overwrote each other)", "overwritten"),
        ],
        shapes={
            g_.shape: f"sum it over the {rows} rows b was broadcast to",
            (1, g_.shape[1]): "the summed dimension was kept; b.grad has b's shape",
        },
    )


# ---------------------------------------------------------------- running every check
def diagnose(engine: Any, dtype: str = "float32", seed: int = 0) -> Diagnosis:
    """Check each op the notebook's loop uses on `engine` (a module offering reference/contract.py), in
    `dtype`, on inputs drawn from `seed`; return which ops pass and each rule broken."""
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be float32 or float64, not {dtype!r}")
    bench = Bench(engine, dtype, np.random.default_rng(seed))
    blocked_by: dict[str, frozenset[str]] = {}  # check -> the failing ops it or a check it needs hit; empty: passed
    for op_check in CHECKS:
        blocking = frozenset().union(*(blocked_by[need] for need in op_check.needs))
        if not blocking:
            found = len(bench.failures)
            with contextlib.suppress(CheckStoppedError):
                op_check.run(bench)
            blocked_by[op_check.name] = frozenset({op_check.op} if len(bench.failures) > found else ())
            continue
        blocked_by[op_check.name] = blocking
    not_run = tuple(
        (c.name, tuple(o for o in OPS if o in blocked_by[c.name]))
        for c in CHECKS
        if blocked_by[c.name] and c.op not in blocked_by[c.name]
    )
    failed_ops = {failure.op for failure in bench.failures}
    unfinished = failed_ops | {c.op for c in CHECKS if blocked_by[c.name]}
    passed_ops = tuple(op for op in OPS if op not in unfinished)
    return Diagnosis(dtype, passed_ops, tuple(bench.failures), not_run)


def main(argv: Sequence[str] | None = None) -> int:
    """python -m reference.diagnose --engine SPEC: print the diagnosis; exit 0 when every op passes, 1 when one
    fails, 2 when the engine can't be imported or started."""
    parser = argparse.ArgumentParser(
        prog="python -m reference.diagnose",
        description="Check each op the notebook's loop uses, forward and backward, on small drawn inputs.",
    )
    parser.add_argument("--engine", default="minigrad", help="`module` or `module:attribute` offering the contract")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--seed", type=int, default=0, help="seed of the numpy generator drawing the inputs")
    args = parser.parse_args(argv)
    try:
        engine = load_engine(args.engine)
    except (EngineNotFoundError, EngineCannotStartError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    diagnosis = diagnose(engine, args.dtype, args.seed)
    print(diagnosis.report())
    return 0 if diagnosis.passed else 1


if __name__ == "__main__":
    sys.exit(main())
