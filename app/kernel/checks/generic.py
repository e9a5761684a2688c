"""The toolkit's checks, usable by name from any lesson: `function_matches`,
`derivative_matches` and `good_fit` (`gradient_matches` is in `gradient.py`).

References are written in the lesson file as Python expressions of the check's `args` (e.g.
"w * x + b"); `constants` in the params adds names such expressions may use, such as the lesson's
data set. An error raised by the learner's own code is not caught here: the kernel turns it into
a traceback that points at the learner's line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from app.engine.gradients import central_difference
from app.kernel.checks.mistakes import Mistakes, Test
from app.kernel.checks.registry import Verdict, check
from app.kernel.checks.values import (
    close,
    define_first,
    expression,
    learner_function,
    number,
    set_first,
    shown,
)


def samples(params: Mapping[str, Any], rng: np.random.Generator) -> dict[str, float]:
    """One random value for each of the params' `args`, inside its `ranges` (default [-5, 5])."""
    ranges: Mapping[str, list[float]] = params.get("ranges", {})
    out = {}
    for a in params["args"]:
        low, high = ranges.get(a, [-5.0, 5.0])
        out[a] = float(rng.uniform(float(low), float(high)))
    return out


def reference(
    ns: Mapping[str, Any], spec: str, args: Sequence[str], constants: Mapping[str, Any]
) -> Callable[..., Any] | None:
    """The function a check differentiates, taking the `args` positionally: a learner function
    when `spec` names one (e.g. "loss"), else an expression of the args. None when `spec` names
    a learner function that does not exist yet."""
    if spec.isidentifier() and spec not in args and spec not in constants:
        return learner_function(ns, spec)
    expr = expression(spec, constants)
    return lambda *point: expr(**dict(zip(args, point, strict=True)))


class Against(NamedTuple):
    """A learner's function and the reference it is compared with, from the params: function,
    args, constants, the reference (`of` or `loss`), tolerance and seed."""

    name: str
    fn: Callable[..., Any]
    args: list[str]
    constants: Mapping[str, Any]
    reference: Callable[..., Any]
    tol: float
    rng: np.random.Generator


def against(
    ns: Mapping[str, Any], params: Mapping[str, Any], key: str, tol: float
) -> Against | Verdict:
    """What a check compares, or the verdict when the learner has not defined it yet."""
    name = str(params["function"])
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name)
    args: list[str] = list(params["args"])
    constants = params.get("constants", {})
    ref = reference(ns, str(params[key]), args, constants)
    if ref is None:
        return define_first(str(params[key]))
    tol = float(params.get("tolerance", tol))
    rng = np.random.default_rng(int(params.get("seed", 7)))
    return Against(name, fn, args, constants, ref, tol, rng)


def where(args: Sequence[str], kw: Mapping[str, float]) -> str:
    """The inputs of a call for a message: "w=0.5, b=-1"."""
    return ", ".join(f"{a}={kw[a]:.3g}" for a in args)


# ---------------------------------------------------------------------------- function_matches


