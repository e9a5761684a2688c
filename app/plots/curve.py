"""Curves y(x, ...) over one input: the line fit and the sigmoid."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import numpy as np

from app.plots.base import (
    Figure,
    Options,
    Patch,
    PlotError,
    PlotKind,
    Result,
    as_float_array,
    base_layout,
    check_finite,
    encode,
    learner_function,
    slider_arguments,
)
from app.plots.data_range import RangeMode, put_span, spans_of, wanted, xy_spans


class CurveOptions(Options):
    function: str = "y"
    x: tuple[float, float] = (-10.0, 10.0)
    y: tuple[float, float] | None = (-10.0, 10.0)
    points: int = 101
    data: str | None = None
    """Name of a variable in the learner's code holding (x, y) pairs to draw as points."""
    residuals: bool = False
    x_label: str = "x"
    y_label: str = "y"
    range: RangeMode = "auto"
    """`data`: the axes span the data (a learner's own data may have any scale)."""
    squares: bool = False
    """With `residuals`: each gap can also be drawn as a square on it (side = the gap, so its
    area is the gap squared, what L2 charges for it); a toggle under the plot shows them. The
    axes then share one scale, so the squares are squares on screen."""
    draggable: Literal["points"] | None = None
    """`points`: the learner may drag the data points on the page; the new table goes to the
    kernel as the learner's own data (the lesson must declare `data:`)."""


SQUARES_TOGGLE = "Show each gap as a square: its area is the gap squared"


def data_points(ns: Mapping[str, Any], name: str) -> tuple[np.ndarray, np.ndarray]:
    """The learner's data set as two float arrays, or a PlotError saying what shape we expect."""
    raw = ns.get(name)
    if raw is None:
        raise PlotError(f"There is no `{name}` yet: define it as a list of (x, y) pairs.")
    try:
        pts = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise PlotError(f"`{name}` should be a list of (x, y) pairs of numbers.") from None
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise PlotError(f"`{name}` should be a list of (x, y) pairs, got shape {pts.shape}.")
    if pts.shape[0] > 10_000:
        raise PlotError(f"`{name}` has {pts.shape[0]} points; at most 10000 can be drawn.")
    check_finite(pts, name)
    return pts[:, 0], pts[:, 1]


def evaluate_curve_at(
    ns: Mapping[str, Any], function: str, xs: np.ndarray, values: Mapping[str, float]
) -> np.ndarray:
    """The learner's y at every x: one vectorised call when their code allows, else a loop."""
    fn = learner_function(ns, function)
    kwargs = slider_arguments(fn, function, 1, values)
    try:
        ys = as_float_array(fn(xs, **kwargs), function, xs.shape)
    except Exception:
        ys = np.array(
            [as_float_array(fn(float(x), **kwargs), function, ()) for x in xs], dtype=np.float64
        )
    check_finite(ys, function)
    return ys


@functools.lru_cache(maxsize=64)
def _grid(lo: float, hi: float, points: int) -> np.ndarray:
    return np.linspace(lo, hi, points)


def grid(lo: float, hi: float, points: int) -> np.ndarray:
    """The x values a curve is drawn at: made once, copied for each move (learner code may
    change the array it is given)."""
    return _grid(float(lo), float(hi), int(points)).copy()


