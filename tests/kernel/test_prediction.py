"""The prediction check's reading of what the learner wrote: words without case or spaces,
numbers by value, and a bool never taken for a number."""

from __future__ import annotations

from typing import Any

import pytest

from app.kernel.checks.prediction import choice, prediction


@pytest.mark.parametrize(
    ("said", "choices", "named"),
    [
        (" Lower ", ["higher", "lower"], "lower"),
        (8.0, [-8, 4, 8], 8),
        (8, [0.5, 8.0], 8.0),
        (True, [0, 1], None),
        (1, [True, False], None),
        (True, [True, False], True),
        ("8", [-8, 4, 8], None),
        (None, ["higher", "lower"], None),
    ],
)
def test_a_choice_is_named_by_its_words_or_its_value(
    said: Any, choices: list[Any], named: Any
) -> None:
    got = choice(said, choices)
    assert got == named and type(got) is type(named)


def test_a_float_answer_to_a_whole_number_question_is_marked_right() -> None:
    ns: dict[str, Any] = {"crosses_at": 8.0, "w": -0.5, "b": 4}
    params = {"variable": "crosses_at", "choices": [-8, 4, 8], "truth": "-b / w"}
    passed, _ = prediction(ns, params)
    assert passed
