"""The runs behind a `sweep` plot (kernel side): the learner's own update from a start, for one
learning rate or for a whole grid of rates in one pass, and the curvature λ of the learner's
loss (the largest eigenvalue of its Hessian, by central differences) that places the edge 2/λ."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from app.plots.adapt import call_planned, plan_call, returned_parameters
from app.plots.base import PlotError, learner_function, progress_reporter

if TYPE_CHECKING:
    from app.plots.sweep import SweepOptions

HUGE = 1e150
"""A parameter or loss beyond this has blown up (squaring it again would overflow)."""


class Runner:
    """Runs the learner's update from a start, for one rate or for a grid of rates."""

    def __init__(self, ns: dict[str, Any], options: SweepOptions, steps: int) -> None:
        self.ns, self.options, self.steps = ns, options, steps
        self.names = list(options.params)
        self.update = learner_function(ns, options.update)
        self.loss = learner_function(ns, options.loss)
        self.update_plan = plan_call(
            self.update, options.update, [*self.names, options.rate], self.names
        )
        self.loss_plan = plan_call(self.loss, options.loss, self.names, self.names)
        self.deadline = time.monotonic() + options.budget_s

    def start(self) -> list[float]:
        if self.options.start is not None:
            if len(self.options.start) != len(self.names):
                raise PlotError(
                    f"`start` has {len(self.options.start)} numbers for "
                    f"{len(self.names)} parameters ({', '.join(self.names)})."
                )
            return [float(v) for v in self.options.start]
        missing = [n for n in self.names if not is_number(self.ns.get(n))]
        if missing:
            raise PlotError(f"Set {', '.join(f'`{n}`' for n in missing)} to a number first.")
        return [float(self.ns[n]) for n in self.names]

    def loss_at(self, params: list[float] | np.ndarray) -> float:
        values = dict(zip(self.names, (float(p) for p in params), strict=True))
        self.ns.update(values)
        return number_of(call_planned(self.loss, self.loss_plan, values), self.options.loss)

    def _run(self, rate: Any, start: list[Any]) -> list[Any]:
        """The parameters after `steps` updates at `rate` (numbers, or arrays of one per rate)."""
        current = dict(zip(self.names, start, strict=True))
        self.ns.update(current)
        self.ns[self.options.rate] = rate
        passes_params = any(n in self.names for n in self.update_plan[0])
        scalar = not isinstance(rate, np.ndarray)
        for _ in range(self.steps):
            out = call_planned(self.update, self.update_plan, {**current, self.options.rate: rate})
            new = returned_parameters(out, len(self.names)) if passes_params else None
            if new is None:
                new = [self.ns.get(n) for n in self.names]
            current = dict(zip(self.names, new, strict=True))
            self.ns.update(current)
            if scalar and not all(is_number(v) and abs(float(v)) < HUGE for v in new):
                break
        return [current[n] for n in self.names]

    def _final_loss(self, params: list[Any]) -> float:
        if not all(is_number(p) and abs(float(p)) < HUGE for p in params):
            return math.inf
        try:
            value = self.loss_at([float(p) for p in params])
        except (OverflowError, FloatingPointError):
            return math.inf
        return value if math.isfinite(value) and value < HUGE else math.inf

    def sweep(
        self, rates: np.ndarray, start: list[float], vectorise: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """The end parameters (rates × params) and the final losses for every rate."""
        if vectorise and rates.size > 2:
            found = self._vectorised(rates, start)
            if found is not None:
                return found
        ends = np.full((rates.size, len(self.names)), np.nan)
        losses = np.full(rates.size, np.inf)
        report = progress_reporter.get()
        for i, rate in enumerate(rates):
            if time.monotonic() > self.deadline:
                raise PlotError(
                    f"{rates.size} runs of {self.steps} steps took longer than "
                    f"{self.options.budget_s:g} s. Lower `steps` or `points`, or make "
                    f"`{self.options.update}` work on numpy arrays so all rates run at once."
                )
            try:
                with np.errstate(all="ignore"):
                    end = self._run(float(rate), start)
            except (OverflowError, FloatingPointError):
                continue
            losses[i] = self._final_loss(end)
            if math.isfinite(losses[i]):
                ends[i] = [float(p) for p in end]
            if report and i % 8 == 0:
                report(i, rates.size, "learning rates")
        return ends, losses

    def _vectorised(self, rates: np.ndarray, start: list[float]) -> tuple[Any, Any] | None:
        """All rates in one pass, when the learner's code handles numpy arrays the way it
        handles numbers (checked against two rates run one by one); else None."""
        try:
            with np.errstate(all="ignore"):
                end = self._run(rates.copy(), [np.full(rates.size, v) for v in start])
                arrays = [np.asarray(p, dtype=np.float64) for p in end]
                if any(a.shape != rates.shape for a in arrays):
                    return None
                ends = np.stack(arrays, axis=1)
                good = np.all(np.isfinite(ends) & (np.abs(ends) < HUGE), axis=1)
                values = dict(zip(self.names, arrays, strict=True))
                self.ns.update(values)
                raw = np.asarray(call_planned(self.loss, self.loss_plan, values), dtype=np.float64)
            if raw.shape != rates.shape:
                return None
        except Exception:
            return None
        losses = np.where(good & np.isfinite(raw) & (raw < HUGE), raw, np.inf)
        for i in (0, rates.size // 2):
            _, one = self.sweep(rates[i : i + 1], start, vectorise=False)
            if not agree(float(one[0]), float(losses[i])):
                return None
        return np.where(good[:, None], ends, np.nan), losses


def curvature(loss: Callable[[list[float]], float], at: list[float] | np.ndarray) -> float:
    """The largest eigenvalue of the loss's Hessian at `at`, by central differences."""
    p = np.asarray(at, dtype=np.float64)
    n = p.size
    h = 1e-3 * np.maximum(1.0, np.abs(p))
    hess = np.zeros((n, n))
    f0 = loss(list(p))
    for i in range(n):
        for j in range(i, n):
            if i == j:
                e = np.zeros(n)
                e[i] = h[i]
                value = (loss(list(p + e)) - 2 * f0 + loss(list(p - e))) / h[i] ** 2
            else:
                ei, ej = np.zeros(n), np.zeros(n)
                ei[i], ej[j] = h[i], h[j]
                value = (
                    loss(list(p + ei + ej))
                    - loss(list(p + ei - ej))
                    - loss(list(p - ei + ej))
                    + loss(list(p - ei - ej))
                ) / (4 * h[i] * h[j])
            hess[i, j] = hess[j, i] = value
    if not np.all(np.isfinite(hess)):
        raise PlotError("The loss's curvature is not finite at the start; cannot mark 2/λ.")
    return float(np.linalg.eigvalsh(hess).max())


def is_number(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError, OverflowError):
        return False


def number_of(value: Any, name: str) -> float:
    if hasattr(value, "detach"):
        value = value.detach().cpu()
    try:
        return float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        raise PlotError(f"`{name}` should return one number, not {type(value).__name__}.") from None


def agree(a: float, b: float) -> bool:
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.isfinite(a) == math.isfinite(b)
    return abs(a - b) <= 1e-6 * max(1.0, abs(a))
