"""Checks for "Predictions": they use the learner's own trained line, the `w` and `b` of the
first cell as the learner last ran it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.kernel.checks import Mistakes, Verdict, check, function_matches, number, set_first


def _line(ns: Mapping[str, Any]) -> tuple[float, float] | None:
    w, b = number(ns.get("w")), number(ns.get("b"))
    return None if w is None or b is None else (w, b)


@check("input_for_your_line", expressions=True)
def input_for_your_line(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The toolkit's function_matches, with `w` and `b` taken from the learner's namespace as
    constants that `expected` and the mistakes' formulas may use."""
    line = _line(ns)
    if line is None:
        return set_first("w", "b")
    w, b = line
    if w == 0:
        return False, "With w = 0 the line is flat: no input gives any other output. Set w ≠ 0."
    constants = {**params.get("constants", {}), "w": w, "b": b}
    return function_matches(ns, {**params, "constants": constants})


@check("sign_at", mistakes=("positive", "negative"))
def sign_at(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `variable` says whether the trained line's output at `x` is "positive" or
    "negative", computed with the learner's w and b. Mistakes: the wrong word. Field: value."""
    name = str(params.get("variable", "prediction"))
    said = str(ns.get(name, "")).strip().lower()
    if said not in ("positive", "negative"):
        return False, f'Set `{name}` to "positive" or "negative", press Run, then Check.'
    line = _line(ns)
    if line is None:
        return set_first("w", "b")
    x = float(params["x"])
    value = line[0] * x + line[1]
    truth = "positive" if value > 0 else "negative"
    if said == truth:
        return True, f"Right: at x = {x:g} the line says {value:.3g}."
    slip = Mistakes(params).message(said, value=value)
    return False, slip or f"Not so: at x = {x:g} the line says {value:.3g}."
