"""The diagnosis by op (reference/diagnose.py) names each seeded bug's op, forward or backward, input and rule,
and gives correct engines (minigrad, torch, the harmless variants, a learner's numpy engine, HIPS autograd and
micrograd through the example adapters) a clean bill."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import learner_engine
import pytest
from buggy_engines import CONTRACT_ONLY, HARMLESS, SEEDED_BUGS, Variant

import minigrad
from reference.diagnose import OPS, Diagnosis, diagnose, main

BUG_RUNS = [pytest.param(bug, dtype, id=f"{bug.name}-{dtype}") for bug in SEEDED_BUGS for dtype in bug.dtypes]
LOOP_OPS = set(OPS) - {"tensor"}  # creating and reading tensors is what every check stands on
BOTH_STAGES = {"sum", "*", "+", "-", "t", "@", "/"}  # the loop runs these forward and backward


def named_failure(diagnosis: Diagnosis, bug: Variant) -> str:
    """The message of the failure the bug should be named by; asserts the diagnosis blames its op alone."""
    assert bug.named is not None, f"{bug.name}: say what the diagnosis names (Variant.named)"
    assert {failure.op for failure in diagnosis.failures} == {bug.named.op}, diagnosis.report()
    at = [f for f in diagnosis.failures if (f.stage, f.input) == (bug.named.stage, bug.named.input)]
    assert at, f"no {bug.named.stage} failure for input {bug.named.input}:\n{diagnosis.report()}"
    return at[0].message()


@pytest.mark.parametrize(("bug", "dtype"), BUG_RUNS)
def test_seeded_bug_is_named_at_its_op_stage_input_and_rule(bug: Variant, dtype: str) -> None:
    diagnosis = diagnose(bug.engine(), dtype)
    message = named_failure(diagnosis, bug)
    assert bug.named is not None and bug.named.says in message, diagnosis.report()
    assert bug.named.op not in diagnosis.passed_ops
    assert message in diagnosis.report()


def test_every_op_of_the_loop_has_seeded_bugs() -> None:
    named = [bug.named for bug in SEEDED_BUGS if bug.named is not None]
    assert {n.op for n in named} == LOOP_OPS
    for op in BOTH_STAGES:
        assert {n.stage for n in named if n.op == op} == {"forward", "backward"}, op


def adapter(name: str, package: str) -> Any:
    """examples/adapters/NAME.py's engine, around a real third-party engine (skipped when it isn't installed)."""
    pytest.importorskip(package)
    path = Path(__file__).resolve().parent.parent / "examples" / "adapters" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.engine


def engines() -> list[Any]:
    return [
        pytest.param(lambda: minigrad, id="minigrad"),
        pytest.param(lambda: pytest.importorskip("torch"), id="torch"),
        pytest.param(lambda: learner_engine, id="learner_engine"),
        pytest.param(lambda: adapter("autograd_adapter", "autograd"), id="HIPS autograd"),
        pytest.param(lambda: adapter("micrograd_adapter", "micrograd"), id="micrograd"),
        *(pytest.param(variant.engine, id=variant.name) for variant in (*HARMLESS, CONTRACT_ONLY)),
    ]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("engine", engines())
def test_correct_engine_gets_a_clean_diagnosis(engine: Any, dtype: str, seed: int) -> None:
    diagnosis = diagnose(engine(), dtype, seed)
    assert diagnosis.passed, diagnosis.report()
    assert diagnosis.passed_ops == OPS and not diagnosis.not_checked
    assert diagnosis.report().count("\n") == 0  # one line


# ---------------------------------------------------------------- a learner's engine, broken one way at a time
def learner_variant(tmp_path: Path, old: str, new: str) -> ModuleType:
    """A copy of tests/learner_engine.py with `old` (which must occur once) replaced by `new` in its source."""
    source = Path(learner_engine.__file__).read_text()
    assert source.count(old) == 1, old
    path = tmp_path / "broken_engine.py"
    path.write_text(source.replace(old, new))
    spec = importlib.util.spec_from_file_location(f"broken_engine_{abs(hash(new))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LEARNER_BUGS = [
    pytest.param(
        "unbroadcast(-g, b.shape)",
        "unbroadcast(g, b.shape)",
        ("-", "backward", "b"),
        "a - b: the gradient reaching b should be −grad; yours is +grad (its sign is flipped)",
        id="subtraction's sign",
    ),
    pytest.param(
        "self.grad = Tensor(np.array(grad, dtype=self.dtype))",
        "self.grad = np.array(grad, dtype=self.dtype)",
        ("sum", "backward", "x"),
        "sum(x): the gradient reaching x should be one of your engine's tensors; yours is numpy.ndarray",
        id=".grad a numpy array",
    ),
    pytest.param(
        "lambda g: (g @ other.data.T, self.data.T @ g)",
        "lambda g: (g @ other.data, self.data.T @ g)",
        ("@", "backward", None),
        "a @ b: a @ b should run; yours raised ValueError: matmul: Input operand 1 has a mismatch",
        id="matmul's backward untransposed",
    ),
    pytest.param(
        "unbroadcast(g * (1 / b.data), self.shape)",
        "unbroadcast(g * (1 / (b.data * b.data)), self.shape)",
        ("/", "backward", "a"),
        "a / b: the gradient reaching a should be grad/b; yours is off by a factor of b (it is the right value "
        "divided by b)",
        id="dividend's gradient",
    ),
    pytest.param(
        "    def t(self) -> Tensor:",
        "    def transpose(self) -> Tensor:",
        ("t", "forward", None),
        "w.t(): w.t() should run; yours raised AttributeError: 'Tensor' object has no attribute 't'",
        id="no t()",
    ),
]


@pytest.mark.parametrize(("old", "new", "where", "says"), LEARNER_BUGS)
def test_learner_engine_bug_is_named(tmp_path: Path, old: str, new: str, where: tuple[str, ...], says: str) -> None:
    diagnosis = diagnose(learner_variant(tmp_path, old, new))
    assert {failure.op for failure in diagnosis.failures} == {where[0]}, diagnosis.report()
    messages = [f.message() for f in diagnosis.failures if (f.op, f.stage, f.input) == where]
    assert messages and messages[0].startswith(says), diagnosis.report()


def test_report_is_short_and_lists_what_was_not_checked() -> None:
    counts_one_side = next(bug for bug in SEEDED_BUGS if bug.named and bug.named.says.startswith("only one"))
    report = diagnose(counts_one_side.engine()).report()
    lines = report.splitlines()
    assert lines[0].endswith(": * FAILS") and len(lines) <= 6, report
    assert lines[-1].startswith("  not checked: + (uses *); - (uses *)"), report


def test_cli_prints_the_diagnosis_and_exits_by_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    learner_variant(tmp_path, "unbroadcast(-g, b.shape)", "unbroadcast(g, b.shape)")  # writes broken_engine.py
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["--engine", "broken_engine"]) == 1
    assert "yours is +grad (its sign is flipped)" in capsys.readouterr().out
    assert main(["--engine", "minigrad", "--dtype", "float64"]) == 0
    assert main(["--engine", "no_such_engine_here"]) == 2
    (tmp_path / "raising_engine.py").write_text("raise RuntimeError('cannot start')\n")
    assert main(["--engine", "raising_engine"]) == 2
    assert "cannot start" in capsys.readouterr().err


def test_only_float_dtypes() -> None:
    with pytest.raises(ValueError, match="float32 or float64"):
        diagnose(minigrad, "float16")


def test_benchmark_script_runs() -> None:
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_diagnose.py"
    done = subprocess.run([sys.executable, str(script), "--runs", "1"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "minigrad float32:" in done.stdout and " ms" in done.stdout
