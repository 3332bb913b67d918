"""The reference: the notebook's loop in torch (reference/loop.py, unchanged), on "cpu" or "cuda".

On CUDA, float32 matmul must be true IEEE fp32, not TF32 (NUMERICS.md §4): TF32 rounds the inputs to 10
mantissa bits, an error about 4000 times the bound of a step. The setting is made and then asserted.
torch is imported here, when the reference runs, so the rest of the kit (and minigrad) works without it.
"""

from __future__ import annotations

import os
from types import ModuleType

from reference.loop import OnStep, Problem, Trace, train

DEVICES = ("cpu", "cuda")
# the CPU-only wheels: PyPI's Linux wheels carry CUDA and weigh several GB
TORCH_CPU_WHEELS = "https://download.pytorch.org/whl/cpu"


class ReferenceUnavailableError(RuntimeError):
    """The reference cannot run as asked (no torch, no GPU, TF32 forced on)."""


def load_torch(device: str) -> ModuleType:
    """torch, ready to compute the reference on `device`, or ReferenceUnavailableError saying why not."""
    if device not in DEVICES:
        raise ReferenceUnavailableError(f"unknown device {device!r}: the reference runs on {' or '.join(DEVICES)}")
    try:
        import torch
    except ImportError as error:
        raise ReferenceUnavailableError(
            f"the reference needs torch ({error}): pip install torch --index-url {TORCH_CPU_WHEELS}"
        ) from error
    if device == "cuda":
        if not torch.cuda.is_available():
            build = f"built with CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
            raise ReferenceUnavailableError(
                f"--device cuda: no CUDA GPU is available (torch {torch.__version__}, {build}); use --device cpu"
            )
        require_ieee_fp32_matmul(torch)
    return torch


def require_ieee_fp32_matmul(torch: ModuleType) -> None:
    """Make CUDA float32 matmul IEEE fp32 (no TF32) and assert it. One API only: mixing the legacy and the
    new setting raises on recent torch."""
    if os.environ.get("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE") == "1":
        raise ReferenceUnavailableError("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1 forces TF32 matmul on CUDA; unset it")
    matmul = torch.backends.cuda.matmul
    if hasattr(matmul, "fp32_precision"):  # torch >= 2.9
        matmul.fp32_precision = "ieee"
        precision = matmul.fp32_precision
    else:
        torch.set_float32_matmul_precision("highest")
        precision = "ieee" if not matmul.allow_tf32 and torch.get_float32_matmul_precision() == "highest" else "tf32"
    if precision != "ieee":
        raise ReferenceUnavailableError(f"CUDA float32 matmul precision is {precision!r} after asking for IEEE fp32")


def train_reference(problem: Problem, dtype: str, device: str = "cpu", on_step: OnStep | None = None) -> Trace:
    """The reference's trace: torch runs the notebook's loop on `device`, following its own trajectory."""
    return train(load_torch(device), problem, dtype, device=device, name="reference", on_step=on_step)
