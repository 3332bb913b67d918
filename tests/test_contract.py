"""The contract's checks (reference/contract.py) themselves: what they report for engines that break it."""

from __future__ import annotations

from types import ModuleType

import pytest
from buggy_engines import CONTRACT_ONLY

from reference.contract import CHECKS, MODULE_ATTRIBUTES, check_contract, run_check


def test_optional_ops_an_engine_lacks_are_skipped_not_failed() -> None:
    outcomes = check_contract(CONTRACT_ONLY.engine())
    skipped = [outcome.check.name for outcome in outcomes if outcome.skipped]
    assert skipped == [check.name for check in CHECKS if check.optional]
    assert all(outcome.problem is None for outcome in outcomes if not outcome.skipped)


def test_an_engine_offering_nothing_gets_one_message_listing_what_it_lacks() -> None:
    (outcome,) = check_contract(ModuleType("empty"))  # a gate: the checks after it are not run
    assert outcome.failed and outcome.problem == f"the engine has no {', '.join(MODULE_ATTRIBUTES)}"


def test_an_optional_op_that_breaks_fails_rather_than_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    """sum(dim) exists (its signature takes a dim) but raises inside: that is a failure, not a missing op."""
    import minigrad

    def broken_sum(self: minigrad.Tensor, dim: int | None = None, keepdim: bool = False) -> minigrad.Tensor:
        raise TypeError("a bug inside sum(dim)")

    monkeypatch.setattr(minigrad.Tensor, "sum", broken_sum)
    outcome = run_check(minigrad, next(check for check in CHECKS if check.name == "optional: sum(dim)"))
    assert not outcome.skipped and outcome.problem is not None and "a bug inside sum(dim)" in outcome.problem
