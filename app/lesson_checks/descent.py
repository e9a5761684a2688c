"""Exercise checks for the descent lessons: one update step, a training loop that really calls
update(), and a learning rate that settles. Registered into the shared CHECKS table."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from app.kernel.checks import Verdict, check


def _data(ns: Mapping[str, Any], params: Mapping[str, Any]) -> np.ndarray:
    return np.asarray(ns.get(params.get("data", "data")), dtype=np.float64)


def _true_gradient(data: np.ndarray, w: float, b: float) -> tuple[float, float]:
    r = w * data[:, 0] + b - data[:, 1]
    return float((r * data[:, 0]).sum()), float(r.sum())


@check("update_step")
def update_step(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """One call of the learner's update() moves (w, b) by -learning_rate * gradient."""
    update = ns.get("update")
    if not callable(update):
        return False, "Define a function `update()` and press Run first."
    data = _data(ns, params)
    saved = {k: ns.get(k) for k in ("w", "b", "learning_rate")}
    try:
        ns["w"], ns["b"], ns["learning_rate"] = 0.5, -1.0, 0.001
        try:
            update()
        except UnboundLocalError:
            return False, (
                "update() reads w before assigning it: add `global w, b` as its first line so it "
                "changes the parameters outside the function."
            )
        w, b = float(ns["w"]), float(ns["b"])
    finally:
        ns.update(saved)
    gw, gb = _true_gradient(data, 0.5, -1.0)
    want = (0.5 - 0.001 * gw, -1.0 - 0.001 * gb)
    if math.isclose(w, want[0], rel_tol=1e-6) and math.isclose(b, want[1], rel_tol=1e-6):
        return True, "Correct: one update moves w and b a small step against the gradient."
    if (w, b) == (0.5, -1.0):
        return False, (
            "update() did not change w or b. Did you forget `global w, b`? Without it the new "
            "values stay inside the function."
        )
    if math.isclose(w, 0.5 + 0.001 * gw, rel_tol=1e-6):
        return (
            False,
            "The step goes uphill: subtract the gradient times the learning rate, don't add it.",
        )
    if math.isclose(w, 0.5 - gw, rel_tol=1e-6):
        return False, "The step is the whole gradient: multiply it by learning_rate first."
    return (
        False,
        f"After one update from w=0.5, b=-1 we expected ({want[0]:.5g}, {want[1]:.5g}), "
        f"got ({w:.5g}, {b:.5g}).",
    )


@check("learning_rate_settles")
def learning_rate_settles(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """Plain gradient descent with the learner's learning_rate reaches the least-squares line."""
    lr = ns.get("learning_rate")
    if not isinstance(lr, int | float):
        return False, "Set `learning_rate` to a number and press Run."
    data = _data(ns, params)
    best_w, best_b = np.polyfit(data[:, 0], data[:, 1], 1)
    w = b = 0.0
    steps = int(params.get("steps", 2000))
    for _ in range(steps):
        gw, gb = _true_gradient(data, w, b)
        w, b = w - lr * gw, b - lr * gb
        if not (math.isfinite(w) and math.isfinite(b)) or abs(w) > 1e6:
            return False, (
                f"With learning_rate = {lr:g} the steps overshoot and grow until they blow up. "
                "Try a smaller learning rate, say ten times smaller."
            )
    if abs(w - best_w) < 1e-2 and abs(b - best_b) < 5e-2:
        return True, (
            f"It settles: after {steps} steps w = {w:.3f}, b = {b:.3f}, next to the best fit "
            f"({best_w:.3f}, {best_b:.3f})."
        )
    if lr <= 0:
        return False, "The learning rate must be positive, or the steps go nowhere (or uphill)."
    return False, (
        f"With learning_rate = {lr:g}, {steps} steps only reach w = {w:.3f}, b = {b:.3f}: "
        "too slow. Try a larger learning rate."
    )


@check("train_calls_update")
def train_calls_update(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """train(n) calls the learner's update() exactly n times and the parameters move."""
    train, update = ns.get("train"), ns.get("update")
    if not callable(train):
        return False, "Define `train(iterations)` and press Run first."
    if not callable(update):
        return False, "Define `update()` too: train() should call it."
    calls = 0

    def counting_update(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return update(*args, **kwargs)

    saved = {k: ns.get(k) for k in ("w", "b", "update")}
    try:
        ns["update"], ns["w"], ns["b"] = counting_update, 0.0, 0.0
        train(7)
        moved = (ns["w"], ns["b"]) != (0.0, 0.0)
    finally:
        ns.update(saved)
    if calls == 0:
        return False, "train() never calls update(): call it once per iteration inside the loop."
    if calls != 7:
        return False, f"train(7) called update() {calls} times; it should call it exactly 7 times."
    if not moved:
        return (
            False,
            "update() ran 7 times but w and b did not change. Check `global w, b` in update().",
        )
    return True, "Correct: train(n) runs n steps of gradient descent."
