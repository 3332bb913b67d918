"""Every op's gradient, and composite expressions', against central finite differences in float64. No torch:
this checks the calculus itself, not agreement with another engine.

For an output `out = f(x)` and a drawn weight g, backward(gradient=g) gives the gradient of L(x) = Σ g·f(x);
the numerical one is (L(x + eps·e_i) − L(x − eps·e_i)) / 2eps for each element i.

eps and tolerance (torch.autograd.gradcheck's: eps 1e-6, atol 1e-5, rtol 1e-3; NUMERICS.md §3), and why they
hold here with a wide margin:
- truncation error: eps²/6 · |L'''|. Inputs are kept to 1/2 <= |x| <= 2 where an op divides or takes a power
  (elsewhere |x| <= 2), so |L'''| stays below ~1e4 (the worst: x ** -3, 60/x^6 · |g| · n) and this is < 1e-8;
- rounding error: each evaluation of L is within γ_c · S of the exact value, S the sum of the absolute values
  of L's intermediate terms (below ~1e3 here) and c the roundings along the way (below ~50), i.e. ~6e-12;
  the difference of two evaluations divided by 2eps is then off by at most ~6e-6, and typically much less.
So the error is under atol 1e-5 + rtol 1e-3·|gradient| (measured over these cases: at most 2e-4 of it), while a
wrong gradient (a flipped sign, a missing term, a factor 2) is off by about the size of the gradient, ~1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from _strategies import SETTINGS, Array, broadcast_pairs, nonzero_arrays
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3
Fn = Callable[..., Any]
FD_SETTINGS = settings(SETTINGS, max_examples=25)
small_shapes = hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)
matrix_sides = st.integers(1, 3)


def central_differences(loss: Callable[[list[Array]], float], inputs: list[Array], i: int) -> Array:
    x = inputs[i]
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + EPS
        above = loss(inputs)
        x[index] = original - EPS
        below = loss(inputs)
        x[index] = original
        grad[index] = (above - below) / (2 * EPS)
    return grad


def check(data: st.DataObject, fn: Fn, inputs: Sequence[Array]) -> None:
    """fn's gradient by backward against central differences, for every input."""
    inputs = [np.array(x, dtype=np.float64) for x in inputs]
    leaves = [minigrad.tensor(x, requires_grad=True) for x in inputs]
    out = fn(*leaves)
    g = data.draw(nonzero_arrays(np.float64, tuple(out.shape)), label="g")
    out.backward(gradient=minigrad.tensor(g))

    def loss(arrays: list[Array]) -> float:
        with minigrad.no_grad():
            return float(np.sum(fn(*(minigrad.tensor(a) for a in arrays)).numpy() * g))

    for i, leaf in enumerate(leaves):
        assert leaf.grad is not None
        numerical, analytic = central_differences(loss, inputs, i), leaf.grad.numpy()
        assert analytic.shape == numerical.shape and analytic.dtype == np.float64
        error = np.abs(analytic - numerical)
        assert (error <= ATOL + RTOL * np.abs(analytic)).all(), f"input {i}: analytic {analytic}, numerical {numerical}"


# ---------------------------------------------------------------- one tensor
# (name, fn, whether the input must be positive: fractional powers)
UNARY: list[tuple[str, Fn, bool]] = [
    ("neg", lambda x: -x, False),
    ("add number", lambda x: x + 2, False),
    ("number add", lambda x: 2.5 + x, False),
    ("sub number", lambda x: x - 2, False),
    ("rsub", lambda x: 2 - x, False),
    ("mul number", lambda x: x * 3, False),
    ("number mul", lambda x: 0.5 * x, False),
    ("div number", lambda x: x / 3, False),
    ("rdiv", lambda x: 2 / x, False),
    ("pow 2", lambda x: x**2, False),
    ("pow 3", lambda x: x**3, False),
    ("pow 4", lambda x: x.pow(4), False),
    ("pow 0", lambda x: x**0, False),
    ("pow 1", lambda x: x**1, False),
    ("pow -1", lambda x: x**-1, False),
    ("pow -2", lambda x: x**-2, False),
    ("pow -3", lambda x: x**-3, False),
    ("pow 0.5", lambda x: x**0.5, True),
    ("pow 1.5", lambda x: x**1.5, True),
    ("pow -0.5", lambda x: x**-0.5, True),
    ("x * x", lambda x: x * x, False),
    ("x / x**2", lambda x: x / x**2, False),
    ("sum", lambda x: x.sum(), False),
    ("sum dim", lambda x: x.sum(-1), False),
    ("sum dims keepdim", lambda x: x.sum(tuple(range(-x.ndim, 0)), keepdim=True), False),
    ("minigrad.sum", lambda x: minigrad.sum(x, 0), False),
    ("mean", lambda x: x.mean(), False),
    ("mean dim keepdim", lambda x: x.mean(0, keepdim=True), False),
    ("minigrad.mean", lambda x: minigrad.mean(x), False),
    ("t", lambda x: x.t() * x.t(), False),
    ("transpose", lambda x: x.transpose(0, -1) ** 2, False),
    ("composite", lambda x: ((x * x - x / 2).sum() - 1) ** 2 / (3 - x).mean(), False),
]


