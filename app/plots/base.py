"""What every plot kind provides, and helpers shared by the kinds.

A kind is generic over its options model (`PlotKind[CurveOptions]`), so its methods receive
the options already typed. A kind the page can train (Play, Step, Reset) is a
`TrainablePlotKind`: it says itself which result is the loss and which values it trains, so
the session names no lesson's keys."""

from __future__ import annotations

import base64
import contextlib
import inspect
import math
import weakref
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, ClassVar, Generic

import numpy as np
from pydantic import BaseModel, ConfigDict
from typing_extensions import TypeVar

Result = dict[str, Any]
"""Numbers a kernel returns for one plot: numpy arrays, floats and short strings."""

Figure = dict[str, Any]
Patch = dict[str, Any]


#: How a plot reports progress on long work (the kernel's runtime sets it while a plot computes):
#: progress(done, total, label).
progress_reporter: ContextVar[Callable[[float, float, str], None] | None] = ContextVar(
    "progress_reporter", default=None
)


#: The prefix of a readout's scalar that the lesson labelled in words ({label: function}).
LABELLED = "readout:"


class PlotError(Exception):
    """A learner function cannot feed a plot; the message is shown beside the plot."""


class Options(BaseModel):
    """Options common to every plot kind; kinds add their own."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str = ""
    height: int = 380
    readouts: list[str | dict[str, str]] = []
    """Learner functions called with the slider values and shown under the plot: a name (shown
    as `name() = value`), or a one-entry mapping {label: name} (shown as `label = value`)."""
    coarse: bool = False
    """Set by the server, never by a lesson: a slider is moving (a key held, a drag), so a kind
    with heavy work per move (`PlotKind.coarse`) draws a quick, coarse result; the full one is
    asked for when the slider comes to rest."""
    coarse_args: dict[str, int | float] = {}
    """Arguments that make the lesson's own function quick (`{epochs: 400}`, `{runs: 1}`): while
    a slider moves they are passed to it in place of its defaults, so retraining on a slider
    shows a coarse result at once and the full one at rest. Only for kinds that call the
    function with the slider values by name (`PlotKind.coarse_arguments`)."""


OptionsT = TypeVar("OptionsT", bound=Options, default=Options)


class PlotKind(Generic[OptionsT]):
    """One kind of figure: validates its options, evaluates in the kernel, draws in the page."""

    name: ClassVar[str]
    #: The pydantic model of the kind's options (the class of `OptionsT`).
    options_model: type[OptionsT]
    #: Learner functions this kind calls, by option name (e.g. {"function": "y"}).
    function_options: ClassVar[tuple[str, ...]] = ()
    #: Scalars of the result shown under the plot, by result key -> label.
    readout_labels: ClassVar[dict[str, str]] = {}
    #: Whether the kind draws a coarse result while a slider moves (`Options.coarse`): its work
    #: per move is heavy (a grid, a retraining). Other kinds never see `coarse` set.
    coarse: ClassVar[bool] = False
    #: Whether the kind calls the lesson's function with the slider values by name, so that a
    #: lesson's `coarse_args` can stand in for its defaults while a slider moves.
    coarse_arguments: ClassVar[bool] = False

    def draws_coarse(self, options: Mapping[str, Any]) -> bool:
        """Whether a plot with these (raw) options draws differently while a slider moves."""
        return self.coarse or bool(self.coarse_arguments and options.get("coarse_args"))

    def labels(self, options: OptionsT) -> dict[str, str]:
        """The kind's own readouts, by result key -> label; a kind may name them after its
        options (the axis a lesson called `w`)."""
        return self.readout_labels

    def shown_readouts(self, options: OptionsT, scalars: Mapping[str, float]) -> dict[str, float]:
        """The scalars a learner should see: the kind's own, then the lesson's readouts."""
        labels = self.labels(options)
        shown = {label: scalars[k] for k, label in labels.items() if k in scalars}
        shown.update({k: v for k, v in scalars.items() if k.endswith("()")})
        shown.update({k[len(LABELLED) :]: v for k, v in scalars.items() if k.startswith(LABELLED)})
        return {k: v for k, v in shown.items() if np.isfinite(v)}

    def parse_options(self, raw: Mapping[str, Any]) -> OptionsT:
        return self.options_model.model_validate(dict(raw))

    def evaluate(
        self, ns: Mapping[str, Any], options: OptionsT, values: Mapping[str, float], whole: bool
    ) -> Result:
        raise NotImplementedError

    def figure(self, options: OptionsT, result: Result) -> Figure:
        raise NotImplementedError

    def patch(self, options: OptionsT, result: Result) -> Patch:
        raise NotImplementedError

    def functions(self, options: OptionsT) -> list[str]:
        """Names of learner functions the plot calls."""
        return [str(getattr(options, o)) for o in self.function_options if getattr(options, o)]


#: Training stops once a parameter or the loss leaves this range: a run that diverges is stopped
#: within a few steps, not after hundreds of steps on the way to floating-point infinity.
SANE_LIMIT = 1e15


class TrainablePlotKind(PlotKind[OptionsT]):
    """A kind the page can play: the kernel moves the learner's parameters with `advance`, and
    each frame's numbers come back as a patch. The kind carries its own contract: which scalar
    is the loss, which counts the iterations, which values it trains."""

    #: The scalar of a frame's result that is the loss: a frame without it has diverged.
    loss_key: ClassVar[str] = "loss"
    #: The scalar that counts iterations, named when training diverges.
    iteration_key: ClassVar[str] = "iteration"

    #: Whether the learner may drag where training starts (`place`), given as the trained
    #: values in order.
    placeable: ClassVar[bool] = False

    def advance(
        self,
        ns: dict[str, Any],
        options: OptionsT,
        iterations: int,
        reset: bool,
        start: Sequence[float] | None = None,
    ) -> Result:
        """Kernel side: reset the parameters (to `start` when given, where the learner dragged
        them), or run `iterations` more steps of learner code."""
        raise NotImplementedError

    def reset_patch(self, options: OptionsT, result: Result) -> Patch:
        """The patch after Reset: the figure's history starts again."""
        raise NotImplementedError

    def trained_values(self, options: OptionsT, scalars: Mapping[str, float]) -> dict[str, float]:
        """The values a frame moved, by name (what the class landscape shows of a learner)."""
        return {}

    def divergence(self, scalars: Mapping[str, float]) -> str:
        """Words for a frame whose loss or parameters are no longer finite, or "" when the
        frame may be shown."""
        if self.loss_key in scalars and all(
            math.isfinite(v) and abs(v) <= SANE_LIMIT for v in scalars.values()
        ):
            return ""
        it = int(scalars.get(self.iteration_key, 0))
        return (
            f"Training diverged at iteration {it}: the parameters or the loss grew past "
            f"{SANE_LIMIT:.0e} (on their way to infinity). The last sane state stays on screen. "
            "Try a smaller learning rate, then press Reset."
        )


