"""The engine named by --engine trains like the torch reference, step by step, in both parity modes: on the
notebook, and on whole problems hypothesis draws (with no false alarm); failures are reported where they
happen; the CLI prints the table and the verdict."""

from __future__ import annotations

import math
import sys
from types import ModuleType
from typing import Any, get_args

import numpy as np
import pytest
from buggy_engines import SEEDED_BUGS, private_minigrad, wrap
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from reference.__main__ import main
from reference.loop import EngineError, Problem
from reference.parity import Mismatch, Mode, Report, check_parity
from reference.torch_reference import ReferenceUnavailableError, load_torch

pytest.importorskip("torch")  # every test here compares with the torch reference

MODES: tuple[Mode, ...] = get_args(Mode)
DTYPES = ("float32", "float64")


def assert_passes(report: Report) -> None:
    assert report.passed, f"{report.verdict()}\n{report.table(every=10)}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_the_notebook_trains_like_torch(engine: ModuleType, device: str, mode: Mode, dtype: str) -> None:
    report = check_parity(engine, Problem.notebook(), dtype, mode, device)
    assert_passes(report)
    assert len(report.engine.trace) == len(report.reference.trace) == 900
    if dtype == "float32":  # not vacuous: float32 rounding shows against the float64 recomputation
        assert report.engine.worst()[0] > 0


# ---------------------------------------------------------------- whole problems, drawn
@st.composite
def problems(draw: st.DrawFn, max_steps: int) -> tuple[Problem, str, Mode]:
    """A linear regression of any shape within 64 samples × 16 inputs × 8 outputs, inputs and targets of
    scales from 1e-3 to 1e3, learning rates up to 1/λ_max (Problem.drawn says why nothing then diverges,
    overflows or underflows)."""
    shape = (draw(st.integers(1, 64)), draw(st.integers(1, 16)), draw(st.integers(1, 8)))
    scales = (10.0 ** draw(st.floats(-3, 3)), 10.0 ** draw(st.floats(-3, 3)))
    offset, lr_fraction = draw(st.floats(0, 10)), draw(st.floats(0.01, 1.0))
    seed, steps = draw(st.integers(0, 2**32 - 1)), draw(st.integers(1, max_steps))
    dtype, mode = draw(st.sampled_from(DTYPES)), draw(st.sampled_from(MODES))
    return Problem.drawn(shape, scales, offset, lr_fraction, seed, steps, dtype), dtype, mode


def check_drawn(engine: ModuleType, device: str, drawn: tuple[Problem, str, Mode]) -> None:
    problem, dtype, mode = drawn
    report = check_parity(engine, problem, dtype, mode, device)
    target(report.engine.worst()[0])  # steer the search toward the problems that come closest to a bound
    assert_passes(report)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=problems(max_steps=30))
def test_drawn_problems_train_like_torch(engine: ModuleType, device: str, drawn: tuple[Problem, str, Mode]) -> None:
    check_drawn(engine, device, drawn)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=problems(max_steps=300))
def test_drawn_problems_train_like_torch_longer(
    engine: ModuleType, device: str, drawn: tuple[Problem, str, Mode]
) -> None:
    check_drawn(engine, device, drawn)


# ---------------------------------------------------------------- failures are reported where they happen
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # the engine's own, as it diverges
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("mode", MODES)
def test_divergence_fails_at_the_first_value_that_overflows(engine: ModuleType, mode: Mode) -> None:
    """lr = 1e-3 is ~18/λ_max for the notebook (λ_max ≈ 1.8e4): each step multiplies the error along the top
    eigenvector by |1 − 17.9| ≈ 17 until float32 overflows."""
    report = check_parity(engine, Problem.notebook(lr=1e-3, steps=60), "float32", mode)
    failure = report.failures[0]
    finite = np.ones(len(report.engine.trace), dtype=bool)
    for _, values in report.engine.trace.values.items():
        finite &= np.isfinite(values.reshape(len(values), -1)).all(axis=1)
    first_overflow = int(np.argmin(finite))
    assert not finite[first_overflow], "the run never overflowed"
    assert isinstance(failure, Mismatch) and failure.engine == report.engine.name, failure.summary()
    assert failure.step == first_overflow and not math.isfinite(failure.value), failure.summary()


