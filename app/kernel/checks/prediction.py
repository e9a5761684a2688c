"""The toolkit's prediction check: a learner writes down what a run will do before running it,
and the check compares that with what the lesson's own code computes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.kernel.checks.mistakes import Mistakes, fill
from app.kernel.checks.registry import Verdict, check
from app.kernel.checks.values import expression


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def choice(value: Any, choices: list[Any]) -> Any:
    """The choice `value` names (text compared without case or surrounding spaces, numbers by
    value, so 8.0 names 8; True never names 1), or None."""
    for c in choices:
        if isinstance(c, str) and isinstance(value, str):
            if value.strip().lower() == c.lower():
                return c
        elif _number(c) and _number(value):
            if value == c:
                return c
        elif type(value) is type(c) and value == c:
            return c
    return None


@check("prediction", mistakes=("wrong",))
def prediction(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """A prediction written down before a run: the variable `variable` set to one of `choices`,
    against `truth`, a formula over the page's names that computes the right choice from the
    lesson's own code (params: variable, choices, truth, right). Mistakes: wrong (field:
    answer, the right choice)."""
    name = str(params.get("variable", "prediction"))
    choices = list(params.get("choices", ()))
    said = choice(ns.get(name), choices)
    if said is None:
        listed = " or ".join(f'"{c}"' if isinstance(c, str) else repr(c) for c in choices)
        return False, f"Set `{name}` to {listed}, press Run, then check."
    truth = choice(expression(str(params["truth"]), ns)(), choices)
    if said == truth:
        right = str(params.get("right", "Right: the run agrees with your prediction."))
        return True, fill(right, answer=truth)
    wrong = Mistakes(params).message("wrong", answer=truth)
    return False, wrong or f"Not this time: the run says {truth!r}."
