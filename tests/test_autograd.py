"""The autograd machinery: backward, accumulation, grad mode, what is (not) computed and saved, long graphs,
freed graphs, in-place ops and version counters, the graph's structure, and the Tensor's small API.

Most tests run the same code on both engines (the `lib` fixture): torch is the oracle that the expected
behaviour written here is torch's.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from _strategies import SETTINGS, Array, arrays, broadcast_pairs
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad import autograd
from reference.loop import NOTEBOOK_INPUTS, NOTEBOOK_TARGETS
from reference.notebook import printed_weights

try:
    import torch
except ImportError:  # the tests of minigrad alone still run; those that compare with torch skip
    torch = None  # type: ignore[assignment]
needs_torch = pytest.mark.skipif(torch is None, reason="compares with torch, which is not installed")
X, Y = NOTEBOOK_INPUTS.tolist(), NOTEBOOK_TARGETS.tolist()  # lists: tensor() makes them float32
W, B = (weights.tolist() for weights in printed_weights())


@pytest.fixture(params=["minigrad", pytest.param("torch", marks=needs_torch)])
def lib(request: pytest.FixtureRequest) -> ModuleType:
    return minigrad if request.param == "minigrad" else torch


def values(t: Any) -> Array:
    return np.array(t.detach().numpy())


# ---------------------------------------------------------------- backward
def test_backward_of_a_scalar(lib: ModuleType) -> None:
    w = lib.tensor(W, requires_grad=True)
    (w * w).sum().backward()
    assert np.array_equal(values(w.grad), 2 * np.array(W, np.float32))
    assert w.grad.dtype == w.dtype and w.grad.requires_grad is False and w.grad.grad_fn is None


@needs_torch
@SETTINGS
@given(data=st.data())
def test_backward_with_a_gradient_matches_torch(data: st.DataObject) -> None:
    shape_a, shape_b = data.draw(broadcast_pairs())
    a, b = data.draw(arrays(np.float32, shape_a)), data.draw(arrays(np.float32, shape_b))
    grads = []
    for engine in (minigrad, torch):
        ta, tb = engine.tensor(a, requires_grad=True), engine.tensor(b, requires_grad=True)
        out = ta * tb - ta
        g = np.arange(out.numel(), dtype=np.float32).reshape(tuple(out.shape))
        out.backward(gradient=engine.tensor(g))
        grads.append((values(ta.grad), values(tb.grad)))
    # Elementwise for an input of the output's shape; a broadcast input's gradient is a sum, compared in
    # test_ops against its bound.
    out_shape = np.broadcast_shapes(shape_a, shape_b)
    for index, shape in enumerate((shape_a, shape_b)):
        if shape == out_shape:
            assert np.array_equal(grads[0][index], grads[1][index])


def test_gradients_accumulate_in_the_same_grad_tensor(lib: ModuleType) -> None:
    w = lib.tensor(W, requires_grad=True)
    (w * 2).sum().backward()
    first = w.grad
    (w * 3).sum().backward()
    assert w.grad is first  # accumulated into the same tensor, in place, as torch does (without create_graph)
    assert np.array_equal(values(w.grad), np.full((2, 3), 5, np.float32))


def test_zero_and_reset_grad(lib: ModuleType) -> None:
    w = lib.tensor(W, requires_grad=True)
    (w * 2).sum().backward()
    grad = w.grad
    assert grad.zero_() is grad and not values(grad).any()
    (w * 3).sum().backward()
    assert w.grad is grad and np.array_equal(values(w.grad), np.full((2, 3), 3, np.float32))
    w.grad = None
    (w * 4).sum().backward()
    assert w.grad is not grad and np.array_equal(values(w.grad), np.full((2, 3), 4, np.float32))


def test_leaf_reached_twice_gets_the_sum(lib: ModuleType) -> None:
    x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x + x).sum().backward()
    assert values(x.grad).tolist() == [3.0, -3.0, 7.0]


# ---------------------------------------------------------------- grad mode
def test_grad_mode_context_managers_nest(lib: ModuleType) -> None:
    w = lib.ones(2, requires_grad=True)
    assert lib.is_grad_enabled()
    with lib.no_grad():
        assert not lib.is_grad_enabled()
        under_no_grad = w * 2
        with lib.enable_grad():
            assert lib.is_grad_enabled()
            under_enable = w * 2
            with lib.no_grad():
                assert not lib.is_grad_enabled()
            assert lib.is_grad_enabled()
        assert not lib.is_grad_enabled()
    assert lib.is_grad_enabled()
    assert not under_no_grad.requires_grad and under_no_grad.grad_fn is None and under_no_grad.is_leaf
    assert under_enable.requires_grad and under_enable.grad_fn is not None


def test_grad_mode_decorators(lib: ModuleType) -> None:
    def outer(t: Any) -> Any:
        """Doc."""
        assert not lib.is_grad_enabled()
        return inner(t)

    def inner_body(t: Any) -> Any:
        return t * 2, lib.is_grad_enabled()

    frozen, inner = lib.no_grad()(outer), lib.enable_grad()(inner_body)  # as @lib.no_grad() etc. would
    out, enabled_inside = frozen(lib.ones(2, requires_grad=True))
    assert enabled_inside and out.requires_grad
    assert frozen.__name__ == "outer" and frozen.__doc__ == "Doc."
    assert lib.is_grad_enabled()


def test_grad_mode_restored_after_an_exception(lib: ModuleType) -> None:
    with pytest.raises(ZeroDivisionError), lib.no_grad():
        1 / 0  # noqa: B018
    assert lib.is_grad_enabled()


# ---------------------------------------------------------------- what is computed and saved
@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, tuple[Array | None, ...]]]:
    """Every (node, gradients it returned) of the backward passes run while the test runs."""
    seen: list[tuple[Any, tuple[Array | None, ...]]] = []
    monkeypatch.setattr(autograd, "observer", lambda node, grad_in, grads_out: seen.append((node, grads_out)))
    return seen


CONSTANT_OPERANDS: list[Callable[[Any, Any], Any]] = [
    lambda c, w: c @ w.t(),
    lambda c, w: w @ c.t(),
    lambda c, w: c.sum(0) @ w.t(),
    lambda c, w: w @ c.sum(0),
    lambda c, w: w.sum(0) @ c.sum(0),
    lambda c, w: c + w,
    lambda c, w: w + c,
    lambda c, w: c - w,
    lambda c, w: w - c,
    lambda c, w: c * w,
    lambda c, w: w * c,
    lambda c, w: c / w,
    lambda c, w: w / c,
    lambda c, w: (c.t() @ (w + 1)).mean(0),
]


@pytest.mark.parametrize("fn", CONSTANT_OPERANDS)
def test_no_gradient_computed_for_inputs_that_need_none(
    fn: Callable[[Any, Any], Any], spy: list[tuple[Any, tuple[Array | None, ...]]]
) -> None:
    c, w = minigrad.tensor(X[:2]), minigrad.tensor(W, requires_grad=True)
    out = fn(c, w)
    out.backward(minigrad.ones_like(out))
    assert c.grad is None and w.grad is not None
    for node, grads in spy:
        for (child, _), grad in zip(node.next_functions, grads, strict=True):
            assert child is not None or grad is None, f"{node.name()} computed a gradient nobody needs"


def test_only_what_backward_needs_is_saved() -> None:
    x, w, c = minigrad.tensor(X), minigrad.tensor(W, requires_grad=True), minigrad.tensor(X[:2])
    product: Any = (x @ w.t()).grad_fn
    assert product.needs_input_grad == (False, True)
    saved = [s for s in product.saved_values if s is not None]
    assert len(saved) == 1 and saved[0] is x.numpy()  # w.t() would be saved only to compute x's gradient
    scaled: Any = (w * c).grad_fn
    assert [s is c.numpy() for s in scaled.saved_values if s is not None] == [True]
    summed: Any = (w + c).grad_fn
    assert summed.saved_values == ()


# ---------------------------------------------------------------- long graphs
def test_a_100k_op_chain_backpropagates() -> None:
    """No RecursionError: both passes over the graph are loops. (That the time is linear is for a benchmark
    to show, not a timed test: benchmarks/bench.py measures µs per op at 10k, 30k and 100k ops.)"""
    x = minigrad.ones(3, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad is not None and values(x.grad).tolist() == [1.0, 1.0, 1.0]


# ---------------------------------------------------------------- freed graphs
def test_a_second_backward_raises_once_saved_values_are_freed(lib: ModuleType) -> None:
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    z = (x * 2 * x).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        z.backward()


def test_backward_drops_what_it_saved() -> None:
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 2
    z = (hidden * hidden).sum()
    saved = weakref.ref(hidden.detach().numpy())
    del hidden
    gc.collect()
    assert saved() is not None  # only z's graph holds it now
    z.backward()
    gc.collect()
    assert saved() is None


def test_retain_graph_allows_a_second_backward(lib: ModuleType) -> None:
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert values(x.grad).tolist() == [4.0, 8.0]


def test_a_graph_that_saves_nothing_backwards_twice(lib: ModuleType) -> None:
    a, b = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0, 4.0], requires_grad=True)
    z = (a + b).sum()
    z.backward()
    z.backward()
    assert values(a.grad).tolist() == values(b.grad).tolist() == [2.0, 2.0]


# ---------------------------------------------------------------- in-place ops
IN_PLACE: dict[str, Callable[[Any], Any]] = {
    "-=": lambda t: t.__isub__(0.5),
    "+=": lambda t: t.__iadd__(0.5),
    "*=": lambda t: t.__imul__(0.5),
    "/=": lambda t: t.__itruediv__(0.5),
    "zero_": lambda t: t.zero_(),
}


@pytest.mark.parametrize("op", IN_PLACE)
def test_in_place_on_a_leaf_that_requires_grad(lib: ModuleType, op: str) -> None:
    w = lib.tensor(W, requires_grad=True)
    (w * 2).sum().backward()
    grad = w.grad
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        IN_PLACE[op](w)
    assert np.array_equal(values(w), np.array(W, np.float32)) and w._version == 0
    with lib.no_grad():
        out = IN_PLACE[op](w)
    assert out is w and w.grad is grad and w.is_leaf and w.requires_grad and w._version == 1


@needs_torch
@pytest.mark.parametrize("op", IN_PLACE)
def test_in_place_values_and_versions_match_torch(op: str) -> None:
    results = []
    for engine in (minigrad, torch):
        w = engine.tensor(W)
        view = w.t()
        IN_PLACE[op](w)
        IN_PLACE[op](view)  # a view shares memory and the version counter
        results.append((values(w).tobytes(), w._version, view._version))
    assert results[0] == results[1]


def test_in_place_on_a_non_leaf_records_the_op(lib: ModuleType) -> None:
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    y = w * 3
    y += 1
    y *= 2
    assert y.grad_fn.name() == "MulBackward0" and y.grad_fn.next_functions[0][0].name() == "AddBackward0"
    y.sum().backward()
    assert values(w.grad).tolist() == [6.0, 6.0]


def test_zero_on_a_non_leaf_stops_its_gradient(lib: ModuleType) -> None:
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    y = w * 3
    y.zero_()
    assert y.grad_fn.name() == "ZeroBackward0" and y.grad_fn.next_functions[0][0].name() == "MulBackward0"
    (y + w).sum().backward()
    assert values(w.grad).tolist() == [1.0, 1.0]


def test_a_saved_tensor_modified_in_place_fails_backward(lib: ModuleType) -> None:
    w = lib.tensor(W, requires_grad=True)
    hidden = w * 2
    z = (hidden * hidden).sum()
    with lib.no_grad():
        hidden += 1
        hidden *= 2
    assert hidden._version == 2
    with pytest.raises(RuntimeError, match=r"Tensor \[2, 3\]\], which is output 0 of Mul, is at version 2; expected"):
        z.backward()


def test_the_notebook_update_after_backward_is_fine_but_not_before(lib: ModuleType) -> None:
    x, w = lib.tensor(X, requires_grad=True), lib.tensor(W, requires_grad=True)
    (x @ w.t()).sum().backward()
    with lib.no_grad():
        w -= w.grad * 1e-5  # the notebook's order: backward, then update
    loss = (x @ w.t()).sum()
    with lib.no_grad():
        w -= w.grad * 1e-5  # w.t() was saved for x's gradient, and shares w's version counter
    with pytest.raises(RuntimeError, match=r"\[3, 2\]\], which is output 0 of AsStrided, is at version 2"):
        loss.backward()


# ---------------------------------------------------------------- graph structure
def structure(node: Any) -> Any:
    """A graph as nested (node class name, edges) tuples."""
    if node is None:
        return None
    edges = tuple((structure(child), index) for child, index in node.next_functions)
    return type(node).__name__, edges


def notebook_residual(e: ModuleType) -> Any:
    x, y = e.tensor(X), e.tensor(Y)
    return y - (x @ e.tensor(W, requires_grad=True).t() + e.tensor(B, requires_grad=True))


GRAPHS: dict[str, Callable[[ModuleType], Any]] = {
    "notebook loss": lambda e: (notebook_residual(e) ** 2).mean(),
    "sum(d*d)/numel": lambda e: (lambda d: e.sum(d * d) / d.numel())(notebook_residual(e)),
    "numbers on either side": lambda e: 2 + (3 * (1 - (2 / (e.tensor(B, requires_grad=True) / 2 - 1)))) * 2,
    "pow, neg, mean(dim)": lambda e: (-(e.tensor(W, requires_grad=True) ** 3)).mean(1, keepdim=True),
    "sum(dim), transpose, T": lambda e: e.tensor(W, requires_grad=True).transpose(0, 1).T.sum((0, -1)),
    "matmul 1-D cases": lambda e: (
        (e.tensor(B, requires_grad=True) @ e.tensor(W, requires_grad=True))
        @ (e.tensor(W).t() @ e.tensor([1.0, 2.0], requires_grad=True))
    ),
    "a leaf used twice": lambda e: (lambda w: w * w - w.mm(w.t()).sum())(e.tensor(W, requires_grad=True)),
    "constants": lambda e: e.tensor(W, requires_grad=True) * e.tensor(W) + e.tensor(W) / e.ones(2, 3),
}


@needs_torch
@pytest.mark.parametrize("make", GRAPHS.values(), ids=list(GRAPHS))
def test_graph_structure_matches_torch(make: Callable[[ModuleType], Any]) -> None:
    assert structure(make(minigrad).grad_fn) == structure(make(torch).grad_fn)


def leaves(node: Any) -> Iterator[Any]:
    for child, _ in node.next_functions:
        if child is not None:
            yield from [child] if type(child).__name__ == "AccumulateGrad" else leaves(child)


def test_accumulate_grad_nodes_point_at_their_leaf(lib: ModuleType) -> None:
    w, b = lib.tensor(W, requires_grad=True), lib.tensor(B, requires_grad=True)
    out = (lib.tensor(X) @ w.t() + b) * (w.sum() - b.sum())
    variables = [node.variable for node in leaves(out.grad_fn)]
    assert [id(v) for v in variables] == [id(w), id(b), id(w), id(b)]
    nodes = list(leaves(out.grad_fn))
    assert nodes[0] is nodes[2] and nodes[1] is nodes[3]  # one AccumulateGrad per leaf while the graph lives


# ---------------------------------------------------------------- the Tensor's small API
def test_leaves_and_requires_grad_(lib: ModuleType) -> None:
    w = lib.tensor(W)
    assert w.is_leaf and not w.requires_grad
    assert w.requires_grad_() is w and w.requires_grad and w.is_leaf
    y = w * 2
    assert not y.is_leaf and y.requires_grad
    w.requires_grad_(False)
    assert not w.requires_grad and not (w * 2).requires_grad
    w.requires_grad = True
    assert w.requires_grad


def test_detach_shares_memory_and_version(lib: ModuleType) -> None:
    w = lib.tensor(W, requires_grad=True)
    d = w.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    d += 1  # allowed: d does not require grad; w sees the change
    assert np.array_equal(values(w), np.array(W, np.float32) + 1)
    assert w._version == d._version == 1


def test_numpy_is_refused_while_requiring_grad(lib: ModuleType) -> None:
    w = lib.tensor(W, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        w.numpy()
    shared = w.detach().numpy()
    shared[0, 0] = 5.0
    assert w.detach().numpy()[0, 0] == 5.0


@needs_torch
def test_small_api_matches_torch() -> None:
    def describe(engine: ModuleType) -> list[Any]:
        w = engine.tensor(W, requires_grad=True)
        s = engine.tensor(2.5)
        return [
            w.numel(), w.ndim, w.dim(), len(w), list(w.shape), tuple(w.size()), w.size(1), w.size(-1), w.tolist(),
            s.item(), type(s.item()), type(engine.tensor(3).item()), engine.tensor([[7]]).item(), s.ndim, s.tolist(),
            w.cpu() is w, str(w.shape), repr(w.dtype),
        ]  # fmt: skip

    mine, theirs = describe(minigrad), describe(torch)
    assert mine[:-2] == theirs[:-2]
    assert mine[-2:] == ["torch.Size([2, 3])", "torch.float32"] == theirs[-2:]  # printed as torch prints them
