"""Exercise checks for track C, gradient descent in depth (lessons c01 to c08).

Each check calls the learner's function or class on inputs it picks, compares the answer with a
reference computed here (or by torch.optim, for the optimizers), and when the answer is wrong
tries the usual slips one by one (a flipped sign, a missing factor, the learning rate left out,
a forward difference, an update in the wrong order, Adam without its bias correction, a schedule
one epoch off...) so the message can name the slip instead of only saying "wrong".
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from app.kernel.checks import Verdict, check

Candidate = tuple[Callable[..., Any], str]

# ---------------------------------------------------------------------------- shared helpers


def _function(ns: Mapping[str, Any], name: str) -> Callable[..., Any] | None:
    fn = ns.get(name)
    return fn if callable(fn) else None


def _missing(name: str) -> Verdict:
    return False, f"Define `{name}` in the cell and press Run first."


def _takes(fn: Callable[..., Any], count: int) -> bool:
    """Can fn be called with `count` positional arguments?"""
    try:
        inspect.signature(fn).bind(*range(count))
    except TypeError:
        return False
    except ValueError:  # no signature (a builtin): let the call decide
        return True
    return True


def _signature_problem(fn: Callable[..., Any], name: str, params: Sequence[str]) -> Verdict | None:
    if _takes(fn, len(params)):
        return None
    return False, f"`{name}` should take {len(params)} inputs: `{name}({', '.join(params)})`."


def _number(value: Any) -> float | None:
    """The learner's answer as one float, or None when it is not one number."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, str | bytes) or value is None:
        return None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(arr.reshape(-1)[0]) if arr.size == 1 else None


