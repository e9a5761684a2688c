"""Every number the track B lessons state, computed from the lessons' own code and data
(issue 10): B1 linear regression by SGD, B2 autograd."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.lessons.claims import run_lesson, says

B1, B2 = "linear-regression-by-sgd", "autograd"


@pytest.fixture(scope="module")
def b1() -> dict[str, Any]:
    ns, _ = run_lesson(B1, only=("script", "sweep", "every-rate"))
    return ns


def test_b1_the_script_recovers_the_line(b1: dict[str, Any]) -> None:
    assert f"{b1['w']:.3f}" == "2.000"
    says(B1, "$w$ is $2.000$ to three decimals, $b$ is just short of $1$")
    assert 0.98 < b1["b"] < 1
    assert 1e-6 < b1["eval_loss"] < 1e-5  # "a few millionths"
    says(B1, "the eval loss is a few millionths")
    assert b1["parameters"]["w"][1] > 2  # "reaches 2 within the first epoch, and even overshoots"
    says(B1, "$w$ reaches $2$ within the first epoch, and even overshoots a little")


def test_b1_the_edge_of_the_rate_slider(b1: dict[str, Any]) -> None:
    per_epoch = b1["loss_per_epoch"]
    at_24, at_25 = per_epoch(2.4)["training loss"], per_epoch(2.5)["training loss"]
    assert len(at_24) == 10 and at_24[-1] < 1e-12
    assert len(at_25) < 10
    says(B1, "at 2.4 the last epoch's loss is below $10^{-12}$. Then, between 2.4 and 2.5")
    assert len(per_epoch(3)["training loss"]) < 10  # the prediction's answer
    xs = np.array([x for x, _ in b1["train_set"]], dtype=float)
    assert xs.max() == 99
    flip = 1 / (xs.max() ** 2 + 1) / 1e-4  # one step's factor 1 - 2·rate·(x² + 1) reaches -1
    says(B1, f"Already at {flip:.2f} on the slider a step on an $x = 99$ example")
    says(B1, f"about half of {flip:.2f}: between {flip / 2:.2f} and {flip:.2f}")
    curvature = np.linalg.eigvalsh(
        2 * np.array([[np.mean(xs * xs), np.mean(xs)], [np.mean(xs), 1.0]])
    ).max()
    says(B1, f"lies at about {2 / curvature / 1e-4:.2f}")


def test_b1_the_safe_rate_answer_is_what_one_step_does() -> None:
    rng = np.random.default_rng(0)
    for x in (1.0, 7.0, 99.0):
        w, b, t = rng.normal(size=3)
        rate = 1 / (2 * (x**2 + 1))
        error = w * x + b - t
        w2, b2 = w - rate * 2 * error * x, b - rate * 2 * error
        assert abs(w2 * x + b2 - t) < 1e-9 * max(1, abs(error))  # lands exactly on the target


def test_b2_autograd_claims() -> None:
    ns, _printed = run_lesson(B2, only=("setup", "one-example", "piling-up"))
    x, t = ns["train_set"][0]
    first_loss = (0 * x + 0 - t) ** 2
    assert 5_000 < first_loss < 20_000  # "a loss near ten thousand"
    says(B2, "The very first example has a loss near ten thousand")
    assert ns["doubled_grad"] == pytest.approx(2 * ns["first_grad"])  # the prediction: "twice"
