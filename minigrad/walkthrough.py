"""Watch backpropagation happen: each step of a backward pass, printed as a worked example.

    with watch_backward(names={"w": w, "b": b}):
        loss.backward()

prints, in the order the engine visits the nodes, each node's name, the gradient arriving, the local rule
that turns it into the gradients of the node's inputs, what it passes on, and at the end the leaves' .grad.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from minigrad import autograd
from minigrad.autograd import AccumulateGrad, Array, Node
from minigrad.graph import shape_and_values

# The local rule of each node, in words: how the gradient of its output becomes its inputs' gradients.
RULES = {
    "AddBackward0": "grad_self = grad, grad_other = grad (each summed back to its input's shape)",
    "SubBackward0": "grad_self = grad, grad_other = -grad (each summed back to its input's shape)",
    "RsubBackward0": "grad_self = -grad, grad_other = grad (self was subtracted from other)",
    "RsubBackward1": "grad_self = -grad (self was subtracted from a number)",
    "MulBackward0": "grad_self = grad * other, grad_other = grad * self (x * x: grad * x along each edge)",
    "DivBackward0": "grad_self = grad / other, grad_other = -grad * self / other²",
    "NegBackward0": "grad_self = -grad",
    "PowBackward0": "grad_self = grad * exponent * self^(exponent - 1)",
    "PowBackward1": "grad_self = grad * exponent * self^(exponent - 1), grad_exponent = grad * result * log(self)",
    "PowBackward2": "grad_exponent = grad * result * log(number) (a number to a tensor's power)",
    "CloneBackward0": "grad_self = grad",
    "ReciprocalBackward0": "grad_self = -grad * result²",
    "SumBackward0": "grad_self = grad copied to every element of self (each added once to the sum)",
    "SumBackward1": "grad_self = grad copied along the summed dims",
    "MeanBackward0": "grad_self = grad / numel, copied to every element of self",
    "MeanBackward1": "grad_self = grad / n, copied along the averaged dims",
    "MmBackward0": "grad_self = grad @ mat2.T, grad_mat2 = self.T @ grad",
    "MvBackward0": "grad_self = outer(grad, vec), grad_vec = self.T @ grad",
    "DotBackward0": "grad_self = grad * other, grad_other = grad * self",
    "TBackward0": "grad_self = grad.T (transposing back)",
    "TransposeBackward0": "grad_self = grad with the two dims swapped back",
    "PermuteBackward0": "grad_self = grad with the dims put back in order",
    "UnsqueezeBackward0": "grad_self = grad with the added dim removed",
    "SqueezeBackward4": "grad_self = grad with the removed dim put back",
    "AccumulateGrad": "leaf.grad += grad",
}


def show(values: Array | Any) -> str:
    """Shape and values of an array or a tensor (a tensor's .grad, say), continued lines indented."""
    shape, text = shape_and_values(values)
    return f"[{shape}] " + text.replace("\n", "\n" + " " * 14)


@dataclass
class Recording:
    """What a watched backward did: the nodes in the order visited, and the gradient that arrived at each."""

    visited: list[str] = field(default_factory=list)
    grads: dict[Node, Array] = field(default_factory=dict)


@contextlib.contextmanager
def watch_backward(names: dict[str, Any] | None = None, file: TextIO | None = None) -> Iterator[Recording]:
    """Print every step of the backward passes run inside the block (to `file`, default stdout), and
    record them: the yielded Recording can annotate a drawing (minigrad.graph.to_dot(..., grads=...))."""
    out = file or sys.stdout
    label_of = {id(t): name for name, t in (names or {}).items()}
    recording = Recording()
    visited = recording.visited
    leaves: list[Any] = []

    def target(node: Node | None) -> str:
        if isinstance(node, AccumulateGrad):
            return f"{label_of.get(id(node.variable), 'a leaf')} (AccumulateGrad)"
        return "nothing (input needs no grad)" if node is None else type(node).__name__

    def on_node(node: Node, grad_in: Array, grads_out: tuple[Array | None, ...]) -> None:
        name = type(node).__name__
        visited.append(name)
        recording.grads[node] = grad_in
        print(f"step {len(visited)}: {name}", file=out)
        print(f"  grad in:    {show(grad_in)}", file=out)
        print(f"  rule:       {RULES.get(name, '(no description)')}", file=out)
        if isinstance(node, AccumulateGrad):
            leaves.append(node.variable)
            print(f"  {label_of.get(id(node.variable), 'leaf')}.grad is now {show(node.variable.grad)}", file=out)
        for (child, _), grad in zip(node.next_functions, grads_out, strict=True):
            if child is not None and grad is not None:
                print(f"  passes to {target(child)}: {show(grad)}", file=out)

    previous, autograd.observer = autograd.observer, on_node
    try:
        yield recording
    finally:
        autograd.observer = previous
    for leaf in leaves:
        print(f"{label_of.get(id(leaf), 'leaf')}.grad = {show(leaf.grad)}", file=out)
