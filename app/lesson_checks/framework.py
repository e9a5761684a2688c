"""Exercise checks for track B, "From a loop to a framework": one SGD step in plain Python, the
mean squared error, one autograd step on tensors, and shuffled mini-batches. Each check runs the
learner's function on inputs of its own, compares with the reference, and names the usual
mistakes (a step that climbs, a missing factor, a sum for a mean, gradients that pile up, batches
that lose samples or pull x and t apart)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from app.kernel.checks import Verdict, check

Pair = tuple[float, float]


def _function(ns: Mapping[str, Any], params: Mapping[str, Any], default: str) -> tuple[str, Any]:
    name = str(params.get("function", default))
    fn = ns.get(name)
    return name, (fn if callable(fn) else None)


def _float(value: Any) -> float | None:
    """One number from a float, an int, a 0-d array or a one-element tensor; else None."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, bool | str | bytes) or value is None:
        return None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(arr.reshape(-1)[0]) if arr.size == 1 else None


def _pair(value: Any) -> Pair | None:
    """Two numbers from a tuple or list such as (w, b); None for anything else."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        return None
    if len(value) != 2:
        return None
    w, b = _float(value[0]), _float(value[1])
    return None if w is None or b is None else (w, b)


def _same(a: float, b: float) -> bool:
    return math.isfinite(a) and abs(a - b) <= 1e-9 * max(1.0, abs(b))


def _always(got: Sequence[Pair], want: Sequence[Pair], part: int | None = None) -> bool:
    """Does every result equal the candidate (both numbers, or only number `part`)?"""
    parts = (0, 1) if part is None else (part,)
    return all(_same(g[i], c[i]) for g, c in zip(got, want, strict=True) for i in parts)


# ---------------------------------------------------------------------------- B1: one SGD step


def _sgd_reference(w: float, b: float, x: float, t: float, lr: float) -> Pair:
    err = w * x + b - t
    return w - lr * 2 * err * x, b - lr * 2 * err


#: Wrong steps learners often write, as (name, new (w, b), message).
_STEP_MISTAKES: list[tuple[Callable[[float, float, float, float, float], Pair], str]] = [
    (
        lambda w, b, x, t, lr: (w, b),
        "`sgd_step` gives back w and b unchanged. Compute the error w*x + b - t, then move "
        "each parameter against its slope: w by 2*error*x, b by 2*error, both times the "
        "learning rate.",
    ),
    (
        lambda w, b, x, t, lr: (w + lr * 2 * (w * x + b - t) * x, b + lr * 2 * (w * x + b - t)),
        "Your step climbs uphill: the loss grows after it. Either the error is written as "
        "t - prediction, or the step is added. With error = w*x + b - t, subtract: "
        "w - learning_rate * 2 * error * x.",
    ),
    (
        lambda w, b, x, t, lr: (w - lr * 2 * (w * x + b - t), b - lr * 2 * (w * x + b - t)),
        "b is right, but w's step is missing the factor x. The prediction changes by x when w "
        "changes by 1, so the chain rule gives dL/dw = 2 * error * x.",
    ),
    (
        lambda w, b, x, t, lr: (w - lr * (w * x + b - t) * x, b - lr * (w * x + b - t)),
        "Each step is half as long as it should be: the 2 is missing. The slope of "
        "error**2 is 2 * error, so dL/dw = 2 * error * x and dL/db = 2 * error.",
    ),
    (
        lambda w, b, x, t, lr: (w - 2 * (w * x + b - t) * x, b - 2 * (w * x + b - t)),
        "The step uses the whole gradient: multiply it by learning_rate first, or a single "
        "example throws w thousands of units away.",
    ),
    (
        lambda w, b, x, t, lr: (w - lr * 2 * (w * x + b - t) * x, b - lr * 2 * (w * x + b - t) * x),
        "w is right, but b's step has an extra factor x. The bias is added as it is (its "
        "input is always 1), so dL/db = 2 * error, with no x.",
    ),
    (
        lambda w, b, x, t, lr: _sgd_reference(w, b, x, t, lr)[::-1],
        "The two numbers are the right ones in the wrong order: return (w, b), w first.",
    ),
    (
        lambda w, b, x, t, lr: (2 * (w * x + b - t) * x, 2 * (w * x + b - t)),
        "You return the gradient itself. `sgd_step` should return the parameters after the "
        "step: w - learning_rate * dL/dw and b - learning_rate * dL/db.",
    ),
    (
        lambda w, b, x, t, lr: (-lr * 2 * (w * x + b - t) * x, -lr * 2 * (w * x + b - t)),
        "You return only the change. Add it to the old values: return w + change_w, "
        "b + change_b (the change being minus the learning rate times the slope).",
    ),
]


@check("sgd_step_update")
def sgd_step_update(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `sgd_step(w, b, x, t, learning_rate)` returns the new (w, b) after one step
    on the single example's squared error (w x + b - t)², at random points and examples."""
    name, fn = _function(ns, params, "sgd_step")
    if fn is None:
        return False, f"Define `{name}(w, b, x, t, learning_rate)` and press Run first."
    rng = np.random.default_rng(int(params.get("seed", 11)))
    inputs: list[tuple[float, float, float, float, float]] = []
    got: list[Pair] = []
    for _ in range(12):
        x = float(rng.integers(2, 100))
        args = (
            float(rng.uniform(-3, 3)),
            float(rng.uniform(-3, 3)),
            x,
            2 * x + 1 + float(rng.normal(0, 3)),
            float(rng.choice([1e-4, 3e-4, 1e-3])),
        )
        value = fn(*args)
        if value is None:
            return False, f"`{name}` returned nothing: end it with `return w, b`."
        pair = _pair(value)
        if pair is None:
            return False, (
                f"`{name}` should return two numbers, the new w and the new b; it returned "
                f"{type(value).__name__} {value!r:.60}."
            )
        inputs.append(args)
        got.append(pair)
    want = [_sgd_reference(*a) for a in inputs]
    if _always(got, want):
        return True, (
            f"Correct: `{name}` moves w and b exactly one SGD step against the gradient of "
            "(w*x + b - t)**2, for every example we tried."
        )
    for mistake, message in _STEP_MISTAKES:
        if _always(got, [mistake(*a) for a in inputs]):
            return False, message
    unchanged = [(a[0], a[1]) for a in inputs]
    if _always(got, want, 0) and _always(got, unchanged, 1):
        return False, "w moves correctly, but b never changes: give b its own step, 2 * error."
    if _always(got, want, 1) and _always(got, unchanged, 0):
        return False, "b moves correctly, but w never changes: give w its own step, 2 * error * x."
    a, g, r = inputs[0], got[0], want[0]
    which = (
        "w is right but b is not"
        if _always(got, want, 0)
        else ("b is right but w is not" if _always(got, want, 1) else "Not yet")
    )
    return False, (
        f"{which}: sgd_step(w={a[0]:.4g}, b={a[1]:.4g}, x={a[2]:g}, t={a[3]:.4g}, "
        f"learning_rate={a[4]:g}) gave ({g[0]:.6g}, {g[1]:.6g}); one step should give "
        f"({r[0]:.6g}, {r[1]:.6g})."
    )


