"""The `live` kind trains a learner's model frame by frame (reset, step, state) and the
`outcome_map` kind draws a grid of outcomes with a dot at the sliders."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from app.plots.base import PlotError, TrainablePlotKind
from app.plots.live import LiveKind
from app.plots.outcome_map import OutcomeMapKind
from app.plots.registry import PLOT_KINDS


def _learner() -> dict[str, Any]:
    ns: dict[str, Any] = {}
    code = """
def reset():
    global w, losses
    w, losses = 0.0, []

def step(n):
    global w
    for _ in range(n):
        w -= 0.1 * 2 * (w - 3)
        losses.append((w - 3) ** 2)

def state():
    return {"epoch": len(losses), "loss": (w - 3) ** 2, "curves": {"loss": losses},
            "fit": {"x": [0, 1], "y": [0, w]}, "data": [(1, 3)]}

reset()
"""
    exec(code, ns)
    return ns


def test_live_is_trainable_and_registered() -> None:
    assert isinstance(PLOT_KINDS["live"], TrainablePlotKind)
    assert isinstance(PLOT_KINDS["outcome_map"], OutcomeMapKind)


def test_live_steps_resets_and_draws() -> None:
    kind, ns = LiveKind(), _learner()
    options = kind.parse_options({})
    first = kind.evaluate(ns, options, {}, True)
    assert first["iteration"] == 0 and first["loss"] == 9
    later = kind.advance(ns, options, 10, reset=False)
    assert later["iteration"] == 10 and later["loss"] < 0.2
    assert kind.divergence({"iteration": 10.0, "loss": later["loss"]}) == ""
    figure = kind.patch(options, later)["figure"]
    json.dumps(figure)
    assert [t["name"] for t in figure["data"]] == ["data", "the model", "loss"]
    assert kind.advance(ns, options, 0, reset=True)["iteration"] == 0


def test_live_images_and_a_wrong_state() -> None:
    kind = LiveKind()
    options = kind.parse_options({"columns": 2})
    ns = {
        "state": lambda: {
            "epoch": 1,
            "loss": math.inf,
            "curves": {"a": [1.0]},
            "images": {"w1": np.eye(3), "w2": np.ones((3, 3))},
        }
    }
    result = kind.evaluate(ns, options, {}, True)
    assert "loss" not in result  # not finite: the page says it diverged
    assert kind.divergence({"iteration": 1.0}) != ""
    figure = kind.figure(options, result)
    assert sum(t["type"] == "heatmap" for t in figure["data"]) == 2
    with pytest.raises(PlotError, match="'loss' and 'curves'"):
        kind.evaluate({"state": lambda: {"epoch": 0}}, options, {}, True)


def test_outcome_map_grid_and_dot() -> None:
    kind = OutcomeMapKind()
    options = kind.parse_options({"function": "grid", "marker": ["lr", "beta"], "log_z": True})
    z = np.array([[1.0, 10.0, np.nan], [0.1, 0.01, 100.0]])
    ns = {"grid": lambda: {"x": [0.1, 0.2, 0.3], "y": [0.0, 0.9], "z": z}}
    whole = kind.evaluate(ns, options, {"lr": 0.19, "beta": 0.8}, True)
    assert whole["outcome"] == 0.01
    figure = kind.figure(options, whole)
    json.dumps(figure)
    heat = figure["data"][0]["z"]
    assert heat[0][2] is None and heat[1][1] == pytest.approx(-2.0)
    move = kind.evaluate(ns, options, {"lr": 0.3, "beta": 0.0}, False)
    assert "z" not in move
    assert kind.patch(options, move) == {"traces": [1], "data": {"x": [[0.3]], "y": [[0.0]]}}
    with pytest.raises(PlotError, match="one row per 'y'"):
        kind.evaluate(
            {"grid": lambda: {"x": [1, 2], "y": [1, 2], "z": [[1, 2]]}}, options, {}, True
        )
