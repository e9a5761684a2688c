"""Checks for "Derivatives": a prediction of which valley the downhill game ends in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.kernel.checks import Mistakes, Verdict, check, learner_function


def play(f: Any, x: float, steps: int = 100, size: float = 0.02, h: float = 1e-4) -> float:
    """The lesson's game: step `size` against the measured slope, `steps` times."""
    for _ in range(steps):
        slope = (f(x + h) - f(x - h)) / (2 * h)
        x = x - size if slope > 0 else x + size
    return x


@check("valley_from", mistakes=("left", "right"))
def valley_from(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `variable` says which valley ("left" or "right" of the hilltop at `top`)
    the game ends in from `start`, played on the lesson's f. Mistakes: the wrong side.
    Field: end (where the game ends)."""
    name = str(params.get("variable", "prediction"))
    said = str(ns.get(name, "")).strip().lower()
    if said not in ("left", "right"):
        return False, f'Set `{name}` to "left" or "right", press Run, then Check.'
    f = learner_function(ns, "f")
    if f is None:
        return False, "Run the cell that defines f first."
    end = play(f, float(params["start"]))
    truth = "left" if end < float(params["top"]) else "right"
    if said == truth:
        return True, f"Right: from x = {float(params['start']):g} the game ends near x = {end:.2f}."
    slip = Mistakes(params).message(said, end=end)
    return False, slip or f"Not so: the game ends near x = {end:.2f}."
