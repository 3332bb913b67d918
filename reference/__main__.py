"""python -m reference: check that an engine trains like torch on the notebook, step by step.

    python -m reference --engine minigrad --device cpu --dtype float32 --steps 900 --mode lockstep
    python -m reference --engine myadapter:engine --sweep 200   # 200 random problems instead of the notebook

Prints the contract checks, a per-step table (each engine's loss, the engine's worst error/bound for each
quantity, the reference's worst), the engine's values beside the reference's where it first fails, and a
verdict; with --sweep, a line per problem that fails and a summary. Exit codes: 0 everything passes, 1 the
engine fails, 2 the check cannot run (no such engine, an engine that cannot import or start, no torch, no GPU,
a bad option, a problem that diverges for torch too), 130 interrupted (a sweep prints what it finished).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from reference.bounds import hessian_eigenvalues
from reference.contract import Outcome, check_contract
from reference.diagnose import diagnose
from reference.engines import EngineCannotStartError, EngineNotFoundError, load_engine, setup_traceback
from reference.loop import NOTEBOOK_INPUTS, NOTEBOOK_LR, NOTEBOOK_STEPS, NOTEBOOK_TARGETS, Problem
from reference.parity import Report, check_parity
from reference.torch_reference import DEVICES, ReferenceUnavailableError, load_torch

# Each problem of a sweep runs 1 to SWEEP_STEPS steps (uniformly drawn): 200 problems take about a minute on
# two cores (README, "Verify your own engine").
SWEEP_STEPS = 1000
CLIPPED = 1e6  # where a plot draws an infinite error/bound (NaN, overflow)
SWEEP_SPACE = "1-64 samples, 1-16 inputs, 1-8 outputs, scales 1e-3..1e3, lr up to 1/λ_max"


class CannotRunError(Exception):
    """The check cannot run as asked: exit 2 with this one line."""


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (--help lists the options)\n")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = OneLineParser(
        prog="python -m reference",
        description="Train an engine and torch on the notebook's data and check every step against its "
        "rounding-error bound.",
    )
    parser.add_argument(
        "--engine", default="minigrad", help="an importable module offering the contract, or module:attribute"
    )
    parser.add_argument("--device", choices=DEVICES, default="cpu", help="where the torch reference runs")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument(
        "--steps", type=at_least(1), help=f"steps (default: {NOTEBOOK_STEPS}; with --sweep, at most {SWEEP_STEPS})"
    )
    parser.add_argument("--lr", type=float, default=NOTEBOOK_LR, help="the notebook's learning rate")
    parser.add_argument("--seed", type=at_least(0), default=0, help="seeds w0 and b0 (and a sweep's problems)")
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
    parser.add_argument("--every", type=at_least(1), help="print every N-th step (default: about ten rows)")
    parser.add_argument("--plot", metavar="FILE", help="write the loss curves and error/bound per step (matplotlib)")
    parser.add_argument(
        "--sweep",
        type=at_least(1),
        metavar="N",
        help=f"check N random problems ({SWEEP_SPACE}) instead of the notebook",
    )
    parser.add_argument("--traceback", action="store_true", help="show the engine's tracebacks in full")
    args = parser.parse_args(argv)
    if args.plot:
        try:
            args.plot = plot_path(args.plot)
        except CannotRunError as error:
            parser.error(str(error))
    return args


def at_least(minimum: int) -> Any:
    def integer(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, not {value}")
        return value

    return integer


def plot_path(text: str) -> Path:
    """The file --plot will write, checked before the run: a folder gets parity.png in it."""
    if importlib.util.find_spec("matplotlib") is None:
        raise CannotRunError("--plot needs matplotlib: pip install matplotlib")
    path = Path(text)
    if path.is_dir():
        path = path / "parity.png"
    from matplotlib.figure import Figure

    formats = Figure().canvas.get_supported_filetypes()
    if path.suffix.lstrip(".").lower() not in formats:
        raise CannotRunError(f"--plot {text}: name a file ending .png, .pdf or .svg (or a folder)")
    if not path.parent.is_dir():
        raise CannotRunError(f"--plot {text}: there is no folder {path.parent}")
    if not os.access(path.parent, os.W_OK):
        raise CannotRunError(f"--plot {text}: cannot write in {path.parent}")
    return path


def check_notebook_lr(lr: float, dtype: str) -> None:
    """Gradient descent on the notebook converges only for 0 < lr < 2/λ_max: beyond, torch diverges too, and
    a divergence says nothing of the engine."""
    top = float(hessian_eigenvalues(NOTEBOOK_INPUTS.astype(dtype), NOTEBOOK_TARGETS.shape[1]).max())
    if not (math.isfinite(lr) and 0 < lr < 2 / top):
        raise CannotRunError(
            f"--lr {lr:g}: gradient descent on the notebook converges only for 0 < lr < 2/λ_max = {2 / top:.3g} "
            f"(λ_max = {top:.3g}, the loss's largest curvature); the notebook uses {NOTEBOOK_LR:g}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except (CannotRunError, EngineNotFoundError, EngineCannotStartError, ReferenceUnavailableError) as error:
        frames = setup_traceback(error)
        hint = "; --traceback shows where" if frames and not args.traceback else ""
        print(f"error: {error}{hint}", file=sys.stderr)
        if frames and args.traceback:
            print(frames, end="", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


def run(args: argparse.Namespace) -> int:
    if args.sweep is None:
        check_notebook_lr(args.lr, args.dtype)
    engine = load_engine(args.engine)
    load_torch(args.device)
    if args.capture and not callable(getattr(engine, "capture", None)):
        raise CannotRunError(f"--capture needs {args.engine}.capture(step) (as minigrad.capture)")
    if args.sweep:
        steps = args.steps or SWEEP_STEPS
        print(
            f"{args.engine} against the torch reference on {args.device}: {args.sweep} random problems "
            f"({SWEEP_SPACE}), 1 to {steps} steps each, {args.dtype}, {args.mode}, seed {args.seed}\n"
        )
    else:
        print(
            f"{args.engine} against the torch reference on {args.device}: the notebook's data, {args.dtype}, "
            f"{args.mode}, {args.steps or NOTEBOOK_STEPS} steps, lr {args.lr:g}, w0 and b0 from seed {args.seed}\n"
        )
    outcomes = check_contract(engine)
    print(contract_summary(outcomes, args.traceback))
    failed = [outcome for outcome in outcomes if outcome.failed]
    if any(outcome.check.gate for outcome in failed):  # a missing name or a wrong type: nothing else can run
        print(f"FAIL: {args.engine} breaks the contract: {failed[0].check.name}")
        return 1
    if args.sweep:
        return sweep(engine, args, failed)
    problem = Problem.notebook(seed=args.seed, lr=args.lr, steps=args.steps or NOTEBOOK_STEPS)
    progress = Progress()
    report = check_parity(
        engine, problem, args.dtype, args.mode, args.device, name=args.engine, progress=progress, capture=args.capture
    )
    progress.clear()
    print("\nafter the losses: the largest |error|/bound over the elements of each quantity (pass: <= 1)")
    print(report.table(args.every or default_every(problem.steps)))
    at_failure = report.at_failure()
    if at_failure:
        print(f"\n{at_failure}")
    if args.plot:
        plot(report, args.plot)
    if failed or not (report.passed or report.reference_failed):  # where: which op, forward or backward
        print(f"\n{diagnose(engine, args.dtype).report()}")
    print(verdict(args.engine, report, failed))
    if report.reference_failed:
        return 2
    return 0 if report.passed and not failed else 1


class Progress:
    """A one-line counter on stderr, redrawn at most ten times a second, when stderr is a terminal (a person
    waits); `milestone` lines show everywhere (a sweep's every 10%, in a log or CI too)."""

    def __init__(self) -> None:
        self.shown = sys.stderr.isatty()
        self.last_drawn = 0.0

    def __call__(self, task: str, done: int, total: int) -> None:
        now = time.monotonic()
        if self.shown and (now - self.last_drawn > 0.1 or done == total):
            self.last_drawn = now
            sys.stderr.write(f"\r\033[K{task}: {done}/{total}")
            sys.stderr.flush()

    def milestone(self, line: str) -> None:
        self.clear()
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def drawn_problem(rng: np.random.Generator, max_steps: int, dtype: str) -> Problem:
    shape = (int(rng.integers(1, 65)), int(rng.integers(1, 17)), int(rng.integers(1, 9)))
    scales = (float(10 ** rng.uniform(-3, 3)), float(10 ** rng.uniform(-3, 3)))
    steps = int(rng.integers(1, max_steps + 1))
    return Problem.drawn(
        shape, scales, rng.uniform(0, 10), rng.uniform(0.01, 1), int(rng.integers(2**32)), steps, dtype
    )


def sweep(engine: object, args: argparse.Namespace, contract_failures: list[Outcome]) -> int:
    """Check `args.sweep` random problems; print each failure, a line per 10% on stderr, and a summary (also
    on Ctrl-C, of the problems finished). Returns the exit code."""
    rng = np.random.default_rng(args.seed)
    progress, started = Progress(), time.monotonic()
    worst, failed, done = (0.0, "no problem finished"), 0, 0
    with interruptible() as interrupted:
        for index in range(1, args.sweep + 1):
            problem = drawn_problem(rng, args.steps or SWEEP_STEPS, args.dtype)
            progress(f"problem {index} of {args.sweep} ({failed} failed so far)", index - 1, args.sweep)
            report = check_parity(
                engine, problem, args.dtype, args.mode, args.device, name=args.engine, capture=args.capture
            )
            (samples, inputs), outputs = problem.inputs.shape, problem.outputs
            described = f"problem {index}: {samples}×{inputs} -> {outputs}, {problem.steps} steps, lr {problem.lr:.3g}"
            ratio, quantity, step = report.engine.worst()
            worst = max(worst, (ratio, f"{described}, {quantity} at step {step}"))
            if not report.passed:
                failed += 1
                progress.clear()
                print(f"FAIL {described}: {report.verdict().removeprefix('FAIL: ')}", flush=True)
            done = index
            if done * 10 // args.sweep > (done - 1) * 10 // args.sweep:
                progress.milestone(
                    f"sweep: {done} of {args.sweep} problems checked, {done - failed} pass, {failed} fail; worst "
                    f"error/bound {worst[0]:.3g}; {time.monotonic() - started:.0f} s"
                )
    progress.clear()
    interrupted_after = f"interrupted after {done} of {args.sweep} problems: " if interrupted.value else ""
    print(
        f"{interrupted_after}{done - failed} of {done} random problems pass ({args.dtype}, {args.mode}, "
        f"{time.monotonic() - started:.0f} s); worst error/bound {worst[0]:.3g} ({worst[1]})"
    )
    if failed or contract_failures:
        print(diagnose(engine, args.dtype).report())
    if contract_failures:
        print(f"FAIL: {args.engine} breaks the contract: {contract_failures[0].check.name}{more(contract_failures)}")
    elif failed:
        print(f"FAIL: {failed} of {done} random problems fail")
    if interrupted.value:
        return 130
    return 1 if failed or contract_failures else 0


class Flag:
    value = False


@contextlib.contextmanager
def interruptible() -> Iterator[Flag]:
    """Ctrl-C ends the block quietly; the flag says it did."""
    flag = Flag()
    try:
        yield flag
    except KeyboardInterrupt:
        flag.value = True


def more(items: list[Any]) -> str:
    return f" (and {len(items) - 1} more)" if len(items) > 1 else ""


def default_every(steps: int) -> int:
    """The power of ten that gives about ten rows."""
    return int(10 ** math.floor(math.log10(steps)))


def contract_summary(outcomes: list[Outcome], tracebacks: bool = False) -> str:
    passed = sum(outcome.problem is None for outcome in outcomes)
    skipped = sum(outcome.skipped for outcome in outcomes)
    optional = f", {skipped} optional skipped" if skipped else ""
    lines = [f"contract: {passed} of {len(outcomes)} checks pass{optional}"]
    if outcomes and outcomes[-1].check.gate and outcomes[-1].failed:
        lines[0] = f"contract: {outcomes[-1].check.name} fails, so the rest is not run"
    for outcome in outcomes:
        if outcome.problem:
            status = "skipped" if outcome.skipped else "FAILS"
            lines.append(f"  {status}: {outcome.check.name}: {outcome.problem}")
            if tracebacks and outcome.traceback:
                lines.append(outcome.traceback.rstrip())
    return "\n".join(lines)


def verdict(name: str, report: Report, contract_failures: list[Outcome]) -> str:
    """One line. The loop's failure comes first when there is one: it is concrete (a step, a value)."""
    if not contract_failures or report.reference_failed:
        return report.verdict()
    broken = f"{name} breaks the contract: {contract_failures[0].check.name}{more(contract_failures)}"
    if report.failures:
        return f"{report.verdict()}; and {broken.removeprefix(name + ' ')}"
    return f"FAIL: {broken}; the notebook's loop itself passes"


def plot(report: Report, path: Path) -> None:
    figure(report).savefig(path)
    print(f"wrote {path}")


def figure(report: Report) -> Any:
    """The loss curves and each quantity's error/bound per step; a failure marked, and FAIL in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    failure = report.engine.first_failure(report.reference)
    drawing, (losses, ratios) = plt.subplots(2, 1, figsize=(9, 8), sharex=True)
    for run, label, style in ((report.engine, report.engine.name, "-"), (report.reference, "torch (reference)", "--")):
        losses.plot(run.trace.values.loss, style, label=label)
    if failure is None:
        outcome = "PASS (the curves coincide)"
    else:
        outcome = f"FAIL at step {failure.step}"
        for axes in (losses, ratios):
            axes.axvline(failure.step, color="red", linewidth=1.5)
        what = getattr(failure, "where", failure.quantity)
        ratio = min(getattr(failure, "ratio", CLIPPED), CLIPPED)  # an engine that raised: drawn at the top
        ratios.plot([failure.step], [ratio], "o", color="red", markersize=8, fillstyle="none")
        ratios.annotate(
            f"  step {failure.step}: {what} fails", (failure.step, 0.97), xycoords=("data", "axes fraction"),
            color="red", va="top",
        )  # fmt: skip
    losses.set(
        yscale="log",
        ylabel="loss (log scale)",
        title=f"{outcome}: loss per step, {report.engine.name} and torch, {report.dtype}, {report.mode}",
    )
    losses.title.set_color("red" if failure else "black")
    losses.legend()
    for quantity, comparison in report.engine.comparisons.items():
        # inf (NaN or overflow) drawn at the top, where it failed, rather than dropped
        shown = np.minimum(comparison.worst, CLIPPED)
        ratios.plot(shown, label=quantity, linewidth=0.8)
    ratios.axhline(1, color="black", linestyle="--", linewidth=1)
    ratios.text(0, 1.15, "the bound: a ratio above 1 fails", fontsize="small")
    # symlog: linear below 1e-3, so a ratio of exactly 0 (an exact result, common in float64) shows at 0
    ratios.set_yscale("symlog", linthresh=1e-3)
    ratios.set_ylim(bottom=0)
    ratios.set(
        xlabel="step",
        ylabel="worst |error| / bound (symlog: 0 shown)",
        title=f"{report.engine.name}: worst error/bound per step and quantity, against the float64 recomputation",
    )
    ratios.legend(ncol=4, fontsize="small")
    drawing.tight_layout()
    return drawing


def entry_point() -> int:
    """main(), quiet when the reader of stdout goes away (`| head`)."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush fails silently too
        return 0
    return code


if __name__ == "__main__":
    sys.exit(entry_point())
