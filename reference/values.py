"""The values one step of the notebook's loop computes, by quantity; shared by traces, exact values and bounds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

import numpy.typing as npt

Array = npt.NDArray[Any]

QUANTITIES = ("predictions", "loss", "w.grad", "b.grad", "w", "b")  # in the order a step computes them


@dataclass(frozen=True)
class StepValues:
    """What one step computes, for each quantity; arrays stacked over steps carry a leading step axis."""

    predictions: Array
    loss: Array
    w_grad: Array
    b_grad: Array
    w: Array  # after the update
    b: Array

    def items(self) -> Iterator[tuple[str, Array]]:
        """(quantity name as the notebook writes it, values), in QUANTITIES order."""
        for name, field in zip(QUANTITIES, fields(StepValues), strict=True):
            yield name, getattr(self, field.name)

    def __getitem__(self, quantity: str) -> Array:
        return dict(self.items())[quantity]

    def __add__(self, other: StepValues) -> StepValues:
        return StepValues(*(mine + theirs for (_, mine), (_, theirs) in zip(self.items(), other.items(), strict=True)))
