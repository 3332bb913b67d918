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

import numpy as np

from reference.loop import NOTEBOOK_INPUTS, NOTEBOOK_LR, NOTEBOOK_TARGETS, Problem
from reference.values import Array, StepValues

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


# ---------------------------------------------------------------- comparing two engines' printed cells
# What each output cell prints, as (quantity, step) of the loop in reference/loop.py: In [22]-[28] are step 0,
# In [33]-[36] step 1, In [40]-[41] the start of step 2, which In [59]'s 900 iterations run (steps 2-901), and
# In [60]-[63] the start of step 902. Cells not listed print data, the printed weights or zeros: no rounding.
CELL_QUANTITIES = {
    22: [("predictions", 0)],
    24: [("loss", 0)],
    27: [("w.grad", 0)],
    29: [("w", 0)],
    30: [("b", 0)],
    31: [("loss", 0)],
    33: [("predictions", 1)],
    34: [("loss", 1)],
    35: [("w.grad", 1), ("b.grad", 1)],
    40: [("predictions", 2)],
    41: [("loss", 2)],
    60: [("predictions", 902)],
    61: [("loss", 902)],
    63: [("predictions", 902)],
}
NUMBER = re.compile(r"-?(?:\d+\.\d*|\d*\.\d+)(?:e[+-]\d+)?|nan|inf")


def skeleton(text: str) -> str:
    """The text with each number replaced by as many #: equal skeletons mean the same layout and widths."""
    return NUMBER.sub(lambda number: "#" * len(number[0]), text)


def printed_numbers(text: str) -> tuple[Array, Array]:
    """The numbers in a cell's text, and for each how far it may lie from the value printed: half a unit of its
    last printed digit, plus a float64 ulp, as the decimal text itself is read into binary."""
    tokens = NUMBER.findall(text)
    half_units = []
    for token in tokens:
        mantissa, _, exponent = token.partition("e")
        decimals = len(mantissa.partition(".")[2])
        half_units.append(0.5 * 10.0 ** (int(exponent or 0) - decimals))
    numbers = np.array([float(token) for token in tokens])
    return numbers, np.array(half_units) + np.spacing(np.abs(numbers))


@dataclass(frozen=True)
class CellComparison:
    number: int
    identical: bool  # the same text, character for character
    same_layout: bool  # the same text but for the numbers' digits (skeleton)
    worst_ratio: float  # max over the cell's numbers of |difference| / allowance (0 when identical)


def printed_weights() -> tuple[Array, Array]:
    """w and b as In [20] printed them (4 decimals), in float64."""
    printed = next(cell for cell in read_cells() if cell.number == 20).printed
    w, b = (np.array(ast.literal_eval(values)) for values, _ in PRINTED_TENSOR.findall(printed))
    return w, b


def notebook_problem(steps: int) -> Problem:
    """The notebook's data, learning rate and the weights In [20] printed, in float32, for `steps` steps."""
    w0, b0 = printed_weights()
    return Problem(NOTEBOOK_INPUTS, NOTEBOOK_TARGETS, w0, b0, NOTEBOOK_LR, steps).astype("float32")


def compare_printed(
    engine: str = "minigrad", reference: str = "torch", texts: tuple[dict[int, str], dict[int, str]] | None = None
) -> list[CellComparison]:
    """Each output cell of `engine`'s replay against `reference`'s, as the rounding-error analysis allows.
    `texts`: the two engines' printed texts by cell number, where they were printed elsewhere (by a Jupyter kernel);
    by default, each engine's replay.

    Identical text is the goal, but a reduction's last bit depends on the order of its additions, which
    differs between BLAS libraries (torch's MKL added x@w.t()'s three products as (x0·w0 + x2·w2) + x1·w1 here,
    numpy's OpenBLAS in order, with FMA), and a printed gradient of 2e4 shows its last bit. So a number may
    differ by at most: each engine's rounding-error bound for that quantity and step at the parameters it
    held (bounds.step_bounds, plus the float64 yardstick's own), plus the exact effect of the difference
    between those parameters (exact.exact_step at each), plus each printed value's own rounding. Whether each
    engine's parameters stay within the drift bound of the float64 trajectory is parity.check_run's to say.
    Each printed number is also checked against the engine's loop trace, so the replay and the loop agree.
    """
    from reference.bounds import step_bounds
    from reference.engines import load_engine
    from reference.exact import exact_step
    from reference.loop import train

    problem = notebook_problem(steps=max(step for cells in CELL_QUANTITIES.values() for _, step in cells) + 1)
    runs = []
    for index, name in enumerate((engine, reference)):
        trace = train(load_engine(name), problem, "float32")
        if trace.error is not None:
            raise RuntimeError(trace.error.summary())
        exact = exact_step(problem.inputs, problem.targets, trace.w_in, trace.b_in, problem.lr)
        args = (problem.inputs, trace.w_in, trace.b_in, exact, problem.lr)
        bound = step_bounds(*args, np.float32) + step_bounds(*args, np.float64)
        cell_texts = texts[index] if texts is not None else {r.cell.number: r.output for r in replay(name)}
        runs.append((trace.values, exact, bound, cell_texts))
    (values_a, exact_a, bound_a, texts_a), (values_b, exact_b, bound_b, texts_b) = runs

    def flat(per_quantity: StepValues, quantities: list[tuple[str, int]]) -> Array:
        return np.concatenate([np.ravel(per_quantity[quantity][step]) for quantity, step in quantities])

    comparisons = []
    for cell in read_cells():
        text_a, text_b = texts_a[cell.number], texts_b[cell.number]
        if not (text_a or text_b):
            continue
        same_layout = skeleton(text_a) == skeleton(text_b)
        ratio = 0.0
        if text_a != text_b:
            quantities = CELL_QUANTITIES.get(cell.number)
            if not (same_layout and quantities):  # a layout differs, or a cell that should be exact is not
                ratio = np.inf
            else:
                (printed_a, half_a), (printed_b, half_b) = printed_numbers(text_a), printed_numbers(text_b)
                for printed, half, values in ((printed_a, half_a, values_a), (printed_b, half_b, values_b)):
                    if np.any(np.abs(printed - flat(values, quantities)) > half):
                        raise AssertionError(f"In [{cell.number}]: the replay printed values its loop trace lacks")
                allowance = flat(bound_a, quantities) + flat(bound_b, quantities) + half_a + half_b
                allowance += np.abs(flat(exact_a, quantities) - flat(exact_b, quantities))
                ratio = float(np.max(np.abs(printed_a - printed_b) / allowance))
        comparisons.append(CellComparison(cell.number, text_a == text_b, same_layout, ratio))
    return comparisons
