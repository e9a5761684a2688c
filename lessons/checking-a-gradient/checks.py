"""Checks for "Checking a gradient": the central difference, one parameter at a time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from app.kernel.checks import (
    Mistakes,
    Verdict,
    central_difference,
    check,
    close,
    define_first,
    learner_function,
    numbers,
    shown,
    signature_problem,
)

FORMULAS = ("forward", "backward", "no_half", "precedence", "together", "flipped")


def _probe_functions() -> list[tuple[Callable[[Any], float], list[float]]]:
    """Test functions of a parameter list, curved enough that forward and central differences
    disagree clearly at h = 1e-3, with points to try them at."""

    def cubic(p: Any) -> float:
        return float(p[0] ** 3 + 2 * p[0] * p[1] + np.sin(3 * p[1]))

    def three(p: Any) -> float:
        return float(np.exp(0.7 * p[0]) + p[1] ** 2 * p[2] - np.cos(2 * p[2]))

    return [(cubic, [1.3, -0.4]), (cubic, [-0.8, 2.1]), (three, [0.5, -1.2, 0.9])]


def _differences(f: Callable[[Any], float], point: list[float], h: float) -> dict[str, np.ndarray]:
    """Every formula a learner might have written, one slope per parameter."""
    base = f(list(point))
    out: dict[str, list[float]] = {k: [] for k in ("forward", "backward", "no_half", "precedence")}
    for i in range(len(point)):
        ahead, behind = list(point), list(point)
        ahead[i] += h
        behind[i] -= h
        fa, fb = f(ahead), f(behind)
        out["forward"].append((fa - base) / h)
        out["backward"].append((base - fb) / h)
        out["no_half"].append((fa - fb) / h)
        out["precedence"].append((fa - fb) / 2 * h)
    result = {k: np.array(v) for k, v in out.items()}
    result["central"] = central_difference(lambda *p: f(list(p)), point, h)
    together = (f([p + h for p in point]) - f([p - h for p in point])) / (2 * h)
    result["together"] = np.full(len(point), together)
    result["flipped"] = -result["central"]
    return result


def _which_formula(
    mistakes: Mistakes, got: np.ndarray, formulas: dict[str, np.ndarray]
) -> str | None:
    """The message of the first wrong formula the learner's slopes follow."""

    def follows(key: str) -> Callable[[], bool]:
        return lambda: close(got, formulas[key], 1e-6)

    return mistakes.first({key: follows(key) for key in FORMULAS})


@check("central_difference", mistakes=FORMULAS)
def central_difference_check(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's numerical_gradient(f, params, h) gives the central difference
    (f(p + h e_i) - f(p - h e_i)) / 2h for each parameter i, one at a time."""
    name = str(params.get("function", "numerical_gradient"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "f", "params", "h")
    problem = signature_problem(fn, name, "f", "params", "h")
    if problem:
        return problem
    h = float(params.get("h", 1e-3))
    for f, point in _probe_functions():
        given = list(point)
        value = fn(f, given, h)
        got = numbers(value, len(point))
        if got is None:
            return False, (
                f"`{name}` should return one slope per parameter ({len(point)} numbers for "
                f"{len(point)} parameters); it returned {shown(value)}."
            )
        if not close(given, point, 1e-12):
            return False, (
                f"`{name}` changed the list of parameters it was given (from {point} to "
                f"{given}). Nudge a copy, e.g. `ahead = list(params)`, so the caller's values "
                "stay put and the next parameter starts from the right place."
            )
        formulas = _differences(f, point, h)
        if close(got, formulas["central"], 1e-6):
            continue
        slip = _which_formula(Mistakes(params), got, formulas)
        return False, slip or (
            f"Not yet: at params = {point} with h = {h:g} you returned "
            f"{np.round(got, 6).tolist()}, but the central differences are "
            f"{np.round(formulas['central'], 6).tolist()}."
        )
    return True, (
        "Correct: one parameter at a time, a step each way, divided by 2h. It costs two "
        "evaluations of f per parameter: fine for checking, far too slow for training."
    )
