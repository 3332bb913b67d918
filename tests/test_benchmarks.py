"""The benchmark script runs (`--quick`: tiny sizes). It asserts nothing about timings: those depend on the machine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"
HEADINGS = (
    "== Machine ==",
    "== Time per training step",
    "== Peak memory over one step",
    "== Memory over",
    "== Backward through a chain of N ops",
    "== Goals ==",
)


def test_bench_quick_runs_and_prints_its_tables() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    for heading in HEADINGS:
        assert heading in done.stdout, f"missing {heading!r} in:\n{done.stdout}"
    assert "WARNING: the engines' final losses disagree" not in done.stdout
