"""torch's own operator tests (OpInfo `sample_inputs`, `reference_inputs`, `error_inputs` from
`torch.testing._internal.common_methods_invocations.op_db`) run against minigrad: every covered op, in float32,
float64 and int64 where torch's OpInfo lists them, each variant (function, method, in place, operator), forward
and backward, everything observable compared (tests/_opinfo.py says what and how).

- The default run leaves out samples of more than 20,000 elements; `pytest tests/test_opinfo.py --opinfo-full`
  runs them too.
- Samples outside the slice minigrad covers are skipped and counted by reason; the counts must equal
  tests/opinfo_skips.json (so they can't grow unnoticed), and each reason must be declared in the README.
- Every seeded engine bug (tests/buggy_engines.py) must be caught by the same comparison.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("expecttest", reason="torch's OpInfo database (op_db) imports expecttest")

import torch
from _opinfo import COVERED, DTYPES, SKIP_REASONS, Covered, Report, opinfo, sweep, sweep_error_inputs
from buggy_engines import ENGINE_BUGS, HARMLESS, Variant, private_minigrad

import minigrad

BASELINE = Path(__file__).with_name("opinfo_skips.json")
README = Path(__file__).parents[1] / "README.md"

CASES = [
    pytest.param(covered, dtype, id=f"{covered.full_name}-{dtype}")
    for covered in COVERED
    for dtype, torch_dtype in DTYPES.items()
    if torch_dtype in opinfo(covered).dtypes
]


def baseline() -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = json.loads(BASELINE.read_text())
    return counts


def described(report: Report, limit: int = 15) -> str:
    lines = report.mismatches[:limit]
    more = len(report.mismatches) - len(lines)
    return "\n".join(lines + ([f"... and {more} more"] if more else []))


def check_skips(key: str, report: Report) -> None:
    expected = baseline().get(key, {})
    found = dict(report.skips)
    grown = {reason: n for reason, n in found.items() if n > expected.get(reason, 0)}
    assert not grown, f"{key}: more samples skipped than tests/opinfo_skips.json allows: {grown} > {expected}"
    assert found == expected, f"{key}: fewer samples skipped ({found}): lower tests/opinfo_skips.json to match"


@pytest.mark.parametrize(("covered", "dtype"), CASES)
def test_opinfo_samples(covered: Covered, dtype: str, request: pytest.FixtureRequest) -> None:
    report = sweep(minigrad, covered, DTYPES[dtype], full=request.config.getoption("--opinfo-full"))
    assert report.samples or report.skips, "no sample"
    assert not report.mismatches, f"{len(report.mismatches)} mismatches with torch:\n{described(report)}"
    check_skips(f"{covered.full_name} {dtype}", report)


@pytest.mark.parametrize(
    "covered", [c for c in COVERED if opinfo(c).error_inputs_func is not None], ids=lambda c: c.full_name
)
def test_opinfo_error_inputs(covered: Covered) -> None:
    report = sweep_error_inputs(minigrad, covered)
    assert not report.mismatches, f"{len(report.mismatches)} mismatches with torch:\n{described(report)}"
    check_skips(f"{covered.full_name} errors", report)


def test_each_skip_reason_is_declared_in_the_readme() -> None:
    """A skip must stand for something the README says minigrad does not cover."""
    readme = " ".join(README.read_text().split())
    used = {reason for counts in baseline().values() for reason in counts}
    assert used <= set(SKIP_REASONS), used - set(SKIP_REASONS)
    undeclared = [phrase for reason, phrase in SKIP_REASONS.items() if reason in used and phrase not in readme]
    assert not undeclared, f"README.md does not declare: {undeclared}"


def test_the_baseline_names_only_cases_that_exist() -> None:
    keys = {f"{c.full_name} {d}" for c in COVERED for d, t in DTYPES.items() if t in opinfo(c).dtypes}
    keys |= {f"{c.full_name} errors" for c in COVERED}
    assert set(baseline()) <= keys, set(baseline()) - keys


# ---------------------------------------------------------------- the comparison can fail
# Each bug must show in torch's `sample_inputs` (float32) of some covered op. LIKELY says where each is expected
# to show first (every covered op is tried until one catches it; the README's table says where). The bugs a
# plain sample cannot show are caught by the probes (_opinfo.Checker.probe_*): no_grad, in place after a save,
# a view's base modified, one tensor as both operands, and the second backward.
LIKELY: dict[str, tuple[str, ...]] = {  # the bug's patch function -> the OpInfo names expected to catch it
    "wrong_sign": ("sub",),
    "bias_gradient_averaged": ("add",),
    "missing_division": ("div.no_rounding_mode",),
    "square_counts_one_side": ("mul",),
    "tf32_matmul": ("matmul", "mm"),
    "loss_off_by_ulps": ("div.no_rounding_mode",),
    "learning_rate_off": ("sub",),
    "no_grad_records": ("add",),
    "zero_does_not_clear": ("zero_",),
    "gradients_overwritten": ("add",),
    "sum_is_mean": ("sum",),
    "sum_backward_is_mean": ("sum",),
    "sum_backward_ignores_grad": ("sum",),
    "mul_adds": ("mul",),
    "mul_by_number_widens": ("mul",),
    "add_subtracts": ("add",),
    "add_forgets_second_input": ("add",),
    "sub_reversed": ("sub",),
    "transpose_reshapes": ("t",),
    "transpose_backward_not_transposed": ("t",),
    "mm_backward_transposed": ("matmul", "mm"),
    "divisor_gradient_missing_division": ("div.no_rounding_mode",),
    "numel_counts_rows": ("add",),
    "no_in_place_subtract": ("sub",),
    "bias_gradient_not_summed": ("add",),
    "stale_view_grad_fn": ("t",),
    "version_not_bumped": ("add",),
    "copy_saved": ("mul",),
}
CLEAN = private_minigrad()


@functools.cache
def clean_mismatches(full_name: str, source: str, probes: bool) -> frozenset[str]:
    """What a clean copy of minigrad shows (test_opinfo_samples holds minigrad itself to none)."""
    covered = next(c for c in COVERED if c.full_name == full_name)
    return frozenset(sweep(CLEAN, covered, torch.float32, full=False, probes=probes, sources=(source,)).mismatches)


def new_mismatches(engine: Any, covered: Covered, source: str, probes: bool = True) -> list[str]:
    """The mismatches `engine` shows, and a clean minigrad does not, on one op's float32 samples of one source
    ("sample": sample_inputs, "reference": the reference_inputs beyond them), the large ones left out."""
    known = clean_mismatches(covered.full_name, source, probes)
    found = sweep(engine, covered, torch.float32, full=False, probes=probes, sources=(source,)).mismatches
    return [m for m in found if m not in known]


@pytest.mark.parametrize("bug", ENGINE_BUGS, ids=[bug.name for bug in ENGINE_BUGS])
def test_seeded_bug_is_caught(bug: Variant) -> None:
    likely = LIKELY[bug.patch.__name__]
    engine = bug.engine()
    for covered in sorted(COVERED, key=lambda c: c.full_name not in likely):  # every op, until one catches it
        for source in ("sample", "reference"):
            found = new_mismatches(engine, covered, source)
            if found:
                assert covered.full_name in likely, f"caught, but not where the README says: {found[0]}"
                return
    pytest.fail(f"no OpInfo sample shows {bug.name!r}")


@pytest.mark.parametrize("variant", HARMLESS, ids=[v.name for v in HARMLESS])
def test_harmless_variant_passes(variant: Variant) -> None:
    """Sums and products added in float64, or in reversed order: within every bound (no false alarm). Numbers
    only: no probes (the float64 variant saves float64 copies for backward, which the saved-tensor probe sees)."""
    engine = variant.engine()
    for covered in [c for c in COVERED if c.name in ("sum", "mean", "matmul", "mm", "add")]:  # what they change
        for source in ("sample", "reference"):
            found = new_mismatches(engine, covered, source, probes=False)
            assert not found, "\n".join(found[:10])


# ---------------------------------------------------------------- found by the OpInfo samples (regressions)
def expanded(lib: Any) -> Any:
    """A (3, 3) tensor whose rows are one row in memory (stride 0), as `expand` makes in torch."""
    return lib.from_numpy(np.lib.stride_tricks.as_strided(np.zeros(3), (3, 3), (0, 8)))


def pow_in_place_then_backward(lib: Any) -> Any:
    x = lib.tensor(1.5, requires_grad=True)
    y = x.clone()
    y.pow_(2.5)  # pow_ overwrites the value its backward needs: torch keeps a copy
    y.backward()
    return x.grad


def view_of_0d_after_base_modified(lib: Any) -> Any:
    x = lib.tensor(1.5, requires_grad=True)
    y = x.t()
    with lib.no_grad():
        x.mul_(1)  # y's grad_fn becomes AsStridedBackward0, whose gradient must stay 0-d
    y.backward(lib.tensor(2.0))
    return x.grad


FOUND: list[tuple[str, Any]] = [
    ("in place into an expanded tensor", lambda lib: expanded(lib).add_(1)),
    ("in place into an empty tensor", lambda lib: lib.zeros(0, 1, 3).add_(1)),  # numpy gives it zero strides
    ("neg_ of an expanded tensor", lambda lib: expanded(lib).neg_()),
    ("zero_ of an expanded tensor is allowed", lambda lib: expanded(lib).zero_()),
    ("pow of two numbers", lambda lib: lib.pow(2, 3)),
    ("pow_ then backward", pow_in_place_then_backward),
    ("0-d view after its base is modified", view_of_0d_after_base_modified),
]


@pytest.mark.parametrize("program", [f for _, f in FOUND], ids=[name for name, _ in FOUND])
def test_found_by_the_opinfo_samples(program: Any) -> None:
    """Each program gives torch's result, or torch's error."""
    outcomes: list[tuple[Any, Any]] = []
    for lib in (torch, minigrad):
        try:
            result = program(lib)
            outcomes.append((tuple(result.shape), result.detach().numpy().tolist()))
        except (RuntimeError, TypeError) as error:
            outcomes.append((type(error).__name__, str(error).replace("torch", "minigrad")))
    assert outcomes[1] == outcomes[0]