def test_an_engine_that_raises_is_reported_with_step_and_traceback() -> None:
    engine = private_minigrad()
    calls = 0

    def failing_on_the_third_call(original: Any) -> Any:
        def sum_of_all(tensor: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == 3:
                raise RuntimeError("a seeded failure")
            return original(tensor)

        return sum_of_all

    wrap(engine, "sum", failing_on_the_third_call)
    report = check_parity(engine, Problem.notebook(steps=10), "float32", "lockstep", name="failing engine")
    failure = report.failures[0]
    assert isinstance(failure, EngineError), failure.summary()
    assert (failure.engine, failure.step, failure.quantity) == ("failing engine", 2, "loss")
    assert "RuntimeError: a seeded failure" in failure.traceback and "sum_of_all" in failure.traceback
    assert len(report.engine.trace) == 2 and report.engine.first_mismatch(report.reference) is None


# ---------------------------------------------------------------- CUDA
@pytest.mark.cuda
def test_cuda_reference_computes_float32_matmul_in_ieee_fp32() -> None:
    torch = load_torch("cuda")
    assert torch.backends.cuda.matmul.fp32_precision == "ieee"


def test_cuda_is_refused_with_a_reason_where_there_is_no_gpu() -> None:
    torch = load_torch("cpu")
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is available here")
    with pytest.raises(ReferenceUnavailableError, match="no CUDA GPU is available"):
        load_torch("cuda")


# ---------------------------------------------------------------- the CLI
def test_cli_prints_a_table_and_passes(engine: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--engine", engine.__name__, "--steps", "30", "--mode", "free"]) == 0
    out = capsys.readouterr().out
    assert "loss reference  predictions" in out and "w drift" in out
    assert [line.split()[0] for line in out.splitlines() if line[:5].strip().isdigit()] == ["0", "10", "20", "29"]
    assert out.splitlines()[-1].startswith(f"PASS: {engine.__name__} trains like torch (float32, free, 30 steps")


def test_cli_prints_every_step_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--steps", "5", "--every", "1", "--dtype", "float64"]) == 0
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line[:5].strip().isdigit()]
    assert rows == ["0", "1", "2", "3", "4"]


def test_cli_names_a_seeded_bug_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong_sign = next(bug for bug in SEEDED_BUGS if bug.name.startswith("wrong sign"))
    monkeypatch.setitem(sys.modules, "engine_with_a_wrong_sign", wrong_sign.engine())
    assert main(["--engine", "engine_with_a_wrong_sign", "--steps", "5"]) == 1
    verdict = capsys.readouterr().out.splitlines()[-1]
    assert verdict.startswith("FAIL: engine_with_a_wrong_sign at step 0, w.grad["), verdict


def test_cli_refuses_what_it_cannot_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--engine", "no_such_engine_module"]) == 2
    assert "cannot import the engine 'no_such_engine_module'" in capsys.readouterr().err


def test_cli_plots_loss_and_error_over_bound(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "parity.png"
    assert main(["--steps", "20", "--plot", str(path)]) == 0
    assert path.stat().st_size > 0 and f"wrote {path}" in capsys.readouterr().out


def test_cli_sweeps_random_problems(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--sweep", "8", "--steps", "20", "--seed", "3"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("8 of 8 random problems pass (float32, lockstep)")


def test_cli_sweep_names_each_problem_a_seeded_bug_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    averaged = next(bug for bug in SEEDED_BUGS if bug.name.startswith("bias gradient averaged"))
    monkeypatch.setitem(sys.modules, "engine_averaging_the_bias", averaged.engine())
    assert main(["--engine", "engine_averaging_the_bias", "--sweep", "4", "--steps", "5", "--mode", "free"]) == 1
    lines = capsys.readouterr().out.splitlines()
    # a problem with one sample has nothing to average: the bug is harmless there
    failures = [line for line in lines if line.startswith("FAIL problem")]
    assert failures and all("b.grad" in line for line in failures), failures
    assert lines[-1].startswith(f"{4 - len(failures)} of 4 random problems pass")
