"""Every plot kind by name; lessons name a kind and the loader checks it exists here."""

from __future__ import annotations

from typing import Any

from app.plots.base import PlotKind
from app.plots.curve import LineKind, SigmoidKind
from app.plots.images import ImagesKind
from app.plots.landscape import LandscapeKind
from app.plots.live import LiveKind
from app.plots.net_landscape import NetLandscapeKind
from app.plots.network import NetworkKind
from app.plots.outcome_map import OutcomeMapKind
from app.plots.paths import PathsKind
from app.plots.race import RaceKind
from app.plots.series import SeriesKind
from app.plots.surface import PlaneKind, SigmoidSurfaceKind
from app.plots.sweep import SweepKind
from app.plots.tangent import TangentKind
from app.plots.training import TrainingKind

PLOT_KINDS: dict[str, PlotKind[Any]] = {
    kind.name: kind
    for kind in (
        LineKind(),
        SigmoidKind(),
        PlaneKind(),
        SigmoidSurfaceKind(),
        LandscapeKind(),
        TangentKind(),
        TrainingKind(),
        SeriesKind(),
        PathsKind(),
        RaceKind(),
        ImagesKind(),
        NetLandscapeKind(),
        NetworkKind(),
        SweepKind(),
        OutcomeMapKind(),
        LiveKind(),
    )
}


def plot_kind(name: str) -> PlotKind[Any]:
    """The kind called `name`; KeyError lists the known kinds."""
    try:
        return PLOT_KINDS[name]
    except KeyError:
        raise KeyError(
            f"unknown plot kind {name!r}; known kinds: {', '.join(sorted(PLOT_KINDS))}"
        ) from None
