"""python -m reference: check that an engine trains like torch on the notebook, step by step.

    python -m reference --engine minigrad --device cpu --dtype float32 --steps 900 --mode lockstep
    python -m reference --engine minigrad --sweep 200      # 200 random problems instead of the notebook

Prints the contract checks, a per-step table (each engine's loss, the engine's worst error/bound for each
quantity, the reference's worst), and a verdict; with --sweep, a line per problem that fails and a summary.
Progress shows on stderr when it is a terminal. Exit code 0 when everything passes, 1 when something
fails, 2 when the check cannot run (no such engine, no GPU, no torch).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
import time
from collections.abc import Sequence

import numpy as np

from reference.contract import Outcome, check_contract
from reference.engines import EngineNotFoundError, load_engine
from reference.loop import NOTEBOOK_LR, NOTEBOOK_STEPS, EngineError, Problem
from reference.parity import Report, check_parity
from reference.torch_reference import DEVICES, ReferenceUnavailableError, load_torch


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m reference",
        description="Train an engine and torch on the notebook's data and check every step against its "
        "rounding-error bound.",
    )
    parser.add_argument("--engine", default="minigrad", help="an importable module offering the contract")
    parser.add_argument("--device", choices=DEVICES, default="cpu", help="where the torch reference runs")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--steps", type=positive, default=NOTEBOOK_STEPS)
    parser.add_argument("--lr", type=float, default=NOTEBOOK_LR)
    parser.add_argument("--seed", type=int, default=0, help="seed of the numpy generator drawing w0 and b0")
    parser.add_argument(
        "--mode",
        choices=("lockstep", "free"),
        default="lockstep",
        help="lockstep: the engine gets the reference's parameters before each step; "
        "free: each follows its own trajectory",
    )
    parser.add_argument(
        "--capture",
        action="store_true",
        help="run the engine's step through engine.capture (minigrad.capture): recorded once, then replayed",
    )
    parser.add_argument("--every", type=positive, help="print every N-th step (default: about ten rows)")
    parser.add_argument("--plot", metavar="FILE", help="write the loss curves and error/bound per step (matplotlib)")
    parser.add_argument(
        "--sweep",
        type=positive,
        metavar="N",
        help="check N random problems (1-64 samples, 1-16 inputs, 1-8 outputs, scales 1e-3..1e3, up to --steps "
        "steps, lr up to 1/λ_max; seeded by --seed) instead of the notebook",
    )
    args = parser.parse_args(argv)
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        parser.error("--plot needs matplotlib: pip install matplotlib")
    return args


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        engine = load_engine(args.engine)
        load_torch(args.device)
    except (EngineNotFoundError, ReferenceUnavailableError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.capture and not callable(getattr(engine, "capture", None)):
        print(f"error: --capture needs {args.engine}.capture(step) (as minigrad.capture)", file=sys.stderr)
        return 2
    print(
        f"{args.engine} against the torch reference on {args.device}: the notebook's data, {args.dtype}, "
        f"{args.mode}, {args.steps} steps, lr {args.lr:g}, w0 and b0 from seed {args.seed}\n"
    )
    outcomes = check_contract(engine)
    print(contract_summary(outcomes))
    contract_failures = [outcome for outcome in outcomes if outcome.problem and not outcome.skipped]
    progress = Progress()
    if args.sweep:
        return sweep(engine, args, progress) or int(bool(contract_failures))
    problem = Problem.notebook(seed=args.seed, lr=args.lr, steps=args.steps)
    report = check_parity(
        engine, problem, args.dtype, args.mode, args.device, name=args.engine, progress=progress, capture=args.capture
    )
    progress.clear()
    print("\nafter the losses: the largest |error|/bound over the elements of each quantity (pass: <= 1)")
    print(report.table(args.every or default_every(args.steps)))
    for failure in report.failures:
        if isinstance(failure, EngineError):
            print(f"\n{failure.traceback}", end="")
    if args.plot:
        plot(report, args.plot)
    print(verdict(report, contract_failures))
    return 0 if report.passed and not contract_failures else 1


class Progress:
    """A one-line counter on stderr, redrawn at most ten times a second; silent when stderr is not a terminal
    (a log, CI), so only a person waiting sees it."""

    def __init__(self) -> None:
        self.shown = sys.stderr.isatty()
        self.last_drawn = 0.0

    def __call__(self, task: str, done: int, total: int) -> None:
        now = time.monotonic()
        if self.shown and (now - self.last_drawn > 0.1 or done == total):
            self.last_drawn = now
            sys.stderr.write(f"\r\033[K{task}: {done}/{total}")
            sys.stderr.flush()

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def sweep(engine: object, args: argparse.Namespace, progress: Progress) -> int:
    """Check `args.sweep` random problems; print each failure and a summary. Returns the exit code."""
    rng = np.random.default_rng(args.seed)
    worst, failed = (0.0, "", 0), 0
    for index in range(1, args.sweep + 1):
        shape = (int(rng.integers(1, 65)), int(rng.integers(1, 17)), int(rng.integers(1, 9)))
        scales = (float(10 ** rng.uniform(-3, 3)), float(10 ** rng.uniform(-3, 3)))
        steps = int(rng.integers(1, args.steps + 1))
        problem = Problem.drawn(
            shape, scales, rng.uniform(0, 10), rng.uniform(0.01, 1), int(rng.integers(2**32)), steps, args.dtype
        )
        progress(f"problem {index}/{args.sweep}", 0, 1)
        report = check_parity(
            engine, problem, args.dtype, args.mode, args.device, name=args.engine, capture=args.capture
        )
        described = f"problem {index}: {shape[0]}×{shape[1]} -> {shape[2]}, {steps} steps, lr {problem.lr:.3g}"
        ratio, quantity, step = report.engine.worst()
        worst = max(worst, (ratio, f"{described}, {quantity} at step {step}", index))
        if not report.passed:
            failed += 1
            progress.clear()
            print(f"FAIL {described}: {report.verdict()}")
    progress.clear()
    print(
        f"{args.sweep - failed} of {args.sweep} random problems pass ({args.dtype}, {args.mode}); worst "
        f"error/bound {worst[0]:.3g} ({worst[1]})"
    )
    return 1 if failed else 0


def default_every(steps: int) -> int:
    """The power of ten that gives about ten rows."""
    return int(10 ** math.floor(math.log10(steps)))


def contract_summary(outcomes: list[Outcome]) -> str:
    passed = sum(outcome.problem is None for outcome in outcomes)
    skipped = sum(outcome.skipped for outcome in outcomes)
    optional = f", {skipped} optional skipped" if skipped else ""
    lines = [f"contract: {passed} of {len(outcomes)} checks pass{optional}"]
    for outcome in outcomes:
        if outcome.problem:
            status = "skipped" if outcome.skipped else "FAILS"
            lines.append(f"  {status}: {outcome.check.name}: {outcome.problem}")
    return "\n".join(lines)


def verdict(report: Report, contract_failures: list[Outcome]) -> str:
    if not contract_failures:
        return report.verdict()
    broken = " | ".join(outcome.check.name for outcome in contract_failures)
    loop = report.verdict().removeprefix("FAIL: ") if report.failures else "the notebook's loop itself passes"
    return f"FAIL: {len(contract_failures)} contract check(s) fail ({broken}); {loop}"


def plot(report: Report, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (losses, ratios) = plt.subplots(2, 1, figsize=(9, 8), sharex=True)
    for run, label, style in ((report.engine, report.engine.name, "-"), (report.reference, "torch (reference)", "--")):
        losses.plot(run.trace.values.loss, style, label=label)
    losses.set(
        yscale="log",
        ylabel="loss (log scale)",
        title=f"Loss per step: {report.engine.name} and torch, {report.dtype}, {report.mode} (the curves coincide)",
    )
    losses.legend()
    for quantity, comparison in report.engine.comparisons.items():
        ratios.plot(comparison.worst, label=quantity, linewidth=0.8)
    ratios.axhline(1, color="black", linestyle="--", linewidth=1)
    ratios.text(0, 1.15, "the bound: a ratio above 1 fails", fontsize="small")
    ratios.set(
        yscale="log",
        xlabel="step",
        ylabel="worst |error| / bound (log scale)",
        title=f"{report.engine.name}: worst error/bound per step and quantity, against the float64 recomputation",
    )
    ratios.legend(ncol=4, fontsize="small")
    figure.tight_layout()
    figure.savefig(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
