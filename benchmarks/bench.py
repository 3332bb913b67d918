"""minigrad vs torch eager vs numpy with hand-derived gradients, side by side in one process.

    python benchmarks/bench.py            # the full run (about 40 s on 2 cores)
    python benchmarks/bench.py --quick    # tiny sizes, a few seconds: proves the script runs (CI)

What it runs: the linear-regression notebook's training step, written once against the torch API
(`train_engine`: `engine` is the `minigrad` or the `torch` module), and the same arithmetic in plain numpy
with the gradients derived by hand (`train_numpy_hand`: no autograd at all, the floor for a numpy engine).

What it prints:
- the machine: CPU, cores, numpy/torch versions, the BLAS and its threads;
- time per step: engines interleaved (the order rotates every repeat), each repeat a fresh copy of the
  parameters, the median over repeats, and the ratios minigrad/numpy-hand and minigrad/torch;
- peak memory over a step, two ways:
  * tracemalloc, in this process, for minigrad and numpy-hand: numpy reports its array allocations to
    tracemalloc, so this counts every array byte. torch's allocator does not report to tracemalloc, so torch
    is not measured this way. "peak" counts everything live (data, parameters, gradients, and the step's
    temporaries); "step" counts only what the step itself allocates above what was live before it;
  * peak RSS in a fresh subprocess per engine (torch included): the peak resident memory above the
    process's resident memory after imports (Linux: VmHWM reset through /proc/self/clear_refs);
- memory over 10,000 notebook steps of minigrad with the garbage collector off: graphs must be freed by
  reference counting alone, and `gc.collect()` afterwards must find nothing to free;
- backward through a chain of N ops (`x = x * 1.0001`, N times): time per op must not grow with N;
- the issue's goals with PASS or MISS for each.

Threads: torch gets `torch.set_num_threads(n)` with n = the threads numpy's BLAS uses (from threadpoolctl
when it is installed; otherwise OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS, else the usable
cores, which is OpenBLAS's default). numpy's elementwise ops run on one thread whatever the setting.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
Data = tuple[F32, F32, F32, F32]  # x, y, w0, b0
State = tuple[Any, ...]  # x, y, w, b as one engine holds them (and, for the captured engine, its step)


@dataclass(frozen=True)
class Problem:
    """One size of the notebook's problem: `rows` samples of `d_in` features, `d_out` targets."""

    rows: int
    d_in: int
    d_out: int
    steps: int  # steps per timed run
    repeats: int  # timed runs per engine; the median is reported
    lr: float

    @property
    def name(self) -> str:
        return f"{self.rows}x{self.d_in}->{self.d_out}"


# The notebook: 5 samples of 3 features, 2 targets, 900 steps. The large size: lr far below divergence
# (the loss's curvature is about 2/d_out for unit-normal x, so anything below d_out is stable).
NOTEBOOK = Problem(5, 3, 2, steps=900, repeats=15, lr=0.01)
MEDIUM = Problem(4096, 256, 32, steps=30, repeats=7, lr=0.01)
LARGE = Problem(65536, 512, 64, steps=3, repeats=9, lr=0.01)
QUICK_NOTEBOOK = Problem(5, 3, 2, steps=50, repeats=3, lr=0.01)
QUICK_LARGE = Problem(512, 64, 8, steps=2, repeats=2, lr=0.01)

GOAL_NOTEBOOK_VS_NUMPY = 2.5
GOAL_NOTEBOOK_VS_TORCH = 1 / 3
GOAL_LARGE_VS_NUMPY = 1.15
GOAL_LARGE_MEMORY = 1.3
# minigrad.capture's replay (issue 11): each ratio measured in one run
GOAL_CAPTURED_NOTEBOOK_VS_NUMPY = 2.0
GOAL_CAPTURED_NOTEBOOK_VS_TORCH = 0.25
GOAL_CAPTURED_LARGE_VS_NUMPY = 1.05
GOAL_CAPTURED_LARGE_MEMORY = 1.1
GOAL_CHAIN_GROWTH = 1.5  # per-op backward time at the largest N over that at the smallest (quadratic: N ratio)
# "Flat": tracemalloc also counts objects parked on CPython's free lists (a few KiB that come and go), so it
# allows 64 KiB between the readings; a leak of one 56-byte tuple a step over 9,000 steps would be 490 KiB.
# The count of live minigrad objects (tensors and graph nodes) must not change at all.
FLAT_SLACK_BYTES = 64 * 1024


