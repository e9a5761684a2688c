"""The outcome against a parameter: the loss after N steps of the learner's own update, for every
learning rate of a grid at once, with the edge of stability 2/λ marked.

Its options are documented in docs/lessons.md ("`sweep`, in detail"); nothing here names a
lesson's functions: the update, the loss, the trained parameters and the rate variable all come
from the plot's options.

How it runs (kernel side, app.plots.sweep_runs): for each rate r of the grid, the parameters
start again at `start`, the rate variable is set to r, and the update runs `steps` times; then
the loss is measured. The first try hands the learner's code numpy arrays (one entry per rate,
so the whole grid runs in one pass) and keeps that result when two rates run one by one agree
with it; otherwise every rate runs one by one, under a time budget. The learner's globals are
put back afterwards.

The update may be written either way (app.plots.adapt): `update()` that reads and changes
globals, or a pure `step(w, b, learning_rate)` that returns the new parameters.

The edge: λ is the largest eigenvalue of the loss's curvature matrix (its Hessian, by central
differences of the learner's loss), measured where the best run ended (or at `edge_at`). For a
quadratic loss the curvature is the same everywhere and steps settle exactly for rates below
2/λ. `edge` may instead name a learner function of no inputs that returns the rate to mark."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

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
)
from app.plots.sweep_runs import Runner, curvature, is_number, number_of

MISSING = object()


class SweepOptions(Options):
    update: str = "update"
    """The learner's step: `update()` changing globals, or a function of the parameters (and the
    rate) returning the new parameters."""
    loss: str = "loss"
    """The learner's loss, called with the parameters (or with none, reading the globals)."""
    params: tuple[str, ...] = ("w", "b")
    """The globals the update trains."""
    rate: str = "learning_rate"
    """The global (or the update's input) that holds the learning rate."""
    start: tuple[float, ...] | None = None
    """Where every run starts; default: the parameters' values when the plot is drawn."""
    steps: int | str = 100
    """N, the steps per run; or the name of a slider that sets it."""
    rates: tuple[float, float] | None = None
    """The range of rates; default: from 2/λ ÷ 100 to 2/λ × 1.5."""
    points: int = 81
    log_x: bool = True
    log_y: bool = True
    edge: str | None = "curvature"
    """`curvature` (2/λ from the loss), the name of a learner function returning a rate, or
    null for no marker."""
    edge_at: Literal["end", "start"] | tuple[float, ...] = "end"
    """Where λ is measured: where the best run ended, at the start, or at given parameters."""
    x_label: str = "learning rate"
    y_label: str | None = None
    """Default: "loss after N steps"."""
    budget_s: float = 3.0
    height: int = 360


