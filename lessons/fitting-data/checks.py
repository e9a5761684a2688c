"""Checks for "Fitting data": a fit by hand to the learner's own data, and a prediction of what
one far-off point does to the best line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from app.kernel.checks import Mistakes, Verdict, array, check, good_fit


def _learners_data(ns: Mapping[str, Any], name: str) -> np.ndarray | str:
    """The learner's data as an (n, 2) array, or words saying what is wrong with it."""
    pts = array(ns.get(name))
    if pts is None or pts.ndim != 2 or pts.shape[1] != 2:
        return f"`{name}` should be a list of (x, y) pairs; run the data cell again."
    if pts.shape[0] < 2 or np.ptp(pts[:, 0]) == 0:
        return f"`{name}` needs at least two points with different x to fit a line."
    return pts


@check("fits_your_data")
def fits_your_data(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The toolkit's good_fit, on the data as the learner's code left it (params: w, b, within,
    data: the name of the learner's variable)."""
    pts = _learners_data(ns, str(params.get("data", "data")))
    if isinstance(pts, str):
        return False, pts
    return good_fit(ns, {**params, "data": pts.tolist()})


@check("moved_point", mistakes=("flatter", "same"))
def moved_point(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `variable` is "steeper", "flatter" or "same": what happens to the best
    line's slope when the point at x = `x` moves to y = `to`, computed with numpy.polyfit on the
    learner's data. Mistakes: flatter, same (the wrong answers). Fields: before, after."""
    name = str(params.get("variable", "prediction"))
    said = str(ns.get(name, "")).strip().lower()
    choices = ("steeper", "flatter", "same")
    if said not in choices:
        return False, f'Set `{name}` to "steeper", "flatter" or "same", press Run, then Check.'
    pts = _learners_data(ns, "data")
    if isinstance(pts, str):
        return False, pts
    before = float(np.polyfit(pts[:, 0], pts[:, 1], 1)[0])
    moved = pts.copy()
    moved[moved[:, 0] == float(params["x"]), 1] = float(params["to"])
    after = float(np.polyfit(moved[:, 0], moved[:, 1], 1)[0])
    truth = "same" if abs(after - before) < 1e-9 else ("steeper" if after > before else "flatter")
    fields = {"before": before, "after": after}
    if said == truth:
        return True, (
            f"Right: the best slope goes from {before:.3f} to {after:.3f}. Try it: change the "
            "point in the data cell, press Run, and fit again."
        )
    slip = Mistakes(params).message(said, **fields)
    return False, slip or f"Not what happens: the best slope goes from {before:.3f} to {after:.3f}."