# ---------------------------------------------------------------- the training step, three ways
def training_step(engine: Any, x: Any, y: Any, w: Any, b: Any, lr: float) -> Callable[[], Any]:
    """One step of the notebook's loop, written once against the torch API; `engine` is the `minigrad` or
    `torch` module. Eager engines call it in a loop; `minigrad.capture` records it and replays it."""

    def step() -> Any:
        nonlocal w, b
        pred = x @ w.t() + b
        diff = y - pred
        loss = engine.sum(diff * diff) / diff.numel()
        loss.backward()
        with engine.no_grad():
            w -= w.grad * lr
            b -= b.grad * lr
            w.grad.zero_()
            b.grad.zero_()
        return loss

    return step


def run_steps(step: Callable[[], Any], steps: int) -> float:
    loss = None
    for _ in range(steps):
        loss = step()
    assert loss is not None
    return float(loss.item())


def train_engine(engine: Any, x: Any, y: Any, w: Any, b: Any, lr: float, steps: int) -> float:
    """The notebook's loop: `steps` eager training steps."""
    return run_steps(training_step(engine, x, y, w, b, lr), steps)


def train_numpy_hand(x: F32, y: F32, w: F32, b: F32, lr: float, steps: int) -> float:
    """The same loop in numpy with the gradients derived by hand: the floor for an engine built on numpy.

    loss = sum((y - x @ w.T - b)**2) / n, so with g = d loss / d pred = -2 (y - pred) / n:
    d loss / d w = g.T @ x and d loss / d b = g summed over the rows. d loss / d w is computed as (x.T @ g).T,
    as the engines compute it (mm's backward, then t()'s): the same product, and the faster one for OpenBLAS
    when another process holds a core (g.T @ x, with its 64-row output, can then stall 20x longer).
    """
    loss = np.float32(0)
    for _ in range(steps):
        pred = x @ w.T + b
        diff = y - pred
        loss = np.sum(diff * diff) / diff.size
        grad_pred = diff * np.float32(-2 / diff.size)
        w -= (x.T @ grad_pred).T * lr
        b -= grad_pred.sum(axis=0) * lr
    return float(loss)


@dataclass(frozen=True)
class Engine:
    name: str
    setup: Callable[[Data, float], State]  # fresh tensors for a run (x and y shared, w and b copied), given lr
    train: Callable[[State, float, int], float]


def numpy_engine() -> Engine:
    return Engine(
        "numpy-hand",
        lambda d, lr: (d[0], d[1], d[2].copy(), d[3].copy()),
        lambda s, lr, steps: train_numpy_hand(s[0], s[1], s[2], s[3], lr, steps),
    )


def minigrad_engine() -> Engine:
    import minigrad

    def setup(d: Data, lr: float) -> State:
        w, b = (minigrad.tensor(p, requires_grad=True) for p in d[2:])
        return minigrad.from_numpy(d[0]), minigrad.from_numpy(d[1]), w, b

    return Engine("minigrad", setup, lambda s, lr, steps: train_engine(minigrad, s[0], s[1], s[2], s[3], lr, steps))


def captured_step(engine: Any, x: Any, y: Any, w: Any, b: Any, lr: float) -> Callable[[], Any]:
    """`training_step`, as `engine.capture` records and replays it."""
    captured: Callable[[], Any] = engine.capture(training_step(engine, x, y, w, b, lr))
    return captured


def captured_engine() -> Engine:
    """minigrad.capture: setup records the step (two calls: grads absent, then present) and puts the parameters
    back, so a timed run replays from the same start as the others. The recordings are timed apart
    (`recording_cost`)."""
    import minigrad

    def setup(d: Data, lr: float) -> State:
        w, b = (minigrad.tensor(p, requires_grad=True) for p in d[2:])
        x, y = minigrad.from_numpy(d[0]), minigrad.from_numpy(d[1])
        step = captured_step(minigrad, x, y, w, b, lr)
        step(), step()
        for param, start in ((w, d[2]), (b, d[3])):
            np.copyto(param.detach().numpy(), start)
        return x, y, w, b, step

    return Engine("captured", setup, lambda s, lr, steps: run_steps(s[4], steps))


