"""Checks for "Batch size and the learning rate": the gradient of a batch, the linear scaling
rule, and the predictions."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from app.kernel.checks import (
    Mistakes,
    Verdict,
    check,
    close,
    compare_calls,
    define_first,
    learner_function,
    numbers,
    signature_problem,
)


def _gradient(w: float, b: float, xb: np.ndarray, yb: np.ndarray) -> np.ndarray:
    """The reference: (2 mean(r x), 2 mean(r)) with r = w x + b - y."""
    r = w * xb + b - yb
    return np.array([2 * np.mean(r * xb), 2 * np.mean(r)])


@check("batch_gradient", mistakes=("summed", "half", "sign", "swapped", "no_x", "whole_data"))
def batch_gradient(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's function(w, b, xb, yb) returns the gradient of the batch's mean squared
    error, tried on batches of 1, 3, 8 and 20 examples. The mistake whole_data (the gradient of
    the lesson's whole data set `x`, `y` instead of the batch) is tried when those exist."""
    name = str(params.get("function", "batch_gradient"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "w", "b", "xb", "yb")
    problem = signature_problem(fn, name, "w", "b", "xb", "yb")
    if problem:
        return problem
    rng = np.random.default_rng(int(params.get("seed", 5)))
    got_all, cases = [], []
    for size in (1, 3, 8, 20):
        xb = rng.uniform(0, 2, size)
        yb = 1.5 * xb + 0.5 + rng.normal(0, 0.3, size)
        w, b = float(rng.uniform(-1, 3)), float(rng.uniform(-1, 2))
        value = fn(w, b, xb.copy(), yb.copy())
        got = numbers(value, 2)
        if got is None:
            return (
                False,
                f"`{name}` should return two numbers, (dL/dw, dL/db); it returned {value!r:.60}.",
            )
        got_all.append(got)
        cases.append((w, b, xb, yb))

    def always(candidate: Callable[..., np.ndarray]) -> Callable[[], bool]:
        return lambda: all(
            close(g, candidate(*c), 1e-9) for g, c in zip(got_all, cases, strict=True)
        )

    if always(_gradient)():
        return True, (
            "Correct: the mean over the batch, with its factor 2. A batch of 1 and a batch of "
            "256 now ask for steps of the same size."
        )
    tests = {
        "summed": always(lambda w, b, xb, yb: _gradient(w, b, xb, yb) * len(xb)),
        "half": always(lambda w, b, xb, yb: _gradient(w, b, xb, yb) / 2),
        "sign": always(lambda w, b, xb, yb: -_gradient(w, b, xb, yb)),
        "swapped": always(lambda w, b, xb, yb: _gradient(w, b, xb, yb)[::-1]),
        "no_x": always(lambda w, b, xb, yb: _gradient(w, b, xb, yb)[[1, 1]]),
    }
    full = (ns.get("x"), ns.get("y"))
    if all(isinstance(v, np.ndarray) for v in full):
        fx, fy = np.asarray(full[0], dtype=np.float64), np.asarray(full[1], dtype=np.float64)
        tests["whole_data"] = always(lambda w, b, xb, yb: _gradient(w, b, fx, fy))
    slip = Mistakes(params).first(tests)
    if slip is not None:
        return False, slip
    for g, c in zip(got_all, cases, strict=True):
        want = _gradient(*c)
        if not close(g, want, 1e-9):
            return False, (
                f"Not yet: for w={c[0]:.3f}, b={c[1]:.3f} and a batch of {len(c[2])} you returned "
                f"{np.round(g, 5).tolist()}, but the gradient is {np.round(want, 5).tolist()}."
            )
    return False, "Not yet."


INPUTS = ("base_lr", "base_batch", "new_batch")


@check("linear_scaling", mistakes=("inverse", "square_root", "ratio_only", "new_only", "unchanged"))
def linear_scaling(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's scaled_rate(base_lr, base_batch, new_batch) follows the linear scaling rule."""
    name = str(params.get("function", "scaled_rate"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, *INPUTS)
    problem = signature_problem(fn, name, *INPUTS)
    if problem:
        return problem
    cases = [(0.02, 8, 16), (0.05, 32, 8), (0.1, 4, 64), (0.003, 16, 48), (0.02, 8, 8)]
    inputs = [{"lr": lr, "b0": float(b0), "b1": float(b1)} for lr, b0, b1 in cases]
    known = {
        "inverse": lambda lr, b0, b1: lr * b0 / b1,
        "square_root": lambda lr, b0, b1: lr * math.sqrt(b1 / b0),
        "ratio_only": lambda lr, b0, b1: b1 / b0,
        "new_only": lambda lr, b0, b1: lr * b1,
        "unchanged": lambda lr, b0, b1: lr,
    }

    def learner(lr: float, b0: float, b1: float) -> Any:
        """Batch sizes reach the learner as ints."""
        return fn(lr, int(b0), int(b1))

    ok, message = compare_calls(
        learner,
        name,
        inputs,
        lambda lr, b0, b1: lr * b1 / b0,
        Mistakes(params).candidates(known),
        1e-9,
        names=INPUTS,
    )
    if not ok:
        return False, message
    return True, (
        f"Correct: twice the batch, twice the rate. From 0.02 at batch 8, batch 64 gets "
        f"{float(fn(0.02, 8, 64)):g}."
    )
