"""Checks for "A model in code": a prediction of what a call will print, made before the Run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.kernel.checks import Mistakes, Verdict, check, expression, number, set_first


@check("predicted_number", mistakes=("no_bias", "swapped"), expressions=True)
def predicted_number(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `variable` (prediction) equals `answer`, a formula of `inputs` (within
    `tolerance`, 1e-6). Mistakes: formulas of the inputs, or no_bias (w * x), swapped
    (b * x + w: the weight and the bias exchanged)."""
    name = str(params.get("variable", "prediction"))
    got = number(ns.get(name))
    if got is None:
        return set_first(name)
    inputs = {str(k): float(v) for k, v in params["inputs"].items()}
    want = float(expression(str(params["answer"]))(**inputs))
    tol = float(params.get("tolerance", 1e-6))
    if abs(got - want) <= tol * max(1.0, abs(want)):
        return True, f"Right: {want:g}. Now press Run and see the cell agree."
    x, w, b = inputs.get("x", 0.0), inputs.get("w", 0.0), inputs.get("b", 0.0)
    known = {"no_bias": w * x, "swapped": b * x + w}
    for when, message in Mistakes(params).declared:
        value = known[when] if when in known else float(expression(when)(**inputs))
        if abs(got - value) <= tol * max(1.0, abs(value)):
            return False, message
    return False, (
        f"Not quite: you predicted {got:g}. Work it out step by step: the weight times x, plus "
        "the bias."
    )
