"""Every spelling of a covered op (function, method, operator, reflected and in-place forms, `alpha=`), and
bad input to them, against torch (tinygrad test_ops style: one line per case, the same lambda drives both).

Compared: values and gradients (to the bit for elementwise ops, within the NUMERICS bound for matrix
products and for powers with a tensor exponent, whose pow and log are not correctly rounded in torch's
Sleef kernels), dtype, shape, and the graph: each grad_fn's name and its edges in next_functions. Errors:
type and message as torch's, and a statement that raises leaves every tensor unchanged.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from _strategies import SETTINGS, Array, arrays, nonzero_arrays, shapes
from hypothesis import given
from hypothesis import strategies as st
from test_errors import Fail, Setup, in_minigrads_words, raised
from test_ops import Operand, assert_bitwise, check, matmul_grad_bounds, mod

import minigrad
from reference.bounds import gamma, matmul_bound

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns on x / 0 and the like

Fn = Callable[..., Any]


# ---------------------------------------------------------------- elementwise: to the bit
def via(x: Any) -> Any:
    """A non-leaf copy of a leaf (`x * 1`), so an in-place form can be recorded on it."""
    return x * 1


# Operands: "tt" two float tensors of one shape, "t" one tensor.
ELEMENTWISE: list[tuple[str, Fn, str]] = [
    ("minigrad.add", lambda a, b: mod(a).add(a, b), "tt"),
    ("minigrad.add keywords", lambda a, b: mod(a).add(input=a, other=b), "tt"),
    ("add", lambda a, b: a.add(b), "tt"),
    ("add alpha", lambda a, b: a.add(b, alpha=-3.125), "tt"),  # rounded once (fma), as torch's kernel
    ("add alpha 0.1", lambda a, b: mod(a).add(a, b, alpha=0.1), "tt"),
    ("minigrad.add number first", lambda a: mod(a).add(2, a, alpha=3), "t"),
    ("minigrad.sub", lambda a, b: mod(a).sub(a, b), "tt"),
    ("sub alpha", lambda a, b: a.sub(b, alpha=1.5), "tt"),
    ("minigrad.sub number first", lambda a: mod(a).sub(2.5, a), "t"),
    ("minigrad.mul", lambda a, b: mod(a).mul(a, b), "tt"),
    ("mul", lambda a, b: a.mul(b), "tt"),
    ("minigrad.div", lambda a, b: mod(a).div(a, b), "tt"),
    ("div", lambda a, b: a.div(b), "tt"),
    ("minigrad.div number first", lambda a: mod(a).div(3, a), "t"),
    ("minigrad.neg", lambda a: mod(a).neg(a), "t"),
    ("neg", lambda a: a.neg(), "t"),
    ("minigrad.clone", lambda a: mod(a).clone(a) * 2, "t"),
    ("clone", lambda a: a.clone(), "t"),
    ("minigrad.t", lambda a: mod(a).t(a if a.ndim <= 2 else a.sum(0)), "t"),
    ("minigrad.transpose", lambda a: mod(a).transpose(a, 0, -1), "t"),
    ("__radd__ tensor", lambda a, b: a.__radd__(b), "tt"),
    ("__rsub__ tensor", lambda a, b: a.__rsub__(b), "tt"),  # RsubBackward0, edges (a, b)
    ("__rmul__ tensor", lambda a, b: a.__rmul__(b), "tt"),
    ("__rtruediv__ tensor", lambda a, b: a.__rtruediv__(b), "tt"),
    ("number ** tensor, exact powers", lambda a: 2 ** (a * 0 + 3), "t"),
    ("add_", lambda a, b: via(a).add_(b, alpha=2), "tt"),
    ("sub_", lambda a, b: via(a).sub_(b, alpha=-0.3), "tt"),
    ("mul_", lambda a: via(a).mul_(2.5), "t"),  # (mul_ by a tensor that requires grad: engine, README)
    ("div_", lambda a: via(a).div_(3), "t"),
    ("neg_", lambda a: via(a).neg_(), "t"),
    ("numpy scalars", lambda a, b: (a + np.float32(0.1)) * np.int64(3) - b.sub(np.float64(2)), "tt"),
    ("in-place numpy scalars", lambda a: via(a).__isub__(np.float64(0.1)).__imul__(np.int64(3)), "t"),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "fn", "operands"), ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
@SETTINGS
@given(data=st.data())
def test_elementwise_spellings(name: str, fn: Fn, operands: str, dtype: type, data: st.DataObject) -> None:
    shape = data.draw(shapes)
    inputs: list[Operand] = [data.draw(arrays(dtype, shape, special=True)) for _ in operands]
    check(data, fn, inputs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_alpha_is_rounded_once_at_the_edges(dtype: type) -> None:
    """`a.add(b, alpha=y)` on the values where a fused multiply-add is hard to emulate: an exact result just
    below a tie after one rounding (z + x·y rounded twice lands on the tie and goes to even: wrong), zeros of
    both signs, subnormals, the largest finite values (products that overflow while the sum does not), inf
    and nan; against torch, to the bit."""
    p = 24 if dtype == np.float32 else 53
    half = 2.0 ** -(p // 2 + 1 if dtype == np.float32 else 26)
    just_below_tie = ([1 + 2.0 ** (1 - p)], [half * (1 + 2.0 ** (1 - p))], half * (1 - 2.0 ** (1 - p)))
    if dtype == np.float64:  # the product alone then rounds onto the tie
        just_below_tie = ([1 + 2.0**-52], [2.0**-26 * (1 + 2.0**-52)], 2.0**-27 * (1 - 2.0**-52))
    info = np.finfo(dtype)
    edges = [0.0, -0.0, 1.0, -1.5, float(info.max), -float(info.max), float(info.tiny), float(info.tiny) / 8]
    edges += [float(info.eps), np.inf, -np.inf, np.nan, 3.0e-300 if dtype == np.float64 else 3.0e-40]
    pairs: Array = np.array(list(itertools.product(edges, repeat=2)), dtype)
    a, b = pairs[:, 0], pairs[:, 1]
    alphas = (-3.125, 0.1, 2.0, 1e-30, -0.0, float(info.max))
    cases: list[tuple[Any, Any, float]] = [just_below_tie, *[(a, b, alpha) for alpha in alphas]]
    for z, x, alpha in cases:
        mine = minigrad.tensor(np.array(z, dtype)).add(minigrad.tensor(np.array(x, dtype)), alpha=alpha)
        theirs = torch.tensor(np.array(z, dtype)).add(torch.tensor(np.array(x, dtype)), alpha=alpha)
        assert_bitwise(mine.numpy(), theirs.numpy(), f"alpha={alpha}")


# ---------------------------------------------------------------- powers of and by tensors: within a bound
# pow and log are not correctly rounded in torch (Sleef, 1 ulp) nor in numpy (glibc, < 1 ulp): each result
# is within 2u of the exact value. Forward a^b: one such rounding (γ_2·|a^b| covers both engines' errors in
# the comparison |mine - torch| <= 2B). The base's gradient g·(b·a^(b-1)): a pow and two products, γ_4. The
# exponent's gradient g·(r·log a): r and log each within 2u, two products: γ_6. Exact values in long double.
def exact_pow_bounds(a: Array, b: Array, g: Array) -> list[Array | None]:
    x, e, gl = (np.asarray(v, dtype=np.longdouble) for v in (a, b, g))
    base_grad = np.abs(gl * e * x ** (e - 1))
    exponent_grad = np.abs(gl * x**e * np.log(x))
    return [gamma(4, a.dtype) * base_grad.astype(np.float64), gamma(6, a.dtype) * exponent_grad.astype(np.float64)]


POWERS: list[tuple[str, Fn]] = [
    ("a ** b", lambda a, b: a**b),
    ("a.pow(b)", lambda a, b: a.pow(b)),
    ("minigrad.pow(a, b)", lambda a, b: mod(a).pow(a, b)),
    ("b.__rpow__(a)", lambda a, b: b.__rpow__(a)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "fn"), POWERS, ids=[c[0] for c in POWERS])
@SETTINGS
@given(data=st.data())
def test_tensor_exponents(name: str, fn: Fn, dtype: type, data: st.DataObject) -> None:
    shape = data.draw(shapes)
    a, b = data.draw(nonzero_arrays(dtype, shape, positive=True)), data.draw(nonzero_arrays(dtype, shape))
    exact = np.asarray(a, dtype=np.longdouble) ** np.asarray(b, dtype=np.longdouble)
    forward_bound = (gamma(2, dtype) * np.abs(exact)).astype(np.float64)
    check(data, fn, [a, b], forward_bound, lambda g: exact_pow_bounds(a, b, g))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("base", [2, 2.5, 0.5, 1])
@SETTINGS
@given(data=st.data())
def test_number_to_a_tensor_power(base: float, dtype: type, data: st.DataObject) -> None:
    """`number ** tensor` (PowBackward2): the gradient is g·(r·log(base)), log(base) in double then rounded."""
    e = data.draw(nonzero_arrays(dtype, data.draw(shapes)))
    exact = np.longdouble(base) ** np.asarray(e, dtype=np.longdouble)
    bound = (gamma(2, dtype) * np.abs(exact)).astype(np.float64)

    def grad_bound(g: Array) -> list[Array | None]:
        return [(gamma(6, dtype) * np.abs(g * exact * np.log(np.longdouble(base)))).astype(np.float64)]

    check(data, lambda x: base**x, [e], bound, grad_bound)


# ---------------------------------------------------------------- matrix products: within a bound
MATMULS: list[tuple[str, Fn, tuple[int, int]]] = [
    ("minigrad.mv", lambda a, b: mod(a).mv(a, b), (2, 1)),
    ("mv", lambda a, b: a.mv(b), (2, 1)),
    ("minigrad.dot", lambda a, b: mod(a).dot(a, b), (1, 1)),
    ("dot", lambda a, b: a.dot(b), (1, 1)),
    ("__rmatmul__ mm", lambda a, b: b.__rmatmul__(a), (2, 2)),
    ("__rmatmul__ vector @ matrix", lambda a, b: b.__rmatmul__(a), (1, 2)),
    ("minigrad.matmul keywords", lambda a, b: mod(a).matmul(input=a, other=b), (2, 2)),
    ("minigrad.mm", lambda a, b: mod(a).mm(a, mat2=b), (2, 2)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "fn", "ranks"), MATMULS, ids=[c[0] for c in MATMULS])
@SETTINGS
@given(data=st.data(), n=st.integers(1, 5), k=st.integers(1, 5), m=st.integers(1, 5))
def test_matmul_spellings(
    name: str, fn: Fn, ranks: tuple[int, int], dtype: type, data: st.DataObject, n: int, k: int, m: int
) -> None:
    a = data.draw(arrays(dtype, (n, k) if ranks[0] == 2 else (k,)))
    b = data.draw(arrays(dtype, (k, m) if ranks[1] == 2 else (k,)))
    a2, b2 = (a if a.ndim == 2 else a[None, :]), (b if b.ndim == 2 else b[:, None])
    check(
        data,
        fn,
        [a, b],
        matmul_bound(a2, b2, dtype).reshape(np.matmul(a, b).shape),
        lambda g: matmul_grad_bounds(a, b, g),
    )


# ---------------------------------------------------------------- the graph, dtype and shape of each spelling
def graph(node: Any) -> Any:
    """A grad_fn as (name, [its edges' graphs]), None for an edge to nothing; leaves as "AccumulateGrad"."""
    if node is None:
        return None
    name = node.name().removeprefix("torch::autograd::")
    return name, [graph(child) for child, _ in node.next_functions]


def on_leaves(fn: Fn, *rows: Any) -> Callable[[ModuleType], Any]:
    """A sample: `fn` on leaves that require grad, made from `rows`."""
    return lambda lib: fn(*[lib.tensor(row, requires_grad=True) for row in rows])


SQUARE = [[1.5, -2.0], [0.25, 3.0]]
SAMPLES: dict[str, Callable[[ModuleType], Any]] = {
    **{name: on_leaves(fn, *[SQUARE] * len(kinds)) for name, fn, kinds in ELEMENTWISE},
    **{name: on_leaves(fn, [1.5, 2.0], [0.5, -2.0]) for name, fn in POWERS},
    "pow_ number": lambda lib: via(lib.tensor([1.5, 2.0], requires_grad=True)).pow_(2),
    "**= number": lambda lib: via(lib.tensor([1.5, 2.0], requires_grad=True)).__ipow__(3),
    "pow_ tensor": lambda lib: via(lib.tensor([1.5, 2.0], requires_grad=True)).pow_(lib.tensor([2.0, 0.5])),
    "**= tensor": lambda lib: via(lib.ones(2)).__ipow__(lib.tensor([2.0, 0.5], requires_grad=True)),
    "number ** tensor": lambda lib: 2.5 ** lib.tensor([1.0, 2.0], requires_grad=True),
    "0-d tensor ** tensor": lambda lib: lib.tensor(2.0) ** lib.tensor([1.0, 2.0], requires_grad=True),
    "tensor ** 0-d tensor": lambda lib: lib.tensor([1.0, 2.0], requires_grad=True) ** lib.tensor(2.0),
    "int ** int tensor": lambda lib: 2 ** lib.tensor([1, 2, -1]),
    "int tensor ** negative int tensor": lambda lib: lib.tensor([-1, 1, 3, 2]) ** lib.tensor([-3, -2, -3, 0]),
    "float ** int tensor": lambda lib: 2.5 ** lib.tensor([1, 2]),
    "int tensor ** float tensor": lambda lib: lib.tensor([1, 2]) ** lib.tensor([0.5, 2.0]),
    "0 ** tensor": lambda lib: 0 ** lib.tensor([0.0, 1.0, -1.0], requires_grad=True),
    "__rsub__ number": lambda lib: lib.tensor([1.0, 2.0], requires_grad=True).__rsub__(10),
    "minigrad.add number first": lambda lib: lib.add(2, lib.tensor([1.0], requires_grad=True), alpha=3),
    "int add alpha": lambda lib: lib.tensor([1, 2]).add(lib.tensor([3, 4]), alpha=2),
    "int tensor add float number alpha": lambda lib: lib.tensor([1, 2]).add(1.5, alpha=0.5),
    "__rmatmul__ mv": lambda lib: lib.ones(3, requires_grad=True).__rmatmul__(lib.ones(2, 3)),
    "minigrad.mv": lambda lib: lib.mv(lib.ones(2, 3, requires_grad=True), lib.ones(3, requires_grad=True)),
    "minigrad.dot": lambda lib: lib.dot(lib.ones(3), lib.ones(3, requires_grad=True)),
    "int mm": lambda lib: lib.mm(lib.ones(2, 3, dtype=lib.int64), lib.ones(3, 2, dtype=lib.int64)),
    "float ones + 2**63": lambda lib: lib.ones(2) + 2**63,
    "int + 2**63 wraps": lambda lib: lib.tensor([1]) + 2**63,
    "float + int beyond 2**53": lambda lib: lib.ones(1) * (2**60 + 2**36 + 1),  # rounded once, not twice
    "0-d sum((0,))": lambda lib: lib.tensor(1.0, requires_grad=True).sum((0,)),
    "0-d transpose(0, -1)": lambda lib: lib.tensor(1.0, requires_grad=True).transpose(0, -1),
    "bare no_grad decorator": lambda lib: lib.no_grad(lambda x: x * 2)(lib.ones(2, requires_grad=True)),
    "requires_grad_() on a view": lambda lib: lib.ones(2, 3).t().requires_grad_(),
    "requires_grad_() on a view of a leaf that requires grad": lambda lib: on_leaves(lambda w: w.t(), SQUARE)(
        lib
    ).requires_grad_(),
    "tensor(2**64, dtype=float32)": lambda lib: lib.tensor(2**64, dtype=lib.float32),
    "tensor(-2.7, dtype=long)": lambda lib: lib.tensor([-2.7, 2.7], dtype=lib.long),
    "tensor of tuples": lambda lib: lib.tensor(((1, 2), (3, 4))),
    "tensor([[], []])": lambda lib: lib.tensor([[], []]),
    "zeros(numpy int)": lambda lib: lib.zeros(np.int64(2), 3),
    "ones(Size)": lambda lib: lib.ones(lib.ones(2, 3).shape),
    "transpose(numpy int, 1)": lambda lib: lib.ones(2, 3, requires_grad=True).transpose(np.int64(0), 1),
}


@pytest.mark.parametrize(("name", "make"), SAMPLES.items(), ids=list(SAMPLES))
def test_same_graph_dtype_and_values(name: str, make: Callable[[ModuleType], Any]) -> None:
    mine, theirs = make(minigrad), make(torch)
    assert mine.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert tuple(mine.shape) == tuple(theirs.shape)
    assert mine.requires_grad == theirs.requires_grad
    assert graph(mine.grad_fn) == graph(theirs.grad_fn)
    values_mine, values_theirs = mine.detach().numpy(), theirs.detach().numpy()
    if "**" in name or "pow" in name:  # pow is not correctly rounded: test_tensor_exponents bounds it
        return
    if values_mine.dtype.kind == "f":  # these small cases are exact in both engines
        np.testing.assert_array_equal(values_mine, values_theirs, strict=True)
    else:
        assert values_mine.tolist() == values_theirs.tolist()


def test_backward_takes_a_sequence_of_one_gradient() -> None:
    for lib in (minigrad, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        (w * 3).sum().backward([lib.tensor(2.0)])
        assert w.grad.tolist() == [6.0, 6.0], lib.__name__


# ---------------------------------------------------------------- bad input: torch's error, nothing changed
def pair(lib: ModuleType) -> dict[str, Any]:
    return {"a": lib.tensor([1.0, 2.0, 3.0], requires_grad=True), "m": lib.ones(2, 3)}


def ints(lib: ModuleType) -> dict[str, Any]:
    return {"i": lib.tensor([1, 2]), "j": lib.tensor([3, 4])}


def none(lib: ModuleType) -> dict[str, Any]:
    return {}


def non_leaf(lib: ModuleType) -> dict[str, Any]:
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    return {"w": w, "h": w * 2}


def f64(lib: ModuleType) -> Any:
    return lib.float64


ERRORS: dict[str, tuple[Setup, Fail]] = {
    # wrong types
    "add a string": (pair, lambda lib, t: t["a"].add("x")),
    "minigrad.add a string": (pair, lambda lib, t: lib.add(t["a"], "x")),
    "minigrad.add a string first": (pair, lambda lib, t: lib.add("x", t["a"])),
    "+ a string": (pair, lambda lib, t: t["a"] + "x"),
    "+ None": (pair, lambda lib, t: t["a"] + None),
    "None +": (pair, lambda lib, t: None + t["a"]),
    "- a list": (pair, lambda lib, t: t["a"] - [1.0]),
    "** a string": (pair, lambda lib, t: t["a"] ** "x"),
    "a string **": (pair, lambda lib, t: "x" ** t["a"]),
    "@ a number": (pair, lambda lib, t: t["a"] @ 2),
    "a number @": (pair, lambda lib, t: 2 @ t["a"]),
    "matmul a number": (pair, lambda lib, t: t["a"].matmul(2)),
    "minigrad.matmul a number": (pair, lambda lib, t: lib.matmul(t["a"], 2)),
    "mm a number": (pair, lambda lib, t: t["m"].mm(2)),
    "mv a number": (pair, lambda lib, t: t["m"].mv(2)),
    "dot a number": (pair, lambda lib, t: t["a"].dot(2)),
    "minigrad.neg of a number": (none, lambda lib, t: lib.neg(2)),
    "add_ a string": (non_leaf, lambda lib, t: t["h"].add_("x")),
    "+= a string": (non_leaf, lambda lib, t: t["h"].__iadd__("x") + 1),  # NotImplemented + 1
    "/= None": (non_leaf, lambda lib, t: t["h"].__itruediv__(None) + 1),
    "**= a list": (non_leaf, lambda lib, t: t["h"].__ipow__([1.0]) + 1),
    "alpha a string": (pair, lambda lib, t: t["a"].add(t["a"], alpha="x")),
    "bool alpha": (pair, lambda lib, t: t["a"].add(t["a"], alpha=True)),
    "float alpha for ints": (ints, lambda lib, t: t["i"].add(t["j"], alpha=0.5)),
    "float alpha for ints, sub_": (ints, lambda lib, t: t["i"].sub_(1, alpha=0.5)),
    "alpha beyond float32": (pair, lambda lib, t: t["a"].add(t["a"], alpha=1e300)),
    # numbers out of range
    "ones(2) + 2**64": (pair, lambda lib, t: lib.ones(2) + 2**64),
    "ones(2) - 10**400": (pair, lambda lib, t: lib.ones(2) - 10**400),
    "ones(2) * -2**63 - 1": (pair, lambda lib, t: lib.ones(2) * (-(2**63) - 1)),
    "2**64 / ones(2)": (pair, lambda lib, t: 2**64 / lib.ones(2)),
    "int tensor * 2**64": (ints, lambda lib, t: t["i"] * 2**64),
    "ones(2) ** 2**64": (pair, lambda lib, t: lib.ones(2) ** 2**64),
    "2**64 ** ones(2)": (pair, lambda lib, t: (2**64) ** lib.ones(2)),
    "+= 2**64": (ints, lambda lib, t: t["i"].__iadd__(2**64)),
    # dims of a 0-d tensor
    "0-d sum((0, -1))": (none, lambda lib, t: lib.tensor(1.0).sum((0, -1))),
    "0-d mean((0, 0))": (none, lambda lib, t: lib.tensor(1.0).mean((0, 0))),
    "0-d transpose(0, 1)": (none, lambda lib, t: lib.tensor(1.0).transpose(0, 1)),
    "1-D transpose(0, 1)": (none, lambda lib, t: lib.ones(3).transpose(0, 1)),
    "0-d size(0)": (none, lambda lib, t: lib.tensor(1.0).size(0)),
    "0-d size(-1)": (none, lambda lib, t: lib.tensor(1.0).size(-1)),
    # matrix products: ranks, dtypes, and which check comes first
    "mv of a vector": (none, lambda lib, t: lib.mv(lib.ones(3), lib.ones(3))),
    "mv by a matrix": (none, lambda lib, t: lib.ones(2, 3).mv(lib.ones(3, 1))),
    "mv dtypes": (none, lambda lib, t: lib.mv(lib.ones(2, 3), lib.ones(3, dtype=f64(lib)))),
    "mv dtypes, other way": (none, lambda lib, t: lib.ones(2, 3, dtype=f64(lib)) @ lib.ones(3)),
    "mv dtypes and sizes": (none, lambda lib, t: lib.mv(lib.ones(2, 3), lib.ones(4, dtype=f64(lib)))),
    "dot of matrices": (none, lambda lib, t: lib.dot(lib.ones(2, 3), lib.ones(3))),
    "dot of 0-d": (none, lambda lib, t: lib.tensor(1.0).dot(lib.tensor(1.0))),
    "dot dtypes": (none, lambda lib, t: lib.dot(lib.ones(3), lib.ones(3, dtype=f64(lib)))),
    "dot dtypes and sizes": (none, lambda lib, t: lib.ones(3) @ lib.ones(4, dtype=lib.int64)),
    "mm dtypes and sizes": (none, lambda lib, t: lib.mm(lib.ones(2, 3), lib.ones(4, 2, dtype=f64(lib)))),
    "mm of a vector and dtypes": (none, lambda lib, t: lib.mm(lib.ones(3), lib.ones(3, 2, dtype=f64(lib)))),
    "minigrad.t of 3-D": (none, lambda lib, t: lib.t(lib.ones(2, 2, 2))),
    # argument types of the rest
    "transpose(0, 1.0)": (pair, lambda lib, t: t["m"].transpose(0, 1.0)),
    "transpose(True, 1)": (pair, lambda lib, t: t["m"].transpose(True, 1)),
    "minigrad.transpose(m, 0, 1.0)": (pair, lambda lib, t: lib.transpose(t["m"], 0, 1.0)),
    "size(1.0)": (pair, lambda lib, t: t["m"].size(1.0)),
    "requires_grad_(1)": (pair, lambda lib, t: t["m"].requires_grad_(1)),
    "requires_grad_(numpy bool)": (pair, lambda lib, t: t["m"].requires_grad_(np.bool_(True))),
    "requires_grad = 1": (pair, lambda lib, t: setattr(t["m"], "requires_grad", 1)),
    # requires_grad_ on views: which check comes first
    "int view requires_grad_()": (ints, lambda lib, t: t["i"].t().requires_grad_()),
    "non-leaf view requires_grad_(False)": (pair, lambda lib, t: t["a"].t().requires_grad_(False)),
    # making tensors
    "tensor(inf, dtype=long)": (none, lambda lib, t: lib.tensor(float("inf"), dtype=lib.long)),
    "tensor([1., nan], dtype=long)": (none, lambda lib, t: lib.tensor([1.0, float("nan")], dtype=lib.long)),
    "tensor(1e20, dtype=long)": (none, lambda lib, t: lib.tensor(1e20, dtype=lib.long)),
    "tensor(2**63)": (none, lambda lib, t: lib.tensor(2**63)),
    "tensor([1, -2**63 - 1])": (none, lambda lib, t: lib.tensor([1, -(2**63) - 1])),
    "ragged": (none, lambda lib, t: lib.tensor([[1, 2], [3]])),
    "ragged deeper": (none, lambda lib, t: lib.tensor([[[1]], [[2, 3]]])),
    "ragged with a dtype": (none, lambda lib, t: lib.tensor([[1.0, 2.0], [3.0]], dtype=lib.float64)),
    "a number among lists": (none, lambda lib, t: lib.tensor([[1, 2], 3])),
    "a list among ints": (none, lambda lib, t: lib.tensor([1, [2, 3]])),
    "a list among floats": (none, lambda lib, t: lib.tensor([1.5, [2, 3]])),
    "tensor of a string": (none, lambda lib, t: lib.tensor("a")),
    "tensor of None": (none, lambda lib, t: lib.tensor([1.0, None])),
    "zeros(-1)": (none, lambda lib, t: lib.zeros(-1)),
    "zeros((2, -1))": (none, lambda lib, t: lib.zeros((2, -1))),
    "ones(2, -3)": (none, lambda lib, t: lib.ones(2, -3)),
    "randn(-1)": (none, lambda lib, t: lib.randn(-1)),
    "zeros(2.5)": (none, lambda lib, t: lib.zeros(2.5)),
    "ones(2, 2.5)": (none, lambda lib, t: lib.ones(2, 2.5)),
    "zeros([2.5])": (none, lambda lib, t: lib.zeros([2.5])),
    "zeros(numpy float)": (none, lambda lib, t: lib.zeros(np.float64(2))),
    "zeros('a')": (none, lambda lib, t: lib.zeros("a")),
    "zeros(True)": (none, lambda lib, t: lib.zeros(True)),
    "zeros()": (none, lambda lib, t: lib.zeros()),
    "randn(2.5)": (none, lambda lib, t: lib.randn(2.5)),
    # backward's gradient
    "backward(1.0)": (pair, lambda lib, t: (t["a"] * 2).sum().backward(1.0)),
    "backward(2)": (pair, lambda lib, t: (t["a"] * 2).sum().backward(2)),
    "backward('x')": (pair, lambda lib, t: (t["a"] * 2).sum().backward("x")),
    "backward([1.0])": (pair, lambda lib, t: (t["a"] * 2).sum().backward([1.0])),
    "backward([])": (pair, lambda lib, t: (t["a"] * 2).sum().backward([])),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("setup", "fail"), ERRORS.values(), ids=list(ERRORS))
def test_same_error_as_torch(setup: Setup, fail: Fail) -> None:
    expected, *_ = raised(torch, setup, fail)
    actual, before, after = raised(minigrad, setup, fail)
    assert type(actual) is type(expected) or type(actual).__mro__[1] is type(expected)  # ArgumentTypeError
    assert str(actual) == in_minigrads_words(str(expected))
    assert after == before  # a failed statement changes no tensor


def test_a_numpy_scalar_is_a_number() -> None:
    for lib in (minigrad, torch):
        out = lib.ones(2) + np.int64(2)  # numpy would widen float32 with an int64 scalar; torch does not
        assert str(out.dtype).endswith("float32"), lib.__name__
