from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pytest
import torch

from app.engine.grid import GridError, evaluate_curve, evaluate_grid

Loss = Callable[[Any, Any], Any]
WS = np.linspace(-1.0, 2.0, 13)
BS = np.linspace(-2.0, 2.0, 9)


def scalar_only(loss: Loss) -> Loss:
    """The same loss, written as beginners often do: it only accepts single numbers."""

    def loss_one_point(w: Any, b: Any) -> float:
        return float(loss(float(w), float(b)))

    return loss_one_point


def test_vectorised_and_loop_give_the_same_grid(loss: Loss) -> None:
    vectorised = evaluate_grid(loss, WS, BS)
    looped = evaluate_grid(scalar_only(loss), WS, BS)
    assert (vectorised.mode, looped.mode) == ("vectorised", "loop")
    assert vectorised.complete and looped.complete
    assert vectorised.z.shape == (len(BS), len(WS))
    assert vectorised.z.dtype == np.float64
    np.testing.assert_allclose(vectorised.z, looped.z, rtol=1e-12)


def test_grid_rows_follow_b_and_columns_follow_w() -> None:
    result = evaluate_grid(lambda w, b: w + 10 * b, WS, BS)
    assert result.z[2, 5] == pytest.approx(WS[5] + 10 * BS[2])


def test_a_torch_tensor_result_counts_as_vectorised() -> None:
    result = evaluate_grid(lambda w, b: torch.as_tensor(w * b), WS, BS)
    assert result.mode == "vectorised"
    np.testing.assert_allclose(result.z, np.outer(BS, WS))


def test_a_constant_number_falls_back_to_the_loop() -> None:
    result = evaluate_grid(lambda w, b: 3, WS, BS)
    assert result.mode == "loop"
    assert np.all(result.z == 3.0)


def test_loop_over_budget_stops_early_and_reports_incomplete() -> None:
    def slow(w: Any, b: Any) -> float:
        time.sleep(0.005)
        return float(w) + float(b)

    fractions: list[float] = []
    result = evaluate_grid(slow, WS, BS, budget_s=0.05, progress=fractions.append)
    assert result.mode == "loop"
    assert not result.complete
    assert np.isfinite(result.z[0, 0])
    assert np.isnan(result.z[-1, -1])
    assert result.seconds < 1.0
    assert len(fractions) <= 20


def test_loop_progress_is_reported_at_most_twenty_times_and_ends_at_one(loss: Loss) -> None:
    fractions: list[float] = []
    evaluate_grid(scalar_only(loss), WS, BS, progress=fractions.append)
    assert 0 < len(fractions) <= 20
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0


def test_a_function_returning_a_string_raises_a_readable_grid_error() -> None:
    def loss(w: Any, b: Any) -> str:
        return "low"

    with pytest.raises(GridError, match=r"^loss\(w, b\) returned a str, expected a number$"):
        evaluate_grid(loss, WS, BS)


def test_a_function_returning_none_hints_at_a_missing_return() -> None:
    def loss(w: Any, b: Any) -> None:
        pass

    with pytest.raises(GridError, match=r"returned None.*return"):
        evaluate_grid(loss, WS, BS)


def test_an_error_inside_the_function_names_the_point() -> None:
    def loss(w: Any, b: Any) -> float:
        return math.log(float(w))

    with pytest.raises(GridError, match=r"loss\(w, b\) failed at w=-1, b=-2: ValueError"):
        evaluate_grid(loss, WS, BS)


def test_non_finite_values_are_kept_for_the_caller() -> None:
    looped = evaluate_grid(lambda w, b: 1 / float(w), [0.0, 1.0], [0.0])
    vectorised = evaluate_grid(lambda w, b: 1 / w, [0.0, 1.0], [0.0])
    assert math.isnan(looped.z[0, 0]) and looped.z[0, 1] == 1.0
    assert math.isinf(vectorised.z[0, 0]) and vectorised.z[0, 1] == 1.0


def test_a_partial_keeps_the_learner_function_name_in_messages() -> None:
    def loss(w: Any, b: Any, scale: float) -> list[float]:
        return [scale]

    with pytest.raises(GridError, match=r"^loss\(w, b\) returned a list"):
        evaluate_grid(partial(loss, scale=2.0), WS, BS)


def test_curve_is_vectorised_when_the_function_broadcasts() -> None:
    xs = np.linspace(0, 1, 5)
    ys, mode = evaluate_curve(lambda x, w, b: w * x + b, xs, w=2.0, b=1.0)
    assert mode == "vectorised"
    np.testing.assert_allclose(ys, 2 * xs + 1)


def test_curve_repeats_a_constant_number() -> None:
    ys, mode = evaluate_curve(lambda x, b: b, np.arange(4.0), b=1.5)
    assert mode == "vectorised"
    np.testing.assert_array_equal(ys, [1.5] * 4)


def test_curve_falls_back_to_a_loop_for_math_functions() -> None:
    xs = np.linspace(-2, 2, 7)
    ys, mode = evaluate_curve(lambda x, k: 1 / (1 + math.exp(-k * x)), xs, k=3.0)
    assert mode == "loop"
    np.testing.assert_allclose(ys, 1 / (1 + np.exp(-3 * xs)))


def test_curve_error_names_the_parameters() -> None:
    def y(x: Any, w: float) -> str:
        return "no"

    with pytest.raises(GridError, match=r"^y\(x, w\) returned a str, expected a number$"):
        evaluate_curve(y, [0.0, 1.0], w=1.0)
