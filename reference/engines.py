"""Finding an engine by name: any importable module offering the contract (reference/contract.py)."""

from __future__ import annotations

import importlib
from types import ModuleType


class EngineNotFoundError(ImportError):
    pass


def load_engine(name: str) -> ModuleType:
    """The module `name` itself (no adapter: the harness uses it through the contract), e.g. "minigrad",
    "torch", or your own "myengine" (a module or package on sys.path: run from its folder, or pip install it)."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise EngineNotFoundError(
            f"cannot import the engine {name!r} ({error}). An engine is a module importable by name: run "
            "`python -m reference` or `python -m pytest` from the folder that holds it (python -m puts the current "
            "folder on sys.path; a bare `pytest` does not), set PYTHONPATH, or pip install it."
        ) from error
