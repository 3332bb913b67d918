"""The engine named by --engine keeps the contract (reference/contract.py), check by check."""

from __future__ import annotations

from typing import Any

import pytest

from reference.contract import CHECKS, Check, run_check


@pytest.mark.parametrize("contract_check", CHECKS, ids=[check.run.__name__ for check in CHECKS])
def test_engine_keeps_the_contract(engine: Any, contract_check: Check) -> None:
    outcome = run_check(engine, contract_check)
    if outcome.skipped:
        pytest.skip(str(outcome.problem))
    if outcome.problem is not None:  # the message once, without the kit's own frames
        pytest.fail(f"{outcome.problem}\n{outcome.traceback or ''}".rstrip(), pytrace=False)
