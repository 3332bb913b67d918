"""Rounding-error bounds (NUMERICS.md §2): how far a floating-point result may lie from the exact one.

A sum of n terms computed in any order is within γ_(n-1)·Σ|x_i| of the exact sum; a dot product of
length n within γ_n·Σ|x_i·y_i|. Two engines that each stay within B of the exact value stay within 2B of
each other. The bounds are evaluated in float64 from the inputs, so they hold for float32 engines whatever
order they add in.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from reference.exact import ExactStep, transpose
from reference.values import Array, StepValues


def unit_roundoff(dtype: npt.DTypeLike) -> float:
    """u = 2^-24 for float32, 2^-53 for float64: the largest relative error of one rounding."""
    return float(np.finfo(dtype).eps) / 2


def gamma(n: int, dtype: npt.DTypeLike) -> float:
    """γ_n = n·u / (1 − n·u), the relative error bound of n successive roundings."""
    nu = n * unit_roundoff(dtype)
    if nu >= 1:
        raise ValueError(f"γ_{n} is undefined: n·u = {nu} ≥ 1")
    return nu / (1 - nu)


def sum_bound(x: Array, axis: int | tuple[int, ...] | None, dtype: npt.DTypeLike) -> Array:
    """Bound on |computed − exact| of x.sum(axis) in `dtype`, for any summation order."""
    x = np.abs(np.asarray(x, dtype=np.float64))
    n = x.size if axis is None else int(np.prod([x.shape[a] for a in np.atleast_1d(axis)]))
    return np.asarray(gamma(max(n - 1, 0), dtype) * x.sum(axis=axis))


def matmul_bound(a: Array, b: Array, dtype: npt.DTypeLike) -> Array:
    """Bound on |computed − exact| of a @ b in `dtype` (a dot product of length k per element)."""
    a64, b64 = np.abs(np.asarray(a, dtype=np.float64)), np.abs(np.asarray(b, dtype=np.float64))
    k = a64.shape[-1] if a64.ndim else 1
    return np.asarray(gamma(k, dtype) * (a64 @ b64))


# ---------------------------------------------------------------- one step of the notebook's loop
def step_bounds(inputs: Array, w: Array, b: Array, exact: ExactStep, lr: float, dtype: npt.DTypeLike) -> StepValues:
    """Per element, how far an engine computing one step in `dtype` may land from the exact step.

    `inputs` (samples × k), `w` (… × m × k) and `b` (… × m) are the step's inputs as the engine holds them,
    `exact` the step computed exactly from them (exact.exact_step). Leading axes are independent steps.
    With u the unit roundoff, n samples, N = n·m, each stage's bound covers its own roundings plus the
    error it inherits (NUMERICS.md §2, here with the second-order terms kept, so nothing is left to slack):

    - predictions p = x @ w.T + b, k products and k additions: B_p = γ_(k+1)·(|x| @ |w|.T + |b|)
    - residual d = y − p̂, one subtraction of an inexact p̂: B_d = (1+u)·B_p + u·|d|
    - loss Σd̂²/N, N squares, N−1 additions and one division: B_L = γ_(N+1)·Σ(|d|+B_d)²/N + Σ B_d·(2|d|+B_d)/N
    - gradient at p, g = −2d̂/N, at most three roundings (1/N, the products, adding d's two uses):
      B_g = (2/N)·((1+γ_3)·B_d + γ_3·|d|)
    - w.grad = ĝ.T @ x, a dot product of length n: B_gw = B_g.T @ |x| + γ_n·(|g|+B_g).T @ |x|
    - b.grad = Σ_samples ĝ: B_gb = Σ B_g + γ_(n−1)·Σ(|g|+B_g)
    - update w − lr·w.grad, lr rounded to `dtype`, one product, one subtraction:
      B_w = (1+u)·lr·((1+γ_2)·B_gw + γ_2·|w.grad|) + u·|w_new|   (the same for b)
    """
    u = unit_roundoff(dtype)
    samples, k = inputs.shape
    count = samples * w.shape[-2]
    abs_x, abs_residual = np.abs(np.asarray(inputs, np.float64)), np.abs(exact.residual)
    predictions = gamma(k + 1, dtype) * (abs_x @ transpose(np.abs(w)) + np.abs(b)[..., None, :])
    residual = (1 + u) * predictions + u * abs_residual
    loss = (
        gamma(count + 1, dtype) * ((abs_residual + residual) ** 2).sum(axis=(-2, -1))
        + (residual * (2 * abs_residual + residual)).sum(axis=(-2, -1))
    ) / count
    gamma3 = gamma(3, dtype)
    predictions_grad = (2 / count) * ((1 + gamma3) * residual + gamma3 * abs_residual)
    predictions_grad_reach = np.abs(exact.predictions_grad) + predictions_grad  # bounds |ĝ|
    w_grad = transpose(predictions_grad) @ abs_x + matmul_bound(transpose(predictions_grad_reach), abs_x, dtype)
    b_grad = predictions_grad.sum(axis=-2) + sum_bound(predictions_grad_reach, -2, dtype)

    def update(grad_bound: Array, grad: Array, new: Array) -> Array:
        gamma2 = gamma(2, dtype)
        return (1 + u) * abs(lr) * ((1 + gamma2) * grad_bound + gamma2 * np.abs(grad)) + u * np.abs(new)

    return StepValues(
        predictions, loss, w_grad, b_grad, update(w_grad, exact.w_grad, exact.w), update(b_grad, exact.b_grad, exact.b)
    )


# ---------------------------------------------------------------- a whole free-running trajectory
def hessian_eigenvalues(inputs: Array, outputs: int) -> Array:
    """Eigenvalues of the loss's Hessian with respect to one output's parameters (w_j, b_j).

    L = Σ_ij (x̃_i·θ_j − y_ij)² / N with x̃_i = (x_i, 1) and N = samples·outputs, so the Hessian is
    (2/N)·X̃ᵀX̃ for every output j and at every point: the loss is quadratic and the outputs independent.
    """
    with_ones = np.hstack([np.asarray(inputs, np.float64), np.ones((inputs.shape[0], 1))])
    return np.linalg.eigvalsh(2 / (inputs.shape[0] * outputs) * with_ones.T @ with_ones)


def contraction_factor(inputs: Array, outputs: int, lr: float) -> float:
    """ρ = ‖I − lr·H‖₂ = max |1 − lr·λ| over H's eigenvalues λ: how much one exact step of gradient descent can
    stretch the distance between two parameter vectors. ρ ≤ 1 when 0 ≤ lr·λ ≤ 2 for every λ."""
    return float(np.max(np.abs(1 - lr * hessian_eigenvalues(inputs, outputs))))


def drift_bounds(w_bounds: Array, b_bounds: Array, contraction: float) -> Array:
    """How far a computed trajectory may drift from the exact one: a bound, per step and output j, on the
    2-norm of the error in (w_j, b_j) after the step.

    The exact step is affine, T(θ) = θ − lr·(Hθ − c), so the error E of the computed parameters obeys
    E_(s+1) = (I − lr·H)·E_s + e_s, where e_s is step s's own rounding error, bounded per element by the
    step's bounds (`w_bounds`: steps × m × k, `b_bounds`: steps × m) at the computed parameters. Hence
    ‖E_(s+1)‖ ≤ ρ·‖E_s‖ + ‖e_s‖, with E_0 = 0: both engines start from the same stored w0, b0. Each element of
    the error is at most that 2-norm.
    """
    local = np.sqrt((w_bounds**2).sum(axis=-1) + b_bounds**2)
    drift: Array = np.empty_like(local)
    total = np.zeros(local.shape[1:])
    for step, step_bound in enumerate(local):
        total = contraction * total + step_bound
        drift[step] = total
    return drift