def recording_cost(problem: Problem) -> tuple[float, int]:
    """The time of the captured step's two recordings (µs, the median of 5 runs), and tracemalloc's peak while
    recording (data included), from a run of its own (tracemalloc slows every allocation: it is off while timing)."""
    import minigrad

    def record(traced: bool) -> tuple[float, int]:
        x, y, w0, b0 = make_data(problem)
        w, b = (minigrad.tensor(p, requires_grad=True) for p in (w0, b0))
        step = captured_step(minigrad, minigrad.from_numpy(x), minigrad.from_numpy(y), w, b, problem.lr)
        start = time.perf_counter()
        step(), step()
        return (time.perf_counter() - start) * 1e6, tracemalloc.get_traced_memory()[1] if traced else 0

    gc.collect()
    elapsed = statistics.median(record(traced=False)[0] for _ in range(5))
    gc.collect()
    tracemalloc.start()
    try:
        _, peak = record(traced=True)
    finally:
        tracemalloc.stop()
    return elapsed, peak


def tape_profile(problem: Problem, repeats: int) -> None:
    """The captured replay's numpy calls, each timed (median of 5), then captured and numpy-hand taking turns."""
    data = make_data(problem)
    captured, numpy_hand = captured_engine(), numpy_engine()
    state = captured.setup(data, problem.lr)
    tape = state[4].tape
    timed = [call for call in tape.calls if call not in tape.hoisted]
    ms: list[list[float]] = [[] for _ in timed]
    for _ in range(5):
        for times, (function, args) in zip(ms, tape.replay_calls, strict=True):
            start = time.perf_counter()
            function(*args)
            times.append((time.perf_counter() - start) * 1e3)
    print(f"== The captured replay at {problem.name}, call by call (ms, median of 5) ==")
    for call, times in zip(timed, ms, strict=True):
        print(f"  {statistics.median(times):8.2f}  {call.origin:<20} {call}")
    print(f"  {sum(statistics.median(t) for t in ms):8.2f}  in all")
    runs: dict[str, list[float]] = {"captured": [], "numpy-hand": []}
    for repeat in range(repeats):
        for engine in (captured, numpy_hand) if repeat % 2 else (numpy_hand, captured):
            run_state = state if engine is captured else engine.setup(data, problem.lr)
            gc.collect()
            start = time.perf_counter()
            engine.train(run_state, problem.lr, problem.steps)
            runs[engine.name].append((time.perf_counter() - start) / problem.steps * 1e3)
    medians = {name: statistics.median(times) for name, times in runs.items()}
    paired = statistics.median(c / n for c, n in zip(runs["captured"], runs["numpy-hand"], strict=True))
    captured_ms, numpy_ms = medians["captured"], medians["numpy-hand"]
    print(
        f"\n{repeats} runs each, taking turns: captured {captured_ms:.1f} ms, numpy-hand {numpy_ms:.1f} ms a step; "
        f"captured / numpy-hand {captured_ms / numpy_ms:.2f}x (median of the paired ratios {paired:.2f}x)"
    )


def torch_engine() -> Engine | None:
    try:
        import torch
    except ImportError:
        return None

    def setup(d: Data, lr: float) -> State:
        w, b = (torch.tensor(p, requires_grad=True) for p in d[2:])
        return torch.from_numpy(d[0]), torch.from_numpy(d[1]), w, b

    return Engine("torch", setup, lambda s, lr, steps: train_engine(torch, s[0], s[1], s[2], s[3], lr, steps))


