"""Several optimizers racing on one 2-D loss surface: the contour of the learner's `L(x, y)`,
each optimizer's whole path, and a moving head per path, animated with one shared Play control
(plotly frames, so the animation runs in the page without a round trip per step)."""

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
    base_layout,
    contour_trace,
    encode,
    learner_data,
    learner_function,
    loss_colors,
    loss_grid,
)
from app.plots.series import PALETTE

MAX_FRAMES = 120


class RaceOptions(Options):
    function: str = "L"
    source: str | None = None
    """A variable holding {name: [(x, y), ...]}; or `paths`, a learner function of the sliders."""
    paths: str | None = None
    x: tuple[float, float] = (-2.0, 2.0)
    y: tuple[float, float] = (-1.0, 3.0)
    resolution: int = 81
    log_color: bool = True
    height: int = 480
    frame_ms: int = 33
    """Milliseconds per animation frame: 33 plays the race at 30 frames a second."""
    start: tuple[str, str] | None = None
    """The two sliders that set where every path starts: the learner may then drag the start
    (the first point of any path) on the map, which moves both sliders."""


def as_paths(raw: Any, name: str) -> dict[str, np.ndarray]:
    if not isinstance(raw, Mapping) or not raw:
        raise PlotError(f"`{name}` should be a dict of optimizer name -> list of (x, y) points.")
    out: dict[str, np.ndarray] = {}
    for key, pts in list(raw.items())[:8]:
        try:
            arr = np.asarray(pts, dtype=np.float64)
        except (TypeError, ValueError):
            raise PlotError(f"`{name}[{key!r}]` should be a list of (x, y) points.") from None
        if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] > 20_000:
            raise PlotError(
                f"`{name}[{key!r}]` should be a list of (x, y) points, got shape {arr.shape}."
            )
        ok = np.all(np.isfinite(arr), axis=1)
        out[str(key)] = arr[: int(np.argmin(ok)) if not ok.all() else len(arr)]
    return out


class RaceKind(PlotKind[RaceOptions]):
    name: ClassVar[str] = "race"
    coarse_arguments: ClassVar[bool] = True
    options_model = RaceOptions
    function_options: ClassVar[tuple[str, ...]] = ("function", "paths")
    #: While a slider moves, the loss map under the paths is drawn on a grid a third as fine.
    coarse: ClassVar[bool] = True

    def evaluate(
        self, ns: Mapping[str, Any], options: RaceOptions, values: Mapping[str, float], whole: bool
    ) -> Result:
        raw, label = learner_data(ns, options.source, options.paths, values)
        paths = as_paths(raw, label)
        resolution = max(15, options.resolution // 3) if options.coarse else options.resolution
        xs = np.linspace(*options.x, resolution)
        ys = np.linspace(*options.y, resolution)
        grid = loss_grid(learner_function(ns, options.function), xs, ys)
        result: Result = {"xs": xs, "ys": ys, "z": grid.z, "names": list(paths)}
        for i, arr in enumerate(paths.values()):
            result[f"p{i}"] = arr
        return result

    def figure(self, options: RaceOptions, result: Result) -> Figure:
        z = np.asarray(result["z"], dtype=np.float64)
        color = loss_colors(z, options.log_color)
        layout = base_layout(options)
        layout["showlegend"] = True
        layout["legend"] = {"orientation": "h", "y": 1.1, "x": 0.0}
        layout["xaxis"] = {"range": list(options.x), "title": {"text": "x"}}
        layout["yaxis"] = {"range": list(options.y), "title": {"text": "y"}}
        layout["margin"]["b"] = 110
        layout["margin"]["t"] = 50
        names: list[str] = result["names"]
        paths = [np.asarray(result[f"p{i}"]) for i in range(len(names))]
        data: list[dict[str, Any]] = [
            contour_trace(
                result["xs"],
                result["ys"],
                color,
                colorscale="Greys",
                reversescale=True,
                line={"width": 0.4},
                showlegend=False,
            )
        ]
        for i, (name, p) in enumerate(zip(names, paths, strict=True)):
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": name,
                    "x": encode(p[:, 0]),
                    "y": encode(p[:, 1]),
                    "line": {"color": PALETTE[i % 8], "width": 1.5},
                    "opacity": 0.45,
                    "legendgroup": name,
                    # The page lets the learner drag the common start: both sliders move.
                    **(
                        {
                            "meta": {
                                "drag": {"x": options.start[0], "y": options.start[1], "point": 0}
                            }
                        }
                        if options.start
                        else {}
                    ),
                }
            )
        heads = len(data)
        longest = max((len(p) for p in paths), default=1)
        steps = np.unique(np.linspace(0, max(longest - 1, 0), min(longest, MAX_FRAMES)).astype(int))
        for i, (name, p) in enumerate(zip(names, paths, strict=True)):
            data.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": f"{name} now",
                    "x": [p[0, 0]] if len(p) else [],
                    "y": [p[0, 1]] if len(p) else [],
                    "showlegend": False,
                    "legendgroup": name,
                    "marker": {
                        "color": PALETTE[i % 8],
                        "size": 13,
                        "line": {"color": "#fff", "width": 2},
                    },
                }
            )
        frames = []
        for k in steps:
            frame_data = []
            for p in paths:
                j = min(int(k), len(p) - 1)
                frame_data.append(
                    {
                        "x": [float(p[j, 0])] if len(p) else [],
                        "y": [float(p[j, 1])] if len(p) else [],
                    }
                )
            frames.append(
                {
                    "name": str(int(k)),
                    "data": frame_data,
                    "traces": list(range(heads, heads + len(paths))),
                }
            )
        play = {
            "frame": {"duration": options.frame_ms, "redraw": False},
            "transition": {"duration": 0},
            "fromcurrent": True,
            "mode": "immediate",
        }
        layout["updatemenus"] = [
            {
                "type": "buttons",
                "direction": "left",
                "x": 0.0,
                "y": -0.1,
                "xanchor": "left",
                "yanchor": "top",
                "showactive": False,
                "buttons": [
                    {"label": "▶ Play", "method": "animate", "args": [None, play]},
                    {
                        "label": "❚❚ Pause",
                        "method": "animate",
                        "args": [
                            [None],
                            {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"},
                        ],
                    },
                ],
            }
        ]
        layout["sliders"] = [
            {
                "x": 0.25,
                "y": -0.08,
                "len": 0.75,
                "currentvalue": {"prefix": "step "},
                "steps": [
                    {
                        "label": str(int(k)),
                        "method": "animate",
                        "args": [
                            [str(int(k))],
                            {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"},
                        ],
                    }
                    for k in steps
                ],
            }
        ]
        return {"data": data, "layout": layout, "frames": frames}

    def patch(self, options: RaceOptions, result: Result) -> Patch:
        return {"figure": self.figure(options, result)}
