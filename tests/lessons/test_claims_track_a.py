"""Every number the track A lessons state, computed from the lessons' own code and data (issue
10): A1 the line to A13 gradient descent. Each test computes, formats the result the way the
prose states it, and asserts that exact text is in the lesson."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from app.content.loader import load_catalogue
from app.kernel.checks import expression
from tests.lessons.claims import LESSONS, run_lesson, says

DATA = np.array([(1, 0.85), (2, 1.43), (3, 1.92), (4, 2.59), (5, 3.20), (6, 3.82), (7, 4.38),
                 (8, 4.97)])  # fmt: skip


def sigmoid(z: np.ndarray | float) -> np.ndarray:
    return np.asarray(1 / (1 + np.exp(-np.asarray(z, dtype=np.float64))))


def curvature(data: np.ndarray) -> np.ndarray:
    xs = data[:, 0]
    return np.array([[xs @ xs, xs.sum()], [xs.sum(), xs.size]])


def predicted(slug: str, exercise: str, ns: dict[str, Any]) -> Any:
    """The answer a prediction exercise's `truth` formula computes on the lesson's namespace."""
    lesson = load_catalogue(LESSONS / slug).get(slug)
    assert lesson is not None and lesson.exercises is not None, slug
    params = lesson.exercises[exercise].params
    assert params["variable"] and len(params["choices"]) > 1
    return expression(str(params["truth"]), ns)()


def test_every_lesson_uses_the_same_data() -> None:
    for slug in ("fitting-data", "the-loss", "the-loss-landscape", "the-gradient"):
        ns, _ = run_lesson(slug, only=("data",) if slug == "fitting-data" else ("losses", "loss"))
        assert np.array_equal(np.asarray(ns["data"]), DATA), slug


def test_a1_the_target_line() -> None:
    ns, _ = run_lesson("the-line", only=("targets",))
    (x1, y1), (x2, y2) = ns["target_points"]
    w = (y2 - y1) / (x2 - x1)
    assert (w, y2 - w * x2) == (0.5, -3.0)
    says("the-line", f"$({x1}, {y1})$ and $({x2}, {y2})$")
    says("the-line", f"Climbing {y2 - y1} over {x2 - x1} steps is a slope of $w = {w}$")


def test_a2_the_plane_through_three_points() -> None:
    pts = np.array([[0, 0, 3], [2, 1, 6], [-1, 3, -2]], dtype=float)
    w1, w2, b = np.linalg.solve(np.column_stack([pts[:, :2], np.ones(3)]), pts[:, 2])
    assert np.allclose([w1, w2, b], [2, -1, 3])
    says("several-inputs", "the second point says $2w_1 + w_2 = 3$, the third $-w_1 + 3w_2 = -5$")
    assert 2 * w1 + w2 == 6 - b and -w1 + 3 * w2 == -2 - b


def test_a3_the_switch() -> None:
    assert round(float(sigmoid(2)), 2) == 0.88
    says("the-sigmoid", "½ at $x = 3$ and about $0.88$ at $x = 4$")
    assert abs(float(sigmoid(2 * 3 - 6)) - 0.5) < 1e-12


def test_a4_the_networks() -> None:
    ns, _ = run_lesson("neurons-and-networks", only=("network", "four", "mine"))
    wi, b, wo = [0.2, -0.5, 1.9, -0.8], ns["four_b"], [7.2, 9.7, -6.3, -6.3]
    switches = [-bj / wj for wj, bj in zip(wi, b, strict=True)]
    shown = ", ".join(f"${s:.4g}$" for s in switches[:-1]).replace("$-0$", "$0$")
    says("neurons-and-networks", f"which here is {shown} and ${switches[-1]:.4g}$")
    assert all(-15 < s < 15 for s in switches)  # every switch inside the window
    xs = np.linspace(-15, 15, 30001)
    ys = np.asarray(ns["network"](xs, wi, b, wo))
    turns = np.nonzero(np.diff(np.sign(np.diff(ys))))[0] + 1
    (x_dip, y_dip), (x_top, y_top), (x_low, y_low) = [(xs[i], ys[i]) for i in turns]
    says(
        "neurons-and-networks",
        f"dips to about ${y_dip:.1f}$ near $x = {x_dip:.1f}$, recovers a little to ${y_top:.1f}$ "
        f"near $x = {x_top:.1f}$, plunges to about ${y_low:.1f}$ near $x = {x_low:.0f}$",
    )
    assert ys[-1] > y_low + 5  # and climbs again
    two = [-8 / 1.5, 8 / 1.5]
    says("neurons-and-networks", f"near $x = {two[0]:.1f}$")
    says("neurons-and-networks", f"on for $x$ above ${two[1]:.1f}$")
    mine = [-bj / wj for wj, bj in zip(ns["my_wi"], ns["my_b"], strict=True)]
    assert mine == [-2, 0, 2] and ns["my_wo"] == [2, 2, 2]
    says("neurons-and-networks", "three steps of height 2 at $x = -2$, $0$ and $2$")


def test_a1_the_prediction_where_the_line_meets_zero() -> None:
    """The predict-crossing task: y = -0.5x + 4 has height 0 at x = 8, not at b = 4."""
    ns, _ = run_lesson("the-line", only=("model",))
    y = ns["y"]
    w, b = -0.5, 4
    root = -b / w
    assert root == 8 and y(root, w, b) == 0
    assert predicted("the-line", "predict-crossing", ns) == 8
    says("the-line", "Take $w = -0.5$ and $b = 4$")
    says(
        "the-line",
        f"The line says {{answer}}: y({root:g}) = {w:g}·{root:g} + {b:g} = {y(root, w, b):g}.",
    )
    says("the-line", f"At x = 4 it is still at height {y(4, w, b):g} (b = {b:g}")
    says("the-line", f"at x = -8 it is up at {y(-8, w, b):g}")
    says(
        "the-line",
        f"each step lowers it by {-w:g}, so from {b:g} it needs {b:g} / {-w:g} = "
        f"{b / -w:g} steps to reach 0",
    )
    says("the-line", "Each step of 1 to the right changes its height by $w = -0.5$")


def test_a2_the_prediction_of_the_highest_corner() -> None:
    """The predict-corner task: with w1 = 3, w2 = -5, b = 2 the plane is highest above
    (10, -10); the message states the height above every corner."""
    ns, _ = run_lesson("several-inputs", only=("model",))
    y = ns["y"]
    w1, w2, b = 3, -5, 2
    corners = [(10, 10), (10, -10), (-10, 10), (-10, -10)]
    heights = {c: y(*c, w1, w2, b) for c in corners}
    assert max(heights, key=heights.__getitem__) == (10, -10)
    assert predicted("several-inputs", "predict-corner", ns) == "(10, -10)"
    says("several-inputs", f"Take $w_1 = {w1}$, $w_2 = {w2}$ and $b = {b}$")
    listed = ", ".join(f"{heights[c]:g} at ({c[0]}, {c[1]})" for c in corners[:3])
    last = corners[3]
    says("several-inputs", f"{listed} and {heights[last]:g} at ({last[0]}, {last[1]})")
    assert y(0, 1, w1, w2, b) - y(0, 0, w1, w2, b) == w2  # "by 5 for every unit" (downwards)
    says("several-inputs", f"w2 = {w2} is negative, so it is a negative x2 that lifts it, by {-w2}")
    says("several-inputs", f"The bias adds the same {b} everywhere")


def test_a3_the_prediction_at_x_0() -> None:
    """The predict-switch task: with w = -2, b = 6 the output at x = 0 is σ(6), near 1; the
    switch is at x = 3 and the output is low to its right."""
    ns, _ = run_lesson("the-sigmoid", only=("model",))
    y = ns["y"]
    w, b = -2, 6
    assert y(0, w, b) > 0.9
    assert predicted("the-sigmoid", "predict-switch", ns) == "near 1"
    says("the-sigmoid", f"Take $w = {w}$ and $b = {b}$. At $x = 0$")
    says("the-sigmoid", f"σ receives b = {b}, and σ({b}) = {y(0, w, b):.3f}")
    switch = -b / w
    assert y(switch, w, b) == 0.5 and y(switch - 1, w, b) > 0.5 > y(switch + 1, w, b)
    says("the-sigmoid", f"The output is ½ where {w}x + {b} = 0, at x = {switch:g}, not at x = 0")
    says("the-sigmoid", f"down to σ({w * 5 + b}) = {y(5, w, b):.3f} at x = 5")


def test_a4_the_prediction_of_the_pair() -> None:
    """The predict-pair task: input weights -1.5 and 1.5, biases 3, output weights 5: both
    neurons are on between -2 and 2, so the pair draws a bump on a floor of 5, where the
    valley of the first experiment (biases -8) had both off in the middle."""
    ns, _ = run_lesson("neurons-and-networks", only=("network", "two"))
    two = ns["two_neurons"]
    wi, b, wo = (-1.5, 1.5), (3, 3), (5, 5)
    says("neurons-and-networks", "| 1 | -1.5 | 3 | 5 | | 2 | 1.5 | 3 | 5 |")
    left, middle, right = (two(x, *wi, *b, *wo) for x in (-10, 0, 10))
    assert middle > max(left, right) + 1  # a bump
    assert predicted("neurons-and-networks", "predict-pair", ns) == "bump"
    switches = [-bj / wj for wj, bj in zip(wi, b, strict=True)]
    assert switches == [2, -2]
    says("neurons-and-networks", "Neuron 1 switches where $-1.5x + 3 = 0$")
    says(
        "neurons-and-networks",
        f"Neuron 1 (input weight {wi[0]:g}) is on to the left of x = {switches[0]:g} and neuron 2 "
        f"(input weight {wi[1]:g}) to the right of x = {switches[1]:g}",
    )
    says("neurons-and-networks", f"their {wo[0]}s add up")
    assert f"{left:.2f}" == f"{right:.2f}"
    says(
        "neurons-and-networks",
        f"the curve sits at {left:.2f} far out on either side and rises to {middle:.2f} at x = 0",
    )
    # the valley of the first experiment: the table's pair with wo1 = +5
    valley = [two(x, -1.5, 1.5, -8, -8, 5, 5) for x in (-10, 0, 10)]
    assert valley[1] < min(valley[0], valley[2]) - 1
    apart = [8 / -1.5, 8 / 1.5]
    says(
        "neurons-and-networks",
        f"the two switches sat at {apart[0]:.1f} and {apart[1]:.1f} facing away from each other",
    )


def test_a5_the_predicted_call() -> None:
    ns, printed = run_lesson("a-model-in-code", solve=("write-the-line",), skip=("guess",))
    assert printed["call"].split() == [str(ns["y"](3, 2, 1)), str(ns["y"](10, 0.5, -1))]
    assert ns["y"](3, 2, 1) == 7
    says("a-model-in-code", "$2 \\cdot 3 + 1 = 7$")


def test_a6_the_fit_by_hand() -> None:
    w, b = np.polyfit(DATA[:, 0], DATA[:, 1], 1)
    assert 0.55 < w < 0.6 and 0.2 < b < 0.25
    says("fitting-data", "$w$ a little under 0.6 and $b$ a little over 0.2")
    rise = DATA[-1, 1] - DATA[0, 1]
    says("fitting-data", f"the points rise by about {rise:.1f}")
    moved = DATA.copy()
    moved[-1, 1] = 9
    assert np.polyfit(moved[:, 0], moved[:, 1], 1)[0] > w  # the odd point: steeper


def test_a7_predictions() -> None:
    ns, _printed = run_lesson("predictions", skip=("guess", "backwards"))
    says(
        "predictions",
        f"at $x = 1$ we measured {DATA[0, 1]} and the model says {ns['model'](1):.2f}",
    )
    says("predictions", f"at $x = 8$ we measured {DATA[-1, 1]} and it says {ns['model'](8):.2f}")
    says("predictions", f"**extrapolates** to ${ns['model'](-3):.1f}$")
    assert ns["model"](-3) < 0  # the prediction exercise's answer: negative
    says("predictions", f"`input_for(4.0)` is about {(4.0 - ns['b']) / ns['w']:.2f}")
    # The take-aways: w and b summarise the eight measured (x, y) pairs it replays.
    assert len(ns["inputs"]) == len(DATA) and DATA.size == 16 and "w" in ns and "b" in ns
    says("predictions", "here two parameters stand in for sixteen")


def test_a8_the_loss() -> None:
    ns, _ = run_lesson("the-loss", only=("losses",), solve=("write-l2",))
    says("the-loss", "A gap of 1 costs $\\tfrac12$, a gap of 3 costs $4.5$: nine times as much")
    assert 0.5 * 3**2 == 4.5 == 9 * 0.5 * 1**2
    at = ns["loss"](0.6, 0.2)
    says("the-loss", f"the L2 loss falls to about ${at:.3f}$")
    best = ns["loss"](*np.polyfit(DATA[:, 0], DATA[:, 1], 1))
    assert best < at  # "the best line possible gets a little lower still"
    moved = [(x, 9.0 if x == 8 else t) for x, t in ns["data"]]
    ns["data"] = moved
    grow_l1 = ns["l1_loss"](0.6, 0.2)
    grow_l2 = ns["loss"](0.6, 0.2)
    assert grow_l2 > grow_l1  # the outlier prediction: L2 grows more
    says("the-loss", "L1 grows by the size of the new gap, about 4; L2 by half its square, about 8")


def test_a9_the_landscape_and_the_search() -> None:
    _ns, printed = run_lesson("the-loss-landscape", skip=("guess",), solve=("grid-search",))
    tried = int(printed["search"].split("tried ")[1].split()[0])
    assert tried == len(np.arange(-1, 2, 0.01)) * len(np.arange(-2, 2, 0.02)) == 60_000
    says("the-loss-landscape", "sixty thousand evaluations of the loss")
    w, b = np.polyfit(DATA[:, 0], DATA[:, 1], 1)
    says("the-loss-landscape", f"near $w \\approx {w:.2f}$, $b \\approx {b:.2f}$")
    years = 200**10 / 1e9 / (365.25 * 24 * 3600)
    assert 2.5e6 < years < 3.5e6
    says("the-loss-landscape", f"$200^{{10}} \\approx 10^{{{round(math.log10(200**10))}}}$")
    says("the-loss-landscape", "would need about 3 million years")
    lam = np.linalg.eigvalsh(curvature(DATA))
    assert lam[1] / lam[0] > 100  # "a long, narrow valley"


def test_a10_the_roller_coaster() -> None:
    ns, printed = run_lesson("derivatives", only=("curve", "game"))
    f = ns["f"]
    crit = sorted(np.roots([1.2, 0, -3, 0.4]).real)
    says("derivatives", f"at about $x = {crit[0]:.2f}$ and $x = {crit[2]:.2f}$")
    says("derivatives", f"at $x \\approx {crit[1]:.2f}$, the slope is also zero")
    assert f(crit[0]) < f(crit[2])  # the left valley is deeper
    says("derivatives", f"near $x = {crit[0]:.2f}$, is deeper")
    inflection = np.sqrt(3 / 3.6)  # f'' = 3.6 x² - 3
    says("derivatives", f"here at $x \\approx \\pm {inflection:.2f}$")
    says("derivatives", f"Put the slider at ${inflection:.2f}$")
    assert "ended near x = 1.50" in printed["game"]  # from 0.5: the valley on the right
    says("derivatives", "starting at $0.5$ leads to the valley on the right, near $x = 1.5$")
    game = ns["slope"]
    x = 0.1
    for _ in range(100):
        x = x - 0.02 if game(x) > 0 else x + 0.02
    assert x < crit[1]  # the prediction: from 0.1, the left valley
    says("derivatives", f"(near x = {crit[1]:.2f})")


def test_a11_the_gradient() -> None:
    ns, _ = run_lesson(
        "the-gradient", only=("loss", "slices", "gradient"), solve=("write-gradient",)
    )
    dw, _db = ns["gradient"](-2.5, -15)
    says("the-gradient", f"the slope along $w$ is about ${dw:.0f}$")
    hess = curvature(DATA)
    says("the-gradient", f"$\\sum x_i^2 = {hess[0, 0]:.0f}$")
    says("the-gradient", f"only $n = {hess[1, 1]:.0f}$")
    ratio = hess[0, 0] / hess[1, 1]
    says("the-gradient", f"${hess[0, 0]:.0f} / {hess[1, 1]:.0f} = {ratio:g}$ times more sharply")
    w, b = np.polyfit(DATA[:, 0], DATA[:, 1], 1)
    assert np.allclose(ns["gradient"](w, b), 0, atol=1e-9)  # the bottom: both slopes vanish
    says("the-gradient", f"around $w \\approx {w:.2f}$ and $b \\approx {b:.2f}$")
    assert (DATA[-1, 0], DATA[0, 0]) == (8, 1)  # "at x = 8 eight times as much as at x = 1"
    says("the-gradient", "The map shows 5 units of $w$ across and 30 units of $b$ up")
    assert (2.5 - -2.5, 15 - -15) == (5, 30)  # the landscape's ranges, w: [-2.5, 2.5], b: [-15, 15]


def test_a11_the_prediction_at_w_1_b_minus_2() -> None:
    """The predict-sign task: at w = 1, b = -2 the gaps add up to a negative number, but
    weighted by x they add up to a positive one, so the two partials have opposite signs."""
    ns, _ = run_lesson(
        "the-gradient", only=("loss", "slices", "gradient"), solve=("write-gradient",)
    )
    w, b = 1.0, -2.0
    gaps = w * DATA[:, 0] + b - DATA[:, 1]
    below, above = DATA[gaps < 0, 0], DATA[gaps > 0, 0]
    assert below.tolist() == [1, 2, 3, 4, 5] and above.tolist() == [6, 7, 8]
    says("the-gradient", "passes under the first five points and over the last three")
    dw, db = ns["gradient"](w, b)
    assert dw == pytest.approx(ns["slope_along_w"](w, b), abs=1e-6)  # the truth the check uses
    assert db == pytest.approx(ns["slope_along_b"](w, b), abs=1e-6)
    assert dw > 0 > db  # the answer: positive
    says("the-gradient", f"its eight gaps add up to ${db:.2f}$")
    says("the-gradient", f"so $\\frac{{\\partial L}}{{\\partial b}} = {db:.2f}$")
    weighted = gaps * DATA[:, 0]
    says(
        "the-gradient",
        f"the five negative gaps add up to {weighted[gaps < 0].sum():.2f} in all, while the "
        f"three positive ones, at x = 6, 7 and 8, add up to +{weighted[gaps > 0].sum():.2f}. "
        f"So ∂L/∂w = +{dw:.2f} even though ∂L/∂b = {db:.2f}",
    )
    says("the-gradient", "The negative gaps sit at x = 1 to 5, the positive ones at x = 6, 7 and 8")
    says(
        "the-gradient",
        f"$\\frac{{\\partial L}}{{\\partial w}} = {dw:.2f}$ says a steeper line would cost "
        f"more, $\\frac{{\\partial L}}{{\\partial b}} = {db:.2f}$ says a higher one",
    )


def test_a12_the_edge_and_the_zigzag() -> None:
    ns, _ = run_lesson("a-step-downhill", solve=("one-step", "edge"), skip=("guess",))
    hess = curvature(np.asarray(ns["data"], dtype=float))
    small, lam = np.linalg.eigvalsh(hess)
    assert hess.tolist() == [[204, 36], [36, 8]]
    says("a-step-downhill", "H = \\begin{bmatrix} 204 & 36 \\\\ 36 & 8 \\end{bmatrix}")
    says("a-step-downhill", f"eigenvalues about ${lam:.1f}$ and ${small:.2f}$")
    says("a-step-downhill", f"the edge is $2 / {lam:.1f} \\approx {2 / lam:.4f}$")
    assert abs(ns["edge"] - 2 / lam) < 1e-12  # the exercise's solution computes it
    says("a-step-downhill", f"Above $1/{lam:.1f} \\approx {1 / lam:.4f}$")
    for rate, text in ((0.005, "{:.2f}"), (0.008, "{:.2f}"), (0.009, "{:.2f}")):
        says("a-step-downhill", "$" + text.format(1 - rate * lam) + "$")
    says("a-step-downhill", f"multiplies its distance by $1 - {small:.2f}\\,\\alpha$")
    says("a-step-downhill", f"about ${1 - 0.0095 * small:.3f}$ even at $0.0095$")
    says("a-step-downhill", f"here that edge is $\\approx {2 / lam:.4f}$")  # the take-aways
    # the first step from (0, 0) at 0.01 (a hint of the prediction), and its answer
    g = ns["gradient"](0.0, 0.0)
    # (a hint in YAML double quotes: its backslashes are doubled in the file)
    says(
        "a-step-downhill", f"moves $w$ by $0.01 \\\\cdot {-g[0]:.2f} \\\\approx {-0.01 * g[0]:.2f}$"
    )
    ns["w"], ns["b"], ns["learning_rate"] = 0.0, 0.0, 0.01
    start = ns["loss"](0.0, 0.0)
    for _ in range(10):
        ns["update"]()
    assert ns["loss"](ns["w"], ns["b"]) > start  # "higher"
    # the settle exercise's range: 2000 steps from (0, 0) reach the best line
    best = np.polyfit(DATA[:, 0], DATA[:, 1], 1)

    def settles(rate: float) -> bool:
        ns["w"], ns["b"], ns["learning_rate"] = 0.0, 0.0, rate
        for _ in range(2000):
            ns["update"]()
            if abs(ns["w"]) > 1e6:
                return False
        return abs(ns["w"] - best[0]) < 1e-2 and abs(ns["b"] - best[1]) < 5e-2

    assert settles(0.0003) and settles(0.0094) and not settles(0.0002) and not settles(0.0096)
    says("a-step-downhill", "Anything from about 0.0003 up to just below the edge")


def test_a13_the_run() -> None:
    ns, _ = run_lesson("gradient-descent", skip=("guess",), solve=("loop",))
    lam = float(np.linalg.eigvalsh(curvature(np.asarray(ns["data"], dtype=float)))[-1])
    says("gradient-descent", f"$1 - 0.009 \\cdot {lam:.1f} \\approx {1 - 0.009 * lam:.2f}$")
    says("gradient-descent", f"the edge $2/{lam:.1f} \\approx {2 / lam:.4f}$")
    assert 0.009 < 2 / lam < 0.0096
    start = (ns["w"], ns["b"])
    ns["learning_rate"] = 0.009
    ns["train"](2000)
    assert abs(ns["w"] - 0.594) < 1e-3  # settles at 0.009
    ns["w"], ns["b"], ns["learning_rate"] = *start, 0.0096
    ns["train"](2000)
    assert not abs(ns["w"]) < 1e6  # diverges at 0.0096
    ns["w"], ns["b"], ns["learning_rate"] = *start, 0.003
    ns["train"](5000)
    w, b = np.polyfit(DATA[:, 0], DATA[:, 1], 1)
    assert abs(ns["w"] - w) < 1e-4 and abs(ns["b"] - b) < 1e-3
    says("gradient-descent", f"about $w \\approx {w:.3f}$, $b \\approx {b:.3f}$")
