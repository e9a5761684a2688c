"""Arrays as images: digits, learned weights, activations and parameters as heat maps. The
variable (or learner function of the sliders) is a dict of title -> 2-D array."""

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
    base_layout,
    encode,
    learner_data,
)

MAX_IMAGES, MAX_CELLS = 32, 250_000
#: Red for negative, white for zero, blue for positive.
DIVERGING = [[0.0, "#b2182b"], [0.5, "#f7f7f7"], [1.0, "#2166ac"]]


class ImagesOptions(Options):
    source: str | None = None
    function: str | None = None
    columns: int = 4
    colorscale: str = "Greys"
    diverging: bool = False
    """Centre the colours on zero (for weights: red negative, blue positive)."""
    show_values: bool = False
    height: int = 300


def as_images(raw: Any, name: str) -> dict[str, np.ndarray]:
    if hasattr(raw, "detach"):
        raw = raw.detach().cpu().numpy()
    items = raw.items() if isinstance(raw, Mapping) else [(name, raw)]
    out: dict[str, np.ndarray] = {}
    total = 0
    for key, value in list(items)[:MAX_IMAGES]:
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise PlotError(f"`{name}[{key!r}]` should be a 2-D array of numbers.") from None
        if arr.ndim == 1:
            side = math.isqrt(arr.size)
            arr = arr.reshape(side, side) if side * side == arr.size else arr.reshape(1, -1)
        if arr.ndim != 2:
            raise PlotError(f"`{name}[{key!r}]` should be 2-D, got shape {arr.shape}.")
        total += arr.size
        if total > MAX_CELLS:
            raise PlotError(f"`{name}` is too large to draw ({total} numbers).")
        out[str(key)] = arr
    if not out:
        raise PlotError(f"`{name}` is empty.")
    return out


class ImagesKind(PlotKind[ImagesOptions]):
    name: ClassVar[str] = "images"
    coarse_arguments: ClassVar[bool] = True
    options_model = ImagesOptions
    function_options: ClassVar[tuple[str, ...]] = ("function",)

    def evaluate(
        self,
        ns: Mapping[str, Any],
        options: ImagesOptions,
        values: Mapping[str, float],
        whole: bool,
    ) -> Result:
        raw, label = learner_data(ns, options.source, options.function, values)
        images = as_images(raw, label)
        result: Result = {"names": list(images)}
        for i, arr in enumerate(images.values()):
            result[f"img{i}"] = arr
        return result

    def figure(self, options: ImagesOptions, result: Result) -> Figure:
        names: list[str] = result["names"]
        cols = max(1, min(options.columns, len(names)))
        rows = math.ceil(len(names) / cols)
        layout = base_layout(options)
        layout["height"] = max(options.height, 170 * rows + 40)
        layout["margin"] = {"l": 10, "r": 10, "t": 30, "b": 10}
        gap = 0.04
        data, annotations = [], []
        for i, name in enumerate(names):
            r, c = divmod(i, cols)
            ax = "" if i == 0 else str(i + 1)
            x0 = c / cols + gap / 2
            y1 = 1 - r / rows - gap
            layout[f"xaxis{ax}"] = {
                "domain": [x0, (c + 1) / cols - gap / 2],
                "visible": False,
                "anchor": f"y{ax}",
            }
            layout[f"yaxis{ax}"] = {
                "domain": [1 - (r + 1) / rows + gap / 2, y1],
                "visible": False,
                "autorange": "reversed",
                "scaleanchor": f"x{ax}",
                "anchor": f"x{ax}",
            }
            arr = np.asarray(result[f"img{i}"])
            trace: dict[str, Any] = {
                "type": "heatmap",
                "z": encode(arr),
                "xaxis": f"x{ax}",
                "yaxis": f"y{ax}",
                "colorscale": DIVERGING if options.diverging else options.colorscale,
                "showscale": False,
                "hovertemplate": "%{z:.3g}<extra>" + name + "</extra>",
            }
            if options.diverging:
                trace["zmid"] = 0.0
            if not options.diverging and options.colorscale == "Greys":
                trace["reversescale"] = True
            if options.show_values and arr.size <= 100:
                trace["texttemplate"] = "%{z:.2f}"
            data.append(trace)
            annotations.append(
                {
                    "text": name,
                    "xref": "paper",
                    "yref": "paper",
                    "x": (x0 + (c + 1) / cols - gap / 2) / 2,
                    "y": y1 + 0.01,
                    "showarrow": False,
                    "yanchor": "bottom",
                    "font": {"size": 12},
                }
            )
        layout["annotations"] = annotations
        return {"data": data, "layout": layout}

    def patch(self, options: ImagesOptions, result: Result) -> Patch:
        return {"figure": self.figure(options, result)}
