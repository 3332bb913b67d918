"""Watch backpropagation through the notebook's loss, step by step, with the numbers.

    python examples/backprop.py

Replays the notebook up to In [24] (predictions and loss from the weights it printed), then runs In [25],
`loss.backward()`, inside `watch_backward`: each node the engine visits, the gradient arriving, the local
rule, what it passes on, and finally w.grad and b.grad, which the notebook prints in In [27].
"""

from __future__ import annotations

import sys
from typing import Any

from _notebook_state import state_after

from minigrad.walkthrough import watch_backward


def main() -> int:
    notebook = state_after(24)
    loss: Any = notebook["loss"]
    print(f"loss = {loss!r}")
    print("loss = sum(diff * diff) / 10, diff = targets - (inputs @ w.t() + b). Backward, from the loss down:\n")
    with watch_backward(names={"w": notebook["w"], "b": notebook["b"]}):
        loss.backward()
    return 0


if __name__ == "__main__":
    sys.exit(main())
