"""Track B lessons, run in real sandboxed kernels: the results the lessons show are computed and
right (B1's SGD run recovers w = 2, b = 1; B2's autograd gradient is the hand formula; B3's
vectorised epoch is orders of magnitude faster than one example at a time), and every exercise
answers a typical mistake with its targeted message."""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Iterator
from typing import Any

import pytest

from app.content.model import Catalogue, Lesson
from app.supervisor import Kernel
from tests.lessons.harness import KernelService

Loaded = tuple[Kernel, Lesson, dict[str, str]]


def _load(kernels: KernelService, catalogue: Catalogue, slug: str) -> Iterator[Loaded]:
    """A kernel that has run every cell of the lesson, and each cell's printed output."""
    lesson = catalogue.get(slug)
    assert lesson is not None, f"lesson {slug} is missing"
    kernel = kernels.kernel()
    try:
        outputs = {}
        for cell in lesson.cells.values():
            reply = kernels.run(kernel, cell.code, cell.id)
            assert reply.ok, f"{slug}/{cell.id}: {reply.error}"
            outputs[cell.id] = reply.stdout
        yield kernel, lesson, outputs
    finally:
        kernels.release(kernel)


@pytest.fixture(scope="module")
def b1(kernels: KernelService, catalogue: Catalogue) -> Iterator[Loaded]:
    yield from _load(kernels, catalogue, "linear-regression-by-sgd")


@pytest.fixture(scope="module")
def b2(kernels: KernelService, catalogue: Catalogue) -> Iterator[Loaded]:
    yield from _load(kernels, catalogue, "autograd")


@pytest.fixture(scope="module")
def b3(kernels: KernelService, catalogue: Catalogue) -> Iterator[Loaded]:
    yield from _load(kernels, catalogue, "batches-and-the-gpu")


def _json(kernels: KernelService, kernel: Kernel, expression: str) -> Any:
    """Evaluate an expression in the learner's namespace and bring it back as JSON."""
    reply = kernels.run(kernel, f"import json as _json\nprint(_json.dumps({expression}))")
    assert reply.ok, reply.error
    return json.loads(reply.stdout.strip().splitlines()[-1])


def _verdict(kernels: KernelService, loaded: Loaded, exercise: str, code: str) -> tuple[bool, str]:
    """Run `code` as the learner's edit of the exercise's cell, then the exercise's check."""
    kernel, lesson, _ = loaded
    assert lesson.exercises is not None
    reply = kernels.run(kernel, code, lesson.exercises[exercise].cell)
    assert reply.ok, reply.error
    checked = kernels.check(kernel, lesson, exercise)
    return checked.passed, checked.message


def _reference_sgd(epochs: int = 10, rate: float = 0.0001) -> tuple[float, float, float]:
    """B1's run, computed here independently from the lesson's stated recipe."""
    rng = random.Random(0)
    train = [(x, 2.0 * x + 1.0) for x in [rng.randrange(100) for _ in range(10_000)]]
    held = [(x, 2.0 * x + 1.0) for x in [rng.randrange(100) for _ in range(100)]]
    w = b = 0.0
    for _ in range(epochs):
        for x, t in train:
            error = w * x + b - t
            w, b = w - rate * 2 * error * x, b - rate * 2 * error
    return w, b, sum((w * x + b - t) ** 2 for x, t in held) / len(held)


# ---------------------------------------------------------------------------- B1


EPOCH_LINE = re.compile(
    r"epoch\s+(\d+)\s+w = (\S+)\s+b = (\S+)\s+training loss = (\S+)\s+eval loss = (\S+)"
)


