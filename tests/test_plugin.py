"""The kit's pytest plugin as a learner meets it: a fresh virtualenv with the kit pip-installed from a wheel
(not editable, not on PYTHONPATH), a temporary folder holding only the learner's engine, and

    python -m pytest --pyargs reference --engine myengine

which passes a correct engine, fails a broken copy of it, and stops a copy that lacks a method with a few
lines; the example adapters pass through it too. The virtualenv is built once per test run and shared by
the xdist workers; what the kit's test extra brings (torch...) is installed once into the user's cache and
hard-linked from there (installing torch takes half a minute)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the fresh virtualenv installs the kit's test extra, torch included")
KIT = Path(__file__).resolve().parents[1]
LEARNER_ENGINE = (Path(__file__).with_name("learner_engine.py")).read_text()
PACKAGED = ("pyproject.toml", "README.md", "minigrad", "reference")  # what the wheel is built from
PLUGIN = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs", "reference", "-m", "not slow"]


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command as the learner runs it: the kit reachable only as installed (no PYTHONPATH), no pytest
    settings inherited from this run, and a learner's 80-column terminal rather than a CI job (pytest prints
    its one-line summary of a failure in full under CI or on a wide terminal, repeating the message there)."""
    inherited = {"PYTHONPATH", "CI", "BUILD_NUMBER", "COLUMNS"}
    env = {name: value for name, value in os.environ.items() if name not in inherited and not name.startswith("PYTEST")}
    env["COLUMNS"] = "80"
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def dependencies(wheel: Path) -> Path:
    """A virtualenv holding what `pip install 'minigrad[test]'` brings besides the kit (torch, pytest...),
    kept in the user's cache across runs, keyed by what decides it: installing torch takes half a minute."""
    key = hashlib.sha256(
        "".join([sys.version, *((KIT / name).read_text() for name in ("pyproject.toml", "constraints.txt"))]).encode()
    ).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "minigrad-kit-tests"
    cache.mkdir(parents=True, exist_ok=True)
    venv = cache / f"venv-{key}"
    with locked(cache / "lock"):
        if not venv.exists():
            building = cache / f"building-{key}"
            shutil.rmtree(building, ignore_errors=True)
            check(run([sys.executable, "-m", "venv", str(building)], cwd=cache))
            install = ["-m", "pip", "install", "-q", "-c", str(KIT / "constraints.txt")]
            check(run([str(building / "bin" / "python"), *install, f"minigrad[test] @ {wheel.as_uri()}"], cwd=cache))
            check(run([str(building / "bin" / "python"), "-m", "pip", "uninstall", "-q", "-y", "minigrad"], cwd=cache))
            building.rename(venv)
    return venv


@pytest.fixture(scope="session")
def learner_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh virtualenv (its dependencies hard-linked from the cached one) with the kit
    installed from a wheel of this checkout, as `pip install` installs it."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # one per test run
    venv = shared / "learner-venv"
    python = venv / "bin" / "python"
    with locked(shared / "learner-venv.lock"):
        if not (venv / "ready").exists():
            shutil.rmtree(venv, ignore_errors=True)
            source, wheels = shared / "source", shared / "wheels"
            source.mkdir()
            for part in PACKAGED:  # a copy: building writes build/ and *.egg-info beside the sources
                if (KIT / part).is_dir():
                    shutil.copytree(KIT / part, source / part, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(KIT / part, source / part)
            build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels)]
            check(run([*build, str(source)], cwd=shared))
            wheel = next(wheels.glob("minigrad-*.whl"))
            shutil.copytree(dependencies(wheel), venv, symlinks=True, copy_function=os.link)
            check(run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], cwd=shared))
            check(run([str(python), "-m", "pip", "check"], cwd=shared))  # the wheel's requirements are all met
            (venv / "ready").touch()
    return python