# ---------------------------------------------------------------------------- B1: the mean loss


def _errors(points: Sequence[Pair], w: float, b: float) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64)
    return w * pts[:, 0] + b - pts[:, 1]


_LOSS_MISTAKES: list[tuple[Callable[[np.ndarray], float], str]] = [
    (
        lambda e: float(np.sum(e * e)),
        "That is the sum of the squared errors, not their mean: divide by the number of "
        "points, len(points). A mean lets you compare data sets of any size.",
    ),
    (
        lambda e: float(np.mean(e)),
        "Square each error before you average. Without the square, errors above and below "
        "the line cancel, and a bad line can score 0.",
    ),
    (
        lambda e: float(np.mean(np.abs(e))),
        "That is the mean absolute error. This loss squares each error instead of taking "
        "its size: error * error.",
    ),
    (
        lambda e: float(np.sqrt(np.mean(e * e))),
        "You took the square root at the end: that is the root mean squared error. Leave it "
        "out; the loss we train on is the plain mean of the squares.",
    ),
    (
        lambda e: float(np.sum(e * e) / (e.size - 1)),
        "Divide by the number of points, len(points), not one less.",
    ),
    (
        lambda e: float(np.mean(e * e) / 2),
        "Your loss is half the right value: this lesson's loss has no ½ in front.",
    ),
    (
        lambda e: float(np.mean(e) ** 2),
        "You square the mean error; square each error first, then take the mean.",
    ),
    (
        lambda e: float(e[-1] ** 2),
        "Only the last point counts: inside the loop add each squared error to a running "
        "total (`total += error * error`) instead of replacing it.",
    ),
    (
        lambda e: float(e[-1] ** 2 / e.size),
        "Only the last point counts: inside the loop add each squared error to a running "
        "total (`total += error * error`) instead of replacing it.",
    ),
    (
        lambda e: 0.0,
        "`mean_squared_error` still returns 0. Loop over the (x, t) pairs, add up "
        "(w*x + b - t)**2, and divide by the number of pairs.",
    ),
]


