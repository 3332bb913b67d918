"""The notebook's training loop, written once against the engine contract (reference/contract.py).

`train` runs it on any engine (torch, minigrad, yours) and records, at every step, what the notebook computes:
the predictions, the loss, `w.grad`, `b.grad`, and `w`, `b` after the update, plus the parameters the step
started from. The same function serves both parity modes: free-running (each engine follows its own
trajectory) and lock-step (`sync` hands the engine the reference's parameters before each step).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from reference.engines import engine_traceback
from reference.values import QUANTITIES, Array, StepValues

# The notebook's data: (temperature, rainfall, humidity) -> (apples, oranges), its learning rate and its steps.
NOTEBOOK_INPUTS = np.array([[73, 67, 43], [91, 88, 64], [87, 134, 58], [102, 43, 37], [69, 96, 70]], dtype=np.float64)
NOTEBOOK_TARGETS = np.array([[56, 70], [81, 101], [119, 133], [22, 37], [103, 119]], dtype=np.float64)
NOTEBOOK_LR = 1e-5
NOTEBOOK_STEPS = 900


@dataclass(frozen=True)
class Problem:
    """A linear regression to train: inputs (samples × k), targets (samples × m), initial w (m × k) and b (m),
    a learning rate and a number of steps."""

    inputs: Array
    targets: Array
    w0: Array
    b0: Array
    lr: float
    steps: int

    def __post_init__(self) -> None:
        (samples, k), (m,) = self.inputs.shape, self.b0.shape
        expected = {"targets": (samples, m), "w0": (m, k)}
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} has shape {getattr(self, name).shape}; with these inputs and b0, {shape}")
        if self.steps < 1:
            raise ValueError(f"steps must be at least 1, not {self.steps}")

    @classmethod
    def notebook(cls, seed: int = 0, lr: float = NOTEBOOK_LR, steps: int = NOTEBOOK_STEPS) -> Problem:
        return cls.from_data(NOTEBOOK_INPUTS, NOTEBOOK_TARGETS, seed, lr, steps)

    @classmethod
    def from_data(cls, inputs: Array, targets: Array, seed: int, lr: float, steps: int) -> Problem:
        """Initial weights drawn from a seeded numpy generator (standard normal, as the notebook's torch.randn),
        so every engine starts from the same values."""
        rng = np.random.default_rng(seed)
        w0 = rng.standard_normal((targets.shape[1], inputs.shape[1]))
        b0 = rng.standard_normal((targets.shape[1],))
        return cls(inputs, targets, w0, b0, lr, steps)

    @classmethod
    def drawn(
        cls,
        shape: tuple[int, int, int],
        scales: tuple[float, float],
        offset: float,
        lr_fraction: float,
        seed: int,
        steps: int,
        dtype: str,
    ) -> Problem:
        """A random regression: `shape` = (samples, inputs, outputs), inputs of scale `scales[0]` offset by
        `offset` (all-positive like the notebook's when large, which makes the problem ill-conditioned: a long,
        slow valley), targets of scale `scales[1]`, and a learning rate of `lr_fraction` (at most 1) / λ_max.

        λ_max is the largest eigenvalue of the loss's Hessian (2/N)·X̃ᵀX̃ of the inputs in `dtype`: every factor
        1 − lr·λ of the exact iteration then lies in [0, 1], so gradient descent never expands an error and
        nothing diverges or overflows. Nor does anything underflow (where rounding-error bounds stop holding)
        for scales of 1e-3 and more: a non-zero residual is then at least ~1e-13 in float32, and the smallest
        products stay some 20 orders above float32's 1e-38.
        """
        from reference.bounds import hessian_eigenvalues  # bounds.py builds on this module

        samples, inputs, outputs = shape
        rng = np.random.default_rng(seed)
        x = scales[0] * (rng.standard_normal((samples, inputs)) + offset)
        y = scales[1] * rng.standard_normal((samples, outputs))
        lr = lr_fraction / float(hessian_eigenvalues(x.astype(dtype), outputs).max())
        return cls.from_data(x, y, seed, lr, steps)

    def astype(self, dtype: str) -> Problem:
        """The problem as an engine running in `dtype` holds it. Every comparison uses these rounded values,
        so rounding the data is not counted as an engine's error."""
        return replace(
            self,
            inputs=self.inputs.astype(dtype),
            targets=self.targets.astype(dtype),
            w0=self.w0.astype(dtype),
            b0=self.b0.astype(dtype),
        )

    @property
    def outputs(self) -> int:
        return int(self.targets.shape[1])


@dataclass(frozen=True)
class EngineError:
    """The engine raised (or broke a rule of the contract the loop relies on) at `step`, while computing
    `quantity` (the stage of the step: setup, sync, predictions, loss, backward, update, zero_())."""

    engine: str
    step: int
    quantity: str
    traceback: str

    def summary(self) -> str:
        """One line: the exception's last line, cut to fit a terminal (the traceback is self.traceback)."""
        last_line = self.traceback.strip().splitlines()[-1]
        last_line = last_line if len(last_line) <= 56 else last_line[:55] + "…"
        return f"{self.engine} raised at step {self.step} ({self.quantity}): {last_line}"


@dataclass(frozen=True)
class Trace:
    """An engine's run of the loop: for each completed step, the parameters it started from (`w_in`, `b_in`)
    and what it computed (`values`, with a leading step axis), all in float64 (exact copies of the engine's
    values). `error` is set when the run stopped early."""

    w_in: Array
    b_in: Array
    values: StepValues
    error: EngineError | None

    def __len__(self) -> int:
        return len(self.w_in)

    def parameters_at(self, step: int) -> tuple[Array, Array]:
        """The parameters step `step` started from: what lock-step hands to the engine under test."""
        return self.w_in[step], self.b_in[step]


class ContractViolationError(AssertionError):
    """The engine ran, but not as the notebook relies on (for example, `zero_()` left a gradient non-zero)."""


Sync = Callable[[int], tuple[Array, Array]]
OnStep = Callable[[int], None]  # called with the number of steps completed so far (for progress displays)


def train(
    engine: Any,
    problem: Problem,
    dtype: str,
    device: str | None = None,
    sync: Sync | None = None,
    name: str = "",
    on_step: OnStep | None = None,
    capture: bool = False,
) -> Trace:
    """Run the notebook's loop on `engine` for `problem.steps` steps and record every step.

    `problem` must already be in `dtype` (Problem.astype). `device` is for torch only (the reference on
    "cuda"); other engines run on the CPU. `sync(step)`, if given, returns the parameters to load into `w`
    and `b` before that step (lock-step). The first exception stops the run and is recorded in the trace. With
    `capture`, the step's forward, backward and update run as `engine.capture(step)` (minigrad.capture): recorded
    once, then replayed.
    """
    name = name or getattr(engine, "__name__", type(engine).__name__)
    w_shape, b_shape = problem.w0.shape, problem.b0.shape
    shapes = {"w in": w_shape, "b in": b_shape, "predictions": problem.targets.shape, "loss": ()}
    shapes |= {"w.grad": w_shape, "b.grad": b_shape, "w": w_shape, "b": b_shape}
    record = {quantity: np.empty((problem.steps, *shape)) for quantity, shape in shapes.items()}

    def new(values: Array, requires_grad: bool = False) -> Any:
        on_device = {} if device is None else {"device": device}
        return engine.tensor(values, dtype=getattr(engine, dtype), requires_grad=requires_grad, **on_device)

    def read(tensor: Any, quantity: str) -> Array:
        detached = tensor.detach()
        if device not in (None, "cpu"):
            detached = detached.cpu()
        values = np.array(detached.numpy(), dtype=np.float64)  # a copy: numpy() may share memory with the tensor
        check_shape(values.shape, quantity)
        return values

    def check_shape(shape: Any, quantity: str) -> None:
        if tuple(shape) != shapes[quantity]:
            raise ContractViolationError(f"{quantity} has shape {tuple(shape)}, expected {shapes[quantity]}")

    def load(param: Any, values: Array, quantity: str) -> Any:
        """Set a leaf's values in place with the contract's `-=` only; exact, as w − w = 0 and 0 − (−v) = v."""
        with engine.no_grad():
            param -= param
            param -= new(-values)
        if not np.array_equal(read(param, quantity), values):
            raise ContractViolationError(f"{quantity}: `w -= w; w -= -v` under no_grad() did not set w to v")
        return param

    error, completed, step, stage = None, 0, 0, "setup"
    try:
        x, y = new(problem.inputs), new(problem.targets)
        w, b = new(problem.w0, requires_grad=True), new(problem.b0, requires_grad=True)

        def notebook_step() -> tuple[Any, Any, Any, Any]:
            """Forward, backward and update: what `engine.capture` records when asked (values are read after)."""
            nonlocal w, b, stage
            stage = "predictions"
            predictions = x @ w.t() + b
            stage = "loss"
            diff = y - predictions
            loss = engine.sum(diff * diff) / diff.numel()
            stage = "backward"
            loss.backward()
            if w.grad is None or b.grad is None:
                raise ContractViolationError("loss.backward() left w.grad or b.grad None")
            check_shape(w.grad.shape, "w.grad")  # before the update uses them (their values are read after)
            check_shape(b.grad.shape, "b.grad")
            grads = w.grad, b.grad  # the ones the update uses, whatever the update does to w and b
            stage = "update"
            with engine.no_grad():
                w -= w.grad * problem.lr
                b -= b.grad * problem.lr
            return predictions, loss, *grads

        run_step = engine.capture(notebook_step) if capture else notebook_step
        for step in range(problem.steps):
            stage = "sync"
            if sync is not None and step > 0:  # step 0 starts from problem.w0, b0 on every side
                w_target, b_target = sync(step)
                w, b = load(w, w_target, "w in"), load(b, b_target, "b in")
            record["w in"][step], record["b in"][step] = read(w, "w in"), read(b, "b in")

            predictions, loss, w_grad, b_grad = run_step()
            stage = "backward"  # what the step computed up to its backward, then its update
            record["predictions"][step] = read(predictions, "predictions")
            record["loss"][step] = loss.item()
            record["w.grad"][step], record["b.grad"][step] = read(w_grad, "w.grad"), read(b_grad, "b.grad")
            stage = "update"
            record["w"][step], record["b"][step] = read(w, "w"), read(b, "b")

            with engine.no_grad():
                stage = "zero_()"
                w.grad.zero_()
                b.grad.zero_()
                for grad, quantity in ((w.grad, "w.grad"), (b.grad, "b.grad")):
                    if np.any(read(grad, quantity)):
                        raise ContractViolationError(f"{quantity} is not zero after {quantity}.zero_()")
            completed = step + 1
            if on_step is not None:
                on_step(completed)
    except Exception as raised:
        error = EngineError(name, step, stage, engine_traceback(raised))
    kept = {quantity: values[:completed] for quantity, values in record.items()}
    return Trace(kept["w in"], kept["b in"], StepValues(*(kept[quantity] for quantity in QUANTITIES)), error)
