"""Checks for "Linear regression by SGD": one full-batch step in plain Python, and the prediction
of where ten such steps leave b. The step's check runs the learner's function on small data sets
of its own and compares with the right answer and with the exercise's `mistakes:`, formulas of
the same inputs, in the order listed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from app.kernel.checks import (
    Mistakes,
    Verdict,
    check,
    choice,
    close,
    define_first,
    expression,
    learner_function,
    numbers,
    shown,
)

BATCH_INPUTS = ("w", "b", "points", "learning_rate")
CHOICES = ["near 0", "near 1"]


def _full_batch(w: float, b: float, x: np.ndarray, t: np.ndarray, rate: float) -> np.ndarray:
    """One step against the gradient of the mean of (w x + b - t)² over the points."""
    e = w * x + b - t
    return np.array([w - rate * np.mean(2 * e * x), b - rate * np.mean(2 * e)])


def _one_at_a_time(w: float, b: float, x: np.ndarray, t: np.ndarray, rate: float) -> np.ndarray:
    """An epoch of SGD over the points in order: what a step inside the loop computes."""
    for xi, ti in zip(x.tolist(), t.tolist(), strict=True):
        e = w * xi + b - ti
        w, b = w - rate * 2 * e * xi, b - rate * 2 * e
    return np.array([w, b])


@check("full_batch_step_update", mistakes=("one_at_a_time",), expressions=True)
def full_batch_step_update(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `full_batch_step(w, b, points, learning_rate)` returns the new (w, b) after
    one step on the mean squared error over the (x, t) pairs in `points`, on small random data
    sets.

    Mistakes: one_at_a_time (an epoch of SGD: a step after each example), and formulas of w, b,
    learning_rate, n (the number of points) and the arrays x, t and e (= w * x + b - t) giving
    the pair the learner returned, e.g. "(w, b)" for a step that changes nothing.
    """
    name = str(params.get("function", "full_batch_step"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, *BATCH_INPUTS)
    rng = np.random.default_rng(int(params.get("seed", 7)))
    cases: list[dict[str, Any]] = []
    got: list[np.ndarray] = []
    for _ in range(10):
        n = int(rng.integers(3, 9))
        x = rng.choice(np.arange(1, 100), size=n, replace=False).astype(np.float64)
        t = 2 * x + 1 + rng.normal(0, 3, n)
        case = {
            "w": float(rng.uniform(-3, 3)),
            "b": float(rng.uniform(-3, 3)),
            "x": x,
            "t": t,
            "learning_rate": float(rng.choice([1e-5, 3e-5, 1e-4])),
        }
        points = [(float(xi), float(ti)) for xi, ti in zip(x, t, strict=True)]
        value = fn(case["w"], case["b"], points, case["learning_rate"])
        if value is None:
            return False, f"`{name}` returned nothing: end it with `return w, b`."
        pair = numbers(value, 2) if isinstance(value, tuple | list | np.ndarray) else None
        if pair is None:
            return False, (
                f"`{name}` should return two numbers, the new w and the new b; it returned "
                f"{shown(value)}."
            )
        cases.append(case)
        got.append(pair)

    def rate(case: dict[str, Any]) -> float:
        return float(case["learning_rate"])

    want = [_full_batch(c["w"], c["b"], c["x"], c["t"], rate(c)) for c in cases]

    def always(candidates: list[np.ndarray], part: slice = slice(None)) -> bool:
        return all(close(g[part], c[part], 1e-9) for g, c in zip(got, candidates, strict=True))

    if always(want):
        return True, (
            f"Correct: `{name}` takes one step against the mean of the examples' slopes, on "
            "every data set we tried."
        )
    sgd = [_one_at_a_time(c["w"], c["b"], c["x"], c["t"], rate(c)) for c in cases]

    def formula(text: str) -> Callable[[], bool]:
        f = expression(text)

        def value(c: dict[str, Any]) -> np.ndarray:
            e = c["w"] * c["x"] + c["b"] - c["t"]
            with np.errstate(all="ignore"):
                return np.asarray(f(**c, e=e, n=c["x"].size), dtype=np.float64)

        return lambda: always([value(c) for c in cases])

    slip = Mistakes(params).first({"one_at_a_time": lambda: always(sgd)}, formula)
    if slip is not None:
        return False, slip
    c, g, r = cases[0], got[0], want[0]
    w_right, b_right = always(want, slice(0, 1)), always(want, slice(1, 2))
    which = "w is right but b is not" if w_right else "b is right but w is not" if b_right else ""
    pts = ", ".join(f"({xi:g}, {ti:.2f})" for xi, ti in zip(c["x"], c["t"], strict=True))
    return False, (
        f"{which or 'Not yet'}: with w = {c['w']:.4g}, b = {c['b']:.4g}, learning_rate = "
        f"{rate(c):g} and the points [{pts}], `{name}` gave ({g[0]:.6g}, {g[1]:.6g}); one "
        f"full-batch step gives ({r[0]:.6g}, {r[1]:.6g})."
    )


@check("b_after_full_batch", mistakes=("wrong",))
def b_after_full_batch(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """A prediction: `variable` set to "near 0" or "near 1", where b is after `steps` full-batch
    steps (default 10) from w = b = 0 at `rate` (default 0.0001) on the page's `train_set`,
    computed here with a reference step. Mistakes: wrong (fields: answer, the right choice; w
    and b, where the run ends; steps)."""
    name = str(params.get("variable", "b_after_ten"))
    said = choice(ns.get(name), CHOICES)
    if said is None:
        return False, f'Set `{name}` to "near 0" or "near 1", press Run, then check.'
    data = ns.get(str(params.get("data", "train_set")))
    pairs = np.asarray(data, dtype=np.float64) if isinstance(data, list) and data else None
    if pairs is None or pairs.ndim != 2 or pairs.shape[1] != 2:
        return False, "Run the script first: `train_set` should be a list of (x, t) pairs."
    steps, rate = int(params.get("steps", 10)), float(params.get("rate", 0.0001))
    wb = np.zeros(2)
    for _ in range(steps):
        wb = _full_batch(float(wb[0]), float(wb[1]), pairs[:, 0], pairs[:, 1], rate)
    w, b = float(wb[0]), float(wb[1])
    truth = "near 1" if abs(b - 1) < abs(b) else "near 0"
    if said == truth:
        return True, (
            f"Right: {steps} full-batch steps end at w = {w:.3f}, b = {b:.3f}. Write the step "
            "below and see it happen."
        )
    wrong = Mistakes(params).message("wrong", answer=truth, w=w, b=b, steps=steps)
    return False, wrong or f"Not this time: {steps} full-batch steps end at b = {b:.3f}."
