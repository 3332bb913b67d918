"""The engine contract: what the harness needs from an engine. torch offers all of it as is.

The engine is a module (or any object) with:

    float32, float64                            dtypes, passed as `dtype=`
    tensor(data, dtype=None, requires_grad=False)
                                                a new tensor; data: a numpy array or nested lists
    no_grad()                                   a context manager: ops inside it record no graph
    sum(t)                                      the sum of all elements of t, a 0-d tensor

and its tensors have:

    shape                                       a tuple of ints (or equal to one, as torch.Size)
    dtype                                       the engine's float32 or float64
    requires_grad                               bool
    grad                                        None until a backward reaches the tensor, then a tensor
    numel(), t(), sum(), item()                 element count, 2-d transpose, sum of all, a 0-d value as a number
    detach(), numpy()                           numpy() on a detached CPU tensor gives its values
    backward()                                  on a scalar: adds d(scalar)/d(leaf) to each leaf's .grad
    zero_()                                     sets every element to 0, in place
    @ + - * /                                   with a tensor or a Python number on either side, numpy
                                                broadcasting, keeping the dtype (a Python number does not widen)
    -=                                          in place: the tensor keeps its identity

and the semantics the notebook relies on: gradients accumulate across backward calls; zero_() clears them
and the next backward starts clean; results computed under no_grad() don't require grad; a tensor used twice
(d * d) gets both contributions; the gradient of a broadcast bias is summed over the batch; `w -= ...` under
no_grad() keeps the same leaf.

Each check below is one of these promises, run on small values whose results are exact in float32, so
every comparison is `==`. Optional ops beyond the contract (mean, pow, sum over a dim) have checks too;
an engine that lacks one gets that check skipped, never failed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from reference.engines import START_ERRORS, EngineCannotStartError, engine_traceback, last_line, type_name
from reference.values import Array

MODULE_ATTRIBUTES = ("float32", "float64", "tensor", "no_grad", "sum")
TENSOR_ATTRIBUTES = (
    "shape", "dtype", "requires_grad", "grad", "numel", "t", "sum", "item", "detach", "numpy", "backward", "zero_",
    "__matmul__", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
)  # fmt: skip


class ContractBrokenError(Exception):
    """The engine breaks a promise of the contract."""


def require(condition: bool, message: str) -> None:
    """An assert that `python -O` keeps."""
    if not condition:
        raise ContractBrokenError(message)


class OptionalOpMissingError(Exception):
    """The engine lacks an optional op: its check is skipped, with this reason."""


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[Any], None]  # raises ContractBrokenError (or anything) when the engine breaks the promise
    optional: bool = False
    # A gate: a missing name or a wrong type. When one fails, nothing after it can say anything useful (every
    # later check, and the loop, would fail of the same cause), so nothing after it runs.
    gate: bool = False


@dataclass(frozen=True)
class Outcome:
    check: Check
    problem: str | None  # None: passed; else one line (or a few) saying what is wrong
    skipped: bool = False
    traceback: str | None = None  # when the engine raised: its own frames, for --traceback and pytest

    @property
    def failed(self) -> bool:
        return self.problem is not None and not self.skipped


CHECKS: list[Check] = []


def check(
    name: str, optional: bool = False, gate: bool = False
) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    def register(run: Callable[[Any], None]) -> Callable[[Any], None]:
        CHECKS.append(Check(name, run, optional, gate))
        return run

    return register


def run_check(engine: Any, contract_check: Check) -> Outcome:
    """One check's outcome. An engine that cannot start (EngineCannotStartError) is not an outcome: it
    propagates, as the check cannot run at all."""
    try:
        contract_check.run(engine)
    except OptionalOpMissingError as missing:
        return Outcome(contract_check, str(missing), skipped=True)
    except ContractBrokenError as broken:
        return Outcome(contract_check, str(broken))
    except START_ERRORS as error:
        raise EngineCannotStartError(
            f"the engine cannot start: {last_line(error)} (a problem of its setup, not of the contract)", error
        ) from error
    except Exception as error:
        return Outcome(contract_check, f"raised {last_line(error)}", traceback=engine_traceback(error))
    return Outcome(contract_check, None)


def check_contract(engine: Any) -> list[Outcome]:
    """Every check, run on `engine`, in order, up to the first gate that fails (the checks after it are not
    run, and not listed): what it offers of the contract and whether it keeps the semantics."""
    outcomes = []
    for contract_check in CHECKS:
        outcome = run_check(engine, contract_check)
        outcomes.append(outcome)
        if contract_check.gate and outcome.failed:
            break
    return outcomes


def needed_by(contract_check: Check | None) -> list[Check]:
    """The checks that must pass for `contract_check` to say anything (the gates before it), or for the
    parity loop (None: every check that isn't optional)."""
    if contract_check is None:
        return [other for other in CHECKS if not other.optional]
    return [other for other in CHECKS[: CHECKS.index(contract_check)] if other.gate]


# ---------------------------------------------------------------- helpers
def values(tensor: Any) -> Array:
    return np.asarray(tensor.detach().numpy())


def is_tensor(value: Any) -> bool:
    """Duck-typed: a value with every name the contract asks of a tensor (a numpy array has none of `t`,
    `detach`, `backward`, `zero_`)."""
    return all(hasattr(value, name) for name in TENSOR_ATTRIBUTES)


def require_tensor(value: Any, what: str) -> None:
    require(is_tensor(value), f"{what} must be one of your engine's tensors, got {type_name(value)}")


def created(engine: Any, expression: str, **kwargs: Any) -> Any:
    """engine.tensor([[1.0, 2.0]], **kwargs), or a one-line failure naming the call that raised."""
    try:
        return engine.tensor([[1.0, 2.0]], **kwargs)
    except START_ERRORS:
        raise
    except Exception as error:
        raise ContractBrokenError(f"{expression} raised {last_line(error)}") from error


def expect(tensor: Any, expected: Any, what: str) -> None:
    """`tensor` holds exactly `expected` (float32 values, so both sides are exact)."""
    actual, wanted = values(tensor), np.asarray(expected, dtype=np.float32)
    require(actual.shape == wanted.shape, f"{what}: shape {actual.shape}, expected {wanted.shape}")
    require(np.array_equal(actual, wanted), f"{what}: {actual.tolist()}, expected {wanted.tolist()}")


def leaf(engine: Any, data: Any) -> Any:
    return engine.tensor(data, dtype=engine.float32, requires_grad=True)


def constant(engine: Any, data: Any) -> Any:
    return engine.tensor(data, dtype=engine.float32)


# ---------------------------------------------------------------- what an engine offers
@check("module attributes: float32, float64, tensor, no_grad, sum", gate=True)
def module_attributes(engine: Any) -> None:
    missing = [name for name in MODULE_ATTRIBUTES if not hasattr(engine, name)]
    require(not missing, f"the engine has no {', '.join(missing)}")


@check("tensor attributes and methods", gate=True)
def tensor_attributes(engine: Any) -> None:
    # The plainest call first, so an engine whose tensor() takes no dtype or requires_grad still gets the
    # list of what its tensors lack.
    tensor = created(engine, "tensor([[1.0, 2.0]])")
    missing = [name for name in TENSOR_ATTRIBUTES if not hasattr(tensor, name)]
    require(not missing, f"a tensor ({type_name(tensor)}) has no {', '.join(missing)}")
    created(engine, "tensor([[1.0, 2.0]], dtype=float32)", dtype=engine.float32)
    grad_leaf = created(engine, "tensor(..., requires_grad=True)", dtype=engine.float32, requires_grad=True)
    require(
        grad_leaf.requires_grad is True,
        f"tensor(..., requires_grad=True).requires_grad is {grad_leaf.requires_grad!r}, expected True",
    )
    require(grad_leaf.grad is None, f"a new tensor's grad is {type_name(grad_leaf.grad)}, expected None")


@check("results are the engine's tensors", gate=True)
def results_are_tensors(engine: Any) -> None:
    w, x = leaf(engine, [[1.0, -2.0]]), constant(engine, [[3.0, 4.0], [5.0, 6.0]])
    results = {
        "x @ w.t()": lambda: x @ w.t(),
        "x + w": lambda: x + w,
        "x - w": lambda: x - w,
        "x * w": lambda: x * w,
        "x / w": lambda: x / w,
        "2 + x, 2 - x, 2 * x, 2 / x": lambda: 2 / (2 * (2 - (2 + x))),
        "x.t()": x.t,
        "x.sum()": x.sum,
        "engine.sum(x)": lambda: engine.sum(x),
        "w.detach()": w.detach,
    }
    for expression, compute in results.items():
        require_tensor(compute(), expression)
    engine.sum(x @ w.t()).backward()
    require_tensor(w.grad, "w.grad after a backward")


@check("tensor(): nested lists or numpy arrays, in the dtype asked for")
def tensor_creation(engine: Any) -> None:
    for data in ([[1.5, 2.0, -3.0], [4.0, 5.0, 6.0]], np.array([[1.5, 2.0, -3.0], [4.0, 5.0, 6.0]])):
        for dtype_name in ("float32", "float64"):
            tensor = engine.tensor(data, dtype=getattr(engine, dtype_name))
            require(tuple(tensor.shape) == (2, 3), f"shape {tuple(tensor.shape)}, expected (2, 3)")
            require(tensor.dtype == getattr(engine, dtype_name), f"dtype {tensor.dtype}, expected {dtype_name}")
            require(tensor.requires_grad is False, f"requires_grad defaults to {tensor.requires_grad!r}, not False")
            require(values(tensor).dtype == np.dtype(dtype_name), f"numpy() gives {values(tensor).dtype}")
            expect(tensor, data, f"tensor({type(data).__name__}, dtype={dtype_name})")


@check("numel(), t(), sum(), item(), detach(), numpy()")
def reading_values(engine: Any) -> None:
    tensor = constant(engine, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    require(tensor.numel() == 6, f"numel() is {tensor.numel()}, expected 6")
    expect(tensor.t(), [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]], "t()")
    require(tensor.sum().item() == 21.0, f"sum().item() is {tensor.sum().item()}, expected 21.0")
    require(engine.sum(tensor).item() == 21.0, f"engine.sum(t).item() is {engine.sum(tensor).item()}, expected 21.0")
    detached = leaf(engine, [1.0]).detach().requires_grad
    require(detached is False, f"detach() gives a tensor whose requires_grad is {detached!r}, not False")


@check("@ + - * / between tensors and with a Python number on either side")
def operators(engine: Any) -> None:
    a, b = constant(engine, [[1.0, 2.0], [4.0, 8.0]]), constant(engine, [[2.0, 4.0], [0.5, -1.0]])
    results = {
        "a @ b": (a @ b, [[3.0, 2.0], [12.0, 8.0]]),
        "a + b": (a + b, [[3.0, 6.0], [4.5, 7.0]]),
        "a - b": (a - b, [[-1.0, -2.0], [3.5, 9.0]]),
        "a * b": (a * b, [[2.0, 8.0], [2.0, -8.0]]),
        "a / b": (a / b, [[0.5, 0.5], [8.0, -8.0]]),
        "a + 2": (a + 2, [[3.0, 4.0], [6.0, 10.0]]),
        "2 + a": (2 + a, [[3.0, 4.0], [6.0, 10.0]]),
        "a - 2": (a - 2, [[-1.0, 0.0], [2.0, 6.0]]),
        "2 - a": (2 - a, [[1.0, 0.0], [-2.0, -6.0]]),
        "a * 0.5": (a * 0.5, [[0.5, 1.0], [2.0, 4.0]]),
        "0.5 * a": (0.5 * a, [[0.5, 1.0], [2.0, 4.0]]),
        "a / 2": (a / 2, [[0.5, 1.0], [2.0, 4.0]]),
        "2 / a": (2 / a, [[2.0, 1.0], [0.5, 0.25]]),
    }
    for expression, (result, expected) in results.items():
        expect(result, expected, expression)
        require(result.dtype == engine.float32, f"{expression} has dtype {result.dtype}, not float32")


@check("numpy broadcasting: a matrix with a row vector, either side")
def broadcasting(engine: Any) -> None:
    matrix, row = constant(engine, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), constant(engine, [10.0, 20.0, 30.0])
    expect(matrix + row, [[11.0, 22.0, 33.0], [14.0, 25.0, 36.0]], "matrix + row")
    expect(row - matrix, [[9.0, 18.0, 27.0], [6.0, 15.0, 24.0]], "row - matrix")


@check("backward() on a scalar fills the leaves' grad")
def backward_on_scalar(engine: Any) -> None:
    w, x = leaf(engine, [[1.0, -2.0]]), constant(engine, [[3.0, 4.0], [5.0, 6.0]])
    (x @ w.t()).sum().backward()
    expect(w.grad, [[8.0, 10.0]], "w.grad of sum(x @ w.t())")
    require(x.grad is None, "a tensor that doesn't require grad got a grad")


# ---------------------------------------------------------------- the semantics the notebook relies on
@check("gradients accumulate across backward calls")
def gradients_accumulate(engine: Any) -> None:
    w = leaf(engine, [1.0, 2.0])
    engine.sum(w * 3.0).backward()
    expect(w.grad, [3.0, 3.0], "w.grad after one backward")
    engine.sum(w * 3.0).backward()
    expect(w.grad, [6.0, 6.0], "w.grad after a second backward (it should add up)")


@check("zero_() clears a gradient and the next backward starts clean")
def zero_clears(engine: Any) -> None:
    w = leaf(engine, [1.0, 2.0])
    engine.sum(w * 3.0).backward()
    with engine.no_grad():
        w.grad.zero_()
    expect(w.grad, [0.0, 0.0], "w.grad after w.grad.zero_()")
    engine.sum(w * 5.0).backward()
    expect(w.grad, [5.0, 5.0], "w.grad from the backward after zero_()")


@check("results computed under no_grad() don't require grad")
def no_grad_records_nothing(engine: Any) -> None:
    w = leaf(engine, [1.0, 2.0])
    with engine.no_grad():
        for expression, result in {"w * 2": w * 2, "w - w": w - w, "engine.sum(w)": engine.sum(w)}.items():
            require(
                result.requires_grad is False,
                f"{expression} under no_grad(): requires_grad is {result.requires_grad!r}",
            )
    after = (w * 2).requires_grad
    require(after is True, f"w * 2 after the no_grad() block: requires_grad is {after!r}, not True")


@check("a tensor used twice (d * d) gets both contributions")
def used_twice(engine: Any) -> None:
    w = leaf(engine, [1.0, 2.0, -3.0])
    engine.sum(w * w).backward()
    expect(w.grad, [2.0, 4.0, -6.0], "w.grad of sum(w * w)")
    w.grad.zero_()
    d = w + 1.0
    engine.sum(d * d).backward()
    expect(w.grad, [4.0, 6.0, -4.0], "w.grad of sum(d * d) with d = w + 1")


@check("the gradient of a broadcast bias is summed over the batch")
def bias_gradient_summed(engine: Any) -> None:
    b, x = leaf(engine, [0.5, -1.0]), constant(engine, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    engine.sum((x + b) * x).backward()
    expect(b.grad, [9.0, 12.0], "b.grad of sum((x + b) * x), x with 3 rows")


@check("w -= ... under no_grad() keeps the same leaf")
def in_place_update_keeps_leaf(engine: Any) -> None:
    w = leaf(engine, [1.0, 2.0])
    before = w
    engine.sum(w * 2.0).backward()
    with engine.no_grad():
        w -= w.grad * 0.5
    require(w is before, "w -= ... gave a new object")
    expect(w, [0.0, 1.0], "w after w -= w.grad * 0.5")
    require(w.requires_grad is True, f"w.requires_grad is {w.requires_grad!r} after the update, not True")
    w.grad.zero_()
    engine.sum(w * 3.0).backward()
    expect(w.grad, [3.0, 3.0], "w.grad from a backward after the update")


# ---------------------------------------------------------------- optional ops: skipped where an engine lacks them
def takes_no_argument(method: Any) -> bool:
    """Whether a Python method's signature accepts no positional argument (False when Python can't tell, as
    for torch's methods written in C: then the call itself decides)."""
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return not any(p.kind in (*positional, inspect.Parameter.VAR_POSITIONAL) for p in parameters)


def optional_op(tensor: Any, name: str) -> Any:
    if not hasattr(tensor, name):
        raise OptionalOpMissingError(f"the engine's tensors have no {name} (optional)")
    return getattr(tensor, name)


@check("optional: mean()", optional=True)
def mean(engine: Any) -> None:
    w = leaf(engine, [1.0, 2.0, 3.0, 6.0])
    result = optional_op(w, "mean")()
    require(result.item() == 3.0, f"mean() is {result.item()}, expected 3.0")
    result.backward()
    expect(w.grad, [0.25] * 4, "w.grad of w.mean()")


@check("optional: ** with a number", optional=True)
def power(engine: Any) -> None:
    w = leaf(engine, [1.0, -2.0, 3.0])
    result = optional_op(w, "__pow__")(2)
    expect(result, [1.0, 4.0, 9.0], "w ** 2")
    engine.sum(result).backward()
    expect(w.grad, [2.0, -4.0, 6.0], "w.grad of sum(w ** 2)")


@check("optional: sum(dim)", optional=True)
def sum_over_dim(engine: Any) -> None:
    w = leaf(engine, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    if takes_no_argument(w.sum):  # decided from the signature: an error inside sum(0) is a failure, not a skip
        raise OptionalOpMissingError("the engine's sum() takes no dim (optional)")
    rows = w.sum(0)
    expect(rows, [9.0, 12.0], "w.sum(0)")
    engine.sum(rows * constant(engine, [1.0, 2.0])).backward()
    expect(w.grad, [[1.0, 2.0]] * 3, "w.grad of sum(w.sum(0) * [1, 2])")
