"""The D4 loss landscape: batched (the engine's vmap) vs a loop of forward passes vs plain vmap.

Builds the network of lesson D4 by running the lesson's own `data` and `model` cells, draws the
same two filter-normalised directions as its `net_landscape` plot, and times, interleaved so all
three see the same conditions:

* batched: `app.engine.landscape.landscape_vmap`, what the plot runs (vmap in chunks);
* loop: `app.engine.landscape.landscape_loop`, one forward pass per grid point;
* plain vmap: the textbook baseline written here, every grid point's weights stacked into one
  batch and `torch.func.vmap(functional_call)` over it in a single call, no chunks.

All three must give the same grid. Goal (issue 5): batched within 1.5x of plain vmap, and far
below the loop. By default on one CPU thread, as in a learner's kernel.

    .venv/bin/python bench/bench_landscape.py [--quick] [--device cpu|cuda] [--threads 1]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.func import functional_call, vmap

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.content.loader import load_lesson  # noqa: E402
from app.engine.landscape import (  # noqa: E402
    Direction,
    LossFn,
    landscape_loop,
    landscape_vmap,
    random_directions,
)

LESSON = ROOT / "lessons" / "networks-as-composition" / "lesson.md"
GOAL = 1.5


def lesson_setup() -> tuple[dict[str, Any], dict[str, Any]]:
    """The namespace the D4 cells leave behind, and the options of its landscape plot."""
    lesson = load_lesson(LESSON)
    ns: dict[str, Any] = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell_id in ("data", "model"):
            exec(compile(lesson.cells[cell_id].code, f"<{cell_id}>", "exec"), ns)  # type: ignore[index]
    return ns, dict(lesson.plots["landscape"].options)  # type: ignore[index]


def plain_vmap(
    model: torch.nn.Module,
    loss_fn: LossFn,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    alphas: np.ndarray,
    betas: np.ndarray,
    d1: Direction,
    d2: Direction,
) -> np.ndarray:
    """The baseline: stack θ + α d1 + β d2 for every grid point, one vmap over the stack."""
    theta = {name: p.detach() for name, p in model.named_parameters()}
    like = next(iter(theta.values()))
    a = torch.as_tensor(np.asarray(alphas), dtype=like.dtype, device=like.device)
    b = torch.as_tensor(np.asarray(betas), dtype=like.dtype, device=like.device)
    bb, aa = torch.meshgrid(b, a, indexing="ij")
    aa, bb = aa.reshape(-1), bb.reshape(-1)

    def shaped(t: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return t.view(-1, *[1] * w.dim())

    stacked = {n: w + shaped(aa, w) * d1[n] + shaped(bb, w) * d2[n] for n, w in theta.items()}
    with torch.no_grad():
        losses = vmap(lambda p: loss_fn(functional_call(model, p, (inputs,)), targets))(stacked)
    return losses.cpu().to(torch.float64).numpy().reshape(len(b), len(a))


def timed(fn: Callable[[], np.ndarray], device: str) -> tuple[float, np.ndarray]:
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    z = fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, z


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the lesson's grid only, few repeats")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (kernel: 1)")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per method")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device here")
        return 1
    torch.set_num_threads(args.threads)

    ns, options = lesson_setup()
    model, loss_fn = ns["model"].to(args.device).eval(), ns["loss_fn"]
    inputs, targets = ns["X"].to(args.device), ns["Y"].to(args.device)
    d1, d2 = random_directions(model, torch.Generator().manual_seed(int(options.get("seed", 0))))
    span, lesson_res = float(options.get("span", 1.0)), int(options.get("resolution", 41))
    resolutions = [lesson_res] if args.quick else [lesson_res, 81, 161]
    repeats = args.repeats or (3 if args.quick else 9)
    n_params = sum(p.numel() for p in model.parameters())

    print(
        f"D4 landscape: network with {n_params} parameters, {inputs.shape[0]} samples, "
        f"device {args.device}, {torch.get_num_threads()} thread(s), torch {torch.__version__}"
    )
    print(f"median of {repeats} interleaved runs after one warm-up each\n")
    header = (
        f"{'grid':>9}{'points':>8}  {'batched (s)':>12}{'plain vmap (s)':>16}{'loop (s)':>11}"
        f"  {'batched/plain':>14}{'loop/batched':>13}  {'max |Δz|':>9}"
    )
    print(header)
    print("-" * len(header))
    verdicts = []
    for res in resolutions:
        grid = np.linspace(-span, span, res)
        methods: dict[str, Callable[[], np.ndarray]] = {
            "batched": lambda g=grid: landscape_vmap(model, loss_fn, inputs, targets, g, g, d1, d2),
            "plain": lambda g=grid: plain_vmap(model, loss_fn, inputs, targets, g, g, d1, d2),
            "loop": lambda g=grid: landscape_loop(model, loss_fn, inputs, targets, g, g, d1, d2),
        }
        loop_repeats = repeats if res <= lesson_res else max(1, repeats // 3)
        times: dict[str, list[float]] = {k: [] for k in methods}
        grids = {k: fn() for k, fn in methods.items()}  # warm-up, and the grids to compare
        for i in range(repeats):
            for name, fn in methods.items():
                if name == "loop" and i >= loop_repeats:
                    continue
                seconds, _ = timed(fn, args.device)
                times[name].append(seconds)
        med = {k: statistics.median(v) for k, v in times.items()}
        diff = max(float(np.abs(grids[k] - grids["plain"]).max()) for k in grids)
        ratio, speedup = med["batched"] / med["plain"], med["loop"] / med["batched"]
        verdicts.append((res, ratio, speedup))
        print(
            f"{res:>4}x{res:<4}{res * res:>8}  {med['batched']:>12.4f}{med['plain']:>16.4f}"
            f"{med['loop']:>11.4f}  {ratio:>13.2f}x{speedup:>12.1f}x  {diff:>9.1e}"
        )
    print()
    for res, ratio, speedup in verdicts:
        ok = "meets" if ratio <= GOAL else "MISSES"
        print(
            f"{res}x{res}: batched is {ratio:.2f}x plain vmap ({ok} the {GOAL}x goal) and "
            f"{speedup:.0f}x faster than the loop"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
