"""Small optimizers on float64 numpy vectors, step for step the same as torch.optim.

Exercise checks compare a learner's optimizer with these, step by step (the check toolkit
exports them as references). Doing it in numpy keeps each step cheap and readable, and matching
torch.optim exactly (tests compare them) means the reference is what torch would do with the
same settings.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class Optimizer(ABC):
    """One update rule; it remembers what it needs between steps until `reset`."""

    @abstractmethod
    def step(self, params: FloatArray, grad: FloatArray) -> FloatArray:
        """The parameters after one update from `grad`; `params` itself is left unchanged."""

    @abstractmethod
    def reset(self) -> None:
        """Forget all state, as a freshly built optimizer."""


@dataclass(eq=False)
class SGD(Optimizer):
    """Plain gradient descent: p ← p − lr · g."""

    lr: float

    def __post_init__(self) -> None:
        _check_lr(self.lr)

    def step(self, params: FloatArray, grad: FloatArray) -> FloatArray:
        p, g = _vectors(params, grad)
        return p - self.lr * g

    def reset(self) -> None:
        """SGD keeps no state, so there is nothing to forget."""


@dataclass(eq=False)
class Momentum(Optimizer):
    """torch.optim.SGD with momentum: v ← β v + g, p ← p − lr · v (no dampening, no Nesterov)."""

    lr: float
    beta: float = 0.9
    _velocity: FloatArray | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        _check_lr(self.lr)
        _check_unit("beta", self.beta)

    def step(self, params: FloatArray, grad: FloatArray) -> FloatArray:
        p, g = _vectors(params, grad)
        previous = _state(self._velocity, p)
        self._velocity = self.beta * previous + g
        return p - self.lr * self._velocity

    def reset(self) -> None:
        self._velocity = None


@dataclass(eq=False)
class Adam(Optimizer):
    """torch.optim.Adam: moving averages of g and g², corrected for their start at zero."""

    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    _mean: FloatArray | None = field(default=None, init=False, repr=False)
    _square_avg: FloatArray | None = field(default=None, init=False, repr=False)
    _t: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        _check_lr(self.lr)
        _check_unit("betas[0]", self.betas[0])
        _check_unit("betas[1]", self.betas[1])
        _check_eps(self.eps)

    def step(self, params: FloatArray, grad: FloatArray) -> FloatArray:
        p, g = _vectors(params, grad)
        beta1, beta2 = self.betas
        self._mean = beta1 * _state(self._mean, p) + (1 - beta1) * g
        self._square_avg = beta2 * _state(self._square_avg, p) + (1 - beta2) * g * g
        self._t += 1
        # Same order of operations as torch's single-tensor Adam, so results agree to rounding.
        step_size = self.lr / (1 - beta1**self._t)
        denom = np.sqrt(self._square_avg) / math.sqrt(1 - beta2**self._t) + self.eps
        return p - step_size * (self._mean / denom)

    def reset(self) -> None:
        self._mean = None
        self._square_avg = None
        self._t = 0


def descend(
    grad_fn: Callable[[FloatArray], npt.ArrayLike],
    start: npt.ArrayLike,
    optimizer: Optimizer,
    steps: int,
) -> FloatArray:
    """The path from `start` over `steps` updates, one row per point: shape (steps + 1, dim).

    The optimizer is reset first, so each path starts fresh. A path that blows up (a parameter
    becomes inf or NaN) ends at its last finite point, so it is shorter than steps + 1 rows.
    """
    if steps < 0:
        raise ValueError(f"steps must be 0 or more, got {steps}")
    params = np.array(start, dtype=np.float64)
    if params.ndim != 1 or not np.all(np.isfinite(params)):
        raise ValueError(f"start must be a vector of finite numbers, got {params!r}")
    optimizer.reset()
    path = np.empty((steps + 1, params.size), dtype=np.float64)
    path[0] = params
    with np.errstate(all="ignore"):  # overflow is expected here; the short path reports it
        for t in range(1, steps + 1):
            params = optimizer.step(params, np.asarray(grad_fn(params), dtype=np.float64))
            if not np.all(np.isfinite(params)):
                return path[:t]
            path[t] = params
    return path


def _vectors(params: FloatArray, grad: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Both as float64 arrays of one shape, so a mismatch fails here and not inside numpy."""
    p = np.asarray(params, dtype=np.float64)
    g = np.asarray(grad, dtype=np.float64)
    if p.shape != g.shape:
        raise ValueError(f"gradient shape {g.shape} does not match parameter shape {p.shape}")
    return p, g


def _state(state: FloatArray | None, params: FloatArray) -> FloatArray:
    """A running average, starting at zero as torch's do."""
    if state is None:
        return np.zeros_like(params)
    if state.shape != params.shape:
        raise ValueError(
            f"parameters changed shape from {state.shape} to {params.shape}; call reset() first"
        )
    return state


def _check_lr(lr: float) -> None:
    if lr < 0:
        raise ValueError(f"learning rate must be 0 or more, got {lr}")


def _check_unit(name: str, value: float) -> None:
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value}")


def _check_eps(eps: float) -> None:
    if eps < 0:
        raise ValueError(f"eps must be 0 or more, got {eps}")
