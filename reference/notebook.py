"""The notebook "linear regression from scratch in PyTorch", as data, and a replay of its cells on an engine.

`read_cells()` parses the notebook's text (a copy ships beside this file) into code cells and the text each
printed. `replay(engine)` runs the cells in order in one namespace, as Jupyter does, with two substitutions
and no other change to the code: `import torch` imports the engine under the name `torch`, and each
`torch.randn(...)` becomes a `torch.tensor(...)` of the values the notebook printed for it (its random
draw is not reproducible). What each cell prints, and the value of its last expression, is captured as text.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

NOTEBOOK = Path(__file__).with_name("linear-regression-from-scratch.txt")
CELL_LABEL = re.compile(r"^In \[(\d+)\]:$")
PRINTED_TENSOR = re.compile(r"tensor\((\[.*?\])(, requires_grad=True)?\)", re.DOTALL)
RANDN_CALL = re.compile(r"torch\.randn\([^)]*\)")


@dataclass(frozen=True)
class Cell:
    number: int  # the N of the cell's "In [N]:" label
    source: str
    printed: str  # the output the notebook shows under the cell; "" when it shows none


@dataclass(frozen=True)
class Replayed:
    cell: Cell
    source: str  # the code that ran: the cell's own, after the substitutions
    output: str


def read_cells(path: Path = NOTEBOOK) -> list[Cell]:
    """Code cells in order. A cell's code runs to its first blank line; an output, if any, is the next
    block of text that starts with `tensor(` (the notebook's outputs are all tensors)."""
    lines = path.read_text().splitlines()
    cells = []
    for index, line in enumerate(lines):
        label = CELL_LABEL.match(line)
        if not label:
            continue
        end = index + 1
        while end < len(lines) and lines[end].strip():
            end += 1
        start_out = end
        while start_out < len(lines) and not lines[start_out].strip():
            start_out += 1
        printed: list[str] = []
        if start_out < len(lines) and lines[start_out].startswith("tensor("):
            while start_out < len(lines) and lines[start_out].strip():
                printed.append(lines[start_out])
                start_out += 1
        code = "\n".join(line.rstrip() for line in lines[index + 1 : end])
        cells.append(Cell(int(label[1]), code, "\n".join(printed)))
    return cells


def adapt(cell: Cell, engine: str) -> str:
    """The cell's code with the two substitutions of the module docstring."""
    source = re.sub(
        r"^import torch$",
        f"import {engine} as torch" if engine != "torch" else "import torch",
        cell.source,
        flags=re.MULTILINE,
    )
    printed_values = iter(match[1] for match in PRINTED_TENSOR.finditer(cell.printed))
    return RANDN_CALL.sub(lambda call: randn_replacement(call[0], next(printed_values)), source)


def randn_replacement(call: str, printed_values: str) -> str:
    values = ast.literal_eval(printed_values)  # the printed text is a valid Python list literal
    keep = ", requires_grad=True" if "requires_grad=True" in call else ""
    return f"torch.tensor({values!r}{keep})"


def run_cell(source: str, namespace: dict[str, object]) -> str:
    """Run code as a notebook cell does: what it prints, then the repr of its last expression, if any."""
    tree = ast.parse(source)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body.pop()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(tree, "<cell>", "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
            if value is not None:
                print(repr(value))
    return out.getvalue().rstrip("\n")


def replay(engine: str = "minigrad", namespace: dict[str, object] | None = None) -> Iterator[Replayed]:
    """Every cell, run in order in one namespace (fresh unless given) with `engine` imported as `torch`.
    A generator: between cells, the namespace holds the notebook's variables as they are at that point."""
    namespace = {"__name__": "__notebook__"} if namespace is None else namespace
    for cell in read_cells():
        source = adapt(cell, engine)
        yield Replayed(cell, source, run_cell(source, namespace))
