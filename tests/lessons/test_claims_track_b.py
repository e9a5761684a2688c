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
    # The take-aways, from the same run.
    assert (b1["epochs"], len(b1["train_set"])) == (10, 10_000)
    says(B1, "ten passes over 10,000 examples recover $w = 2$ and $b \\approx 1$")


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


def test_b1_ten_full_batch_steps_against_ten_epochs_of_sgd() -> None:
    """The full-batch section: ten full-batch steps (the work of ten epochs) fit w but leave b
    near 0, while the script's SGD brings b near 1; the prediction's answer is "near 0"."""
    ns, _ = run_lesson(B1, only=("script", "every-rate", "full-batch"), solve=("full-batch",))
    train_set, epochs, rate = ns["train_set"], ns["epochs"], ns["learning_rate"]
    assert (len(train_set), len(ns["eval_set"]), epochs, rate) == (10_000, 100, 10, 0.0001)
    says(B1, "(with the 10,000 training examples, 10,000 times)")
    says(B1, "SGD takes 10,000 rougher steps per epoch")
    says(B1, "its training loss over 10,000 examples beside its eval loss over 100")
    says(B1, f"The script's ten epochs made {epochs * len(train_set):,} of them.")
    w = b = 0.0
    for _ in range(epochs):
        w, b = ns["full_batch_step"](w, b, train_set, rate)
    loss = ns["mean_loss"](w, b)
    says(
        B1,
        f"Ten full-batch steps bring $w$ to about ${w:.3f}$ but leave $b$ at about ${b:.3f}$, "
        f"with a mean loss of about ${loss:.2f}$",
    )
    assert abs(b) < abs(b - 1)  # the prediction: "near 0"
    sgd_loss = ns["mean_loss"](ns["w"], ns["b"])
    assert sgd_loss < 1e-5
    says(B1, f"reached $b \\approx {ns['b']:.2f}$ and a mean loss below $10^{{-5}}$")
    # ten thousand full-batch steps, vectorised: the same step as the lesson's solution
    pairs = np.asarray(train_set, dtype=np.float64)
    x, t = pairs[:, 0], pairs[:, 1]

    def step(w: float, b: float) -> tuple[float, float]:
        e = w * x + b - t
        return w - rate * float(np.mean(2 * e * x)), b - rate * float(np.mean(2 * e))

    assert np.allclose(step(0.3, 0.1), ns["full_batch_step"](0.3, 0.1, train_set, rate))
    w = b = 0.0
    for _ in range(10_000):
        w, b = step(w, b)
    says(B1, f"Even 10,000 full-batch steps leave $b$ at about ${b:.2f}$")


def test_b2_autograd_claims() -> None:
    ns, _printed = run_lesson(B2, only=("setup", "one-example", "piling-up"))
    x, t = ns["train_set"][0]
    first_loss = (0 * x + 0 - t) ** 2
    assert 5_000 < first_loss < 20_000  # "a loss near ten thousand"
    says(B2, "The very first example has a loss near ten thousand")
    assert ns["doubled_grad"] == pytest.approx(2 * ns["first_grad"])  # the prediction: "twice"
