"""Gradient descent, live: the learner's `update()` (or `train(n)`) moves global parameters; each
frame shows the fit, the path on the loss landscape, the loss curve and the counters.

The web process drives it frame by frame: it asks the kernel for `speed` more iterations only
after the previous frame went out, so the page never lags behind the kernel and Pause takes
effect at the next frame.

The learner's program is called the way it is written (app.plots.adapt): `gradient(w, b)` or a
`gradient()` that reads the globals; `update()` that changes the globals or `update(w, b)` that
returns the new values; `train(iterations)`, `train(n=100)` or `train()`. Training starts from
the program's own `w` and `b` (as its last Run left them) unless the plot gives `start`; the
iterations are counted as calls of `update` where the program's train calls it."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from app.plots.adapt import call_planned, call_text, plan_call, returned_parameters
from app.plots.base import (
    Figure,
    Options,
    Patch,
    PlotError,
    Result,
    TrainablePlotKind,
    as_float_array,
    base_layout,
    contour_trace,
    encode,
    learner_function,
    loss_colors,
    loss_grid,
)
from app.plots.curve import data_points, evaluate_curve_at
from app.plots.data_range import RangeMode, figure_wb, with_wb

STATE = "_descent_training"


class TrainingOptions(Options):
    update: str = "update"
    train: str | None = None
    """The learner's train(iterations); when given, frames call it instead of update()."""
    model: str = "y"
    loss: str = "loss"
    gradient: str | None = "gradient"
    data: str = "data"
    params: tuple[str, str] = ("w", "b")
    start: tuple[float, float] | None = None
    """Where Reset puts the parameters; default: the program's own values after its last Run."""
    w: tuple[float, float] = (-2.5, 2.5)
    b: tuple[float, float] = (-15.0, 15.0)
    resolution: int = 61
    height: int = 420
    range: RangeMode = "auto"
    """`data`: w and b around the least-squares fit of the data, and the fit over the data."""


