from __future__ import annotations

import math

import pytest
import torch

from app.engine.schedules import exponential_decay, inverse_time_decay, step_decay


def test_step_decay_halves_the_rate_every_k_epochs() -> None:
    lr = step_decay(0.8, drop=0.5, every=3)
    assert [lr(t) for t in range(7)] == [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2]


def test_exponential_decay_follows_lr0_times_exp_minus_kt() -> None:
    lr = exponential_decay(0.1, 0.3)
    assert lr(0) == 0.1
    assert lr(5) == pytest.approx(0.1 * math.exp(-1.5))


def test_inverse_time_decay_follows_lr0_over_one_plus_kt() -> None:
    lr = inverse_time_decay(0.1, 0.5)
    assert lr(0) == 0.1
    assert lr(4) == pytest.approx(0.1 / 3)


def test_negative_epoch_is_refused() -> None:
    with pytest.raises(ValueError, match="epoch"):
        exponential_decay(0.1, 0.3)(-1)


def torch_rates(make: object, epochs: int = 30) -> list[float]:
    """The rate torch.optim.lr_scheduler gives at each epoch, starting from lr = 0.1."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = make(optimizer)  # type: ignore[operator]
    rates = []
    for _ in range(epochs):
        rates.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    return rates


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (
            step_decay(0.1, drop=0.5, every=4),
            lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.5),
        ),
        (
            exponential_decay(0.1, 0.3),
            lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=math.exp(-0.3)),
        ),
        (
            inverse_time_decay(0.1, 0.5),
            lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + 0.5 * t)),
        ),
    ],
    ids=["step", "exponential", "inverse-time"],
)
def test_schedules_match_torch_lr_schedulers(ours: object, theirs: object) -> None:
    expected = torch_rates(theirs)
    assert [ours(t) for t in range(len(expected))] == pytest.approx(expected, rel=1e-12)  # type: ignore[operator]
