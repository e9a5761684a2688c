"""Axis ranges taken from the data (a plot's option `range: data`), so that a learner's own
data set, whatever its scale, fills the line plot and puts the valley of the loss landscape in
view. Kernel side: computed from the learner's (x, y) pairs in the namespace; the ranges travel
as scalars of the result, and the figure (web side) reads them back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar

import numpy as np
from pydantic import BaseModel

RangeMode = Literal["auto", "fixed", "data"]
#: The kernel's note in the learner's namespace that their own data is bound: the names of its
#: variables. Under `range: auto` (the default) a plot takes its ranges from the data then.
OWN_DATA = "_descent_own_data"
Span = tuple[float, float]
M = TypeVar("M", bound=BaseModel)
KEYS = ("range_x", "range_y", "range_w", "range_b")


def padded(lo: float, hi: float, pad: float = 0.1) -> Span:
    """[lo, hi] widened by `pad` of its width on each side (1 when it has none)."""
    width = hi - lo if hi > lo else max(1.0, abs(lo))
    return lo - pad * width, hi + pad * width


def xy_spans(xs: np.ndarray, ys: np.ndarray) -> tuple[Span, Span]:
    return padded(float(xs.min()), float(xs.max())), padded(float(ys.min()), float(ys.max()))


def wb_spans(xs: np.ndarray, ys: np.ndarray) -> tuple[Span, Span]:
    """Ranges of (w, b) around the least-squares line of the data, wide enough to show the
    valley: three times the fit's own size, or the data's scale where the fit is near 0."""
    if len(xs) >= 2 and float(np.ptp(xs)) > 0:
        w_best, b_best = (float(v) for v in np.polyfit(xs, ys, 1))
    else:
        w_best, b_best = 0.0, float(np.mean(ys))
    sx, sy = float(np.std(xs)) or 1.0, float(np.std(ys)) or 1.0
    half_w = max(3 * abs(w_best), 2 * sy / sx, 1e-6)
    half_b = max(3 * abs(b_best), 3 * sy + abs(float(np.mean(xs))) * half_w, 1e-6)
    return (w_best - half_w, w_best + half_w), (b_best - half_b, b_best + half_b)


def wanted(mode: str, ns: Mapping[str, Any]) -> bool:
    """Whether a plot takes its ranges from the data: asked (`data`), or `auto` while the
    learner's own data is bound."""
    return mode == "data" or (mode == "auto" and bool(ns.get(OWN_DATA)))


def data_pairs(ns: Mapping[str, Any], name: str | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The learner's (x, y) pairs (the plot's `data`, else the lesson's declared variables),
    or None when there are none usable (the fixed ranges stay)."""
    own = ns.get(OWN_DATA) or []
    try:
        if name and name in ns:
            pts = np.asarray(ns[name], dtype=np.float64)
        elif len(own) == 1:
            pts = np.asarray(ns[own[0]], dtype=np.float64)
        elif len(own) == 2:
            cols = [np.asarray(_plain(ns[v]), dtype=np.float64).ravel() for v in own]
            pts = np.column_stack(cols)
        else:
            return None
    except (TypeError, ValueError, KeyError):
        return None
    if pts.ndim != 2 or pts.shape[1] != 2 or not len(pts) or not np.isfinite(pts).all():
        return None
    return pts[:, 0], pts[:, 1]


def _plain(value: Any) -> Any:
    """A torch tensor as numpy (lessons of later tracks bind tensors)."""
    detach = getattr(value, "detach", None)
    return detach().cpu().numpy() if callable(detach) else value


def spans_of(result: Mapping[str, Any], key: str, fallback: Span) -> Span:
    lo, hi = result.get(f"{key}_lo"), result.get(f"{key}_hi")
    return (float(lo), float(hi)) if lo is not None and hi is not None else fallback


def put_span(result: dict[str, Any], key: str, span: Span) -> None:
    result[f"{key}_lo"], result[f"{key}_hi"] = span


def with_wb(options: M, ns: Mapping[str, Any], name: str | None, result: dict[str, Any]) -> M:
    """`options` with its w and b ranges from the data (noted in `result`), when it asks."""
    if not wanted(str(getattr(options, "range", "fixed")), ns):
        return options
    pairs = data_pairs(ns, name)
    if pairs is None:
        return options
    w, b = wb_spans(*pairs)
    put_span(result, "range_w", w)
    put_span(result, "range_b", b)
    return options.model_copy(update={"w": w, "b": b})


def figure_wb(options: M, result: Mapping[str, Any]) -> M:
    """Web side: the options with the ranges the kernel computed, if it did."""
    if "range_w_lo" not in result:
        return options
    w = spans_of(result, "range_w", getattr(options, "w"))  # noqa: B009
    b = spans_of(result, "range_b", getattr(options, "b"))  # noqa: B009
    return options.model_copy(update={"w": w, "b": b})
