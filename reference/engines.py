"""Finding an engine by name, and telling an engine's own failures from a setup that cannot run.

An engine is named as `module` (the module itself offers the contract, reference/contract.py) or
`module:attribute` (an object in that module offers it: an adapter instance, a class, a namespace).
"""

from __future__ import annotations

import importlib
import subprocess
import traceback
from pathlib import Path
from typing import Any

KIT = Path(__file__).resolve().parent  # frames in here are the kit's, not the engine's

# Raised while an engine starts (its backend, a compiler it runs, a library it loads, a lazy import): a setup
# problem, not a broken promise of the contract.
START_ERRORS = (OSError, ImportError, subprocess.SubprocessError, MemoryError)


class EngineNotFoundError(ImportError):
    """The engine cannot be imported or found (a setup problem: the CLI exits 2)."""


class EngineCannotStartError(RuntimeError):
    """The engine imports but cannot compute at all (a setup problem: the CLI exits 2)."""

    def __init__(self, message: str, error: BaseException) -> None:
        super().__init__(message)
        self.traceback = engine_traceback(error)


def load_engine(spec: str) -> Any:
    """The engine `spec` names: "minigrad", "torch", "myengine" (a module or package on sys.path: run from
    its folder, or pip install it), or "myadapter:engine" (an attribute of a module, dots allowed)."""
    module_name, _, attribute = spec.partition(":")
    try:
        engine: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name != error.name and not module_name.startswith(f"{error.name}."):
            raise EngineNotFoundError(
                f"the engine {module_name!r} imports {error.name!r}, which is not installed here (pip install it)"
            ) from error
        raise EngineNotFoundError(
            f"cannot import the engine {module_name!r}: no module of that name. Run `python -m reference` or "
            "`python -m pytest` from the folder that holds it (python -m puts the current folder on sys.path; a "
            "bare `pytest` does not), set PYTHONPATH, or pip install it."
        ) from error
    except SyntaxError as error:
        where = f"{error.filename}, line {error.lineno}" if error.filename else "its source"
        raise EngineNotFoundError(f"the engine {module_name!r} has a syntax error ({where}): {error.msg}") from error
    except Exception as error:
        raise EngineNotFoundError(
            f"importing the engine {module_name!r} raised {last_line(error)} ({where_raised(error)})"
        ) from error
    for name in filter(None, attribute.split(".")):
        if not hasattr(engine, name):
            raise EngineNotFoundError(f"the engine {spec!r}: {type_name(engine)} has no attribute {name!r}")
        engine = getattr(engine, name)
    return engine


def engine_name(engine: Any) -> str:
    return str(getattr(engine, "__name__", type(engine).__name__))


def type_name(value: Any) -> str:
    """numpy.ndarray, numpy.float32, myengine.Tensor, None: what a message names a value's type by."""
    if value is None:
        return "None"
    kind = type(value)
    module = "numpy" if kind.__module__ == "numpy" or kind.__module__.startswith("numpy.") else kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def last_line(error: BaseException) -> str:
    """The exception as the last line of its traceback shows it, cut to keep one line."""
    text = " ".join(traceback.format_exception_only(type(error), error)[-1].split())
    return text if len(text) <= 120 else text[:119] + "…"


def is_engine_frame(frame: traceback.FrameSummary) -> bool:
    path = Path(frame.filename)
    return not (path.is_relative_to(KIT) or frame.filename.startswith("<frozen ") or "importlib" in path.parts)


def engine_traceback(error: BaseException) -> str:
    """The traceback of `error` with the kit's frames (and importlib's) left out: the engine's own code,
    where the mistake is. When every frame is the kit's (a wrong type caught in the kit), its last one."""
    frames = traceback.extract_tb(error.__traceback__)
    kept = [frame for frame in frames if is_engine_frame(frame)] or frames[-1:]
    lines = ["Traceback (the engine's frames):\n", *traceback.format_list(kept)]
    return "".join(lines + traceback.format_exception_only(type(error), error))


def where_raised(error: BaseException) -> str:
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if is_engine_frame(frame)]
    return f"{Path(frames[-1].filename).name}, line {frames[-1].lineno}" if frames else "in the kit"


def setup_traceback(error: BaseException) -> str | None:
    """The engine's frames behind a setup error (EngineNotFoundError, EngineCannotStartError), if any."""
    if isinstance(error, EngineCannotStartError):
        return error.traceback
    if isinstance(error, EngineNotFoundError) and error.__cause__ is not None:
        return engine_traceback(error.__cause__)
    return None
