"""Every number the track E lessons state, computed from the lessons' own code and data
(issue 10): E1 batches and the GPU, E2 data-parallel training."""

from __future__ import annotations

import itertools

import numpy as np
import torch

from app.content.loader import load_catalogue
from app.content.model import CellId
from tests.lessons.claims import LESSONS, run_lesson, says

E1, E2 = "batches-and-the-gpu", "data-parallel-training"


def _full_batch(x: np.ndarray, t: np.ndarray, rate: float, steps: int) -> list[float]:
    w = b = 0.0
    losses = []
    for _ in range(steps + 1):
        e = w * x + b - t
        losses.append(float(np.mean(e * e)))
        w, b = w - rate * 2 * np.mean(e * x), b - rate * 2 * np.mean(e)
    return losses


def test_e1_the_full_batch_edge_is_about_0_000307() -> None:
    ns, printed = run_lesson(E1, only=("device", "data", "edge"))
    x, t = ns["X"].double().numpy(), ns["T"].double().numpy()
    curvature = np.linalg.eigvalsh(
        2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    ).max()
    says(
        E1, f"about {curvature:.0f}, and $2/{curvature:.0f}$ puts the edge near {2 / curvature:.6f}"
    )
    assert f"{2 / curvature:.6f}" in printed["edge"]
    at_3 = _full_batch(x, t, 0.0003, 10)
    assert at_3[-1] < at_3[0]  # at 0.0003 the loss falls
    says(
        E1, f"from about {round(at_3[0], -2):,.0f} to about {round(at_3[-1], -2):,.0f} in ten steps"
    )
    at_31 = _full_batch(x, t, 0.00031, 10)
    assert all(b > a for a, b in itertools.pairwise(at_31))
    at_4 = _full_batch(x, t, 0.0004, 10)
    assert at_4[-1] / at_4[0] > 10_000
    says(E1, "at 0.0004 the loss grows more than ten thousand-fold in ten steps")


def test_e1_the_runs_and_their_steps() -> None:
    """The training section: the step counts the prose gives, the ranking of b that the
    prediction asks for, and the measurement's own settings. The training cell holds no
    timing code: the stopwatch cell (read-only) adds the seconds."""
    ns, printed = run_lesson(E1, skip=("timing", "edge"))
    lesson = load_catalogue(LESSONS / E1).get(E1)
    assert lesson is not None
    training = lesson.cells[CellId("training")].code
    for plumbing in ("time.", "wait()", "perf_counter", "synchronize"):
        assert plumbing not in training, plumbing
    assert not lesson.cells[CellId("stopwatch")].editable
    runs = ns["runs"]
    steps = {name: len(r[0]) * per_epoch for name, (per_epoch, r) in runs.items()}
    assert list(steps.values()) == [100_000, 1_000, 10]
    says(E1, "100,000 for the plain loop, 1,000 with batches of 100, and 10 for the full batch")
    assert all(len(r) == 4 and r[3] > 0 for _, r in runs.values())  # losses, w, b, seconds
    b_ends = {name: r[2] for name, (_, r) in runs.items()}
    assert min(b_ends, key=lambda n: abs(b_ends[n] - 1)) == "one at a time (plain Python)"
    assert all(abs(r[1] - 2) < 0.05 for _, r in runs.values())  # "Every run gets w near 2"
    for name in runs:
        assert name in printed["training"]
    assert (len(ns["X"]), len(ns["X_eval"])) == (10_000, 100)
    says(E1, "The same 10,000 training and 100 evaluation examples")
    # the timing cell (skipped here: it measures for seconds) states its settings in its code
    timing = lesson.cells[CellId("timing")].code
    assert "batch_sizes = [1, 10, 100, 1000, 10_000]" in timing
    assert [round(np.log10(size)) for size in (1, 10_000)] == [0, 4]
    says(E1, "0 is one example per step, 4 is all 10,000")
    assert "def seconds_per_step(batch_size, steps=200, repeats=3):" in timing
    says(E1, "we time 200 calls of `batch_step` on consecutive batches and keep the best of three")


def test_e2_unequal_shards_and_the_missing_division() -> None:
    ns, _ = run_lesson(E2, only=("data", "shard"))
    gradient, x, t = ns["gradient"], ns["X"], ns["T"]
    zero = torch.tensor(0.0, dtype=torch.float64)
    xs, ts = x[:10], t[:10]
    shards = [(xs[r::4], ts[r::4]) for r in range(4)]
    assert [len(s) for s, _ in shards] == [3, 3, 2, 2]
    says(E2, "split over four workers as 3, 3, 2 and 2")
    plain = sum(gradient(zero, zero, sx, st) for sx, st in shards) / 4
    full = gradient(zero, zero, xs, ts)
    weighted = sum(len(sx) * gradient(zero, zero, sx, st) for sx, st in shards) / 10
    assert torch.allclose(weighted, full)
    says(E2, f"about $({plain[0]:.0f}, {plain[1]:.0f})$")
    says(E2, f"is $({full[0]:.0f}, {full[1]:.0f})$")
    xf = x.numpy()
    curvature = np.linalg.eigvalsh(
        2 * np.array([[np.mean(xf * xf), np.mean(xf)], [np.mean(xf), 1.0]])
    ).max()
    says(E2, f"this data's limit of about {2 / curvature:.6f}")
    w, _ = ns["train_single"](x, t, rate=4 * ns["LEARNING_RATE"])
    mantissa, exponent = f"{w:.1e}".split("e")
    says(E2, f"$w$ is near ${mantissa} \\times 10^{{{int(exponent)}}}$")
