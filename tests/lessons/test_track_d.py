"""Track D (the training loop and networks), run in real sandboxed kernels: the results each lesson
claims come out of its own code, and every exercise names the common mistakes."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from app.content.model import Catalogue, CellId, ExerciseId, Lesson
from app.protocol import Array
from app.supervisor import Kernel
from tests.lessons.harness import KernelService


def as_array(arr: Array) -> np.ndarray:
    return np.frombuffer(arr.data, dtype="<f8").reshape(arr.shape)


@pytest.fixture
def lesson_kernel(
    request: pytest.FixtureRequest, catalogue: Catalogue, kernels: KernelService
) -> Iterator[tuple[Lesson, Kernel]]:
    """A kernel that has run every cell of the lesson named by the test's `slug` parameter."""
    lesson = catalogue.get(request.param)
    assert lesson is not None, request.param
    kernel = kernels.kernel()
    try:
        for reply in kernels.run_lesson(kernel, lesson):
            assert reply.ok, reply.error
        yield lesson, kernel
    finally:
        kernels.release(kernel)


def value(kernels: KernelService, kernel: Kernel, expression: str) -> Any:
    """The value of a Python expression in the kernel (numbers, lists and tuples of them)."""
    reply = kernels.run(kernel, f"print(repr(({expression})))")
    assert reply.ok, reply.error
    return ast.literal_eval(reply.stdout.strip())


# ---------------------------------------------------------------------------- results


@pytest.mark.parametrize("lesson_kernel", ["a-digit-classifier"], indirect=True)
def test_digit_classifier_is_well_above_90_percent_on_held_out_digits(
    lesson_kernel: tuple[Lesson, Kernel], kernels: KernelService
) -> None:
    lesson, kernel = lesson_kernel
    cells = {cid: lesson.cells[CellId(cid)].code for cid in ("linear", "network")}
    out = {cid: kernels.run(kernel, code, cid).stdout for cid, code in cells.items()}
    linear = re.search(r"linear model, test accuracy after \d+ epochs: ([\d.]+) %", out["linear"])
    network = re.search(r"network, test accuracy after \d+ epochs: ([\d.]+) %", out["network"])
    assert linear and network, out
    assert float(linear.group(1)) > 90 and float(network.group(1)) > 90
    # The split really holds images out: no test image is also a training image.
    overlap = "sum(bool((X_train == t).all(dim=1).any()) for t in X_test)"
    assert value(kernels, kernel, overlap) == 0
    assert value(kernels, kernel, "len(X_test), len(X_train)") == (108, 254)


@pytest.mark.parametrize("lesson_kernel", ["networks-as-composition"], indirect=True)
def test_landscape_centre_is_the_trained_networks_plain_loss(
    lesson_kernel: tuple[Lesson, Kernel], kernels: KernelService
) -> None:
    lesson, kernel = lesson_kernel
    reply = kernels.evaluate(kernel, lesson, "landscape")
    assert reply.error == ""
    plain = value(kernels, kernel, "loss_fn(model(X), Y).item()")
    assert reply.scalars["centre"] == pytest.approx(plain, rel=1e-5, abs=1e-9)
    z = as_array(reply.arrays["z"])
    assert z.shape == (41, 41)
    assert z.min() >= plain - 1e-6  # the trained weights sit at the bottom of this slice


@pytest.mark.parametrize("lesson_kernel", ["networks-as-composition"], indirect=True)
def test_more_hidden_neurons_fit_the_two_bumps(
    lesson_kernel: tuple[Lesson, Kernel], kernels: KernelService
) -> None:
    lesson, kernel = lesson_kernel
    small = kernels.evaluate(kernel, lesson, "fit", {"hidden": 1})
    large = kernels.evaluate(kernel, lesson, "fit", {"hidden": 8})
    assert small.error == large.error == ""
    assert (
        small.scalars["readout:loss of the fit"]
        > 0.02
        > 0.001
        > large.scalars["readout:loss of the fit"]
    )


@pytest.mark.parametrize("lesson_kernel", ["the-seven-steps"], indirect=True)
def test_seven_step_loop_approaches_the_least_squares_parabola(
    lesson_kernel: tuple[Lesson, Kernel], kernels: KernelService
) -> None:
    _, kernel = lesson_kernel
    ours = np.array(value(kernels, kernel, "params.tolist()"))
    fit = "__import__('numpy').polyfit(times[~held].numpy(), heights[~held].numpy(), 2).tolist()"
    best = np.array(value(kernels, kernel, fit))
    assert np.allclose(ours, best, atol=0.2), (ours, best)
    first, last, epochs = value(kernels, kernel, "losses[0], losses[-1], len(losses)")
    assert last < first / 100 and epochs == 2000


