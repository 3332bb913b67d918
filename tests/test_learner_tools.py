"""The learner's tools and examples: the graph, the backward walkthrough, and the example scripts' output."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import minigrad
from minigrad import graph
from minigrad.walkthrough import watch_backward
from reference.loop import NOTEBOOK_INPUTS, NOTEBOOK_TARGETS
from reference.notebook import printed_weights

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
X, Y = NOTEBOOK_INPUTS.tolist(), NOTEBOOK_TARGETS.tolist()  # lists: tensor() makes them float32
W, B = (weights.tolist() for weights in printed_weights())


def notebook_loss(engine: ModuleType) -> tuple[Any, Any, Any, Any]:
    """In [22]-[24]: the notebook's predictions and loss, on any engine. Returns (loss, w, b, diff)."""
    x, y = engine.tensor(X), engine.tensor(Y)
    w, b = engine.tensor(W, requires_grad=True), engine.tensor(B, requires_grad=True)
    diff = y - (x @ w.t() + b)
    return engine.sum(diff * diff) / diff.numel(), w, b, diff


EXPRESSIONS: dict[str, Callable[[ModuleType], Any]] = {
    "notebook loss": lambda e: notebook_loss(e)[0],
    "mean of squares": lambda e: ((e.tensor(Y) - e.tensor(X) @ e.tensor(W, requires_grad=True).T) ** 2).mean(),
    "rsub and rdiv": lambda e: (1 - 2 / e.tensor(B, requires_grad=True)).sum(dim=0),
    "vector @ matrix": lambda e: (e.tensor(B, requires_grad=True) @ e.tensor(W, requires_grad=True)).sum(),
    "neg and transpose": lambda e: (-e.tensor(W, requires_grad=True).transpose(0, 1)).mean(dim=1, keepdim=True),
}


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_graph_has_torchs_nodes_and_edges(name: str) -> None:
    torch = pytest.importorskip("torch")
    build = EXPRESSIONS[name]
    assert graph.edges(build(minigrad)) == graph.edges(build(torch))


def test_notebook_graph_reads_as_expected() -> None:
    loss = notebook_loss(minigrad)[0]
    assert [n.name for n in graph.walk(loss)] == [
        "DivBackward0",
        "SumBackward0",
        "MulBackward0",
        "SubBackward0",
        "AddBackward0",
        "MmBackward0",
        "TBackward0",
        "AccumulateGrad",
        "AccumulateGrad",
    ]
    # diff * diff: MulBackward0 has two edges to the same SubBackward0, one per use of diff.
    assert graph.edges(loss).count(("2:MulBackward0", "3:SubBackward0")) == 2


def test_dot_shows_names_leaves_and_gradients_after_backward() -> None:
    loss, w, b, _ = notebook_loss(minigrad)
    before = graph.to_dot(loss, {"w": w, "b": b})
    assert "\\ngrad" not in before and before.count("->") == len(graph.edges(loss)) + 1
    with watch_backward(file=io.StringIO()) as recording:
        loss.backward()
    after = graph.to_dot(loss, {"w": w, "b": b}, grads=recording.grads)
    assert 'label="MmBackward0\\ngrad 5×2' in after  # a box shows the shape of the gradient that reached it
    assert "w\\n2×3" in after and "grad 2×3" in after


def test_render_without_graphviz_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        graph.render("digraph {}", tmp_path / "g.svg")


def test_walkthrough_visits_in_order_with_the_numbers() -> None:
    loss, w, b, diff = notebook_loss(minigrad)
    text = io.StringIO()
    with watch_backward({"w": w, "b": b}, file=text) as recording:
        loss.backward()
    assert recording.visited == [
        "DivBackward0",
        "SumBackward0",
        "MulBackward0",
        "SubBackward0",
        "AddBackward0",
        "AccumulateGrad",
        "MmBackward0",
        "TBackward0",
        "AccumulateGrad",
    ]
    arrived = {node.name(): grad for node, grad in recording.grads.items()}
    d = diff.detach().numpy()
    # d(loss)/d(sum) = 1/10, spread over diff*diff; SubBackward0 receives 2·diff/10, the two uses of diff summed.
    np.testing.assert_array_equal(arrived["MulBackward0"], np.full((5, 2), np.float32(1) / np.float32(10)))
    np.testing.assert_array_equal(arrived["SubBackward0"], d * np.float32(0.1) + np.float32(0.1) * d)
    out = text.getvalue()
    assert out.index("step 1: DivBackward0") < out.index("step 7: MmBackward0") < out.index("w.grad =")
    assert "rule:       grad_self = grad @ mat2.T, grad_mat2 = self.T @ grad" in out
    assert "passes to b (AccumulateGrad): [2] [-239.4643, -159.0842]" in out


def run_example(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=EXAMPLES, capture_output=True, text=True, check=True)
    return done.stdout


def test_notebook_example_shows_cells_notes_and_both_numbers() -> None:
    out = run_example("notebook.py")
    assert out.startswith("In [1]:\n    import numpy as np\n    import minigrad as torch")
    assert "In [31]:" in out and "loss has not dropped. With fresh predictions it has: tensor(29355.98" in out
    assert '"100 epochs"; the loop runs 900 steps' in out
    # In [24]: ours from the printed weights, then the notebook's own (from the unrounded ones).
    assert "tensor(43276.1953, grad_fn=<DivBackward0>)\n-- the notebook printed:\ntensor(43277.4492" in out


def test_notebook_example_with_torch_compares_every_cell() -> None:
    pytest.importorskip("torch")
    out = run_example("notebook.py", "--torch")
    assert "cells whose text differs from torch's:" in out
    assert "OUTSIDE" not in out and "same layout: False" not in out


def test_graph_example_writes_the_dot_file(tmp_path: Path) -> None:
    out = run_example("graph.py", "--out", str(tmp_path))
    assert "4:AddBackward0 -> 8:AccumulateGrad" in out
    assert (tmp_path / "notebook-graph.dot").read_text().startswith("digraph autograd {")


def test_backprop_example_walks_the_notebook_loss() -> None:
    out = run_example("backprop.py")
    assert out.count("step ") == 9 and "b.grad = [2] [-239.4643, -159.0842]" in out
