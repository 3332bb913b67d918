"""minigrad.capture: a recorded step replays the very bits eager computes, its guards re-record when what it
read changes, and what a recording can't hold is refused, with nothing left half-updated."""

from __future__ import annotations

import subprocess
import sys
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad import autograd
from minigrad.capture import CaptureError, CaptureWarning, Tape, same_bits
from reference.loop import NOTEBOOK_INPUTS, NOTEBOOK_LR, NOTEBOOK_TARGETS, Problem, train
from reference.parity import check_parity

DTYPES = [minigrad.float32, minigrad.float64]


class Model:
    """The notebook's tensors and its training step, written once; `capture` decides how the step runs."""

    def __init__(self, dtype: minigrad.dtype, seed: int = 0, zero_first: bool = False) -> None:
        rng = np.random.default_rng(seed)
        self.x: Any  # Any: .grad is a Tensor or None, and the step relies on which
        self.y: Any
        self.w: Any
        self.b: Any
        self.x = minigrad.tensor(NOTEBOOK_INPUTS, dtype=dtype)
        self.y = minigrad.tensor(NOTEBOOK_TARGETS, dtype=dtype)
        self.w = minigrad.tensor(rng.standard_normal((2, 3)), dtype=dtype, requires_grad=True)
        self.b = minigrad.tensor(rng.standard_normal(2), dtype=dtype, requires_grad=True)
        self.lr = NOTEBOOK_LR
        self.zero_first = zero_first

    def step(self) -> tuple[minigrad.Tensor, minigrad.Tensor]:
        if self.zero_first and self.w.grad is not None:  # torch's usual order: zero, backward, update
            self.w.grad.zero_()
            self.b.grad.zero_()
        predictions = self.x @ self.w.t() + self.b
        diff = self.y - predictions
        loss = minigrad.sum(diff * diff) / diff.numel()
        loss.backward()
        with minigrad.no_grad():
            self.w -= self.w.grad * self.lr
            self.b -= self.b.grad * self.lr
            if not self.zero_first:  # the notebook's order: backward, update, zero
                self.w.grad.zero_()
                self.b.grad.zero_()
        return loss, predictions

    def state(self) -> list[bytes | str]:
        """Every tensor's bits and version, and its grad's, as a list to compare with ==."""
        tensors = [self.x, self.y, self.w, self.b]
        tensors += [t.grad for t in tensors if t.grad is not None]
        return [t._data.tobytes() for t in tensors] + [str([t._version for t in tensors])]


def bits(*tensors: minigrad.Tensor) -> list[bytes]:
    return [t._data.tobytes() for t in tensors]


