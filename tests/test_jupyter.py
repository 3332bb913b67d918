"""examples/notebook.ipynb: the notebook's text as a real notebook, run in a Jupyter kernel on minigrad and on torch.

The kernel tests need the [notebook] extra (nbclient, nbformat, ipykernel) and skip with a reason without it.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from reference.notebook import adapt, compare_printed, read_cells, replay

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
IPYNB = EXAMPLES / "notebook.ipynb"


def stored() -> dict[str, Any]:
    notebook: dict[str, Any] = json.loads(IPYNB.read_text())
    return notebook


@cache
def generator() -> ModuleType:
    """examples/make_notebook.py, which builds and runs the notebook (it needs nbformat and nbclient)."""
    for name in ("nbformat", "nbclient", "ipykernel"):
        pytest.importorskip(name, reason="needs the [notebook] extra: pip install -e '.[notebook]'")
    spec = importlib.util.spec_from_file_location("make_notebook", EXAMPLES / "make_notebook.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def code_cells(notebook: Any) -> dict[int, Any]:
    """The code cells from the notebook's text, by their original In [N] number."""
    return {cell["metadata"]["original_in"]: cell for cell in notebook["cells"] if cell["cell_type"] == "code"}


def printed(cell: Any) -> str:
    """What a stored code cell shows, as text: its streams, then the repr of its value (a .ipynb stores a
    multi-line text as a list of lines)."""
    parts = ["".join(output["text"]) for output in cell["outputs"] if output["output_type"] == "stream"]
    parts += ["".join(o["data"]["text/plain"]) + "\n" for o in cell["outputs"] if o["output_type"] == "execute_result"]
    return "".join(parts).rstrip("\n")


def test_the_notebook_holds_the_texts_cells_in_order_as_the_replay_runs_them() -> None:
    cells = code_cells(stored())
    assert list(cells) == [cell.number for cell in read_cells()]
    for cell in read_cells():
        source = "".join(cells[cell.number]["source"])
        if cell.number == 1:  # the engine switch
            assert "import minigrad as torch" in source and "import torch" in source and "NOTEBOOK_ENGINE" in source
        else:
            assert source == adapt(cell, "minigrad")


def test_the_stored_outputs_are_what_minigrad_prints() -> None:
    """What GitHub shows is what a replay prints now (the kernel test below runs it in Jupyter itself)."""
    cells = code_cells(stored())
    for replayed in replay("minigrad"):
        assert printed(cells[replayed.cell.number]) == replayed.output, f"In [{replayed.cell.number}]"
    assert printed(cells[24]).startswith("tensor(43276.1953")  # the number the note above In [20] quotes


def test_the_stored_notebook_is_what_the_generator_writes() -> None:
    """Cells, sources and notes as examples/make_notebook.py builds them: regenerate after changing it."""
    built = generator().build()
    cells = stored()["cells"]
    assert [(c["id"], c["cell_type"], "".join(c["source"]), c["metadata"]) for c in cells] == [
        (c.id, c.cell_type, c.source, c.metadata) for c in built.cells
    ]
    assert all(c["execution_count"] == c["metadata"]["original_in"] for c in cells if c["cell_type"] == "code")
    assert sum("*The original's execution counter jumps" in "".join(c["source"]) for c in cells) == 1


def run_in_kernel(engine: str) -> dict[int, str]:
    """Execute the stored notebook on a fresh ipykernel with `engine`; each cell's text by In [N], after
    checking, with a cell added at the end, that the kernel ran the engine asked for."""
    make = generator()
    notebook = make.nbformat.read(IPYNB, as_version=4)
    notebook.cells.append(make.nbformat.v4.new_code_cell("torch.__name__"))
    make.execute(notebook, engine)
    assert make.printed(notebook.cells[-1]) == repr(engine)
    return {
        cell.metadata["original_in"]: make.printed(cell)
        for cell in notebook.cells[:-1]
        if "original_in" in cell.metadata
    }


def test_in_a_kernel_minigrad_prints_the_stored_outputs_and_torchs_text() -> None:
    """nbclient runs the notebook on an ipykernel with minigrad, then with torch; every output cell has the
    same layout and its numbers within what rounding allows (reference.notebook.compare_printed)."""
    generator()
    pytest.importorskip("torch")
    ours, theirs = run_in_kernel("minigrad"), run_in_kernel("torch")
    assert ours == {number: printed(cell) for number, cell in code_cells(stored()).items()}
    comparisons = compare_printed("minigrad", "torch", texts=(ours, theirs))
    assert [c.number for c in comparisons] == [number for number, text in ours.items() if text]
    assert all(c.same_layout and c.worst_ratio <= 1 for c in comparisons), comparisons
