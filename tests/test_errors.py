"""Bad input raises what torch raises: the same exception type and message, with "torch" read as "minigrad"
where torch names itself (torch.Size, torch.FloatTensor) and without the "Hint: ..." sentence that ends
torch's in-place-modification message (minigrad has no anomaly mode). Expected messages come from torch, run
here. And a failed op leaves every tensor it touched as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

import minigrad
from reference.notebook import printed_weights

torch = pytest.importorskip("torch")
W = printed_weights()[0].tolist()  # a list: tensor() makes it float32


def in_minigrads_words(message: str) -> str:
    message = re.sub(r"\btorch\.(?=[A-Z])", "minigrad.", message)
    return re.sub(r" Hint: .*", "", message, flags=re.DOTALL)


# A case: `setup(lib)` makes the tensors (a dict, so they can be checked afterwards), `fail(lib, t)` raises.
Setup = Callable[[ModuleType], dict[str, Any]]
Fail = Callable[[ModuleType, dict[str, Any]], Any]


def leaf(lib: ModuleType) -> dict[str, Any]:
    return {"w": lib.tensor(W, requires_grad=True)}


def operands(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> Setup:
    return lambda lib: {"a": lib.ones(shape_a, requires_grad=True), "b": lib.ones(shape_b, requires_grad=True)}


def backed_once(lib: ModuleType) -> dict[str, Any]:
    w = lib.tensor(W, requires_grad=True)
    z = (w * w).sum()
    z.backward()
    return {"w": w, "z": z}


def modified_after_save(kind: str) -> Setup:
    """A graph whose saved tensor is then changed in place under no_grad."""

    def setup(lib: ModuleType) -> dict[str, Any]:
        w, x = lib.tensor(W, requires_grad=True), lib.tensor(W)
        hidden = w * 2
        z = {
            "leaf": lambda: (w * w).sum(),
            "constant": lambda: (w * x).sum(),
            "non-leaf": lambda: (hidden * hidden).sum(),
            "mm": lambda: (w.t() @ w).sum(),
            "view": lambda: (w @ w.t()).sum(),  # w.t() is saved: a view of w
            "div": lambda: (w / hidden).sum(),
        }[kind]()
        target = {"leaf": w, "constant": x, "non-leaf": hidden, "mm": w, "view": w, "div": hidden}[kind]
        with lib.no_grad():
            target += 1
            target *= 2
        return {"w": w, "x": x, "hidden": hidden, "z": z}

    return setup


def no_grad(fn: Fail) -> Fail:
    def run(lib: ModuleType, t: dict[str, Any]) -> Any:
        with lib.no_grad():
            return fn(lib, t)

    return run


CASES: dict[str, tuple[Setup, Fail]] = {
    # shapes
    "mm shapes": (operands((5, 3), (2, 3)), lambda lib, t: t["a"] @ t["b"]),
    "mm method shapes": (operands((5, 3), (2, 3)), lambda lib, t: t["a"].mm(t["b"])),
    "mv shapes": (operands((3, 2), (4,)), lambda lib, t: t["a"] @ t["b"]),
    "dot shapes": (operands((3,), (4,)), lambda lib, t: lib.matmul(t["a"], t["b"])),
    "vector @ matrix shapes": (operands((3,), (4, 2)), lambda lib, t: t["a"] @ t["b"]),
    "matmul of a 0-d tensor": (operands((), (3,)), lambda lib, t: t["a"] @ t["b"]),
    "mm of a vector": (operands((3,), (3, 2)), lambda lib, t: t["a"].mm(t["b"])),
    "mm dtypes": (
        lambda lib: {"a": lib.ones(2, 3), "b": lib.ones(3, 2, dtype=lib.float64)},
        lambda lib, t: t["a"] @ t["b"],
    ),
    "add shapes": (operands((2, 3), (2, 4)), lambda lib, t: t["a"] + t["b"]),
    "sub shapes": (operands((4, 1, 3), (2, 2)), lambda lib, t: t["a"] - t["b"]),
    "mul shapes": (operands((3,), (2,)), lambda lib, t: t["a"] * t["b"]),
    "div shapes": (operands((2, 3), (3, 2)), lambda lib, t: t["a"] / t["b"]),
    "t of 3-D": (operands((2, 2, 2), ()), lambda lib, t: t["a"].t()),
    # dims
    "sum dim out of range": (leaf, lambda lib, t: t["w"].sum(2)),
    "sum negative dim out of range": (leaf, lambda lib, t: t["w"].sum(-3)),
    "sum dims out of range": (leaf, lambda lib, t: t["w"].sum((0, 2), keepdim=True)),
    "sum repeated dim": (leaf, lambda lib, t: t["w"].sum((1, -1))),
    "mean dim out of range": (leaf, lambda lib, t: lib.mean(t["w"], 5)),
    "0-d sum dim out of range": (operands((), ()), lambda lib, t: t["a"].sum(1)),
    "transpose dim out of range": (leaf, lambda lib, t: t["w"].transpose(0, 2)),
    "size dim out of range": (leaf, lambda lib, t: t["w"].size(-3)),
    "mean of an int tensor": (lambda lib: {"i": lib.tensor([1, 2])}, lambda lib, t: t["i"].mean()),
    "int to a negative int power": (lambda lib: {"i": lib.tensor([1, 2])}, lambda lib, t: t["i"] ** -1),
    # backward
    "backward of a non-scalar": (leaf, lambda lib, t: (t["w"] * 2).backward()),
    "backward without grad": (leaf, lambda lib, t: t["w"].detach().sum().backward()),
    "backward under no_grad": (leaf, no_grad(lambda lib, t: (t["w"] * 2).sum().backward())),
    "backward gradient shape": (leaf, lambda lib, t: (t["w"] * 2).backward(lib.ones(3, 2))),
    "backward twice": (backed_once, lambda lib, t: t["z"].backward()),
    **{
        f"saved tensor modified ({kind})": (modified_after_save(kind), lambda lib, t: t["z"].backward())
        for kind in ("leaf", "constant", "non-leaf", "mm", "view", "div")
    },
    # in place
    "-= on a leaf": (leaf, lambda lib, t: t["w"].__isub__(1)),
    "+= on a leaf": (leaf, lambda lib, t: t["w"].__iadd__(t["w"].detach())),
    "*= on a leaf": (leaf, lambda lib, t: t["w"].__imul__(2.0)),
    "/= on a leaf": (leaf, lambda lib, t: t["w"].__itruediv__(2)),
    "zero_ on a leaf": (leaf, lambda lib, t: t["w"].zero_()),
    "+= on a view of a leaf": (leaf, lambda lib, t: t["w"].t().__iadd__(1)),
    "*= on a view made under no_grad": (
        lambda lib: {"w": (w := lib.tensor(W, requires_grad=True)), "view": no_grad(lambda lib, t: w.t())(lib, {})},
        lambda lib, t: t["view"].__imul__(2),
    ),
    "-= a wrong shape": (leaf, no_grad(lambda lib, t: t["w"].__isub__(lib.ones(3, 3)))),
    "+= a broadcast to a bigger shape": (leaf, no_grad(lambda lib, t: t["w"].__iadd__(lib.ones(4, 2, 3)))),
    "*= a non-broadcastable shape": (leaf, no_grad(lambda lib, t: t["w"].__imul__(lib.ones(2)))),
    "int += float": (lambda lib: {"i": lib.tensor([1, 2])}, lambda lib, t: t["i"].__iadd__(1.5)),
    "int /= int": (lambda lib: {"i": lib.tensor([1, 2])}, lambda lib, t: t["i"].__itruediv__(2)),
    "int *= float tensor": (lambda lib: {"i": lib.tensor([1, 2])}, lambda lib, t: t["i"].__imul__(lib.ones(2))),
    # requires_grad
    "int tensor requiring grad": (lambda lib: {}, lambda lib, t: lib.tensor([1, 2], requires_grad=True)),
    "int ones requiring grad": (lambda lib: {}, lambda lib, t: lib.ones(2, dtype=lib.int64, requires_grad=True)),
    "int requires_grad_()": (lambda lib: {"i": lib.tensor([1, 2])}, lambda lib, t: t["i"].requires_grad_()),
    "int requires_grad = True": (
        lambda lib: {"i": lib.tensor([1, 2])},
        lambda lib, t: setattr(t["i"], "requires_grad", True),
    ),
    "non-leaf requires_grad_(False)": (leaf, lambda lib, t: (t["w"] * 2).requires_grad_(False)),
    "non-leaf requires_grad = True": (leaf, lambda lib, t: setattr(t["w"] * 2, "requires_grad", True)),
    # getting values out
    "numpy() requiring grad": (leaf, lambda lib, t: t["w"].numpy()),
    "item() of many": (leaf, lambda lib, t: t["w"].item()),
    "len() of 0-d": (operands((), ()), lambda lib, t: len(t["a"])),
}


def raised(lib: ModuleType, setup: Setup, fail: Fail) -> tuple[BaseException, dict[str, Any], dict[str, Any]]:
    """Run a case; return what it raised and its tensors' state before and after."""
    tensors = setup(lib)
    before = {name: state(t) for name, t in tensors.items()}
    with pytest.raises(Exception) as info:
        fail(lib, tensors)
    return info.value, before, {name: state(t) for name, t in tensors.items()}


