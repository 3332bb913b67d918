"""Options for the contract and parity tests: which engine they check, and where the torch reference runs.

pytest --engine NAME        NAME an importable module offering the contract (default: minigrad); the tests
                            that don't take the `engine` fixture are minigrad's own and skip for another engine
pytest --device cpu|cuda|all   the reference's device (default: cpu); CUDA tests skip without a GPU
pytest --opinfo-full        tests/test_opinfo.py runs OpInfo samples of every size (default: up to 20,000 elements)
"""

from __future__ import annotations

from types import ModuleType

import pytest

from reference.engines import EngineNotFoundError, load_engine


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engine",
        default="minigrad",
        help="the engine the contract and parity tests check: an importable module name (default: minigrad)",
    )
    parser.addoption(
        "--device",
        choices=("cpu", "cuda", "all"),
        default="cpu",
        help="where the torch reference runs in the parity tests (default: cpu)",
    )
    parser.addoption(
        "--opinfo-full",
        action="store_true",
        help="tests/test_opinfo.py runs every OpInfo sample, the large ones too (default: those up to 20,000 elements)",
    )


def pytest_configure(config: pytest.Config) -> None:
    try:
        load_engine(config.getoption("--engine"))
    except EngineNotFoundError as error:
        raise pytest.UsageError(str(error)) from error


@pytest.fixture(scope="session")
def engine(pytestconfig: pytest.Config) -> ModuleType:
    """The engine under test: the module named by --engine."""
    return load_engine(pytestconfig.getoption("--engine"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that takes `device` runs once for each device --device names; the CUDA run is marked `cuda`."""
    if "device" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--device")
        devices = ("cpu", "cuda") if chosen == "all" else (chosen,)
        metafunc.parametrize(
            "device", [pytest.param(d, marks=[pytest.mark.cuda] if d == "cuda" else []) for d in devices]
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With --engine other than minigrad, only the contract and parity tests (those taking the `engine`
    fixture) run: the rest test minigrad itself (its ops against torch, its printing, its errors...)."""
    engine = config.getoption("--engine")
    if engine == "minigrad":
        return
    skip = pytest.mark.skip(reason=f"a test of minigrad or of the kit itself, not of the engine (--engine {engine})")
    for item in items:
        if "engine" not in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("cuda") is not None:
        reason = cuda_unavailable()
        if reason:
            pytest.skip(reason)


def cuda_unavailable() -> str | None:
    """Why the CUDA tests can't run here, or None when they can."""
    try:
        import torch
    except ImportError:
        return "CUDA tests need torch, which is not installed"
    if not torch.cuda.is_available():
        return f"no CUDA GPU here (torch {torch.__version__}: torch.cuda.is_available() is False)"
    return None
