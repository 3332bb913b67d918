"""Every op, forward and gradients, against torch on hypothesis-drawn shapes and values (tinygrad's
test_ops style: one line per op case, the same lambda drives both engines).

How results are compared (NUMERICS.md §1-2):
- dtype and shape always exactly;
- an elementwise result, and a gradient that is elementwise in the output's gradient, to the bit (nan
  equal to nan): IEEE rounds each + - * / the same in numpy and torch;
- a reduction (sum, mean, matmul, and the gradient of an input the op broadcast, which is summed over the
  broadcast dims) within 2 * B, B from reference/bounds.py: each engine is within B of the exact result,
  whatever order it adds in. Each bound is derived where it is computed.
Gradients come from `out.backward(gradient=g)` with a drawn g, not from `(out * g).sum()`, whose final sum
would make every gradient a reduction.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from _strategies import FEW, SETTINGS, Array, arrays, broadcast_pairs, matrix_sides, numbers, shapes
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from reference.bounds import gamma, matmul_bound, sum_bound

torch = pytest.importorskip("torch")

# numpy warns on x / 0, 0 * inf and the like; torch computes the same inf and nan silently.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

Operand = Array | int | float
Fn = Callable[..., Any]
Bounds = Sequence[Array | None]  # per input: None for "to the bit", else B (compared as |mine - torch| <= 2B)


def mod(x: Any) -> Any:
    """The engine a tensor belongs to, so one lambda can call `torch.sum` or `minigrad.sum`."""
    return torch if isinstance(x, torch.Tensor) else minigrad


def leaf(lib: Any, x: Operand) -> Any:
    """A fresh leaf from an array (it requires grad when it can: float); a Python number stays a number."""
    return lib.tensor(x, requires_grad=x.dtype.kind == "f") if isinstance(x, np.ndarray) else x


# ---------------------------------------------------------------- comparisons
def bits(x: Array) -> Array:
    return x.view({4: np.uint32, 8: np.uint64}[x.itemsize]) if x.dtype.kind == "f" else x


def assert_bitwise(mine: Array, theirs: Array, what: str) -> None:
    assert (mine.dtype, mine.shape) == (theirs.dtype, theirs.shape), what
    same = bits(mine) == bits(theirs)
    if mine.dtype.kind == "f":
        same |= np.isnan(mine) & np.isnan(theirs)
    assert same.all(), f"{what}: not equal to the bit: minigrad {mine[~same][:4]}, torch {theirs[~same][:4]}"


def assert_within(mine: Array, theirs: Array, bound: Array, what: str) -> None:
    """|mine - torch| <= 2 * bound where both are finite; where either is not (an inf or nan term), both
    must be the same: such a sum is inf or nan in any order."""
    assert (mine.dtype, mine.shape) == (theirs.dtype, theirs.shape), what
    finite = np.isfinite(mine) & np.isfinite(theirs)
    zero = mine.dtype.type(0)
    assert_bitwise(np.where(finite, zero, mine), np.where(finite, zero, theirs), what + " (non-finite)")
    error = np.abs(mine.astype(np.float64) - theirs.astype(np.float64))
    limit = 2 * np.reshape(bound, mine.shape)
    over = finite & ~(error <= limit)
    assert not over.any(), f"{what}: |minigrad - torch| {error[over][:4]} > 2B {limit[over][:4]}"


def assert_same(mine: Array, theirs: Array, bound: Array | None, what: str) -> None:
    if bound is None:
        assert_bitwise(mine, theirs, what)
    else:
        assert_within(mine, theirs, bound, what)


def check(
    data: st.DataObject,
    fn: Fn,
    inputs: Sequence[Operand],
    bound: Array | None = None,
    grad_bounds: Callable[[Array], Bounds] | None = None,
) -> None:
    """Run `fn` on minigrad and on torch leaves made from the same inputs; compare the results, then
    backpropagate the same drawn gradient through both and compare every input's gradient."""
    mine, theirs = [leaf(minigrad, x) for x in inputs], [leaf(torch, x) for x in inputs]
    out_mine, out_theirs = fn(*mine), fn(*theirs)
    assert_same(out_mine.detach().numpy(), out_theirs.detach().numpy(), bound, "forward")
    assert out_mine.requires_grad == out_theirs.requires_grad
    if not out_theirs.requires_grad:
        return
    g = data.draw(arrays(out_theirs.detach().numpy().dtype, tuple(out_theirs.shape)), label="gradient")
    out_mine.backward(gradient=minigrad.tensor(g))
    out_theirs.backward(gradient=torch.tensor(g))
    bounds = grad_bounds(g) if grad_bounds is not None else [None] * len(inputs)
    for i, (m, t, b) in enumerate(zip(mine, theirs, bounds, strict=True)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            assert m.grad is not None and t.grad is not None, f"gradient of input {i}"
            assert_same(m.grad.numpy(), t.grad.numpy(), b, f"gradient of input {i}")


# ---------------------------------------------------------------- elementwise
def broadcast_grad_bounds(fn: Fn, inputs: Sequence[Operand], g: Array) -> list[Array | None]:
    """An input of the output's shape gets its gradient terms as they are: to the bit. An input the op
    broadcast gets the sum, over the broadcast dims, of the terms T it would get had it been expanded to
    the output's shape first. Both engines compute the same T (elementwise, to the bit: torch gives it here)
    and add it in their own order, so each is within sum_bound(T) (γ_(n-1)·Σ|T|) of the exact sum of T."""
    out_shape = np.broadcast_shapes(*(np.shape(x) for x in inputs))
    bounds: list[Array | None] = []
    for i, x in enumerate(inputs):
        if not isinstance(x, np.ndarray) or x.shape == out_shape:
            bounds.append(None)
            continue
        expanded = [leaf(torch, np.broadcast_to(y, out_shape).copy() if j == i else y) for j, y in enumerate(inputs)]
        fn(*expanded).backward(gradient=torch.tensor(g))
        terms = expanded[i].grad.numpy()
        lead = len(out_shape) - x.ndim
        stretched = tuple(lead + d for d, n in enumerate(x.shape) if n == 1 and out_shape[lead + d] != 1)
        bounds.append(sum_bound(terms, tuple(range(lead)) + stretched, x.dtype).reshape(x.shape))
    return bounds


# Operands: "tt" two broadcastable tensors, "tn" a tensor and a Python number, "t" one tensor.
ELEMENTWISE: list[tuple[str, Fn, str]] = [
    ("add", lambda a, b: a + b, "tt"),
    ("add_number", lambda a, n: a + n, "tn"),
    ("radd_number", lambda a, n: n + a, "tn"),
    ("sub", lambda a, b: a - b, "tt"),
    ("sub_number", lambda a, n: a - n, "tn"),
    ("rsub_number", lambda a, n: n - a, "tn"),
    ("mul", lambda a, b: a * b, "tt"),
    ("mul_number", lambda a, n: a * n, "tn"),
    ("rmul_number", lambda a, n: n * a, "tn"),
    ("div", lambda a, b: a / b, "tt"),
    ("div_number", lambda a, n: a / n, "tn"),
    ("rdiv_number", lambda a, n: n / a, "tn"),
    ("two_over", lambda a: 2 / a, "t"),
    ("neg", lambda a: -a, "t"),
    ("chain", lambda a, b: (a - b) * (b + 1) / (2 - a), "tt"),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "fn", "operands"), ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
@SETTINGS
@given(data=st.data())
def test_elementwise(name: str, fn: Fn, operands: str, dtype: type, data: st.DataObject) -> None:
    if operands == "tt":
        shape_a, shape_b = data.draw(broadcast_pairs())
        inputs: list[Operand] = [data.draw(arrays(dtype, s, special=True)) for s in (shape_a, shape_b)]
    else:
        inputs = [data.draw(arrays(dtype, data.draw(shapes), special=True))]
        inputs += [data.draw(numbers)] if operands == "tn" else []
    check(data, fn, inputs, grad_bounds=lambda g: broadcast_grad_bounds(fn, inputs, g))


# ---------------------------------------------------------------- powers
# torch's CPU kernel computes these exponents with IEEE + - * / (x*x, x*x*x, 1/(x*x), 1/x) or 1/sqrt(x), which
# minigrad's `ops.power` copies, so they agree to the bit. Any other exponent calls pow (torch: Sleef's
# pow_u10 or std::pow; numpy: glibc pow), and 0.5 calls torch's sqrt, which in this torch build (MKL) is
# not correctly rounded: measured, 1.3% of float32 square roots are 1 ulp off numpy's. There each engine is
# within 1 ulp <= 2u·|x| of the exact power, i.e. within γ_2·|x^e|; the forward is compared against
# B = γ_2·|x^e|, and the gradient g·(e·x^(e-1)), two more roundings, against B = γ_4·|g·e·x^(e-1)|.
EXACT_POWERS = {0, 1, 2, 3, -1, -2, -0.5}
EXPONENTS = [2, 3, 0.5, -1, 0, 1, 1.5, -0.5, -2, 2.5, 4, -3, 2.0, 3.0, 0.0, -1.0]


def pow_bound(x: Array, e: float, g: Array | None = None) -> Array | None:
    if e in EXACT_POWERS if g is None else (e == 0 or e - 1 in EXACT_POWERS):
        return None
    exact = np.longdouble  # 64-bit significand on x86-64: error far below float64's unit roundoff
    if g is None:
        return np.asarray(gamma(2, x.dtype) * np.abs(np.power(x.astype(exact), e)), dtype=np.float64)
    value = np.abs(g.astype(exact) * e * np.power(x.astype(exact), e - 1))
    return np.asarray(gamma(4, x.dtype) * value, dtype=np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("exponent", EXPONENTS, ids=repr)
@SETTINGS
@given(data=st.data())
def test_pow(exponent: float, dtype: type, data: st.DataObject) -> None:
    x = data.draw(arrays(dtype, data.draw(shapes), special=True))
    check(data, lambda a: a**exponent, [x], pow_bound(x, exponent), lambda g: [pow_bound(x, exponent, g)])


@SETTINGS
@given(data=st.data(), x=arrays(np.float32, (2, 3)))
def test_pow_method(data: st.DataObject, x: Array) -> None:
    check(data, lambda a: a.pow(2), [x])


# ---------------------------------------------------------------- reductions
def dims(ndim: int) -> st.SearchStrategy[int | tuple[int, ...]]:
    """A valid `dim`: one dim or a tuple of distinct dims, each possibly negative (a 0-d tensor has dim 0)."""
    rank = max(ndim, 1)
    one = st.integers(-rank, rank - 1)
    several = st.lists(st.integers(0, rank - 1), unique=True, max_size=rank)
    negated = several.flatmap(lambda ds: st.tuples(*(st.sampled_from([d, d - rank]) for d in ds)))
    return st.one_of(one, negated)


def axes(x: Array, dim: int | tuple[int, ...] | None) -> tuple[int, ...]:
    """The numpy axes a torch `dim` reduces (None or (): all of them)."""
    if dim is None or not x.ndim:
        return tuple(range(x.ndim))
    picked = tuple(d % x.ndim for d in ((dim,) if isinstance(dim, int) else dim))
    return picked or tuple(range(x.ndim))


def sum_of_bound(x: Array, dim: int | tuple[int, ...] | None) -> Array:
    # Σ of n terms in any order: within γ_(n-1)·Σ|x| of the exact sum (sum_bound).
    return sum_bound(x, axes(x, dim), x.dtype)


def mean_of_bound(x: Array, dim: int | tuple[int, ...] | None) -> Array:
    # torch and minigrad both compute mean as sum / n: n-1 roundings in the sum, one in the division, so
    # fl(fl(Σx)/n) = (Σx)(1+θ_n)/n and the error is at most γ_n·Σ|x|/n.
    reduced = axes(x, dim)
    n = int(np.prod([x.shape[a] for a in reduced]))
    return np.asarray(gamma(n, x.dtype) * np.abs(x.astype(np.float64)).sum(axis=reduced) / max(n, 1))


# Each gradient is the output's gradient spread back over the reduced dims (and for mean divided by n):
# elementwise, so compared to the bit. `dim` is drawn; the cases without it ignore it.
REDUCTIONS: list[tuple[str, Fn, Callable[[Array, Any], Array], bool]] = [
    ("sum", lambda x, d: x.sum(), sum_of_bound, False),
    ("sum_dim", lambda x, d: x.sum(d), sum_of_bound, True),
    ("sum_dim_keepdim", lambda x, d: x.sum(dim=d, keepdim=True), sum_of_bound, True),
    ("sum_no_dims", lambda x, d: x.sum(()), sum_of_bound, False),  # torch: no dims means all dims
    ("minigrad.sum", lambda x, d: mod(x).sum(x), sum_of_bound, False),
    ("minigrad.sum_dim", lambda x, d: mod(x).sum(x, d, keepdim=True), sum_of_bound, True),
    ("mean", lambda x, d: x.mean(), mean_of_bound, False),
    ("mean_dim", lambda x, d: x.mean(d), mean_of_bound, True),
    ("mean_dim_keepdim", lambda x, d: x.mean(dim=d, keepdim=True), mean_of_bound, True),
    ("minigrad.mean", lambda x, d: mod(x).mean(x), mean_of_bound, False),
    ("minigrad.mean_dim", lambda x, d: mod(x).mean(x, dim=d), mean_of_bound, True),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "fn", "bound", "uses_dim"), REDUCTIONS, ids=[c[0] for c in REDUCTIONS])
@SETTINGS
@given(data=st.data())
def test_reduction(
    name: str, fn: Fn, bound: Callable[[Array, Any], Array], uses_dim: bool, dtype: type, data: st.DataObject
) -> None:
    x = data.draw(arrays(dtype, data.draw(shapes)))
    dim = data.draw(dims(x.ndim)) if uses_dim else None
    check(data, lambda t: fn(t, dim), [x], bound(x, dim))


# ---------------------------------------------------------------- transposes
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@SETTINGS
@given(data=st.data())
def test_transposes(dtype: type, data: st.DataObject) -> None:
    x = data.draw(arrays(dtype, data.draw(shapes)))
    rank = max(x.ndim, 1)
    d0, d1 = data.draw(st.integers(-rank, rank - 1)), data.draw(st.integers(-rank, rank - 1))
    check(data, lambda a: a.transpose(d0, d1), [x])
    if x.ndim <= 2:
        check(data, lambda a: a.t(), [x])
    if x.ndim == 2:  # torch deprecates .T for other ranks
        check(data, lambda a: a.T, [x])
        check(data, lambda a: a.t().t() * a.T.T, [x])


# ---------------------------------------------------------------- matrix products
def as_matrices(a: Array, b: Array, g: Array | None = None) -> tuple[Array, Array, Array]:
    """torch's 1-D rules: a vector on the left is a row, on the right a column; g is the result's gradient,
    shaped as the matrix product's."""
    a2, b2 = (a if a.ndim == 2 else a[None, :]), (b if b.ndim == 2 else b[:, None])
    g2 = np.zeros((a2.shape[0], b2.shape[1])) if g is None else g.reshape(a2.shape[0], b2.shape[1])
    return a2, b2, g2


def matmul_grad_bounds(a: Array, b: Array, g: Array) -> list[Array]:
    # a.grad = g @ b.T and b.grad = a.T @ g are matrix products too: dot products of length m (resp. n).
    a2, b2, g2 = as_matrices(a, b, g)
    return [matmul_bound(g2, b2.T, a.dtype).reshape(a.shape), matmul_bound(a2.T, g2, a.dtype).reshape(b.shape)]


MATMULS: list[tuple[str, Fn, list[tuple[int, int]]]] = [
    ("@", lambda a, b: a @ b, [(2, 2), (2, 1), (1, 1), (1, 2)]),  # mm, mv, dot, vector @ matrix
    ("matmul", lambda a, b: a.matmul(b), [(2, 2), (1, 2)]),  # the same method as @: fewer cases
    ("minigrad.matmul", lambda a, b: mod(a).matmul(a, b), [(2, 1), (1, 1)]),
    ("mm", lambda a, b: a.mm(b), [(2, 2)]),
    ("minigrad.mm", lambda a, b: mod(a).mm(a, b), [(2, 2)]),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("name", "fn", "ranks"),
    [(n, f, r) for n, f, rs in MATMULS for r in rs],
    ids=[f"{n}-{r[0]}D@{r[1]}D" for n, _, rs in MATMULS for r in rs],
)
@SETTINGS
@given(data=st.data(), n=matrix_sides, k=matrix_sides, m=matrix_sides)
def test_matmul(
    name: str, fn: Fn, ranks: tuple[int, int], dtype: type, data: st.DataObject, n: int, k: int, m: int
) -> None:
    a = data.draw(arrays(dtype, (n, k) if ranks[0] == 2 else (k,)))
    b = data.draw(arrays(dtype, (k, m) if ranks[1] == 2 else (k,)))
    a2, b2, _ = as_matrices(a, b)
    # Each result element is a dot product of length k: within γ_k·Σ|a_i·b_i| (matmul_bound).
    out_bound = matmul_bound(a2, b2, dtype).reshape(np.matmul(a, b).shape)
    check(data, fn, [a, b], out_bound, lambda g: matmul_grad_bounds(a, b, g))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@SETTINGS
@given(data=st.data(), n=matrix_sides, k=matrix_sides, m=matrix_sides)
def test_x_at_w_t(dtype: type, data: st.DataObject, n: int, k: int, m: int) -> None:
    """The notebook's `x @ w.t()`: the product of x and w.T, so w.grad is the transpose of w.T's gradient."""
    x, w = data.draw(arrays(dtype, (n, k))), data.draw(arrays(dtype, (m, k)))

    def grad_bounds(g: Array) -> Bounds:
        x_bound, wt_bound = matmul_grad_bounds(x, w.T, g)
        return [x_bound, wt_bound.T]

    check(data, lambda a, b: a @ b.t(), [x, w], matmul_bound(x, w.T, dtype), grad_bounds)


# ---------------------------------------------------------------- type promotion
OPERAND_KINDS: dict[str, Any] = {
    "f32": (np.float32, (2, 3)),
    "f64": (np.float64, (2, 3)),
    "i64": (np.int64, (2, 3)),
    "f32_0d": (np.float32, ()),
    "f64_0d": (np.float64, ()),
    "i64_0d": (np.int64, ()),
    "int": int,
    "float": float,
}
PAIRS = [(a, b) for a, b in itertools.product(OPERAND_KINDS, repeat=2) if not {a, b} <= {"int", "float"}]
BINARY: dict[str, Fn] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}


