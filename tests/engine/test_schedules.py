from __future__ import annotations

import math

import pytest

from app.engine.schedules import exponential_decay, inverse_time_decay, schedule, step_decay


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


def test_schedule_builds_a_schedule_by_name() -> None:
    assert schedule("step_decay", lr0=1.0, every=2)(4) == 0.25


def test_unknown_schedule_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="exponential_decay, inverse_time_decay, step_decay"):
        schedule("cosine", lr0=1.0)


def test_negative_epoch_is_refused() -> None:
    with pytest.raises(ValueError, match="epoch"):
        exponential_decay(0.1, 0.3)(-1)
