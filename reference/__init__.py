"""The torch reference and the parity harness: prove, step by step, that an engine trains like torch.

An engine is any importable module that offers the contract written out in reference/contract.py (torch
offers it as is; so does minigrad). From Python:

    import myengine
    from reference import Problem, check_contract, check_parity

    print([outcome.check.name for outcome in check_contract(myengine) if outcome.problem])
    report = check_parity(myengine, Problem.notebook(), dtype="float32", mode="lockstep")
    print(report.table(every=100))
    print(report.verdict())

or from the shell: `python -m reference --engine myengine` (see reference/__main__.py).
"""

from reference.contract import check_contract
from reference.engines import load_engine
from reference.loop import Problem
from reference.parity import check_parity

__all__ = ["Problem", "check_contract", "check_parity", "load_engine"]