def test_b1_sgd_run_recovers_the_line(b1: Loaded, kernels: KernelService) -> None:
    kernel, _, outputs = b1
    lines = EPOCH_LINE.findall(outputs["script"])
    assert [int(e) for e, *_ in lines] == list(range(1, 11)), outputs["script"]
    _, w_text, b_text, _, eval_text = lines[-1]
    assert abs(float(w_text) - 2) < 0.01
    assert abs(float(b_text) - 1) < 0.05
    assert float(eval_text) < 1e-3

    got = _json(kernels, kernel, "{'w': w, 'b': b, 'eval': eval_loss, 'history': history}")
    assert abs(got["w"] - 2) < 0.01 and abs(got["b"] - 1) < 0.05 and got["eval"] < 1e-3
    evals = got["history"]["eval loss"]
    assert len(evals) == 10 and evals[-1] == got["eval"]
    assert all(later < earlier for earlier, later in itertools.pairwise(evals))
    w, b, eval_loss = _reference_sgd()
    assert got["w"] == pytest.approx(w, rel=1e-12)
    assert got["b"] == pytest.approx(b, rel=1e-12)
    assert got["eval"] == pytest.approx(eval_loss, rel=1e-9)


def test_b1_learning_rate_slider_crawls_and_blows_up(b1: Loaded, kernels: KernelService) -> None:
    kernel, lesson, _ = b1
    curves = _json(
        kernels,
        kernel,
        "{str(r): loss_per_epoch(r)['training loss'] for r in (0.1, 1, 2, 3)}",
    )
    assert len(curves["0.1"]) == len(curves["1"]) == len(curves["2"]) == 10
    assert curves["0.1"][-1] > curves["1"][-1] > curves["2"][-1]
    assert curves["1"] == pytest.approx(_json(kernels, kernel, "history['training loss']"))
    assert len(curves["3"]) < 10, "the largest rate on the slider should blow up"
    for rate in (0.1, 3):
        reply = kernels.evaluate(kernel, lesson, "rate-sweep", {"rate": rate})
        assert reply.error == "", reply.error


FULL_BATCH = """
def full_batch_step(w, b, points, learning_rate):
    n = len(points)
    dw = sum({dw} for x, t in points) / n
    db = sum({db} for x, t in points) / n
    return {result}
"""
FULL_BATCH_MISTAKES = [
    ("2 * (w * x + b - t) * x", "2 * (w * x + b - t)", "w, b", "unchanged"),
    (
        "2 * (t - w * x - b) * x",
        "2 * (t - w * x - b)",
        "w - learning_rate * dw, b - learning_rate * db",
        "climbs",
    ),
    (
        "2 * (w * x + b - t) * x",
        "2 * (w * x + b - t)",
        "w - learning_rate * dw * n, b - learning_rate * db * n",
        "n times too long",
    ),
    (
        "2 * (w * x + b - t)",
        "2 * (w * x + b - t)",
        "w - learning_rate * dw, b - learning_rate * db",
        "missing the factor x",
    ),
    ("2 * (w * x + b - t) * x", "2 * (w * x + b - t)", "dw, db", "slopes themselves"),
]


@pytest.mark.parametrize(("dw", "db", "result", "message"), FULL_BATCH_MISTAKES)
def test_b1_full_batch_exercise_names_the_mistake(
    b1: Loaded, kernels: KernelService, dw: str, db: str, result: str, message: str
) -> None:
    code = FULL_BATCH.format(dw=dw, db=db, result=result)
    passed, said = _verdict(kernels, b1, "full-batch", code)
    assert not passed
    assert message in said


def test_b1_full_batch_exercise_starts_unsolved(b1: Loaded, kernels: KernelService) -> None:
    _, lesson, _ = b1
    passed, said = _verdict(kernels, b1, "full-batch", lesson.cells["full-batch"].code)
    assert not passed and "unchanged" in said


def test_b1_full_batch_exercise_accepts_a_mean_written_differently(
    b1: Loaded, kernels: KernelService
) -> None:
    code = (
        "def full_batch_step(w, b, points, learning_rate):\n"
        "    import statistics\n"
        "    dw = statistics.fmean(2 * (w * x + b - t) * x for x, t in points)\n"
        "    db = statistics.fmean(2 * (w * x + b - t) for x, t in points)\n"
        "    return w - learning_rate * dw, b - learning_rate * db\n"
    )
    passed, said = _verdict(kernels, b1, "full-batch", code)
    assert passed, said


# ---------------------------------------------------------------------------- B2