@check("function_matches", expressions=True)
def function_matches(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `function` equals `expected` (an expression of `args`) on random inputs.

    params: function, args, expected, optional ranges {arg: [lo, hi]}, tolerance (1e-6),
    constants, trials, seed. Mistakes: formulas of the args, named when the learner's output
    matches one on the inputs where it is wrong.
    """
    name = str(params["function"])
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name)
    constants = params.get("constants", {})
    expected = expression(str(params["expected"]), constants)
    mistakes = [(expression(when, constants), msg) for when, msg in Mistakes(params).declared]
    tol = float(params.get("tolerance", 1e-6))
    rng = np.random.default_rng(int(params.get("seed", 7)))
    args: list[str] = list(params["args"])
    hits = [0] * len(mistakes)
    wrong: tuple[dict[str, float], float, float] | None = None
    for _ in range(int(params.get("trials", 20))):
        kw = samples(params, rng)
        got = fn(*[kw[a] for a in args])
        got_f = number(got)
        if got_f is None:
            return False, f"`{name}` returned {shown(got)}, expected a number."
        want = float(expected(**kw))
        if close(got_f, want, tol):
            continue
        for i, (m, _msg) in enumerate(mistakes):
            if close(got_f, float(m(**kw)), tol):
                hits[i] += 1
        wrong = wrong or (kw, got_f, want)
    if wrong is None:
        return True, f"Correct: `{name}` gives the right value on every input we tried."
    for hit, (_m, msg) in zip(hits, mistakes, strict=True):
        if hit:
            return False, msg
    kw, got_f, want = wrong
    return False, (
        f"Not yet: `{name}({where(args, kw)})` gave {got_f:.6g}, but it should be {want:.6g}."
    )


# ---------------------------------------------------------------------------- derivative_matches

DERIVATIVE_SLIPS = {
    "sign": (
        "The sign is flipped: your slope is positive where the curve falls and negative "
        "where it rises. Check the signs of each term."
    ),
    "height": (
        "`{name}` returns the height of the curve itself, not its slope. Differentiate "
        "each term: x**n becomes n * x**(n - 1)."
    ),
    "twice": "Your slope is exactly twice the right one everywhere. Look for a stray factor 2.",
    "half": "Your slope is exactly half the right one everywhere. A factor 2 is missing.",
    "offset": (
        "Your slope is off by the same amount ({offset:.4g}) at every x. A constant "
        "term does not change how steep a curve is, so its derivative is 0: drop it."
    ),
}


@check("derivative_matches", mistakes=tuple(DERIVATIVE_SLIPS), expressions=True)
def derivative_matches(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `function` is the derivative of `of` (an expression of the one argument, or
    the name of a learner function), compared with central differences at random inputs.

    params: function, of, args (one name, e.g. [x]), optional ranges, tolerance (1e-4),
    constants. Mistakes: formulas of the argument, or the names sign, height, twice, half and
    offset (fields: name, offset).
    """
    setup = against(ns, params, "of", 1e-4)
    if not isinstance(setup, Against):
        return setup
    name, fn, args, constants, of, tol, rng = setup

    inputs: list[dict[str, float]] = []
    got, want, plain = [], [], []
    first_wrong: tuple[dict[str, float], float, float] | None = None
    for _ in range(int(params.get("trials", 20))):
        kw = samples(params, rng)
        point = [kw[a] for a in args]
        value = fn(*point)
        g = number(value)
        if g is None:
            return False, f"`{name}` returned {shown(value)}, expected a number."
        t = float(central_difference(of, point)[0])
        inputs.append(kw)
        got.append(g)
        want.append(t)
        plain.append(float(of(*point)))
        if not close(g, t, tol) and first_wrong is None:
            first_wrong = (kw, g, t)
    if first_wrong is None:
        return True, f"Correct: `{name}` gives the slope of the curve at every x we tried."

    def always(candidates: Sequence[float]) -> Test:
        return lambda: all(close(g, c, 1e-3) for g, c in zip(got, candidates, strict=True))

    def formula(text: str) -> Test:
        m = expression(text, constants)
        return always([float(m(**kw)) for kw in inputs])

    offset = got[0] - want[0]
    tests = {
        "sign": always([-t for t in want]),
        "height": always(plain),
        "twice": always([2 * t for t in want]),
        "half": always([t / 2 for t in want]),
        "offset": lambda: abs(offset) > 1e-6 and always([t + offset for t in want])(),
    }
    slip = Mistakes(params, DERIVATIVE_SLIPS).first(tests, formula, name=name, offset=offset)
    if slip is not None:
        return False, slip
    kw, g, t = first_wrong
    return (
        False,
        f"Not yet: `{name}({where(args, kw)})` gave {g:.6g}, but the slope there is {t:.6g}.",
    )


# ---------------------------------------------------------------------------- good_fit


@check("good_fit")
def good_fit(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The line y = w x + b, with w and b read from the learner's variables, fits `data`: on
    average it misses the points by at most `within` (measured straight up and down).

    params: w and b (names of the learner's variables), data (a list of (x, y) pairs), within,
    advice (default true: say which slider to move; off where the numbers come from a search).
    """
    names = (str(params["w"]), str(params["b"]))
    values = []
    for v in names:
        if v not in ns:
            return set_first(*names)
        value = number(ns[v])
        if value is None or not math.isfinite(value):
            return (
                False,
                f"`{v}` should be a number, but it is {type(ns[v]).__name__} {ns[v]!r:.40}.",
            )
        values.append(value)
    w, b = values
    pts = np.asarray(params["data"], dtype=np.float64)
    xs, ys = pts[:, 0], pts[:, 1]
    best_w, best_b = np.polyfit(xs, ys, 1)
    gap = float(np.mean(np.abs(w * xs + b - ys)))
    best_gap = float(np.mean(np.abs(best_w * xs + best_b - ys)))
    within = float(params["within"])
    if gap <= within:
        return True, (
            f"Good fit: on average your line misses the points by {gap:.3f} "
            f"(the best possible line misses by {best_gap:.3f})."
        )
    advice = _fit_advice(names, w, b, xs, ys) if params.get("advice", True) else []
    return False, (
        f"Not close enough yet: on average your line misses the points by {gap:.3f}; "
        f"get it below {within:g}. " + " ".join(advice)
    ).strip()


def _fit_advice(
    names: tuple[str, str], w: float, b: float, xs: np.ndarray, ys: np.ndarray
) -> list[str]:
    """Which way to move the weight and the bias, compared with the least-squares line."""
    best_w, _best_b = np.polyfit(xs, ys, 1)
    advice = []
    if w > best_w + 0.02:
        advice.append(f"It is too steep: lower {names[0]} a little.")
    elif w < best_w - 0.02:
        advice.append(f"It is too flat: raise {names[0]} a little.")
    middle_x, middle_y = float(np.mean(xs)), float(np.mean(ys))
    height = w * middle_x + b - middle_y
    if abs(height) > 0.05:
        side = "above" if height > 0 else "below"
        move = "lower" if height > 0 else "raise"
        advice.append(
            f"In the middle of the data (x = {middle_x:g}) it runs {side} the points: "
            f"{move} {names[1]}."
        )
    return advice
