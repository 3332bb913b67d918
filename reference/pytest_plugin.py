"""The kit's pytest plugin, installed with the package (a `pytest11` entry point): in any folder,

    python -m pytest --pyargs reference --engine myengine       # or myadapter:engine

runs the contract and parity tests that ship in reference/tests against the engine. Options:

--engine SPEC               `module` or `module:attribute` (an adapter object or namespace), default minigrad
--device cpu|cuda|all       where the torch reference runs (default cpu); the CUDA runs skip without a GPU

First cause first: an engine that cannot be imported or cannot start stops pytest with one line. When a
contract check that others rely on fails (a missing name, a wrong type: a gate), only that check fails and
every other test skips with "needs: <check>"; the parity tests skip likewise while any contract check they
rely on fails.
"""

from __future__ import annotations

from typing import Any

import pytest

from reference.contract import Check, Outcome, check_contract, needed_by
from reference.engines import EngineCannotStartError, EngineNotFoundError, load_engine

DEFAULT_ENGINE = "minigrad"
CONTRACTS: dict[str, list[Outcome]] = {}  # per engine spec: the contract's outcomes, computed once per process


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("engine", "the autograd verification kit (minigrad's reference package)")
    group.addoption(
        "--engine",
        default=DEFAULT_ENGINE,
        metavar="SPEC",
        help="the engine the kit's contract and parity tests check: `module` or `module:attribute` "
        f"(default: {DEFAULT_ENGINE}); run them with `python -m pytest --pyargs reference --engine SPEC`",
    )
    group.addoption(
        "--device",
        choices=("cpu", "cuda", "all"),
        default="cpu",
        help="where the torch reference runs in the kit's parity tests (default: cpu)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cuda: needs a CUDA GPU (skipped without one)")
    config.addinivalue_line("markers", "slow: long-running (many steps or many hypothesis examples)")
    config.addinivalue_line("markers", "parity: runs the notebook's loop, so needs every contract check but optional")
    spec = config.getoption("--engine")
    if spec != DEFAULT_ENGINE:  # fail now, in one line, rather than in every test
        try:
            contract(spec)
        except (EngineNotFoundError, EngineCannotStartError) as error:
            raise pytest.UsageError(f"--engine {spec}: {error}") from error


def contract(spec: str) -> list[Outcome]:
    if spec not in CONTRACTS:
        CONTRACTS[spec] = check_contract(load_engine(spec))
    return CONTRACTS[spec]


@pytest.fixture(scope="session")
def engine(pytestconfig: pytest.Config) -> Any:
    """The engine under test, as --engine names it."""
    return load_engine(pytestconfig.getoption("--engine"))


@pytest.fixture(scope="session")
def engine_spec(pytestconfig: pytest.Config) -> str:
    """--engine as given: what the CLI takes too."""
    return str(pytestconfig.getoption("--engine"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that takes `device` runs once for each device --device names; the CUDA run is marked `cuda`."""
    if "device" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--device")
        devices = ("cpu", "cuda") if chosen == "all" else (chosen,)
        metafunc.parametrize(
            "device", [pytest.param(d, marks=[pytest.mark.cuda] if d == "cuda" else []) for d in devices]
        )


def unmet_needs(spec: str, contract_check: Check | None) -> list[str]:
    """The checks `contract_check` (None: the parity loop) relies on that fail. check_contract stops at the
    first gate that fails, so a check after it finds that gate among its needs."""
    needed = {other.name for other in needed_by(contract_check)}
    return [outcome.check.name for outcome in contract(spec) if outcome.failed and outcome.check.name in needed]


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("cuda") is not None:
        reason = cuda_unavailable()
        if reason:
            pytest.skip(reason)
    if "engine" not in getattr(item, "fixturenames", ()):
        return
    spec = str(item.config.getoption("--engine"))
    callspec = getattr(item, "callspec", None)
    contract_check = callspec.params.get("contract_check") if callspec is not None else None
    if isinstance(contract_check, Check):
        unmet = unmet_needs(spec, contract_check)
    elif item.get_closest_marker("parity") is not None:
        unmet = unmet_needs(spec, None)
    else:
        return
    if unmet:
        pytest.skip("needs: " + "; ".join(unmet))


def cuda_unavailable() -> str | None:
    """Why the CUDA tests can't run here, or None when they can."""
    try:
        import torch
    except ImportError:
        return "CUDA tests need torch, which is not installed"
    if not torch.cuda.is_available():
        return f"no CUDA GPU here (torch {torch.__version__}: torch.cuda.is_available() is False)"
    return None


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """`python -m pytest --engine myengine` in a folder without tests collects nothing: say where they are."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and config.getoption("--engine") != DEFAULT_ENGINE:
        terminalreporter.write_line(
            f"the kit's contract and parity tests: python -m pytest --pyargs reference --engine "
            f"{config.getoption('--engine')}"
        )
