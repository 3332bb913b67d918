"""Each op the notebook's loop uses, checked alone on the engine named by --engine (reference/diagnose.py): a
failure names the op, forward or backward, the input and the rule it breaks. No torch needed."""

from __future__ import annotations

from typing import Any

import pytest

from reference.diagnose import diagnose
from reference.pytest_plugin import contract


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_each_op_of_the_loop_keeps_its_rules(engine: Any, engine_spec: str, dtype: str) -> None:
    gates = [outcome.check.name for outcome in contract(engine_spec) if outcome.failed and outcome.check.gate]
    if gates:  # a missing name or a wrong type: the contract test says which, once
        pytest.skip("needs: " + "; ".join(gates))
    diagnosis = diagnose(engine, dtype)
    if not diagnosis.passed:
        pytest.fail(diagnosis.report(), pytrace=False)
