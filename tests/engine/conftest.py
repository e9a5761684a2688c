"""The line-fit problem the lessons start with, shared as an oracle by the engine tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

LINE_DATA = [(1, 0.85), (2, 1.43), (3, 1.92), (4, 2.59), (5, 3.20), (6, 3.82), (7, 4.38), (8, 4.97)]


def line_loss(w: Any, b: Any) -> Any:
    """Mean squared error of y ≈ w x + b; plain arithmetic, so floats, arrays and tensors work."""
    return sum((w * x + b - y) ** 2 for x, y in LINE_DATA) / len(LINE_DATA)


def line_gradient(w: float, b: float) -> np.ndarray:
    """The analytic gradient (∂L/∂w, ∂L/∂b) of `line_loss`."""
    residuals = [(w * x + b - y, x) for x, y in LINE_DATA]
    n = len(LINE_DATA)
    return np.array(
        [2 / n * sum(r * x for r, x in residuals), 2 / n * sum(r for r, _ in residuals)]
    )


@pytest.fixture
def loss() -> Callable[[Any, Any], Any]:
    return line_loss


@pytest.fixture
def gradient() -> Callable[[float, float], np.ndarray]:
    return line_gradient
