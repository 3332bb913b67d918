"""A tensor's autograd graph: walked, listed, and drawn as Graphviz DOT (no dependency to make the text).

Works on minigrad's graphs and on torch's alike: both expose `tensor.grad_fn`, `node.next_functions`,
node classes named as torch names them (`type(node).__name__`: "MulBackward0", "AccumulateGrad"), and
leaves' `AccumulateGrad` nodes with `.variable`.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class GraphNode:
    index: int  # discovery order, from the output: 0 is the node that made the tensor
    name: str  # torch's grad_fn class name, e.g. "MulBackward0", or "AccumulateGrad" for a leaf
    children: tuple[int, ...]  # the nodes its gradient flows to, in next_functions order
    node: Any  # the grad_fn object itself


def walk(tensor: Any) -> list[GraphNode]:
    """The nodes reachable from `tensor.grad_fn`, each once, numbered in depth-first discovery order
    (children in next_functions order), so two engines' graphs of the same expression list alike."""
    if tensor.grad_fn is None:
        return []
    index: dict[Any, int] = {}
    order: list[Any] = []
    stack = [tensor.grad_fn]
    while stack:  # a loop, not recursion: graphs can be deep
        node = stack.pop()
        if node in index:
            continue
        index[node] = len(order)
        order.append(node)
        stack.extend(child for child, _ in reversed(node.next_functions) if child is not None)
    return [
        GraphNode(
            index[node], type(node).__name__, tuple(index[c] for c, _ in node.next_functions if c is not None), node
        )
        for node in order
    ]


def edges(tensor: Any) -> list[tuple[str, str]]:
    """(parent, child) pairs, each node named `index:Name`: equal lists mean the same graph."""
    nodes = walk(tensor)
    return [(f"{n.index}:{n.name}", f"{c}:{nodes[c].name}") for n in nodes for c in n.children]


def as_array(values: Any) -> Any:
    """The numpy array of a tensor (minigrad's or torch's, detached) or of anything numpy takes."""
    return values.numpy() if hasattr(values, "numpy") else np.asarray(values)


def shape_and_values(values: Any) -> tuple[str, str]:
    """An array's or a tensor's shape ("5×2", "scalar") and its values to 4 decimals: the text both the
    drawing here and minigrad.walkthrough show."""
    array = as_array(values)
    shape = "×".join(map(str, array.shape)) or "scalar"
    return shape, np.array2string(array, precision=4, separator=", ", max_line_width=100)


def describe(values: Any) -> str:
    """A DOT label's lines: the shape, and the values when there are few enough to read."""
    array = as_array(values)
    shape, text = shape_and_values(array)
    return shape if array.size > 12 else f"{shape}\\n" + text.replace("\n", "\\n")


def to_dot(
    tensor: Any, names: dict[str, Any] | None = None, title: str = "", grads: dict[Any, Any] | None = None
) -> str:
    """The graph as DOT text: one box per grad_fn node, one ellipse per leaf (named from `names`, with its
    shape, value and, once backward has run, its .grad), edges in the direction gradients flow. `grads`
    (a watched backward's `Recording.grads`) adds to each box the gradient that arrived there, whose
    shape is that of the node's output."""
    label_of = {id(t): name for name, t in (names or {}).items()}
    lines = ["digraph autograd {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=11];']
    if title:
        lines.append(f'  label="{title}"; labelloc=t;')
    lines.append(f'  output [shape=note, label="output\\n{describe(tensor.detach())}"];')
    for node in walk(tensor):
        if node.name == "AccumulateGrad":
            leaf = node.node.variable
            label = f"{label_of.get(id(leaf), 'leaf')}\\n{describe(leaf.detach())}"
            if leaf.grad is not None:
                label += f"\\ngrad {describe(leaf.grad)}"
            lines.append(f'  n{node.index} [shape=ellipse, style=filled, fillcolor="#dbeafe", label="{label}"];')
        else:
            arrived = (grads or {}).get(node.node)
            label = node.name if arrived is None else f"{node.name}\\ngrad {describe(arrived)}"
            lines.append(f'  n{node.index} [shape=box, style=rounded, label="{label}"];')
        lines.extend(f"  n{node.index} -> n{child};" for child in node.children)
    if tensor.grad_fn is not None:
        lines.append("  output -> n0;")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot_source: str, path: str | Path) -> Path:
    """Write the graph as an image with Graphviz's `dot` (format from the suffix: .svg, .png, .pdf)."""
    path = Path(path)
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "rendering needs Graphviz's `dot` program, which is not installed (Debian/Ubuntu: apt-get install "
            "graphviz; macOS: brew install graphviz). The DOT text itself needs nothing: write to_dot(...) to a "
            ".dot file and open it in any Graphviz viewer."
        )
    subprocess.run([dot, f"-T{path.suffix.lstrip('.')}", "-o", str(path)], input=dot_source, text=True, check=True)
    return path
