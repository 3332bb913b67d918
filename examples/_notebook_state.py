"""The notebook's variables as they stand after a given cell (shared by the examples)."""

from __future__ import annotations

from reference.notebook import replay


def state_after(cell_number: int, engine: str = "minigrad") -> dict[str, object]:
    """Replay the notebook's cells up to and including In [cell_number]; return its variables."""
    namespace: dict[str, object] = {"__name__": "__notebook__"}
    for replayed in replay(engine, namespace):
        if replayed.cell.number == cell_number:
            return namespace
    raise ValueError(f"the notebook has no cell In [{cell_number}]")
