"""The engine named by --engine trains like the torch reference, step by step, in both parity modes: on the
notebook, and on whole problems hypothesis draws (with no false alarm); a run that diverges fails at the step
where a value first overflows."""

from __future__ import annotations

import math
from typing import Any, get_args

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, target
from hypothesis import strategies as st

from reference.diagnose import diagnose
from reference.engines import engine_name
from reference.loop import Problem
from reference.parity import Mismatch, Mode, Report, check_parity

pytest.importorskip("torch")  # every test here compares with the torch reference
pytestmark = pytest.mark.parity  # each needs the contract checks the loop relies on (pytest_plugin.py)

MODES: tuple[Mode, ...] = get_args(Mode)
DTYPES = ("float32", "float64")


def assert_passes(engine: Any, report: Report) -> None:
    """A failure shows once: the verdict, the engine's values beside torch's, the table, and which op is wrong."""
    if not report.passed:
        pytest.fail(f"{report.details(every=10)}\n{diagnose(engine, report.dtype).report()}", pytrace=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_the_notebook_trains_like_torch(engine: Any, engine_spec: str, device: str, mode: Mode, dtype: str) -> None:
    report = check_parity(engine, Problem.notebook(), dtype, mode, device, name=engine_spec)
    assert_passes(engine, report)
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


def check_drawn(engine: Any, spec: str, device: str, drawn: tuple[Problem, str, Mode]) -> None:
    problem, dtype, mode = drawn
    report = check_parity(engine, problem, dtype, mode, device, name=spec)
    target(report.engine.worst()[0])  # steer the search toward the problems that come closest to a bound
    assert_passes(engine, report)


# The notebook's first steps run first, as an explicit example: an engine that fails on every problem fails
# there, at once, rather than after hypothesis has searched and shrunk.
NOTEBOOK_FIRST = (Problem.notebook(steps=10), "float32", "lockstep")
DRAWN = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(DRAWN, max_examples=100)
@given(drawn=problems(max_steps=30))
@example(drawn=NOTEBOOK_FIRST)
def test_drawn_problems_train_like_torch(
    engine: Any, engine_spec: str, device: str, drawn: tuple[Problem, str, Mode]
) -> None:
    check_drawn(engine, engine_spec, device, drawn)


@pytest.mark.slow
@settings(DRAWN, max_examples=200)
@given(drawn=problems(max_steps=300))
@example(drawn=NOTEBOOK_FIRST)
def test_drawn_problems_train_like_torch_longer(
    engine: Any, engine_spec: str, device: str, drawn: tuple[Problem, str, Mode]
) -> None:
    check_drawn(engine, engine_spec, device, drawn)


# ---------------------------------------------------------------- failures are reported where they happen
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # the engine's own, as it diverges
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("mode", MODES)
def test_divergence_fails_at_the_first_value_that_overflows(engine: Any, mode: Mode) -> None:
    """lr = 1e-3 is ~18/λ_max for the notebook (λ_max ≈ 1.8e4): each step multiplies the error along the top
    eigenvector by |1 − 17.9| ≈ 17 until float32 overflows."""
    report = check_parity(engine, Problem.notebook(lr=1e-3, steps=60), "float32", mode, name=engine_name(engine))
    failure = report.failures[0]
    finite = np.ones(len(report.engine.trace), dtype=bool)
    for _, values in report.engine.trace.values.items():
        finite &= np.isfinite(values.reshape(len(values), -1)).all(axis=1)
    first_overflow = int(np.argmin(finite))
    assert not finite[first_overflow], "the run never overflowed"
    assert failure.engine == report.engine.name, failure.summary()
    if failure.step < first_overflow:  # the engine is wrong before anything overflows: that is its failure
        pytest.fail(f"before the run diverges: {failure.summary()}", pytrace=False)
    assert isinstance(failure, Mismatch), failure.summary()
    assert failure.step == first_overflow and not math.isfinite(failure.value), failure.summary()
