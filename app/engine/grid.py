"""Evaluate a learner's function over a grid or along a line in one call.

Learners write plain Python: some of it broadcasts over numpy arrays, some only works on single
floats. Trying one broadcast call first and falling back to a timed loop lets every lesson plot
either kind without asking the learner which one they wrote.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch

FloatArray = npt.NDArray[np.float64]
Mode = Literal["vectorised", "loop"]

_PROGRESS_REPORTS = 20


class GridError(ValueError):
    """A learner's function gave something that cannot be plotted; the message is for them."""


@dataclass(frozen=True)
class GridResult:
    """Values on a grid: `z[i, j]` is fn(ws[j], bs[i]), so rows follow b as plotly's surface z.

    `complete` is False when the loop ran out of time; the points it never reached are NaN.
    """

    z: FloatArray
    mode: Mode
    complete: bool
    seconds: float


def evaluate_grid(
    fn: Callable[[Any, Any], object],
    ws: npt.ArrayLike,
    bs: npt.ArrayLike,
    *,
    budget_s: float = 5.0,
    progress: Callable[[float], None] | None = None,
) -> GridResult:
    """fn(w, b) on every grid point: one broadcast call if fn allows it, else a loop within budget.

    Non-finite values are kept as they are for the caller to judge; a value that is not a number
    raises GridError. `progress(fraction)` is called at most 20 times.
    """
    start = time.perf_counter()
    ws_arr = _axis(ws, "ws")
    bs_arr = _axis(bs, "bs")
    shape = (bs_arr.size, ws_arr.size)
    with np.errstate(all="ignore"):
        w_grid, b_grid = np.meshgrid(ws_arr, bs_arr)
        z = _vectorised(fn, (w_grid, b_grid), {}, shape, allow_scalar=False)
        if z is not None:
            if progress is not None:
                progress(1.0)
            return GridResult(z, "vectorised", True, time.perf_counter() - start)

        z = np.full(shape, np.nan)
        call = f"{_name(fn)}(w, b)"
        total = z.size
        reported = 0
        for done, (i, j) in enumerate(np.ndindex(shape), start=1):
            w, b = float(ws_arr[j]), float(bs_arr[i])
            z[i, j] = _point(fn, (w, b), {}, call, f"w={w:g}, b={b:g}")
            if progress is not None and done * _PROGRESS_REPORTS >= (reported + 1) * total:
                reported = done * _PROGRESS_REPORTS // total
                progress(done / total)
            if done < total and time.perf_counter() - start > budget_s:
                return GridResult(z, "loop", False, time.perf_counter() - start)
    return GridResult(z, "loop", True, time.perf_counter() - start)


def evaluate_curve(
    fn: Callable[..., object], xs: npt.ArrayLike, **params: float
) -> tuple[FloatArray, Mode]:
    """fn(x, **params) for every x: one broadcast call if fn allows it, else a loop.

    A single number from the broadcast call counts as a constant function and is repeated.
    """
    xs_arr = np.asarray(xs, dtype=np.float64)
    with np.errstate(all="ignore"):
        ys = _vectorised(fn, (xs_arr,), params, xs_arr.shape, allow_scalar=True)
        if ys is not None:
            return ys, "vectorised"
        call = f"{_name(fn)}({', '.join(['x', *params])})"
        ys = np.empty_like(xs_arr)
        for index, x in np.ndenumerate(xs_arr):
            value = float(x)
            ys[index] = _point(fn, (value,), params, call, f"x={value:g}")
    return ys, "loop"


def _axis(values: npt.ArrayLike, label: str) -> FloatArray:
    """One grid axis as a 1-D float64 array."""
    axis = np.asarray(values, dtype=np.float64)
    if axis.ndim != 1:
        raise ValueError(f"{label} must be one-dimensional, got shape {axis.shape}")
    return axis


def _vectorised(
    fn: Callable[..., object],
    args: tuple[FloatArray, ...],
    params: dict[str, float],
    shape: tuple[int, ...],
    *,
    allow_scalar: bool,
) -> FloatArray | None:
    """The broadcast call's result as float64 of `shape`, or None when the loop must take over."""
    try:
        result = fn(*args, **params)
        if isinstance(result, torch.Tensor):
            result = result.detach().cpu().numpy()
        array = np.asarray(result)
    except Exception:
        return None
    if array.dtype.kind not in "biuf":
        return None
    if array.shape == () and allow_scalar:
        return np.full(shape, float(array))
    if array.shape != shape:
        return None
    return array.astype(np.float64)


def _point(
    fn: Callable[..., object],
    args: tuple[float, ...],
    params: dict[str, float],
    call: str,
    where: str,
) -> float:
    """One value of the loop, as a float.

    Arithmetic errors (1/0, overflow) become NaN, as numpy's would; any other failure is the
    learner's to fix, so it becomes a GridError naming the point.
    """
    try:
        value = fn(*args, **params)
    except ArithmeticError:
        return math.nan
    except Exception as exc:
        raise GridError(f"{call} failed at {where}: {type(exc).__name__}: {exc}") from exc
    return _as_number(value, call)


def _as_number(value: object, call: str) -> float:
    """A single real number from what the learner returned, or a GridError saying what it was."""
    if value is None:
        raise GridError(f"{call} returned None, expected a number (is a `return` missing?)")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise GridError(
                f"{call} returned a tensor of shape {tuple(value.shape)}, expected a number"
            )
        value = value.detach().cpu().item()
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise GridError(f"{call} returned an array of shape {value.shape}, expected a number")
        value = value.item()
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, complex | np.complexfloating):
        raise GridError(f"{call} returned a complex number, expected a real number")
    kind = type(value).__name__
    article = "an" if kind[0].lower() in "aeiou" else "a"
    raise GridError(f"{call} returned {article} {kind}, expected a number")


def _name(fn: Callable[..., object]) -> str:
    """The name a learner knows their function by, seeing through functools.partial."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    name = getattr(fn, "__name__", "")
    return name if isinstance(name, str) and name.isidentifier() else "f"
