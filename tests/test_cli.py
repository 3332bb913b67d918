"""python -m reference: the table and the verdict, sweeps, plots, and exit codes 0 pass, 1 fail, 2 cannot run
(each mistake a user can make gets one line), 130 interrupted."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from buggy_engines import SEEDED_BUGS, private_minigrad

import minigrad
import reference.__main__ as cli
from reference.__main__ import main
from reference.loop import Problem
from reference.parity import check_parity
from reference.torch_reference import ReferenceUnavailableError, load_torch

pytest.importorskip("torch")
KIT = Path(__file__).resolve().parents[1]
LEARNER_ENGINE = (KIT / "tests" / "learner_engine.py").read_text()
Capsys = pytest.CaptureFixture[str]


def engine_module(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, source: str) -> str:
    """A module `name` in a fresh folder on sys.path, as a learner's engine is."""
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def one_error_line(capsys: Capsys) -> str:
    captured = capsys.readouterr()
    assert captured.out == "", captured.out  # refused before any run
    (line,) = captured.err.splitlines()
    return line


# ---------------------------------------------------------------- the notebook
def test_cli_prints_a_table_and_passes(engine_spec: str, capsys: Capsys) -> None:
    assert main(["--engine", engine_spec, "--steps", "30", "--mode", "free"]) == 0
    out = capsys.readouterr().out
    assert "loss reference  predictions" in out and "w drift" in out
    assert [line.split()[0] for line in out.splitlines() if line[:5].strip().isdigit()] == ["0", "10", "20", "29"]
    assert out.splitlines()[-1].startswith(f"PASS: {engine_spec} trains like torch (float32, free, 30 steps")


def test_cli_prints_every_step_when_asked(capsys: Capsys) -> None:
    assert main(["--steps", "5", "--every", "1", "--dtype", "float64"]) == 0
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line[:5].strip().isdigit()]
    assert rows == ["0", "1", "2", "3", "4"]


