"""Checks for "Optimizers": a learner's momentum and Adam, step for step against the engine's
(which match torch.optim), and against the usual slips, each a small optimizer of its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from app.kernel.checks import (
    Adam,
    Mistakes,
    Momentum,
    Verdict,
    check,
    close,
    define_first,
    numbers,
    shown,
)

Step = Callable[[np.ndarray, np.ndarray], np.ndarray]
START = np.array([1.0, -2.0])


def _gradients(steps: int, seed: int) -> list[np.ndarray]:
    """A fixed sequence of gradients of different sizes and signs, as a noisy descent sees."""
    rng = np.random.default_rng(seed)
    scale = np.array([3.0, 0.05])
    return [rng.normal(0, 1, 2) * scale * (1 + 0.5 * np.sin(t)) for t in range(steps)]


def _path(step: Step, grads: list[np.ndarray]) -> np.ndarray:
    """The parameters after each step, from START."""
    p, out = START.copy(), []
    with np.errstate(all="ignore"):
        for g in grads:
            p = np.asarray(step(p.copy(), g.copy()), dtype=np.float64)
            out.append(p.copy())
    return np.array(out)


def _learner_path(
    cls: Any, name: str, hyper: dict[str, float], grads: list[np.ndarray]
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
    out, p = [], START.copy()
    with np.errstate(all="ignore"):
        for g in grads:
            value = opt.step(p.copy(), g.copy())
            new = numbers(value, p.size)
            if new is None:
                return None, (
                    f"`{name}.step(p, g)` should return the new parameters, an array like p; "
                    f"it returned {shown(value)}."
                )
            p = new
            out.append(p.copy())
    return np.array(out), ""


def _same(got: np.ndarray, path: np.ndarray) -> bool:
    return all(close(g, w, 1e-7) for g, w in zip(got, path, strict=True))


def _first_difference(got: np.ndarray, want: np.ndarray) -> str:
    for t, (g, w) in enumerate(zip(got, want, strict=True), start=1):
        if not close(g, w, 1e-7):
            return (
                f"after step {t} your parameters are {np.round(g, 6).tolist()}, but torch.optim "
                f"gives {np.round(w, 6).tolist()}"
            )
    return "they differ"


@check("momentum_matches", mistakes=("late", "averaged", "uphill", "forgets"))
def momentum_matches(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's momentum class follows torch.optim.SGD(momentum=beta): v = beta v + g,
    p = p - lr v (params: class, lr, beta, steps)."""
    name = str(params.get("class", "MyMomentum"))
    cls = ns.get(name)
    if not callable(cls):
        return define_first(name, what="class")
    lr, beta = float(params.get("lr", 0.05)), float(params.get("beta", 0.9))
    grads = _gradients(int(params.get("steps", 12)), 11)
    want = _path(Momentum(lr, beta).step, grads)
    got, problem = _learner_path(cls, name, {"lr": lr, "beta": beta}, grads)
    if got is None:
        return False, problem
    if _same(got, want):
        return True, (
            f"Correct: {len(grads)} steps agree with torch.optim.SGD(lr={lr:g}, momentum={beta:g}) "
            "to within rounding."
        )

    def variant(kind: str) -> Callable[[], bool]:
        v = np.zeros(2)

        def step(p: np.ndarray, g: np.ndarray) -> np.ndarray:
            nonlocal v
            if kind == "late":  # moves with the old velocity, then updates it
                p = p - lr * v
                v = beta * v + g
                return p
            v = beta * v + ((1 - beta) * g if kind == "averaged" else g)
            if kind == "forgets":
                v = g
            return np.asarray(p + lr * v if kind == "uphill" else p - lr * v)

        return lambda: _same(got, _path(step, grads))

    known = ("late", "averaged", "uphill", "forgets")
    slip = Mistakes(params).first({kind: variant(kind) for kind in known})
    return False, slip or f"Not yet: {_first_difference(got, want)}."


@check(
    "adam_matches",
    mistakes=(
        "not_finite",
        "no_correction",
        "m_only",
        "s_only",
        "t_fixed",
        "no_root",
        "plain_sgd",
        "uphill",
    ),
)
def adam_matches(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's Adam class follows torch.optim.Adam, bias correction included
    (params: class, lr, beta1, beta2, eps, steps)."""
    name = str(params.get("class", "MyAdam"))
    cls = ns.get(name)
    if not callable(cls):
        return define_first(name, what="class")
    lr = float(params.get("lr", 0.1))
    b1, b2 = float(params.get("beta1", 0.9)), float(params.get("beta2", 0.999))
    eps = float(params.get("eps", 1e-8))
    grads = _gradients(int(params.get("steps", 12)), 13)
    want = _path(Adam(lr, (b1, b2), eps).step, grads)
    got, problem = _learner_path(cls, name, {"lr": lr, "beta1": b1, "beta2": b2, "eps": eps}, grads)
    if got is None:
        return False, problem
    if _same(got, want):
        return True, (
            f"Correct: {len(grads)} steps agree with torch.optim.Adam(lr={lr:g}, "
            f"betas=({b1:g}, {b2:g})) to within rounding."
        )

    def variant(
        correct_m: bool, correct_s: bool, count: bool = True, root: bool = True, sign: float = 1.0
    ) -> Callable[[], bool]:
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

        return lambda: _same(got, _path(step, grads))

    slip = Mistakes(params).first(
        {
            "not_finite": lambda: not np.all(np.isfinite(got)),
            "no_correction": variant(False, False),
            "m_only": variant(True, False),
            "s_only": variant(False, True),
            "t_fixed": variant(True, True, count=False),
            "no_root": variant(True, True, root=False),
            "plain_sgd": lambda: _same(got, _path(lambda p, g: p - lr * g, grads)),
            "uphill": variant(True, True, sign=-1.0),
        }
    )
    return False, slip or f"Not yet: {_first_difference(got, want)}."
