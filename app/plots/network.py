"""A small network drawn as a diagram (input, hidden sigmoid neurons, output) with its weights
on the edges and biases on the neurons, beside the function it computes. Under the sum, each
hidden neuron's own contribution wo_j · σ(wi_j x + b_j) is drawn faintly in that neuron's colour
(the colour of its circle in the diagram), so the learner can read the network neuron by
neuron."""

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
    learner_function,
    slider_arguments,
)
from app.plots.curve import evaluate_curve_at

MAX_NEURONS = 12
NEURON_COLORS = ["#e4572e", "#1f8a4c", "#b7791f", "#17a2b8", "#d63384", "#2f6fdf"]


def neuron_color(j: int) -> str:
    return NEURON_COLORS[j % len(NEURON_COLORS)]


def neuron_parts(xs: np.ndarray, wi: np.ndarray, b: np.ndarray, wo: np.ndarray) -> np.ndarray:
    """Each hidden neuron's output times its output weight, one row per neuron."""
    z = np.clip(wi[:, None] * xs[None, :] + b[:, None], -500, 500)
    return np.asarray(wo[:, None] / (1 + np.exp(-z)), dtype=np.float64)


class NetworkOptions(Options):
    function: str = "y"
    """The function the network computes, y(x, ...sliders)."""
    weights: str = "weights"
    """A learner function of the sliders returning {"wi": [...], "b": [...], "wo": [...]}."""
    x: tuple[float, float] = (-10.0, 10.0)
    y: tuple[float, float] | None = None
    points: int = 201
    parts: bool = True
    """Draw each hidden neuron's scaled curve faintly under the sum."""
    height: int = 400


class NetworkKind(PlotKind[NetworkOptions]):
    name: ClassVar[str] = "network"
    options_model = NetworkOptions
    function_options: ClassVar[tuple[str, ...]] = ("function", "weights")

    def evaluate(
        self,
        ns: Mapping[str, Any],
        options: NetworkOptions,
        values: Mapping[str, float],
        whole: bool,
    ) -> Result:
        fn = learner_function(ns, options.weights)
        raw = fn(**slider_arguments(fn, options.weights, 0, values))
        if not isinstance(raw, Mapping) or not {"wi", "b", "wo"} <= set(raw):
            raise PlotError(f"`{options.weights}` should return a dict with lists wi, b and wo.")
        try:
            arrays = {
                k: np.atleast_1d(np.asarray(raw[k], dtype=np.float64)) for k in ("wi", "b", "wo")
            }
        except (TypeError, ValueError):
            raise PlotError("wi, b and wo should be lists of numbers.") from None
        sizes = {a.shape for a in arrays.values()}
        if len(sizes) != 1 or arrays["wi"].ndim != 1 or not 0 < arrays["wi"].size <= MAX_NEURONS:
            raise PlotError(
                f"wi, b and wo should be lists of the same length (1 to {MAX_NEURONS})."
            )
        xs = np.linspace(*options.x, options.points)
        result: Result = {"xs": xs, "ys": evaluate_curve_at(ns, options.function, xs, values)}
        if options.parts:
            result["parts"] = neuron_parts(xs, arrays["wi"], arrays["b"], arrays["wo"])
        return {**result, **arrays}

    def figure(self, options: NetworkOptions, result: Result) -> Figure:
        wi, b, wo = (np.asarray(result[k]) for k in ("wi", "b", "wo"))
        n = wi.size
        layout = base_layout(options)
        layout["xaxis"] = {"domain": [0.0, 0.42], "visible": False, "range": [-0.25, 2.25]}
        layout["yaxis"] = {"visible": False, "range": [-0.6, n - 0.4]}
        layout["xaxis2"] = {"domain": [0.5, 1.0], "range": list(options.x), "title": {"text": "x"}}
        layout["yaxis2"] = {"anchor": "x2", "title": {"text": "y"}, "zeroline": True}
        if options.y:
            layout["yaxis2"]["range"] = list(options.y)
        mid = (n - 1) / 2
        hidden_y = [n - 1 - j for j in range(n)]
        data: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        scale = max(float(np.abs(np.concatenate([wi, wo])).max()), 1e-9)
        for j in range(n):
            for x0, y0, x1, y1, w, label in (
                (0.0, mid, 1.0, hidden_y[j], wi[j], f"wi{j + 1} = {wi[j]:.3g}"),
                (1.0, hidden_y[j], 2.0, mid, wo[j], f"wo{j + 1} = {wo[j]:.3g}"),
            ):
                data.append(
                    {
                        "type": "scatter",
                        "mode": "lines",
                        "x": [x0, x1],
                        "y": [y0, y1],
                        "line": {
                            "color": "#2f6fdf" if w >= 0 else "#e4572e",
                            "width": 1 + 5 * abs(float(w)) / scale,
                        },
                        "hoverinfo": "skip",
                    }
                )
                notes.append(
                    {
                        "x": (x0 + x1) / 2,
                        "y": (y0 + y1) / 2 + 0.12,
                        "text": label,
                        "showarrow": False,
                        "font": {"size": 11},
                    }
                )
            notes.append(
                {
                    "x": 1.0,
                    "y": hidden_y[j] - 0.28,
                    "text": f"b{j + 1} = {b[j]:.3g}",
                    "showarrow": False,
                    "font": {"size": 11, "color": "#5b6478"},
                }
            )
        data.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "x": [0.0, *[1.0] * n, 2.0],
                "y": [mid, *hidden_y, mid],
                "text": ["x", *["σ"] * n, "y"],
                "textposition": "middle center",
                "marker": {
                    "size": 30,
                    "color": "#ffffff",
                    "line": {
                        "color": [
                            "#1d2230",
                            *(neuron_color(j) if options.parts else "#1d2230" for j in range(n)),
                            "#1d2230",
                        ],
                        "width": [2, *[3 if options.parts else 2] * n, 2],
                    },
                },
                "hoverinfo": "skip",
            }
        )
        data.insert(
            0,
            {
                "type": "scatter",
                "mode": "lines",
                "x": encode(result["xs"]),
                "y": encode(result["ys"]),
                "xaxis": "x2",
                "yaxis": "y2",
                "line": {"color": "#7b3fbf", "width": 3},
                "name": "y(x)",
                "zorder": 1,
            },
        )
        # Each neuron's part comes last (the sum stays the first trace) but is drawn beneath it.
        data.extend(self._parts(result, n))
        layout["annotations"] = notes
        return {"data": data, "layout": layout}

    @staticmethod
    def _parts(result: Result, n: int) -> list[dict[str, Any]]:
        if "parts" not in result:
            return []
        parts = np.asarray(result["parts"]).reshape(n, -1)
        return [
            {
                "type": "scatter",
                "mode": "lines",
                "x": encode(result["xs"]),
                "y": encode(parts[j]),
                "xaxis": "x2",
                "yaxis": "y2",
                "opacity": 0.45,
                "zorder": 0,
                "line": {"color": neuron_color(j), "width": 1.5, "dash": "dot"},
                "name": f"neuron {j + 1}: wo{j + 1}·σ(wi{j + 1}·x + b{j + 1})",
            }
            for j in range(n)
        ]

    def patch(self, options: NetworkOptions, result: Result) -> Patch:
        return {"figure": self.figure(options, result)}
