from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from app.engine.optimizers import (
    SGD,
    Adam,
    Momentum,
    Optimizer,
    descend,
)

Loss = Callable[[Any, Any], Any]
Gradient = Callable[[float, float], np.ndarray]
START = (-0.5, 2.0)
STEPS = 20


def ours_path(optimizer: Optimizer, gradient: Gradient) -> np.ndarray:
    return descend(lambda p: gradient(*p), START, optimizer, STEPS)


def torch_path(
    make: Callable[[list[torch.Tensor]], torch.optim.Optimizer], loss: Loss
) -> np.ndarray:
    params = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    optimizer = make([params])
    path = [params.detach().clone()]
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss(params[0], params[1]).backward()
        optimizer.step()
        path.append(params.detach().clone())
    return torch.stack(path).numpy()


def test_sgd_matches_torch_sgd_for_twenty_steps(loss: Loss, gradient: Gradient) -> None:
    np.testing.assert_allclose(
        ours_path(SGD(lr=0.02), gradient),
        torch_path(lambda p: torch.optim.SGD(p, lr=0.02), loss),
        rtol=1e-12,
    )


def test_momentum_matches_torch_sgd_with_momentum_for_twenty_steps(
    loss: Loss, gradient: Gradient
) -> None:
    np.testing.assert_allclose(
        ours_path(Momentum(lr=0.01, beta=0.8), gradient),
        torch_path(lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.8), loss),
        rtol=1e-12,
    )


def test_adam_matches_torch_adam_for_twenty_steps(loss: Loss, gradient: Gradient) -> None:
    np.testing.assert_allclose(
        ours_path(Adam(lr=0.1, betas=(0.8, 0.99)), gradient),
        torch_path(lambda p: torch.optim.Adam(p, lr=0.1, betas=(0.8, 0.99)), loss),
        rtol=1e-12,
    )


def test_step_leaves_the_given_parameters_unchanged() -> None:
    params = np.array([1.0, 2.0])
    Adam(lr=0.1).step(params, np.array([0.5, -0.5]))
    np.testing.assert_array_equal(params, [1.0, 2.0])


def test_reset_makes_an_optimizer_behave_as_new() -> None:
    optimizer = Momentum(lr=0.1)
    params, grad = np.array([1.0]), np.array([1.0])
    first = optimizer.step(params, grad)
    optimizer.step(first, grad)
    optimizer.reset()
    np.testing.assert_array_equal(optimizer.step(params, grad), first)


def test_repr_shows_the_settings_and_not_the_state() -> None:
    optimizer = Adam(lr=0.01)
    optimizer.step(np.zeros(2), np.ones(2))
    assert repr(optimizer) == "Adam(lr=0.01, betas=(0.9, 0.999), eps=1e-08)"
    assert repr(Momentum(lr=0.1)) == "Momentum(lr=0.1, beta=0.9)"


def test_descend_returns_steps_plus_one_points() -> None:
    path = descend(lambda p: 2 * p, [1.0, -1.0], SGD(lr=0.25), 5)
    assert path.shape == (6, 2)
    np.testing.assert_allclose(path[:, 0], 0.5 ** np.arange(6))


def test_descend_stops_at_the_last_finite_point_when_parameters_blow_up() -> None:
    path = descend(lambda p: 1e200 * p, [1.0], SGD(lr=1.0), 10)
    assert path.shape == (2, 1)
    assert np.all(np.isfinite(path))


def test_negative_learning_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="learning rate"):
        SGD(lr=-0.1)
