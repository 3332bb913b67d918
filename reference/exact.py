"""The notebook's step in closed form, computed in float64: the yardstick every engine is measured against.

For float32 engines it is exact to within a bound 2^29 times smaller than theirs; for float64 engines it is
one more float64 computation, whose own error is bounded the same way (see parity.py).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from reference.loop import Problem
from reference.values import Array, StepValues


@dataclass(frozen=True)
class ExactStep(StepValues):
    """A step's values, plus the intermediate values its rounding-error bounds are built from."""

    residual: Array  # d = targets − predictions
    predictions_grad: Array  # g = dL/dp = −2d/N


def transpose(a: Array) -> Array:
    """Swap the last two axes (a leading step axis stays put)."""
    return np.swapaxes(a, -1, -2)


def exact_step(inputs: Array, targets: Array, w: Array, b: Array, lr: float) -> ExactStep:
    """One step from parameters `w` (… × m × k) and `b` (… × m); leading axes, if any, are independent steps.

    The same formulas as the notebook (loss = Σd²/N, N = samples × outputs), with the gradients written out:
    dL/dp = −2d/N, w.grad = (dL/dp)ᵀ x, b.grad = Σ_samples dL/dp.
    """
    x, y = np.asarray(inputs, np.float64), np.asarray(targets, np.float64)
    w, b = np.asarray(w, np.float64), np.asarray(b, np.float64)
    predictions = x @ transpose(w) + b[..., None, :]
    residual = y - predictions
    count = residual.shape[-2] * residual.shape[-1]
    loss = (residual * residual).sum(axis=(-2, -1)) / count
    predictions_grad = -2 * residual / count
    w_grad = transpose(predictions_grad) @ x
    b_grad = predictions_grad.sum(axis=-2)
    return ExactStep(predictions, loss, w_grad, b_grad, w - lr * w_grad, b - lr * b_grad, residual, predictions_grad)


def float64_trajectory(problem: Problem) -> tuple[Array, Array, ExactStep]:
    """The loop run in float64 on `problem`'s values: the parameters each step starts from, and each step's
    values (stacked over steps)."""
    w, b = np.asarray(problem.w0, np.float64), np.asarray(problem.b0, np.float64)
    w_in, b_in, steps = [], [], []
    for _ in range(problem.steps):
        w_in.append(w)
        b_in.append(b)
        steps.append(exact_step(problem.inputs, problem.targets, w, b, problem.lr))
        w, b = steps[-1].w, steps[-1].b
    stacked = ExactStep(*(np.stack([getattr(step, field.name) for step in steps]) for field in fields(ExactStep)))
    return np.stack(w_in), np.stack(b_in), stacked
