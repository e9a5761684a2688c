"""Checks for "The loss": the L2 loss on the data as the learner's code left it, and a
prediction of which loss an outlier hurts more."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from app.kernel.checks import Mistakes, Verdict, array, check, function_matches


def _data(ns: Mapping[str, Any]) -> np.ndarray | None:
    pts = array(ns.get("data"))
    return pts if pts is not None and pts.ndim == 2 and pts.shape[1] == 2 else None


@check("loss_on_your_data", expressions=True)
def loss_on_your_data(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The toolkit's function_matches, with `data` (the constant the formulas use) taken from
    the learner's namespace: the loss is compared on the points the learner's code has now."""
    pts = _data(ns)
    if pts is None:
        return False, "`data` should be a list of (x, y) pairs: run the cell again."
    return function_matches(ns, {**params, "constants": {"data": pts.tolist()}})


def _losses(pts: np.ndarray, w: float, b: float) -> tuple[float, float]:
    gaps = w * pts[:, 0] + b - pts[:, 1]
    return float(np.abs(gaps).sum()), float(0.5 * (gaps**2).sum())


@check("outlier_hurts", mistakes=("l1", "same"))
def outlier_hurts(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `variable` names the loss ("L1" or "L2") that grows more when the point at
    x = `x` moves to y = `to`, for the line (`w`, `b`), on the learner's data. Mistakes: l1,
    same. Fields: l1_before, l1_after, l2_before, l2_after."""
    name = str(params.get("variable", "prediction"))
    said = str(ns.get(name, "")).strip().upper()
    if said not in ("L1", "L2", "SAME"):
        return False, f'Set `{name}` to "L1", "L2" or "same", press Run, then Check.'
    pts = _data(ns)
    if pts is None:
        return False, "`data` should be a list of (x, y) pairs: run the cell again."
    w, b = float(params["w"]), float(params["b"])
    moved = pts.copy()
    moved[moved[:, 0] == float(params["x"]), 1] = float(params["to"])
    (l1_before, l2_before), (l1_after, l2_after) = _losses(pts, w, b), _losses(moved, w, b)
    grow1, grow2 = l1_after - l1_before, l2_after - l2_before
    truth = "SAME" if abs(grow1 - grow2) < 1e-9 else ("L2" if grow2 > grow1 else "L1")
    fields = {
        "l1_before": l1_before,
        "l1_after": l1_after,
        "l2_before": l2_before,
        "l2_after": l2_after,
    }
    if said == truth:
        return True, (
            f"Right: L1 goes from {l1_before:.3f} to {l1_after:.3f}, L2 from {l2_before:.4f} to "
            f"{l2_after:.3f}. Now make the change and watch the readouts."
        )
    slip = Mistakes(params).message(said.lower(), **fields)
    return False, slip or (
        f"Not so: L1 goes from {l1_before:.3f} to {l1_after:.3f}, L2 from {l2_before:.4f} to "
        f"{l2_after:.3f}."
    )
