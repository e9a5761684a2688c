"""Calling a learner's function the way it was written (kernel side).

Lessons meet two styles of program: functions that take the parameters (`gradient(w, b)`) and
the source lessons' style, functions with no arguments that read and change globals
(`gradient()`, `update()`, `train(iterations)`). A plot that runs learner code calls each
function with what its signature asks for, and when it cannot, says which function it tried,
how, and what to change."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from app.plots.base import PlotError

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def call_text(name: str, args: Sequence[str]) -> str:
    """How a call looks in the learner's code: `update()`, `gradient(w, b)`."""
    return f"`{name}({', '.join(args)})`"


def plan_call(
    fn: Callable[..., Any], name: str, available: Sequence[str], positional: Sequence[str]
) -> tuple[list[str], bool]:
    """Which of the `available` names to pass to `fn`, and whether by position.

    - fn takes nothing (or only inputs with defaults): pass none, or the ones named like
      `available` (by name);
    - every input fn requires is named like one of `available`: pass those by name;
    - fn requires exactly len(positional) inputs: pass `positional` in order;
    - anything else is a PlotError that shows the signature and the calls we can make."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return list(positional), True
    named = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    required = [p for p in named if p.default is p.empty]
    if all(p.name in available for p in required):
        return [p.name for p in named if p.name in available], False
    takes_many = any(p.kind is p.VAR_POSITIONAL for p in params)
    if all(p.kind in _POSITIONAL for p in required) and (
        len(required) == len(positional) or (takes_many and len(required) <= len(positional))
    ):
        return list(positional), True
    shown = ", ".join(p.name for p in named)
    ways = [call_text(name, [])]
    if positional:
        ways.append(call_text(name, positional))
    raise PlotError(
        f"`{name}` takes ({shown}); the plot can call {' or '.join(ways)}. Name its inputs "
        f"{', '.join(positional) or 'as above'}, or give it no inputs and let it read the "
        "globals."
    )


def call_planned(
    fn: Callable[..., Any], plan: tuple[list[str], bool], values: Mapping[str, Any]
) -> Any:
    """Call fn as `plan_call` decided, with the current values."""
    names, by_position = plan
    if by_position:
        return fn(*(values[n] for n in names))
    return fn(**{n: values[n] for n in names})


def returned_parameters(out: Any, count: int) -> list[Any] | None:
    """The new parameters an update returned (a tuple of `count` values, or one value when it
    trains one), or None when it returned something else and changed globals instead."""
    if out is None:
        return None
    if count == 1 and not isinstance(out, tuple | list):
        return [out]
    if isinstance(out, tuple | list) and len(out) == count:
        return list(out)
    return None
