"""minigrad's graph as torch's tools see it: each node's class is named as torch names it (`type(grad_fn).__name__`,
"DivBackward0") and shows what it saved under torch's `_saved_*` names, checked against torch over
hypothesis-drawn programs that use every op in minigrad/ops.py; and torchviz draws minigrad's graphs as torch's."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from _strategies import SETTINGS
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad import graph, ops
from minigrad.autograd import AccumulateGrad, Function
from reference.loop import NOTEBOOK_INPUTS, NOTEBOOK_TARGETS
from reference.notebook import printed_weights

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:distutils Version classes:DeprecationWarning")  # torchviz's own

Pair = list[Any]  # the same tensor on each engine: [minigrad's, torch's]
ENGINES = (minigrad, torch)
NUMBERS = [2, -3, 0.5, 1.5]
EXPONENTS = [0, 1, 2, 3, -1, -2, 0.5, -0.5, 1.5]


def leaf(data: st.DataObject, shape: tuple[int, ...]) -> Pair:
    """A fresh tensor of `shape` on both engines, requiring grad or not (values in 1..2: no division by 0)."""
    values = (1 + np.arange(int(np.prod(shape)), dtype=np.float32) / 7).reshape(shape).tolist()
    requires_grad = data.draw(st.booleans(), label="requires_grad")
    return [e.tensor(values, requires_grad=requires_grad) for e in ENGINES]


def each(fn: Callable[..., Any], *operands: Pair) -> Pair:
    """`fn(engine, *tensors)` on both engines."""
    return [fn(e, *(operand[i] for operand in operands)) for i, e in enumerate(ENGINES)]


def binary(data: st.DataObject, x: Pair, pool: list[Pair]) -> Pair:
    """x op other: other a tensor of x's shape from the pool, a fresh one that broadcasts, or a number on
    either side (torch records number - t as RsubBackward1 and number / t as ReciprocalBackward0 then Mul)."""
    op = data.draw(st.sampled_from(["+", "-", "*", "/"]), label="op")
    apply: dict[str, Callable[[Any, Any], Any]] = {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
    }
    shape = tuple(x[0].shape)
    kind = data.draw(st.sampled_from(["pool", "broadcast", "number", "number first"]), label="other")
    if kind == "number" or kind == "number first":
        number = data.draw(st.sampled_from(NUMBERS), label="number")
        if kind == "number":
            return each(lambda e, a: apply[op](a, number), x)
        return each(lambda e, a: apply[op](number, a), x)
    same_shape = [p for p in pool if tuple(p[0].shape) == shape]
    other = data.draw(st.sampled_from(same_shape)) if kind == "pool" else leaf(data, shape[len(shape) // 2 :])
    if data.draw(st.booleans(), label="swap"):
        x, other = other, x
    return each(lambda e, a, b: apply[op](a, b), x, other)


def unary(data: st.DataObject, x: Pair, pool: list[Pair]) -> Pair:
    ndim = x[0].ndim
    choices: list[str] = ["neg", "pow", "sum", "mean", "torch.sum"]
    if ndim:
        choices += ["sum dim", "mean dim", "transpose", "matmul"]
    if ndim <= 2:
        choices += ["t"]
    if ndim == 2:
        choices += [".T", "mm"]
    choice = data.draw(st.sampled_from(choices), label="unary")
    if choice == "neg":
        return each(lambda e, a: -a, x)
    if choice == "pow":
        exponent = data.draw(st.sampled_from(EXPONENTS), label="exponent")
        return each(lambda e, a: a**exponent, x)
    if choice in ("sum", "mean"):
        return each(lambda e, a: getattr(a, choice)(), x)
    if choice == "torch.sum":
        return each(lambda e, a: e.sum(a), x)
    if choice in ("sum dim", "mean dim"):
        dim = data.draw(st.integers(-ndim, ndim - 1), label="dim")
        keepdim = data.draw(st.booleans(), label="keepdim")
        return each(lambda e, a: getattr(a, choice.split()[0])(dim, keepdim=keepdim), x)
    if choice == "transpose":
        dim0, dim1 = (data.draw(st.integers(-ndim, ndim - 1), label="dim") for _ in range(2))
        return each(lambda e, a: a.transpose(dim0, dim1), x)
    if choice == "t":
        return each(lambda e, a: a.t(), x)
    if choice == ".T":
        return each(lambda e, a: a.T, x)
    # matmul / mm: a fresh operand that fits, on either side (1-D @ 2-D is Unsqueeze, Mm, Squeeze in torch)
    shape = tuple(x[0].shape)
    k = data.draw(st.integers(1, 3), label="k")
    if choice == "mm":
        return each(lambda e, a, b: a.mm(b), x, leaf(data, (shape[1], k)))
    if data.draw(st.booleans(), label="x on the left"):
        other = leaf(data, data.draw(st.sampled_from([(shape[-1],), (shape[-1], k)]), label="right"))
        return each(lambda e, a, b: a @ b, x, other)
    other = leaf(data, data.draw(st.sampled_from([(shape[0],), (k, shape[0])]), label="left"))
    return each(lambda e, a, b: e.matmul(b, a), x, other)


def in_place(data: st.DataObject, x: Pair, pool: list[Pair]) -> Pair:
    """An in-place op on a copy made by an op (not a leaf, not a view): the copy's grad_fn becomes the op's."""
    copy = each(lambda e, a: a * 1, x)
    op = data.draw(st.sampled_from(["+=", "-=", "*=", "/=", "zero_"]), label="in place")
    number = data.draw(st.sampled_from(NUMBERS), label="number")

    def run(e: ModuleType, a: Any) -> Any:
        if op == "zero_":
            return a.zero_()
        return {"+=": a.add_, "-=": a.sub_, "*=": a.mul_, "/=": a.div_}[op](number)

    return each(run, copy)


STEPS = [binary, unary, in_place]


def node_names(tensor: Any) -> list[str]:
    return [node.name for node in graph.walk(tensor)]


# torch's nodes keep some things minigrad's backward has no use for (README: "torchviz").
NOT_KEPT = {
    "MmBackward0": {"mat2_sym_sizes", "mat2_sym_strides", "self_sym_sizes", "self_sym_strides"},
    "TransposeBackward0": {"dim0", "dim1"},
    "SqueezeBackward4": {"self_sym_sizes"},
}


@dataclass(frozen=True, eq=False)
class SavedTensor:
    """A saved tensor's shape, dtype and values; equal when all three are, NaN equal to NaN (a drawn program
    can make 0 / 0, and NaN != NaN would fail the comparison for no difference between the engines)."""

    shape: tuple[int, ...]
    dtype: str
    values: Any

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SavedTensor)
            and (self.shape, self.dtype) == (other.shape, other.dtype)
            and bool(np.array_equal(self.values, other.values, equal_nan=True))
        )


def saved(node: Any) -> dict[str, Any]:
    """A node's `_saved_*` attributes, tensors as (shape, dtype, values), dims as non-negative axes (torch's
    binding reads a dim as unsigned: -1 shows as 2**64 - 1; minigrad keeps dims normalised)."""
    attributes = {name.removeprefix("_saved_"): getattr(node, name) for name in dir(node) if name.startswith("_saved_")}
    ndim = max(len(attributes.get("self_sym_sizes", ())), 1)
    for name, value in attributes.items():
        if name in ("dim", "dims"):
            value = tuple(int(d) % 2**64 % ndim for d in value) if isinstance(value, tuple) else int(value) % 2**64
        elif hasattr(value, "detach"):
            value = SavedTensor(tuple(value.shape), str(value.dtype), value.detach().numpy())
        attributes[name] = value
    return attributes


def assert_same_saved(ours: Any, theirs: Any) -> None:
    """minigrad's node shows what torch's does under the same `_saved_*` names, but for NOT_KEPT."""
    mine, torchs = saved(ours), saved(theirs)
    for name in NOT_KEPT.get(type(theirs).__name__, set()):
        torchs.pop(name)
    assert mine == torchs, type(ours).__name__


@settings(SETTINGS, max_examples=60)
@given(data=st.data())
def test_every_node_has_torchs_class_name(data: st.DataObject) -> None:
    shape = data.draw(st.sampled_from([(), (3,), (2,), (2, 3), (3, 1)]), label="shape")
    pool = [leaf(data, shape)]
    for _ in range(data.draw(st.integers(1, 5), label="steps")):
        x = data.draw(st.sampled_from(pool), label="x")
        pool.append(data.draw(st.sampled_from(STEPS), label="step")(data, x, pool))
    for ours, theirs in pool:
        assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__
        assert node_names(ours) == node_names(theirs)
        assert graph.edges(ours) == graph.edges(theirs)
        for mine, torchs in zip(graph.walk(ours), graph.walk(theirs), strict=True):
            assert_same_saved(mine.node, torchs.node)


# One expression per op (the drawn programs above compose them); every op in ops.py must appear here.
ONE_OF_EACH: list[Callable[[ModuleType, Any], Any]] = [
    lambda e, w: w + 1,
    lambda e, w: w - w,
    lambda e, w: 1 - w,
    lambda e, w: w * w,
    lambda e, w: w / 2,
    lambda e, w: 2 / w,
    lambda e, w: -w,
    lambda e, w: w**2,
    lambda e, w: (w * 1).zero_(),
    lambda e, w: w.sum(),
    lambda e, w: w.sum(0),
    lambda e, w: w.mean(),
    lambda e, w: w.mean(1, keepdim=True),
    lambda e, w: w.transpose(0, 1),
    lambda e, w: w.t(),
    lambda e, w: w.T,
    lambda e, w: w.sum(0) @ w.t(),  # 1-D @ 2-D: Unsqueeze, Mm, Squeeze
    lambda e, w: w.mm(w.t()),
    lambda e, w: w @ w.sum(0),
    lambda e, w: w.sum(0) @ w.sum(0),
    lambda e, w: w.add(w * 2, alpha=3),
    lambda e, w: w.sub(1.5, alpha=2),
    lambda e, w: w.__rsub__(w * 2),
    lambda e, w: w ** (w * 0 + 2),  # an exponent whose powers are exact: pow is not correctly rounded
    lambda e, w: 2.5**w,
    lambda e, w: w.clone(),
]


def test_one_of_each_op_has_torchs_names_and_every_op_is_there() -> None:
    reached = set()
    for build in ONE_OF_EACH:
        ours, theirs = (build(e, e.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)) for e in ENGINES)
        assert node_names(ours) == node_names(theirs)
        for mine, torchs in zip(graph.walk(ours), graph.walk(theirs), strict=True):
            assert_same_saved(mine.node, torchs.node)
        reached.update(node_names(ours))
    defined = {cls.__name__ for cls in vars(ops).values() if isinstance(cls, type) and "grad_fn_name" in vars(cls)}
    assert defined <= reached, f"add an expression using these ops to ONE_OF_EACH: {sorted(defined - reached)}"


def test_leaf_nodes_and_reprs_read_as_torchs() -> None:
    w = [e.tensor([[1.0, 2.0]], requires_grad=True) for e in ENGINES]
    nodes = [(t.t() / 2).grad_fn for t in w]
    for node in nodes:
        accumulate = node.next_functions[0][0].next_functions[0][0]
        assert type(accumulate).__name__ == "AccumulateGrad"
        assert accumulate.name() == "torch::autograd::AccumulateGrad"
        assert repr(node).startswith("<DivBackward0 object at 0x")
    assert isinstance(nodes[0], ops.Div) and isinstance(nodes[0], Function)  # the classes keep their names in code
    assert not hasattr(nodes[0], "saved_tensors")  # torchviz reads that as the mark of a custom Function
    assert AccumulateGrad.__name__ == "AccumulateGrad"


# ---------------------------------------------------------------- torchviz, a client nobody here wrote
def notebook_loss(engine: ModuleType) -> Any:
    """In [22]-[24]: the notebook's loss from its data and printed weights."""
    x, y = engine.tensor(NOTEBOOK_INPUTS.tolist()), engine.tensor(NOTEBOOK_TARGETS.tolist())
    w, b = (engine.tensor(weights.tolist(), requires_grad=True) for weights in printed_weights())
    diff = y - (x @ w.t() + b)
    return engine.sum(diff * diff) / diff.numel()


