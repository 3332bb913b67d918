"""Draw the autograd graph of the notebook's loss (In [24]), before and after backward.

    python examples/graph.py [--out DIR]

Writes DIR/notebook-graph.dot (always: plain text) and, where Graphviz's `dot` is installed,
DIR/notebook-graph.svg and .png. Nodes are named as torch's grad_fn classes; leaves show their values,
and their gradients once backward has run. Where torchviz is installed (it needs torch), also
DIR/notebook-graph-torchviz.dot (and .png): torchviz's own drawing of the same minigrad graph.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

from _notebook_state import state_after

from minigrad.graph import edges, render, to_dot
from minigrad.walkthrough import watch_backward


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the files (default: out)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    notebook = state_after(24)  # loss = mean_square_error(targets, y_pred)
    loss: Any = notebook["loss"]
    leaves = {"w": notebook["w"], "b": notebook["b"]}
    print("The graph of the notebook's loss, as (node -> the node its gradient flows to):")
    for parent, child in edges(loss):
        print(f"  {parent} -> {child}")

    draw_with_torchviz(loss, args.out / "notebook-graph-torchviz.dot")

    with watch_backward(file=io.StringIO()) as recording:  # quietly: examples/backprop.py prints the steps
        loss.backward()  # In [25]: now every node has a gradient to show
    dot = to_dot(loss, leaves, title="loss = sum((targets - (inputs @ w.t() + b))²) / 10", grads=recording.grads)
    write(dot, args.out / "notebook-graph.dot", (".svg", ".png"))
    return 0


def write(dot: str, path: Path, images: tuple[str, ...]) -> None:
    """The DOT text, then each image format Graphviz's `dot` can render it to (a message where it's missing)."""
    path.write_text(dot)
    print(f"wrote {path}")
    for suffix in images:
        try:
            print(f"wrote {render(dot, path.with_suffix(suffix))}")
        except RuntimeError as error:
            print(f"not rendered: {error}")
            break


def draw_with_torchviz(loss: Any, path: Path) -> None:
    """torchviz, which learners use to draw torch's graphs, drawing minigrad's: `make_dot(loss)` unchanged."""
    try:
        import torchviz
    except ImportError:
        print("not drawn with torchviz, which is not installed (pip install torchviz; it needs torch)")
        return
    write(torchviz.make_dot(loss).source, path, (".png",))


if __name__ == "__main__":
    sys.exit(main())