class Same:
    """Equal to another Same of the very same object (it keeps the object alive, so its id can't be reused)."""

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Same) and self.obj is other.obj

    __hash__ = None  # type: ignore[assignment]


def state(t: Any) -> tuple[Any, ...]:
    """All of a tensor that an op might change: its data, dtype, shape, version, requires_grad, its grad_fn
    and grad (the same objects) and the grad's values."""
    grad = None if t.grad is None else t.grad.numpy().tobytes()
    data = t.detach().numpy().tobytes()
    return data, t.dtype, tuple(t.shape), t._version, t.requires_grad, Same(t.grad_fn), Same(t.grad), grad


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("setup", "fail"), CASES.values(), ids=list(CASES))
def test_same_error_as_torch(setup: Setup, fail: Fail) -> None:
    expected, *_ = raised(torch, setup, fail)
    actual, *_ = raised(minigrad, setup, fail)
    assert type(actual) is type(expected)
    assert str(actual) == in_minigrads_words(str(expected))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("setup", "fail"), CASES.values(), ids=list(CASES))
def test_a_failed_op_changes_no_tensor(setup: Setup, fail: Fail) -> None:
    for lib in (minigrad, torch):  # torch too: the expectation written here is torch's behaviour
        _, before, after = raised(lib, setup, fail)
        assert after == before, lib.__name__


def test_the_messages_read_as_torchs() -> None:
    # The mapping itself, on torch's words.
    message = "x [torch.FloatTensor [2, 3]] is at version 1; expected version 0 instead. Hint: the rest."
    assert in_minigrads_words(message) == "x [minigrad.FloatTensor [2, 3]] is at version 1; expected version 0 instead."
    assert in_minigrads_words("a shape of torch.Size([3])") == "a shape of minigrad.Size([3])"
