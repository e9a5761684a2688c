"""The toolkit's `gradient_matches`: a learner's gradient against central differences of a loss,
naming the usual slips (a flipped sign, a mean for a sum, a stray factor 2, swapped slopes, one
slope wrong)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from app.engine.gradients import central_difference
from app.kernel.checks.generic import Against, against, samples, where
from app.kernel.checks.mistakes import Mistakes, Test
from app.kernel.checks.registry import Verdict, check
from app.kernel.checks.values import (
    FloatArray,
    close,
    error,
    expression,
    numbers,
    shown,
)

GRADIENT_SLIPS = {
    "sign": (
        "The sign is flipped: your gradient points downhill, but a gradient points uphill. "
        "Use (prediction - y), not (y - prediction)."
    ),
    "mean": (
        "Your gradient is {n} times too small: you divided by the number of points, "
        "as for a mean. This loss is a sum, so its gradient is a plain sum too."
    ),
    "sum": (
        "Your gradient is {n} times too large: this loss is a mean, so divide your "
        "sums by the number of points."
    ),
    "twice": (
        "Your gradient is exactly twice the right one. The ½ in front of the loss cancels "
        "the 2 that comes down from the square."
    ),
    "half": "Your gradient is exactly half the right one: a factor 2 is missing.",
    "swapped": "The two slopes are swapped: return ({slopes}) in that order.",
    "factor": (
        "Your ∂L/∂{arg} gives exactly what ∂L/∂{other} should give. The two differ "
        "by one factor: for the weight of a line, each gap is multiplied by the "
        "input x_i of its point. Did you forget that factor in ∂L/∂{arg}?"
    ),
    "part_sign": "∂L/∂{arg} has the wrong sign; the other slopes are right.",
    "part_twice": "∂L/∂{arg} is twice what it should be; the other slopes are right.",
    "part_half": "∂L/∂{arg} is half what it should be; the other slopes are right.",
}
#: The slips of the whole gradient; the others are about one slope (field `arg`).
WHOLE = ("sign", "mean", "sum", "twice", "half", "swapped")


def _data_size(ns: Mapping[str, Any], params: Mapping[str, Any]) -> int | None:
    """How many data points the loss sums over, for the "mean instead of sum" message."""
    if "n" in params:
        return int(params["n"])
    data = params.get("constants", {}).get("data", ns.get("data"))
    try:
        return len(data) if data is not None else None
    except TypeError:
        return None


@check("gradient_matches", mistakes=tuple(GRADIENT_SLIPS), expressions=True)
def gradient_matches(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `function` returns the gradient of `loss`, one slope per argument, compared
    with central differences of the loss at random points (within `tolerance`, 1e-4, by the
    toolkit's rule).

    params: function (the learner's gradient), loss (the name of the learner's loss function, or
    an expression of the args), args (e.g. [w, b]), optional ranges, tolerance, constants (e.g.
    {data: [...]}), n (the number of data points; by default len(data)). Mistakes: expressions
    giving the whole gradient, or the names above (fields: n, slopes, arg, other).
    """
    setup = against(ns, params, "loss", 1e-4)
    if not isinstance(setup, Against):
        return setup
    name, fn, args, constants, loss, tol, rng = setup
    slopes = ", ".join(f"∂L/∂{a}" for a in args)

    points: list[dict[str, float]] = []
    got: list[FloatArray] = []
    want: list[FloatArray] = []
    for _ in range(int(params.get("trials", 12))):
        kw = samples(params, rng)
        point = [kw[a] for a in args]
        value = fn(*point)
        g = numbers(value, len(args))
        if g is None:
            return False, (
                f"`{name}` should return {len(args)} numbers, ({slopes}); it returned "
                f"{shown(value)}."
            )
        points.append(kw)
        got.append(g)
        want.append(central_difference(loss, point))

    worst = max(error(g, t) for g, t in zip(got, want, strict=True))
    if worst <= tol:
        return True, (
            f"Correct: `{name}` agrees with the slopes of the loss at every point we tried "
            f"(largest relative error {worst:.1e})."
        )

    def always(candidates: Sequence[FloatArray]) -> Test:
        """Does the learner's gradient equal the candidate at every point we tried?"""
        return lambda: all(close(g, c, 10 * tol) for g, c in zip(got, candidates, strict=True))

    def formula(text: str) -> Test:
        m = expression(text, constants)
        return always([np.asarray(m(**kw), dtype=np.float64) for kw in points])

    n = _data_size(ns, params) or 0
    tests: dict[str, Test] = {
        "sign": always([-t for t in want]),
        "twice": always([2 * t for t in want]),
        "half": always([t / 2 for t in want]),
    }
    if n > 1:
        tests["mean"] = always([t / n for t in want])
        tests["sum"] = always([t * n for t in want])
    if len(args) == 2:
        tests["swapped"] = always([t[::-1] for t in want])
    mistakes = Mistakes(params, {k: GRADIENT_SLIPS[k] for k in WHOLE})
    slip = mistakes.first(tests, formula, n=n, slopes=slopes)
    if slip is not None:
        return False, slip
    parts = Mistakes(params, GRADIENT_SLIPS)
    return _component_verdict(parts, name, args, points, got, want, tol)


def _component_verdict(
    mistakes: Mistakes,
    name: str,
    args: Sequence[str],
    points: Sequence[dict[str, float]],
    got: Sequence[FloatArray],
    want: Sequence[FloatArray],
    tol: float,
) -> Verdict:
    """Say which slopes are right and, where we can tell, what is wrong with the others."""

    def part_is(i: int, candidates: Sequence[float]) -> bool:
        """Is slope i of the learner's gradient equal to the candidate at every point?"""
        return all(close(g[i], c, 10 * tol) for g, c in zip(got, candidates, strict=True))

    def part(i: int, scale: float) -> Test:
        return lambda: part_is(i, [scale * float(t[i]) for t in want])

    right = [part_is(i, [float(t[i]) for t in want]) for i in range(len(args))]
    for i, a in enumerate(args):
        if right[i]:
            continue
        for j, other in enumerate(args):
            if j != i and right[j] and part_is(i, [float(t[j]) for t in want]):
                message = mistakes.message("factor", arg=a, other=other)
                if message is not None:
                    return False, message
        tests = {"part_sign": part(i, -1.0), "part_twice": part(i, 2.0), "part_half": part(i, 0.5)}
        slip = mistakes.first(tests, None, arg=a)
        if slip is not None:
            return False, slip
    kw, g, t = points[0], got[0], want[0]
    fixed = [a for a, ok in zip(args, right, strict=True) if ok]
    broken = [a for a, ok in zip(args, right, strict=True) if not ok]
    head = "Not yet"
    if fixed:
        head = (
            f"{', '.join(f'∂L/∂{a}' for a in fixed)} is right, but "
            f"{', '.join(f'∂L/∂{a}' for a in broken)} is not"
        )
    return False, (
        f"{head}: `{name}({where(args, kw)})` gave {_fmt(g)}, but the slopes there are {_fmt(t)}."
    )


def _fmt(values: FloatArray) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in values) + ")"
