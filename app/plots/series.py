"""Curves from numbers the learner's code produced: loss and accuracy per epoch, learning-rate
schedules, timings. The numbers come from a variable (after a Run) or from a learner function
called with the slider values; either is a dict of name -> list of numbers (or one list)."""

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

PALETTE = ["#2f6fdf", "#e4572e", "#1f8a4c", "#7b3fbf", "#b7791f", "#17a2b8", "#d63384", "#555"]
MAX_SERIES, MAX_POINTS = 12, 100_000


class SeriesOptions(Options):
    source: str | None = None
    """A variable holding a dict of name -> list of numbers (or one list)."""
    function: str | None = None
    """Or a learner function, called with the slider values, returning the same."""
    x_label: str = "epoch"
    y_label: str = "loss"
    log_y: bool = False
    start: int = 0
    """The x value of each series' first point (epochs often count from 1)."""
    mode: str = "lines+markers"
    y: tuple[float, float] | None = None
    x: tuple[float, float] | None = None
    """A fixed x range: the axis stays put while a coarse result (fewer epochs) is drawn."""


def as_series(raw: Any, name: str) -> dict[str, np.ndarray]:
    """1-D float arrays from what the learner made, or a PlotError saying what we expect."""
    if hasattr(raw, "detach"):
        raw = raw.detach().cpu().numpy()
    items = raw.items() if isinstance(raw, Mapping) else [(name, raw)]
    out: dict[str, np.ndarray] = {}
    for key, values in list(items)[:MAX_SERIES]:
        try:
            arr = np.asarray(values, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise PlotError(f"`{name}[{key!r}]` should be a list of numbers.") from None
        if arr.size > MAX_POINTS:
            raise PlotError(
                f"`{name}[{key!r}]` has {arr.size} numbers; at most {MAX_POINTS} can be drawn."
            )
        out[str(key)] = arr
    if not out:
        raise PlotError(f"`{name}` is empty: run the training cell first.")
    return out


class SeriesKind(PlotKind[SeriesOptions]):
    name: ClassVar[str] = "series"
    coarse_arguments: ClassVar[bool] = True
    options_model = SeriesOptions
    function_options: ClassVar[tuple[str, ...]] = ("function",)

    def evaluate(
        self,
        ns: Mapping[str, Any],
        options: SeriesOptions,
        values: Mapping[str, float],
        whole: bool,
    ) -> Result:
        if not (options.source or options.function):
            raise PlotError("A series plot needs `source` or `function`.")
        raw, label = learner_data(ns, options.source, options.function, values)
        series = as_series(raw, label)
        result: Result = {f"s{i}": arr for i, arr in enumerate(series.values())}
        result["names"] = list(series)
        return result

    def figure(self, options: SeriesOptions, result: Result) -> Figure:
        layout = base_layout(options)
        layout["showlegend"] = True
        layout["legend"] = {"orientation": "h", "y": 1.12}
        layout["xaxis"] = {"title": {"text": options.x_label}}
        layout["yaxis"] = {
            "title": {"text": options.y_label},
            "type": "log" if options.log_y else "linear",
            "automargin": True,
            "exponentformat": "power",
        }
        if options.y:
            layout["yaxis"]["range"] = list(options.y)
        if options.x:
            layout["xaxis"]["range"] = list(options.x)
        data = []
        for i, name in enumerate(result["names"]):
            ys = np.asarray(result[f"s{i}"])
            data.append(
                {
                    "type": "scatter",
                    "mode": options.mode,
                    "name": name,
                    "x": encode(
                        np.arange(options.start, options.start + ys.size, dtype=np.float64)
                    ),
                    "y": encode(ys),
                    "line": {"color": PALETTE[i % len(PALETTE)], "width": 2},
                    "marker": {"size": 5},
                }
            )
        return {"data": data, "layout": layout}

    def patch(self, options: SeriesOptions, result: Result) -> Patch:
        return {"figure": self.figure(options, result)}
