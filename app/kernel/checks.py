"""Exercise checks. They run inside the learner's kernel against the learner's namespace and
never trust the page: a check gets the namespace and the exercise's params and returns
(passed, message). Common mistakes are recognised and named so the message can be targeted.

References are written in the lesson file as Python expressions of the check's `args`
(e.g. "w * x + b"). `constants` in the params adds names such expressions may use, such as the
lesson's data set. An error raised by the learner's own code is not caught here: the kernel
turns it into a traceback that points at the learner's line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

Verdict = tuple[bool, str]
CheckFn = Callable[[dict[str, Any], Mapping[str, Any]], Verdict]

CHECKS: dict[str, CheckFn] = {}


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        CHECKS[name] = fn
        return fn

    return register


# ---------------------------------------------------------------------------- shared helpers


def _expression(expr: str, constants: Mapping[str, Any] | None = None) -> Callable[..., Any]:
    """A reference written in the lesson file as a Python expression of the arguments.

    The arguments are placed beside the constants in one namespace, so generator expressions
    such as `sum((w * x + b - y) ** 2 for x, y in data)` can see both `w` and `data`.
    """
    env: dict[str, Any] = {
        "np": np,
        "math": math,
        "exp": np.exp,
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        **dict(constants or {}),
    }
    return lambda **kw: eval(expr, {**env, **kw})  # lesson files are trusted server content


def _samples(params: Mapping[str, Any], rng: np.random.Generator) -> dict[str, float]:
    ranges: Mapping[str, list[float]] = params.get("ranges", {})
    samples = {}
    for a in params["args"]:
        low, high = ranges.get(a, [-5.0, 5.0])
        samples[a] = float(rng.uniform(float(low), float(high)))
    return samples


def _close(a: float, b: float, tol: float) -> bool:
    return math.isfinite(a) and abs(a - b) <= tol * max(1.0, abs(b))


def _number(value: Any) -> float | None:
    """A learner's result as a float, or None when it is not one number."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(arr.reshape(-1)[0]) if arr.size == 1 else None


def _vector(value: Any, size: int) -> np.ndarray | None:
    """A learner's result as `size` floats (a tuple, list or array), or None."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        parts = [_number(v) for v in value]
    except TypeError:
        return None
    if len(parts) != size or any(p is None for p in parts):
        return None
    return np.array(parts, dtype=np.float64)


def _learner_function(ns: Mapping[str, Any], name: str) -> Callable[..., Any] | None:
    fn = ns.get(name)
    return fn if callable(fn) else None


def _define_first(name: str) -> Verdict:
    return False, f"Define a function called `{name}` and press Run first."


def _reference(
    ns: Mapping[str, Any], spec: str, args: Sequence[str], constants: Mapping[str, Any]
) -> Callable[..., Any] | None:
    """The function a check differentiates, taking the `args` positionally: a learner function
    when `spec` names one (e.g. "loss"), else an expression of the args. None when `spec` names
    a learner function that does not exist yet."""
    if spec.isidentifier() and spec not in args and spec not in constants:
        return _learner_function(ns, spec)
    expr = _expression(spec, constants)
    return lambda *point: expr(**dict(zip(args, point, strict=True)))


def _central_difference(fn: Callable[..., Any], point: Sequence[float]) -> np.ndarray:
    """The slope of fn along each input: (fn(p + h) - fn(p - h)) / 2h, one input at a time."""
    slopes = []
    for i, p in enumerate(point):
        h = 1e-5 * max(1.0, abs(p))
        ahead, behind = list(point), list(point)
        ahead[i], behind[i] = p + h, p - h
        slopes.append((float(fn(*ahead)) - float(fn(*behind))) / (2 * h))
    return np.array(slopes, dtype=np.float64)


def _where(args: Sequence[str], kw: Mapping[str, float]) -> str:
    return ", ".join(f"{a}={kw[a]:.3g}" for a in args)


def _fmt(values: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in values) + ")"


# ---------------------------------------------------------------------------- function_matches


@check("function_matches")
def function_matches(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `function` equals `expected` (an expression of `args`) on random inputs.

    params: function, args, expected, optional ranges {arg: [lo, hi]}, tolerance, constants, and
    mistakes: a list of {expected: expr, message: text} recognised when the learner's output
    matches them.
    """
    name = str(params["function"])
    fn = _learner_function(ns, name)
    if fn is None:
        return _define_first(name)
    constants = params.get("constants", {})
    expected = _expression(str(params["expected"]), constants)
    mistakes = [
        (_expression(m["expected"], constants), str(m["message"]))
        for m in params.get("mistakes", [])
    ]
    tol = float(params.get("tolerance", 1e-6))
    rng = np.random.default_rng(int(params.get("seed", 7)))
    args: list[str] = list(params["args"])
    mistake_hits = [0] * len(mistakes)
    wrong: tuple[dict[str, float], float, float] | None = None
    for _ in range(int(params.get("trials", 20))):
        kw = _samples(params, rng)
        got = fn(*[kw[a] for a in args])
        got_f = _number(got)
        if got_f is None:
            return False, f"`{name}` returned {type(got).__name__} {got!r:.60}, expected a number."
        want = float(expected(**kw))
        if _close(got_f, want, tol):
            continue
        for i, (m, _msg) in enumerate(mistakes):
            if _close(got_f, float(m(**kw)), tol):
                mistake_hits[i] += 1
        wrong = wrong or (kw, got_f, want)
    if wrong is None:
        return True, f"Correct: `{name}` gives the right value on every input we tried."
    for hit, (_m, msg) in zip(mistake_hits, mistakes, strict=True):
        if hit:
            return False, msg
    kw, got_f, want = wrong
    return False, (
        f"Not yet: `{name}({_where(args, kw)})` gave {got_f:.6g}, but it should be {want:.6g}."
    )


