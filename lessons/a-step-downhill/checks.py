"""Checks for "A step downhill": one update step moves (w, b) against the gradient, and a learning
rate that makes plain gradient descent settle at the best line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from app.kernel.checks import (
    SGD,
    Mistakes,
    Verdict,
    check,
    close,
    define_first,
    descend,
    learner_function,
    number,
    set_first,
)


def _data(ns: Mapping[str, Any], params: Mapping[str, Any]) -> np.ndarray:
    return np.asarray(ns.get(params.get("data", "data")), dtype=np.float64)


def _gradient(data: np.ndarray, w: float, b: float) -> np.ndarray:
    """The gradient of this lesson's loss, ½ Σ (w x + b - y)², at (w, b)."""
    r = w * data[:, 0] + b - data[:, 1]
    return np.array([float((r * data[:, 0]).sum()), float(r.sum())])


@check("update_step", mistakes=("reads_before_global", "unchanged", "uphill", "whole_gradient"))
def update_step(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """One call of the learner's update() moves (w, b) by -learning_rate * gradient, tried from
    w = 0.5, b = -1 with learning_rate = 0.001 (the lesson's own values are put back after)."""
    update = ns.get("update")
    if not callable(update):
        return define_first("update")
    mistakes = Mistakes(params)
    data = _data(ns, params)
    start, lr = np.array([0.5, -1.0]), 0.001
    saved = {k: ns.get(k) for k in ("w", "b", "learning_rate")}
    try:
        ns["w"], ns["b"], ns["learning_rate"] = float(start[0]), float(start[1]), lr
        try:
            update()
        except UnboundLocalError:
            message = mistakes.message("reads_before_global")
            if message is None:
                raise
            return False, message
        got = np.array([number(ns["w"]), number(ns["b"])], dtype=np.float64)
    finally:
        ns.update(saved)
    gradient = _gradient(data, *start)
    want = SGD(lr).step(start, gradient)
    if close(got, want, 1e-6):
        return True, "Correct: one update moves w and b a small step against the gradient."
    slip = mistakes.first(
        {
            "unchanged": lambda: close(got, start, 0.0),
            "uphill": lambda: close(got[0], start[0] + lr * gradient[0], 1e-6),
            "whole_gradient": lambda: close(got[0], start[0] - gradient[0], 1e-6),
        }
    )
    if slip is not None:
        return False, slip
    return False, (
        f"After one update from w=0.5, b=-1 we expected ({want[0]:.5g}, {want[1]:.5g}), "
        f"got ({got[0]:.5g}, {got[1]:.5g})."
    )


@check("learning_rate_settles", mistakes=("blows_up", "not_positive", "too_slow"))
def learning_rate_settles(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """Plain gradient descent with the learner's learning_rate, from w = b = 0, reaches the
    least-squares line within `steps` (2000) steps. Message fields: rate, steps, w, b."""
    lr = number(ns.get("learning_rate"))
    if lr is None:
        return set_first("learning_rate")
    data = _data(ns, params)
    best = np.polyfit(data[:, 0], data[:, 1], 1)
    steps = int(params.get("steps", 2000))
    if lr <= 0:
        path = np.zeros((1, 2))
    else:
        path = descend(lambda p: _gradient(data, *p), [0.0, 0.0], SGD(lr), steps)
    w, b = path[-1]
    if abs(w - best[0]) < 1e-2 and abs(b - best[1]) < 5e-2:
        return True, (
            f"It settles: after {steps} steps w = {w:.3f}, b = {b:.3f}, next to the best fit "
            f"({best[0]:.3f}, {best[1]:.3f})."
        )
    slip = Mistakes(params).first(
        {
            "blows_up": lambda: lr > 0 and (len(path) <= steps or bool(np.abs(path).max() > 1e6)),
            "not_positive": lambda: lr <= 0,
            "too_slow": lambda: True,
        },
        rate=lr,
        steps=steps,
        w=w,
        b=b,
    )
    if slip is not None:
        return False, slip
    return False, (
        f"With learning_rate = {lr:g}, {steps} steps end at w = {w:.3f}, b = {b:.3f}, not at the "
        f"best fit ({best[0]:.3f}, {best[1]:.3f})."
    )


def _curvature(data: np.ndarray) -> np.ndarray:
    """The curvature matrix (Hessian) of ½ Σ (w x + b - y)²: [[Σx², Σx], [Σx, n]]."""
    xs = data[:, 0]
    return np.array([[float(xs @ xs), float(xs.sum())], [float(xs.sum()), float(xs.size)]])


def _edge_slip(params: Mapping[str, Any], got: float, hess: np.ndarray) -> str | None:
    """The message of the first declared mistake that `got` matches, for this curvature."""
    small, lam = (float(v) for v in np.linalg.eigvalsh(hess))
    hits = {
        "one_over": 1 / lam,
        "smallest": 2 / small,
        "diagonal": 2 / float(hess[0, 0]),
        "trace": 2 / (lam + small),
    }
    tests = {k: (lambda v=v: abs(got - v) <= 1e-6 * abs(v)) for k, v in hits.items()}
    return Mistakes(params).first(tests, want=2 / lam, lam=lam)


@check("edge_of_settling", mistakes=("one_over", "smallest", "diagonal", "trace"))
def edge_of_settling(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `function` (largest_rate) returns 2 / λ for any data set, λ the largest
    eigenvalue of the curvature matrix [[Σx², Σx], [Σx, n]]: tried on the learner's data and on
    two others (within 1e-6, relative), so a copied number does not pass. Mistakes (on the
    learner's data): one_over (1 / λ), smallest (2 over the smaller eigenvalue), diagonal
    (2 / Σx²), trace (2 over the sum of the eigenvalues). Fields: want, lam."""
    name = str(params.get("function", "largest_rate"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "data")
    data = _data(ns, params)
    others = [np.column_stack([data[:, 0] * 2 + 1, data[:, 1]]), data[:3]]
    for i, pts in enumerate([data, *others]):
        got = number(fn([tuple(p) for p in pts.tolist()]))
        if got is None:
            return False, f"`{name}(data)` should return one number."
        hess = _curvature(pts)
        want = 2 / float(np.linalg.eigvalsh(hess)[-1])
        if abs(got - want) <= 1e-6 * want:
            continue
        if i:
            return False, (
                f"Right for this lesson's data, but for another data set `{name}` gave "
                f"{got:.6g} instead of {want:.6g}: compute the matrix from the `data` it is given."
            )
        slip = _edge_slip(params, got, hess)
        return False, slip or f"Not yet: `{name}(data)` gave {got:.6g}. Work out λ first."
    lam = float(np.linalg.eigvalsh(_curvature(data))[-1])
    return True, f"Right: λ = {lam:.1f}, so steps settle for any learning rate below {2 / lam:.5f}."


@check("loss_after_steps", mistakes=("lower",))
def loss_after_steps(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `variable` says whether the loss after `steps` correct steps at `rate` from
    (0, 0) on the learner's data is "higher" or "lower" than at the start. Mistakes: lower.
    Fields: before, after."""
    name = str(params.get("variable", "prediction"))
    said = str(ns.get(name, "")).strip().lower()
    if said not in ("higher", "lower"):
        return False, f'Set `{name}` to "higher" or "lower", press Run, then Check.'
    data = _data(ns, params)
    rate, steps = float(params["rate"]), int(params["steps"])
    path = descend(lambda p: _gradient(data, *p), [0.0, 0.0], SGD(rate), steps)

    def loss(p: np.ndarray) -> float:
        return float(0.5 * ((p[0] * data[:, 0] + p[1] - data[:, 1]) ** 2).sum())

    before, after = loss(path[0]), loss(path[-1])
    truth = "higher" if after > before else "lower"
    if said == truth:
        return True, (
            f"Right: from {before:.2f} at the start to {after:.4g} after {steps} steps. "
            "Press Step and watch it happen."
        )
    slip = Mistakes(params).message(said, before=before, after=after)
    return (
        False,
        slip or f"Not so: from {before:.2f} at the start to {after:.4g} after {steps} steps.",
    )
