"""Training a model of the learner's own, live: Play runs `step(n)` (n more epochs of the
learner's loop), and every frame redraws what `state()` reports: the loss and accuracy curves so
far, and either the model's fit over the data or images (weights, the examples it gets wrong).

The learner's code provides three functions, named by the options:

- `reset()` starts the model again from its initial weights;
- `step(n)` trains n more epochs;
- `state()` returns a dict: `epoch` (a number), `loss` (a number), `curves` (name -> list of
  numbers, one per epoch so far), and either `fit` ({"x": [...], "y": [...]}, the model's curve,
  drawn over `data`, a list of (x, y) pairs) or `images` (title -> 2-D array).

It is a `TrainablePlotKind`: the page plays it frame by frame like the `training` kind."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from app.plots.base import (
    Figure,
    Options,
    Patch,
    PlotError,
    Result,
    TrainablePlotKind,
    base_layout,
    encode,
    learner_function,
)
from app.plots.images import DIVERGING, as_images
from app.plots.series import PALETTE, as_series

MAX_IMAGES = 16


class LiveOptions(Options):
    reset: str = "reset"
    step: str = "step"
    state: str = "state"
    curves_label: str = "loss"
    x_label: str = "x"
    y_label: str = "y"
    diverging: bool = True
    """Images in red (negative), white (zero), blue (positive), as weights are drawn."""
    columns: int = 4
    height: int = 400


class LiveKind(TrainablePlotKind[LiveOptions]):
    name: ClassVar[str] = "live"
    options_model = LiveOptions
    function_options: ClassVar[tuple[str, ...]] = ("reset", "step", "state")
    readout_labels: ClassVar[dict[str, str]] = {"iteration": "epoch", "loss": "loss"}

    # ------------------------------------------------------------------ kernel side

    def _state(self, ns: Mapping[str, Any], options: LiveOptions) -> Result:
        raw = learner_function(ns, options.state)()
        if not isinstance(raw, Mapping) or "loss" not in raw or "curves" not in raw:
            raise PlotError(f"`{options.state}()` should return a dict with 'loss' and 'curves'.")
        result: Result = {"iteration": float(raw.get("epoch", 0))}
        loss = float(raw["loss"])
        if math.isfinite(loss):
            result["loss"] = loss
        curves = as_series(raw["curves"], options.state)
        result["curve_names"] = list(curves)
        result.update({f"c{i}": arr for i, arr in enumerate(curves.values())})
        if "fit" in raw:
            fit = raw["fit"]
            result["fit_x"] = np.asarray(fit["x"], dtype=np.float64).ravel()
            result["fit_y"] = np.asarray(fit["y"], dtype=np.float64).ravel()
            pairs = np.asarray(raw.get("data", []), dtype=np.float64).reshape(-1, 2)
            result["data_x"], result["data_y"] = pairs[:, 0], pairs[:, 1]
        elif "images" in raw:
            images = as_images(dict(list(raw["images"].items())[:MAX_IMAGES]), options.state)
            result["image_names"] = list(images)
            result.update({f"img{i}": arr for i, arr in enumerate(images.values())})
        return result

    def evaluate(
        self, ns: Mapping[str, Any], options: LiveOptions, values: Mapping[str, float], whole: bool
    ) -> Result:
        return self._state(ns, options)

    def advance(
        self,
        ns: dict[str, Any],
        options: LiveOptions,
        iterations: int,
        reset: bool,
        start: Sequence[float] | None = None,
    ) -> Result:
        if reset:
            learner_function(ns, options.reset)()
        elif iterations:
            learner_function(ns, options.step)(iterations)
        return self._state(ns, options)

    def trained_values(
        self, options: LiveOptions, scalars: Mapping[str, float]
    ) -> dict[str, float]:
        return {}

    # ------------------------------------------------------------------ web side

    def figure(self, options: LiveOptions, result: Result) -> Figure:
        layout = base_layout(options)
        layout["showlegend"] = True
        layout["legend"] = {"orientation": "h", "x": 0.6, "y": 1.12}
        data: list[dict[str, Any]] = []
        left = 0.55
        if "fit_x" in result:
            layout["xaxis"] = {"domain": [0.0, left - 0.07], "title": {"text": options.x_label}}
            layout["yaxis"] = {"title": {"text": options.y_label}}
            data.append(_scatter(result["data_x"], result["data_y"], "data", "markers", "x", "y"))
            data.append(_scatter(result["fit_x"], result["fit_y"], "the model", "lines", "x", "y"))
        else:
            data += self._images(options, result, layout, left)
        axis = len(result.get("image_names", [])) + 1 if "fit_x" not in result else 2
        xa, ya = f"x{axis}", f"y{axis}"
        layout[f"xaxis{axis}"] = {"domain": [left, 1.0], "title": {"text": "epoch"}, "anchor": ya}
        layout[f"yaxis{axis}"] = {"title": {"text": options.curves_label}, "anchor": xa}
        for i, name in enumerate(result["curve_names"]):
            ys = np.asarray(result[f"c{i}"])
            xs = np.arange(1, ys.size + 1, dtype=np.float64)
            trace = _scatter(xs, ys, name, "lines", xa, ya)
            trace["line"] = {"color": PALETTE[i % len(PALETTE)], "width": 2}
            data.append(trace)
        return {"data": data, "layout": layout}

    def _images(
        self, options: LiveOptions, result: Result, layout: dict[str, Any], left: float
    ) -> list[dict[str, Any]]:
        names: list[str] = result.get("image_names", [])
        cols = max(1, min(options.columns, len(names)))
        rows = max(1, math.ceil(len(names) / cols))
        width, gap = (left - 0.05) / cols, 0.02
        traces, notes = [], []
        for i, name in enumerate(names):
            r, c = divmod(i, cols)
            ax = "" if i == 0 else str(i + 1)
            x0, y1 = c * width, 1 - r / rows - 0.08
            layout[f"xaxis{ax}"] = {"domain": [x0, x0 + width - gap], "visible": False}
            layout[f"yaxis{ax}"] = {
                "domain": [1 - (r + 1) / rows, y1],
                "visible": False,
                "autorange": "reversed",
                "scaleanchor": f"x{ax}",
            }
            trace = {
                "type": "heatmap",
                "z": encode(np.asarray(result[f"img{i}"])),
                "xaxis": f"x{ax}",
                "yaxis": f"y{ax}",
                "showscale": False,
                "showlegend": False,
                "hovertemplate": "%{z:.3g}<extra>" + name + "</extra>",
                "colorscale": DIVERGING if options.diverging else "Greys",
            }
            if options.diverging:
                trace["zmid"] = 0.0
            traces.append(trace)
            notes.append(
                {
                    "text": name,
                    "xref": "paper",
                    "yref": "paper",
                    "x": x0 + (width - gap) / 2,
                    "y": y1 + 0.01,
                    "showarrow": False,
                    "yanchor": "bottom",
                    "font": {"size": 11},
                }
            )
        layout["annotations"] = notes
        return traces

    def patch(self, options: LiveOptions, result: Result) -> Patch:
        return {"figure": self.figure(options, result)}

    def reset_patch(self, options: LiveOptions, result: Result) -> Patch:
        return {"figure": self.figure(options, result)}


def _scatter(xs: Any, ys: Any, name: str, mode: str, xa: str, ya: str) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": mode,
        "name": name,
        "x": encode(np.asarray(xs, dtype=np.float64)),
        "y": encode(np.asarray(ys, dtype=np.float64)),
        "xaxis": xa,
        "yaxis": ya,
    }
