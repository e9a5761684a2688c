"""Plot kinds as the session sees them: each parses its own options type, and a trainable kind
carries its contract (which scalar is the loss, which values it trains, when it diverged)."""

from __future__ import annotations

import math
import typing

import pytest

from app.plots.base import PlotKind, TrainablePlotKind
from app.plots.registry import PLOT_KINDS, plot_kind
from app.plots.training import TrainingOptions


@pytest.mark.parametrize("name", sorted(PLOT_KINDS))
def test_each_kind_parses_options_of_the_type_it_is_generic_over(name: str) -> None:
    kind = PLOT_KINDS[name]
    (base,) = [b for b in type(kind).__orig_bases__ if typing.get_origin(b)]
    assert issubclass(typing.get_origin(base), PlotKind)
    assert typing.get_args(base) == (kind.options_model,)
    assert isinstance(kind.parse_options({}), kind.options_model)


def test_the_trainable_kinds() -> None:
    # `live` (issue 10): a learner's own model trained frame by frame; the page's Play controls
    # must be shown for it as for `training` (templates/_plot.html).
    trainable = {name for name, kind in PLOT_KINDS.items() if isinstance(kind, TrainablePlotKind)}
    assert trainable == {"training", "live"}


def test_a_training_frame_with_a_finite_loss_may_be_shown() -> None:
    kind = plot_kind("training")
    assert isinstance(kind, TrainablePlotKind)
    scalars = {"iteration": 10.0, "w": 0.5, "b": -1.0, "loss": 2.0}
    assert kind.divergence(scalars) == ""
    assert kind.trained_values(TrainingOptions(), scalars) == {"w": 0.5, "b": -1.0}


@pytest.mark.parametrize(
    "scalars",
    [
        {"iteration": 40.0, "w": math.inf, "b": 0.0},
        {"iteration": 40.0, "w": 1.0, "b": 0.0, "loss": math.nan},
        {"iteration": 40.0, "w": 1.0, "b": 0.0, "loss": math.inf},
    ],
    ids=["no-loss", "nan-loss", "infinite-loss"],
)
def test_a_training_frame_that_is_no_longer_finite_diverged(scalars: dict[str, float]) -> None:
    kind = plot_kind("training")
    assert isinstance(kind, TrainablePlotKind)
    words = kind.divergence(scalars)
    assert words.startswith("Training diverged at iteration 40:")
    assert "smaller learning rate" in words


def test_every_plot_kind_names_the_plotly_traces_it_draws() -> None:
    """A kind missing from static/src/plotly-bundles.json would make its lessons load the whole
    plotly.js; a trace type missing from a bundle would leave a plot blank."""
    import json
    from pathlib import Path

    from app.plots.registry import PLOT_KINDS

    spec = json.loads(
        (Path(__file__).resolve().parents[2] / "static/src/plotly-bundles.json").read_text()
    )
    assert set(PLOT_KINDS) <= set(spec["kinds"]), set(PLOT_KINDS) - set(spec["kinds"])
    largest = set(spec["bundles"][list(spec["bundles"])[-1]])
    for kind, traces in spec["kinds"].items():
        assert set(traces) <= largest, (kind, traces)


def test_training_stops_once_numbers_leave_a_sane_range() -> None:
    """Not hundreds of steps later at floating-point infinity: beyond 1e15 is diverged."""

    kind = plot_kind("training")
    assert isinstance(kind, TrainablePlotKind)
    assert kind.divergence({"loss": 12.5, "w": 3.0, "b": -1.0, "iteration": 4}) == ""
    words = kind.divergence({"loss": 2.0e16, "w": 3.0e7, "b": -1.0, "iteration": 9})
    assert words.startswith("Training diverged at iteration 9")
    assert kind.divergence({"loss": float("nan"), "iteration": 3})