@check("mean_squared_error_matches")
def mean_squared_error_matches(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `mean_squared_error(points, w, b)` is the mean of (w x + b - t)² over a list
    of (x, t) pairs, on random small data sets."""
    name, fn = _function(ns, params, "mean_squared_error")
    if fn is None:
        return False, f"Define `{name}(points, w, b)` and press Run first."
    rng = np.random.default_rng(int(params.get("seed", 5)))
    cases: list[np.ndarray] = []
    got: list[float] = []
    for _ in range(10):
        n = int(rng.integers(3, 13))
        xs = rng.integers(0, 100, n).astype(np.float64)
        points = [(float(x), float(2 * x + 1 + rng.normal(0, 4))) for x in xs]
        w, b = float(rng.uniform(1.5, 2.5)), float(rng.uniform(-5, 5))
        value = fn(points, w, b)
        number = _float(value)
        if number is None:
            return False, (
                f"`{name}` should return one number; it returned {type(value).__name__} "
                f"{value!r:.60}."
            )
        cases.append(_errors(points, w, b))
        got.append(number)

    def always(candidate: Callable[[np.ndarray], float]) -> bool:
        return all(_same(g, candidate(e)) for g, e in zip(got, cases, strict=True))

    if always(lambda e: float(np.mean(e * e))):
        return True, f"Correct: `{name}` is the mean of the squared errors on every data set."
    for mistake, message in _LOSS_MISTAKES:
        if always(mistake):
            return False, message
    e = cases[0]
    return False, (
        f"Not yet: on {e.size} points whose errors are {np.array2string(e[:4], precision=2)}… "
        f"`{name}` gave {got[0]:.6g}, but the mean of the squared errors is "
        f"{float(np.mean(e * e)):.6g}."
    )


# ---------------------------------------------------------------------------- B2: an autograd step

_STEP_EXAMPLES = ((37.0, 75.5), (81.0, 162.0))
_START = (0.5, -1.0)


def _autograd_reference(lr: float, accumulate: bool = False) -> list[Pair]:
    """(w, b) after the first and the second example; `accumulate` keeps the first gradient in
    the second step, as happens when .grad is never cleared."""
    w, b = _START
    states, kept = [], (0.0, 0.0)
    for x, t in _STEP_EXAMPLES:
        err = w * x + b - t
        gw, gb = 2 * err * x + kept[0], 2 * err + kept[1]
        if accumulate:
            kept = (gw, gb)
        w, b = w - lr * gw, b - lr * gb
        states.append((w, b))
    return states


@check("autograd_sgd_step")
def autograd_sgd_step(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `sgd_step(w, b, x, t, learning_rate)` updates the leaf tensors w and b in
    place with autograd's gradient, and leaves nothing behind for the next call: we call it on
    two examples in a row and compare with two hand-computed steps."""
    import torch

    name, fn = _function(ns, params, "sgd_step")
    if fn is None:
        return False, f"Define `{name}(w, b, x, t, learning_rate)` and press Run first."
    lr = float(params.get("learning_rate", 1e-4))
    w = torch.tensor(_START[0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(_START[1], dtype=torch.float64, requires_grad=True)
    states: list[Pair] = []
    for i, (x, t) in enumerate(_STEP_EXAMPLES):
        try:
            fn(w, b, x, t, lr)
        except RuntimeError as exc:
            text = str(exc)
            if "leaf Variable" in text or "in-place operation" in text:
                return False, (
                    "PyTorch refuses to change w in place while it records operations for "
                    "autograd. Put the update inside `with torch.no_grad():`, so the step "
                    "itself is not recorded."
                )
            if "backward through the graph a second time" in text:
                return False, (
                    "backward() ran twice on the same loss. Build the loss afresh from w, b, x "
                    "and t inside sgd_step, and call backward() once per step."
                )
            raise
        except AttributeError as exc:
            if "zero_" not in str(exc) or i > 0:
                raise
            if w.grad is not None:
                return False, (
                    "The w whose .grad you clear is not the w you were given: `w = w - ...` "
                    "makes a new tensor (with no gradient) under the old name. Update in "
                    "place instead: `w -= learning_rate * w.grad`."
                )
            return False, (
                "w.grad is None before the first backward(), so it has no zero_(). Clear "
                "the gradients after the update instead (or set `w.grad = None`)."
            )
        except TypeError as exc:
            if "NoneType" not in str(exc):
                raise
            return False, (
                "w.grad is None where the update reads it: either backward() was not called "
                "yet, or the gradients were cleared too early. Order: loss.backward(), the "
                "update, then clear the gradients."
            )
        if not (w.is_leaf and b.is_leaf):
            return False, "w and b should stay the tensors you were given; update them in place."
        states.append((float(w.detach()), float(b.detach())))
        if i == 0:
            verdict = _first_step_verdict(states[0], w, b, lr)
            if verdict is not None:
                return verdict
    right = _autograd_reference(lr)
    if _always(states, right):
        return True, (
            "Correct: two calls in a row give exactly two SGD steps, so each step uses its "
            "own example's gradient and nothing is left over."
        )
    piled = _autograd_reference(lr, accumulate=True)
    if _always(states, piled):
        return False, (
            "The first step is right, but the second one uses the first example's gradient "
            "too: backward() *adds* to w.grad and b.grad. Clear them after each update, "
            "with w.grad.zero_() and b.grad.zero_() (or set them to None)."
        )
    if _always(states[1:], piled[1:], 0) and _always(states[1:], right[1:], 1):
        return False, "b.grad is cleared, but w.grad still piles up from step to step: clear both."
    if _always(states[1:], piled[1:], 1) and _always(states[1:], right[1:], 0):
        return False, "w.grad is cleared, but b.grad still piles up from step to step: clear both."
    (gw, gb), (rw, rb) = states[1], right[1]
    return False, (
        f"The second step goes wrong: after two examples we expected w = {rw:.8g}, "
        f"b = {rb:.8g}, and got w = {gw:.8g}, b = {gb:.8g}."
    )


def _first_step_verdict(got: Pair, w: Any, b: Any, lr: float) -> Verdict | None:
    """A message for a first step that is already wrong; None when it is right."""
    want = _autograd_reference(lr)[0]
    if _always([got], [want]):
        return None
    x, t = _STEP_EXAMPLES[0]
    err = _START[0] * x + _START[1] - t
    if _always([got], [_START]):
        if w.grad is None and b.grad is None:
            return False, (
                "w and b did not move and have no gradient: call loss.backward() to fill "
                "w.grad and b.grad, then step against them."
            )
        grad = _float(w.grad)
        if grad is not None and grad == 0.0:
            return False, (
                "w and b did not move: the gradients were cleared before the update used "
                "them. Clear them after the step, not between backward() and the step."
            )
        return False, (
            "The gradients are there, but w and b did not move. Change the tensors in place, "
            "`w -= learning_rate * w.grad`: writing `w = w - ...` only makes a new tensor with "
            "a local name, and the caller's w stays as it was."
        )
    uphill = (_START[0] + lr * 2 * err * x, _START[1] + lr * 2 * err)
    if _always([got], [uphill]):
        return False, "The step goes uphill: subtract learning_rate * grad, don't add it."
    whole = (_START[0] - 2 * err * x, _START[1] - 2 * err)
    if _always([got], [whole]):
        return False, "The step is the whole gradient: multiply w.grad and b.grad by learning_rate."
    return False, (
        f"After one step from w = {_START[0]}, b = {_START[1]} on x = {x:g}, t = {t:g} we "
        f"expected w = {want[0]:.8g}, b = {want[1]:.8g}; got w = {got[0]:.8g}, b = {got[1]:.8g}. "
        "Is the loss (w*x + b - t)**2?"
    )


# ---------------------------------------------------------------------------- B3: mini-batches


def _batch_verdict(batches: Any, n: int, size: int, name: str) -> tuple[list[Any], str]:
    """The batches as a list of (xb, tb) tensor pairs, or "" and a message naming the problem."""
    import torch

    try:
        items = list(batches)
    except TypeError:
        return [], (
            f"`{name}` should return a list of (xb, tb) pairs; it returned "
            f"{type(batches).__name__}."
        )
    if not items:
        return [], f"`{name}` returned no batches at all."
    for k, item in enumerate(items):
        if not isinstance(item, tuple | list) or len(item) != 2:
            return [], (
                f"Batch {k} is {type(item).__name__}, not a pair: each batch should be "
                "(xb, tb), the inputs and their targets."
            )
        xb, tb = item
        if not (isinstance(xb, torch.Tensor) and isinstance(tb, torch.Tensor)):
            kind = type(xb).__name__
            return [], f"Batch {k} should hold two tensors (slices of X and T), not {kind}."
        if xb.ndim == 0:
            return [], (
                f"Batch {k} holds a single number. Index X with a whole tensor of positions, "
                "X[idx], so a batch is a 1-D tensor of batch_size samples."
            )
        if xb.ndim != 1 or tb.ndim != 1:
            return [], (
                f"Batch {k} has shapes {tuple(xb.shape)} and {tuple(tb.shape)}; keep batches 1-D "
                "like X and T, shape (batch_size,)."
            )
        if xb.shape != tb.shape:
            return [], (
                f"In batch {k}, xb has {xb.shape[0]} values and tb has {tb.shape[0]}: every "
                "input needs its own target."
            )
    sizes = [int(xb.shape[0]) for xb, _ in items]
    total = sum(sizes)
    if total == n - n % size and total < n:
        return [], (
            f"With {n} samples and batch_size {size}, your batches hold only {total}: the last "
            f"{n % size} samples never show up. Keep the short batch at the end."
        )
    if any(s > size for s in sizes):
        return [], f"A batch has {max(sizes)} samples; at most batch_size = {size} may be in one."
    if any(s != size for s in sizes[:-1]):
        return [], (
            f"Batch sizes are {sizes[:6]}…: every batch but the last should hold exactly "
            f"batch_size = {size} samples."
        )
    return items, ""


@check("minibatches_cover")
def minibatches_cover(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `minibatches(X, T, batch_size)` splits the data into pairs (xb, tb) of 1-D
    tensors, all of batch_size but the last, holding every sample exactly once with its own
    target, in a fresh random order at each call. Tried on 103 samples in batches of 10."""
    import torch

    name, fn = _function(ns, params, "minibatches")
    if fn is None:
        return False, f"Define `{name}(X, T, batch_size)` and press Run first."
    device = str(ns.get("DEVICE", "cpu"))
    n, size = 103, 10
    X = torch.arange(n, dtype=torch.float32, device=device)
    T = 1000 + X
    orders = []
    for _ in range(2):
        items, problem = _batch_verdict(fn(X, T, size), n, size, name)
        if problem:
            return False, problem
        xs = torch.cat([xb.detach().reshape(-1) for xb, _ in items]).cpu()
        ts = torch.cat([tb.detach().reshape(-1) for _, tb in items]).cpu()
        if not torch.equal(ts - xs, torch.full_like(xs, 1000.0)):
            return False, (
                "The targets no longer belong to their inputs: x and t were shuffled "
                "separately. Draw one permutation and index both X and T with it."
            )
        if not torch.equal(torch.sort(xs).values, torch.arange(n, dtype=torch.float32)):
            return False, (
                f"Some samples appear twice and others never ({len(set(xs.tolist()))} different "
                f"samples out of {n}). Use a permutation, torch.randperm(n), so each index "
                "comes up exactly once."
            )
        orders.append(xs)
    if torch.equal(orders[0], torch.arange(n, dtype=torch.float32)) or torch.equal(*orders):
        return False, (
            "Every sample is there once, but the order never changes: the batches are the "
            "same in every epoch. Shuffle first, with torch.randperm(len(X)), then slice."
        )
    return True, (
        f"Correct: {n} samples in batches of {size} (the last one shorter), each sample "
        "exactly once with its own target, in a new order at every call."
    )
