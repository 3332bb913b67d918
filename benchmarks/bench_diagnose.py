"""How long the diagnosis by op (reference/diagnose.py) takes: the median of 20 runs for each engine and dtype.

    python benchmarks/bench_diagnose.py
    python benchmarks/bench_diagnose.py --runs 1     # proves the script runs (CI)

A correct engine runs every check; a broken one stops early at its failing op, so a correct engine is the
slow case. The goal: well under a second, so that it can run before every parity check.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent.parent / "tests")]

import learner_engine  # noqa: E402 - tests/ is put on sys.path just above

import minigrad  # noqa: E402
from reference.diagnose import diagnose  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description="Time the diagnosis by op on correct engines.")
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    engines: list[ModuleType] = [minigrad, learner_engine]
    try:
        import torch

        engines.append(torch)
    except ImportError:
        print("(torch is not installed: not timed)")
    print(f"diagnosis by op, median of {runs} runs (a correct engine: every check runs)")
    for engine in engines:
        for dtype in ("float32", "float64"):
            diagnose(engine, dtype)  # warm up: imports, first calls
            times = []
            for seed in range(runs):
                start = time.perf_counter()
                diagnosis = diagnose(engine, dtype, seed)
                times.append(time.perf_counter() - start)
                assert diagnosis.passed, diagnosis.report()
            print(f"  {engine.__name__:>15} {dtype}: {statistics.median(times) * 1e3:6.1f} ms")


if __name__ == "__main__":
    main()
