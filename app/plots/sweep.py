"""The outcome against a parameter: the loss after N steps of the learner's own update, for every
learning rate of a grid at once, with the edge of stability 2/λ marked.

NOTE for lesson authors (tracks A, B, C): this kind is finished, tested (tests/plots/
test_sweep.py) and ready to reuse; its options are documented in docs/lessons.md (the plot-kind
table and "`sweep`, in detail"). Nothing here names a lesson's functions: the update, the loss,
the trained parameters and the rate variable all come from the plot's options.

How it runs (kernel side): for each rate r of the grid, the parameters start again at `start`,
the rate variable is set to r, and the update runs `steps` times; then the loss is measured. The
first try hands the learner's code numpy arrays (one entry per rate, so the whole grid runs in
one pass) and keeps that result when two rates run one by one agree with it; otherwise every rate
runs one by one, under a time budget. The learner's globals are put back afterwards.

The update may be written either way (app.plots.adapt): `update()` that reads and changes
globals, or a pure `step(w, b, learning_rate)` that returns the new parameters.

The edge: λ is the largest eigenvalue of the loss's curvature matrix (its Hessian, by central
differences of the learner's loss), measured where the best run ended (or at `edge_at`). For a
quadratic loss the curvature is the same everywhere and steps settle exactly for rates below
2/λ. `edge` may instead name a learner function of no inputs that returns the rate to mark."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

import numpy as np

from app.plots.adapt import call_planned, plan_call, returned_parameters
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
    progress_reporter,
)

MISSING = object()
HUGE = 1e150
"""A parameter or loss beyond this has blown up (squaring it again would overflow)."""


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
            runner = _Runner(ns, options, steps)
            start = runner.start()
            result: Result = {"steps": float(steps), "start_loss": runner.loss_at(start)}
            edge = math.nan
            if options.edge == "curvature":
                result["curvature"] = curvature(runner.loss_at, start)
                edge = 2 / result["curvature"] if result["curvature"] > 0 else math.nan
            elif options.edge:
                edge = _number(learner_function(ns, options.edge)(), options.edge)
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
            if rate is not MISSING and _is_number(rate) and float(rate) > 0:
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


class _Runner:
    """Runs the learner's update from a start, for one rate or for a grid of rates."""

    def __init__(self, ns: dict[str, Any], options: SweepOptions, steps: int) -> None:
        self.ns, self.options, self.steps = ns, options, steps
        self.names = list(options.params)
        self.update = learner_function(ns, options.update)
        self.loss = learner_function(ns, options.loss)
        self.update_plan = plan_call(
            self.update, options.update, [*self.names, options.rate], self.names
        )
        self.loss_plan = plan_call(self.loss, options.loss, self.names, self.names)
        self.deadline = time.monotonic() + options.budget_s

    def start(self) -> list[float]:
        if self.options.start is not None:
            if len(self.options.start) != len(self.names):
                raise PlotError(
                    f"`start` has {len(self.options.start)} numbers for "
                    f"{len(self.names)} parameters ({', '.join(self.names)})."
                )
            return [float(v) for v in self.options.start]
        missing = [n for n in self.names if not _is_number(self.ns.get(n))]
        if missing:
            raise PlotError(f"Set {', '.join(f'`{n}`' for n in missing)} to a number first.")
        return [float(self.ns[n]) for n in self.names]

    def loss_at(self, params: list[float] | np.ndarray) -> float:
        values = dict(zip(self.names, (float(p) for p in params), strict=True))
        self.ns.update(values)
        return _number(call_planned(self.loss, self.loss_plan, values), self.options.loss)

    def _run(self, rate: Any, start: list[Any]) -> list[Any]:
        """The parameters after `steps` updates at `rate` (numbers, or arrays of one per rate)."""
        current = dict(zip(self.names, start, strict=True))
        self.ns.update(current)
        self.ns[self.options.rate] = rate
        passes_params = any(n in self.names for n in self.update_plan[0])
        scalar = not isinstance(rate, np.ndarray)
        for _ in range(self.steps):
            out = call_planned(self.update, self.update_plan, {**current, self.options.rate: rate})
            new = returned_parameters(out, len(self.names)) if passes_params else None
            if new is None:
                new = [self.ns.get(n) for n in self.names]
            current = dict(zip(self.names, new, strict=True))
            self.ns.update(current)
            if scalar and not all(_is_number(v) and abs(float(v)) < HUGE for v in new):
                break
        return [current[n] for n in self.names]

    def _final_loss(self, params: list[Any]) -> float:
        if not all(_is_number(p) and abs(float(p)) < HUGE for p in params):
            return math.inf
        try:
            value = self.loss_at([float(p) for p in params])
        except (OverflowError, FloatingPointError):
            return math.inf
        return value if math.isfinite(value) and value < HUGE else math.inf

    def sweep(
        self, rates: np.ndarray, start: list[float], vectorise: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """The end parameters (rates × params) and the final losses for every rate."""
        if vectorise and rates.size > 2:
            found = self._vectorised(rates, start)
            if found is not None:
                return found
        ends = np.full((rates.size, len(self.names)), np.nan)
        losses = np.full(rates.size, np.inf)
        report = progress_reporter.get()
        for i, rate in enumerate(rates):
            if time.monotonic() > self.deadline:
                raise PlotError(
                    f"{rates.size} runs of {self.steps} steps took longer than "
                    f"{self.options.budget_s:g} s. Lower `steps` or `points`, or make "
                    f"`{self.options.update}` work on numpy arrays so all rates run at once."
                )
            try:
                with np.errstate(all="ignore"):
                    end = self._run(float(rate), start)
            except (OverflowError, FloatingPointError):
                continue
            losses[i] = self._final_loss(end)
            if math.isfinite(losses[i]):
                ends[i] = [float(p) for p in end]
            if report and i % 8 == 0:
                report(i, rates.size, "learning rates")
        return ends, losses

    def _vectorised(self, rates: np.ndarray, start: list[float]) -> tuple[Any, Any] | None:
        """All rates in one pass, when the learner's code handles numpy arrays the way it
        handles numbers (checked against two rates run one by one); else None."""
        try:
            with np.errstate(all="ignore"):
                end = self._run(rates.copy(), [np.full(rates.size, v) for v in start])
                arrays = [np.asarray(p, dtype=np.float64) for p in end]
                if any(a.shape != rates.shape for a in arrays):
                    return None
                ends = np.stack(arrays, axis=1)
                good = np.all(np.isfinite(ends) & (np.abs(ends) < HUGE), axis=1)
                values = dict(zip(self.names, arrays, strict=True))
                self.ns.update(values)
                raw = np.asarray(call_planned(self.loss, self.loss_plan, values), dtype=np.float64)
            if raw.shape != rates.shape:
                return None
        except Exception:
            return None
        losses = np.where(good & np.isfinite(raw) & (raw < HUGE), raw, np.inf)
        for i in (0, rates.size // 2):
            _, one = self.sweep(rates[i : i + 1], start, vectorise=False)
            if not _agree(float(one[0]), float(losses[i])):
                return None
        return np.where(good[:, None], ends, np.nan), losses


def curvature(loss: Callable[[list[float]], float], at: list[float] | np.ndarray) -> float:
    """The largest eigenvalue of the loss's Hessian at `at`, by central differences."""
    p = np.asarray(at, dtype=np.float64)
    n = p.size
    h = 1e-3 * np.maximum(1.0, np.abs(p))
    hess = np.zeros((n, n))
    f0 = loss(list(p))
    for i in range(n):
        for j in range(i, n):
            if i == j:
                e = np.zeros(n)
                e[i] = h[i]
                value = (loss(list(p + e)) - 2 * f0 + loss(list(p - e))) / h[i] ** 2
            else:
                ei, ej = np.zeros(n), np.zeros(n)
                ei[i], ej[j] = h[i], h[j]
                value = (
                    loss(list(p + ei + ej))
                    - loss(list(p + ei - ej))
                    - loss(list(p - ei + ej))
                    + loss(list(p - ei - ej))
                ) / (4 * h[i] * h[j])
            hess[i, j] = hess[j, i] = value
    if not np.all(np.isfinite(hess)):
        raise PlotError("The loss's curvature is not finite at the start; cannot mark 2/λ.")
    return float(np.linalg.eigvalsh(hess).max())


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


def _is_number(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError, OverflowError):
        return False


def _number(value: Any, name: str) -> float:
    if hasattr(value, "detach"):
        value = value.detach().cpu()
    try:
        return float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        raise PlotError(f"`{name}` should return one number, not {type(value).__name__}.") from None


def _agree(a: float, b: float) -> bool:
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.isfinite(a) == math.isfinite(b)
    return abs(a - b) <= 1e-6 * max(1.0, abs(a))


def _cap(finite: np.ndarray, start_loss: float) -> float:
    """Where the axis stops: losses above it (and runs that blew up) sit on this line."""
    top = max(start_loss * 100, float(finite.max()) if finite.size else start_loss)
    return float(min(top, max(start_loss, 1e-12) * 1e4))
