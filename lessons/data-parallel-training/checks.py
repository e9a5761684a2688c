"""Checks for "Data-parallel training": splitting the data into one shard per worker, and
averaging the workers' gradients. Each check calls the learner's function on inputs of its own;
the known mistakes (shards that overlap or lose samples, shards of very different sizes, a sum
left undivided by the number of workers) are named in the lesson's `mistakes:`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from app.kernel.checks import (
    Mistakes,
    Verdict,
    check,
    close,
    define_first,
    learner_function,
    numbers,
)

CASES = ((12, 4), (10, 4), (7, 3), (5, 8), (9, 2), (1, 3))


@check("shards_partition", mistakes=("not_items", "overlap", "lost", "unbalanced"))
def shards_partition(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `shard(data, rank, world_size)` gives worker `rank` its part of `data`:
    over all ranks every sample exactly once, and shard sizes within one of each other.

    Message fields: data, length, world, rank, sample, first (the rank that had the sample
    first), missing (the first lost samples), verb ("is" or "are", for missing), sizes.
    """
    name = str(params.get("function", "shard"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "data", "rank", "world_size")
    mistakes = Mistakes(params)
    for length, world in CASES:
        data = list(range(100, 100 + length))
        owner: dict[int, int] = {}
        sizes = []
        for rank in range(world):
            part = numbers(fn(list(data), rank, world))
            if part is None:
                return False, (
                    f"`{name}` should return the worker's samples as a list (or a slice of "
                    "`data`); it returned something else."
                )
            sizes.append(len(part))
            for sample in (int(v) for v in part):
                fields = {"data": data, "length": length, "world": world, "rank": rank}
                if sample not in data:
                    said = mistakes.message("not_items", sample=sample, **fields)
                    return False, said or f"`{name}` returned {sample}, not one of the samples."
                if sample in owner:
                    said = mistakes.message("overlap", sample=sample, first=owner[sample], **fields)
                    return False, said or f"Sample {sample} is in two shards."
                owner[sample] = rank
        missing = [s for s in data if s not in owner]
        verb = "is" if len(missing) == 1 else "are"
        fields = {"length": length, "world": world, "missing": missing[:4], "verb": verb}
        if missing:
            said = mistakes.message("lost", **fields)
            return False, said or f"Samples {missing[:4]} are in no shard."
        if max(sizes) - min(sizes) > 1:
            said = mistakes.message("unbalanced", sizes=sizes, **fields)
            return False, said or f"The shard sizes are {sizes}: make them differ by at most one."
    return True, "Every sample lands in exactly one shard, and the shards are balanced."


def _averaging_slip(mistakes: Mistakes, value: np.ndarray, grads: list[torch.Tensor]) -> str | None:
    """The message when the learner returned the sum, or one worker's gradient."""
    total = torch.stack(grads).sum(0).numpy()
    return mistakes.first(
        {
            "sum": lambda: close(value, total, 1e-9),
            "one_worker": lambda: any(close(value, g.numpy(), 1e-9) for g in grads),
        },
        world=len(grads),
    )


@check("gradients_averaged", mistakes=("sum", "one_worker"))
def gradients_averaged(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `all_reduce_by_hand(grads)` returns what every worker holds after
    all_reduce and the division: the mean of the workers' gradients. Message field: world."""
    name = str(params.get("function", "all_reduce_by_hand"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "grads")
    gen = torch.Generator().manual_seed(int(params.get("seed", 4)))
    for world in (2, 3, 4, 5):
        grads = [torch.randn(2, generator=gen, dtype=torch.float64) for _ in range(world)]
        got = fn([g.clone() for g in grads])
        if got is None:
            return False, f"`{name}` returned nothing: end it with `return` and the average."
        value = numbers(torch.as_tensor(got).reshape(-1) if torch.is_tensor(got) else got)
        if value is None:
            return False, f"`{name}` should return one tensor of two numbers."
        if value.shape != (2,):
            return False, (
                f"`{name}` should return one gradient (two numbers, for w and b); it returned "
                f"{value.size} numbers."
            )
        total = torch.stack(grads).sum(0).numpy()
        mean = total / world
        if close(value, mean, 1e-9):
            continue
        slip = _averaging_slip(Mistakes(params), value, grads)
        return False, slip or (
            f"With {world} workers the average is {np.round(mean, 6).tolist()}, but `{name}` "
            f"returned {np.round(value, 6).tolist()}."
        )
    return True, "Sum, then divide by the world size: every worker now holds the same average."