DRAWN: dict[str, Callable[[ModuleType], Any]] = {
    "notebook loss": notebook_loss,
    "one of each op": lambda e: e.sum(
        e.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True).transpose(0, 1).T.mean(1)
        @ ((2 / (1 - e.tensor([[0.5], [3.0]], requires_grad=True) ** 3)).sum(1, keepdim=True) * -1)
    ),
    "a view as output": lambda e: (e.tensor([[1.0, 2.0]], requires_grad=True) * 2).t(),
}
NODE_ID = re.compile(r"\b\d{6,}\b")  # torchviz names each node by id() of its object
ATTRIBUTE_LABEL = re.compile(r'label="(\w+)\n-+\n(.*?)"', re.DOTALL)


def normalised(dot_source: str, not_kept: dict[str, set[str]] | None = None) -> str:
    """torchviz's DOT with node ids numbered in order of appearance; with `not_kept`, show_attrs's labels
    without those attributes, each line `name: value` (torchviz pads them to columns as wide as the widest)."""
    ids: dict[str, int] = {}
    text = NODE_ID.sub(lambda match: f"n{ids.setdefault(match[0], len(ids))}", dot_source)
    if not_kept is None:
        return text

    def without(match: re.Match[str]) -> str:
        name, lines = match[1], [line.split(":", 1) for line in match[2].split("\n")]
        kept = [f"{key.strip()}: {value.strip()}" for key, value in lines if key.strip() not in not_kept.get(name, ())]
        return f'label="{name}\n' + "\n".join(kept) + '"' if kept else f"label={name}"  # as torchviz writes it

    return ATTRIBUTE_LABEL.sub(without, text)


