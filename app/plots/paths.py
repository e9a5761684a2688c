"""A function of one parameter with gradient-descent paths drawn on it: several starting points
(which valley do you end in?) or several learning rates (crawl, converge, oscillate, diverge).
The learner's `path` function, called with the slider values, returns one list of visited
points, or a dict of label -> list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from app.plots.base import (
    Figure,
    Options,
    Patch,
    PlotKind,
    Result,
    base_layout,
    encode,
    learner_function,
    slider_arguments,
)
from app.plots.curve import evaluate_curve_at
from app.plots.series import PALETTE, as_series


class PathsOptions(Options):
    function: str = "L"
    path: str = "descend"
    x: tuple[float, float] = (-2.0, 4.0)
    y: tuple[float, float] | None = None
    x_label: str = "w"
    y_label: str = "L(w)"
    points: int = 301
    start: str | list[str] | None = None
    """The slider that sets where the walk starts: the learner may then drag a path's first
    point along the curve, which moves that slider. A list names one slider per walk, in the
    order the path function returns them (two walks, each with its own start)."""


class PathsKind(PlotKind[PathsOptions]):
    name: ClassVar[str] = "paths"
    coarse_arguments: ClassVar[bool] = True
    options_model = PathsOptions
    function_options: ClassVar[tuple[str, ...]] = ("function", "path")

    def evaluate(
        self, ns: Mapping[str, Any], options: PathsOptions, values: Mapping[str, float], whole: bool
    ) -> Result:
        xs = np.linspace(*options.x, options.points)
        result: Result = {"xs": xs, "ys": evaluate_curve_at(ns, options.function, xs, {})}
        fn = learner_function(ns, options.path)
        paths = as_series(fn(**slider_arguments(fn, options.path, 0, values)), options.path)
        f = learner_function(ns, options.function)
        result["names"] = list(paths)
        for i, ws in enumerate(paths.values()):
            finite = ws[np.isfinite(ws)]
            shown = finite[(finite >= options.x[0] - 1e6) & (finite <= options.x[1] + 1e6)]
            result[f"w{i}"] = shown
            result[f"l{i}"] = np.array([float(f(float(w))) for w in shown], dtype=np.float64)
            result[f"last{i}"] = float(ws[-1]) if ws.size else float("nan")
        return result

    def figure(self, options: PathsOptions, result: Result) -> Figure:
        layout = base_layout(options)
        layout["showlegend"] = True
        layout["legend"] = {"orientation": "h", "y": 1.12}
        layout["xaxis"] = {"range": list(options.x), "title": {"text": options.x_label}}
        layout["yaxis"] = {"title": {"text": options.y_label}}
        if options.y:
            layout["yaxis"]["range"] = list(options.y)
        data = [
            {
                "type": "scatter",
                "mode": "lines",
                "x": encode(result["xs"]),
                "y": encode(result["ys"]),
                "line": {"color": "#999", "width": 2},
                "name": options.y_label,
                "showlegend": False,
            }
        ]
        starts = [options.start] if isinstance(options.start, str) else options.start or []
        for i, name in enumerate(result["names"]):
            # The walk's first point, when draggable: one slider for every walk, or one each.
            slider = starts[0] if len(starts) == 1 else (starts[i] if i < len(starts) else None)
            last = result[f"last{i}"]
            label = f"{name} → {last:.4g}" if np.isfinite(last) else f"{name} → diverged"
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": label,
                    "x": encode(result[f"w{i}"]),
                    "y": encode(result[f"l{i}"]),
                    "line": {"color": PALETTE[i % len(PALETTE)], "width": 1.5},
                    "marker": {"size": 6, "color": PALETTE[i % len(PALETTE)]},
                    **({"meta": {"drag": {"x": slider, "point": 0}}} if slider else {}),
                }
            )
        return {"data": data, "layout": layout}

    def patch(self, options: PathsOptions, result: Result) -> Patch:
        return {"figure": self.figure(options, result)}