def test_cli_names_a_seeded_bug_in_a_short_line_beside_torchs_values(
    monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    wrong_sign = next(bug for bug in SEEDED_BUGS if bug.name.startswith("wrong sign"))
    monkeypatch.setitem(sys.modules, "wrong_sign", wrong_sign.engine())
    assert main(["--engine", "wrong_sign", "--steps", "5"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("FAIL: wrong_sign at step 0: w.grad[") and len(out[-1]) <= 100, out[-1]
    block = out[out.index("w.grad at step 0, element by element:") :]
    assert block[1].split() == ["element", "wrong_sign", "float64", "torch", "bound", "error/bound"]
    assert len(block[2].split()) == 7 and sum(line.endswith(" <") for line in block) == 1  # [i, j] is two words


# ---------------------------------------------------------------- first cause first
def test_a_missing_method_gives_a_few_lines_and_no_run(monkeypatch: pytest.MonkeyPatch, capsys: Capsys) -> None:
    engine = private_minigrad()
    del engine.Tensor.zero_
    monkeypatch.setitem(sys.modules, "without_zero", engine)
    assert main(["--engine", "without_zero"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) <= 6, out
    assert "a tensor (minigrad.tensor.Tensor) has no zero_" in out[-2]
    assert out[-1] == "FAIL: without_zero breaks the contract: tensor attributes and methods"


def test_a_numpy_array_where_a_tensor_belongs_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Capsys
) -> None:
    right = "self.grad = Tensor(np.array(grad, dtype=self.dtype))"
    assert right in LEARNER_ENGINE
    numpy_grads = LEARNER_ENGINE.replace(right, "self.grad = np.array(grad, dtype=self.dtype)")
    assert main(["--engine", engine_module(monkeypatch, tmp_path, "numpy_grads", numpy_grads)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == [
        "  FAILS: results are the engine's tensors: w.grad after a backward must "
        "be one of your engine's tensors, got numpy.ndarray",
        "FAIL: numpy_grads breaks the contract: results are the engine's tensors",
    ]


# ---------------------------------------------------------------- exit code 2: one line each
def test_no_such_engine(capsys: Capsys) -> None:
    assert main(["--engine", "no_such_engine_module"]) == 2
    assert "cannot import the engine 'no_such_engine_module': no module" in one_error_line(capsys)


def test_an_engine_with_a_syntax_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Capsys) -> None:
    name = engine_module(monkeypatch, tmp_path, "engine_with_syntax_error", "def f(:\n    pass\n")
    assert main(["--engine", name]) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"error: the engine '{name}' has a syntax error (") and f"{name}.py, line 1" in line


def test_an_engine_that_raises_at_import(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Capsys) -> None:
    name = engine_module(monkeypatch, tmp_path, "engine_raising", "x = 1\nraise ValueError('no config')\n")
    assert main(["--engine", name]) == 2
    assert one_error_line(capsys) == (
        f"error: importing the engine '{name}' raised ValueError: no config "
        f"({name}.py, line 2); --traceback shows where"
    )
    assert main(["--engine", name, "--traceback"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (the engine's frames):" in err and "importlib" not in err and f"{name}.py" in err


def test_a_missing_dependency_inside_the_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Capsys
) -> None:
    name = engine_module(monkeypatch, tmp_path, "engine_needing", "import no_such_dependency_xyz\n")
    assert main(["--engine", name]) == 2
    line = one_error_line(capsys)
    assert "imports 'no_such_dependency_xyz', which is not installed" in line and "folder" not in line


BROKEN_BACKEND = """
    import numpy
    float32, float64, no_grad, sum = numpy.float32, numpy.float64, None, None

    def tensor(data, dtype=None, requires_grad=False):
        raise OSError("libbackend.so: cannot open shared object file")
"""


def test_a_backend_that_cannot_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Capsys) -> None:
    name = engine_module(monkeypatch, tmp_path, "engine_without_backend", BROKEN_BACKEND)
    assert main(["--engine", name]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["error: the engine cannot start: OSError: libbackend.so: cannot open shared object file (a "
                   "problem of its setup, not of the contract); --traceback shows where"]  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--seed", "-1"], "argument --seed: must be 0 or more, not -1"),
        (["--steps", "x"], "argument --steps: 'x' is not a whole number"),
        (["--plot", "/nonexistent/x.png"], "--plot /nonexistent/x.png: there is no folder /nonexistent"),
        (["--plot", "parity"], "--plot parity: name a file ending .png, .pdf or .svg (or a folder)"),
    ],
)
def test_a_bad_option_is_refused_before_the_run(arguments: list[str], message: str, capsys: Capsys) -> None:
    if "--plot" in arguments:
        pytest.importorskip("matplotlib")
    with pytest.raises(SystemExit) as exit_:
        main(arguments)
    assert exit_.value.code == 2
    assert one_error_line(capsys) == f"python -m reference: error: {message} (--help lists the options)"


@pytest.mark.parametrize("lr", ["nan", "1", "-1e-5", "2e-4"])
def test_a_learning_rate_that_diverges_is_refused_as_the_problems_fault(lr: str, capsys: Capsys) -> None:
    assert main([f"--lr={lr}"]) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"error: --lr {float(lr):g}: gradient descent on the notebook converges only for 0 < lr")


def test_the_torch_hint_names_the_cpu_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    with pytest.raises(ReferenceUnavailableError, match=r"--index-url https://download\.pytorch\.org/whl/cpu"):
        load_torch("cpu")


def test_the_notebook_example_without_torch_says_so_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "torch.py").write_text("raise ImportError('No module named torch')\n")  # hides the real torch
    run = subprocess.run(
        [sys.executable, str(KIT / "examples" / "notebook.py"), "--torch"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{tmp_path}:{KIT}", "PATH": ""},
    )
    assert run.returncode == 2 and run.stdout == "", run.stdout
    assert run.stderr.splitlines() == [
        "error: --torch needs torch: pip install torch --index-url https://download.pytorch.org/whl/cpu"
    ]


def test_a_closed_pipe_is_quiet() -> None:
    run = subprocess.run(
        f"{sys.executable} -m reference --steps 3 --every 1 | head -1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=KIT,
    )
    assert run.stderr == "" and run.stdout.startswith("minigrad against the torch reference"), run.stderr


# ---------------------------------------------------------------- plots
def test_cli_plots_into_a_folder_and_says_which_file(tmp_path: Path, capsys: Capsys) -> None:
    pytest.importorskip("matplotlib")
    assert main(["--steps", "20", "--plot", str(tmp_path)]) == 0
    written = tmp_path / "parity.png"
    assert written.stat().st_size > 0 and f"wrote {written}\n" in capsys.readouterr().out


# ---------------------------------------------------------------- sweeps
def test_cli_sweeps_random_problems_with_progress_off_a_terminal(capsys: Capsys) -> None:
    assert main(["--sweep", "10", "--steps", "20", "--seed", "3"]) == 0
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert out[0].startswith("minigrad against the torch reference on cpu: 10 random problems (1-64 samples")
    assert "1 to 20 steps each, float32, lockstep, seed 3" in out[0]
    assert out[-1].startswith("10 of 10 random problems pass (float32, lockstep, ")
    milestones = captured.err.splitlines()  # pytest's stderr is not a terminal: a line per 10% still shows
    assert [line.split(" problems")[0] for line in milestones] == [f"sweep: {i} of 10" for i in range(1, 11)]
    assert milestones[-1].split(", ")[0] == "sweep: 10 of 10 problems checked"


def test_cli_sweep_names_each_problem_a_seeded_bug_fails(monkeypatch: pytest.MonkeyPatch, capsys: Capsys) -> None:
    wrong_sign = next(bug for bug in SEEDED_BUGS if bug.name.startswith("wrong sign"))
    monkeypatch.setitem(sys.modules, "wrong_sign", wrong_sign.engine())
    assert main(["--engine", "wrong_sign", "--sweep", "4", "--steps", "5", "--mode", "free"]) == 1
    lines = capsys.readouterr().out.splitlines()
    failures = [line for line in lines if line.startswith("FAIL problem")]
    assert len(failures) == 4 and all("w.grad" in line or "b.grad" in line for line in failures), failures
    assert any(line.startswith("0 of 4 random problems pass") for line in lines)
    assert "  - (backward, b): a - b: the gradient reaching b should be −grad; yours is +grad" in "\n".join(lines)
    assert lines[-1] == "FAIL: 4 of 4 random problems fail"


def test_a_sweep_with_a_contract_failure_ends_with_a_fail_line(monkeypatch: pytest.MonkeyPatch, capsys: Capsys) -> None:
    averaged = next(bug for bug in SEEDED_BUGS if bug.name.startswith("bias gradient averaged"))
    monkeypatch.setitem(sys.modules, "averaging", averaged.engine())
    assert main(["--engine", "averaging", "--sweep", "2", "--steps", "3"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == (
        "FAIL: averaging breaks the contract: the gradient of a broadcast bias is summed over the batch"
    )


def test_ctrl_c_during_a_sweep_prints_what_finished_and_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    calls = 0

    def interrupted_on_the_third(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt
        return check_parity(*args, **kwargs)  # reference.parity's, which the CLI imported

    monkeypatch.setattr(cli, "check_parity", interrupted_on_the_third)
    assert main(["--sweep", "5", "--steps", "3"]) == 130
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("interrupted after 2 of 5 problems: 2 of 2 random problems pass"), last


def test_a_failing_runs_plot_says_fail_and_marks_the_step() -> None:
    pytest.importorskip("matplotlib")
    loss_off = next(bug for bug in SEEDED_BUGS if bug.name.startswith("loss off"))
    report = check_parity(loss_off.engine(), Problem.notebook(steps=30), "float32", "free", name="loss_off")
    losses, ratios = cli.figure(report).axes
    assert losses.get_title() == "FAIL at step 0: loss per step, loss_off and torch, float32, free"
    marked = [line for line in ratios.get_lines() if line.get_color() == "red"]
    assert [list(line.get_xdata()) for line in marked] == [[0, 0], [0]]  # the step's line and the failure's ring


def test_a_passing_runs_plot_shows_exact_zeros() -> None:
    pytest.importorskip("matplotlib")
    report = check_parity(minigrad, Problem.notebook(steps=30), "float64", "free")
    losses, ratios = cli.figure(report).axes
    assert losses.get_title().startswith("PASS (the curves coincide)")
    assert ratios.get_yscale() == "symlog" and ratios.get_ylim()[0] == 0  # a ratio of exactly 0 is on the axis
    assert any(0 in line.get_ydata() for line in ratios.get_lines())


def test_ctrl_c_during_the_notebook_exits_130_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "check_parity", interrupted)
    assert main(["--steps", "3"]) == 130
    assert capsys.readouterr().err == "\ninterrupted\n"
