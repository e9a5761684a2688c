"""Checks for "Autograd": one SGD step on tensors with autograd's gradient, which must leave
nothing behind for the next call. The known mistakes, each recognised by what it does to w, b
and their gradients (or by the error torch raises), are named in the lesson's `mistakes:`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from app.kernel.checks import (
    Mistakes,
    Verdict,
    check,
    close,
    define_first,
    learner_function,
)

EXAMPLES = ((37.0, 75.5), (81.0, 162.0))
START = (0.5, -1.0)
KNOWN = (
    "in_place_recorded",
    "backward_twice",
    "rebound",
    "zero_before_backward",
    "grad_none",
    "not_leaves",
    "no_backward",
    "cleared_too_early",
    "not_in_place",
    "uphill",
    "whole_gradient",
    "piled_up",
    "w_piles_up",
    "b_piles_up",
)


def _steps(lr: float, accumulate: bool = False) -> list[tuple[float, float]]:
    """(w, b) after the first and the second example; `accumulate` keeps the first gradient in
    the second step, as happens when .grad is never cleared."""
    w, b = START
    states, kept = [], (0.0, 0.0)
    for x, t in EXAMPLES:
        err = w * x + b - t
        gw, gb = 2 * err * x + kept[0], 2 * err + kept[1]
        if accumulate:
            kept = (gw, gb)
        w, b = w - lr * gw, b - lr * gb
        states.append((w, b))
    return states


def _raised(mistakes: Mistakes, exc: Exception, first: bool, w: torch.Tensor) -> str | None:
    """The message for an error the learner's step raised, when it is a known mistake."""
    text = str(exc)
    if isinstance(exc, RuntimeError):
        if "leaf Variable" in text or "in-place operation" in text:
            return mistakes.message("in_place_recorded")
        if "backward through the graph a second time" in text:
            return mistakes.message("backward_twice")
    if isinstance(exc, AttributeError) and "zero_" in text and first:
        return mistakes.message("rebound" if w.grad is not None else "zero_before_backward")
    if isinstance(exc, TypeError) and "NoneType" in text:
        return mistakes.message("grad_none")
    return None


@check("autograd_sgd_step", mistakes=KNOWN)
def autograd_sgd_step(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `sgd_step(w, b, x, t, learning_rate)` updates the leaf tensors w and b in
    place with autograd's gradient, and leaves nothing behind for the next call: we call it on
    two examples in a row and compare with two hand-computed steps."""
    name = str(params.get("function", "sgd_step"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "w", "b", "x", "t", "learning_rate")
    mistakes = Mistakes(params)
    lr = float(params.get("learning_rate", 1e-4))
    w = torch.tensor(START[0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(START[1], dtype=torch.float64, requires_grad=True)
    states: list[tuple[float, float]] = []
    for i, (x, t) in enumerate(EXAMPLES):
        try:
            fn(w, b, x, t, lr)
        except (RuntimeError, AttributeError, TypeError) as exc:
            said = _raised(mistakes, exc, i == 0, w)
            if said is None:
                raise
            return False, said
        if not (w.is_leaf and b.is_leaf):
            said = mistakes.message("not_leaves")
            return False, said or "w and b should stay the tensors you were given."
        states.append((float(w.detach()), float(b.detach())))
        if i == 0:
            verdict = _first_step(mistakes, states[0], w, b, lr)
            if verdict is not None:
                return verdict
    right, piled = _steps(lr), _steps(lr, accumulate=True)
    if close(states, right, 1e-9):
        return True, (
            "Correct: two calls in a row give exactly two SGD steps, so each step uses its "
            "own example's gradient and nothing is left over."
        )
    (gw, gb), (rw, rb), (pw, pb) = states[1], right[1], piled[1]
    slip = mistakes.first(
        {
            "piled_up": lambda: close(states, piled, 1e-9),
            "w_piles_up": lambda: close(gw, pw, 1e-9) and close(gb, rb, 1e-9),
            "b_piles_up": lambda: close(gb, pb, 1e-9) and close(gw, rw, 1e-9),
        }
    )
    return False, slip or (
        f"The second step goes wrong: after two examples we expected w = {rw:.8g}, "
        f"b = {rb:.8g}, and got w = {gw:.8g}, b = {gb:.8g}."
    )


def _first_step(
    mistakes: Mistakes, got: tuple[float, float], w: torch.Tensor, b: torch.Tensor, lr: float
) -> Verdict | None:
    """A verdict for a first step that is already wrong; None when it is right."""
    want = _steps(lr)[0]
    if close(got, want, 1e-9):
        return None
    x, t = EXAMPLES[0]
    err = START[0] * x + START[1] - t
    unmoved = close(got, START, 1e-9)
    uphill = (START[0] + lr * 2 * err * x, START[1] + lr * 2 * err)
    whole = (START[0] - 2 * err * x, START[1] - 2 * err)
    slip = mistakes.first(
        {
            "no_backward": lambda: unmoved and w.grad is None and b.grad is None,
            "cleared_too_early": lambda: unmoved and w.grad is not None and float(w.grad) == 0,
            "not_in_place": lambda: unmoved,
            "uphill": lambda: close(got, uphill, 1e-9),
            "whole_gradient": lambda: close(got, whole, 1e-9),
        }
    )
    if slip is not None:
        return False, slip
    return False, (
        f"After one step from w = {START[0]}, b = {START[1]} on x = {x:g}, t = {t:g} we "
        f"expected w = {want[0]:.8g}, b = {want[1]:.8g}; got w = {got[0]:.8g}, b = {got[1]:.8g}. "
        "Is the loss (w*x + b - t)**2?"
    )
