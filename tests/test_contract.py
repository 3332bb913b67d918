"""The engine contract (reference/contract.py), checked on the engine named by --engine (default minigrad)."""

from __future__ import annotations

from types import ModuleType

import pytest
from buggy_engines import CONTRACT_ONLY

from reference.contract import CHECKS, MODULE_ATTRIBUTES, Check, check_contract, run_check


@pytest.mark.parametrize("contract_check", CHECKS, ids=[check.run.__name__ for check in CHECKS])
def test_engine_keeps_the_contract(engine: ModuleType, contract_check: Check) -> None:
    outcome = run_check(engine, contract_check)
    if outcome.skipped:
        pytest.skip(str(outcome.problem))
    assert outcome.problem is None, outcome.problem


def test_optional_ops_an_engine_lacks_are_skipped_not_failed() -> None:
    outcomes = check_contract(CONTRACT_ONLY.engine())
    skipped = [outcome.check.name for outcome in outcomes if outcome.skipped]
    assert skipped == [check.name for check in CHECKS if check.optional]
    assert all(outcome.problem is None for outcome in outcomes if not outcome.skipped)


def test_an_engine_offering_nothing_is_reported_check_by_check() -> None:
    outcomes = check_contract(ModuleType("empty"))
    assert all(outcome.problem and not outcome.skipped for outcome in outcomes)
    module_attributes = outcomes[0].problem
    assert module_attributes is not None and all(name in module_attributes for name in MODULE_ATTRIBUTES)


def test_an_optional_op_that_breaks_fails_rather_than_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    """sum(dim) exists (its signature takes a dim) but raises inside: that is a failure, not a missing op."""
    import minigrad

    def broken_sum(self: minigrad.Tensor, dim: int | None = None, keepdim: bool = False) -> minigrad.Tensor:
        raise TypeError("a bug inside sum(dim)")

    monkeypatch.setattr(minigrad.Tensor, "sum", broken_sum)
    outcome = next(o for o in check_contract(minigrad) if o.check.name == "optional: sum(dim)")
    assert not outcome.skipped and outcome.problem is not None and "a bug inside sum(dim)" in outcome.problem
