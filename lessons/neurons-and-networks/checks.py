"""Checks for "Neurons and networks": a bump of a given height between two given points."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from app.kernel.checks import Mistakes, Verdict, check, define_first, learner_function, number


def _crossings(xs: np.ndarray, ys: np.ndarray, level: float) -> list[float]:
    """The x where the curve passes `level`, by linear interpolation between samples."""
    out = []
    for i in np.nonzero(np.diff(np.sign(ys - level)))[0]:
        x0, x1, y0, y1 = xs[i], xs[i + 1], ys[i], ys[i + 1]
        out.append(float(x0 + (level - y0) * (x1 - x0) / (y1 - y0)))
    return out


@check("bump", mistakes=("upside_down", "step", "wrong_height", "wrong_place", "too_soft"))
def bump(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `function` (bump) draws a bump of `height` between `left` and `right`:
    within `tolerance` (0.3) of the height from left + 0.75 to right - 0.75, within it of 0 over
    the rest of `x` except 0.75 next to each edge, and half the height within 0.25 of each edge.
    Mistakes: upside_down, step (it does not come back down), wrong_height, wrong_place,
    too_soft. Fields: top (the highest value), rise, fall (where it crosses half the height)."""
    name = str(params.get("function", "bump"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "x")
    left, right, height = (float(params[k]) for k in ("left", "right", "height"))
    lo, hi = (float(v) for v in params.get("x", [-10, 10]))
    tol, margin = float(params.get("tolerance", 0.3)), 0.75
    xs = np.linspace(lo, hi, 801)
    got = [number(fn(float(x))) for x in xs]
    if any(v is None for v in got):
        return False, f"`{name}(x)` should return one number for each x."
    ys = np.array(got, dtype=np.float64)
    inside = (xs >= left + margin) & (xs <= right - margin)
    outside = (xs <= left - margin) | (xs >= right + margin)
    crossings = _crossings(xs, ys, height / 2)
    rise = crossings[0] if crossings else float("nan")
    fall = crossings[-1] if len(crossings) > 1 else float("nan")
    flat_top = bool(np.all(np.abs(ys[inside] - height) <= tol))
    flat_floor = bool(np.all(np.abs(ys[outside]) <= tol))
    edges = abs(rise - left) <= 0.25 and abs(fall - right) <= 0.25
    if flat_top and flat_floor and edges:
        return True, (
            f"A bump: it rises through {height / 2:g} at x = {rise:.2f}, stays near {height:g}, "
            f"and falls back through {height / 2:g} at x = {fall:.2f}."
        )
    top = float(ys.max())
    slip = Mistakes(params).first(
        {
            "upside_down": lambda: float(ys.min()) < -height / 2 and top < height / 2,
            "step": lambda: (
                bool(np.abs(ys[xs >= right + margin]).min() > height / 2)
                or bool(np.abs(ys[xs <= left - margin]).min() > height / 2)
            ),
            "wrong_height": lambda: abs(top - height) > tol,
            "wrong_place": lambda: not edges,
            "too_soft": lambda: True,
        },
        top=top,
        rise=rise,
        fall=fall,
    )
    return False, slip or "Not yet a bump of the right height in the right place."
