"""Reference computations for checks, from the app's numerics engine (each tested against torch in
tests/engine): central differences, the optimizers step for step as torch.optim, the learning-rate
schedules and gradient descent along a path. Lesson checks import them from `app.kernel.checks`."""

from app.engine.gradients import central_difference
from app.engine.optimizers import SGD, Adam, Momentum, descend
from app.engine.schedules import exponential_decay, inverse_time_decay, step_decay

__all__ = [
    "SGD",
    "Adam",
    "Momentum",
    "central_difference",
    "descend",
    "exponential_decay",
    "inverse_time_decay",
    "step_decay",
]