def _numbers(value: Any) -> np.ndarray | None:
    """The learner's answer as a flat float array (a list, tuple, array or tensor), or None."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, str | bytes) or value is None:
        return None
    try:
        parts = [_number(v) for v in value]
    except TypeError:
        return None
    if any(p is None for p in parts):
        return None
    return np.array(parts, dtype=np.float64)


def _expression(text: str) -> Callable[..., float]:
    """A formula written in the lesson file (trusted content) as a function of keyword inputs."""
    env = {"np": np, "math": math, "exp": np.exp, "sin": np.sin, "cos": np.cos, "sqrt": np.sqrt}
    code = compile(text, "<lesson formula>", "eval")
    return lambda **kw: float(eval(code, {**env, **kw}))


def _same(a: float, b: float, tol: float) -> bool:
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= tol * max(1.0, abs(b))


def _same_vector(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    scale = max(float(np.linalg.norm(b)), 1e-12)
    return float(np.linalg.norm(a - b)) <= tol * max(1.0, scale)


def _compare_scalar(
    fn: Callable[..., Any],
    name: str,
    inputs: Sequence[dict[str, float]],
    order: Sequence[str],
    want: Callable[..., float],
    candidates: Sequence[Candidate],
    tol: float,
    shown: Sequence[str] | None = None,
) -> tuple[bool, str]:
    """Call fn on every input; (True, "") when it always agrees with `want`, else the message of
    the first candidate it always agrees with, else a message naming one wrong answer (with the
    inputs called by their `shown` names, the learner's, when given)."""
    got: list[float] = []
    for kw in inputs:
        value = fn(*[kw[a] for a in order])
        number = _number(value)
        if number is None:
            return (
                False,
                f"`{name}` returned {type(value).__name__} {value!r:.60}, expected one number.",
            )
        got.append(number)
    if all(_same(g, want(**kw), tol) for g, kw in zip(got, inputs, strict=True)):
        return True, ""
    for cand, message in candidates:
        with np.errstate(all="ignore"):
            if all(_same(g, cand(**kw), tol) for g, kw in zip(got, inputs, strict=True)):
                return False, message
    for g, kw in zip(got, inputs, strict=True):
        if not _same(g, want(**kw), tol):
            args = ", ".join(f"{n}={kw[a]:.4g}" for a, n in zip(order, shown or order, strict=True))
            return (
                False,
                f"Not yet: `{name}({args})` gave {g:.6g}, but it should be {want(**kw):.6g}.",
            )
    return False, "Not yet."  # unreachable: some input disagreed


def _lesson_mistakes(params: Mapping[str, Any]) -> list[Candidate]:
    """Lesson-specific slips: [{expected: formula, message: text}] from the exercise's params."""
    return [
        (_expression(str(m["expected"])), str(m["message"])) for m in params.get("mistakes", [])
    ]


# ---------------------------------------------------------------------------- C1: one step


@check("gradient_step")
def gradient_step(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's step(w, learning_rate) returns w - learning_rate * dL/dw.

    params: function (step), gradient and loss (formulas in w), optional ranges {w: [lo, hi]},
    rates (learning rates to try) and mistakes [{expected: formula in w and learning_rate,
    message}] for slips in this lesson's derivative.
    """
    name = str(params.get("function", "step"))
    fn = _function(ns, name)
    if fn is None:
        return _missing(name)
    problem = _signature_problem(fn, name, ["w", "learning_rate"])
    if problem:
        return problem
    grad, loss = _expression(str(params["gradient"])), _expression(str(params["loss"]))
    low, high = params.get("ranges", {}).get("w", [-2.0, 3.0])
    rates = [float(r) for r in params.get("rates", [0.001, 0.01, 0.05])]
    rng = np.random.default_rng(int(params.get("seed", 3)))
    inputs = [
        {"w": float(rng.uniform(low, high)), "learning_rate": rates[i % len(rates)]}
        for i in range(12)
    ]

    def g(w: float) -> float:
        return grad(w=w)

    candidates: list[Candidate] = [
        *_lesson_mistakes(params),
        (
            lambda w, learning_rate: w + learning_rate * g(w),
            "Your step goes uphill: it adds the slope. Gradient descent subtracts it: "
            "w - learning_rate * dL(w).",
        ),
        (
            lambda w, learning_rate: w - g(w),
            "You forgot the learning rate: your step subtracts the whole slope, a jump of "
            f"{abs(g(-1.5)):g} from w = -1.5. Multiply the slope by learning_rate first.",
        ),
        (
            lambda w, learning_rate: -learning_rate * g(w),
            "You returned the size of the step, not the new w. Start from w and subtract it: "
            "w - learning_rate * dL(w).",
        ),
        (
            lambda w, learning_rate: learning_rate * g(w),
            "You returned learning_rate * dL(w), the step itself. The new w is w minus that.",
        ),
        (
            lambda w, learning_rate: g(w),
            "You returned the slope dL(w). The step should return the new w: w - learning_rate * "
            "dL(w).",
        ),
        (
            lambda w, learning_rate: w - learning_rate * loss(w=w),
            "You stepped by the height of the curve, L(w), not by its slope. Use the derivative "
            "dL(w).",
        ),
        (
            lambda w, learning_rate: w - learning_rate,
            "You moved w by the learning rate alone. The move is the learning rate *times* the "
            "slope.",
        ),
        (
            lambda w, learning_rate: w,
            "step() returns w unchanged. Subtract learning_rate times the slope dL(w).",
        ),
    ]
    ok, message = _compare_scalar(
        fn,
        name,
        inputs,
        ["w", "learning_rate"],
        lambda w, learning_rate: w - learning_rate * g(w),
        candidates,
        1e-9,
    )
    if ok:
        return True, (
            f"Correct: `{name}` moves w against the slope, by learning_rate times its size. From "
            f"w = -1.5 with 0.001 it gives {float(fn(-1.5, 0.001)):.6g}."
        )
    return False, message


# ---------------------------------------------------------------------------- C2: restarts


def _walk(grad: Callable[..., float], start: float, rate: float, steps: int) -> float:
    w = float(start)
    for _ in range(steps):
        w = w - rate * grad(w=w)
    return w


@check("best_restart")
def best_restart(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's best_of(starts) walks down from every start and returns the end point with
    the lowest loss.

    params: function (best_of), loss and gradient (formulas in w), rate, steps (for the
    reference walks), trials (lists of starts), tolerance on w (0.02).
    """
    name = str(params.get("function", "best_of"))
    fn = _function(ns, name)
    if fn is None:
        return _missing(name)
    loss, grad = _expression(str(params["loss"])), _expression(str(params["gradient"]))
    rate, steps = float(params.get("rate", 0.05)), int(params.get("steps", 300))
    tol = float(params.get("tolerance", 0.02))
    for starts in params["trials"]:
        starts = [float(s) for s in starts]
        value = fn(list(starts))
        got = _number(value)
        if got is None:
            return False, (
                f"`{name}` returned {type(value).__name__} {value!r:.60}; it should return one "
                "number: the w where the best walk ended."
            )
        ends = [_walk(grad, s, rate, steps) for s in starts]
        heights = [loss(w=e) for e in ends]
        best = ends[int(np.argmin(heights))]
        if abs(got - best) <= tol:
            continue
        shown = ", ".join(f"{s:g}" for s in starts)
        if any(abs(got - s) <= 1e-9 for s in starts):
            return False, (
                f"For starts [{shown}] you returned {got:g}, one of the starting points. Compare "
                "where the walks *end*: run descend() from each start and keep its last value."
            )
        if abs(got - ends[int(np.argmax(heights))]) <= tol:
            return False, (
                f"For starts [{shown}] you picked the walk that ended *highest* (w = {got:.3f}). "
                "Keep the end point with the lowest loss: min, not max."
            )
        if abs(got - min(heights)) <= 1e-6:
            return False, (
                f"You returned the lowest loss, {got:.4f}. Return the w where it is reached "
                f"(here about {best:.3f}), not the loss there."
            )
        if any(abs(got - e) <= tol for e in ends):
            return False, (
                f"For starts [{shown}] you returned {got:.3f}, the end of one walk but not the "
                f"lowest: the best walk ends at {best:.3f}, where L = {min(heights):.4f}. Compare "
                "L at the end points."
            )
        return False, (
            f"For starts [{shown}] you returned {got:.4g}, but the lowest valley reached from them "
            f"lies at w = {best:.3f}."
        )
    return True, (
        "Correct: several starts, one walk each, keep the lowest end. That is random restarts, a "
        "cheap way to escape the valley a single start happens to fall into."
    )


# ---------------------------------------------------------------------------- C3: stability


@check("stability_limit")
def stability_limit(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's largest_rate(curvature) is 2 / curvature, the edge between settling and
    blowing up on a bowl L(w) = curvature / 2 * w**2 (params: function, curvatures)."""
    name = str(params.get("function", "largest_rate"))
    fn = _function(ns, name)
    if fn is None:
        return _missing(name)
    problem = _signature_problem(fn, name, ["curvature"])
    if problem:
        return problem
    inputs = [{"c": float(c)} for c in params.get("curvatures", [0.5, 2.0, 4.0, 10.0, 20.25])]
    candidates: list[Candidate] = [
        (
            lambda c: 1 / c,
            "1 / curvature is the rate that lands exactly on the bottom in one step (each step "
            "multiplies the distance by 1 - rate * curvature, which is 0 there). Larger rates "
            "overshoot and zigzag, but they still settle while that factor stays above -1.",
        ),
        (
            lambda c: c / 2,
            "Upside down: a more curved bowl needs a *smaller* rate. Divide by the curvature.",
        ),
        (
            lambda c: 2 * c,
            "A more curved (steeper) bowl needs a smaller rate, so the curvature belongs in the "
            "denominator.",
        ),
        (
            lambda c: 1 / (2 * c),
            "Too careful by a factor 4: at rate 1 / (2 c) the walk does not even overshoot. Where "
            "does 1 - rate * c reach -1?",
        ),
        (
            lambda c: 2.0,
            "Your answer does not depend on the curvature. The limit is where 1 - rate * "
            "curvature = -1.",
        ),
    ]
    ok, message = _compare_scalar(
        fn, name, inputs, ["c"], lambda c: 2 / c, candidates, 1e-9, shown=["curvature"]
    )
    if not ok:
        return False, message
    limit = float(fn(2.0))
    below, above = _bowl_end(0.95 * limit), _bowl_end(1.05 * limit)
    return True, (
        f"Correct: the limit is 2 / curvature. On a bowl of curvature 2, 50 steps at 0.95 x "
        f"{limit:g} end {below:.2g} from the bottom; at 1.05 x {limit:g} they end {above:.3g} away."
    )


def _bowl_end(rate: float, curvature: float = 2.0, steps: int = 50) -> float:
    w = 1.0
    for _ in range(steps):
        w -= rate * curvature * w
    return abs(w)


# ------------------------------------------------------------------------ C4: numerical gradient


def _probe_functions() -> list[tuple[Callable[[Any], float], list[float]]]:
    """Test functions of a parameter list, curved enough that forward and central differences
    disagree clearly at h = 1e-3, with points to try them at."""

    def cubic(p: Any) -> float:
        return float(p[0] ** 3 + 2 * p[0] * p[1] + np.sin(3 * p[1]))

    def three(p: Any) -> float:
        return float(np.exp(0.7 * p[0]) + p[1] ** 2 * p[2] - np.cos(2 * p[2]))

    return [(cubic, [1.3, -0.4]), (cubic, [-0.8, 2.1]), (three, [0.5, -1.2, 0.9])]


def _differences(f: Callable[[Any], float], point: list[float], h: float) -> dict[str, np.ndarray]:
    """Every formula a learner might have written, one slope per parameter."""
    n = len(point)
    base = f(list(point))
    out: dict[str, list[float]] = {
        k: [] for k in ("central", "forward", "backward", "no_half", "precedence")
    }
    for i in range(n):
        ahead, behind = list(point), list(point)
        ahead[i] += h
        behind[i] -= h
        fa, fb = f(ahead), f(behind)
        out["central"].append((fa - fb) / (2 * h))
        out["forward"].append((fa - base) / h)
        out["backward"].append((base - fb) / h)
        out["no_half"].append((fa - fb) / h)
        out["precedence"].append((fa - fb) / 2 * h)
    together = (f([p + h for p in point]) - f([p - h for p in point])) / (2 * h)
    result = {k: np.array(v) for k, v in out.items()}
    result["together"] = np.full(n, together)
    result["flipped"] = -result["central"]
    return result


@check("central_difference")
def central_difference_check(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's numerical_gradient(f, params, h) gives the central difference
    (f(p + h e_i) - f(p - h e_i)) / 2h for each parameter i, one at a time."""
    name = str(params.get("function", "numerical_gradient"))
    fn = _function(ns, name)
    if fn is None:
        return _missing(name)
    problem = _signature_problem(fn, name, ["f", "params", "h"])
    if problem:
        return problem
    h = float(params.get("h", 1e-3))
    messages = {
        "forward": (
            "That is a forward difference, (f(p + h) - f(p)) / h: it looks only ahead, so its "
            "error shrinks like h. Step both ways and divide by the distance between the two "
            "points: (f(p + h) - f(p - h)) / (2 * h)."
        ),
        "backward": (
            "That is a backward difference, (f(p) - f(p - h)) / h: one-sided, so its error "
            "shrinks only like h. Use both sides: (f(p + h) - f(p - h)) / (2 * h)."
        ),
        "no_half": (
            "Your slopes are twice too big: the two points p + h and p - h lie 2h apart, so "
            "divide their difference by 2 * h, not by h."
        ),
        "precedence": (
            "Brackets: `/ 2 * h` divides by 2 and then *multiplies* by h. Write `/ (2 * h)`."
        ),
        "together": (
            "You moved every parameter at once, so each entry is the same mixed slope. Nudge "
            "one parameter at a time and leave the others where they are."
        ),
        "flipped": (
            "The sign is flipped: subtract the value *behind* from the value *ahead*, "
            "f(p + h) - f(p - h)."
        ),
    }
    for f, point in _probe_functions():
        given = list(point)
        value = fn(f, given, h)
        got = _numbers(value)
        if got is None or got.size != len(point):
            return False, (
                f"`{name}` should return one slope per parameter ({len(point)} numbers for "
                f"{len(point)} parameters); it returned {type(value).__name__} {value!r:.60}."
            )
        if len(given) != len(point) or not np.allclose(given, point, rtol=1e-12, atol=1e-12):
            return False, (
                f"`{name}` changed the list of parameters it was given (from {point} to "
                f"{given}). Nudge a copy, e.g. `ahead = list(params)`, so the caller's values "
                "stay put and the next parameter starts from the right place."
            )
        formulas = _differences(f, point, h)
        if _same_vector(got, formulas["central"], 1e-6):
            continue
        for key, message in messages.items():
            if _same_vector(got, formulas[key], 1e-6):
                return False, message
        return False, (
            f"Not yet: at params = {point} with h = {h:g} you returned "
            f"{np.round(got, 6).tolist()}, but the central differences are "
            f"{np.round(formulas['central'], 6).tolist()}."
        )
    return True, (
        "Correct: one parameter at a time, a step each way, divided by 2h. It costs two "
        "evaluations of f per parameter: fine for checking, far too slow for training."
    )


# ----------------------------------------------------------------------- C5: mini-batch gradient


@check("batch_gradient")
def batch_gradient(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's function(w, b, xb, yb) returns the gradient of the batch's mean squared
    error, (2 mean(r x), 2 mean(r)) with r = w x + b - y."""
    name = str(params.get("function", "batch_gradient"))
    fn = _function(ns, name)
    if fn is None:
        return _missing(name)
    problem = _signature_problem(fn, name, ["w", "b", "xb", "yb"])
    if problem:
        return problem
    rng = np.random.default_rng(int(params.get("seed", 5)))
    full = (ns.get("x"), ns.get("y"))

    def truth(w: float, b: float, xb: np.ndarray, yb: np.ndarray) -> np.ndarray:
        r = w * xb + b - yb
        return np.array([2 * np.mean(r * xb), 2 * np.mean(r)])

    slips: list[tuple[Callable[..., np.ndarray], str]] = [
        (
            lambda w, b, xb, yb: truth(w, b, xb, yb) * len(xb),
            "Your gradient grows with the batch: you summed over the batch instead of averaging. "
            "Divide by the batch size (np.mean), so that batches of any size ask for steps of the "
            "same size and one learning rate fits them all.",
        ),
        (
            lambda w, b, xb, yb: truth(w, b, xb, yb) / 2,
            "A factor 2 is missing: the loss is the mean of r**2, and the derivative of r**2 is 2 "
            "* r.",
        ),
        (
            lambda w, b, xb, yb: -truth(w, b, xb, yb),
            "The sign is flipped: with r = w * x + b - y the gradient is +2 * mean(r * x). Did you "
            "write y - (w * x + b)?",
        ),
        (
            lambda w, b, xb, yb: truth(w, b, xb, yb)[::-1],
            "The two slopes are swapped: return (dL/dw, dL/db) in that order.",
        ),
        (
            lambda w, b, xb, yb: np.array([truth(w, b, xb, yb)[1], truth(w, b, xb, yb)[1]]),
            "dL/dw is missing its factor x: each residual counts times its own input, 2 * mean(r "
            "* xb).",
        ),
    ]
    if all(isinstance(v, np.ndarray) for v in full):
        fx, fy = np.asarray(full[0], dtype=np.float64), np.asarray(full[1], dtype=np.float64)
        slips.append(
            (
                lambda w, b, xb, yb: truth(w, b, fx, fy),
                "Your gradient ignores the batch: it uses the whole data set `x`, `y`. Use the "
                "batch `xb`, `yb` the function is given.",
            )
        )
    got_all, cases = [], []
    for size in (1, 3, 8, 20):
        xb = rng.uniform(0, 2, size)
        yb = 1.5 * xb + 0.5 + rng.normal(0, 0.3, size)
        w, b = float(rng.uniform(-1, 3)), float(rng.uniform(-1, 2))
        value = fn(w, b, xb.copy(), yb.copy())
        got = _numbers(value)
        if got is None or got.size != 2:
            return (
                False,
                f"`{name}` should return two numbers, (dL/dw, dL/db); it returned {value!r:.60}.",
            )
        got_all.append(got)
        cases.append((w, b, xb, yb))
    if all(_same_vector(g, truth(*c), 1e-9) for g, c in zip(got_all, cases, strict=True)):
        return True, (
            "Correct: the mean over the batch, with its factor 2. A batch of 1 and a batch of "
            "256 now ask for steps of the same size."
        )
    for slip, message in slips:
        if all(_same_vector(g, slip(*c), 1e-9) for g, c in zip(got_all, cases, strict=True)):
            return False, message
    for g, c in zip(got_all, cases, strict=True):
        want = truth(*c)
        if not _same_vector(g, want, 1e-9):
            return False, (
                f"Not yet: for w={c[0]:.3f}, b={c[1]:.3f} and a batch of {len(c[2])} you returned "
                f"{np.round(g, 5).tolist()}, but the gradient is {np.round(want, 5).tolist()}."
            )
    return False, "Not yet."


# ---------------------------------------------------------------------------- C6: schedules


def _schedule_reference(kind: str) -> Callable[[float, float, float], float]:
    if kind == "step":
        return lambda t, a0, p: a0 * 0.5 ** (t // p)
    if kind == "exponential":
        return lambda t, a0, p: a0 * math.exp(-p * t)
    if kind == "inverse":
        return lambda t, a0, p: a0 / (1 + p * t)
    raise ValueError(f"unknown schedule kind {kind!r}")


@check("schedule_matches")
def schedule_matches(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's schedule(t, alpha0, p) gives the rate at epoch t (counted from 0).

    params: function, kind (step: p is `every`, the epochs between halvings; exponential and
    inverse: p is the decay constant k), epochs (how many to compare, 40).
    """
    name = str(params["function"])
    kind = str(params["kind"])
    fn = _function(ns, name)
    if fn is None:
        return _missing(name)
    third = "every" if kind == "step" else "k"
    problem = _signature_problem(fn, name, ["t", "alpha0", third])
    if problem:
        return problem
    ref = _schedule_reference(kind)
    settings = [(0.1, 5.0), (0.4, 3.0)] if kind == "step" else [(0.1, 0.1), (0.4, 0.35)]
    epochs = int(params.get("epochs", 40))
    inputs = [{"t": float(t), "a0": a0, "p": p} for a0, p in settings for t in range(epochs)]
    # The learner gets whole epochs as ints, as a training loop hands them over.
    wrapped = _int_epochs(fn)

    candidates: list[Candidate] = [
        (
            lambda t, a0, p: ref(t + 1, a0, p),
            "Off by one epoch: your schedule is one epoch ahead. Epochs count from t = 0, and at "
            "t = 0 the rate must be alpha0 itself; check where t + 1 (or a loop from 1) crept in.",
        ),
        (
            lambda t, a0, p: ref(max(t - 1, 0), a0, p),
            "Off by one epoch: your schedule lags one epoch behind. The first change must happen "
            "at the right epoch: use t itself, not t - 1.",
        ),
        (
            lambda t, a0, p: ref(t, 1.0, p),
            "Your rates ignore alpha0: the schedule is alpha0 times the decay factor.",
        ),
        (
            lambda t, a0, p: a0,
            "Your rate never changes: it is alpha0 at every epoch. A schedule makes it smaller "
            "as t grows.",
        ),
    ]
    if kind == "step":
        candidates += [
            (
                lambda t, a0, p: a0 * 0.5 ** (t / p),
                "Your rate falls smoothly: t / every counts fractions of a halving. Step decay "
                "halves "
                "in whole steps: use integer division, t // every.",
            ),
            (
                lambda t, a0, p: a0 * 0.5**t,
                "You halve every epoch. Halve once every `every` epochs: 0.5 ** (t // every).",
            ),
            (
                lambda t, a0, p: a0 * 0.5 ** (t // p + 1),
                "Off by one: at t = 0 you already halved. The rate starts at alpha0 and halves "
                "first "
                "at t = every: 0.5 ** (t // every).",
            ),
        ]
    elif kind == "exponential":
        candidates += [
            (
                lambda t, a0, p: a0 * math.exp(p * t),
                "Your rate grows: the exponent must be negative, exp(-k * t).",
            ),
            (
                lambda t, a0, p: a0 * math.exp(-p) * t,
                "Brackets: exp(-k) * t multiplies by t (the rate is 0 at t = 0). Put the whole "
                "product in the exponent: exp(-k * t).",
            ),
            (
                lambda t, a0, p: a0 * (1 - p) ** t if p < 1 else a0,
                "Close, but that is (1 - k) ** t, which is only approximately exp(-k * t). Use "
                "math.exp.",
            ),
        ]
    else:
        candidates += [
            (
                lambda t, a0, p: a0 / (1 + p) * t,
                "Brackets: alpha0 / (1 + k) * t multiplies by t. Divide by the whole (1 + k * t).",
            ),
            (
                lambda t, a0, p: a0 / 1 + p * t,
                "Brackets: alpha0 / 1 + k * t adds k * t to the rate. Write alpha0 / (1 + k * t).",
            ),
            (
                lambda t, a0, p: a0 * (1 + p * t),
                "Your rate grows: divide alpha0 by (1 + k * t) instead of multiplying.",
            ),
            (
                lambda t, a0, p: a0 / (1 + t),
                "The decay constant k is missing: alpha0 / (1 + k * t).",
            ),
        ]
    ok, message = _compare_scalar(
        wrapped, name, inputs, ["t", "a0", "p"], ref, candidates, 1e-9, shown=["t", "alpha0", third]
    )
    if not ok:
        return False, message
    a0, p = settings[0]
    shown = ", ".join(f"{float(wrapped(t, a0, p)):.4g}" for t in range(0, 12, 2))
    return True, (
        f"Correct: with alpha0 = {a0:g} and {third} = {p:g} your rates at epochs 0, 2, ..., 10 are "
        f"{shown}."
    )


def _int_epochs(fn: Callable[..., Any]) -> Callable[..., Any]:
    return lambda t, a0, p: fn(int(t), a0, int(p) if float(p).is_integer() and p >= 1 else p)


# ---------------------------------------------------------------------------- C7: scaling rule


@check("linear_scaling")
def linear_scaling(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's scaled_rate(base_lr, base_batch, new_batch) follows the linear scaling rule."""
    name = str(params.get("function", "scaled_rate"))
    fn = _function(ns, name)
    if fn is None:
        return _missing(name)
    problem = _signature_problem(fn, name, ["base_lr", "base_batch", "new_batch"])
    if problem:
        return problem
    cases = [(0.02, 8, 16), (0.05, 32, 8), (0.1, 4, 64), (0.003, 16, 48), (0.02, 8, 8)]
    inputs = [{"lr": lr, "b0": float(b0), "b1": float(b1)} for lr, b0, b1 in cases]
    candidates: list[Candidate] = [
        (
            lambda lr, b0, b1: lr * b0 / b1,
            "Upside down: a *bigger* batch gets a *bigger* rate. Multiply by new_batch / "
            "base_batch.",
        ),
        (
            lambda lr, b0, b1: lr * math.sqrt(b1 / b0),
            "That is the square-root rule (sometimes used with Adam). The linear rule scales the "
            "rate "
            "by new_batch / base_batch itself.",
        ),
        (
            lambda lr, b0, b1: b1 / b0,
            "You returned the ratio of the batch sizes; multiply it by base_lr.",
        ),
        (
            lambda lr, b0, b1: lr * b1,
            "Scale by the *ratio* new_batch / base_batch, not by the new batch size alone.",
        ),
        (
            lambda lr, b0, b1: lr,
            "The rate does not change with the batch yet: scale it by new_batch / base_batch.",
        ),
    ]
    wrapped = lambda lr, b0, b1: fn(lr, int(b0), int(b1))  # noqa: E731  (batch sizes are ints)
    ok, message = _compare_scalar(
        wrapped,
        name,
        inputs,
        ["lr", "b0", "b1"],
        lambda lr, b0, b1: lr * b1 / b0,
        candidates,
        1e-9,
        shown=["base_lr", "base_batch", "new_batch"],
    )
    if not ok:
        return False, message
    return True, (
        f"Correct: twice the batch, twice the rate. From 0.02 at batch 8, batch 64 gets "
        f"{float(fn(0.02, 8, 64)):g}."
    )


# ---------------------------------------------------------------------------- C8: optimizers


def _gradients(steps: int, seed: int) -> list[np.ndarray]:
    """A fixed sequence of gradients of different sizes and signs, as a noisy descent sees."""
    rng = np.random.default_rng(seed)
    scale = np.array([3.0, 0.05])
    return [rng.normal(0, 1, 2) * scale * (1 + 0.5 * np.sin(t)) for t in range(steps)]


def _torch_path(
    make: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
    start: np.ndarray,
    grads: list[np.ndarray],
) -> np.ndarray:
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = make([p])
    out = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


def _numpy_path(
    step: Callable[[np.ndarray, np.ndarray], np.ndarray], start: np.ndarray, grads: list[np.ndarray]
) -> np.ndarray:
    p = start.copy()
    out = []
    with np.errstate(all="ignore"):
        for g in grads:
            p = np.asarray(step(p.copy(), g.copy()), dtype=np.float64)
            out.append(p.copy())
    return np.array(out)


def _learner_path(
    cls: Any, name: str, hyper: dict[str, float], start: np.ndarray, grads: list[np.ndarray]
) -> tuple[np.ndarray | None, str]:
    try:
        opt = cls(**hyper)
    except TypeError as err:
        args = ", ".join(f"{k}={v:g}" for k, v in hyper.items())
        return (
            None,
            f"`{name}({args})` could not be built ({err}). Keep the constructor's inputs as given.",
        )
    if not callable(getattr(opt, "step", None)):
        return None, f"`{name}` needs a method `step(self, p, g)` that returns the new parameters."
    out = []
    p = start.copy()
    with np.errstate(all="ignore"):
        for g in grads:
            value = opt.step(p.copy(), g.copy())
            new = _numbers(value)
            if new is None or new.size != p.size:
                return None, (
                    f"`{name}.step(p, g)` should return the new parameters, an array like p; "
                    f"it returned {type(value).__name__} {value!r:.60}."
                )
            p = new
            out.append(p.copy())
    return np.array(out), ""


def _first_difference(got: np.ndarray, want: np.ndarray) -> str:
    for t, (g, w) in enumerate(zip(got, want, strict=True), start=1):
        if not _same_vector(g, w, 1e-7):
            return (
                f"after step {t} your parameters are {np.round(g, 6).tolist()}, but torch.optim "
                f"gives {np.round(w, 6).tolist()}"
            )
    return "they differ"


@check("momentum_matches")
def momentum_matches(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's momentum class follows torch.optim.SGD(momentum=beta): v = beta v + g,
    p = p - lr v (params: class, lr, beta, steps)."""
    name = str(params.get("class", "MyMomentum"))
    cls = ns.get(name)
    if not callable(cls):
        return _missing(name)
    lr, beta = float(params.get("lr", 0.05)), float(params.get("beta", 0.9))
    grads = _gradients(int(params.get("steps", 12)), 11)
    start = np.array([1.0, -2.0])
    want = _torch_path(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=beta), start, grads)
    got, problem = _learner_path(cls, name, {"lr": lr, "beta": beta}, start, grads)
    if got is None:
        return False, problem
    if all(_same_vector(g, w, 1e-7) for g, w in zip(got, want, strict=True)):
        return True, (
            f"Correct: {len(grads)} steps agree with torch.optim.SGD(lr={lr:g}, momentum={beta:g}) "
            "to within rounding."
        )

    def variant(kind: str) -> np.ndarray:
        v = np.zeros(2)

        def step(p: np.ndarray, g: np.ndarray) -> np.ndarray:
            nonlocal v
            if kind == "order":  # moves with the old velocity, then updates it
                p = p - lr * v
                v = beta * v + g
                return p
            if kind == "average":
                v = beta * v + (1 - beta) * g
                return p - lr * v
            if kind == "uphill":
                v = beta * v + g
                return np.asarray(p + lr * v)
            if kind == "forgets":
                v = beta * np.zeros(2) + g
                return np.asarray(p - lr * v)
            raise ValueError(kind)

        return _numpy_path(step, start, grads)

    messages = {
        "order": (
            "The update order is wrong: you moved p with the *old* velocity and only then added "
            "the new gradient to it, so each gradient acts one step late. First v = beta * v + g, "
            "then p = p - lr * v."
        ),
        "average": (
            "You wrote v = beta * v + (1 - beta) * g, the averaged form: its steps come out "
            "(1 - beta) times smaller. torch's SGD with momentum, and this lesson, use "
            "v = beta * v + g."
        ),
        "uphill": "The steps go uphill: subtract lr * v from p.",
        "forgets": (
            "These are plain SGD steps: no velocity carries over from one step to the next. "
            "Update the velocity kept on the object, self.v = beta * self.v + g (a local variable "
            "would be forgotten after each call), and move p with it."
        ),
    }
    for kind, message in messages.items():
        if all(_same_vector(g, w, 1e-7) for g, w in zip(got, variant(kind), strict=True)):
            return False, message
    return False, f"Not yet: {_first_difference(got, want)}."


@check("adam_matches")
def adam_matches(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's Adam class follows torch.optim.Adam, bias correction included
    (params: class, lr, beta1, beta2, eps, steps)."""
    name = str(params.get("class", "MyAdam"))
    cls = ns.get(name)
    if not callable(cls):
        return _missing(name)
    lr = float(params.get("lr", 0.1))
    b1, b2 = float(params.get("beta1", 0.9)), float(params.get("beta2", 0.999))
    eps = float(params.get("eps", 1e-8))
    grads = _gradients(int(params.get("steps", 12)), 13)
    start = np.array([1.0, -2.0])
    want = _torch_path(
        lambda ps: torch.optim.Adam(ps, lr=lr, betas=(b1, b2), eps=eps), start, grads
    )
    got, problem = _learner_path(
        cls, name, {"lr": lr, "beta1": b1, "beta2": b2, "eps": eps}, start, grads
    )
    if got is None:
        return False, problem
    if all(_same_vector(g, w, 1e-7) for g, w in zip(got, want, strict=True)):
        return True, (
            f"Correct: {len(grads)} steps agree with torch.optim.Adam(lr={lr:g}, "
            f"betas=({b1:g}, {b2:g})) to within rounding."
        )
    if not np.all(np.isfinite(got)):
        return False, (
            "Your parameters became NaN or infinite. If the bias correction divides by "
            "1 - beta ** t with t = 0, that is a division by zero: count the step (t += 1) "
            "before correcting, so the first step uses t = 1."
        )

    def variant(
        correct_m: bool, correct_s: bool, count: bool = True, root: bool = True, sign: float = 1.0
    ) -> np.ndarray:
        m, s, t = np.zeros(2), np.zeros(2), 0

        def step(p: np.ndarray, g: np.ndarray) -> np.ndarray:
            nonlocal m, s, t
            t = t + 1 if count else 1
            m = b1 * m + (1 - b1) * g
            s = b2 * s + (1 - b2) * g * g
            m_hat = m / (1 - b1**t) if correct_m else m
            s_hat = s / (1 - b2**t) if correct_s else s
            scale = np.sqrt(s_hat) if root else s_hat
            return np.asarray(p - sign * lr * m_hat / (scale + eps))

        return _numpy_path(step, start, grads)

    slips = [
        (
            variant(False, False),
            "This is Adam without its bias correction. m and s start at zero, so early on they are "
            "far too small, s most of all: divide m by (1 - beta1 ** t) and s by (1 - beta2 ** t) "
            "before using them.",
        ),
        (
            variant(True, False),
            "You corrected m but not s. s needs its own correction, s / (1 - beta2 ** t); it "
            "matters even more, because beta2 is so close to 1.",
        ),
        (variant(False, True), "You corrected s but not m: m needs m / (1 - beta1 ** t) as well."),
        (
            variant(True, True, count=False),
            "The bias correction never fades: t must count the steps (self.t += 1 in every call), "
            "so that 1 - beta ** t grows towards 1.",
        ),
        (
            variant(True, True, root=False),
            "Divide by the square root of s_hat (plus eps), not by s_hat itself.",
        ),
        (
            _numpy_path(lambda p, g: p - lr * g, start, grads),
            "These are plain SGD steps, p - lr * g. Adam moves by the corrected average m_hat "
            "divided by sqrt(s_hat) + eps instead.",
        ),
        (
            variant(True, True, sign=-1.0),
            "The steps go uphill: subtract lr * m_hat / (sqrt(s_hat) + eps).",
        ),
    ]
    for path, message in slips:
        if all(_same_vector(g, w, 1e-7) for g, w in zip(got, path, strict=True)):
            return False, message
    return False, f"Not yet: {_first_difference(got, want)}."
