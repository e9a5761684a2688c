"""Surfaces y(x1, x2, ...) over two inputs: the plane, and the sigmoid with a top view."""

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
    as_float_array,
    base_layout,
    check_finite,
    encode,
    learner_function,
    slider_arguments,
)


class SurfaceOptions(Options):
    function: str = "y"
    x1: tuple[float, float] = (-10.0, 10.0)
    x2: tuple[float, float] = (-10.0, 10.0)
    z: tuple[float, float] | None = None
    resolution: int = 31
    height: int = 440


def evaluate_surface(
    ns: Mapping[str, Any], options: SurfaceOptions, values: Mapping[str, float]
) -> Result:
    """z[i, j] = f(x1[j], x2[i]): one broadcast call when the learner's code allows, else a loop."""
    fn = learner_function(ns, options.function)
    kwargs = slider_arguments(fn, options.function, 2, values)
    x1 = np.linspace(options.x1[0], options.x1[1], options.resolution)
    x2 = np.linspace(options.x2[0], options.x2[1], options.resolution)
    g1, g2 = np.meshgrid(x1, x2)
    try:
        z = as_float_array(fn(g1, g2, **kwargs), options.function, g1.shape)
    except Exception:
        z = np.array(
            [
                [as_float_array(fn(float(a), float(b), **kwargs), options.function, ()) for a in x1]
                for b in x2
            ],
            dtype=np.float64,
        )
    check_finite(z, options.function)
    return {"x1": x1, "x2": x2, "z": z}


class PlaneKind(PlotKind[SurfaceOptions]):
    """A 3-D surface of a two-input function (a tilted plane for the linear model)."""

    name: ClassVar[str] = "plane"
    options_model = SurfaceOptions
    function_options: ClassVar[tuple[str, ...]] = ("function",)
    colorscale: ClassVar[str] = "Viridis"

    def evaluate(
        self,
        ns: Mapping[str, Any],
        options: SurfaceOptions,
        values: Mapping[str, float],
        whole: bool,
    ) -> Result:
        return evaluate_surface(ns, options, values)

    def _scene(self, options: SurfaceOptions) -> dict[str, Any]:
        zaxis: dict[str, Any] = {"title": {"text": "y"}}
        if options.z:
            zaxis["range"] = list(options.z)
        return {
            "xaxis": {"title": {"text": "x1"}},
            "yaxis": {"title": {"text": "x2"}},
            "zaxis": zaxis,
            "camera": {"eye": {"x": 1.6, "y": -1.6, "z": 0.9}},
            "aspectmode": "cube",
        }

    def _surface(self, options: SurfaceOptions, result: Result) -> dict[str, Any]:
        trace: dict[str, Any] = {
            "type": "surface",
            "x": encode(result["x1"]),
            "y": encode(result["x2"]),
            "z": encode(result["z"]),
            "colorscale": self.colorscale,
            "showscale": False,
            # It changes with the sliders: the page draws it in the layer that moves, not the
            # one drawn once per figure (static/js/plots.js).
            "meta": {"moves": True},
        }
        if options.z:
            trace["cmin"], trace["cmax"] = options.z
        return trace

    def figure(self, options: SurfaceOptions, result: Result) -> Figure:
        layout = base_layout(options)
        layout["scene"] = self._scene(options)
        layout["margin"] = {"l": 0, "r": 0, "t": 30 if options.title else 0, "b": 0}
        return {"data": [self._surface(options, result)], "layout": layout}

    def patch(self, options: SurfaceOptions, result: Result) -> Patch:
        return {"traces": [0], "data": {"z": [encode(result["z"])]}}


class SigmoidSurfaceKind(PlaneKind):
    """σ of a plane as a surface, beside its top view where the boundary σ = ½ is a line."""

    name: ClassVar[str] = "sigmoid_surface"
    colorscale: ClassVar[str] = "RdBu"

    def parse_options(self, raw: Mapping[str, Any]) -> SurfaceOptions:
        return self.options_model.model_validate({"z": (0.0, 1.0), **dict(raw)})

    def figure(self, options: SurfaceOptions, result: Result) -> Figure:
        layout = base_layout(options)
        scene = self._scene(options)
        scene["domain"] = {"x": [0.0, 0.55], "y": [0.0, 1.0]}
        layout["scene"] = scene
        layout["xaxis"] = {"domain": [0.63, 1.0], "title": {"text": "x1 (top view)"}}
        layout["yaxis"] = {"title": {"text": "x2"}, "scaleanchor": "x"}
        top = {
            "type": "heatmap",
            "x": encode(result["x1"]),
            "y": encode(result["x2"]),
            "z": encode(result["z"]),
            "colorscale": self.colorscale,
            "zmin": 0.0,
            "zmax": 1.0,
            "showscale": False,
            "xaxis": "x",
            "yaxis": "y",
            "meta": {"moves": True},
        }
        return {"data": [self._surface(options, result), top], "layout": layout}

    def patch(self, options: SurfaceOptions, result: Result) -> Patch:
        z = encode(result["z"])
        return {"traces": [0, 1], "data": {"z": [z, z]}}