@pytest.mark.parametrize("lesson_kernel", ["activations-and-parameters"], indirect=True)
def test_xor_network_learns_and_only_computed_numbers_move(
    lesson_kernel: tuple[Lesson, Kernel], kernels: KernelService
) -> None:
    lesson, kernel = lesson_kernel
    assert value(kernels, kernel, "[round(v) for v in output[:, 0].tolist()]") == [0, 1, 1, 0]
    start = kernels.evaluate(kernel, lesson, "activations", {"epoch": 0})
    end = kernels.evaluate(kernel, lesson, "activations", {"epoch": 1500})
    names = start.texts["names"]
    assert start.error == end.error == ""
    for i, name in enumerate(names):
        same = np.allclose(as_array(start.arrays[f"img{i}"]), as_array(end.arrays[f"img{i}"]))
        assert same == (name in ("input x", "target Y")), name
    params = kernels.evaluate(kernel, lesson, "parameters", {"epoch": 1500})
    assert params.error == "" and params.scalars["readout:loss at this epoch"] < 0.01


# ---------------------------------------------------------------------------- exercises

D1_LOOP_HEAD = """
def train(lr=0.1, max_epochs=2000):
    params = torch.zeros(3, requires_grad=True)
    losses, held_out = [], []
    for epoch in range(max_epochs):
        a, b, c = params
        predicted = a * times**2 + b * times + c
        loss = ((predicted[~held] - heights[~held]) ** 2).mean()
        losses.append(loss.item())
        held_out.append(((predicted[held] - heights[held]) ** 2).mean().item())
        loss.backward()
        with torch.no_grad():
"""

MISTAKES = [
    # (lesson, exercise, code run in the exercise's cell, words the message must contain)
    ("the-seven-steps", "stop", "", "stop rule never fired"),
    (
        "the-seven-steps",
        "stop",
        D1_LOOP_HEAD
        + """            params -= lr * params.grad
        if len(held_out) > 1 and held_out[-1] > held_out[-2]:
            break
    return params.detach(), losses, held_out
""",
        "gradients are not zeroed",
    ),
    (
        "the-seven-steps",
        "stop",
        D1_LOOP_HEAD
        + """            params -= lr * params.grad
            params.grad.zero_()
        if len(held_out) > 1 and held_out[-1] < held_out[-2]:
            break
    return params.detach(), losses, held_out
""",
        "wrong way round",
    ),
    (
        "a-digit-classifier",
        "report",
        "def digit_accuracy(model, digit):\n"
        "    mine = y_train == (1.0 if digit == 7 else 0.0)\n"
        "    return accuracy(model(X_train[mine]), y_train[mine])\n",
        "*training* images",
    ),
    (
        "a-digit-classifier",
        "report",
        "def digit_accuracy(model, digit):\n"
        "    mine = y_test == digit\n"
        "    return accuracy(model(X_test[mine]), y_test[mine])\n",
        "returned nan",
    ),
    (
        "a-digit-classifier",
        "report",
        "def digit_accuracy(model, digit):\n    return accuracy(model(X_test), y_test)\n",
        "for both digits",
    ),
    ("activations-and-parameters", "forward", "", "hidden layer has no sigmoid"),
    (
        "activations-and-parameters",
        "forward",
        "def forward(x, W1, b1, W2, b2):\n"
        "    hidden = torch.sigmoid(x @ W1 + b1)\n"
        "    return hidden, torch.sigmoid(hidden @ W2.T + b2)\n",
        "multiply `x @ W1.T`",
    ),
    (
        "activations-and-parameters",
        "forward",
        "def forward(x, W1, b1, W2, b2):\n"
        "    hidden = torch.sigmoid(x @ W1.T + b1)\n"
        "    return hidden, torch.sigmoid(torch.sigmoid(hidden @ W2.T + b2))\n",
        "applied twice at the output",
    ),
    ("networks-as-composition", "compose", "", "one row per hidden neuron"),
    (
        "networks-as-composition",
        "compose",
        "def network(x, W1, W2, W3):\n"
        "    return torch.sigmoid(layer(W3, layer(W2, layer(W1, x))))\n",
        "applied twice at the end",
    ),
    (
        "networks-as-composition",
        "compose",
        "def network(x, W1, W2, W3):\n    return layer(W3, W2 @ layer(W1, x))\n",
        "middle σ is missing",
    ),
]


@pytest.mark.parametrize(
    ("slug", "exercise", "code", "words"),
    MISTAKES,
    ids=[f"{m[0]}-{m[3][:24]}" for m in MISTAKES],
)
def test_exercise_names_the_mistake(
    slug: str, exercise: str, code: str, words: str, catalogue: Catalogue, kernels: KernelService
) -> None:
    lesson = catalogue.get(slug)
    assert lesson is not None
    ex = lesson.exercises[ExerciseId(exercise)]
    kernel = kernels.kernel()
    try:
        for reply in kernels.run_lesson(kernel, lesson):
            assert reply.ok, reply.error
        if code:
            reply = kernels.run(kernel, code, ex.cell)
            assert reply.ok, reply.error
        verdict = kernels.check(kernel, lesson, exercise)
        assert not verdict.passed
        assert words in verdict.message, verdict.message
    finally:
        kernels.release(kernel)
