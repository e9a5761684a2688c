"""The `sweep` kind: the loss after N steps for every learning rate, run on the learner's own
update (vectorised when the code allows, one rate at a time when not), with 2/λ from the loss."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from app.plots.base import PlotError
from app.plots.sweep import SweepKind, curvature

LINE = """
def y(x, w, b):
    return w * x + b

data = [(1, 0.85), (2, 1.43), (3, 1.92), (4, 2.59), (5, 3.20), (6, 3.82), (7, 4.38), (8, 4.97)]

def loss(w, b):
    return sum((y(x, w, b) - t) ** 2 for x, t in data) / 2

def gradient(w, b):
    dw = sum((y(x, w, b) - t) * x for x, t in data)
    db = sum(y(x, w, b) - t for x, t in data)
    return dw, db

w, b = 0.0, 0.0
learning_rate = 0.01

def update():
    global w, b
    dw, db = gradient(w, b)
    w = w - learning_rate * dw
    b = b - learning_rate * db
"""

SCALAR_ONLY = """
import math
def update():
    global w, b
    dw, db = gradient(w, b)
    if math.isnan(dw):      # refuses arrays: the sweep runs one rate at a time
        return
    w = w - learning_rate * dw
    b = b - learning_rate * db
"""

KIND = SweepKind()


def namespace(*sources: str) -> dict[str, Any]:
    ns: dict[str, Any] = {}
    for source in sources:
        exec(source, ns)
    return ns


def sweep(ns: dict[str, Any], values: dict[str, float] | None = None, **raw: Any) -> Any:
    options = KIND.parse_options(raw)
    result = KIND.evaluate(ns, options, values or {}, True)
    json.dumps(KIND.figure(options, result), allow_nan=False)  # the page gets valid JSON
    return result


def test_the_edge_is_two_over_the_largest_curvature_of_the_lessons_loss() -> None:
    ns = namespace(LINE)
    xs = np.array([x for x, _ in ns["data"]], dtype=float)
    hessian = np.array([[np.sum(xs**2), np.sum(xs)], [np.sum(xs), xs.size]])
    assert hessian.tolist() == [[204, 36], [36, 8]]
    lam = float(np.linalg.eigvalsh(hessian).max())
    result = sweep(ns, steps=100, rates=[1e-4, 0.02])
    assert result["curvature"] == pytest.approx(lam, rel=1e-6)
    assert result["edge"] == pytest.approx(2 / lam, rel=1e-6)
    rates, losses = result["rates"], result["losses"]
    assert np.all(losses[rates < 0.95 * result["edge"]] < result["start_loss"])
    above = losses[rates > 1.05 * result["edge"]]
    assert np.all((above < 0) | (above > result["start_loss"]))  # blew up, or ended higher


def test_vectorised_and_one_by_one_give_the_same_losses() -> None:
    fast = sweep(namespace(LINE), steps=60, rates=[1e-4, 0.012], points=25)
    slow = sweep(namespace(LINE, SCALAR_ONLY), steps=60, rates=[1e-4, 0.012], points=25)
    for a, b in zip(fast["losses"], slow["losses"], strict=True):
        assert (a < 0 and b < 0) or a == pytest.approx(b, rel=1e-9)


def test_the_learners_globals_are_put_back() -> None:
    ns = namespace(LINE)
    ns["w"], ns["b"], ns["learning_rate"] = 0.3, -1.0, 0.002
    result = sweep(ns, steps=20, start=[0, 0], rates=[1e-3, 0.01], points=9)
    assert (ns["w"], ns["b"], ns["learning_rate"]) == (0.3, -1.0, 0.002)
    assert result["rate"] == 0.002 and result["rate_loss"] < result["start_loss"]


def test_a_pure_step_of_one_parameter_and_a_steps_slider() -> None:
    ns = namespace(
        "def L(w):\n    return (w - 1) ** 2 + 0.5\n"
        "def step(w, lr):\n    return w - lr * 2 * (w - 1)\n"
        "w = -2.0\n"
    )
    result = sweep(
        ns,
        {"n": 40},
        update="step",
        loss="L",
        params=["w"],
        rate="lr",
        steps="n",
        rates=[0.01, 1.5],
        log_x=False,
    )
    assert result["steps"] == 40
    assert result["edge"] == pytest.approx(1.0, rel=1e-6)  # 2 / L''(w) = 2 / 2
    assert "rate" not in result  # no global `lr`: no rate of the learner's to mark


def test_an_update_it_cannot_call_is_worded() -> None:
    ns = namespace(LINE, "def update(a, c, d):\n    pass\n")
    with pytest.raises(PlotError, match=r"`update` takes \(a, c, d\)"):
        sweep(ns, steps=5, rates=[1e-3, 1e-2])


def test_curvature_of_a_quadratic_bowl() -> None:
    bowl = lambda p: 3 * p[0] ** 2 + p[0] * p[1] + p[1] ** 2  # noqa: E731  Hessian [[6, 1], [1, 2]]
    assert curvature(bowl, [0.5, 2.0]) == pytest.approx((8 + math.sqrt(20)) / 2, rel=1e-6)
