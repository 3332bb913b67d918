"""PyTorch's tensor ``repr`` text, reproduced with numpy only.

This mirrors ``torch/_tensor_str.py`` (torch 2.13) under its default print options, for dense CPU tensors
of dtype float32, float64 and int64. minigrad prints torch's exact text (``tensor(...)``,
``dtype=torch.float64``) so that a notebook shows the same output with either library.
"""

import math

import numpy as np
import numpy.typing as npt

PRECISION = 4  # digits after the point
THRESHOLD = 1000  # more elements than this are summarised with "..."
EDGEITEMS = 3  # items kept at each end of every summarised dimension
LINEWIDTH = 80

_PREFIX = "tensor("
_INDENT = len(_PREFIX)
_SUPPORTED = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64))


class _Formatter:
    """One number format (mode and width) shared by every element of a tensor, as torch's ``_Formatter``."""

    def __init__(self, shown: npt.NDArray[np.generic]) -> None:
        self.is_float = shown.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        if not self.is_float:
            self.width = max(len(str(v)) for v in shown.ravel().tolist())
            return
        # Only non-zero finite values decide the format; zeros, nan and inf never widen a column either.
        values = shown[np.isfinite(shown) & (shown != 0)].astype(np.float64)
        self.width = 1
        if values.size == 0:
            return
        magnitudes = np.abs(values)
        low, high = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(values == np.ceil(values)))
        self.sci_mode = high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4
        # The trailing "." of integer mode counts towards the width (sci mode prints no dot).
        dot = int(self.int_mode and not self.sci_mode)
        self.width = max(len(self._text(v)) + dot for v in values.tolist())

    def _text(self, value: float) -> str:
        if self.sci_mode:
            return f"{value:.{PRECISION}e}"
        return f"{value:.0f}" if self.int_mode else f"{value:.{PRECISION}f}"

    def format(self, value: float) -> str:
        if not self.is_float:
            text = str(value)
        else:
            text = self._text(float(value))
            # The dot marks a float tensor; nan and inf already read as floats.
            if self.int_mode and not self.sci_mode and math.isfinite(value):
                text += "."
        return text.rjust(self.width)


def _shown(size: int, summarise: bool) -> list[int | None]:
    """Indices torch prints along one dimension; None marks where "..." stands in for the rest."""
    if summarise and size > 2 * EDGEITEMS:
        return [*range(EDGEITEMS), None, *range(size - EDGEITEMS, size)]
    return list(range(size))


def _edges(array: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """The elements a summarised print shows: torch picks the format from these alone."""
    for axis, size in enumerate(array.shape):
        array = np.take(array, [i for i in _shown(size, True) if i is not None], axis=axis)
    return array


def _vector(array: npt.NDArray[np.generic], indent: int, summarise: bool, formatter: _Formatter) -> str:
    shown = _shown(len(array), summarise)
    items = [" ..." if i is None else formatter.format(array[i].item()) for i in shown]
    # The " ..." marker takes a slot like any element when the row is cut into lines.
    per_line = max(1, (LINEWIDTH - indent) // (formatter.width + 2))
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _block(array: npt.NDArray[np.generic], indent: int, summarise: bool, formatter: _Formatter) -> str:
    if array.ndim == 1:
        return _vector(array, indent, summarise, formatter)
    shown = _shown(len(array), summarise)
    blocks = ["..." if i is None else _block(array[i], indent + 1, summarise, formatter) for i in shown]
    # Sub-blocks of a d-dim block are separated by d - 2 blank lines.
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(blocks) + "]"


def _add_suffixes(text: str, suffixes: list[str]) -> str:
    # torch's running length is the last line's length plus 2, except after it has wrapped a suffix.
    line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_len + len(suffix) + 2 > LINEWIDTH:
            text += ",\n" + " " * _INDENT + suffix
            line_len = _INDENT + len(suffix)
        else:
            text += ", " + suffix
            line_len += len(suffix) + 2
    return text + ")"


def tensor_repr(
    array: npt.NDArray[np.generic], *, dtype_name: str | None, grad_fn_name: str | None, requires_grad: bool
) -> str:
    """Text torch prints for a CPU tensor holding `array`.

    dtype_name: e.g. "torch.float64", or None when it is a default dtype (not printed).
    """
    if array.dtype not in _SUPPORTED:
        raise TypeError(f"cannot print an array of dtype {array.dtype}")
    suffixes = []
    if array.size == 0:
        body = "[]"
        if array.ndim != 1:
            suffixes.append(f"size={array.shape}")
        # No values hint at the dtype, so torch names every dtype but float32, int64 included.
        if array.dtype != np.float32:
            dtype_name = f"torch.{array.dtype}"
    else:
        summarise = array.size > THRESHOLD
        formatter = _Formatter(_edges(array) if summarise else array)
        body = formatter.format(array.item()) if array.ndim == 0 else _block(array, _INDENT, summarise, formatter)
    if dtype_name is not None:
        suffixes.append(f"dtype={dtype_name}")
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(_PREFIX + body, suffixes)
