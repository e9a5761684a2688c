"""Checks for "Several inputs": a plane through three given points."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from app.kernel.checks import Mistakes, Verdict, check, number, set_first


@check("plane_through", mistakes=("bias_only", "swapped"))
def plane_through(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The plane my_w1 * x1 + my_w2 * x2 + my_b passes within `within` (0.05) of each of the
    `points` (x1, x2, y). Mistakes: bias_only (the height at the origin is right, the tilts are
    not), swapped (w1 and w2 exchanged). Field: worst (the largest miss)."""
    names = [str(params.get(k, f"my_{k}")) for k in ("w1", "w2", "b")]
    values = [number(ns.get(n)) for n in names]
    if any(v is None for v in values):
        return set_first(*names)
    w1, w2, b = (float(v) for v in values if v is not None)
    pts = np.asarray(params["points"], dtype=np.float64)
    misses = np.abs(w1 * pts[:, 0] + w2 * pts[:, 1] + b - pts[:, 2])
    within = float(params.get("within", 0.05))
    if misses.max() <= within:
        return True, f"Through all three: y = {w1:g}·x1 + {w2:g}·x2 + {b:g}."
    right = np.linalg.solve(np.column_stack([pts[:, :2], np.ones(3)]), pts[:, 2])
    slip = Mistakes(params).first(
        {
            "swapped": lambda: abs(w1 - right[1]) < 0.05 and abs(w2 - right[0]) < 0.05,
            "bias_only": lambda: abs(b - right[2]) < 0.05,
        },
        worst=float(misses.max()),
    )
    worst = int(np.argmax(misses))
    x1, x2, y = pts[worst]
    return False, slip or (
        f"Not yet: at x1 = {x1:g}, x2 = {x2:g} your plane has height "
        f"{w1 * x1 + w2 * x2 + b:.3g}, but the point is at {y:g}."
    )