# ---------------------------------------------------------------- bit for bit
@pytest.mark.parametrize("zero_first", [False, True], ids=["notebook order", "zero first"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_900_replayed_steps_give_eager_bits(dtype: minigrad.dtype, zero_first: bool) -> None:
    eager, captured = Model(dtype, zero_first=zero_first), Model(dtype, zero_first=zero_first)
    step = minigrad.capture(captured.step)
    for i in range(900):
        loss, predictions = eager.step()
        loss_c, predictions_c = step()
        assert bits(loss, predictions) == bits(loss_c, predictions_c), f"step {i}"
        assert eager.state() == captured.state(), f"step {i}: w, b, grads or version counters differ"
    assert step.recordings == 2, step.why_recorded  # grads absent, then present: two paths through eager
    assert step.why_recorded == ["self.w's .grad and .grad's array changed"]
    assert loss.item() < 2  # it trained


def test_each_recorded_call_is_checked_bit_for_bit_against_the_ops_own() -> None:
    """Recording runs each call as the op wrote it and as the tape holds it (out=), and compares bits: -0.0 and
    0.0 differ, which == would miss; a NaN equals itself."""
    zeros = np.array([0.0, np.nan], np.float32)
    assert same_bits(zeros, zeros.copy()) and not same_bits(zeros, -zeros)
    assert np.array_equal(zeros[:1], -zeros[:1])  # == calls them equal: the reason to compare bits
    assert same_bits(np.float64(2) * np.ones(()), np.full((), 2.0))


def test_replay_returns_the_same_tensors_updated_in_place() -> None:
    model = Model(minigrad.float32)
    step = minigrad.capture(model.step)
    step(), step()
    loss, predictions = step()
    before = loss.item()
    again = step()
    assert again[0] is loss and again[1] is predictions  # static outputs, as CUDA Graphs'
    assert loss.item() < before
    assert loss.grad_fn is not None and loss.requires_grad  # as eager's loss


def test_buffers_with_disjoint_lifetimes_share_memory_and_keep_the_bits() -> None:
    rng = np.random.default_rng(1)
    tensors = [rng.standard_normal(shape, dtype=np.float32) for shape in ((300, 20), (300, 4), (4, 20), (4,))]
    models = []
    for _ in range(2):
        model = Model(minigrad.float32)
        model.x, model.y, model.w, model.b = (minigrad.tensor(t, requires_grad=t.shape[0] == 4) for t in tensors)
        model.lr = 0.01
        models.append(model)
    step = minigrad.capture(models[1].step)
    for _ in range(20):
        assert bits(*models[0].step()) == bits(*step())
    assert models[0].state() == models[1].state()
    assert step.tape.memory.arrays < len(step.tape.memory.physical)  # some buffers reused another's memory


@settings(max_examples=25, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 9), st.integers(1, 5), st.integers(1, 4)),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**16),
)
def test_notebook_step_on_random_shapes_replays_eager_bits(
    shape: tuple[int, int, int], dtype: minigrad.dtype, seed: int
) -> None:
    rows, d_in, d_out = shape
    rng = np.random.default_rng(seed)
    data = [rng.standard_normal(s) for s in ((rows, d_in), (rows, d_out), (d_out, d_in), (d_out,))]
    models = []
    for _ in range(2):
        model = Model(dtype)
        model.x, model.y, model.w, model.b = (
            minigrad.tensor(array, dtype=dtype, requires_grad=i >= 2) for i, array in enumerate(data)
        )
        model.lr = 0.05
        models.append(model)
    step = minigrad.capture(models[1].step)
    for i in range(8):
        assert bits(*models[0].step()) == bits(*step()), f"step {i}"
        assert models[0].state() == models[1].state(), f"step {i}"


LOSSES: dict[str, Callable[[Any, Any, Any], Any]] = {
    "mean": lambda x, w, v: (x @ w).mean(),
    "mean over a dim": lambda x, w, v: (x @ w).mean(dim=0).sum(),
    "sum over a dim, kept": lambda x, w, v: ((x @ w).sum(dim=1, keepdim=True) * 2.0).sum(),
    "integer powers": lambda x, w, v: ((x @ w) ** 3).sum() + ((x @ w) ** 2).sum() + ((x @ w + 9.0) ** -2).sum(),
    "a float power": lambda x, w, v: ((x @ w) * (x @ w) + 1.0).pow(0.5).sum(),
    "number / tensor": lambda x, w, v: (1.0 / (x @ w + 10.0)).sum(),
    "number - tensor, -tensor": lambda x, w, v: (-(3.0 - x @ w)).sum(),
    "tensor / tensor, broadcast": lambda x, w, v: ((x @ w) / (v + 5.0)).sum(),
    "transpose": lambda x, w, v: (x @ w).transpose(0, 1).sum(),
    ".T": lambda x, w, v: ((x @ w).T * 2).sum(),
    "matrix @ vector": lambda x, w, v: minigrad.sum(x @ (w @ v)),
    "vector @ vector": lambda x, w, v: v @ v + minigrad.sum(x @ w),
    "vector @ matrix": lambda x, w, v: minigrad.sum(v @ w.t()) + minigrad.sum(x @ w),
    "a tensor used twice": lambda x, w, v: ((x @ w) * (x @ w)).sum() + minigrad.sum(x @ w) * v.sum(),
    "tensor ** tensor": lambda x, w, v: ((x @ w) * (x @ w) + 1.0).pow(v * v).sum(),
    "number ** tensor": lambda x, w, v: (2.0 ** (x @ w) / 100.0).sum() + v.sum(),
    "clone": lambda x, w, v: ((x @ w).clone() * v).sum(),
}


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_every_op_replays_eager_bits(loss: str, dtype: minigrad.dtype) -> None:
    """Each op, forward and backward, in a step that trains two leaves: 6 steps eager and captured."""
    compute = LOSSES[loss]

    def leaves() -> list[minigrad.Tensor]:
        rng = np.random.default_rng(0)
        x = minigrad.tensor(rng.standard_normal((4, 3)), dtype=dtype)
        w = minigrad.tensor(rng.standard_normal((3, 2)), dtype=dtype, requires_grad=True)
        v = minigrad.tensor(rng.standard_normal(2), dtype=dtype, requires_grad=True)
        return [x, w, v]

    def step_of(tensors: list[minigrad.Tensor]) -> Callable[[], minigrad.Tensor]:
        def step() -> minigrad.Tensor:
            total: minigrad.Tensor = compute(*tensors)
            total.backward()
            with minigrad.no_grad():
                for leaf in tensors[1:]:
                    if leaf.grad is not None:
                        leaf -= leaf.grad * 0.01
                        leaf.grad.zero_()
            return total

        return step

    eager, captured = leaves(), leaves()
    eager_step, captured_step = step_of(eager), minigrad.capture(step_of(captured))
    for i in range(6):
        assert bits(eager_step()) == bits(captured_step()), f"step {i}"
        assert bits(*eager) == bits(*captured), f"step {i}"
    assert captured_step.recordings == 2