def _takes_inputs(fn: Callable[..., Any]) -> bool:
    """Whether fn has a positional input (train(iterations), train(n=100)), else train()."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in params
    )


class TrainingKind(TrainablePlotKind[TrainingOptions]):
    name: ClassVar[str] = "training"
    options_model = TrainingOptions
    placeable: ClassVar[bool] = True
    function_options: ClassVar[tuple[str, ...]] = ("update", "train", "model", "loss")
    readout_labels: ClassVar[dict[str, str]] = {
        "iteration": "iteration",
        "w": "w",
        "b": "b",
        "loss": "loss",
        "grad_w": "∂L/∂w",
        "grad_b": "∂L/∂b",
    }

    # ------------------------------------------------------------------ kernel side

    def _state(self, ns: dict[str, Any], options: TrainingOptions) -> dict[str, Any]:
        state: dict[str, Any] = ns.setdefault(STATE, {})
        return state

    def _params(self, ns: Mapping[str, Any], options: TrainingOptions) -> tuple[float, float]:
        pw, pb = options.params
        try:
            return float(ns[pw]), float(ns[pb])
        except KeyError as err:
            raise PlotError(
                f"There is no global `{err.args[0]}` to train: set it to a number in your code "
                "and press Run."
            ) from None
        except (TypeError, ValueError):
            raise PlotError(f"`{pw}` and `{pb}` should be numbers.") from None

    def _call(
        self, ns: dict[str, Any], name: str, options: TrainingOptions, w: float, b: float
    ) -> Any:
        """The learner's `name` at (w, b): by name, in order, or with no inputs reading the
        globals (which hold w and b while it runs)."""
        pw, pb = options.params
        fn = learner_function(ns, name)
        plan = plan_call(fn, name, [pw, pb], [pw, pb])
        saved = ns.get(pw), ns.get(pb)
        ns[pw], ns[pb] = w, b
        try:
            return call_planned(fn, plan, {pw: w, pb: b})
        finally:
            ns[pw], ns[pb] = saved

    def _snapshot(self, ns: dict[str, Any], options: TrainingOptions, it: int) -> Result:
        w, b = self._params(ns, options)
        result: Result = {"iteration": float(it), "w": w, "b": b}
        if not (math.isfinite(w) and math.isfinite(b)):
            return result
        try:
            result["loss"] = float(
                as_float_array(self._call(ns, options.loss, options, w, b), options.loss, ())
            )
        except (OverflowError, FloatingPointError):
            result["loss"] = math.inf  # diverging: the web process stops and says so
        if not math.isfinite(result["loss"]):
            return result
        if options.gradient and callable(ns.get(options.gradient)):
            try:
                g = as_float_array(
                    self._call(ns, options.gradient, options, w, b), options.gradient, (2,)
                )
                result["grad_w"], result["grad_b"] = float(g[0]), float(g[1])
            except (OverflowError, FloatingPointError):
                pass
        dx, _dy = data_points(ns, options.data)
        xs = np.linspace(min(0.0, float(dx.min())), float(dx.max()) + 1, 50)
        result["fit_x"] = xs
        result["fit_y"] = evaluate_curve_at(ns, options.model, xs, {"w": w, "b": b})
        return result

    def _loss_of_two(
        self, ns: dict[str, Any], options: TrainingOptions
    ) -> Callable[[Any, Any], Any]:
        """The loss as a function of (w, b) for the landscape, however the learner wrote it."""
        pw, pb = options.params
        fn = learner_function(ns, options.loss)
        plan = plan_call(fn, options.loss, [pw, pb], [pw, pb])
        if plan[0]:
            return lambda w, b: call_planned(fn, plan, {pw: w, pb: b})
        return lambda w, b: self._call(ns, options.loss, options, w, b)

    def evaluate(
        self,
        ns: Mapping[str, Any],
        options: TrainingOptions,
        values: Mapping[str, float],
        whole: bool,
    ) -> Result:
        assert isinstance(ns, dict)
        state = self._state(ns, options)
        if whole or "start" not in state:
            # After a Run: the program's own parameters are where training starts.
            state["start"] = options.start or self._params(ns, options)
        if "iteration" not in state:
            self.advance(ns, options, 0, reset=True)
        elif whole:
            state["iteration"] = 0  # a Run redraws the whole figure: the count starts again
        result = self._snapshot(ns, options, state["iteration"])
        dx, dy = data_points(ns, options.data)
        result["data_x"], result["data_y"] = dx, dy
        if whole:
            options = with_wb(options, ns, options.data, result)
            ws = np.linspace(*options.w, options.resolution)
            bs = np.linspace(*options.b, options.resolution)
            grid = loss_grid(self._loss_of_two(ns, options), ws, bs)
            result.update({"ws": ws, "bs": bs, "z": grid.z})
        return result

    def _update(self, ns: dict[str, Any], options: TrainingOptions) -> Callable[[], Any]:
        """One step of the learner's update, as a call of no inputs that moves the globals."""
        pw, pb = options.params
        name = options.update
        fn = learner_function(ns, name)
        plan = plan_call(fn, name, [pw, pb], [pw, pb])
        if not plan[0]:
            return fn

        def step() -> None:
            out = call_planned(fn, plan, {pw: ns.get(pw), pb: ns.get(pb)})
            new = returned_parameters(out, 2)
            if new is None:
                raise PlotError(
                    f"The plot called {call_text(name, plan[0])} and it returned "
                    f"{type(out).__name__}. Return the new values (`return {pw}, {pb}`), or "
                    f"give `{name}` no inputs and let it change the globals (`global {pw}, {pb}`)."
                )
            ns[pw], ns[pb] = new

        return step

    def _train(
        self, ns: dict[str, Any], options: TrainingOptions, iterations: int
    ) -> tuple[int, str]:
        """Run the learner's train for `iterations`; the steps it took (counted as calls of its
        update, when it calls the update by name) and how it was called."""
        assert options.train
        train = learner_function(ns, options.train)
        original = ns.get(options.update)
        calls = 0
        if callable(original):

            def counted(*args: Any, **kwargs: Any) -> Any:
                nonlocal calls
                calls += 1
                return original(*args, **kwargs)

            ns[options.update] = counted
        try:
            if _takes_inputs(train):
                train(iterations)
                how = call_text(options.train, [str(iterations)])
            else:
                train()
                how = call_text(options.train, [])
        finally:
            if callable(original) and ns.get(options.update) is not original:
                ns[options.update] = original
        return (calls or iterations), how

    def advance(
        self,
        ns: dict[str, Any],
        options: TrainingOptions,
        iterations: int,
        reset: bool,
        start: Sequence[float] | None = None,
    ) -> Result:
        """Reset the parameters (to `start`, where the learner dragged it, when given), or run
        `iterations` more steps of the learner's code."""
        state = self._state(ns, options)
        pw, pb = options.params
        if reset:
            if start is not None:  # checked by the web process (app.session.training)
                state["start"] = (float(start[0]), float(start[1]))
            begin = state.get("start") or options.start or self._params(ns, options)
            state["start"] = begin
            ns[pw], ns[pb] = begin
            state["iteration"] = 0
            return self._snapshot(ns, options, 0)
        before = (ns.get(pw), ns.get(pb))
        if options.train and callable(ns.get(options.train)):
            done, how = self._train(ns, options, iterations)
        else:
            step = self._update(ns, options)
            for _ in range(iterations):
                step()
            done, how = iterations, call_text(options.update, [])
        if iterations and state["iteration"] == 0 and (ns.get(pw), ns.get(pb)) == before:
            raise PlotError(
                f"The plot called {how}, but `{pw}` and `{pb}` did not change. Does it call "
                f"`{options.update}()`, and does `{options.update}` say `global {pw}, {pb}` "
                "before it changes them?"
            )
        state["iteration"] += done
        return self._snapshot(ns, options, state["iteration"])

    # ------------------------------------------------------------------ web side

    def figure(self, options: TrainingOptions, result: Result) -> Figure:
        options = figure_wb(options, result)
        z = np.asarray(result["z"])
        color = loss_colors(z)
        layout = base_layout(options)
        layout["grid"] = {"rows": 1, "columns": 3, "pattern": "independent"}
        layout["xaxis"] = {"domain": [0.0, 0.3], "title": {"text": "x"}}
        layout["yaxis"] = {"title": {"text": "y"}}
        layout["xaxis2"] = {
            "domain": [0.37, 0.67],
            "title": {"text": "w"},
            "range": list(options.w),
        }
        layout["yaxis2"] = {"title": {"text": "b"}, "range": list(options.b), "anchor": "x2"}
        layout["xaxis3"] = {"domain": [0.75, 1.0], "title": {"text": "iteration"}}
        layout["yaxis3"] = {"title": {"text": "loss"}, "type": "log", "anchor": "x3"}
        finite = "loss" in result
        w, b = result["w"], result["b"]
        data = [
            {
                "type": "scatter",
                "mode": "lines",
                "x": encode(result["fit_x"]),
                "y": encode(result["fit_y"]),
                "line": {"color": "#2f6fdf", "width": 3},
                "name": "fit",
            },
            {
                "type": "scatter",
                "mode": "markers",
                "x": encode(result["data_x"]),
                "y": encode(result["data_y"]),
                "marker": {"color": "#e4572e", "size": 8},
                "name": "data",
            },
            contour_trace(result["ws"], result["bs"], color, xaxis="x2", yaxis="y2"),
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [w],
                "y": [b],
                "xaxis": "x2",
                "yaxis": "y2",
                "line": {"color": "#ffffff", "width": 2},
                "marker": {"size": 5, "color": "#ffffff"},
                "name": "path",
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": [result["iteration"]],
                "y": [result["loss"]] if finite else [],
                "xaxis": "x3",
                "yaxis": "y3",
                "line": {"color": "#7b3fbf", "width": 2},
                "name": "loss",
            },
            {
                # Where training starts: a ring the learner may drag (the page sends `place`).
                "type": "scatter",
                "mode": "markers",
                "x": [w],
                "y": [b],
                "xaxis": "x2",
                "yaxis": "y2",
                "marker": {
                    "size": 14,
                    "color": "rgba(255, 255, 255, 0.35)",
                    "line": {"color": "#ffffff", "width": 2},
                },
                "name": "start",
                "hovertemplate": "start: w = %{x:.3g}, b = %{y:.3g} (drag it)<extra></extra>",
                "showlegend": False,
                "meta": {"drag": {"train": True, "point": 0}},
            },
        ]
        return {"data": data, "layout": layout}

    def patch(self, options: TrainingOptions, result: Result) -> Patch:
        """A training frame: new fit, one more point on the path and on the loss curve."""
        return {
            "traces": [0],
            "data": {"y": [encode(result["fit_y"])]},
            "extend": {
                "traces": [3, 4],
                "data": {
                    "x": [[result["w"]], [result["iteration"]]],
                    "y": [[result["b"]], [result["loss"]]],
                },
            },
        }

    def trained_values(
        self, options: TrainingOptions, scalars: Mapping[str, float]
    ) -> dict[str, float]:
        """The two parameters, under the names the frames carry them (`w`, `b`)."""
        return {k: scalars[k] for k in ("w", "b") if k in scalars}

    def reset_patch(self, options: TrainingOptions, result: Result) -> Patch:
        """After Reset (or a dragged start): the path and the loss curve start again from the
        first point, where the start ring stands."""
        w, b = result["w"], result["b"]
        return {
            "traces": [0, 3, 4, 5],
            "data": {
                "y": [encode(result["fit_y"]), [b], [result["loss"]], [b]],
                "x": [encode(result["fit_x"]), [w], [result["iteration"]], [w]],
            },
        }
