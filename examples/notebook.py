"""Replay the notebook "linear regression from scratch in PyTorch" cell by cell, on minigrad.

    python examples/notebook.py            # minigrad's output, with the notebook's own where it differs
    python examples/notebook.py --torch    # torch beside it; cells whose text differs are marked

The cells' code runs unchanged after `import minigrad as torch`, except that `torch.randn(...)` becomes the
values the notebook printed for it (to 4 decimals: a random draw can't be replayed). So the numbers agree
with the notebook's to within the rounding of those printed weights; where they differ, both are shown.
"""

from __future__ import annotations

import argparse
import sys

from reference.notebook import Replayed, compare_printed, replay
from reference.torch_reference import TORCH_CPU_WHEELS

NOTES = {
    20: "randn replaced by the weights the notebook printed (4 decimals): later numbers differ from the "
    "notebook's in the last digits, because the true weights had more digits than were printed.",
    31: "Careful: this cell recomputes the loss from y_pred, the predictions made *before* the update, so the "
    "loss has not dropped. With fresh predictions it has: {fresh_loss}",
    59: 'The comment says "100 epochs"; the loop runs 900 steps (one step per epoch: the whole data set is one batch).',
    60: "The notebook's execution counter jumps from In [41] to In [59]: 17 cells ran that it does not show. "
    "Its loss below (0.8193) is reached after about 2,800 steps from these weights, not the 902 shown here, "
    "so the notebook most likely ran its training loop more than once.",
}


def fresh_loss(namespace: dict[str, object]) -> str:
    """The loss In [31] meant to show: of the updated weights' predictions (computed without a graph)."""
    torch, model, mse = namespace["torch"], namespace["regression_model"], namespace["mean_square_error"]
    with torch.no_grad():  # type: ignore[attr-defined]
        return repr(mse(namespace["targets"], model(namespace["inputs"])))  # type: ignore[operator]


def show(cell: Replayed, namespace: dict[str, object], torch_cell: Replayed | None) -> bool:
    """Print one cell; return whether its text differs from torch's."""
    print(f"In [{cell.cell.number}]:")
    print("\n".join("    " + line for line in cell.source.splitlines()))
    if cell.output:
        print(cell.output)
    differs = torch_cell is not None and torch_cell.output != cell.output
    if differs:
        print(f"!! torch printed something else:\n{torch_cell.output if torch_cell else ''}")
    if cell.cell.printed and cell.cell.printed != cell.output:
        print(f"-- the notebook printed:\n{cell.cell.printed}")
    note = NOTES.get(cell.cell.number)
    if note:
        print("note: " + note.format(fresh_loss=fresh_loss(namespace) if "{fresh_loss}" in note else ""))
    print()
    return differs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--torch", action="store_true", help="run the same cells with torch and compare")
    args = parser.parse_args(argv)
    if args.torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            parser.exit(2, f"error: --torch needs torch: pip install torch --index-url {TORCH_CPU_WHEELS}\n")
    namespace: dict[str, object] = {"__name__": "__notebook__"}
    torch_cells = replay("torch") if args.torch else None
    differing = []
    for cell in replay("minigrad", namespace):
        if show(cell, namespace, next(torch_cells) if torch_cells is not None else None):
            differing.append(cell.cell.number)
    if args.torch:
        print(f"cells whose text differs from torch's: {differing or 'none'}")
        comparisons = {c.number: c for c in compare_printed("minigrad", "torch")}
        for number in differing:
            comparison = comparisons[number]
            verdict = "within" if comparison.worst_ratio <= 1 else "OUTSIDE"
            print(
                f"  In [{number}]: same layout: {comparison.same_layout}; numbers {verdict} what rounding allows "
                f"(worst |difference| / allowance {comparison.worst_ratio:.2f})"
            )
        print(
            "(a sum's last bit depends on the order of its additions, which torch's BLAS and numpy's choose "
            "differently; reference/notebook.py's compare_printed derives the allowance)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
