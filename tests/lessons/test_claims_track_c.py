"""Every number the track C lessons state, computed from the lessons' own code and data
(issue 10): C1 one dimension to C7 optimizers."""

from __future__ import annotations

import inspect
import math

import numpy as np

from tests.lessons.claims import run_lesson, says

C1, C2, C3, C4 = (
    "one-dimension",
    "valleys-and-starting-points",
    "learning-rate-too-big",
    "checking-a-gradient",
)
C5, C6, C7 = "learning-rate-and-batch-size", "learning-rate-schedules", "optimizers"


def test_c1_the_worked_step() -> None:
    ns, _ = run_lesson(C1, only=("worked", "walking"))
    assert ns["slope"] == -33.75 and ns["w_new"] == -1.46625
    says(C1, "the slope is $-33.75$, and one step with $\\alpha = 0.001$ moves $w$ to $-1.46625$")
    says(C1, f"with $L(2.25) \\approx {ns['L'](2.25):.2f}$")
    assert abs(ns["walk"](200)[-1]) < 0.1 < abs(ns["walk"](200)[-1] - 2.25)  # on the shelf
    assert abs(ns["walk"](200, start=1)[-1] - 2.25) < 1e-6


def test_c2_valleys_and_basins() -> None:
    ns, _ = run_lesson(C2, only=("landscape", "several"))
    end = ns["end_of_walk"]
    floors = sorted({round(float(end(s)), 3) for s in np.linspace(-4.8, 4.8, 97)})
    deepest = min(floors, key=ns["L"])
    says(C2, f"lies near $w \\approx {deepest:.2f}$")
    switch = [s for s in np.arange(0.50, 0.601, 0.01) if end(s) > 1]
    assert switch and end(0.50) < 0 < end(0.60)  # the basin border lies between 0.50 and 0.60
    says(C2, "for example from $0.50$ to $0.60$")
    reach = [s for s in ns["starts"] if abs(end(s) - deepest) < 1e-2]
    assert reach == [-1.2, 0.2]
    says(C2, "Only the starts at $-1.2$ and $0.2$ reach the deepest floor")
    best = min((end(s) for s in [2.4, 3.8, -2.0]), key=ns["L"])
    says(C2, f"it should return about ${best:.2f}$")


def test_c3_behaviours_and_the_edge() -> None:
    ns, _ = run_lesson(C3, only=("bowl",))
    d = ns["descend"]
    assert abs(d(0.3)[12] - 1) < 1e-2  # "at the floor within a dozen"
    assert abs(d(0.02)[-1] - 1) > 0.5  # crawls: still well short
    assert abs(d(0.8)[-1] - 1) < 1e-6 and math.isinf(d(1.3)[-1])
    assert abs(d(0.9)[-1] - 1) < 0.01  # the prediction: 0.9 overshoots but settles
    floor_c = 12 * 2.25**2 - 18 * 2.25
    wall_c = 12 * 3.2**2 - 18 * 3.2
    says(
        C3,
        f"is $12w^2 - 18w = {floor_c:.2f}$, so rates above about "
        f"$2/{floor_c:.2f} \\approx {2 / floor_c:.3f}$",
    )
    says(C3, f"the curvature is ${wall_c:.1f}$ and the safe rate is three times smaller")
    assert round(wall_c / floor_c) == 3


def test_c4_differences_and_the_slip() -> None:
    ns, _printed = run_lesson(C4, solve=("central",))
    w, h = -1.5, 1e-3
    forward = (ns["L"](w + h) - ns["L"](w)) / h
    central = (ns["L"](w + h) - ns["L"](w - h)) / (2 * h)
    assert f"{forward:.1f}" == "-33.7" and f"{forward:.2f}" != "-33.75"  # wrong in the 2nd decimal
    assert f"{central:.5f}" == "-33.75001" and f"{central:.4f}" == "-33.7500"  # the 6th
    digits = {
        k: -math.log10(
            abs(((ns["L"](w + 10.0**-k) - ns["L"](w - 10.0**-k)) / (2 * 10.0**-k) + 33.75) / 33.75)
        )
        for k in range(1, 13)
    }
    assert max(digits, key=digits.__getitem__) == 5 and round(digits[5]) == 10
    # The take-aways: the lesson's checker uses that best step.
    assert inspect.signature(ns["numerical_gradient"]).parameters["h"].default == 10.0**-5
    says(C4, "with $h \\approx 10^{-5}$, measures the gradient using only the loss")
    g = np.array(ns["gradient"](ns["point"]))
    s = np.array(ns["slipped_gradient"](ns["point"]))
    angle = math.degrees(math.acos(g @ s / (np.linalg.norm(g) * np.linalg.norm(s))))
    says(C4, f"(it is about {angle:.0f}° away from the true gradient)")
    p = np.array(ns["point"])
    for _ in range(5000):
        p = p - 0.005 * np.array(ns["slipped_gradient"](list(p)))
    best = np.polyfit([x for x, _ in ns["data"]], [y for _, y in ns["data"]], 1)
    best_loss = ns["loss"](list(best))
    says(
        C4,
        f"it ends near $w = {p[0]:.2f}$, $b = {p[1]:.2f}$, "
        f"with a loss of {ns['loss'](list(p)):.2f}",
    )
    says(C4, f"about {ns['loss'](list(p)) / best_loss:.0f} times the best line's {best_loss:.4f}")


