"""Checks for "The line": a line through two target points."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.kernel.checks import Mistakes, Verdict, check, number, set_first


@check("line_through", mistakes=("slope_right", "through_one", "falls"))
def line_through(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The line my_w * x + my_b passes within `within` (0.05, measured up or down) of each of the
    two `points`. Mistakes: slope_right (the tilt is right, the height is not), through_one (it
    meets one point only), falls (the line falls where the points rise). Fields: w, b, miss."""
    names = (str(params.get("w", "my_w")), str(params.get("b", "my_b")))
    values = [number(ns.get(n)) for n in names]
    if any(v is None for v in values):
        return set_first(*names)
    w, b = (float(v) for v in values if v is not None)
    (x1, y1), (x2, y2) = ((float(x), float(y)) for x, y in params["points"])
    within = float(params.get("within", 0.05))
    misses = [abs(w * x1 + b - y1), abs(w * x2 + b - y2)]
    if max(misses) <= within:
        return True, f"On target: y = {w:g}x + {b:g} runs through both points."
    slope = (y2 - y1) / (x2 - x1)
    fields = {"w": w, "b": b, "miss": max(misses)}
    slip = Mistakes(params).first(
        {
            "falls": lambda: w * slope < 0,
            "slope_right": lambda: abs(w - slope) < 0.05,
            "through_one": lambda: min(misses) <= within,
        },
        **fields,
    )
    return False, slip or (
        f"Not yet: y = {w:g}x + {b:g} misses a point by {max(misses):.2f}. Drag the sliders until "
        "the line touches both red points."
    )
