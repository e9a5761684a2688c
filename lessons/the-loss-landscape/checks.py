"""Checks for "The loss landscape": the grid search finds the lowest point of the learner's own
loss, and a prediction of how many lines the search tries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from app.kernel.checks import Mistakes, Verdict, array, check, good_fit, number, set_first


@check("search_finds_best_fit")
def search_finds_best_fit(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The toolkit's good_fit (params: w, b, within), on `data` as the learner's code has it."""
    pts = array(ns.get("data"))
    if pts is None or pts.ndim != 2 or pts.shape[1] != 2:
        return False, "`data` should be a list of (x, y) pairs: run the loss cell again."
    return good_fit(ns, {**params, "data": pts.tolist()})


@check("lines_tried", mistakes=("added", "one_axis"))
def lines_tried(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `variable` equals the number of (w, b) pairs the search cell tries:
    len(np.arange(*w_range)) * len(np.arange(*b_range)). Mistakes: added (the two counts
    added instead of multiplied), one_axis (one count only). Fields: nw, nb."""
    name = str(params.get("variable", "prediction"))
    got = number(ns.get(name))
    if got is None:
        return set_first(name)
    nw = len(np.arange(*(float(v) for v in params["w_range"])))
    nb = len(np.arange(*(float(v) for v in params["b_range"])))
    if got == nw * nb:
        return True, f"Right: {nw} values of w times {nb} values of b is {nw * nb} lines."
    slip = Mistakes(params).first(
        {"added": lambda: got == nw + nb, "one_axis": lambda: got in (nw, nb)}, nw=nw, nb=nb
    )
    return (
        False,
        slip or "Not quite. How many values does each loop take, and how do they combine?",
    )