class SweepKind(PlotKind[SweepOptions]):
    name: ClassVar[str] = "sweep"
    options_model = SweepOptions
    function_options: ClassVar[tuple[str, ...]] = ("update", "loss")
    readout_labels: ClassVar[dict[str, str]] = {
        "curvature": "largest curvature λ",
        "edge": "edge of settling 2/λ",
        "rate": "your learning rate",
        "rate_loss": "loss at your rate, after the run",
    }

    # ------------------------------------------------------------------ kernel side

    def evaluate(
        self, ns: Mapping[str, Any], options: SweepOptions, values: Mapping[str, float], whole: bool
    ) -> Result:
        assert isinstance(ns, dict)
        steps = _steps(options, values)
        names = list(options.params)
        saved = {n: ns.get(n, MISSING) for n in [*names, options.rate]}
        try:
            runner = Runner(ns, options, steps)
            start = runner.start()
            result: Result = {"steps": float(steps), "start_loss": runner.loss_at(start)}
            edge = math.nan
            if options.edge == "curvature":
                result["curvature"] = curvature(runner.loss_at, start)
                edge = 2 / result["curvature"] if result["curvature"] > 0 else math.nan
            elif options.edge:
                edge = number_of(learner_function(ns, options.edge)(), options.edge)
            lo, hi = options.rates or _auto_rates(edge)
            rates = (
                np.geomspace(lo, hi, options.points)
                if options.log_x
                else np.linspace(lo, hi, options.points)
            )
            ends, losses = runner.sweep(rates, start)
            if options.edge == "curvature" and options.edge_at != "start":
                at = _edge_point(options, ends, losses, start)
                result["curvature"] = curvature(runner.loss_at, at)
                edge = 2 / result["curvature"] if result["curvature"] > 0 else math.nan
            if math.isfinite(edge):
                result["edge"] = edge
            rate = saved[options.rate]
            if rate is not MISSING and is_number(rate) and float(rate) > 0:
                result["rate"] = float(rate)
                _, mine = runner.sweep(np.array([float(rate)]), start, vectorise=False)
                if math.isfinite(mine[0]):
                    result["rate_loss"] = float(mine[0])
        finally:
            for n, v in saved.items():
                if v is MISSING:
                    ns.pop(n, None)
                else:
                    ns[n] = v
        result["rates"], result["losses"] = rates, np.where(np.isfinite(losses), losses, -1.0)
        return result

    # ------------------------------------------------------------------ web side

    def figure(self, options: SweepOptions, result: Result) -> Figure:
        rates = np.asarray(result["rates"], dtype=np.float64)
        losses = np.asarray(result["losses"], dtype=np.float64)
        steps = int(result["steps"])
        start_loss = float(result["start_loss"])
        ok = losses >= 0
        cap = _cap(losses[ok], start_loss)
        shown = np.minimum(losses, cap)
        if options.log_y:
            floor = float(shown[ok & (shown > 0)].min()) if (ok & (shown > 0)).any() else 1e-12
            shown = np.maximum(shown, floor)
        blew = ~ok | (losses > cap)
        layout = base_layout(options)
        layout["showlegend"] = True
        layout["legend"] = {"orientation": "h", "y": 1.14}
        layout["xaxis"] = {
            "title": {"text": options.x_label},
            "type": "log" if options.log_x else "linear",
            "exponentformat": "power" if options.log_x else "none",
        }
        layout["yaxis"] = {
            "title": {"text": options.y_label or f"loss after {steps} steps"},
            "type": "log" if options.log_y else "linear",
            "exponentformat": "power",
            "automargin": True,
        }
        data: list[dict[str, Any]] = [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"loss after {steps} steps",
                "x": encode(rates[~blew]),
                "y": encode(shown[~blew]),
                "line": {"color": "#2f6fdf", "width": 2},
                "marker": {"size": 4},
            },
            {
                "type": "scatter",
                "mode": "markers",
                "name": "blew up",
                "x": encode(rates[blew]),
                "y": encode(np.full(int(blew.sum()), cap)),
                "marker": {"color": "#e4572e", "symbol": "x", "size": 7},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "loss at the start",
                "x": [float(rates[0]), float(rates[-1])],
                "y": [start_loss, start_loss],
                "line": {"color": "#999", "width": 1, "dash": "dash"},
            },
        ]
        low = float(shown.min()) if shown.size else 1e-12
        for key, color, text, dash in (
            ("edge", "#1d2230", "2/λ = {:.3g}", "solid"),
            ("rate", "#1f8a4c", "your rate {:.3g}", "dot"),
        ):
            if key in result:
                x = float(result[key])
                data.append(
                    {
                        "type": "scatter",
                        "mode": "lines",
                        "name": text.format(x),
                        "x": [x, x],
                        "y": [low, cap],
                        "line": {"color": color, "width": 1.5, "dash": dash},
                        "hoverinfo": "name",
                    }
                )
        return {"data": data, "layout": layout}

    def patch(self, options: SweepOptions, result: Result) -> Patch:
        return {"figure": self.figure(options, result)}


def _steps(options: SweepOptions, values: Mapping[str, float]) -> int:
    if isinstance(options.steps, int):
        steps = options.steps
    elif options.steps in values:
        steps = round(values[options.steps])
    else:
        raise PlotError(f"`steps` names the slider `{options.steps}`; list it under `sliders`.")
    if not 1 <= steps <= 100_000:
        raise PlotError(f"steps should be between 1 and 100000, not {steps}.")
    return steps


def _auto_rates(edge: float) -> tuple[float, float]:
    if not (math.isfinite(edge) and edge > 0):
        raise PlotError("Give the plot a `rates: [lowest, highest]` range to try.")
    return edge / 100, edge * 1.5


def _edge_point(
    options: SweepOptions, ends: np.ndarray, losses: np.ndarray, start: list[float]
) -> list[float]:
    if isinstance(options.edge_at, tuple):
        if len(options.edge_at) != len(options.params):
            raise PlotError("`edge_at` needs one number per parameter.")
        return [float(v) for v in options.edge_at]
    if not np.isfinite(losses).any():
        return start
    return [float(v) for v in ends[int(np.argmin(losses))]]


def _cap(finite: np.ndarray, start_loss: float) -> float:
    """Where the axis stops: losses above it (and runs that blew up) sit on this line."""
    top = max(start_loss * 100, float(finite.max()) if finite.size else start_loss)
    return float(min(top, max(start_loss, 1e-12) * 1e4))
