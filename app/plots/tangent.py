"""A function of one variable with its tangent at a slider position, and the slope there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

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
)
from app.plots.curve import evaluate_curve_at


class TangentOptions(Options):
    function: str = "f"
    derivative: str | None = None
    """The learner's derivative df(x); without it the slope comes from central differences."""
    x: tuple[float, float] = (-2.5, 2.5)
    y: tuple[float, float] | None = None
    points: int = 201
    half_width: float = 0.8
    x_label: str = "x"


class TangentKind(PlotKind[TangentOptions]):
    name: ClassVar[str] = "tangent"
    options_model = TangentOptions
    function_options: ClassVar[tuple[str, ...]] = ("function", "derivative")
    readout_labels: ClassVar[dict[str, str]] = {"x0": "x", "f(x)": "f(x)", "slope": "slope"}

    def labels(self, options: TangentOptions) -> dict[str, str]:
        """Named after the lesson's axis: `w`, `L(w)` and `slope` where the lesson is about w."""
        x = options.x_label
        return {"x0": x, "f(x)": f"{options.function}({x})", "slope": "slope"}

    def evaluate(
        self,
        ns: Mapping[str, Any],
        options: TangentOptions,
        values: Mapping[str, float],
        whole: bool,
    ) -> Result:
        from app.engine.gradients import central_difference  # torch, kernel only

        if len(values) != 1:
            raise PlotError("A tangent plot needs exactly one slider: the position x.")
        x0 = float(next(iter(values.values())))
        f = learner_function(ns, options.function)
        fx = as_float_array(f(x0), options.function, ())
        check_finite(fx, options.function)
        if options.derivative:
            df = learner_function(ns, options.derivative)
            slope = as_float_array(df(x0), options.derivative, ())
            check_finite(slope, options.derivative)
        else:
            slope = central_difference(lambda v: float(f(v)), [x0])[0]
        result: Result = {"x0": x0, "f(x)": float(fx), "slope": float(slope)}
        if whole:
            xs = np.linspace(*options.x, options.points)
            result["xs"], result["ys"] = xs, evaluate_curve_at(ns, options.function, xs, {})
        return result

    def _tangent(self, options: TangentOptions, r: Result) -> dict[str, list[Any]]:
        h = options.half_width
        tx = [r["x0"] - h, r["x0"] + h]
        ty = [r["f(x)"] - h * r["slope"], r["f(x)"] + h * r["slope"]]
        return {"x": [tx, [r["x0"]]], "y": [ty, [r["f(x)"]]]}

    def figure(self, options: TangentOptions, result: Result) -> Figure:
        layout = base_layout(options)
        layout["xaxis"] = {"range": list(options.x), "title": {"text": options.x_label}}
        layout["yaxis"] = {"title": {"text": f"{options.function}({options.x_label})"}}
        if options.y:
            layout["yaxis"]["range"] = list(options.y)
        t = self._tangent(options, result)
        data = [
            {
                "type": "scatter",
                "mode": "lines",
                "x": encode(result["xs"]),
                "y": encode(result["ys"]),
                "line": {"color": "#2f6fdf", "width": 3},
                "name": options.function,
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": t["x"][0],
                "y": t["y"][0],
                "line": {"color": "#e4572e", "width": 2},
                "name": "tangent",
            },
            {
                "type": "scatter",
                "mode": "markers",
                "x": t["x"][1],
                "y": t["y"][1],
                "marker": {"color": "#e4572e", "size": 12},
                "name": "x",
                # The page lets the learner drag the point along the curve: x is the slider.
                "meta": {"drag": {"x": 0}},
            },
        ]
        return {"data": data, "layout": layout}

    def patch(self, options: TangentOptions, result: Result) -> Patch:
        t = self._tangent(options, result)
        return {"traces": [1, 2], "data": {"x": t["x"], "y": t["y"]}}
