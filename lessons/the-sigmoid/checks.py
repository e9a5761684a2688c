"""Checks for "The sigmoid": a switch at a given place with a given sharpness."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from app.kernel.checks import Mistakes, Verdict, check, number, set_first, sigmoid


@check("switch_at", mistakes=("flipped", "wrong_place", "too_soft", "too_sharp"))
def switch_at(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """σ(my_w x + my_b) is ½ at `centre` and `high` (within 0.02) at `centre + 1`: off for small
    x, on for large. Mistakes: flipped (on for small x), wrong_place (½ elsewhere), too_soft,
    too_sharp (right place, wrong steepness). Fields: w, b, where (the x where it is ½), at
    (its value at centre + 1)."""
    names = (str(params.get("w", "my_w")), str(params.get("b", "my_b")))
    values = [number(ns.get(n)) for n in names]
    if any(v is None for v in values):
        return set_first(*names)
    w, b = (float(v) for v in values if v is not None)
    centre, high = float(params["centre"]), float(params["high"])
    half = float(sigmoid(w * centre + b))
    at = float(sigmoid(w * (centre + 1) + b))
    if abs(half - 0.5) <= 0.02 and abs(at - high) <= 0.02:
        return True, (
            f"That is the switch: ½ at x = {centre:g}, {at:.2f} at x = {centre + 1:g}, "
            f"{float(sigmoid(w * (centre - 1) + b)):.2f} at x = {centre - 1:g}."
        )
    where = -b / w if w else math.inf
    slip = Mistakes(params).first(
        {
            "flipped": lambda: w < 0,
            "wrong_place": lambda: abs(half - 0.5) > 0.02,
            "too_soft": lambda: at < high,
            "too_sharp": lambda: at > high,
        },
        w=w,
        b=b,
        where=where,
        at=at,
    )
    return False, slip or (
        f"Not yet: your switch is ½ at x = {where:.3g} and {at:.3f} one step to the right."
    )