@pytest.mark.parametrize("name", DRAWN)
def test_torchviz_draws_minigrads_graph_as_torchs(name: str) -> None:
    torchviz = pytest.importorskip("torchviz")
    ours, theirs = (normalised(torchviz.make_dot(DRAWN[name](e)).source) for e in ENGINES)
    assert ours == theirs
    assert "MulBackward0" in ours or "TBackward0" in ours


@pytest.mark.parametrize("name", DRAWN)
def test_torchviz_shows_the_saved_values_torch_shows(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """show_attrs / show_saved: the same attributes and saved tensors, but for what minigrad does not keep
    (NOT_KEPT), once torchviz counts minigrad's tensors as tensors (it asks torch.is_tensor, true only of
    torch's own: README, "torchviz")."""
    torchviz = pytest.importorskip("torchviz")
    theirs = normalised(torchviz.make_dot(DRAWN[name](torch), show_attrs=True, show_saved=True).source, NOT_KEPT)
    is_tensor = torch.is_tensor
    monkeypatch.setattr(torch, "is_tensor", lambda value: is_tensor(value) or isinstance(value, minigrad.Tensor))
    ours = normalised(torchviz.make_dot(DRAWN[name](minigrad), show_attrs=True, show_saved=True).source, NOT_KEPT)
    assert ours == theirs
    assert "[saved tensor]" in ours or name == "a view as output"


def test_without_that_torchviz_shows_minigrads_saved_tensors_as_text() -> None:
    """What a learner sees unpatched (README, "torchviz"): no saved-tensor nodes, and their repr as attributes."""
    torchviz = pytest.importorskip("torchviz")
    loss = notebook_loss(minigrad)
    assert normalised(torchviz.make_dot(loss, show_saved=True).source) == normalised(torchviz.make_dot(loss).source)
    assert "other: tensor(10)" in torchviz.make_dot(loss, show_attrs=True).source


def test_the_graph_example_writes_torchvizs_drawing_of_the_notebook_graph(tmp_path: Path) -> None:
    torchviz = pytest.importorskip("torchviz")
    examples = Path(__file__).resolve().parent.parent / "examples"
    subprocess.run([sys.executable, "graph.py", "--out", str(tmp_path)], cwd=examples, capture_output=True, check=True)
    drawn = (tmp_path / "notebook-graph-torchviz.dot").read_text()
    assert normalised(drawn) == normalised(torchviz.make_dot(notebook_loss(torch)).source)
