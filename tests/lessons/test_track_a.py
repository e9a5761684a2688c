"""Track A in real sandboxed kernels: the source-style program of A13 trains with Play from its
own w and b (issue 10, item 8), the training plot says what it called when it cannot adapt,
A12's sweep marks 2/λ from the data, and A4 draws each neuron under the sum."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.content.model import Catalogue, Lesson
from app.protocol import Array, KEvaluated, KTrain
from app.supervisor import Kernel
from tests.lessons.harness import KernelService


def lesson(catalogue: Catalogue, slug: str) -> Lesson:
    found = catalogue.get(slug)
    assert found is not None, slug
    return found


def array(arr: Array) -> np.ndarray:
    return np.frombuffer(arr.data, dtype="<f8").reshape(arr.shape)


def train(
    kernels: KernelService, kernel: Kernel, les: Lesson, plot: str, n: int, reset: bool = False
) -> KEvaluated:
    p = les.plots[plot]  # type: ignore[index]
    request = KTrain(next(kernels.ids), p.id, p.kind, p.options, n, reset)
    reply = kernels.call(kernel.request(request, 10.0, "the limit"))
    assert isinstance(reply, KEvaluated)
    return reply


@pytest.fixture
def a13(kernels: KernelService, catalogue: Catalogue) -> Any:
    les = lesson(catalogue, "gradient-descent")
    kernel = kernels.kernel()
    for reply in kernels.run_lesson(kernel, les):
        assert reply.ok, reply.error
    yield les, kernel
    kernels.release(kernel)


def test_a13_source_style_program_trains_from_its_own_start(
    kernels: KernelService, a13: Any
) -> None:
    les, kernel = a13
    solution = les.exercises["loop"].solution  # type: ignore[index]
    assert kernels.run(kernel, les.cells["loop"].code + "\n" + solution).ok  # type: ignore[index]
    first = kernels.evaluate(kernel, les, "descent")
    assert first.error == ""
    assert (first.scalars["w"], first.scalars["b"]) == (1.0, 0.0)  # the program's own start
    assert "grad_w" in first.scalars  # gradient() with no inputs was called at (w, b)
    frame = train(kernels, kernel, les, "descent", 5)
    assert frame.error == "" and frame.scalars["iteration"] == 5
    for _ in range(40):
        frame = train(kernels, kernel, les, "descent", 100)
    assert frame.scalars["iteration"] == 4005
    assert abs(frame.scalars["w"] - 0.594) < 1e-3 and abs(frame.scalars["b"] - 0.222) < 5e-3
    again = train(kernels, kernel, les, "descent", 0, reset=True)
    assert (again.scalars["w"], again.scalars["b"]) == (1.0, 0.0)
    # a new start in the program, after a Run, is where Reset goes
    assert kernels.run(kernel, "w, b = -1.0, 3.0").ok
    assert kernels.evaluate(kernel, les, "descent").scalars["w"] == -1.0
    moved = train(kernels, kernel, les, "descent", 3)
    assert moved.scalars["w"] != -1.0
    assert train(kernels, kernel, les, "descent", 0, reset=True).scalars["b"] == 3.0


def test_a13_an_unfinished_loop_is_worded(kernels: KernelService, a13: Any) -> None:
    les, kernel = a13
    assert kernels.evaluate(kernel, les, "descent").error == ""
    frame = train(kernels, kernel, les, "descent", 5)
    assert "The plot called `train(5)`, but `w` and `b` did not change" in frame.error
    assert "global w, b" in frame.error


def test_a13_pure_update_and_unusable_signatures(kernels: KernelService, a13: Any) -> None:
    les, kernel = a13
    pure = (
        "def update(w, b):\n"
        "    dw, db = gradient()\n"
        "    return w - learning_rate * dw, b - learning_rate * db\n"
        "def train(n):\n"
        "    for _ in range(n):\n"
        "        update(w, b)\n"
    )
    assert kernels.run(kernel, pure).ok
    kernels.evaluate(kernel, les, "descent")
    frame = train(kernels, kernel, les, "descent", 5)
    assert "did not change" in frame.error  # train() throws the returned values away
    assert kernels.run(kernel, "def train(n):\n    global w, b\n    for _ in range(n):\n"
                       "        w, b = update(w, b)\n").ok  # fmt: skip
    kernels.evaluate(kernel, les, "descent")
    assert train(kernels, kernel, les, "descent", 5).error == ""
    assert kernels.run(kernel, "def gradient(a, c, d):\n    return 0, 0\n").ok
    shown = kernels.evaluate(kernel, les, "descent")
    assert "`gradient` takes (a, c, d)" in shown.error and "`gradient(w, b)`" in shown.error


def test_a12_sweep_marks_the_edge_from_the_data(
    kernels: KernelService, catalogue: Catalogue
) -> None:
    les = lesson(catalogue, "a-step-downhill")
    kernel = kernels.kernel()
    try:
        for reply in kernels.run_lesson(kernel, les):
            assert reply.ok, reply.error
        solution = les.exercises["one-step"].solution  # type: ignore[index]
        assert kernels.run(kernel, solution).ok
        sweep = kernels.evaluate(kernel, les, "sweep")
        assert sweep.error == ""
        assert abs(sweep.scalars["edge"] - 2 / 210.40306509) < 1e-6
        rates, losses = array(sweep.arrays["rates"]), array(sweep.arrays["losses"])
        below = losses[rates < 0.95 * sweep.scalars["edge"]]
        assert np.all((below >= 0) & (below < sweep.scalars["start_loss"]))
        assert sweep.scalars["rate"] == 0.01  # the learner's rate, beyond the edge: it grew
        assert sweep.scalars["rate_loss"] > 1e6 * sweep.scalars["start_loss"]
        steps = kernels.evaluate(kernel, les, "steps")  # the sweep left w and b alone
        assert (steps.scalars["w"], steps.scalars["b"]) == (0.0, 0.0)
    finally:
        kernels.release(kernel)


def test_a4_each_neuron_is_drawn_under_the_sum(
    kernels: KernelService, catalogue: Catalogue
) -> None:
    les = lesson(catalogue, "neurons-and-networks")
    kernel = kernels.kernel()
    try:
        for reply in kernels.run_lesson(kernel, les):
            assert reply.ok, reply.error
        four = kernels.evaluate(kernel, les, "four-neurons")
        assert four.error == ""
        parts, ys = array(four.arrays["parts"]), array(four.arrays["ys"])
        assert parts.shape == (4, ys.size) and np.allclose(parts.sum(axis=0), ys)
        for j in range(4):  # each neuron's switch (half its height) is inside the window
            half = np.abs(parts[j] - parts[j][0]) / abs(parts[j][-1] - parts[j][0])
            assert half.min() < 0.5 < half.max(), j
    finally:
        kernels.release(kernel)
