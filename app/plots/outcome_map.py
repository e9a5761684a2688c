"""A map of outcomes over two parameters: one number (a finish, a loss) for every pair of a
grid, as a heat map, with a dot at the sliders' current setting.

The learner function (called with the sliders it names) returns a dict with `x` (the grid's
values of the first parameter), `y` (of the second) and `z` (a 2-D array, one row per `y`, one
column per `x`); NaN or infinity marks a run without an outcome (it blew up) and is left blank.
The grid is computed when the figure is drawn (a Run); a slider move only moves the dot, so the
function may take the sliders without being called on every move."""

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
    encode,
    learner_data,
)

MAX_CELLS = 40_000


class OutcomeMapOptions(Options):
    function: str = "outcomes"
    marker: tuple[str, str] | None = None
    """The two sliders whose values place the dot (x first), or none."""
    x_label: str = "learning rate"
    y_label: str = "β"
    z_label: str = "outcome"
    log_z: bool = False
    """Colour by log10 of the outcome (for distances and losses spanning many decades)."""
    height: int = 400


def as_grid(raw: Any, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y and z from what the learner returned, or a PlotError saying what we expect."""
    if not isinstance(raw, Mapping) or not {"x", "y", "z"} <= set(raw):
        raise PlotError(f"`{name}` should return a dict with keys 'x', 'y' and 'z'.")
    try:
        xs, ys, z = (np.asarray(_numpy(raw[k]), dtype=np.float64) for k in ("x", "y", "z"))
    except (TypeError, ValueError):
        raise PlotError(f"`{name}`: 'x', 'y' and 'z' should hold numbers.") from None
    if xs.ndim != 1 or ys.ndim != 1 or z.shape != (ys.size, xs.size):
        raise PlotError(
            f"`{name}`: 'z' should have one row per 'y' and one column per 'x', shape "
            f"({ys.size}, {xs.size}); it has shape {z.shape}."
        )
    if z.size > MAX_CELLS:
        raise PlotError(f"`{name}` has {z.size} cells; at most {MAX_CELLS} can be drawn.")
    if xs.size < 2 or ys.size < 2:
        raise PlotError(f"`{name}`: the grid needs at least two values of 'x' and of 'y'.")
    return xs, ys, z


def _numpy(value: Any) -> Any:
    return value.detach().cpu().numpy() if hasattr(value, "detach") else value


class OutcomeMapKind(PlotKind[OutcomeMapOptions]):
    name: ClassVar[str] = "outcome_map"
    coarse_arguments: ClassVar[bool] = True
    options_model = OutcomeMapOptions
    function_options: ClassVar[tuple[str, ...]] = ("function",)
    readout_labels: ClassVar[dict[str, str]] = {"outcome": "outcome nearest your setting"}

    def evaluate(
        self,
        ns: Mapping[str, Any],
        options: OutcomeMapOptions,
        values: Mapping[str, float],
        whole: bool,
    ) -> Result:
        raw, label = learner_data(ns, None, options.function, values)
        xs, ys, z = as_grid(raw, label)
        result: Result = {}
        if whole:
            result.update({"xs": xs, "ys": ys, "z": z})
        if options.marker:
            mx, my = (float(values.get(k, np.nan)) for k in options.marker)
            result["marker_x"], result["marker_y"] = mx, my
            if np.isfinite(mx) and np.isfinite(my):
                i, j = int(np.abs(ys - my).argmin()), int(np.abs(xs - mx).argmin())
                result["outcome"] = float(z[i, j])
        return result

    def figure(self, options: OutcomeMapOptions, result: Result) -> Figure:
        z = np.asarray(result["z"], dtype=np.float64)
        finite = np.isfinite(z)
        shown = np.where(finite, z, np.nan)
        if options.log_z:
            with np.errstate(divide="ignore", invalid="ignore"):
                shown = np.where(finite & (z > 0), np.log10(np.where(z > 0, z, 1.0)), np.nan)
        title = f"log10 {options.z_label}" if options.log_z else options.z_label
        layout = base_layout(options)
        layout["xaxis"] = {"title": {"text": options.x_label}}
        layout["yaxis"] = {"title": {"text": options.y_label}}
        heat = {
            "type": "heatmap",
            "x": encode(np.asarray(result["xs"])),
            "y": encode(np.asarray(result["ys"])),
            "z": [[None if not np.isfinite(v) else float(v) for v in row] for row in shown],
            "colorscale": "Viridis",
            "colorbar": {"title": {"text": title, "side": "right"}, "thickness": 12},
            "hovertemplate": (
                f"{options.x_label} %{{x:.3g}}<br>{options.y_label} %{{y:.3g}}<br>"
                f"{title} %{{z:.3g}}<extra></extra>"
            ),
        }
        dot = {
            "type": "scatter",
            "mode": "markers",
            "x": [result.get("marker_x")] if options.marker else [],
            "y": [result.get("marker_y")] if options.marker else [],
            "marker": {"size": 12, "color": "#ffffff", "line": {"color": "#e4572e", "width": 3}},
            "name": "your setting",
            "hoverinfo": "skip",
        }
        if options.marker:  # the page lets the learner drag the dot: it moves both sliders
            dot["meta"] = {"drag": {"x": options.marker[0], "y": options.marker[1]}}
        return {"data": [heat, dot], "layout": layout}

    def patch(self, options: OutcomeMapOptions, result: Result) -> Patch:
        """A slider move: only the dot moves."""
        return {
            "traces": [1],
            "data": {"x": [[result.get("marker_x")]], "y": [[result.get("marker_y")]]},
        }
