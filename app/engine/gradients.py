"""Gradients of a learner's function, so lessons can check a gradient the learner derived.

Two independent ways: central differences work on any Python function; torch's autograd is exact
but only when the function is built from torch operations. Comparing them (or either with the
learner's formula) through `relative_error` is how a lesson says "your gradient is right".
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, SupportsFloat

import numpy as np
import numpy.typing as npt
import torch
from torch.overrides import TorchFunctionMode

FloatArray = npt.NDArray[np.float64]

# Tensor methods that hand back data without its gradient history.
_GRAPH_EXITS = frozenset(
    {"__float__", "__int__", "__index__", "__complex__", "item", "tolist", "numpy", "detach"}
)


def central_difference(
    fn: Callable[..., SupportsFloat], point: Sequence[float], h: float = 1e-5
) -> FloatArray:
    """∂fn/∂p_i ≈ (fn(p + h e_i) − fn(p − h e_i)) / 2h; fn takes the parameters as floats."""
    if not h > 0:
        raise ValueError(f"step h must be positive, got {h}")
    x = np.asarray(point, dtype=np.float64)
    grad = np.empty_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        ahead = float(fn(*(x + step).tolist()))
        behind = float(fn(*(x - step).tolist()))
        grad[i] = (ahead - behind) / (2 * h)
    return grad


def autograd_gradient(fn: Callable[..., object], point: Sequence[float]) -> FloatArray | None:
    """The exact gradient by torch autograd, or None when torch cannot follow fn.

    fn receives float64 scalar tensors. Torch cannot follow it when it raises, returns something
    other than a one-element real tensor, turns a tracked tensor into a plain number on the way
    (math.*, float(), .item(), numpy), or leaves a parameter with no path to the result (unused
    and cut-off look the same). A gradient would then be wrong or unprovable, so None tells the
    caller to fall back to central differences. It never raises for these.
    """
    params = [torch.tensor(float(p), dtype=torch.float64, requires_grad=True) for p in point]
    try:
        with _RefuseGraphExits():
            out = fn(*params)
        if not isinstance(out, torch.Tensor) or out.numel() != 1 or out.is_complex():
            return None
        grads = torch.autograd.grad(out.reshape(()), params)
    except Exception:
        return None
    return np.array([float(g.detach().cpu()) for g in grads], dtype=np.float64)


class _GraphExit(Exception):
    """fn turned a tensor that carries gradients into something autograd cannot follow."""


class _RefuseGraphExits(TorchFunctionMode):
    """Stops fn where it leaves the autograd graph; math.exp(w) would otherwise silently give a
    gradient that treats exp(w) as a constant (torch only warns, and only once per process)."""

    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: Collection[type],
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
    ) -> Any:
        leaves = getattr(func, "__name__", "") in _GRAPH_EXITS
        if leaves and args and isinstance(args[0], torch.Tensor) and args[0].requires_grad:
            raise _GraphExit(getattr(func, "__name__", ""))
        return func(*args, **(kwargs or {}))


def relative_error(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """‖a − b‖ / max(‖a‖, ‖b‖, 1e-12): scale-free, and defined when both are zero."""
    a_arr = np.asarray(a, dtype=np.float64)
    b_arr = np.asarray(b, dtype=np.float64)
    scale = max(float(np.linalg.norm(a_arr)), float(np.linalg.norm(b_arr)), 1e-12)
    return float(np.linalg.norm(a_arr - b_arr)) / scale