def operand(kind: str) -> st.SearchStrategy[Operand]:
    spec = OPERAND_KINDS[kind]
    if spec is int:
        return st.integers(-5, 5)
    if spec is float:
        return st.sampled_from([0.5, -2.25, 0.1, 3.0])
    dtype, shape = spec
    return hnp.arrays(dtype, shape, elements=st.integers(-5, 5)) if dtype == np.int64 else arrays(dtype, shape)


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize(("left", "right"), PAIRS)
@FEW
@given(data=st.data())
def test_type_promotion(left: str, right: str, op: str, data: st.DataObject) -> None:
    """Result dtype as torch's (dimensioned tensors, then 0-d ones, then Python numbers decide; int / int is
    true division), values to the bit, and each gradient in its input's dtype and shape."""
    a, b = data.draw(operand(left)), data.draw(operand(right))
    mine, theirs = [leaf(minigrad, x) for x in (a, b)], [leaf(torch, x) for x in (a, b)]
    out_mine, out_theirs = BINARY[op](*mine), BINARY[op](*theirs)
    assert_bitwise(out_mine.detach().numpy(), out_theirs.detach().numpy(), "forward")
    if out_theirs.requires_grad:
        out_mine.backward(minigrad.ones_like(out_mine))
        out_theirs.backward(torch.ones_like(out_theirs))
        for m, t in zip(mine, theirs, strict=True):
            if isinstance(t, torch.Tensor) and t.requires_grad:
                assert (m.grad.numpy().dtype, m.grad.shape) == (t.grad.numpy().dtype, t.grad.shape)


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (lambda lib: lib.ones(2) + 0.1, "float32"),  # a Python float never widens a float tensor
        (lambda lib: lib.ones(2) * lib.ones(2, dtype=lib.float64), "float64"),
        (lambda lib: lib.tensor([1, 2]) * 0.5, "float32"),  # an int tensor with a Python float: the default float
        (lambda lib: lib.ones((), dtype=lib.float64) + lib.ones(2), "float32"),  # a 0-d tensor gives way
        (lambda lib: lib.tensor([1, 2]) / lib.tensor([2, 4]), "float32"),  # int / int is true division
        (lambda lib: 3 / lib.tensor([1, 2]), "float32"),
        (lambda lib: 1.5 - lib.tensor([1, 2]), "float32"),
        (lambda lib: lib.tensor([1, 2]) + lib.ones((), dtype=lib.float64), "float64"),  # a float 0-d beats ints
        (lambda lib: lib.tensor([1, 2]) * 3, "int64"),
        (lambda lib: lib.tensor([1, 2]) ** 0.5, "float32"),
    ],
)
def test_promotion_rules(fn: Fn, expected: str) -> None:
    mine, theirs = fn(minigrad).numpy(), fn(torch).numpy()
    assert mine.dtype == theirs.dtype == np.dtype(expected)
    assert_bitwise(mine, theirs, "forward")
