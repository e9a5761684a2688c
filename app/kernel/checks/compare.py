"""Comparing a learner's function with a reference on inputs a check picks, and with the known
mistakes, so the message can name the mistake instead of only saying "wrong"."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from app.kernel.checks.mistakes import Mistakes
from app.kernel.checks.registry import Verdict
from app.kernel.checks.values import DEFAULT_TOLERANCE, close, is_shape_error, number, shown

Candidate = tuple[Callable[..., Any], str]


def call_for_shapes(mistakes: Mistakes, fn: Callable[..., Any], *args: Any) -> tuple[Any, str]:
    """fn(*args), and "" or, when torch refuses shapes that do not fit, the message of the
    exercise's mistake `shapes_do_not_fit` (field: error, torch's words). Any other error, and a
    shape error the exercise has no message for, goes on to the learner as it is."""
    try:
        return fn(*args), ""
    except RuntimeError as err:
        said = mistakes.message("shapes_do_not_fit", error=err) if is_shape_error(err) else None
        if said is None:
            raise
        return None, said


def compare_calls(
    fn: Callable[..., Any],
    name: str,
    inputs: Sequence[Mapping[str, float]],
    want: Callable[..., Any],
    mistakes: Sequence[Candidate] = (),
    tol: float = DEFAULT_TOLERANCE,
    names: Sequence[str] | None = None,
) -> Verdict:
    """Call `fn` with each input's values, positionally in the input's order, and compare the one
    number it returns with `want(**input)`.

    (True, "") when it always agrees (the caller words the success); else the message of the
    first mistake whose function always agrees with the learner's; else a message naming one
    input where it is wrong, calling the inputs by `names` (the learner's) when given.
    """
    got: list[float] = []
    for kw in inputs:
        value = fn(*kw.values())
        result = number(value)
        if result is None:
            return False, f"`{name}` returned {shown(value)}, expected one number."
        got.append(result)
    if all(close(g, want(**kw), tol) for g, kw in zip(got, inputs, strict=True)):
        return True, ""
    for mistake, message in mistakes:
        with np.errstate(all="ignore"):
            if all(close(g, mistake(**kw), tol) for g, kw in zip(got, inputs, strict=True)):
                return False, message
    for g, kw in zip(got, inputs, strict=True):
        if not close(g, want(**kw), tol):
            args = ", ".join(
                f"{n}={v:.4g}" for n, v in zip(names or list(kw), kw.values(), strict=True)
            )
            return (
                False,
                f"Not yet: `{name}({args})` gave {g:.6g}, but it should be {want(**kw):.6g}.",
            )
    return False, "Not yet."  # unreachable: some input disagreed
