"""Checks for "One dimension": one step of gradient descent, w - learning_rate * dL(w)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from app.kernel.checks import (
    Mistakes,
    Verdict,
    check,
    compare_calls,
    define_first,
    expression,
    fill,
    learner_function,
    signature_problem,
)


@check(
    "gradient_step",
    mistakes=(
        "uphill",
        "no_rate",
        "step_size",
        "step_only",
        "slope",
        "height",
        "rate_only",
        "unchanged",
    ),
    expressions=True,
)
def gradient_step(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's step(w, learning_rate) returns w - learning_rate * dL/dw.

    params: function (step), gradient and loss (formulas in w), optional ranges {w: [lo, hi]},
    rates (learning rates to try). Mistakes: the names above, or formulas in w and
    learning_rate for slips in this lesson's derivative. Message field: jump (the whole slope at
    w = -1.5).
    """
    name = str(params.get("function", "step"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "w", "learning_rate")
    problem = signature_problem(fn, name, "w", "learning_rate")
    if problem:
        return problem
    grad, loss = expression(str(params["gradient"])), expression(str(params["loss"]))
    low, high = params.get("ranges", {}).get("w", [-2.0, 3.0])
    rates = [float(r) for r in params.get("rates", [0.001, 0.01, 0.05])]
    rng = np.random.default_rng(int(params.get("seed", 3)))
    inputs = [
        {"w": float(rng.uniform(low, high)), "learning_rate": rates[i % len(rates)]}
        for i in range(12)
    ]

    def g(w: float) -> float:
        return float(grad(w=w))

    known = {
        "uphill": lambda w, learning_rate: w + learning_rate * g(w),
        "no_rate": lambda w, learning_rate: w - g(w),
        "step_size": lambda w, learning_rate: -learning_rate * g(w),
        "step_only": lambda w, learning_rate: learning_rate * g(w),
        "slope": lambda w, learning_rate: g(w),
        "height": lambda w, learning_rate: w - learning_rate * loss(w=w),
        "rate_only": lambda w, learning_rate: w - learning_rate,
        "unchanged": lambda w, learning_rate: w,
    }
    candidates = Mistakes(params).candidates(known, expression)
    mistakes = [(f, fill(text, jump=abs(g(-1.5)))) for f, text in candidates]
    ok, message = compare_calls(
        fn, name, inputs, lambda w, learning_rate: w - learning_rate * g(w), mistakes, 1e-9
    )
    if ok:
        return True, (
            f"Correct: `{name}` moves w against the slope, by learning_rate times its size. From "
            f"w = -1.5 with 0.001 it gives {float(fn(-1.5, 0.001)):.6g}."
        )
    return False, message