def alpha_step(model: Model) -> minigrad.Tensor:
    loss = minigrad.sum(model.x @ model.w.t()).add(model.b.sum(), alpha=2)
    loss.backward()
    with minigrad.no_grad():
        model.w.sub_(model.w.grad, alpha=1e-5)
    return loss


def test_alpha_captures_in_float32() -> None:
    eager, captured = Model(minigrad.float32), Model(minigrad.float32)
    step = minigrad.capture(lambda: alpha_step(captured))
    for _ in range(3):
        assert bits(alpha_step(eager)) == bits(step())
        assert eager.state() == captured.state()


def test_alpha_in_float64_is_refused() -> None:
    """add(alpha=) rounds once (a fused multiply-add); in float64 that takes a Python loop over the elements
    that need it, which a recording can't hold."""
    model = Model(minigrad.float64)
    refused(lambda: alpha_step(model), "flatnonzero", model)


# ---------------------------------------------------------------- the tape
def test_tape_lists_the_numpy_calls_in_the_order_the_engine_ran_its_nodes() -> None:
    """The nodes the engine ran, in its order, as its observer hook sees them; a node whose backward only makes
    views (a transpose, sum's expand) leaves no call on the tape."""
    model = Model(minigrad.float32)
    visited: list[str] = []

    def observe(node: autograd.Node, grad_in: Any, grads_out: tuple[Any, ...]) -> None:
        def view_of_grad_in(g: Any) -> bool:  # a 0-d grad may be a numpy scalar: then it is the view's base
            return g is grad_in or g.base is grad_in or np.may_share_memory(g, grad_in)

        computed = [g for g in grads_out if g is not None and not view_of_grad_in(g)]
        if type(node).__name__ == "AccumulateGrad" or computed:
            visited.append(type(node).__name__)

    autograd.observer = observe
    try:
        model.step()  # eager, grads absent
        visited.clear()
        model.step()  # eager, grads present: the path the tape will hold
    finally:
        autograd.observer = None
    step = minigrad.capture(model.step)
    step(), step()
    tape = step.tape
    backward = [call.origin for call in tape.calls if call.phase == "backward" and "summing" not in call.origin]
    backward = [origin for origin in backward if not origin.startswith("backward:")]  # the root gradient
    collapsed = [origin for i, origin in enumerate(backward) if i == 0 or backward[i - 1] != origin]
    assert collapsed == visited
    text = str(tape)
    assert text.splitlines()[0].startswith(f"{len(tape.replay_calls)} numpy calls per replay")
    assert "MmBackward0" in text and "matmul(self.x[5, 3], self.w[3, 2] view, out=%0[5, 2])" in text
    assert "AccumulateGrad" in text and "add(self.w.grad[2, 3]" in text
    assert "Tensor._in_place" in text and "Tensor.zero_" in text
    assert repr(tape) == text


def test_tape_before_the_first_call_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not been recorded yet"):
        _ = minigrad.capture(Model(minigrad.float32).step).tape


