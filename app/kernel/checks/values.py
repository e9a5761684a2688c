"""Reading what a learner's code left behind: a function, one number, a vector, a tensor as a
numpy array; comparing numbers with one tolerance rule; formulas written in a lesson file; and
the words for "define it first".

The tolerance rule, used by every check: `got` is close to `want` when both are finite, have the
same shape, and ‖got − want‖ ≤ tol · max(1, ‖want‖), ‖·‖ being the Euclidean norm over all entries
(for one number: |got − want| ≤ tol · max(1, |want|)). It is relative for large values and
absolute below 1, so a reference of 0 does not demand an exact 0. `error(got, want)` is the
left side divided by max(1, ‖want‖), the number the rule compares with `tol`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from app.kernel.checks.registry import Verdict

FloatArray = npt.NDArray[np.float64]

#: The tolerance of `close` when a check gives none.
DEFAULT_TOLERANCE = 1e-6


def learner_function(ns: Mapping[str, Any], name: str) -> Callable[..., Any] | None:
    """The learner's function (or class) called `name`, or None when there is no such callable."""
    fn = ns.get(name)
    return fn if callable(fn) else None


def define_first(name: str, *inputs: str, what: str = "function") -> Verdict:
    """The verdict for a missing function: "Define a function called `name` and press Run
    first.", with its inputs shown when given (`define_first("step", "w", "learning_rate")`)."""
    shown = f"{name}({', '.join(inputs)})" if inputs else name
    return False, f"Define a {what} called `{shown}` and press Run first."


def set_first(*names: str) -> Verdict:
    """The verdict for missing variables: "Set `w` and `b` to numbers and press Run first."."""
    listed = " and ".join(f"`{n}`" for n in names)
    noun = "numbers" if len(names) > 1 else "a number"
    return False, f"Set {listed} to {noun} and press Run first."


def _plain(value: Any) -> Any:
    """A torch tensor as a numpy array (detached, on the CPU); anything else as it is."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return value


def array(value: Any) -> FloatArray | None:
    """Any learner result (a tensor, an array, a list of lists, a number) as a float64 array of
    its own shape, or None when it is not numbers (text, None, a dict...)."""
    value = _plain(value)
    if value is None or isinstance(value, str | bytes | dict):
        return None
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def number(value: Any) -> float | None:
    """One number from an int, a float, a 0-d or one-element array or tensor; else None (a
    bool, text, a list of several numbers...)."""
    if isinstance(value, bool):
        return None
    arr = array(value)
    return float(arr.reshape(-1)[0]) if arr is not None and arr.size == 1 else None


def numbers(value: Any, size: int | None = None) -> FloatArray | None:
    """A flat vector of numbers from a tuple, list, 1-D array or tensor (each item one number),
    of length `size` when given; else None."""
    value = _plain(value)
    if value is None or isinstance(value, str | bytes | dict):
        return None
    try:
        parts = [number(v) for v in value]
    except TypeError:
        return None
    if any(p is None for p in parts) or (size is not None and len(parts) != size):
        return None
    return np.array(parts, dtype=np.float64)


def error(got: Any, want: Any) -> float:
    """‖got − want‖ / max(1, ‖want‖); infinite when the shapes differ or a value is not finite."""
    g, w = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if g.shape != w.shape or not (np.all(np.isfinite(g)) and np.all(np.isfinite(w))):
        return math.inf
    return float(np.linalg.norm(g - w)) / max(1.0, float(np.linalg.norm(w)))


def close(got: Any, want: Any, tol: float = DEFAULT_TOLERANCE) -> bool:
    """The tolerance rule above: error(got, want) <= tol."""
    return error(got, want) <= tol


def expression(text: str, constants: Mapping[str, Any] | None = None) -> Callable[..., Any]:
    """A formula written in a lesson file, as a function of keyword inputs: `expression("w * x
    + b")(w=2, x=3, b=1)` is 7. The inputs sit beside `constants` (and np, math, exp, sqrt, sin,
    cos, sigmoid) in one namespace, so `sum((w * x - y) ** 2 for x, y in data)` sees both."""
    env: dict[str, Any] = {
        "np": np,
        "math": math,
        "exp": np.exp,
        "sqrt": np.sqrt,
        "sin": np.sin,
        "cos": np.cos,
        "sigmoid": sigmoid,
        **dict(constants or {}),
    }
    code = compile(text, "<lesson formula>", "eval")
    return lambda **inputs: eval(code, {**env, **inputs})  # lesson files are the teacher's


def accepts(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Can fn be called with these arguments? True for a builtin without a signature."""
    try:
        inspect.signature(fn).bind(*args, **kwargs)
    except TypeError:
        return False
    except ValueError:
        return True
    return True


def signature_problem(fn: Callable[..., Any], name: str, *inputs: str) -> Verdict | None:
    """A verdict when fn cannot take the inputs positionally, naming them; else None."""
    if accepts(fn, *range(len(inputs))):
        return None
    return False, f"`{name}` should take {len(inputs)} inputs: `{name}({', '.join(inputs)})`."


def is_shape_error(err: BaseException) -> bool:
    """Whether an error torch (or numpy) raised is about shapes that do not fit together."""
    words = ("cannot be multiplied", "must match the size", "size mismatch", "shape")
    return isinstance(err, RuntimeError | ValueError) and any(w in str(err) for w in words)


def sigmoid(z: Any) -> FloatArray:
    """σ(z) = 1 / (1 + e^(−z)), entry by entry, as float64."""
    return np.asarray(1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64))), dtype=np.float64)


def shown(value: Any) -> str:
    """A learner's value for a message: its type and the start of its repr."""
    return f"{type(value).__name__} {value!r:.60}"
