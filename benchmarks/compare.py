"""Eager minigrad against another checkout of it, side by side in one process: is this change slower?

    git worktree add /tmp/minigrad-before f7ddf5e        # the code to compare with
    python benchmarks/compare.py /tmp/minigrad-before     # notebook size and large size
    python benchmarks/compare.py /tmp/minigrad-before --quick

Both packages are imported into this process (each keeps its own modules), and the notebook's training step
(bench.py's `train_engine`) runs on each in turn, the order alternating every round, each round a fresh copy
of the parameters. It prints each engine's CPU time per step (the minimum over rounds, the least disturbed
by other processes, and the median) and their ratio. Timings vary by machine and load; the ratio is what
to read, and it is steadier when nothing else runs.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

import bench

HERE = Path(__file__).resolve().parent.parent


def load_minigrad(root: Path) -> ModuleType:
    """The `minigrad` package under `root`, imported afresh (the previous one's modules stay with it)."""
    for name in [name for name in sys.modules if name == "minigrad" or name.startswith("minigrad.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        module = importlib.import_module("minigrad")
    finally:
        sys.path.remove(str(root))
    assert Path(module.__file__ or "").resolve().is_relative_to(root.resolve()), module.__file__
    return module


def cpu_time_per_step(engine: ModuleType, problem: bench.Problem, data: bench.Data) -> float:
    x, y, w0, b0 = data
    w, b = engine.tensor(w0.copy(), requires_grad=True), engine.tensor(b0.copy(), requires_grad=True)
    start = time.process_time()
    bench.train_engine(engine, engine.tensor(x), engine.tensor(y), w, b, problem.lr, problem.steps)
    return (time.process_time() - start) / problem.steps


def compare(engines: dict[str, ModuleType], problem: bench.Problem, rounds: int) -> None:
    data = bench.make_data(problem)
    times: dict[str, list[float]] = {label: [] for label in engines}
    labels = list(engines)
    for round_ in range(rounds):
        for label in labels if round_ % 2 == 0 else labels[::-1]:
            times[label].append(cpu_time_per_step(engines[label], problem, data))
    unit, scale = ("us", 1e6) if problem.rows < 1000 else ("ms", 1e3)
    print(f"{problem.name}: {problem.steps} steps a round, {rounds} rounds (CPU time per step)")
    for label in labels:
        fastest, median = min(times[label]) * scale, statistics.median(times[label]) * scale
        print(f"  {label:>10}: min {fastest:8.2f} {unit}   median {median:8.2f} {unit}")
    this, other = times[labels[0]], times[labels[1]]
    ratio_min, ratio_median = min(this) / min(other), statistics.median(this) / statistics.median(other)
    print(f"  this / other: min {ratio_min:.3f}   median {ratio_median:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("other", type=Path, help="the root of another minigrad checkout")
    parser.add_argument("--quick", action="store_true", help="few rounds, small sizes: checks that it runs")
    parser.add_argument("--notebook-only", action="store_true", help="only the notebook-size step")
    args = parser.parse_args()
    engines = {"this": load_minigrad(HERE), "other": load_minigrad(args.other)}
    notebook = bench.Problem(5, 3, 2, steps=50 if args.quick else 200, repeats=1, lr=0.01)
    large = bench.QUICK_LARGE if args.quick else bench.Problem(65536, 512, 64, steps=2, repeats=1, lr=0.01)
    compare(engines, notebook, rounds=4 if args.quick else 60)
    if args.notebook_only:
        return
    compare(engines, large, rounds=2 if args.quick else 10)


if __name__ == "__main__":
    main()