# ---------------------------------------------------------------------------- derivative_matches


@check("derivative_matches")
def derivative_matches(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `function` is the derivative of `of` (an expression of the one argument, or
    the name of a learner function), compared with central differences at random inputs.

    params: function, of, args (one name, e.g. [x]), optional ranges, tolerance (1e-4),
    constants, and mistakes like function_matches.
    """
    name = str(params["function"])
    fn = _learner_function(ns, name)
    if fn is None:
        return _define_first(name)
    args: list[str] = list(params["args"])
    constants = params.get("constants", {})
    of = _reference(ns, str(params["of"]), args, constants)
    if of is None:
        return _define_first(str(params["of"]))
    mistakes = [
        (_expression(m["expected"], constants), str(m["message"]))
        for m in params.get("mistakes", [])
    ]
    tol = float(params.get("tolerance", 1e-4))
    rng = np.random.default_rng(int(params.get("seed", 7)))

    got, want, plain, custom = [], [], [], []
    first_wrong: tuple[dict[str, float], float, float] | None = None
    for _ in range(int(params.get("trials", 20))):
        kw = _samples(params, rng)
        value = fn(*[kw[a] for a in args])
        g = _number(value)
        if g is None:
            return (
                False,
                f"`{name}` returned {type(value).__name__} {value!r:.60}, expected a number.",
            )
        t = float(_central_difference(of, [kw[a] for a in args])[0])
        got.append(g)
        want.append(t)
        plain.append(float(of(*[kw[a] for a in args])))
        custom.append([float(m(**kw)) for m, _msg in mistakes])
        if not _close(g, t, tol) and first_wrong is None:
            first_wrong = (kw, g, t)
    if first_wrong is None:
        return True, f"Correct: `{name}` gives the slope of the curve at every x we tried."

    def always(candidates: Sequence[float]) -> bool:
        return all(_close(g, c, 1e-3) for g, c in zip(got, candidates, strict=True))

    for i, (_m, msg) in enumerate(mistakes):
        if always([c[i] for c in custom]):
            return False, msg
    if always([-t for t in want]):
        return False, (
            "The sign is flipped: your slope is positive where the curve falls and negative "
            "where it rises. Check the signs of each term."
        )
    if always(plain):
        return False, (
            f"`{name}` returns the height of the curve itself, not its slope. Differentiate "
            "each term: x**n becomes n * x**(n - 1)."
        )
    if always([2 * t for t in want]):
        return (
            False,
            "Your slope is exactly twice the right one everywhere. Look for a stray factor 2.",
        )
    if always([t / 2 for t in want]):
        return False, "Your slope is exactly half the right one everywhere. A factor 2 is missing."
    offsets = [g - t for g, t in zip(got, want, strict=True)]
    if abs(offsets[0]) > 1e-6 and always([t + offsets[0] for t in want]):
        return False, (
            f"Your slope is off by the same amount ({offsets[0]:.4g}) at every x. A constant "
            "term does not change how steep a curve is, so its derivative is 0: drop it."
        )
    kw, g, t = first_wrong
    return (
        False,
        f"Not yet: `{name}({_where(args, kw)})` gave {g:.6g}, but the slope there is {t:.6g}.",
    )


# ---------------------------------------------------------------------------- gradient_matches


def _data_size(ns: Mapping[str, Any], params: Mapping[str, Any]) -> int | None:
    """How many data points the loss sums over, for the "mean instead of sum" message."""
    if "n" in params:
        return int(params["n"])
    data = params.get("constants", {}).get("data", ns.get("data"))
    try:
        return len(data) if data is not None else None
    except TypeError:
        return None


@check("gradient_matches")
def gradient_matches(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `function` returns the gradient of `loss`, one slope per argument, compared
    with central differences of the loss at random points (relative error within `tolerance`).

    params: function (the learner's gradient), loss (the name of the learner's loss function, or
    an expression of the args), args (e.g. [w, b]), optional ranges, tolerance (1e-4),
    constants (e.g. {data: [...]}), n (the number of data points; by default len(data)) and
    mistakes: [{expected: expression giving the whole gradient, message: text}].
    """
    name = str(params["function"])
    fn = _learner_function(ns, name)
    if fn is None:
        return _define_first(name)
    args: list[str] = list(params["args"])
    constants = params.get("constants", {})
    loss = _reference(ns, str(params["loss"]), args, constants)
    if loss is None:
        return _define_first(str(params["loss"]))
    mistakes = [
        (_expression(m["expected"], constants), str(m["message"]))
        for m in params.get("mistakes", [])
    ]
    tol = float(params.get("tolerance", 1e-4))
    rng = np.random.default_rng(int(params.get("seed", 7)))
    slopes = ", ".join(f"∂L/∂{a}" for a in args)

    points: list[dict[str, float]] = []
    got: list[np.ndarray] = []
    want: list[np.ndarray] = []
    for _ in range(int(params.get("trials", 12))):
        kw = _samples(params, rng)
        point = [kw[a] for a in args]
        value = fn(*point)
        g = _vector(value, len(args))
        if g is None:
            return False, (
                f"`{name}` should return {len(args)} numbers, ({slopes}); it returned "
                f"{type(value).__name__} {value!r:.60}."
            )
        points.append(kw)
        got.append(g)
        want.append(_central_difference(loss, point))

    def error(g: np.ndarray, t: np.ndarray) -> float:
        """Relative error: the size of the difference over the size of the gradient."""
        scale = max(float(np.linalg.norm(g)), float(np.linalg.norm(t)), 1e-12)
        return float(np.linalg.norm(g - t)) / scale

    worst = max(error(g, t) for g, t in zip(got, want, strict=True))
    if worst <= tol:
        return True, (
            f"Correct: `{name}` agrees with the slopes of the loss at every point we tried "
            f"(largest relative error {worst:.1e})."
        )

    def always(candidates: Sequence[np.ndarray]) -> bool:
        """Does the learner's gradient equal the candidate at every point we tried?"""
        return all(error(g, c) <= 10 * tol for g, c in zip(got, candidates, strict=True))

    for m, msg in mistakes:
        if always([np.asarray(m(**kw), dtype=np.float64) for kw in points]):
            return False, msg
    if always([-t for t in want]):
        return False, (
            "The sign is flipped: your gradient points downhill, but a gradient points uphill. "
            "Use (prediction - y), not (y - prediction)."
        )
    n = _data_size(ns, params)
    if n and n > 1:
        if always([t / n for t in want]):
            return False, (
                f"Your gradient is {n} times too small: you divided by the number of points, "
                "as for a mean. This loss is a sum, so its gradient is a plain sum too."
            )
        if always([t * n for t in want]):
            return False, (
                f"Your gradient is {n} times too large: this loss is a mean, so divide your "
                "sums by the number of points."
            )
    if always([2 * t for t in want]):
        return False, (
            "Your gradient is exactly twice the right one. The ½ in front of the loss cancels "
            "the 2 that comes down from the square."
        )
    if always([t / 2 for t in want]):
        return False, "Your gradient is exactly half the right one: a factor 2 is missing."
    if len(args) == 2 and always([t[::-1] for t in want]):
        return False, f"The two slopes are swapped: return ({slopes}) in that order."
    return _component_verdict(name, args, points, got, want, tol)


def _component_verdict(
    name: str,
    args: Sequence[str],
    points: Sequence[dict[str, float]],
    got: Sequence[np.ndarray],
    want: Sequence[np.ndarray],
    tol: float,
) -> Verdict:
    """Say which slopes are right and, where we can tell, what is wrong with the others."""

    def part_is(i: int, candidates: Sequence[float]) -> bool:
        """Is slope i of the learner's gradient equal to the candidate at every point?"""
        return all(
            abs(g[i] - c) <= 10 * tol * max(float(np.linalg.norm(t)), 1e-12)
            for g, t, c in zip(got, want, candidates, strict=True)
        )

    right = [part_is(i, [t[i] for t in want]) for i in range(len(args))]
    for i, a in enumerate(args):
        if right[i]:
            continue
        for j, other in enumerate(args):
            if j != i and right[j] and part_is(i, [t[j] for t in want]):
                return False, (
                    f"Your ∂L/∂{a} gives exactly what ∂L/∂{other} should give. The two differ "
                    f"by one factor: for the weight of a line, each gap is multiplied by the "
                    f"input x_i of its point. Did you forget that factor in ∂L/∂{a}?"
                )
        if part_is(i, [-t[i] for t in want]):
            return False, f"∂L/∂{a} has the wrong sign; the other slopes are right."
        if part_is(i, [2 * t[i] for t in want]):
            return False, f"∂L/∂{a} is twice what it should be; the other slopes are right."
        if part_is(i, [t[i] / 2 for t in want]):
            return False, f"∂L/∂{a} is half what it should be; the other slopes are right."
    kw, g, t = points[0], got[0], want[0]
    fixed = [a for a, ok in zip(args, right, strict=True) if ok]
    broken = [a for a, ok in zip(args, right, strict=True) if not ok]
    head = "Not yet"
    if fixed:
        head = (
            f"{', '.join(f'∂L/∂{a}' for a in fixed)} is right, but "
            f"{', '.join(f'∂L/∂{a}' for a in broken)} is not"
        )
    return False, (
        f"{head}: `{name}({_where(args, kw)})` gave {_fmt(g)}, but the slopes there are {_fmt(t)}."
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
            return False, f"Set `{names[0]}` and `{names[1]}` to numbers and press Run first."
        number = _number(ns[v])
        if number is None or not math.isfinite(number):
            return (
                False,
                f"`{v}` should be a number, but it is {type(ns[v]).__name__} {ns[v]!r:.40}.",
            )
        values.append(number)
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
        where = "above" if height > 0 else "below"
        move = "lower" if height > 0 else "raise"
        advice.append(
            f"In the middle of the data (x = {middle_x:g}) it runs {where} the points: "
            f"{move} {names[1]}."
        )
    return advice
