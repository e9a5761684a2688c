"""Checks for "Learning-rate schedules": a schedule gives the rate at each epoch."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from app.kernel.checks import (
    Mistakes,
    Verdict,
    check,
    compare_calls,
    define_first,
    exponential_decay,
    inverse_time_decay,
    learner_function,
    signature_problem,
    step_decay,
)

Rate = Callable[[float, float, float], float]
SLIPS = (
    "ahead",
    "lags",
    "no_alpha0",
    "constant",
    "step_smooth",
    "step_every_epoch",
    "step_halved_at_start",
    "exp_grows",
    "exp_brackets",
    "exp_approximate",
    "inverse_times_t",
    "inverse_plus",
    "inverse_grows",
    "inverse_no_k",
)


def _reference(kind: str) -> Rate:
    """The rate at epoch t for alpha0 = a0 and the kind's third input p (every, or k)."""
    if kind == "step":
        return lambda t, a0, p: step_decay(a0, 0.5, int(p))(int(t))
    if kind == "exponential":
        return lambda t, a0, p: exponential_decay(a0, p)(int(t))
    if kind == "inverse":
        return lambda t, a0, p: inverse_time_decay(a0, p)(int(t))
    raise ValueError(f"unknown schedule kind {kind!r}")


def _slips(ref: Rate) -> dict[str, Rate]:
    """What the usual mistakes compute, for every kind of schedule."""
    return {
        "ahead": lambda t, a0, p: ref(t + 1, a0, p),
        "lags": lambda t, a0, p: ref(max(t - 1, 0), a0, p),
        "no_alpha0": lambda t, a0, p: ref(t, 1.0, p),
        "constant": lambda t, a0, p: a0,
        "step_smooth": lambda t, a0, p: a0 * 0.5 ** (t / p),
        "step_every_epoch": lambda t, a0, p: a0 * 0.5**t,
        "step_halved_at_start": lambda t, a0, p: a0 * 0.5 ** (t // p + 1),
        "exp_grows": lambda t, a0, p: a0 * math.exp(p * t),
        "exp_brackets": lambda t, a0, p: a0 * math.exp(-p) * t,
        "exp_approximate": lambda t, a0, p: a0 * (1 - p) ** t if p < 1 else a0,
        "inverse_times_t": lambda t, a0, p: a0 / (1 + p) * t,
        "inverse_plus": lambda t, a0, p: a0 / 1 + p * t,
        "inverse_grows": lambda t, a0, p: a0 * (1 + p * t),
        "inverse_no_k": lambda t, a0, p: a0 / (1 + t),
    }


@check("schedule_matches", mistakes=SLIPS)
def schedule_matches(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's schedule(t, alpha0, p) gives the rate at epoch t (counted from 0).

    params: function, kind (step: p is `every`, the epochs between halvings; exponential and
    inverse: p is the decay constant k), epochs (how many to compare, 40). The mistakes named
    step_*, exp_* and inverse_* belong to that kind of schedule.
    """
    name = str(params["function"])
    kind = str(params["kind"])
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "t", "alpha0", "every" if kind == "step" else "k")
    third = "every" if kind == "step" else "k"
    problem = signature_problem(fn, name, "t", "alpha0", third)
    if problem:
        return problem
    ref = _reference(kind)
    settings = [(0.1, 5.0), (0.4, 3.0)] if kind == "step" else [(0.1, 0.1), (0.4, 0.35)]
    epochs = int(params.get("epochs", 40))
    inputs = [{"t": float(t), "a0": a0, "p": p} for a0, p in settings for t in range(epochs)]

    def learner(t: float, a0: float, p: float) -> Any:
        """The learner gets whole epochs as ints, as a training loop hands them over."""
        return fn(int(t), a0, int(p) if float(p).is_integer() and p >= 1 else p)

    mistakes = Mistakes(params).candidates(_slips(ref))
    ok, message = compare_calls(
        learner, name, inputs, ref, mistakes, 1e-9, names=["t", "alpha0", third]
    )
    if not ok:
        return False, message
    a0, p = settings[0]
    rates = ", ".join(f"{float(learner(t, a0, p)):.4g}" for t in range(0, 12, 2))
    return True, (
        f"Correct: with alpha0 = {a0:g} and {third} = {p:g} your rates at epochs 0, 2, ..., 10 are "
        f"{rates}."
    )
