"""Parity: does an engine train like torch, step by step? Two modes.

- lock-step: before each step the engine is handed the reference's parameters, so every step is judged on
  its own: each quantity, each element, against the rounding-error bound of that step (bounds.step_bounds).
- free-running: each engine follows its own trajectory. Each step is still judged on its own inputs (the
  same local check), and the parameters are compared with a float64 trajectory, against a drift bound that
  accumulates the local bounds through the contraction of gradient descent (bounds.drift_bounds).

The yardstick is the step recomputed in float64 from the very inputs the engine held (exact.exact_step),
not the reference's output: every engine, the torch reference included, must stay within B + B64 of it,
where B is the step's bound in the engine's dtype and B64 the recomputation's own bound in float64. For a
float32 engine B64 is 2^-29·B, so this is the bound B itself; for a float64 engine the recomputation is one
more float64 computation and the allowance is 2·B, as for two engines each within B of the exact value.
Two engines that pass are within 2·(B + B64) of each other; checking each against the recomputation also
keeps `--engine torch` from passing vacuously against itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Literal

import numpy as np

from reference.bounds import contraction_factor, drift_bounds, step_bounds
from reference.exact import exact_step, float64_trajectory
from reference.loop import EngineError, OnStep, Problem, Trace, train
from reference.torch_reference import train_reference
from reference.values import Array

Mode = Literal["lockstep", "free"]


@dataclass(frozen=True)
class Mismatch:
    """An element of a quantity outside its bound: |value − expected| > bound."""

    engine: str
    step: int
    quantity: str
    index: tuple[int, ...]
    value: float
    expected: float  # the float64 recomputation (for a drift: the float64 trajectory)
    reference: float | None  # the reference engine's value at the same step and element, for comparison
    bound: float
    ratio: float

    @property
    def where(self) -> str:
        return f"{self.quantity}[{', '.join(map(str, self.index))}]" if self.index else self.quantity

    def summary(self) -> str:
        """One line: a FAIL line that fits a terminal (the values beside the reference's: Report.details)."""
        return (
            f"{self.engine} at step {self.step}: {self.where} is {self.value:.6g}, float64 gives {self.expected:.6g} "
            f"(error/bound {self.ratio:.2g})"
        )


Failure = Mismatch | EngineError
Progress = Callable[[str, int, int], None]  # (who is training, steps done, steps in all)


@dataclass(frozen=True)
class Comparison:
    """One quantity of a run at every step: the values, what they should be, and the bound between."""

    values: Array
    expected: Array
    bound: Array

    @cached_property
    def ratios(self) -> Array:
        """|values − expected| / bound per element; 0 where both are 0; inf where the bound is 0 and the error
        is not, and wherever a value is NaN or infinite (a failure at the step where it appears)."""
        with np.errstate(all="ignore"):  # non-finite values are failures, reported as such, not warnings
            error = np.abs(self.values - self.expected)
            ratios = np.where(error == 0, 0.0, error / self.bound)
        return np.where(np.isfinite(self.values) & np.isfinite(self.expected), ratios, np.inf)

    @cached_property
    def worst(self) -> Array:
        """The largest error/bound over the elements, at each step."""
        worst: Array = self.ratios.reshape(self.ratios.shape[0], -1 if self.ratios.size else 0).max(axis=1, initial=0.0)
        return worst


@dataclass(frozen=True)
class CheckedRun:
    """One engine's run with each quantity compared at every step (in the order a step computes them)."""

    name: str
    trace: Trace
    comparisons: dict[str, Comparison]

    def first_mismatch(self, reference: CheckedRun | None) -> Mismatch | None:
        over = np.array([comparison.worst > 1 for comparison in self.comparisons.values()])
        if not over.any():
            return None
        step = int(np.argmax(over.any(axis=0)))
        quantity = list(self.comparisons)[int(np.argmax(over[:, step]))]
        comparison = self.comparisons[quantity]
        ratios = comparison.ratios[step]
        index = tuple(int(i) for i in np.unravel_index(np.argmax(ratios), ratios.shape))
        reference_value = None
        if reference is not None and step < len(reference.trace):
            reference_value = float(reference.comparisons[quantity].values[step][index])
        return Mismatch(
            self.name,
            step,
            quantity,
            index,
            float(comparison.values[step][index]),
            float(comparison.expected[step][index]),
            reference_value,
            float(comparison.bound[step][index]),
            float(ratios[index]),
        )

    @cached_property
    def worst_each_step(self) -> Array:
        """The largest error/bound over every quantity and element, at each step."""
        worst: Array = np.max([comparison.worst for comparison in self.comparisons.values()], axis=0)
        return worst

    def worst(self) -> tuple[float, str, int]:
        """The largest error/bound over the run: (ratio, quantity, step)."""
        steps = len(self.trace)
        return max(
            (float(comparison.worst.max(initial=0.0)), quantity, int(np.argmax(comparison.worst)) if steps else 0)
            for quantity, comparison in self.comparisons.items()
        )

    def first_failure(self, reference: CheckedRun | None = None) -> Failure | None:
        """The earliest failure: a mismatch, or else the error that stopped the run (at the first step it
        could not complete, so after every recorded step)."""
        return self.first_mismatch(reference) or self.trace.error


@dataclass(frozen=True)
class Float64Run:
    """The float64 trajectory free-running engines are compared with, and how far it may itself drift from
    the exact one (per step and output)."""

    trace: Trace
    drift: Array
    contraction: float

    @classmethod
    def of(cls, problem: Problem) -> Float64Run:
        w_in, b_in, values = float64_trajectory(problem)
        bounds = step_bounds(problem.inputs, w_in, b_in, values, problem.lr, np.float64)
        contraction = contraction_factor(problem.inputs, problem.outputs, problem.lr)
        return cls(Trace(w_in, b_in, values, None), drift_bounds(bounds.w, bounds.b, contraction), contraction)


def check_run(name: str, trace: Trace, problem: Problem, dtype: str, float64: Float64Run | None) -> CheckedRun:
    """Compare every step of `trace` with the float64 recomputation from the step's own inputs; given the
    float64 trajectory (free-running), compare the parameters after each step with it too."""
    x, lr, steps = problem.inputs, problem.lr, len(trace)
    with np.errstate(all="ignore"):  # a run that overflowed fails where it did (Comparison.ratios), silently here
        exact = exact_step(x, problem.targets, trace.w_in, trace.b_in, lr)
        own_bounds = step_bounds(x, trace.w_in, trace.b_in, exact, lr, dtype)
        allowance = own_bounds + step_bounds(x, trace.w_in, trace.b_in, exact, lr, np.float64)
        comparisons = {
            quantity: Comparison(values, expected, bound)
            for (quantity, values), (_, expected), (_, bound) in zip(
                trace.values.items(), exact.items(), allowance.items(), strict=True
            )
        }
        if float64 is not None:
            drift = drift_bounds(own_bounds.w, own_bounds.b, float64.contraction) + float64.drift[:steps]
            for parameter, bound in (("w", drift[..., None]), ("b", drift)):
                expected = float64.trace.values[parameter][:steps]
                comparisons[f"{parameter} drift"] = Comparison(
                    trace.values[parameter], expected, np.broadcast_to(bound, expected.shape)
                )
    return CheckedRun(name, trace, comparisons)


@dataclass(frozen=True)
class Report:
    """The engine's run and the reference's, each checked the same way."""

    mode: Mode
    dtype: str
    device: str
    problem: Problem
    engine: CheckedRun
    reference: CheckedRun

    @cached_property
    def failures(self) -> list[Failure]:
        """The engine's first failure, then the reference's (which would mean the bounds or the setup are wrong)."""
        failures = (self.engine.first_failure(self.reference), self.reference.first_failure())
        return [failure for failure in failures if failure is not None]

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def reference_failed(self) -> bool:
        """The torch reference itself fails: the problem (a learning rate that diverges) or the setup is at
        fault, and the engine cannot be judged."""
        return self.reference.first_failure() is not None

    def verdict(self) -> str:
        """One line, starting PASS:, FAIL: or CANNOT JUDGE:."""
        reference_failure = self.reference.first_failure()
        if reference_failure is not None:
            return (
                f"CANNOT JUDGE: the torch reference fails too ({reference_failure.summary().split(': ', 1)[-1]}): "
                "the problem or the setup is at fault, not the engine"
            )
        if self.failures:
            return "FAIL: " + self.failures[0].summary()
        ratio, quantity, step = self.engine.worst()
        return (
            f"PASS: {self.engine.name} trains like torch ({self.dtype}, {self.mode}, {len(self.engine.trace)} steps, "
            f"reference on {self.device}): worst error/bound {ratio:.3g} ({quantity}, step {step})"
        )

    def details(self, every: int) -> str:
        """The verdict, what the engine computed beside the reference at its first failure, and the table."""
        return "\n".join(filter(None, (self.verdict(), self.at_failure(), self.table(every))))

    def at_failure(self, rows: int = 10) -> str:
        """At the engine's first failure: its values beside the float64 recomputation's and the reference's,
        element by element (at most `rows` elements, the failing one among them); or the engine's traceback."""
        failure = self.engine.first_failure(self.reference)
        if failure is None:
            return ""
        if isinstance(failure, EngineError):
            return failure.traceback.rstrip()
        step, quantity = failure.step, failure.quantity
        mine = self.engine.comparisons[quantity]
        theirs = self.reference.comparisons.get(quantity) if step < len(self.reference.trace) else None
        indices = list(np.ndindex(mine.values.shape[1:]))
        shown = indices[:rows] if failure.index in indices[:rows] else [*indices[: rows - 1], failure.index]
        header = ["element", self.engine.name[:14], "float64", "torch", "bound", "error/bound"]
        lines = [f"{quantity} at step {step}, element by element:", "  ".join(f"{h:>14}" for h in header)]
        for index in shown:
            cells = [
                f"[{', '.join(map(str, index))}]" if index else "(scalar)",
                f"{mine.values[step][index]:.9g}",
                f"{mine.expected[step][index]:.9g}",
                "" if theirs is None else f"{theirs.values[step][index]:.9g}",
                f"{mine.bound[step][index]:.3g}",
                f"{mine.ratios[step][index]:.3g}" + (" <" if index == failure.index else ""),
            ]
            lines.append("  ".join(f"{cell:>14}" for cell in cells))
        if len(indices) > len(shown):
            lines.append(f"({len(indices) - len(shown)} more elements)")
        return "\n".join(lines)

    def table(self, every: int) -> str:
        """A row for every `every`-th step, the last step and the step of a failure: each engine's loss, then
        the engine's worst error/bound for each quantity, then the reference's worst over all quantities."""
        runs = (self.engine, self.reference)
        # up to the step where the engine stopped (a row of the reference alone says nothing of the engine)
        steps = min(max(len(run.trace) for run in runs), len(self.engine.trace) + 1)
        failing = {failure.step for failure in self.failures if failure.step < steps}
        quantities = list(self.engine.comparisons)
        header = ["step", *(f"loss {run.name}" for run in runs), *quantities, f"{self.reference.name}, all"]
        widths = [5, *(max(15, len(title)) for title in header[1:3]), *(max(8, len(title)) for title in header[3:])]

        def row(cells: list[str]) -> str:
            return "  ".join(cell.rjust(width) for cell, width in zip(cells, widths, strict=True))

        def cell(values: Array, step: int, spec: str) -> str:
            return format(values[step], spec) if step < len(values) else ""

        lines = [row(header)]
        for step in sorted({*range(0, steps, every), steps - 1, *failing}):
            losses = [cell(run.trace.values.loss, step, ".9g") for run in runs]
            ratios = [cell(self.engine.comparisons[quantity].worst, step, ".3g") for quantity in quantities]
            lines.append(row([str(step), *losses, *ratios, cell(self.reference.worst_each_step, step, ".3g")]))
        if len(self.engine.trace) == 0:
            lines.append(f"{self.engine.name} completed no step")
        else:
            worst = [
                format(comparison.worst.max(initial=0.0), ".3g") for comparison in self.engine.comparisons.values()
            ]
            lines.append(row(["worst", "", "", *worst, format(self.reference.worst()[0], ".3g")]))
        return "\n".join(lines)


def check_parity(
    engine: Any,
    problem: Problem,
    dtype: str = "float32",
    mode: Mode = "lockstep",
    device: str = "cpu",
    name: str | None = None,
    progress: Progress | None = None,
    capture: bool = False,
) -> Report:
    """Train `engine` and the torch reference (on `device`) on `problem` in `dtype`, and check both, step by step.

    `engine` is a module (or any object) offering the contract (reference/contract.py); it runs on the CPU.
    `progress(who, steps done, steps)`, if given, hears of every step of both runs. `capture`: the engine's
    step runs as `engine.capture(step)` (minigrad.capture), recorded once and replayed.
    """
    problem = problem.astype(dtype)
    name = name or str(getattr(engine, "__name__", type(engine).__name__))

    def reporting(who: str) -> OnStep | None:
        return None if progress is None else (lambda done: progress(who, done, problem.steps))

    reference = train_reference(problem, dtype, device, on_step=reporting("torch (reference)"))
    if mode == "lockstep":
        engine_trace = train(
            engine,
            replace(problem, steps=max(len(reference), 1)),
            dtype,
            sync=reference.parameters_at,
            name=name,
            on_step=reporting(name),
            capture=capture,
        )
    else:
        engine_trace = train(engine, problem, dtype, name=name, on_step=reporting(name), capture=capture)
    float64 = Float64Run.of(problem) if mode == "free" else None
    return Report(
        mode,
        dtype,
        device,
        problem,
        check_run(name, engine_trace, problem, dtype, float64),
        check_run("reference", reference, problem, dtype, float64),
    )
