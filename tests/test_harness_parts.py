"""Parts of the harness that need no torch: problems and the CLI's progress display."""

from __future__ import annotations

import sys

import pytest

from reference.__main__ import Progress
from reference.loop import NOTEBOOK_INPUTS, NOTEBOOK_TARGETS, Problem


def test_a_problem_with_inconsistent_shapes_is_refused() -> None:
    with pytest.raises(ValueError, match="targets has shape"):
        Problem.from_data(NOTEBOOK_INPUTS, NOTEBOOK_TARGETS[:4], seed=0, lr=1e-5, steps=1)


def test_progress_shows_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    Progress()("torch (reference)", 900, 900)
    assert capsys.readouterr().err == ""  # pytest's stderr is not a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    progress = Progress()
    progress("minigrad", 450, 900)
    progress("minigrad", 451, 900)  # within a tenth of a second: not redrawn
    progress("minigrad", 900, 900)  # the last step always is
    progress.clear()
    assert capsys.readouterr().err == "\r\033[Kminigrad: 450/900\r\033[Kminigrad: 900/900\r\033[K"