def test_c5_scaling_noise_and_the_limit() -> None:
    ns, printed = run_lesson(C5, solve=("batch-gradient",))
    train = ns["train_epochs"]
    base, doubled, unchanged = train(8, 0.02), train(16, 0.04), train(16, 0.02)
    assert abs(math.log(doubled[-1] / base[-1])) < 0.1  # the first two curves coincide
    caught_up = next(i for i, v in enumerate(base) if v <= unchanged[-1])
    assert 1.6 < (len(base) - 1) / caught_up < 2.4  # "behind by about a factor of two in epochs"
    x, y = ns["x"], ns["y"]
    says(C5, "a rate of 0.4, close to that limit")
    assert "0.42" in printed["limit"]
    assert train(128, 0.4)[-1] > 2 * train(32, 0.1)[-1]  # zigzags down more slowly
    # The noise of one step at (2B, 2α) is about √2 times that at (B, α); per epoch, the same.
    per_example = 2 * (0 * x + 0 - y) * x  # dL/dw of each example at w = b = 0
    rng = np.random.default_rng(0)

    def step_spread(batch: int, rate: float) -> float:
        picks = [rng.choice(len(x), batch, replace=False) for _ in range(20_000)]
        return float(np.std([rate * per_example[i].mean() for i in picks]))

    ratio = step_spread(16, 0.04) / step_spread(8, 0.02)
    assert abs(ratio - math.sqrt(2)) < 0.08
    per_epoch = (
        (len(x) / 16) * step_spread(16, 0.04) ** 2 / ((len(x) / 8) * step_spread(8, 0.02) ** 2)
    )
    assert abs(per_epoch - 1) < 0.1
    says(C5, "$2/\\sqrt 2 = \\sqrt 2$ times *larger*")


def test_c6_the_fast_decay_prediction() -> None:
    ns, _ = run_lesson(C6, only=("schedules", "training"))
    constant = ns["averaged"](lambda t: 0.02)[-1]
    fast = ns["averaged"](lambda t: ns["exponential_decay"](t, 0.02, 0.5))[-1]
    assert constant < fast
    assert ns["exponential_decay"](5, 1.0, 0.5) < 0.1  # below a tenth within five epochs


def test_c7_finishes_thresholds_and_the_momentum_map() -> None:
    ns, printed = run_lesson(C7, skip=("yours",))
    race = ns["race_banana"]

    def sgd_end(rate: float) -> tuple[str, float]:
        paths = race(rate, 0.004, 0.02, 0.1)
        name = next(k for k in paths if k.startswith("SGD"))
        return name, float(np.linalg.norm(np.asarray(paths[name][-1]) - 1))

    ends = {round(r, 3): sgd_end(r) for r in np.arange(0.015, 0.0605, 0.001)}
    assert all(
        ends[round(r, 3)][1] > ends[round(r + 0.001, 3)][1] for r in np.arange(0.015, 0.0235, 0.001)
    )
    assert ends[0.025][1] > 3 * ends[0.024][1]
    says(C7, "A larger rate helps up to $0.024$; at $0.025$ SGD starts to bounce")
    assert "blew up" in ends[0.047][0] and all(
        "blew up" in ends[round(r, 3)][0] for r in np.arange(0.052, 0.0605, 0.001)
    )
    assert not any("blew up" in ends[round(r, 3)][0] for r in np.arange(0.015, 0.0465, 0.001))
    says(C7, "from $0.047$ on most rates blow it up")
    # The map: momentum's edge on the valley (curvature 4 across it) is 2(1 + β)/4.
    finish = ns["momentum_map"]()
    rates, betas = ns["map_rates"], ns["map_betas"]
    for i, beta in enumerate(betas):
        edge = 2 * (1 + beta) / 4
        for j, rate in enumerate(rates):
            if rate < edge - 1e-9:
                assert np.isfinite(finish[i, j]), (beta, rate)
            elif rate > edge * 1.05:
                assert not np.isfinite(finish[i, j]), (beta, rate)
    column = int(np.abs(rates - 0.7).argmin())
    assert np.isfinite(finish[:, column]).any() and not np.isfinite(finish[0, column])
    for line in printed["finish"].split("banana")[1].splitlines()[1:]:
        name, distance = line.split()[0], float(line.split()[-4])
        if name in ("Momentum", "Adam"):
            assert distance < 0.01