class LineKind(PlotKind[CurveOptions]):
    """y = f(x) drawn over a range, with optional data points and residual segments."""

    name: ClassVar[str] = "line"
    options_model = CurveOptions
    function_options: ClassVar[tuple[str, ...]] = ("function",)
    color: ClassVar[str] = "#2f6fdf"

    def evaluate(
        self, ns: Mapping[str, Any], options: CurveOptions, values: Mapping[str, float], whole: bool
    ) -> Result:
        spans = None
        if options.data and wanted(options.range, ns):
            spans = xy_spans(*data_points(ns, options.data))
        lo, hi = spans[0] if spans else options.x
        xs = grid(lo, hi, options.points)
        ys = evaluate_curve_at(ns, options.function, xs, values)
        if not whole and not options.residuals:
            # A slider move: the patch is the curve alone; x, the data and the axes' spans
            # change only with a Run or new data, and those draw the whole figure.
            return {"y": ys}
        result: Result = {"x": xs, "y": ys}
        if spans:
            put_span(result, "range_x", spans[0])
            put_span(result, "range_y", spans[1])
        if options.data:
            dx, dy = data_points(ns, options.data)
            result["data_x"], result["data_y"] = dx, dy
            if options.residuals:
                result["fit_y"] = evaluate_curve_at(ns, options.function, dx, values)
        return result

    def figure(self, options: CurveOptions, result: Result) -> Figure:
        layout = base_layout(options)
        layout["xaxis"] = {
            "range": list(spans_of(result, "range_x", options.x)),
            "title": {"text": options.x_label},
            "zeroline": True,
        }
        layout["yaxis"] = {"title": {"text": options.y_label}, "zeroline": True}
        if options.y or "range_y_lo" in result:
            layout["yaxis"]["range"] = list(spans_of(result, "range_y", options.y or (0, 1)))
        if options.squares and "fit_y" in result:
            layout["xaxis"]["constrain"] = "domain"
            layout["yaxis"].update(scaleanchor="x", scaleratio=1)
        data: list[dict[str, Any]] = [
            {
                "type": "scatter",
                "mode": "lines",
                "name": options.function,
                "x": encode(result["x"]),
                "y": encode(result["y"]),
                "line": {"color": self.color, "width": 3},
            }
        ]
        if "data_x" in result:
            data.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": "data",
                    "x": encode(result["data_x"]),
                    "y": encode(result["data_y"]),
                    "marker": {"color": "#e4572e", "size": 9},
                    **({"meta": {"drag": "data"}} if options.draggable == "points" else {}),
                }
            )
        if "fit_y" in result:
            rx, ry = self._residual_segments(result)
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": "residuals",
                    "x": rx,
                    "y": ry,
                    "line": {"color": "#e4572e", "width": 1.5, "dash": "dot"},
                }
            )
            if options.squares:
                sx, sy = self._squares(result)
                data.append(
                    {
                        "type": "scatter",
                        "mode": "lines",
                        "name": "squared gaps",
                        "x": sx,
                        "y": sy,
                        "fill": "toself",
                        "fillcolor": "rgba(228, 87, 46, 0.18)",
                        "line": {"color": "#e4572e", "width": 1},
                        "hoverinfo": "skip",
                        "visible": False,
                        "meta": {"toggle": SQUARES_TOGGLE},
                    }
                )
        return {"data": data, "layout": layout}

    def patch(self, options: CurveOptions, result: Result) -> Patch:
        patch: Patch = {"traces": [0], "data": {"y": [encode(result["y"])]}}
        if "fit_y" in result:
            _, ry = self._residual_segments(result)
            patch["extra"] = [{"traces": [2], "data": {"y": [ry]}}]
            if options.squares:
                sx, sy = self._squares(result)
                patch["extra"].append({"traces": [3], "data": {"x": [sx], "y": [sy]}})
        return patch

    @staticmethod
    def _squares(result: Result) -> tuple[list[float | None], list[float | None]]:
        """Each gap as a closed square standing on it, to the right of its data point."""
        sx: list[float | None] = []
        sy: list[float | None] = []
        for x, y, f in zip(result["data_x"], result["data_y"], result["fit_y"], strict=True):
            x, y, f = float(x), float(y), float(f)
            side = abs(f - y)
            sx += [x, x, x + side, x + side, x, None]
            sy += [y, f, f, y, y, None]
        return [v if v is None else round(v, 6) for v in sx], [
            v if v is None else round(v, 6) for v in sy
        ]

    @staticmethod
    def _residual_segments(result: Result) -> tuple[list[float | None], list[float | None]]:
        rx: list[float | None] = []
        ry: list[float | None] = []
        for x, y, f in zip(result["data_x"], result["data_y"], result["fit_y"], strict=True):
            rx += [round(float(x), 6), round(float(x), 6), None]
            ry += [round(float(y), 6), round(float(f), 6), None]
        return rx, ry


class SigmoidKind(LineKind):
    """The sigmoid of a line: the same curve, on a y axis from 0 to 1."""

    name: ClassVar[str] = "sigmoid"
    color: ClassVar[str] = "#7b3fbf"

    def parse_options(self, raw: Mapping[str, Any]) -> CurveOptions:
        merged = {"y": (-0.1, 1.1), **dict(raw)}
        return self.options_model.model_validate(merged)
