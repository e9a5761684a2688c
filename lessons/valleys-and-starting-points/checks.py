"""Checks for "Valleys and starting points": random restarts keep the lowest end point."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from app.kernel.checks import (
    Mistakes,
    Verdict,
    check,
    define_first,
    expression,
    learner_function,
    number,
)


def _walk(grad: Callable[..., Any], start: float, rate: float, steps: int) -> float:
    w = float(start)
    for _ in range(steps):
        w = w - rate * float(grad(w=w))
    return w


def _restart_slip(
    mistakes: Mistakes,
    got: float,
    starts: list[float],
    ends: list[float],
    heights: list[float],
    tol: float,
) -> str | None:
    """The message for a known wrong pick among the walks' starts and ends."""
    best = ends[int(np.argmin(heights))]
    return mistakes.first(
        {
            "start_point": lambda: any(abs(got - s) <= 1e-9 for s in starts),
            "highest": lambda: abs(got - ends[int(np.argmax(heights))]) <= tol,
            "loss_not_w": lambda: abs(got - min(heights)) <= 1e-6,
            "not_lowest": lambda: any(abs(got - e) <= tol for e in ends),
        },
        starts=", ".join(f"{s:g}" for s in starts),
        got=got,
        best=best,
        lowest=min(heights),
    )


@check("best_restart", mistakes=("start_point", "highest", "loss_not_w", "not_lowest"))
def best_restart(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's best_of(starts) walks down from every start and returns the end point with
    the lowest loss.

    params: function (best_of), loss and gradient (formulas in w), rate, steps (for the
    reference walks), trials (lists of starts), tolerance on w (0.02). Message fields: starts,
    got, best (the w where the best walk ends), lowest (the loss there).
    """
    name = str(params.get("function", "best_of"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "starts")
    loss, grad = expression(str(params["loss"])), expression(str(params["gradient"]))
    rate, steps = float(params.get("rate", 0.05)), int(params.get("steps", 300))
    tol = float(params.get("tolerance", 0.02))
    for trial in params["trials"]:
        starts = [float(s) for s in trial]
        value = fn(list(starts))
        got = number(value)
        if got is None:
            return False, (
                f"`{name}` returned {type(value).__name__} {value!r:.60}; it should return one "
                "number: the w where the best walk ended."
            )
        ends = [_walk(grad, s, rate, steps) for s in starts]
        heights = [float(loss(w=e)) for e in ends]
        best = ends[int(np.argmin(heights))]
        if abs(got - best) <= tol:
            continue
        slip = _restart_slip(Mistakes(params), got, starts, ends, heights, tol)
        return False, slip or (
            f"For starts [{', '.join(f'{s:g}' for s in starts)}] you returned {got:.4g}, but the "
            f"lowest valley reached from them lies at w = {best:.3f}."
        )
    return True, (
        "Correct: several starts, one walk each, keep the lowest end. That is random restarts, a "
        "cheap way to escape the valley a single start happens to fall into."
    )
