"""Capture the notebook's training step once, then replay it: the tape, and eager against captured.

    python examples/capture.py                # timings: the median of 7 runs of 900 steps each way
    python examples/capture.py --repeats 1

Replays the notebook up to In [41], makes the body of its training loop (In [59]) a function, and runs it
900 times eagerly and 900 times through `minigrad.capture`, from the same state. It prints the tape (the
numpy calls a replay makes, each named by the graph node whose code made it), checks that eager and captured
agree bit for bit at every step, and times both.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from _notebook_state import state_after

import minigrad

# In [59]'s loop body, as a function of no arguments (w and b are the notebook's globals, updated in place).
STEP = """
def step():
    global w, b
    y_pred = regression_model(inputs)
    loss = mean_square_error(targets, y_pred)
    loss.backward()
    with torch.no_grad():
        w -= w.grad * 1e-5
        b -= b.grad * 1e-5
        w.grad.zero_()
        b.grad.zero_()
    return loss
"""
STEPS = 900


def notebook() -> dict[str, Any]:
    """The notebook's variables after In [41], with the step defined among them."""
    namespace = state_after(41)
    exec(STEP, namespace)
    return namespace


def bits(namespace: dict[str, Any], loss: Any) -> list[bytes]:
    w, b = namespace["w"], namespace["b"]
    return [t.detach().numpy().tobytes() for t in (loss, w, b, w.grad, b.grad)]


def per_step_us(run: Any, repeats: int) -> float:
    """Median over `repeats` of the time per step of STEPS steps, each repeat from a fresh notebook state."""
    times = []
    for _ in range(repeats):
        step = run(notebook())
        start = time.perf_counter()
        for _ in range(STEPS):
            step()
        times.append((time.perf_counter() - start) / STEPS * 1e6)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=7, help="timed runs each way (the median is shown)")
    repeats = parser.parse_args().repeats
    eager, captured = notebook(), notebook()
    step = minigrad.capture(captured["step"])
    for i in range(STEPS):
        loss = step()
        if bits(eager, eager["step"]()) != bits(captured, loss):
            print(f"eager and captured differ at step {i}")
            return 1
    print(f"The notebook's step, captured ({step.recordings} recording, then replays):\n")
    print(step.tape)
    print(
        f"\n{STEPS} steps: eager and captured agree bit for bit at every step (loss, w, b, w.grad, b.grad); "
        f"final loss {loss.item():.4f}"
    )
    eager_us = per_step_us(lambda namespace: namespace["step"], repeats)
    captured_us = per_step_us(lambda namespace: minigrad.capture(namespace["step"]), repeats)
    print(f"time per step over {STEPS} steps (median of {repeats}; the captured runs include their recording):")
    print(f"  eager    {eager_us:7.1f} us")
    print(f"  captured {captured_us:7.1f} us  ({eager_us / captured_us:.1f}x faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
