"""Learning-rate schedules: the rate to use at epoch t, as plain functions (the references of
the schedule checks; tests compare them with torch.optim.lr_scheduler)."""

from __future__ import annotations

import math
from collections.abc import Callable

Schedule = Callable[[int], float]


def step_decay(lr0: float, drop: float = 0.5, every: int = 10) -> Schedule:
    """lr0 · drop^⌊t / every⌋: the rate falls by a factor `drop` once every `every` epochs."""
    if every < 1:
        raise ValueError(f"every must be at least 1 epoch, got {every}")
    return lambda t: lr0 * drop ** (_epoch(t) // every)


def exponential_decay(lr0: float, k: float) -> Schedule:
    """lr0 · e^(−k t): a smooth fall by the same fraction each epoch."""
    return lambda t: lr0 * math.exp(-k * _epoch(t))


def inverse_time_decay(lr0: float, k: float) -> Schedule:
    """lr0 / (1 + k t): falls fast at first, then slowly, never reaching zero."""
    return lambda t: lr0 / (1 + k * _epoch(t))


def _epoch(t: int) -> int:
    """Epochs count from 0; a negative one is a caller's mistake, not a larger rate."""
    if t < 0:
        raise ValueError(f"epoch must be 0 or more, got {t}")
    return t
