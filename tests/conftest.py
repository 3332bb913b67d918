"""The kit's own suite. --engine and --device come from the kit's pytest plugin (reference/pytest_plugin.py).

With --engine other than minigrad, only the tests of the engine run (those taking the `engine` fixture: the
contract and parity tests in reference/tests); the rest test minigrad itself or the kit, and skip.

pytest --opinfo-full    tests/test_opinfo.py runs OpInfo samples of every size (default: up to 20,000 elements)
"""

from __future__ import annotations

from typing import Any

import pytest

from reference.pytest_plugin import DEFAULT_ENGINE


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz-programs",
        type=int,
        default=None,
        help="how many random programs tests/test_fuzz.py runs against torch (default: its CI slice)",
    )
    parser.addoption("--fuzz-seed", type=int, default=0, help="the seed of the fuzz programs (default: 0)")
    parser.addoption(
        "--opinfo-full",
        action="store_true",
        help="tests/test_opinfo.py runs every OpInfo sample, the large ones too (default: those up to 20,000 elements)",
    )


@pytest.hookimpl(optionalhook=True)  # an xdist hook: without xdist (-p no:xdist) it is never called
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """-n N schedules by work stealing, not xdist's default `load`: `load` hands out runs of consecutive tests,
    so one worker got all of tests/test_plugin.py's subprocesses (~30 CPU s) and finished ~20 s after the other.
    An explicit --dist other than load is kept."""
    from xdist.scheduler import WorkStealingScheduling

    return WorkStealingScheduling(config, log) if config.getoption("dist") == "load" else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # the long tests first (a stable sort keeps the rest in order): under xdist, none starts when the other
    # workers are about to finish, leaving them idle
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    engine = config.getoption("--engine")
    if engine == DEFAULT_ENGINE:
        return
    skip = pytest.mark.skip(reason=f"a test of minigrad or of the kit itself, not of the engine (--engine {engine})")
    for item in items:
        if "engine" not in getattr(item, "fixturenames", ()):
            item.add_marker(skip)