# ---------------------------------------------------------------- guards: a change re-records
@pytest.fixture
def pair() -> tuple[Model, Model]:
    return Model(minigrad.float32), Model(minigrad.float32)


Change = Callable[[Model], None]


def new_w(model: Model) -> None:
    model.w = minigrad.tensor(model.w._data * 2, requires_grad=True)


def more_rows(model: Model) -> None:
    model.x = minigrad.tensor(np.concatenate([model.x._data, model.x._data]))
    model.y = minigrad.tensor(np.concatenate([model.y._data, model.y._data]))


def reshape_in_place(model: Model) -> None:  # the same array object, another shape (diff broadcasts to 1×5×2)
    model.y._data.shape = (1, 5, 2)


def float64(model: Model) -> None:
    model.x, model.y, model.w, model.b = (
        minigrad.tensor(t._data, dtype=minigrad.float64, requires_grad=t.requires_grad)
        for t in (model.x, model.y, model.w, model.b)
    )


def x_requires_grad(model: Model) -> None:
    model.x.requires_grad_(True)


def grads_dropped(model: Model) -> None:
    model.w.grad = None
    model.b.grad = None


def new_lr(model: Model) -> None:
    model.lr = 2e-5


def new_grad_tensor(model: Model) -> None:
    assert model.w.grad is not None
    model.w.grad = minigrad.tensor(model.w.grad._data.copy())