def learner_function(ns: Mapping[str, Any], name: str) -> Callable[..., Any]:
    """The learner's function `name`, or a PlotError a beginner can act on."""
    fn = ns.get(name)
    if fn is None:
        raise PlotError(
            f"There is no function `{name}` yet. Define it in a code cell and press Run."
        )
    if not callable(fn):
        raise PlotError(f"`{name}` is a {type(fn).__name__}, not a function.")
    return fn  # type: ignore[no-any-return]


_SIGNATURES: weakref.WeakKeyDictionary[Callable[..., Any], list[inspect.Parameter]] = (
    weakref.WeakKeyDictionary()
)


def _parameters(fn: Callable[..., Any]) -> list[inspect.Parameter] | None:
    """fn's parameters, cached per function object: a slider move calls the same function often."""
    try:
        return _SIGNATURES[fn]
    except (KeyError, TypeError):
        pass
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    with contextlib.suppress(TypeError):  # not weak-referenceable: just don't cache
        _SIGNATURES[fn] = params
    return params


def slider_arguments(
    fn: Callable[..., Any], name: str, positional: int, values: Mapping[str, float]
) -> dict[str, float]:
    """The slider values `fn` takes as keyword arguments after its `positional` inputs."""
    params = _parameters(fn)
    if params is None:
        return dict(values)
    kwargs: dict[str, float] = {}
    for p in params[positional:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in values:
            kwargs[p.name] = values[p.name]
        elif p.default is p.empty:
            known = ", ".join(sorted(values)) or "none"
            raise PlotError(
                f"`{name}` asks for `{p.name}`, but no slider has that name (sliders: {known})."
            )
    return kwargs


def learner_data(
    ns: Mapping[str, Any], source: str | None, function: str | None, values: Mapping[str, float]
) -> tuple[Any, str]:
    """What a plot draws, and its name: a learner function called with the slider values it
    names, or else a variable the learner's code made."""
    if function:
        fn = learner_function(ns, function)
        return fn(**slider_arguments(fn, function, 0, values)), function
    if source and source in ns:
        return ns[source], source
    raise PlotError(f"There is no `{source or function}` yet: run the cell that makes it.")


def loss_grid(
    fn: Callable[..., Any],
    xs: np.ndarray,
    ys: np.ndarray,
    budget_s: float = 3.0,
    progress: Callable[[float], None] | None = None,
) -> Any:
    """The learner's loss over a grid in one request (kernel side), or a PlotError in words."""
    from app.engine.grid import GridError, evaluate_grid  # torch, kernel only

    try:
        return evaluate_grid(fn, xs, ys, budget_s=budget_s, progress=progress)
    except GridError as err:
        raise PlotError(str(err)) from None


def loss_colors(z: np.ndarray, log: bool = True) -> np.ndarray:
    """Colours for a loss surface: log(1 + L) when the loss is never negative, so a deep, narrow
    valley still shows its floor beside the steep walls."""
    return np.log1p(np.maximum(z, 0)) if log and np.nanmin(z) >= 0 else z


def contour_trace(x: np.ndarray, y: np.ndarray, color: np.ndarray, **extra: Any) -> dict[str, Any]:
    """A filled contour of a loss surface, as every landscape-like plot draws it."""
    trace: dict[str, Any] = {
        "type": "contour",
        "x": encode(x),
        "y": encode(y),
        "z": encode(color),
        "colorscale": "Viridis",
        "showscale": False,
        "contours": {"coloring": "heatmap"},
        "line": {"width": 0.5},
        "hoverinfo": "skip",
    }
    trace.update(extra)
    return trace


def readouts(ns: Mapping[str, Any], options: Options, values: Mapping[str, float]) -> Result:
    """Each readout function called with the slider values it asks for, as `name()` scalars."""
    out: Result = {}
    for item in options.readouts:
        pairs = item.items() if isinstance(item, dict) else [(f"{item}()", item)]
        for label, name in pairs:
            fn = learner_function(ns, name)
            value = as_float_array(fn(**slider_arguments(fn, name, 0, values)), name, ())
            check_finite(value, name)
            out[label if isinstance(item, str) else LABELLED + label] = float(value)
    return out


def as_float_array(value: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Learner output as a float64 array of `shape`, or a PlotError naming what was wrong."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, str | bytes) or value is None:
        raise PlotError(f"`{name}` returned {type(value).__name__}, expected a number.")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise PlotError(f"`{name}` returned {type(value).__name__}, expected a number.") from None
    if arr.shape != shape:
        arr = np.broadcast_to(arr, shape) if arr.ndim == 0 else arr
    if arr.shape != shape:
        raise PlotError(f"`{name}` returned shape {arr.shape}, expected {shape}.")
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """Refuse NaN and infinity with a message that says where they came from."""
    if not np.isfinite(arr).all():
        what = "NaN" if np.isnan(arr).any() else "infinity"
        raise PlotError(f"`{name}` returned {what}; check for a division by zero or a huge number.")


def significant(x: np.ndarray, digits: int = 7) -> np.ndarray:
    """x rounded to `digits` significant digits: short on the wire, and tiny values survive."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        exponent = np.floor(np.log10(np.abs(x)))
        scale = np.where(np.isfinite(exponent), 10.0 ** (digits - 1 - exponent), 1.0)
        rounded = np.round(x * scale) / scale
    return np.where(np.isfinite(rounded), rounded, x)


#: Arrays of at most this many values go as plain lists (markers, arrows, a few data points:
#: readable in the messages); longer ones as base64 float32.
LIST_MAX = 32
#: Longer arrays up to this size still go as lists when float32 cannot hold their values.
LIST_OVERFLOW_MAX = 512
FLOAT32_MAX = float(np.finfo(np.float32).max)


def encode(arr: np.ndarray) -> Any:
    """A JSON-ready array: a plain list rounded to 7 significant digits when it is short, else
    base64 float32, which holds as many digits. A slider's patch sends a curve 30 times a
    second: float32 is one cast where rounding is a dozen numpy calls, it takes fewer
    characters, and the page reads it without parsing numbers. Values too big for float32 (a
    diverging loss) or not finite still go as a list, unless the array is too long for one."""
    values = np.asarray(arr, dtype=np.float64)
    if values.size <= LIST_MAX:
        return significant(values).tolist()
    if values.size <= LIST_OVERFLOW_MAX:
        if not np.abs(values).max() < FLOAT32_MAX:  # NaN compares False too
            return significant(values).tolist()
        f4 = values.astype("<f4")
    else:
        with np.errstate(over="ignore"):  # beyond float32: infinity, a gap on the page
            f4 = np.ascontiguousarray(values, dtype="<f4")
    return {
        "dtype": "f4",
        "bdata": base64.b64encode(f4.tobytes()).decode(),
        "shape": list(f4.shape),
    }


def base_layout(options: Options) -> dict[str, Any]:
    """Layout shared by every figure: compact margins, our fonts, fixed height."""
    layout: dict[str, Any] = {
        "height": options.height,
        "margin": {"l": 50, "r": 20, "t": 40 if options.title else 20, "b": 45},
        "font": {"family": "system-ui, sans-serif", "size": 13},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#fbfbfd",
        "showlegend": False,
        "uirevision": "keep",
    }
    if options.title:
        layout["title"] = {"text": options.title, "x": 0.02, "font": {"size": 15}}
    return layout
