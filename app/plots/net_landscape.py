"""A small network's loss landscape along two random, filter-normalised directions
(Li et al., 2018), computed for the whole grid in one batched `torch.func.vmap` pass."""

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
    loss_colors,
)


class NetLandscapeOptions(Options):
    model: str = "model"
    loss: str = "loss_fn"
    inputs: str = "X"
    targets: str = "Y"
    span: float = 1.0
    resolution: int = 41
    seed: int = 0
    height: int = 460


class NetLandscapeKind(PlotKind[NetLandscapeOptions]):
    name: ClassVar[str] = "net_landscape"
    options_model = NetLandscapeOptions
    readout_labels: ClassVar[dict[str, str]] = {
        "centre": "loss at the trained weights",
        "seconds": "seconds",
    }

    def evaluate(
        self,
        ns: Mapping[str, Any],
        options: NetLandscapeOptions,
        values: Mapping[str, float],
        whole: bool,
    ) -> Result:
        import time

        import torch

        from app.engine.landscape import landscape_vmap, random_directions

        missing = [
            n for n in (options.model, options.loss, options.inputs, options.targets) if n not in ns
        ]
        if missing:
            raise PlotError(
                f"Define {', '.join(f'`{m}`' for m in missing)} first (run the cells above)."
            )
        model = ns[options.model]
        if not isinstance(model, torch.nn.Module):
            raise PlotError(f"`{options.model}` should be a torch.nn.Module.")
        inputs, targets = ns[options.inputs], ns[options.targets]
        if not (isinstance(inputs, torch.Tensor) and isinstance(targets, torch.Tensor)):
            raise PlotError(f"`{options.inputs}` and `{options.targets}` should be torch tensors.")
        model.eval()
        d1, d2 = random_directions(model, torch.Generator().manual_seed(options.seed))
        grid = np.linspace(-options.span, options.span, options.resolution)
        start = time.perf_counter()
        z = landscape_vmap(model, ns[options.loss], inputs, targets, grid, grid, d1, d2)
        seconds = time.perf_counter() - start
        mid = options.resolution // 2
        return {
            "alphas": grid,
            "betas": grid,
            "z": z,
            "centre": float(z[mid, mid]),
            "seconds": seconds,
        }

    def figure(self, options: NetLandscapeOptions, result: Result) -> Figure:
        z = np.asarray(result["z"])
        color = loss_colors(z)
        layout = base_layout(options)
        layout["scene"] = {
            "domain": {"x": [0.0, 0.55]},
            "xaxis": {"title": {"text": "α"}},
            "yaxis": {"title": {"text": "β"}},
            "zaxis": {"title": {"text": "loss"}},
        }
        layout["xaxis"] = {"domain": [0.62, 1.0], "title": {"text": "α (direction 1)"}}
        layout["yaxis"] = {"title": {"text": "β (direction 2)"}, "scaleanchor": "x"}
        data = [
            {
                "type": "surface",
                "x": encode(result["alphas"]),
                "y": encode(result["betas"]),
                "z": encode(z),
                "surfacecolor": encode(color),
                "colorscale": "Viridis",
                "showscale": False,
            },
            contour_trace(result["alphas"], result["betas"], color),
            {
                "type": "scatter",
                "mode": "markers",
                "x": [0.0],
                "y": [0.0],
                "marker": {"color": "#e4572e", "size": 10},
                "name": "trained weights",
            },
        ]
        return {"data": data, "layout": layout}

    def patch(self, options: NetLandscapeOptions, result: Result) -> Patch:
        return {"figure": self.figure(options, result)}