# Each change, what the re-recording names, and how many recordings it takes: two where the change leaves a
# tensor that needs a gradient without one (absent, then present: two paths through eager).
CHANGES: dict[str, tuple[Change, str, int]] = {
    "another tensor": (new_w, "self.w is another object", 2),
    "another shape": (more_rows, "self.x is another object", 1),
    "shape in place": (reshape_in_place, "self.y's shape changed", 1),
    "another dtype": (float64, "self.x is another object", 2),
    "requires_grad": (x_requires_grad, "self.x's requires_grad changed", 2),
    "grads dropped": (grads_dropped, "self.w's .grad and .grad's array changed", 2),
    "a Python number": (new_lr, "self.lr is 2e-05, not 1e-05", 1),
    "another grad tensor": (new_grad_tensor, "self.w's .grad and .grad's array changed", 1),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_guarded_change_re_records_and_matches_eager(change: str) -> None:
    alter, reason, recordings = CHANGES[change]
    eager, captured = Model(minigrad.float32), Model(minigrad.float32)
    step = minigrad.capture(captured.step)
    for _ in range(3):
        eager.step(), step()
    assert step.recordings == 2
    alter(eager), alter(captured)
    for _ in range(4):
        assert bits(*eager.step()) == bits(*step())
        assert eager.state() == captured.state()
    assert step.recordings == 2 + recordings
    assert step.why_recorded[1] == reason


@pytest.mark.parametrize("change", ["another tensor", "a Python number", "grads dropped", "requires_grad"])
def test_without_its_guard_the_change_would_go_unseen(change: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The seeded bug: guards that always pass. The replay then computes something else than eager."""
    alter, _, _ = CHANGES[change]
    eager, captured = Model(minigrad.float32), Model(minigrad.float32)
    step = minigrad.capture(captured.step)
    for _ in range(3):
        eager.step(), step()
    monkeypatch.setattr(Tape, "changed", lambda self: None)
    alter(eager), alter(captured)
    for _ in range(3):
        eager.step(), step()
    assert eager.state() != captured.state()


def test_grad_mode_is_guarded() -> None:
    model = Model(minigrad.float32)

    @minigrad.capture
    def loss_only() -> minigrad.Tensor:
        diff = model.y - (model.x @ model.w.t() + model.b)
        loss = minigrad.sum(diff * diff)
        if minigrad.is_grad_enabled():
            loss.backward()
        return loss

    loss_only(), loss_only()
    with minigrad.no_grad():
        evaluated = loss_only()
    assert loss_only.why_recorded[-1] == "grad mode changed"
    assert not evaluated.requires_grad and evaluated.grad_fn is None
    assert model.w.grad is not None
    grad = model.w.grad._data.copy()
    with minigrad.no_grad():
        loss_only()
    assert np.array_equal(model.w.grad._data, grad)  # no backward replayed under no_grad


def test_a_function_the_step_calls_is_guarded() -> None:
    model = Model(minigrad.float32)
    namespace: dict[str, Any] = {"model": model, "minigrad": minigrad}
    exec("def predict():\n    return model.x @ model.w.t() + model.b", namespace)
    exec(
        "def step():\n    loss = minigrad.sum(predict())\n    loss.backward()\n    return loss",
        namespace,
    )
    step = minigrad.capture(namespace["step"])
    first = step().item()
    step()
    exec("def predict():\n    return model.x @ model.w.t() * 2", namespace)
    assert step().item() == pytest.approx(2 * (first - float(np.sum(model.b._data)) * 5), rel=1e-5)
    assert step.why_recorded[-1] == "predict is another object"


def test_a_number_deeper_than_the_search_is_not_guarded_and_reset_records_again() -> None:
    """The stated limit (README): the guards follow names 4 levels down. Deeper, a change is not seen."""
    model = Model(minigrad.float32)
    deep = {"a": {"b": {"c": {"lr": 1e-5}}}}  # deep['a']['b']['c']['lr'] is 5 levels below the step

    @minigrad.capture
    def step() -> minigrad.Tensor:
        loss = minigrad.sum(model.x @ model.w.t())
        loss.backward()
        with minigrad.no_grad():
            model.w -= model.w.grad * deep["a"]["b"]["c"]["lr"]
            model.w.grad.zero_()
        return loss

    step(), step()
    deep["a"]["b"]["c"]["lr"] = 0.0
    before = model.w._data.copy()
    step()
    assert not np.array_equal(model.w._data, before)  # the replay still used 1e-5
    step.reset()
    before = model.w._data.copy()
    step()
    assert np.array_equal(model.w._data, before)  # recorded again: lr 0 now


def test_recording_on_every_call_warns() -> None:
    model = Model(minigrad.float32)
    calls = types.SimpleNamespace(count=0)

    @minigrad.capture
    def counting() -> minigrad.Tensor:
        calls.count += 1  # a Python side effect: the guard on calls.count sees it change
        loss = minigrad.sum(model.x @ model.w.t())
        loss.backward()
        return loss

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(4):
            counting()
    assert calls.count == 4  # never replayed: every call ran eagerly
    assert [w.category for w in caught] == [CaptureWarning]
    assert "the latest because calls.count is 3, not 2" in str(caught[0].message)


# ---------------------------------------------------------------- what a recording can't hold
def refused(step: Callable[[], Any], match: str, model: Model) -> None:
    """The step raises CaptureError while recording, and leaves the model as it found it."""
    before = model.state()
    with pytest.raises(CaptureError, match=match):
        minigrad.capture(step)()
    assert model.state() == before


def test_reading_a_value_inside_the_step_is_refused() -> None:
    model = Model(minigrad.float32)

    def branching() -> None:
        loss = minigrad.sum(model.x @ model.w.t())
        loss.backward()
        with minigrad.no_grad():
            model.w -= model.w.grad * 1e-5
        if loss.item() > 0:  # data-dependent control flow
            model.b.grad = None

    refused(branching, r"reads a tensor's values .* in Tensor.item", model)
    refused(lambda: print(model.x * 2), "reads a tensor's values", model)
    refused(lambda: (model.x * 2).tolist(), "reads a tensor's values", model)
    refused(lambda: float((model.x * 2).detach().numpy()[0, 0]), "reads a tensor's values", model)


@pytest.mark.parametrize(
    "make",
    [
        lambda: minigrad.tensor([1.0, 2.0]),
        lambda: minigrad.zeros(2),
        lambda: minigrad.randn(2),
        lambda: minigrad.from_numpy(np.ones(2, np.float32)),
    ],
    ids=["tensor", "zeros", "randn", "from_numpy"],
)
def test_creating_a_tensor_inside_the_step_is_refused(make: Callable[[], minigrad.Tensor]) -> None:
    model = Model(minigrad.float32)

    def step() -> None:
        loss = minigrad.sum(model.x @ model.w.t() + make())
        loss.backward()

    refused(step, "creates a tensor from data", model)


def test_tensors_and_arrays_capture_cannot_reach_by_name_are_refused() -> None:
    model = Model(minigrad.float32)
    hidden = types.ModuleType("hidden")  # modules are not searched
    hidden.bias = minigrad.tensor([1.0, 2.0])  # type: ignore[attr-defined]
    batch = np.ones((5, 2), np.float32)

    def through_a_module() -> None:
        loss = minigrad.sum(model.x @ model.w.t() + hidden.bias)
        loss.backward()

    def numpy_data() -> None:
        loss = minigrad.sum(model.x @ model.w.t() + batch)
        loss.backward()

    refused(through_a_module, "did not see made", model)
    refused(numpy_data, "did not see made", model)


def test_keeping_a_tensor_elsewhere_is_refused() -> None:
    model = Model(minigrad.float32)
    history: list[minigrad.Tensor] = []

    def keeping() -> minigrad.Tensor:
        loss, predictions = model.step()
        history.append(predictions)
        return loss

    refused(keeping, "keeps a tensor it computed", model)


def test_returning_a_graph_not_backpropagated_or_a_number_is_refused() -> None:
    model = Model(minigrad.float32)
    refused(lambda: model.x @ model.w.t(), "did not backpropagate", model)
    refused(lambda: 1.5, "must return None, a tensor", model)


def test_a_graph_built_outside_the_step_is_refused() -> None:
    model = Model(minigrad.float32)
    features = model.x @ model.w.t()  # a non-leaf made before the step

    def step() -> None:
        minigrad.sum(features * model.b).backward()

    refused(step, "graph built outside the step", model)


def test_the_steps_own_error_propagates_as_eager_and_leaves_plain_tensors() -> None:
    model = Model(minigrad.float32)

    @minigrad.capture
    def failing() -> None:
        minigrad.sum(model.x @ model.w.t()).backward()
        raise ValueError("the step's own bug")

    with pytest.raises(ValueError, match="own bug"):
        failing()
    assert type(model.w.grad._data) is np.ndarray and type(model.w._data) is np.ndarray
    assert model.w.grad.sum().item() != 0  # backward ran, as eagerly


def test_version_counters_advance_as_eager() -> None:
    """A graph built outside that saved w sees the replay's in-place update, as it sees eager's."""
    model = Model(minigrad.float32)
    step = minigrad.capture(model.step)
    step(), step()
    outside = minigrad.sum(model.w * model.w)
    step()  # a replay: w -= ... bumps w's version
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        outside.backward()


def test_nested_capture_is_refused() -> None:
    model = Model(minigrad.float32)
    inner = minigrad.capture(model.step)
    with pytest.raises(CaptureError):
        minigrad.capture(lambda: inner())()


# ---------------------------------------------------------------- the parity harness drives a captured step
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_contract_loop_captured_records_what_eager_records(dtype: str) -> None:
    problem = Problem.notebook(steps=300).astype(dtype)
    eager = train(minigrad, problem, dtype)
    captured = train(minigrad, problem, dtype, capture=True)
    assert eager.error is None and captured.error is None
    for quantity in ("predictions", "loss", "w_grad", "b_grad", "w", "b"):
        assert np.array_equal(getattr(eager.values, quantity), getattr(captured.values, quantity)), quantity


def test_the_example_prints_the_notebook_tape_and_agrees_bit_for_bit() -> None:
    examples = Path(__file__).resolve().parent.parent / "examples"
    done = subprocess.run(
        [sys.executable, "capture.py", "--repeats", "1"], cwd=examples, capture_output=True, text=True, check=True
    )
    assert "matmul(inputs[5, 3], w[3, 2] view, out=%0[5, 2])" in done.stdout
    assert "900 steps: eager and captured agree bit for bit at every step" in done.stdout
    assert "captured" in done.stdout.splitlines()[-1]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lock_step_parity_of_the_captured_step_has_eager_worst_ratios(dtype: str) -> None:
    pytest.importorskip("torch")
    problem = Problem.notebook(steps=300)
    eager = check_parity(minigrad, problem, dtype, "lockstep")
    captured = check_parity(minigrad, problem, dtype, "lockstep", capture=True)
    assert captured.passed, captured.verdict()
    assert captured.engine.worst() == eager.engine.worst()
