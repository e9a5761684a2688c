"""Checks for "Batches and the GPU": shuffled mini-batches that hold every sample exactly once,
each beside its own target. Problems of form (not a list of pairs of 1-D tensors) are worded
here; the known mistakes are named in the lesson's `mistakes:`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from app.kernel.checks import (
    Mistakes,
    Verdict,
    check,
    define_first,
    learner_function,
)

KNOWN = ("single_samples", "dropped_last", "separate_shuffle", "duplicates", "unshuffled")


def _batches(
    batches: Any, n: int, size: int, name: str, mistakes: Mistakes
) -> tuple[list[Any], str]:
    """The batches as a list of (xb, tb) tensor pairs, or [] and a message naming the problem."""
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
            said = mistakes.message("single_samples", k=k)
            return [], said or f"Batch {k} holds a single number, not a batch."
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
        said = mistakes.message("dropped_last", n=n, size=size, total=total, left=n % size)
        return [], said or f"Your batches hold only {total} of the {n} samples."
    if any(s > size for s in sizes):
        return [], f"A batch has {max(sizes)} samples; at most batch_size = {size} may be in one."
    if any(s != size for s in sizes[:-1]):
        return [], (
            f"Batch sizes are {sizes[:6]}…: every batch but the last should hold exactly "
            f"batch_size = {size} samples."
        )
    return items, ""


def _mixed_up(mistakes: Mistakes, xs: torch.Tensor, ts: torch.Tensor, n: int) -> str | None:
    """The message when the batches hold the samples apart from their targets, or some twice."""
    everyone = torch.arange(n, dtype=torch.float32)
    return mistakes.first(
        {
            "separate_shuffle": lambda: not torch.equal(ts - xs, torch.full_like(xs, 1000.0)),
            "duplicates": lambda: not torch.equal(torch.sort(xs).values, everyone),
        },
        n=n,
        distinct=len(set(xs.tolist())),
    )


@check("minibatches_cover", mistakes=KNOWN)
def minibatches_cover(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `minibatches(X, T, batch_size)` splits the data into pairs (xb, tb) of 1-D
    tensors, all of batch_size but the last, holding every sample exactly once with its own
    target, in a fresh random order at each call. Tried on 103 samples in batches of 10.

    Message fields: k (a batch's number), n, size, total (samples in the batches), left (the
    samples dropped), distinct (different samples seen).
    """
    name = str(params.get("function", "minibatches"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "X", "T", "batch_size")
    mistakes = Mistakes(params)
    device = str(ns.get("DEVICE", "cpu"))
    n, size = 103, 10
    X = torch.arange(n, dtype=torch.float32, device=device)
    T = 1000 + X
    orders = []
    for _ in range(2):
        items, problem = _batches(fn(X, T, size), n, size, name, mistakes)
        if problem:
            return False, problem
        xs = torch.cat([xb.detach().reshape(-1) for xb, _ in items]).cpu()
        ts = torch.cat([tb.detach().reshape(-1) for _, tb in items]).cpu()
        slip = _mixed_up(mistakes, xs, ts, n)
        if slip is not None:
            return False, slip
        orders.append(xs)
    unshuffled = torch.equal(orders[0], torch.arange(n, dtype=torch.float32)) or torch.equal(
        *orders
    )
    if unshuffled:
        said = mistakes.message("unshuffled")
        return False, said or "The batches come in the same order at every call: shuffle them."
    return True, (
        f"Correct: {n} samples in batches of {size} (the last one shorter), each sample "
        "exactly once with its own target, in a new order at every call."
    )
