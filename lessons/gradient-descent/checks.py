"""Checks for "Gradient descent": a training loop that really calls update()."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from app.kernel.checks import Mistakes, Verdict, check, define_first, learner_function


@check("train_calls_update", mistakes=("never_calls", "wrong_count", "no_change"))
def train_calls_update(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """train(7) calls the learner's update() exactly 7 times and the parameters move (the
    lesson's own w, b and update are put back after). Message field: calls."""
    train, update = learner_function(ns, "train"), learner_function(ns, "update")
    if train is None:
        return define_first("train", "iterations")
    if update is None:
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
    if calls == 7 and moved:
        return True, "Correct: train(n) runs n steps of gradient descent."
    slip = Mistakes(params).first(
        {
            "never_calls": lambda: calls == 0,
            "wrong_count": lambda: calls != 7,
            "no_change": lambda: not moved,
        },
        calls=calls,
    )
    return False, slip or f"Not yet: train(7) called update() {calls} times."


@check("run_outcome", mistakes=("settle", "diverge"))
def run_outcome(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `variable` says whether `steps` steps of gradient descent at `rate`, from
    the program's w and b on its data, "settle" or "diverge" (computed with the loss's own
    curvature: settle when rate < 2 / λ). Mistakes: the wrong word. Fields: edge, w, b."""
    name = str(params.get("variable", "prediction"))
    said = str(ns.get(name, "")).strip().lower()
    if said not in ("settle", "diverge"):
        return False, f'Set `{name}` to "settle" or "diverge", press Run, then Check.'
    data = np.asarray(ns.get("data"), dtype=np.float64)
    xs, ys = data[:, 0], data[:, 1]
    hess = np.array([[xs @ xs, xs.sum()], [xs.sum(), xs.size]])
    edge = 2 / float(np.linalg.eigvalsh(hess)[-1])
    rate, steps = float(params["rate"]), int(params["steps"])
    w, b = float(ns.get("w", 0.0)), float(ns.get("b", 0.0))
    with np.errstate(all="ignore"):
        for _ in range(steps):
            r = w * xs + b - ys
            w, b = w - rate * float(r @ xs), b - rate * float(r.sum())
    truth = "settle" if np.isfinite(w) and abs(w) < 1e6 else "diverge"
    if said == truth:
        return (
            True,
            f"Right: the edge is 2/λ ≈ {edge:.4f}, and {rate:g} is "
            f"{'below' if truth == 'settle' else 'above'} it.",
        )
    slip = Mistakes(params).message(said, edge=edge, w=w, b=b)
    return False, slip or f"Not so: the edge is 2/λ ≈ {edge:.4f}."
