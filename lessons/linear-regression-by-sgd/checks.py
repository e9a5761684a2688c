"""Checks for "Linear regression by SGD": one SGD step in plain Python, and the mean squared
error. Each check runs the learner's function on inputs of its own and compares with the right
answer and with the exercise's `mistakes:`, formulas of the same inputs, in the order listed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from app.kernel.checks import (
    Mistakes,
    Verdict,
    check,
    close,
    define_first,
    expression,
    learner_function,
    number,
    numbers,
    shown,
)

STEP_INPUTS = ("w", "b", "x", "t", "learning_rate")


def _sgd_step(w: float, b: float, x: float, t: float, learning_rate: float) -> np.ndarray:
    error = w * x + b - t
    return np.array([w - learning_rate * 2 * error * x, b - learning_rate * 2 * error])


@check("sgd_step_update", expressions=True)
def sgd_step_update(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `sgd_step(w, b, x, t, learning_rate)` returns the new (w, b) after one step
    on the single example's squared error (w x + b - t)², at random points and examples.

    Mistakes: formulas of w, b, x, t, learning_rate and error (= w * x + b - t) giving the pair
    the learner returned, e.g. "(w, b)" for a step that changes nothing.
    """
    name = str(params.get("function", "sgd_step"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, *STEP_INPUTS)
    rng = np.random.default_rng(int(params.get("seed", 11)))
    inputs: list[dict[str, float]] = []
    got: list[np.ndarray] = []
    for _ in range(12):
        x = float(rng.integers(2, 100))
        kw = {
            "w": float(rng.uniform(-3, 3)),
            "b": float(rng.uniform(-3, 3)),
            "x": x,
            "t": 2 * x + 1 + float(rng.normal(0, 3)),
            "learning_rate": float(rng.choice([1e-4, 3e-4, 1e-3])),
        }
        value = fn(*kw.values())
        if value is None:
            return False, f"`{name}` returned nothing: end it with `return w, b`."
        pair = numbers(value, 2) if isinstance(value, tuple | list | np.ndarray) else None
        if pair is None:
            return False, (
                f"`{name}` should return two numbers, the new w and the new b; it returned "
                f"{shown(value)}."
            )
        inputs.append(kw)
        got.append(pair)
    want = [_sgd_step(**kw) for kw in inputs]

    def always(candidates: list[np.ndarray], part: slice = slice(None)) -> bool:
        return all(close(g[part], c[part], 1e-9) for g, c in zip(got, candidates, strict=True))

    if always(want):
        return True, (
            f"Correct: `{name}` moves w and b exactly one SGD step against the gradient of "
            "(w*x + b - t)**2, for every example we tried."
        )

    def formula(text: str) -> Callable[[], bool]:
        f = expression(text)
        return lambda: always(
            [np.asarray(f(**kw, error=kw["w"] * kw["x"] + kw["b"] - kw["t"])) for kw in inputs]
        )

    slip = Mistakes(params).first({}, formula)
    if slip is not None:
        return False, slip
    kw, g, r = inputs[0], got[0], want[0]
    w_right, b_right = always(want, slice(0, 1)), always(want, slice(1, 2))
    which = "w is right but b is not" if w_right else "b is right but w is not" if b_right else ""
    shown_inputs = ", ".join(f"{k}={v:.4g}" for k, v in kw.items())
    return False, (
        f"{which or 'Not yet'}: {name}({shown_inputs}) gave ({g[0]:.6g}, {g[1]:.6g}); one step "
        f"should give ({r[0]:.6g}, {r[1]:.6g})."
    )


@check("mean_squared_error_matches", expressions=True)
def mean_squared_error_matches(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `mean_squared_error(points, w, b)` is the mean of (w x + b - t)² over a list
    of (x, t) pairs, on random small data sets.

    Mistakes: formulas of e, the errors w * x + b - t as a numpy array, and n, the number of
    points, giving what the learner returned: "np.sum(e * e)" is a sum for a mean.
    """
    name = str(params.get("function", "mean_squared_error"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "points", "w", "b")
    rng = np.random.default_rng(int(params.get("seed", 5)))
    cases: list[np.ndarray] = []
    got: list[float] = []
    for _ in range(10):
        n = int(rng.integers(3, 13))
        xs = rng.integers(0, 100, n).astype(np.float64)
        points = [(float(x), float(2 * x + 1 + rng.normal(0, 4))) for x in xs]
        w, b = float(rng.uniform(1.5, 2.5)), float(rng.uniform(-5, 5))
        value = fn(points, w, b)
        result = number(value)
        if result is None:
            return False, f"`{name}` should return one number; it returned {shown(value)}."
        pts = np.asarray(points)
        cases.append(w * pts[:, 0] + b - pts[:, 1])
        got.append(result)

    def always(candidate: Callable[..., Any]) -> bool:
        with np.errstate(all="ignore"):
            return all(
                close(g, float(candidate(e=e, n=e.size)), 1e-9)
                for g, e in zip(got, cases, strict=True)
            )

    if always(lambda e, n: np.mean(e * e)):
        return True, f"Correct: `{name}` is the mean of the squared errors on every data set."
    slip = Mistakes(params).first({}, lambda text: lambda: always(expression(text)))
    if slip is not None:
        return False, slip
    e = cases[0]
    return False, (
        f"Not yet: on {e.size} points whose errors are {np.array2string(e[:4], precision=2)}… "
        f"`{name}` gave {got[0]:.6g}, but the mean of the squared errors is "
        f"{float(np.mean(e * e)):.6g}."
    )
