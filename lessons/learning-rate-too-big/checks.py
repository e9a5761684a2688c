"""Checks for "A learning rate too big": the stability limit 2 / curvature."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.kernel.checks import (
    Mistakes,
    Verdict,
    check,
    compare_calls,
    define_first,
    learner_function,
    signature_problem,
)


def _bowl_end(rate: float, curvature: float = 2.0, steps: int = 50) -> float:
    """How far from the bottom `steps` steps at `rate` end on the bowl curvature / 2 * w**2."""
    w = 1.0
    for _ in range(steps):
        w -= rate * curvature * w
    return abs(w)


@check("stability_limit", mistakes=("exact_landing", "upside_down", "times", "quarter", "constant"))
def stability_limit(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's largest_rate(curvature) is 2 / curvature, the edge between settling and
    blowing up on a bowl L(w) = curvature / 2 * w**2 (params: function, curvatures)."""
    name = str(params.get("function", "largest_rate"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "curvature")
    problem = signature_problem(fn, name, "curvature")
    if problem:
        return problem
    inputs = [{"c": float(c)} for c in params.get("curvatures", [0.5, 2.0, 4.0, 10.0, 20.25])]
    known = {
        "exact_landing": lambda c: 1 / c,
        "upside_down": lambda c: c / 2,
        "times": lambda c: 2 * c,
        "quarter": lambda c: 1 / (2 * c),
        "constant": lambda c: 2.0,
    }
    mistakes = Mistakes(params).candidates(known)
    ok, message = compare_calls(
        fn, name, inputs, lambda c: 2 / c, mistakes, 1e-9, names=["curvature"]
    )
    if not ok:
        return False, message
    limit = float(fn(2.0))
    below, above = _bowl_end(0.95 * limit), _bowl_end(1.05 * limit)
    return True, (
        f"Correct: the limit is 2 / curvature. On a bowl of curvature 2, 50 steps at 0.95 x "
        f"{limit:g} end {below:.2g} from the bottom; at 1.05 x {limit:g} they end {above:.3g} away."
    )