def make_data(problem: Problem, seed: int = 0) -> Data:
    """x ~ N(0, 1), y a noisy linear function of x, and the notebook's random start for w and b (float32)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((problem.rows, problem.d_in), dtype=np.float32)
    true_w = rng.standard_normal((problem.d_out, problem.d_in), dtype=np.float32)
    y = x @ true_w.T
    y += rng.standard_normal(y.shape, dtype=np.float32)
    w0 = rng.standard_normal((problem.d_out, problem.d_in), dtype=np.float32)
    b0 = rng.standard_normal(problem.d_out, dtype=np.float32)
    return x, y, w0, b0


# ---------------------------------------------------------------- measurements
@dataclass
class Timing:
    problem: Problem
    us_per_step: dict[str, float]  # median over repeats
    spread: dict[str, tuple[float, float]]  # min and max over repeats
    final_loss: dict[str, float]


def time_problem(problem: Problem, engines: Sequence[Engine]) -> Timing:
    """Median time per step of each engine; engines interleaved, the order rotating every repeat."""
    data = make_data(problem)
    for engine in engines:  # warm up: first calls, caches, BLAS thread start-up
        engine.train(engine.setup(data, problem.lr), problem.lr, min(problem.steps, 20))
    runs: dict[str, list[float]] = {engine.name: [] for engine in engines}
    losses: dict[str, float] = {}
    for repeat in range(problem.repeats):
        shift = repeat % len(engines)
        for engine in [*engines[shift:], *engines[:shift]]:
            state = engine.setup(data, problem.lr)
            gc.collect()
            start = time.perf_counter()
            losses[engine.name] = engine.train(state, problem.lr, problem.steps)
            runs[engine.name].append((time.perf_counter() - start) / problem.steps * 1e6)
    return Timing(
        problem,
        {name: statistics.median(times) for name, times in runs.items()},
        {name: (min(times), max(times)) for name, times in runs.items()},
        losses,
    )


@dataclass
class TracedMemory:
    peak: int  # everything live at the step's peak: data, parameters, gradients, temporaries
    step: int  # the step's own allocations above what was live before it


def traced_memory(problem: Problem, engine: Engine) -> TracedMemory:
    """tracemalloc's peak over one training step (after a first step, so gradients exist, as in a loop)."""
    gc.collect()
    tracemalloc.start()
    try:
        state = engine.setup(make_data(problem), problem.lr)
        engine.train(state, problem.lr, 1)
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        engine.train(state, problem.lr, 1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return TracedMemory(peak, peak - before)


def current_rss() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def peak_rss() -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def rss_child(engine_name: str, problem: Problem) -> dict[str, int | None]:
    """Run in a fresh process: peak RSS of making the data and two training steps, above RSS after imports."""
    engines = {
        "numpy-hand": numpy_engine,
        "minigrad": minigrad_engine,
        "captured": captured_engine,
        "torch": torch_engine,
    }
    engine = engines[engine_name]()
    assert engine is not None
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")  # resets VmHWM (the peak) to the current RSS
    except OSError:
        return {"delta": None}
    base = current_rss()
    engine.train(engine.setup(make_data(problem), problem.lr), problem.lr, 2)
    peak = peak_rss()
    return {"delta": None if base is None or peak is None else peak - base}


def rss_in_subprocess(engine_name: str, problem: Problem, threads: int) -> int | None:
    args = [str(v) for v in (problem.rows, problem.d_in, problem.d_out)]
    cmd = [sys.executable, os.path.abspath(__file__), "--rss-child", engine_name, *args, "--threads", str(threads)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        print(f"  (rss child for {engine_name} failed: {done.stderr.strip()[-300:]})")
        return None
    delta: int | None = json.loads(done.stdout.strip().splitlines()[-1])["delta"]
    return delta


@dataclass
class Flatness:
    checkpoint: int
    steps: int
    at_checkpoint: int  # tracemalloc's current bytes
    at_end: int
    objects_at_checkpoint: int  # live minigrad tensors and graph nodes
    objects_at_end: int
    collected: int  # objects gc.collect() found unreachable afterwards (0: nothing needed the collector)

    @property
    def growth(self) -> int:
        return self.at_end - self.at_checkpoint

    @property
    def flat(self) -> bool:
        same_objects = self.objects_at_end == self.objects_at_checkpoint
        return self.growth <= FLAT_SLACK_BYTES and same_objects and self.collected == 0


def live_minigrad_objects() -> int:
    from minigrad.autograd import Node
    from minigrad.tensor import Tensor

    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), Tensor | Node))