def check(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, f"{' '.join(done.args)}\n{done.stdout}\n{done.stderr}"


def learner_folder(tmp_path: Path, source: str = LEARNER_ENGINE) -> Path:
    """A folder holding only myengine.py."""
    (tmp_path / "myengine.py").write_text(source)
    return tmp_path


def test_the_kit_is_installed_not_borrowed_from_the_checkout(learner_python: Path, tmp_path: Path) -> None:
    done = run([str(learner_python), "-c", "import reference; print(reference.__file__)"], learner_folder(tmp_path))
    assert Path(done.stdout.strip()).is_relative_to(learner_python.parents[1]), done.stdout + done.stderr


def test_the_plugin_passes_a_correct_engine(learner_python: Path, tmp_path: Path) -> None:
    done = run([str(learner_python), *PLUGIN, "--engine", "myengine"], learner_folder(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout.splitlines()[-1] and "failed" not in done.stdout
    cli = run([str(learner_python), "-m", "reference", "--engine", "myengine"], tmp_path)
    assert cli.returncode == 0 and cli.stdout.splitlines()[-1].startswith("PASS: myengine"), cli.stdout + cli.stderr


def test_the_plugin_fails_a_broken_copy_where_it_is_broken(learner_python: Path, tmp_path: Path) -> None:
    right = "unbroadcast(g, self.shape), unbroadcast(-g, b.shape)"
    assert right in LEARNER_ENGINE
    wrong_sign = LEARNER_ENGINE.replace(right, "unbroadcast(g, self.shape), unbroadcast(g, b.shape)")
    # the diagnosis by op fails first (both dtypes), then the first parity test
    done = run(
        [str(learner_python), *PLUGIN, "--engine", "myengine", "--maxfail=3"], learner_folder(tmp_path, wrong_sign)
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "a - b: the gradient reaching b should be −grad; yours is +grad (its sign is flipped)" in done.stdout
    assert "FAIL: myengine at step 0: w.grad[" in done.stdout, done.stdout


def test_a_missing_method_stops_the_run_in_a_few_lines(learner_python: Path, tmp_path: Path) -> None:
    assert "def zero_(self)" in LEARNER_ENGINE
    without_zero = LEARNER_ENGINE.replace("def zero_(self)", "def zero_of_a_typo(self)")
    done = run([str(learner_python), *PLUGIN, "--engine", "myengine"], learner_folder(tmp_path, without_zero))
    lines = done.stdout.splitlines()
    assert done.returncode == 1 and lines[-1].startswith("1 failed, ") and " skipped" in lines[-1], done.stdout
    assert len(lines) <= 12, done.stdout
    assert done.stdout.count("a tensor (myengine.Tensor) has no zero_") == 1, done.stdout


@pytest.mark.parametrize(("adapter", "package"), [("autograd_adapter", "autograd"), ("micrograd_adapter", "micrograd")])
def test_the_example_adapters_pass_through_the_plugin(
    learner_python: Path, tmp_path: Path, adapter: str, package: str
) -> None:
    has_package = run([str(learner_python), "-c", f"import {package}"], tmp_path)
    if has_package.returncode != 0:
        pytest.skip(f"{package} is not installed (the kit's test extra installs it)")
    shutil.copy(KIT / "examples" / "adapters" / f"{adapter}.py", tmp_path)
    # the contract, the notebook in both modes and dtypes, the divergence; the drawn problems take minutes
    # through micrograd's Python scalars (README: "Wrapping an engine that isn't shaped like torch")
    done = run([str(learner_python), *PLUGIN, "-k", "not drawn", "--engine", f"{adapter}:engine"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_checkout_and_the_installed_plugin_register_it_once(learner_python: Path) -> None:
    """In the kit's checkout with the kit installed (CI's editable install), the entry point and the root
    conftest.py name the same plugin: pytest loads it once, and --engine is not added twice. (Collecting
    reference/tests loads the root conftest.py as collecting everything does, without importing every test module.)"""
    collect = ["-m", "pytest", "-p", "no:cacheprovider", "--co", "-q", "--engine", "torch", "reference/tests"]
    done = run([str(learner_python), *collect], KIT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reference/tests/test_contract.py::test_engine_keeps_the_contract[module_attributes]" in done.stdout


def test_an_engine_that_cannot_be_imported_stops_pytest_with_one_line(learner_python: Path, tmp_path: Path) -> None:
    folder = learner_folder(tmp_path, "raise ValueError('no config')\n")
    done = run([str(learner_python), *PLUGIN, "--engine", "myengine"], folder)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert done.stderr.strip() == (
        "ERROR: --engine myengine: importing the engine 'myengine' raised ValueError: no config (myengine.py, line 1)"
    )