@pytest.mark.parametrize(("name", "fn", "positive"), UNARY, ids=[c[0] for c in UNARY])
@FD_SETTINGS
@given(data=st.data())
def test_one_tensor(name: str, fn: Fn, positive: bool, data: st.DataObject) -> None:
    check(data, fn, [data.draw(nonzero_arrays(np.float64, data.draw(small_shapes), positive))])


@FD_SETTINGS
@given(data=st.data(), x=nonzero_arrays(np.float64, (2, 3)))
def test_dot_t(data: st.DataObject, x: Array) -> None:
    check(data, lambda a: a.T * 2, [x])


# ---------------------------------------------------------------- two tensors
BINARY: list[tuple[str, Fn]] = [
    ("add", lambda a, b: a + b),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b),
    ("mixed", lambda a, b: (a - b) * (a + 1) / (b * b + 1)),
]


@pytest.mark.parametrize(("name", "fn"), BINARY, ids=[c[0] for c in BINARY])
@FD_SETTINGS
@given(data=st.data(), shapes=broadcast_pairs(max_dims=2))
def test_two_tensors(name: str, fn: Fn, data: st.DataObject, shapes: tuple[tuple[int, ...], ...]) -> None:
    check(data, fn, [data.draw(nonzero_arrays(np.float64, s)) for s in shapes])


MATMULS: list[tuple[str, Fn, tuple[int, int]]] = [
    ("mm", lambda a, b: a @ b, (2, 2)),
    ("mv", lambda a, b: a @ b, (2, 1)),
    ("dot", lambda a, b: a.matmul(b), (1, 1)),
    ("vector @ matrix", lambda a, b: minigrad.matmul(a, b), (1, 2)),
    ("mm method", lambda a, b: a.mm(b), (2, 2)),
    ("minigrad.mm", lambda a, b: minigrad.mm(a, b) * a.sum(), (2, 2)),
]


@pytest.mark.parametrize(("name", "fn", "ranks"), MATMULS, ids=[c[0] for c in MATMULS])
@FD_SETTINGS
@given(data=st.data(), n=matrix_sides, k=matrix_sides, m=matrix_sides)
def test_matmul(name: str, fn: Fn, ranks: tuple[int, int], data: st.DataObject, n: int, k: int, m: int) -> None:
    a = data.draw(nonzero_arrays(np.float64, (n, k) if ranks[0] == 2 else (k,)))
    b = data.draw(nonzero_arrays(np.float64, (k, m) if ranks[1] == 2 else (k,)))
    check(data, fn, [a, b])


# ---------------------------------------------------------------- the notebook's expressions
def predictions(x: Any, w: Any, b: Any) -> Any:
    return x @ w.t() + b


COMPOSITES: list[tuple[str, Fn]] = [
    ("mean of squares", lambda x, y, w, b: ((y - predictions(x, w, b)) ** 2).mean()),
    ("sum(d*d)/numel", lambda x, y, w, b: (lambda d: minigrad.sum(d * d) / d.numel())(y - predictions(x, w, b))),
    ("update step", lambda x, y, w, b: ((y - predictions(x, w - 1e-2 * w * w, b / 2)) ** 2).sum(0).mean()),
]


@pytest.mark.parametrize(("name", "fn"), COMPOSITES, ids=[c[0] for c in COMPOSITES])
@FD_SETTINGS
@given(data=st.data(), n=matrix_sides, k=matrix_sides, m=matrix_sides)
def test_notebook_expressions(name: str, fn: Fn, data: st.DataObject, n: int, k: int, m: int) -> None:
    shapes = [(n, k), (n, m), (m, k), (m,)]  # x, y, w, b
    check(data, fn, [data.draw(nonzero_arrays(np.float64, s)) for s in shapes])