def memory_flatness(steps: int, checkpoint: int) -> Flatness:
    """tracemalloc's current memory after `checkpoint` and after `steps` notebook steps of minigrad, gc off."""
    engine = minigrad_engine()
    state = engine.setup(make_data(NOTEBOOK), NOTEBOOK.lr)
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        engine.train(state, NOTEBOOK.lr, checkpoint)
        at_checkpoint = tracemalloc.get_traced_memory()[0]
        objects_at_checkpoint = live_minigrad_objects()
        engine.train(state, NOTEBOOK.lr, steps - checkpoint)
        at_end = tracemalloc.get_traced_memory()[0]
        objects_at_end = live_minigrad_objects()
    finally:
        tracemalloc.stop()
        collected = gc.collect()
        gc.enable()
    return Flatness(checkpoint, steps, at_checkpoint, at_end, objects_at_checkpoint, objects_at_end, collected)


def chain_backward(engine: Any, length: int, repeats: int) -> tuple[float, float]:
    """Median µs per op of the forward and of the backward of `x * 1.0001` applied `length` times."""
    forward, backward = [], []
    for _ in range(repeats):
        x = engine.tensor(1.0, requires_grad=True)
        gc.collect()
        start = time.perf_counter()
        y = x
        for _ in range(length):
            y = y * 1.0001
        middle = time.perf_counter()
        y.backward()
        end = time.perf_counter()
        del y  # frees the chain (after backward, outside the timing)
        forward.append((middle - start) / length * 1e6)
        backward.append((end - middle) / length * 1e6)
    return statistics.median(forward), statistics.median(backward)


# ---------------------------------------------------------------- the machine
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def other_load(seconds: float = 0.3) -> float | None:
    """How many cores were busy over a short wait (this process sleeps meanwhile), from /proc/stat."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields[:8]) - idle, sum(fields[:8])

    try:
        busy0, total0 = sample()
        time.sleep(seconds)
        busy1, total1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return (busy1 - busy0) / max(total1 - total0, 1) * (os.cpu_count() or 1)


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def blas_name() -> str:
    try:
        config: Any = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')}".strip()
    except Exception:
        return "unknown"


def numpy_blas_threads() -> tuple[int, str]:
    """The threads numpy's BLAS uses, and how that was found."""
    try:
        from threadpoolctl import threadpool_info

        counts = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
        if counts:
            return int(counts[0]), "threadpoolctl"
    except ImportError:
        pass
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var]), var
    return usable_cores(), "usable cores (OpenBLAS's default; threadpoolctl not installed)"


def threadpool_lines() -> list[str]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["threadpools: threadpoolctl not installed (pip install threadpoolctl to list them)"]
    lines = []
    for pool in threadpool_info():
        detail = ", ".join(f"{k}={pool[k]}" for k in ("version", "architecture", "threading_layer") if pool.get(k))
        lib = os.path.basename(pool["filepath"])
        lines.append(f"threadpool: {pool['user_api']}/{pool['internal_api']} {pool['num_threads']} threads, {lib}")
        if detail:
            lines[-1] += f" ({detail})"
    return lines


def machine_lines(torch_threads: int | None) -> list[str]:
    threads, source = numpy_blas_threads()
    lines = [
        f"CPU: {cpu_model()}, {os.cpu_count()} cores ({usable_cores()} usable)",
        f"python {platform.python_version()} on {platform.system()} {platform.machine()}",
        f"numpy {np.__version__}, BLAS {blas_name()}, {threads} BLAS threads (from {source})",
    ]
    try:
        import torch

        lines.append(f"torch {torch.__version__}, torch.set_num_threads({torch_threads}) to match numpy's BLAS")
    except ImportError:
        lines.append("torch: not installed (its columns read n/a)")
    return [*lines, *threadpool_lines()]


# ---------------------------------------------------------------- printing
def fmt_time(us: float | None) -> str:
    if us is None:
        return "n/a"
    if us >= 10_000:
        return f"{us / 1000:.1f} ms"
    return f"{us:.1f} us" if us < 1000 else f"{us / 1000:.2f} ms"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "n/a"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def fmt_ratio(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.2f}x"


def table(headings: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headings, *rows, strict=True)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (headings, ["-" * w for w in widths], *rows)
    ]
    return "\n".join("  " + line for line in lines)


@dataclass
class Goal:
    what: str
    target: str
    measured: str
    passed: bool | None  # None: not measured

    def row(self) -> list[str]:
        result = "n/a" if self.passed is None else "PASS" if self.passed else "MISS"
        return [self.what, self.target, self.measured, result]


