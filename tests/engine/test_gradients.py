from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from app.engine.gradients import autograd_gradient, central_difference, relative_error

Loss = Callable[[Any, Any], Any]
Gradient = Callable[[float, float], np.ndarray]


def test_central_difference_matches_the_analytic_line_fit_gradient(
    loss: Loss, gradient: Gradient
) -> None:
    for point in [(0.0, 0.0), (0.6, 0.2), (-1.5, 3.0)]:
        assert relative_error(central_difference(loss, point), gradient(*point)) < 1e-8


def test_autograd_gradient_matches_the_analytic_line_fit_gradient(
    loss: Loss, gradient: Gradient
) -> None:
    for point in [(0.0, 0.0), (0.6, 0.2), (-1.5, 3.0)]:
        grad = autograd_gradient(loss, point)
        assert grad is not None
        assert grad.dtype == np.float64
        np.testing.assert_allclose(grad, gradient(*point), rtol=1e-12, atol=1e-12)


def test_autograd_gradient_is_none_for_a_function_using_math_exp() -> None:
    assert autograd_gradient(lambda w, b: math.exp(w) + b, (0.5, 1.0)) is None
    assert autograd_gradient(lambda w, b: math.exp(w * b), (0.5, 1.0)) is None


def test_autograd_gradient_is_none_for_a_function_using_numpy() -> None:
    assert autograd_gradient(lambda w, b: np.exp(w) + b, (0.5, 1.0)) is None


def test_autograd_gradient_is_none_when_the_graph_is_cut() -> None:
    assert autograd_gradient(lambda w, b: torch.tensor(float(w.detach()) * 2), (0.5, 1.0)) is None


def test_autograd_gradient_is_none_when_the_function_raises() -> None:
    def broken(w: Any, b: Any) -> Any:
        raise KeyError("oops")

    assert autograd_gradient(broken, (0.5, 1.0)) is None


def test_autograd_gradient_is_none_when_item_cuts_a_parameter_off() -> None:
    assert autograd_gradient(lambda w, b: w.item() * b, (0.5, 1.0)) is None


def test_autograd_gradient_is_none_when_float_cuts_part_of_the_graph() -> None:
    assert autograd_gradient(lambda w, b: w * float(w) + b, (0.5, 1.0)) is None


def test_relative_error_is_scale_free_and_zero_for_two_zero_vectors() -> None:
    assert relative_error([1.0, 0.0], [1.1, 0.0]) == pytest.approx(
        relative_error([1e6, 0.0], [1.1e6, 0.0])
    )
    assert relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert math.isclose(relative_error([3.0, 4.0], [0.0, 0.0]), 1.0)
