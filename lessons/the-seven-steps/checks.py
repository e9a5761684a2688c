"""Checks for "The seven steps": the stop rule of a training loop."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from app.kernel.checks import (
    Mistakes,
    Verdict,
    accepts,
    array,
    check,
    define_first,
    learner_function,
)

KNOWN = (
    "not_finite",
    "too_few",
    "rises",
    "ignores_max_epochs",
    "too_early",
    "past_max_epochs",
    "never_stops",
    "one_late",
)


def _curves(result: Any) -> tuple[list[float], list[float]] | None:
    """The training and held-out losses from what train() returned:
    `(params, losses, held_out)`."""
    if not isinstance(result, tuple) or len(result) < 3:
        return None
    out = []
    for part in result[-2:]:
        arr = array(part)
        if arr is None or arr.ndim != 1:
            return None
        out.append([float(v) for v in arr])
    return out[0], out[1]


def _epochs(n: int) -> str:
    return f"{n} epoch" + ("" if n == 1 else "s")


@check("stop_rule", mistakes=KNOWN)
def stop_rule(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's train(lr, max_epochs) stops right after the first epoch whose held-out
    loss is higher than the epoch before, runs `max_epochs` epochs when that never happens, and
    its training loss never rises on the way (a rising training loss at a small learning rate
    means the gradient was not zeroed).

    params: function (default "train"), lr, max_epochs (a long run where the rule must fire),
    short_epochs (a short run that must end by max_epochs). Message fields: name, lr, count
    (losses recorded), epoch (where a loss rose), before and after (the losses around it), ran
    and want (epochs, as "3 epochs"), max_epochs, short_epochs.
    """
    name = str(params.get("function", "train"))
    train = learner_function(ns, name)
    if train is None:
        return define_first(name, "lr", "max_epochs")
    lr = float(params.get("lr", 0.1))
    long_run = int(params.get("max_epochs", 3000))
    short_run = int(params.get("short_epochs", 20))
    if not accepts(train, lr=lr, max_epochs=long_run):
        return False, (
            f"`{name}` should take two arguments called `lr` and `max_epochs`, as in the "
            "original cell, so that it can be tried with other values."
        )
    curves = _curves(train(lr=lr, max_epochs=long_run))
    if curves is None:
        return False, (
            f"`{name}` should end with `return params, losses, held_out`: the parameters, the "
            "training loss of every epoch and the held-out loss of every epoch."
        )
    losses, held = curves
    mistakes = Mistakes(params)
    fields: dict[str, Any] = {
        "name": name,
        "lr": lr,
        "count": len(held),
        "max_epochs": long_run,
        "short_epochs": short_run,
    }

    def slip(known: str, **more: Any) -> Verdict:
        said = mistakes.message(known, **{**fields, **more})
        return False, said or f"Not yet: the loop ran {_epochs(len(held))}."

    if not all(math.isfinite(v) for v in losses + held):
        return slip("not_finite")
    if len(held) < 2:
        return slip("too_few")
    rise = next(
        (i for i in range(1, len(losses)) if losses[i] > losses[i - 1] * (1 + 1e-3) + 1e-12),
        None,
    )
    if rise is not None:
        return slip("rises", epoch=rise, before=losses[rise - 1], after=losses[rise])
    worse = next((i for i in range(1, len(held)) if held[i] > held[i - 1]), None)
    expected = worse + 1 if worse is not None else long_run
    got = len(held)
    fields.update(ran=_epochs(got), want=_epochs(expected))
    if got == expected:
        short = _curves(train(lr=lr, max_epochs=short_run))
        want_short = min(short_run, expected)
        if short is None or len(short[1]) != want_short:
            ran = "nothing" if short is None else _epochs(len(short[1]))
            return slip("ignores_max_epochs", ran=ran, want=_epochs(want_short))
        return True, (
            f"Correct: with lr = {lr:g} the loop stops after {_epochs(got)}, the first epoch "
            f"whose held-out loss ({held[-1]:.5f}) is worse than the one before "
            f"({held[-2]:.5f}), and a run with max_epochs = {short_run} stops at {short_run}."
        )
    if got > long_run:
        return slip("past_max_epochs")
    if got < expected:
        return slip("too_early")
    if got == expected + 1:
        return slip("one_late")
    return slip("never_stops", epoch=expected - 1)
