"""Exercise checks. They run inside the learner's kernel against the learner's namespace and
never trust the page: a check gets the namespace and the exercise's params and returns
(passed, message). Common mistakes are recognised and named so the message can be targeted."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
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


def _expression(expr: str) -> Callable[..., Any]:
    """A reference written in the lesson file as a Python expression of the arguments."""
    env = {"np": np, "math": math, "exp": np.exp, "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
    return lambda **kw: eval(expr, env, dict(kw))  # lesson files are trusted server content


def _samples(params: Mapping[str, Any], rng: np.random.Generator) -> dict[str, float]:
    ranges: Mapping[str, list[float]] = params.get("ranges", {})
    return {a: float(rng.uniform(*ranges.get(a, [-5.0, 5.0]))) for a in params["args"]}


def _close(a: float, b: float, tol: float) -> bool:
    return math.isfinite(a) and abs(a - b) <= tol * max(1.0, abs(b))


@check("function_matches")
def function_matches(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `function` equals `expected` (an expression of `args`) on random inputs.

    params: function, args, expected, optional ranges {arg: [lo, hi]}, tolerance, and mistakes:
    a list of {expected: expr, message: text} recognised when the learner's output matches them.
    """
    name = str(params["function"])
    fn = ns.get(name)
    if not callable(fn):
        return False, f"Define a function called `{name}` and press Run first."
    expected = _expression(str(params["expected"]))
    mistakes = [(_expression(m["expected"]), str(m["message"])) for m in params.get("mistakes", [])]
    tol = float(params.get("tolerance", 1e-6))
    rng = np.random.default_rng(int(params.get("seed", 7)))
    args: list[str] = list(params["args"])
    mistake_hits = [0] * len(mistakes)
    wrong: tuple[dict[str, float], float, float] | None = None
    for _ in range(int(params.get("trials", 20))):
        kw = _samples(params, rng)
        got = fn(*[kw[a] for a in args])
        try:
            got_f = float(got)
        except (TypeError, ValueError):
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
    call = ", ".join(f"{a}={kw[a]:.3g}" for a in args)
    return False, f"Not yet: `{name}({call})` gave {got_f:.6g}, but it should be {want:.6g}."
