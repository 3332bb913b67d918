"""The parity harness reports failures where they happen, and the CLI prints the table and the verdict and
keeps its exit codes (the engine's own parity tests are in reference/tests, shipped with the package)."""

from __future__ import annotations

from typing import Any

import pytest
from buggy_engines import private_minigrad, wrap

from reference.loop import EngineError, Problem
from reference.parity import check_parity
from reference.torch_reference import ReferenceUnavailableError, load_torch

pytest.importorskip("torch")  # every test here compares with the torch reference


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
