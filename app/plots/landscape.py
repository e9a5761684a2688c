"""The loss landscape: surface and contour of the learner's `loss(w, b)`, a marker at the slider
position and the gradient as an arrow. The grid is computed once per code change, in one request
(vectorised when the learner's code broadcasts, else a scalar loop under a time budget); a
slider move only recomputes the point, the gradient and the arrows."""

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
    contour_trace,
    encode,
    learner_function,
    loss_colors,
    loss_grid,
    progress_reporter,
)
from app.plots.data_range import RangeMode, figure_wb, with_wb

DISAGREE = 1e-4


class LandscapeOptions(Options):
    function: str = "loss"
    gradient: str | None = None
    """The learner's gradient(w, b) -> (dL/dw, dL/db), drawn as an arrow when given."""
    w: tuple[float, float] = (-10.0, 10.0)
    b: tuple[float, float] = (-15.0, 15.0)
    resolution: int = 61
    budget_s: float = 3.0
    log_color: bool = True
    height: int = 460
    data: str | None = None
    """The learner's (x, y) pairs, for `range: data` (w and b around their least-squares fit)."""
    range: RangeMode = "auto"


class LandscapeKind(PlotKind[LandscapeOptions]):
    name: ClassVar[str] = "landscape"
    options_model = LandscapeOptions
    function_options: ClassVar[tuple[str, ...]] = ("function", "gradient")
    readout_labels: ClassVar[dict[str, str]] = {
        "loss": "loss",
        "grad_w": "your ∂L/∂w",
        "grad_b": "your ∂L/∂b",
        "slope_w": "∂L/∂w",
        "slope_b": "∂L/∂b",
        "auto_w": "autograd ∂L/∂w",
        "auto_b": "autograd ∂L/∂b",
        "rel_error": "relative error",
    }

    def evaluate(
        self,
        ns: Mapping[str, Any],
        options: LandscapeOptions,
        values: Mapping[str, float],
        whole: bool,
    ) -> Result:
        from app.engine.gradients import (  # torch, kernel only
            autograd_gradient,
            central_difference,
            relative_error,
        )

        loss = learner_function(ns, options.function)
        names = list(values)
        if len(names) != 2:
            raise PlotError("A landscape needs exactly two sliders: the weight and the bias.")
        w0, b0 = float(values[names[0]]), float(values[names[1]])
        result: Result = {"at_w": w0, "at_b": b0}
        options = with_wb(options, ns, options.data, result)
        if whole:
            ws = np.linspace(*options.w, options.resolution)
            bs = np.linspace(*options.b, options.resolution)
            report = progress_reporter.get()
            grid = loss_grid(
                loss,
                ws,
                bs,
                budget_s=options.budget_s,
                progress=(lambda f: report(f * 100, 100, "landscape")) if report else None,
            )
            result.update(
                {
                    "ws": ws,
                    "bs": bs,
                    "z": grid.z,
                    "vectorised": float(grid.mode == "vectorised"),
                    "complete": float(grid.complete),
                }
            )
        value = as_float_array(loss(w0, b0), options.function, ())
        check_finite(value, options.function)
        result["loss"] = float(value)
        if not options.gradient:
            # No gradient of the learner's to check: the arrow only shows the way uphill, and
            # central differences draw it for a fraction of autograd's cost on every move.
            slope = central_difference(lambda w, b: float(loss(w, b)), [w0, b0])
            if np.all(np.isfinite(slope)):
                result["slope_w"], result["slope_b"] = float(slope[0]), float(slope[1])
            return result
        auto = autograd_gradient(loss, [w0, b0])
        if auto is not None and np.all(np.isfinite(auto)):
            result["auto_w"], result["auto_b"] = float(auto[0]), float(auto[1])
        if options.gradient:
            fn = learner_function(ns, options.gradient)
            g = as_float_array(fn(w0, b0), options.gradient, (2,))
            check_finite(g, options.gradient)
            result["grad_w"], result["grad_b"] = float(g[0]), float(g[1])
            if auto is not None:
                result["rel_error"] = relative_error(g, auto)
        return result

    # ------------------------------------------------------------------ drawing

    def _arrow(self, options: LandscapeOptions, r: Result, key: str) -> tuple[list[Any], list[Any]]:
        """A segment from the point along the gradient, scaled to a readable fixed length."""
        if f"{key}_w" not in r:
            return [], []
        gw, gb = r[f"{key}_w"], r[f"{key}_b"]
        norm = float(
            np.hypot(gw / (options.w[1] - options.w[0]), gb / (options.b[1] - options.b[0]))
        )
        if norm == 0:
            return [r["at_w"]], [r["at_b"]]
        scale = 0.18 / norm
        return [r["at_w"], r["at_w"] + gw * scale], [r["at_b"], r["at_b"] + gb * scale]

    def _moving(self, options: LandscapeOptions, r: Result) -> dict[str, list[Any]]:
        gx, gy = self._arrow(options, r, "grad")
        show_auto = "rel_error" not in r or r["rel_error"] > DISAGREE
        ax, ay = self._arrow(options, r, "auto") if (options.gradient and show_auto) else ([], [])
        if not options.gradient:
            gx, gy = self._arrow(options, r, "slope")
        return {
            "x": [[r["at_w"]], [r["at_w"]], gx, ax],
            "y": [[r["at_b"]], [r["at_b"]], gy, ay],
            "z": [[r["loss"]], None, None, None],
        }

    def figure(self, options: LandscapeOptions, result: Result) -> Figure:
        options = figure_wb(options, result)
        z = np.asarray(result["z"])
        color = loss_colors(z, options.log_color)
        layout = base_layout(options)
        layout["margin"]["l"] = 10
        layout["scene"] = {
            "domain": {"x": [0.0, 0.5], "y": [0.0, 1.0]},
            "xaxis": {"title": {"text": "w"}, "nticks": 5},
            "yaxis": {"title": {"text": "b"}, "nticks": 5},
            "zaxis": {"title": {"text": options.function}, "nticks": 5},
            "camera": {"eye": {"x": 1.8, "y": -1.8, "z": 1.15}},  # axis titles and ticks in view
        }
        layout["xaxis"] = {"domain": [0.58, 1.0], "title": {"text": "w"}, "range": list(options.w)}
        layout["yaxis"] = {"title": {"text": "b"}, "range": list(options.b)}
        moving = self._moving(options, result)
        surface = {
            "type": "surface",
            "x": encode(result["ws"]),
            "y": encode(result["bs"]),
            "z": encode(z),
            "surfacecolor": encode(color),
            "colorscale": "Viridis",
            "showscale": False,
            "opacity": 0.95,
        }
        contour = contour_trace(result["ws"], result["bs"], color)
        marker3d = {
            "type": "scatter3d",
            "mode": "markers",
            "x": moving["x"][0],
            "y": moving["y"][0],
            "z": moving["z"][0],
            "marker": {"size": 5, "color": "#e4572e"},
            "name": "you",
        }
        marker = {
            "type": "scatter",
            "mode": "markers",
            "x": moving["x"][1],
            "y": moving["y"][1],
            "marker": {"size": 11, "color": "#e4572e", "line": {"color": "#fff", "width": 2}},
            "name": "(w, b)",
            # The page lets the learner drag it: x moves the plot's first slider, y its second.
            "meta": {"drag": {"x": 0, "y": 1}},
        }
        arrow = {
            "type": "scatter",
            "mode": "lines+markers",
            "x": moving["x"][2],
            "y": moving["y"][2],
            "line": {"color": "#ffffff", "width": 3},
            "marker": {
                "symbol": "arrow",
                "angleref": "previous",
                "size": [0, 14],
                "color": "#ffffff",
            },
            "name": "your gradient" if options.gradient else "gradient",
        }
        auto = {
            "type": "scatter",
            "mode": "lines+markers",
            "x": moving["x"][3],
            "y": moving["y"][3],
            "line": {"color": "#ffb000", "width": 2, "dash": "dash"},
            "marker": {
                "symbol": "arrow",
                "angleref": "previous",
                "size": [0, 12],
                "color": "#ffb000",
            },
            "name": "autograd gradient",
        }
        return {"data": [surface, contour, marker3d, marker, arrow, auto], "layout": layout}

    def patch(self, options: LandscapeOptions, result: Result) -> Patch:
        moving = self._moving(options, result)
        return {
            "traces": [2, 3, 4, 5],
            "data": {"x": moving["x"], "y": moving["y"]},
            "extra": [{"traces": [2], "data": {"z": [moving["z"][0]]}}],
        }
