"""Gradient descent, live: the learner's `update()` (or `train(n)`) moves global parameters; each
frame shows the fit, the path on the loss landscape, the loss curve and the counters.

The web process drives it frame by frame: it asks the kernel for `speed` more iterations only
after the previous frame went out, so the page never lags behind the kernel and Pause takes
effect at the next frame."""

from __future__ import annotations

import math
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
    contour_trace,
    encode,
    learner_function,
    loss_colors,
    loss_grid,
)
from app.plots.curve import data_points, evaluate_curve_at

STATE = "_descent_training"


class TrainingOptions(Options):
    update: str = "update"
    train: str | None = None
    """The learner's train(iterations); when given, frames call it instead of update()."""
    model: str = "y"
    loss: str = "loss"
    gradient: str | None = "gradient"
    data: str = "data"
    params: tuple[str, str] = ("w", "b")
    start: tuple[float, float] = (0.0, 0.0)
    w: tuple[float, float] = (-2.5, 2.5)
    b: tuple[float, float] = (-15.0, 15.0)
    resolution: int = 61
    height: int = 420


class TrainingKind(PlotKind):
    name: ClassVar[str] = "training"
    options_model: ClassVar[type[Options]] = TrainingOptions
    function_options: ClassVar[tuple[str, ...]] = ("update", "train", "model", "loss")
    readout_labels: ClassVar[dict[str, str]] = {
        "iteration": "iteration",
        "w": "w",
        "b": "b",
        "loss": "loss",
        "grad_w": "∂L/∂w",
        "grad_b": "∂L/∂b",
    }

    # ------------------------------------------------------------------ kernel side

    def _state(self, ns: dict[str, Any], options: TrainingOptions) -> dict[str, Any]:
        state: dict[str, Any] = ns.setdefault(STATE, {})
        return state

    def _snapshot(self, ns: Mapping[str, Any], options: TrainingOptions, it: int) -> Result:
        pw, pb = options.params
        try:
            w, b = float(ns[pw]), float(ns[pb])
        except KeyError as err:
            raise PlotError(f"There is no global `{err.args[0]}` to train.") from None
        except (TypeError, ValueError):
            raise PlotError(f"`{pw}` and `{pb}` should be numbers.") from None
        result: Result = {"iteration": float(it), "w": w, "b": b}
        if not (math.isfinite(w) and math.isfinite(b)):
            return result
        loss = learner_function(ns, options.loss)
        try:
            result["loss"] = float(as_float_array(loss(w, b), options.loss, ()))
        except (OverflowError, FloatingPointError):
            result["loss"] = math.inf  # diverging: the web process stops and says so
        if not math.isfinite(result["loss"]):
            return result
        if options.gradient and callable(ns.get(options.gradient)):
            g = as_float_array(ns[options.gradient](w, b), options.gradient, (2,))
            result["grad_w"], result["grad_b"] = float(g[0]), float(g[1])
        dx, _dy = data_points(ns, options.data)
        xs = np.linspace(min(0.0, float(dx.min())), float(dx.max()) + 1, 50)
        result["fit_x"] = xs
        result["fit_y"] = evaluate_curve_at(ns, options.model, xs, {"w": w, "b": b})
        return result

    def evaluate(
        self, ns: Mapping[str, Any], options: Options, values: Mapping[str, float], whole: bool
    ) -> Result:
        assert isinstance(options, TrainingOptions)
        assert isinstance(ns, dict)
        state = self._state(ns, options)
        if "iteration" not in state:
            self.advance(ns, options, 0, reset=True)
        elif whole:
            state["iteration"] = 0  # a Run redraws the whole figure: the count starts again
        result = self._snapshot(ns, options, state["iteration"])
        dx, dy = data_points(ns, options.data)
        result["data_x"], result["data_y"] = dx, dy
        if whole:
            ws = np.linspace(*options.w, options.resolution)
            bs = np.linspace(*options.b, options.resolution)
            grid = loss_grid(learner_function(ns, options.loss), ws, bs)
            result.update({"ws": ws, "bs": bs, "z": grid.z})
        return result

    def advance(self, ns: dict[str, Any], options: Options, iterations: int, reset: bool) -> Result:
        """Reset the parameters, or run `iterations` more steps of the learner's code."""
        assert isinstance(options, TrainingOptions)
        state = self._state(ns, options)
        pw, pb = options.params
        if reset:
            ns[pw], ns[pb] = options.start
            state["iteration"] = 0
            return self._snapshot(ns, options, 0)
        before = (ns.get(pw), ns.get(pb))
        if options.train and callable(ns.get(options.train)):
            ns[options.train](iterations)
            how = f"`{options.train}({iterations})`"
        else:
            update = learner_function(ns, options.update)
            for _ in range(iterations):
                update()
            how = f"`{options.update}()`"
        if iterations and state["iteration"] == 0 and (ns.get(pw), ns.get(pb)) == before:
            raise PlotError(
                f"{how} ran, but `{pw}` and `{pb}` did not change. Does it call the update, and "
                f"does the update say `global {pw}, {pb}`?"
            )
        state["iteration"] += iterations
        return self._snapshot(ns, options, state["iteration"])

    # ------------------------------------------------------------------ web side

    def figure(self, options: Options, result: Result) -> Figure:
        assert isinstance(options, TrainingOptions)
        z = np.asarray(result["z"])
        color = loss_colors(z)
        layout = base_layout(options)
        layout["grid"] = {"rows": 1, "columns": 3, "pattern": "independent"}
        layout["xaxis"] = {"domain": [0.0, 0.3], "title": {"text": "x"}}
        layout["yaxis"] = {"title": {"text": "y"}}
        layout["xaxis2"] = {
            "domain": [0.37, 0.67],
            "title": {"text": "w"},
            "range": list(options.w),
        }
        layout["yaxis2"] = {"title": {"text": "b"}, "range": list(options.b), "anchor": "x2"}
        layout["xaxis3"] = {"domain": [0.75, 1.0], "title": {"text": "iteration"}}
        layout["yaxis3"] = {"title": {"text": "loss"}, "type": "log", "anchor": "x3"}
        finite = "loss" in result
        w, b = result["w"], result["b"]
        data = [
            {
                "type": "scatter",
                "mode": "lines",
                "x": encode(result["fit_x"]),
                "y": encode(result["fit_y"]),
                "line": {"color": "#2f6fdf", "width": 3},
                "name": "fit",
            },
            {
                "type": "scatter",
                "mode": "markers",
                "x": encode(result["data_x"]),
                "y": encode(result["data_y"]),
                "marker": {"color": "#e4572e", "size": 8},
                "name": "data",
            },
            contour_trace(result["ws"], result["bs"], color, xaxis="x2", yaxis="y2"),
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [w],
                "y": [b],
                "xaxis": "x2",
                "yaxis": "y2",
                "line": {"color": "#ffffff", "width": 2},
                "marker": {"size": 5, "color": "#ffffff"},
                "name": "path",
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": [result["iteration"]],
                "y": [result["loss"]] if finite else [],
                "xaxis": "x3",
                "yaxis": "y3",
                "line": {"color": "#7b3fbf", "width": 2},
                "name": "loss",
            },
        ]
        return {"data": data, "layout": layout}

    def patch(self, options: Options, result: Result) -> Patch:
        """A training frame: new fit, one more point on the path and on the loss curve."""
        return {
            "traces": [0],
            "data": {"y": [encode(result["fit_y"])]},
            "extend": {
                "traces": [3, 4],
                "data": {
                    "x": [[result["w"]], [result["iteration"]]],
                    "y": [[result["b"]], [result["loss"]]],
                },
            },
        }

    def reset_patch(self, options: Options, result: Result) -> Patch:
        """After Reset: the path and the loss curve start again from the first point."""
        return {
            "traces": [0, 3, 4],
            "data": {
                "y": [encode(result["fit_y"]), [result["b"]], [result["loss"]]],
                "x": [encode(result["fit_x"]), [result["w"]], [result["iteration"]]],
            },
        }
