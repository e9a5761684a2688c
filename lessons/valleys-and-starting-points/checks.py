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
    fill,
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


def _choice(value: Any, choices: list[Any]) -> Any:
    """The choice `value` names (text compared without case or spaces), or None."""
    for c in choices:
        if isinstance(c, str) and isinstance(value, str):
            if value.strip().lower() == c.lower():
                return c
        elif type(value) is type(c) and value == c:
            return c
    return None


@check("prediction", mistakes=("wrong",))
def prediction(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """A prediction written down before a run: the variable `variable` set to one of `choices`,
    against `truth`, a formula over the page's names that computes the right choice from the
    lesson's own code (params: variable, choices, truth, right). Mistakes: wrong (field:
    answer, the right choice)."""
    name = str(params.get("variable", "prediction"))
    choices = list(params.get("choices", ()))
    said = _choice(ns.get(name), choices)
    if said is None:
        listed = " or ".join(f'"{c}"' if isinstance(c, str) else repr(c) for c in choices)
        return False, f"Set `{name}` to {listed}, press Run, then check."
    truth = _choice(expression(str(params["truth"]), ns)(), choices)
    if said == truth:
        right = str(params.get("right", "Right: the run agrees with your prediction."))
        return True, fill(right, answer=truth)
    wrong = Mistakes(params).message("wrong", answer=truth)
    return False, wrong or f"Not this time: the run says {truth!r}."