def test_b2_autograd_gradient_equals_the_hand_formula(b2: Loaded, kernels: KernelService) -> None:
    kernel, _, outputs = b2
    worst = _json(
        kernels,
        kernel,
        "(lambda rng: max("
        "  abs(a - h) / max(abs(h), 1e-12)"
        "  for _ in range(300)"
        "  for x, t, w0, b0 in [(rng.randrange(100), rng.uniform(-300, 300),"
        "                        rng.uniform(-5, 5), rng.uniform(-5, 5))]"
        "  for a, h in zip(autograd_gradient(x, t, w0, b0),"
        "                  (2 * (w0 * x + b0 - t) * x, 2 * (w0 * x + b0 - t)))"
        "))(random.Random(42))",
    )
    assert worst <= 1e-6
    printed = re.search(r"largest relative difference: (\S+)", outputs["gradient-check"])
    assert printed is not None and float(printed.group(1)) <= 1e-6
    rows = re.findall(r"\|\s+(\S+)\s+(\S+)\s+\|\s+(\S+)\s+(\S+)", outputs["gradient-check"])
    assert len(rows) >= 5 and all(a == h and c == d for a, h, c, d in rows)


def test_b2_torch_epoch_matches_the_plain_python_epoch(b2: Loaded, kernels: KernelService) -> None:
    kernel, _, _ = b2
    got = _json(kernels, kernel, "[w.item(), b.item(), w_plain, b_plain]")
    assert got[0] == pytest.approx(got[2], rel=1e-12)
    assert got[1] == pytest.approx(got[3], rel=1e-12)
    w, b, _ = _reference_sgd(epochs=1)
    assert got[0] == pytest.approx(w, rel=1e-12) and got[1] == pytest.approx(b, rel=1e-12)


def test_b2_exercise_starts_with_gradients_piling_up(b2: Loaded, kernels: KernelService) -> None:
    _, lesson, _ = b2
    passed, said = _verdict(kernels, b2, "zero-grad", lesson.cells["your-step"].code)
    assert not passed
    assert "adds" in said and "zero_()" in said


AUTOGRAD_STEP = """
def sgd_step(w, b, x, t, learning_rate):
    loss = (w * x + b - t) ** 2
    loss.backward()
{body}
    return loss.item()
"""
AUTOGRAD_MISTAKES = [
    (  # no torch.no_grad()
        "    w -= learning_rate * w.grad\n    b -= learning_rate * b.grad\n"
        "    w.grad.zero_()\n    b.grad.zero_()",
        "torch.no_grad()",
    ),
    (  # a new tensor under the old name
        "    with torch.no_grad():\n        w = w - learning_rate * w.grad\n"
        "        b = b - learning_rate * b.grad\n    w.grad.zero_()\n    b.grad.zero_()",
        "not the w you were given",
    ),
    (  # cleared before the update used them
        "    w.grad.zero_()\n    b.grad.zero_()\n    with torch.no_grad():\n"
        "        w -= learning_rate * w.grad\n        b -= learning_rate * b.grad",
        "cleared before the update",
    ),
    (  # only w's gradient cleared
        "    with torch.no_grad():\n        w -= learning_rate * w.grad\n"
        "        b -= learning_rate * b.grad\n    w.grad.zero_()",
        "b.grad still piles up",
    ),
    (  # climbs
        "    with torch.no_grad():\n        w += learning_rate * w.grad\n"
        "        b += learning_rate * b.grad\n    w.grad = None\n    b.grad = None",
        "uphill",
    ),
]


@pytest.mark.parametrize(("body", "message"), AUTOGRAD_MISTAKES)
def test_b2_exercise_names_the_mistake(
    b2: Loaded, kernels: KernelService, body: str, message: str
) -> None:
    passed, said = _verdict(kernels, b2, "zero-grad", AUTOGRAD_STEP.format(body=body))
    assert not passed
    assert message in said


def test_b2_exercise_accepts_clearing_with_none(b2: Loaded, kernels: KernelService) -> None:
    body = (
        "    with torch.no_grad():\n        w -= learning_rate * w.grad\n"
        "        b -= learning_rate * b.grad\n    w.grad = None\n    b.grad = None"
    )
    passed, said = _verdict(kernels, b2, "zero-grad", AUTOGRAD_STEP.format(body=body))
    assert passed, said


# ---------------------------------------------------------------------------- B3


