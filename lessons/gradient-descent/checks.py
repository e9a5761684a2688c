"""Checks for "Gradient descent": a training loop that really calls update()."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
