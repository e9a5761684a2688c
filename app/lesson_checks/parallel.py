"""Exercise checks for lesson B4, "Data-parallel training": splitting the data into one shard per
worker, and averaging the workers' gradients. Each check calls the learner's function on inputs
of its own and names the usual mistakes (shards that overlap or lose samples, shards of very
different sizes, a sum left undivided by the number of workers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from app.kernel.checks import Verdict, check


def _function(ns: Mapping[str, Any], params: Mapping[str, Any], default: str) -> tuple[str, Any]:
    name = str(params.get("function", default))
    fn = ns.get(name)
    return name, (fn if callable(fn) else None)


def _items(value: Any) -> list[int] | None:
    """The sample numbers in a shard (a list, tuple, range, array or tensor), else None."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, str | bytes | dict) or value is None:
        return None
    try:
        arr = np.asarray(list(value) if not isinstance(value, np.ndarray) else value)
    except (TypeError, ValueError):
        return None
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.number)):
        return None
    return [int(v) for v in arr]


@check("shards_partition")
def shards_partition(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `shard(data, rank, world_size)` gives worker `rank` its part of `data`:
    over all ranks every sample exactly once, and shard sizes within one of each other."""
    name, fn = _function(ns, params, "shard")
    if fn is None:
        return False, f"Define `{name}(data, rank, world_size)` and press Run first."
    for length, world in ((12, 4), (10, 4), (7, 3), (5, 8), (9, 2), (1, 3)):
        data = list(range(100, 100 + length))
        owner: dict[int, int] = {}
        sizes = []
        for rank in range(world):
            part = _items(fn(list(data), rank, world))
            if part is None:
                return False, (
                    f"`{name}` should return the worker's samples as a list (or a slice of "
                    "`data`); it returned something else."
                )
            sizes.append(len(part))
            for sample in part:
                if sample not in data:
                    return False, (
                        f"`{name}({data}, {rank}, {world})` returned {sample}, which is not "
                        "one of the samples: return items of `data`, not positions."
                    )
                if sample in owner:
                    return False, (
                        f"The shards overlap: with {length} samples and {world} workers, sample "
                        f"{sample} is given to rank {owner[sample]} and to rank {rank}. Each "
                        "sample must belong to exactly one worker, or it counts twice."
                    )
                owner[sample] = rank
        missing = [s for s in data if s not in owner]
        if missing:
            return False, (
                f"Samples are lost: with {length} samples and {world} workers, "
                f"{missing[:4]} {'is' if len(missing) == 1 else 'are'} in no shard. When the "
                "length does not divide evenly, the leftover samples must still go to some "
                "worker (try a stride: `data[rank::world_size]`)."
            )
        if max(sizes) - min(sizes) > 1:
            return False, (
                f"Every sample is used once, but the shard sizes are {sizes} for {length} "
                f"samples and {world} workers: one worker does most of the work. Make the sizes "
                "differ by at most one."
            )
    return True, "Every sample lands in exactly one shard, and the shards are balanced."


@check("gradients_averaged")
def gradients_averaged(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `all_reduce_by_hand(grads)` returns what every worker holds after
    all_reduce and the division: the mean of the workers' gradients."""
    import torch

    name, fn = _function(ns, params, "all_reduce_by_hand")
    if fn is None:
        return False, f"Define `{name}(grads)` and press Run first."
    gen = torch.Generator().manual_seed(int(params.get("seed", 4)))
    for world in (2, 3, 4, 5):
        grads = [torch.randn(2, generator=gen, dtype=torch.float64) for _ in range(world)]
        given = [g.clone() for g in grads]
        got = fn(given)
        if got is None:
            return False, f"`{name}` returned nothing: end it with `return` and the average."
        try:
            value = torch.as_tensor(got, dtype=torch.float64).reshape(-1)
        except (TypeError, ValueError, RuntimeError):
            return False, f"`{name}` should return one tensor of two numbers."
        if value.shape != (2,):
            return False, (
                f"`{name}` should return one gradient (two numbers, for w and b); it returned "
                f"{value.numel()} numbers."
            )
        total = torch.stack(grads).sum(0)
        mean = total / world
        if torch.allclose(value, mean, rtol=1e-9, atol=1e-12):
            continue
        if torch.allclose(value, total, rtol=1e-9, atol=1e-12):
            return False, (
                f"With {world} workers you returned the sum of their gradients, {world} times "
                "too big: all_reduce adds them up, and the average still needs dividing by the "
                "number of workers (the world size)."
            )
        if any(torch.allclose(value, g, rtol=1e-9, atol=1e-12) for g in grads):
            return False, (
                "You returned one worker's own gradient: combine all of them, or each worker "
                "steps by its own shard alone."
            )
        return False, (
            f"With {world} workers the average is {mean.tolist()}, but `{name}` returned "
            f"{value.tolist()}."
        )
    return True, "Sum, then divide by the world size: every worker now holds the same average."