def test_b3_says_which_device_it_uses(b3: Loaded, kernels: KernelService) -> None:
    kernel, _, outputs = b3
    device = _json(
        kernels,
        kernel,
        "[DEVICE, str(X.device), str(batch_step(*[torch.zeros((), device=DEVICE,"
        " requires_grad=True) for _ in 'wb'], X, T, 0.0).device)]",
    )
    assert device[0] in ("cpu", "cuda")
    assert device[1].startswith(device[0]) and device[2].startswith(device[0])
    assert f"this lesson computes on: {device[0]}" in outputs["device"]
    assert f"device: {device[0]}" in outputs["timing"]


def test_b3_vectorised_epoch_is_orders_of_magnitude_faster(
    b3: Loaded, kernels: KernelService
) -> None:
    kernel, _, outputs = b3
    got = _json(
        kernels,
        kernel,
        "{'sizes': batch_sizes, 'epoch': per_epoch, 'step': per_step, 'plain': plain_seconds}",
    )
    assert got["sizes"] == [1, 10, 100, 1000, 10_000]
    one_at_a_time, full_batch = got["epoch"][0], got["epoch"][-1]
    assert full_batch * 100 < one_at_a_time, got
    assert got["epoch"][2] * 10 < one_at_a_time, got
    assert full_batch < got["plain"], got
    # a step costs about the same whatever the batch size (well under the 10,000x more data)
    assert got["step"][-1] < 50 * got["step"][0], got
    assert "torch, batches of 10000" in outputs["timing"]


def test_b3_training_runs_compare_steps(b3: Loaded, kernels: KernelService) -> None:
    kernel, _, _ = b3
    runs = _json(kernels, kernel, "{n: [s, r[1], r[2], r[0]] for n, (s, r) in runs.items()}")
    plain = runs["one at a time (plain Python)"]
    minibatch, full = runs["batches of 100"], runs["full batch"]
    assert abs(plain[1] - 2) < 0.01 and abs(plain[2] - 1) < 0.05
    assert all(abs(r[1] - 2) < 0.05 for r in (minibatch, full))
    assert plain[3][-1] < minibatch[3][-1] < full[3][-1]
    assert len(minibatch[3]) == len(full[3]) == 10


MINIBATCH_MISTAKES = [
    (  # x and t shuffled separately
        "    bx, bt = torch.randperm(len(X)), torch.randperm(len(X))\n"
        "    return [(X[bx[i:i + batch_size]], T[bt[i:i + batch_size]])\n"
        "            for i in range(0, len(X), batch_size)]",
        "no longer belong",
    ),
    (  # the short batch at the end dropped
        "    order = torch.randperm(len(X))\n"
        "    return [(X[order[i:i + batch_size]], T[order[i:i + batch_size]])"
        " for i in range(0, len(X) - batch_size + 1, batch_size)]",
        "never show up",
    ),
    (  # batches of shape (batch_size, 1)
        "    order = torch.randperm(len(X))\n"
        "    return [(X[order[i:i + batch_size]][:, None], T[order[i:i + batch_size]][:, None])"
        " for i in range(0, len(X), batch_size)]",
        "1-D",
    ),
    (  # random picks with repeats
        "    picks = torch.randint(0, len(X), (len(X),))\n"
        "    return [(X[picks[i:i + batch_size]], T[picks[i:i + batch_size]])\n"
        "            for i in range(0, len(X), batch_size)]",
        "appear twice",
    ),
    (  # single examples, not batches
        "    order = torch.randperm(len(X))\n    return [(X[i], T[i]) for i in order]",
        "single number",
    ),
]


@pytest.mark.parametrize(("body", "message"), MINIBATCH_MISTAKES)
def test_b3_exercise_names_the_mistake(
    b3: Loaded, kernels: KernelService, body: str, message: str
) -> None:
    code = f"def minibatches(X, T, batch_size):\n{body}\n"
    passed, said = _verdict(kernels, b3, "shuffle", code)
    assert not passed
    assert message in said


def test_b3_exercise_starts_unshuffled(b3: Loaded, kernels: KernelService) -> None:
    _, lesson, _ = b3
    passed, said = _verdict(kernels, b3, "shuffle", lesson.cells["batches"].code)
    assert not passed and "order never changes" in said