# ---------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds: checks that it runs")
    parser.add_argument("--threads", type=int, default=None, help="torch's threads (default: numpy's BLAS threads)")
    parser.add_argument("--no-rss", action="store_true", help="skip the peak-RSS subprocesses")
    parser.add_argument(
        "--tape-profile",
        type=int,
        metavar="N",
        help="only profile the captured replay at the largest size: each call timed, then N runs taking turns "
        "with numpy-hand",
    )
    parser.add_argument("--rss-child", nargs=4, metavar=("ENGINE", "ROWS", "D_IN", "D_OUT"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def set_torch_threads(threads: int) -> None:
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(threads)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    threads = args.threads if args.threads is not None else numpy_blas_threads()[0]
    if args.rss_child:
        name, rows, d_in, d_out = args.rss_child
        if name == "torch":
            set_torch_threads(threads)
        print(json.dumps(rss_child(name, Problem(int(rows), int(d_in), int(d_out), 2, 1, 0.01))))
        return 0
    if args.tape_profile:
        tape_profile(QUICK_LARGE if args.quick else LARGE, args.tape_profile)
        return 0
    busy = other_load()  # before this process loads the machine itself
    set_torch_threads(threads)

    quick = args.quick
    notebook, large = (QUICK_NOTEBOOK, QUICK_LARGE) if quick else (NOTEBOOK, LARGE)
    sizes = [notebook, large] if quick else [notebook, MEDIUM, large]
    flat_steps, flat_checkpoint = (1_500, 500) if quick else (10_000, 1_000)
    chain_lengths = [300, 1_000, 3_000] if quick else [10_000, 30_000, 100_000]
    chain_repeats = 1 if quick else 3

    torch_engine_ = torch_engine()
    engines = [e for e in (numpy_engine(), minigrad_engine(), captured_engine(), torch_engine_) if e is not None]
    names = [e.name for e in engines]
    have_torch = torch_engine_ is not None

    print("== Machine ==")
    for line in machine_lines(threads if have_torch else None):
        print(f"  {line}")
    if busy is not None:
        print(f"  load from other processes just before the run: {busy:.2f} of {usable_cores()} cores busy")
        if busy > 0.25:
            print(
                "  WARNING: the machine is shared right now; timings are noisy, and multi-threaded torch can stall "
                "(its OpenMP threads wait on a core another process holds)"
            )
    if quick:
        print("  --quick: tiny sizes and few repeats; it checks that the benchmark runs, not the goals")

    # -- time per step
    print("\n== Time per training step (median over repeats; engines interleaved in one process) ==")
    timings = [time_problem(problem, engines) for problem in sizes]
    rows = []
    for t in timings:
        us = t.us_per_step
        rows.append(
            [
                t.problem.name,
                str(t.problem.steps),
                str(t.problem.repeats),
                *(fmt_time(us.get(name)) for name in ("numpy-hand", "minigrad", "captured", "torch")),
                fmt_ratio(ratio(us["minigrad"], us["numpy-hand"])),
                fmt_ratio(ratio(us["minigrad"], us.get("torch"))),
                fmt_ratio(ratio(us["captured"], us["numpy-hand"])),
                fmt_ratio(ratio(us["captured"], us.get("torch"))),
                fmt_ratio(ratio(us.get("torch"), us["numpy-hand"])),
            ]
        )
    headings = ["size", "steps", "repeats", "numpy-hand", "minigrad", "captured", "torch", "mg/numpy", "mg/torch"]
    print(table([*headings, "cap/numpy", "cap/torch", "torch/numpy"], rows))
    print("  minigrad: eager; captured: minigrad.capture's replay (its two recordings are timed apart, below)")
    print("  spread (min..max over repeats) and final loss of the last run (the engines must agree):")
    for t in timings:
        parts = [
            f"{n} {fmt_time(t.spread[n][0])}..{fmt_time(t.spread[n][1])}, loss {t.final_loss[n]:.6g}" for n in names
        ]
        print(f"    {t.problem.name}: " + "; ".join(parts))
        losses = list(t.final_loss.values())
        if max(losses) - min(losses) > 1e-3 * max(abs(v) for v in losses) + 1e-6:
            print("    WARNING: the engines' final losses disagree")
    recordings = {problem.name: recording_cost(problem) for problem in (notebook, large)}
    nb_recording_us = recordings[notebook.name][0]
    print(
        "  captured's two recordings (once per captured step): "
        + ", ".join(f"{name} {fmt_time(us)}" for name, (us, _) in recordings.items())
        + f"; over the notebook's {NOTEBOOK.steps} steps that adds {fmt_time(nb_recording_us / NOTEBOOK.steps)} a step"
    )

    # -- peak memory
    print(f"\n== Peak memory over one step at {large.name} ==")
    traced = {e.name: traced_memory(large, e) for e in engines if e.name != "torch"}
    mem_rows = [[name, fmt_bytes(m.peak), fmt_bytes(m.step)] for name, m in traced.items()]
    recording_peak = recordings[large.name][1]
    mem_rows.append(["captured, while recording", fmt_bytes(recording_peak), ""])
    for name in ("minigrad", "captured"):
        mem_rows.append(
            [
                f"ratio {name}/numpy",
                fmt_ratio(ratio(traced[name].peak, traced["numpy-hand"].peak)),
                fmt_ratio(ratio(traced[name].step, traced["numpy-hand"].step)),
            ]
        )
    print("  tracemalloc (every numpy array; torch's allocator is invisible to it, so torch is not listed):")
    print(table(["engine", "peak (all live)", "step's own"], mem_rows))
    rss: dict[str, int | None] = {}
    if not args.no_rss:
        # --quick leaves torch out here: a fresh process importing torch would double the quick run's time.
        rss = {e.name: rss_in_subprocess(e.name, large, threads) for e in engines if not (quick and e.name == "torch")}
        print(
            "  peak RSS above RSS after imports, each engine in a fresh process (data + 2 steps; captured also records)"
        )
        rss_rows = [[name, fmt_bytes(delta)] for name, delta in rss.items()]
        rss_rows.append(["ratio mg/numpy", fmt_ratio(ratio(rss["minigrad"], rss["numpy-hand"]))])
        rss_rows.append(["ratio captured/numpy", fmt_ratio(ratio(rss["captured"], rss["numpy-hand"]))])
        if "torch" in rss:
            rss_rows.append(["ratio mg/torch", fmt_ratio(ratio(rss["minigrad"], rss["torch"]))])
        print(table(["engine", "peak RSS delta"], rss_rows))

    # -- memory over many steps
    print(f"\n== Memory over {flat_steps:,} notebook steps of minigrad (gc disabled; tracemalloc current) ==")
    flat = memory_flatness(flat_steps, flat_checkpoint)
    print(
        table(
            ["after step", "traced memory"],
            [[f"{flat.checkpoint:,}", fmt_bytes(flat.at_checkpoint)], [f"{flat.steps:,}", fmt_bytes(flat.at_end)]],
        )
    )
    print(
        f"  growth {fmt_bytes(flat.growth)}; live minigrad tensors and nodes {flat.objects_at_checkpoint} -> "
        f"{flat.objects_at_end}; gc.collect() afterwards found {flat.collected} unreachable objects"
    )

    # -- chain backward
    print("\n== Backward through a chain of N ops (y = y * 1.0001, N times): us per op ==")
    import minigrad

    chain_engines: list[tuple[str, Any]] = [("minigrad", minigrad)]
    if have_torch:
        import torch

        chain_engines.append(("torch", torch))
    chain: dict[str, list[tuple[float, float]]] = {
        name: [chain_backward(module, n, chain_repeats) for n in chain_lengths] for name, module in chain_engines
    }
    chain_rows = [
        [f"{n:,}", *(f"{chain[name][i][0]:.2f} / {chain[name][i][1]:.2f}" for name, _ in chain_engines)]
        for i, n in enumerate(chain_lengths)
    ]
    print(table(["N", *(f"{name} fwd / bwd" for name, _ in chain_engines)], chain_rows))
    print("  (forward includes the garbage collector's passes over the growing graph; the goal is about backward)")
    growth = ratio(chain["minigrad"][-1][1], chain["minigrad"][0][1])

    # -- goals
    nb, lg = timings[0].us_per_step, timings[-1].us_per_step
    nb_np, nb_torch = ratio(nb["minigrad"], nb["numpy-hand"]), ratio(nb["minigrad"], nb.get("torch"))
    lg_np = ratio(lg["minigrad"], lg["numpy-hand"])
    mem = ratio(traced["minigrad"].peak, traced["numpy-hand"].peak)
    mem_step = ratio(traced["minigrad"].step, traced["numpy-hand"].step)
    goals = [
        Goal(
            f"{notebook.name}: minigrad / numpy-hand time",
            f"<= {GOAL_NOTEBOOK_VS_NUMPY}x",
            fmt_ratio(nb_np),
            None if nb_np is None else nb_np <= GOAL_NOTEBOOK_VS_NUMPY,
        ),
        Goal(
            f"{notebook.name}: minigrad / torch time",
            "<= 0.33x",
            fmt_ratio(nb_torch),
            None if nb_torch is None else nb_torch <= GOAL_NOTEBOOK_VS_TORCH,
        ),
        Goal(
            f"{large.name}: minigrad / numpy-hand time",
            f"<= {GOAL_LARGE_VS_NUMPY}x",
            fmt_ratio(lg_np),
            None if lg_np is None else lg_np <= GOAL_LARGE_VS_NUMPY,
        ),
        Goal(
            f"{large.name}: minigrad / numpy-hand peak memory",
            f"<= {GOAL_LARGE_MEMORY}x",
            fmt_ratio(mem),
            None if mem is None else mem <= GOAL_LARGE_MEMORY,
        ),
        Goal("  (stricter, not a goal: the step's own allocations)", "", fmt_ratio(mem_step), None),
        Goal(
            f"memory flat over {flat_steps:,} steps, gc off",
            f"<= {fmt_bytes(FLAT_SLACK_BYTES)}, +0 objects, gc 0",
            f"{fmt_bytes(flat.growth)}, {flat.objects_at_end - flat.objects_at_checkpoint:+d}, gc {flat.collected}",
            flat.flat,
        ),
        Goal(
            f"chain backward linear: us/op at N={chain_lengths[-1]:,} / at N={chain_lengths[0]:,}",
            f"<= {GOAL_CHAIN_GROWTH}x",
            fmt_ratio(growth),
            None if growth is None else growth <= GOAL_CHAIN_GROWTH,
        ),
    ]
    cap_np, cap_torch = ratio(nb["captured"], nb["numpy-hand"]), ratio(nb["captured"], nb.get("torch"))
    with_recording = ratio(nb["captured"] + nb_recording_us / NOTEBOOK.steps, nb["numpy-hand"])
    cap_lg, cap_mem = ratio(lg["captured"], lg["numpy-hand"]), ratio(traced["captured"].peak, traced["numpy-hand"].peak)
    goals += [
        Goal(f"{notebook.name}: captured / numpy-hand time", f"<= {GOAL_CAPTURED_NOTEBOOK_VS_NUMPY}x",
             fmt_ratio(cap_np), None if cap_np is None else cap_np <= GOAL_CAPTURED_NOTEBOOK_VS_NUMPY),
        Goal("  (not a goal: with the recordings spread over 900 steps)", "", fmt_ratio(with_recording), None),
        Goal(f"{notebook.name}: captured / torch time", f"<= {GOAL_CAPTURED_NOTEBOOK_VS_TORCH}x",
             fmt_ratio(cap_torch), None if cap_torch is None else cap_torch <= GOAL_CAPTURED_NOTEBOOK_VS_TORCH),
        Goal(f"{large.name}: captured / numpy-hand time", f"<= {GOAL_CAPTURED_LARGE_VS_NUMPY}x",
             fmt_ratio(cap_lg), None if cap_lg is None else cap_lg <= GOAL_CAPTURED_LARGE_VS_NUMPY),
        Goal(f"{large.name}: captured / numpy-hand peak memory", f"<= {GOAL_CAPTURED_LARGE_MEMORY}x",
             fmt_ratio(cap_mem), None if cap_mem is None else cap_mem <= GOAL_CAPTURED_LARGE_MEMORY),
    ]  # fmt: skip
    print("\n== Goals ==" + (" (--quick: tiny sizes, so these results judge nothing)" if quick else ""))
    print(table(["goal", "target", "measured", "result"], [g.row() for g in goals]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
