"""Exercise checks, called the way the kernel calls them: with the namespace that the learner's
code leaves behind and the params a lesson file gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.content.loader import load_lesson
from app.kernel.checks import (
    ChecksError,
    Mistakes,
    array,
    close,
    define_first,
    derivative_matches,
    error,
    fill,
    find_check,
    function_matches,
    good_fit,
    gradient_matches,
    number,
    numbers,
)
from app.kernel.runtime import Runtime
from app.protocol import KCheck, KChecked

DATA = [(1, 0.85), (2, 1.43), (3, 1.92), (4, 2.59), (5, 3.20), (6, 3.82), (7, 4.38), (8, 4.97)]
LESSONS = Path(__file__).resolve().parent.parent / "lessons"
MINE = [
    "the-line",
    "several-inputs",
    "the-sigmoid",
    "neurons-and-networks",
    "a-model-in-code",
    "fitting-data",
    "predictions",
    "the-loss",
    "the-loss-landscape",
    "derivatives",
    "the-gradient",
    "a-step-downhill",
    "gradient-descent",
]


def learner(code: str) -> dict[str, Any]:
    """The namespace a learner's cell leaves behind."""
    ns: dict[str, Any] = {"data": list(DATA)}
    exec(code, ns)
    return ns


# ---------------------------------------------------------------------------- function_matches

LINE = {
    "function": "y",
    "args": ["x", "w", "b"],
    "expected": "w * x + b",
    "mistakes": [
        {"when": "w * x", "message": "bias missing"},
        {"when": "x + b", "message": "weight missing"},
        {"when": "w + b * x", "message": "swapped"},
    ],
}


@pytest.mark.parametrize(
    ("body", "passed", "message"),
    [
        ("w * x + b", True, "Correct"),
        ("b + x * w", True, "Correct"),
        ("w * x", False, "bias missing"),
        ("x + b", False, "weight missing"),
        ("w + b * x", False, "swapped"),
        ("x", False, "Not yet"),
    ],
)
def test_function_matches_line(body: str, passed: bool, message: str) -> None:
    ok, text = function_matches(learner(f"def y(x, w, b):\n    return {body}\n"), LINE)
    assert ok is passed
    assert message in text


def test_function_matches_missing_function_and_wrong_type() -> None:
    assert function_matches(learner("z = 1"), LINE) == (
        False,
        "Define a function called `y` and press Run first.",
    )
    ok, text = function_matches(learner("def y(x, w, b):\n    return 'line'\n"), LINE)
    assert not ok and "expected a number" in text


def test_function_matches_sees_constants_inside_generator_expressions() -> None:
    """The A8 reference loss is a sum over the data: `w`, `b` and `data` must all be visible."""
    params = {
        "function": "loss",
        "args": ["w", "b"],
        "constants": {"data": DATA},
        "expected": "0.5 * sum((w * x + b - y) ** 2 for x, y in data)",
        "mistakes": [
            {"when": "sum((w * x + b - y) ** 2 for x, y in data)", "message": "half"},
        ],
    }
    right = "def loss(w, b):\n    return sum((w * x + b - y) ** 2 for x, y in data) / 2\n"
    assert function_matches(learner(right), params)[0]
    doubled = "def loss(w, b):\n    return sum((w * x + b - y) ** 2 for x, y in data)\n"
    assert function_matches(learner(doubled), params) == (False, "half")


# ---------------------------------------------------------------------------- derivative_matches

CURVE = "0.3 * x**4 - 1.5 * x**2 + 0.4 * x + 2"
SLOPE = {
    "function": "df",
    "of": CURVE,
    "args": ["x"],
    "ranges": {"x": [-2.5, 2.5]},
    "mistakes": [{"when": "0.3 * x**3 - 1.5 * x + 0.4", "message": "bring the power down"}],
}


@pytest.mark.parametrize(
    ("body", "passed", "message"),
    [
        ("1.2 * x**3 - 3 * x + 0.4", True, "Correct"),
        ("-(1.2 * x**3 - 3 * x + 0.4)", False, "sign is flipped"),
        ("1.2 * x**3 - 3 * x + 0.4 + 2", False, "same amount"),
        (CURVE, False, "height of the curve itself"),
        ("2 * (1.2 * x**3 - 3 * x + 0.4)", False, "twice"),
        ("0.6 * x**3 - 1.5 * x + 0.2", False, "half"),
        ("0.3 * x**3 - 1.5 * x + 0.4", False, "bring the power down"),
        ("x", False, "Not yet"),
    ],
)
def test_derivative_matches(body: str, passed: bool, message: str) -> None:
    ok, text = derivative_matches(learner(f"def df(x):\n    return {body}\n"), SLOPE)
    assert ok is passed, text
    assert message in text


def test_derivative_of_a_learner_function() -> None:
    code = f"def f(x):\n    return {CURVE}\n\ndef df(x):\n    return 1.2 * x**3 - 3 * x + 0.4\n"
    assert derivative_matches(learner(code), {**SLOPE, "of": "f"})[0]
    missing_f = learner("def df(x):\n    return 0\n")
    assert derivative_matches(missing_f, {**SLOPE, "of": "f"}) == (
        False,
        "Define a function called `f` and press Run first.",
    )


# ---------------------------------------------------------------------------- gradient_matches

LOSS = "0.5 * sum((w * x + b - y) ** 2 for x, y in data)"
GRADIENT = {
    "function": "gradient",
    "loss": LOSS,
    "args": ["w", "b"],
    "ranges": {"w": [-2.5, 2.5], "b": [-15, 15]},
    "constants": {"data": DATA},
}


def gradient_code(dw: str, db: str) -> str:
    return (
        "def gradient(w, b):\n"
        "    dw = 0\n"
        "    db = 0\n"
        "    for x, y in data:\n"
        "        gap = w * x + b - y\n"
        f"        dw += {dw}\n"
        f"        db += {db}\n"
        "    return dw, db\n"
    )


@pytest.mark.parametrize(
    ("dw", "db", "passed", "message"),
    [
        ("gap * x", "gap", True, "Correct"),
        ("-gap * x", "-gap", False, "sign is flipped"),
        ("gap", "gap", False, "forget that factor in ∂L/∂w"),
        ("gap * x / len(data)", "gap / len(data)", False, "8 times too small"),
        ("2 * gap * x", "2 * gap", False, "twice the right one"),
        ("gap * x / 2", "gap / 2", False, "half the right one"),
        ("gap", "gap * x", False, "swapped"),
        ("gap * x", "-gap", False, "∂L/∂b has the wrong sign"),
        ("gap * x", "gap * gap", False, "∂L/∂w is right, but ∂L/∂b is not"),
        ("x", "1", False, "Not yet"),
    ],
)
def test_gradient_matches(dw: str, db: str, passed: bool, message: str) -> None:
    ok, text = gradient_matches(learner(gradient_code(dw, db)), GRADIENT)
    assert ok is passed, text
    assert message in text


def test_gradient_of_a_mean_loss_recognises_a_sum() -> None:
    params = {**GRADIENT, "loss": "sum((w * x + b - y) ** 2 for x, y in data) / len(data)"}
    ok, text = gradient_matches(learner(gradient_code("2 * gap * x", "2 * gap")), params)
    assert not ok and "8 times too large" in text
    right = gradient_code("2 * gap * x / len(data)", "2 * gap / len(data)")
    assert gradient_matches(learner(right), params)[0]


def test_gradient_against_the_learners_loss_and_custom_mistakes() -> None:
    code = gradient_code("gap * x", "gap") + f"\ndef loss(w, b):\n    return {LOSS}\n"
    assert gradient_matches(learner(code), {**GRADIENT, "loss": "loss"})[0]
    no_bias = gradient_code("(w * x - y) * x", "w * x - y")
    params = {
        **GRADIENT,
        "mistakes": [
            {
                "when": (
                    "(sum((w * x - y) * x for x, y in data), sum(w * x - y for x, y in data))"
                ),
                "message": "bias missing",
            }
        ],
    }
    assert gradient_matches(learner(no_bias), params) == (False, "bias missing")


def test_gradient_shape_and_missing_function() -> None:
    ok, text = gradient_matches(learner("def gradient(w, b):\n    return 1.0\n"), GRADIENT)
    assert not ok and "should return 2 numbers" in text
    assert gradient_matches(learner("x = 1"), GRADIENT) == (
        False,
        "Define a function called `gradient` and press Run first.",
    )


def test_the_least_squares_line_has_no_slope() -> None:
    """The reference the check differentiates is the lesson's loss: zero slope at its minimum."""
    xs, ys = np.array(DATA).T
    w, b = np.polyfit(xs, ys, 1)
    ns = learner(gradient_code("gap * x", "gap"))
    assert np.allclose(ns["gradient"](w, b), (0, 0), atol=1e-9)


# ---------------------------------------------------------------------------- good_fit

FIT = {"w": "my_w", "b": "my_b", "data": DATA, "within": 0.1}


@pytest.mark.parametrize(
    ("w", "b", "passed", "message"),
    [
        (0.6, 0.2, True, "Good fit"),
        (0.9, 0.2, False, "too steep"),
        (0.3, 0.2, False, "too flat"),
        (0.594, 1.0, False, "runs above the points: lower my_b"),
        (0.594, -0.5, False, "runs below the points: raise my_b"),
    ],
)
def test_good_fit(w: float, b: float, passed: bool, message: str) -> None:
    ok, text = good_fit(learner(f"my_w = {w}\nmy_b = {b}\n"), FIT)
    assert ok is passed, text
    assert message in text


def test_good_fit_needs_numbers() -> None:
    assert good_fit(learner("my_w = 0.6"), FIT) == (
        False,
        "Set `my_w` and `my_b` to numbers and press Run first.",
    )
    ok, text = good_fit(learner("my_w = 0.6\nmy_b = 'low'"), FIT)
    assert not ok and "should be a number" in text


# ---------------------------------------------------------------------------- through the kernel


def test_an_error_in_learner_code_becomes_a_readable_verdict() -> None:
    """A check lets the learner's exception through; the kernel names it and the learner's line."""
    runtime = Runtime("cpu")
    exec("def gradient(w, b):\n    return 1 / 0, 0\n", runtime.ns)
    params = {**GRADIENT}
    reply = runtime.check(KCheck(1, "grad", "gradient_matches", params))
    assert isinstance(reply, KChecked)
    assert not reply.passed
    assert "raised an error" in reply.message and "ZeroDivisionError" in reply.message


def run_page(lesson: Any, after: dict[str, str]) -> dict[str, Any]:
    """Every cell of a page in page order, like the kernel at start, with code run after some
    cells (a solution runs after the cell it edits, as `lessons check` runs it)."""
    ns: dict[str, Any] = {"__name__": "__main__"}
    for cell in lesson.cells.values():
        exec(cell.code, ns)
        if cell.id in after:
            exec(after[cell.id], ns)
    return ns


@pytest.mark.parametrize("name", MINE)
def test_lesson_exercises_fail_as_given_and_pass_with_the_solution(name: str) -> None:
    lesson = load_lesson(LESSONS / name / "lesson.md")
    assert lesson.exercises, f"{lesson.slug} has no exercise"
    for exercise in lesson.exercises.values():
        where = f"{lesson.slug}/{exercise.id}"
        assert exercise.solution and len(exercise.hints) >= 2, where
        check = find_check(exercise.check, str(lesson.folder))
        assert check is not None, where
        passed, message = check(run_page(lesson, {}), exercise.params)
        assert not passed, f"{where} passes before the learner did anything: {message}"
        passed, message = check(
            run_page(lesson, {exercise.cell: exercise.solution}), exercise.params
        )
        assert passed, f"{where}: {message}"


# ---------------------------------------------------------------------------- the toolkit


def test_one_tolerance_rule_relative_above_one_absolute_below() -> None:
    assert close(1000.0, 1000.0005, 1e-6) and not close(1000.0, 1000.01, 1e-6)
    assert close(0.0, 5e-7, 1e-6) and not close(0.0, 2e-6, 1e-6)
    assert close([3.0, 4.0], [3.0, 4.0000001], 1e-6)
    assert not close([1.0, 2.0], [1.0, 2.0, 3.0])  # shapes differ
    assert not close(float("nan"), float("nan")) and error(np.inf, 1.0) == np.inf


def test_learner_values_are_read_one_way() -> None:
    torch = pytest.importorskip("torch")
    assert number(torch.tensor([2.5])) == 2.5 and number(np.float32(1.5)) == 1.5
    assert number(True) is None and number("3") is None and number([1, 2]) is None
    assert numbers((1, torch.tensor(2.0)), 2) is not None
    assert numbers([1, 2, 3], 2) is None and numbers("ab") is None
    got = array(torch.ones(2, 3))
    assert got is not None and got.shape == (2, 3)
    assert define_first("step", "w", "learning_rate") == (
        False,
        "Define a function called `step(w, learning_rate)` and press Run first.",
    )


def test_mistakes_come_in_the_lesson_files_order_with_their_fields_filled() -> None:
    params = {"mistakes": [{"when": "late", "message": "late by {n} (x={x:.1f}) {kept}"}]}
    mistakes = Mistakes(params, {"early": "early", "late": "code's words"})
    assert [m for _, m in mistakes.candidates({"early": 1, "late": 2})] == [
        "late by {n} (x={x:.1f}) {kept}",
        "early",
    ]
    said = mistakes.first({"early": lambda: True, "late": lambda: True}, None, n=3, x=0.25)
    assert said == "late by 3 (x=0.2) {kept}"
    assert fill("{name} is {name}", name="w") == "w is w"


def test_a_bundles_checks_load_from_its_folder_and_reload_when_edited(tmp_path: Path) -> None:
    source = (
        "from app.kernel.checks import check\n\n\n"
        '@check("mine")\n'
        "def mine(ns, params):\n"
        "    return True, {word!r}\n"
    )
    path = tmp_path / "checks.py"
    path.write_text(source.format(word="first"))
    assert find_check("mine", str(tmp_path))({}, {}) == (True, "first")  # type: ignore[misc]
    assert find_check("mine") is None  # a bundle's checks stay out of the toolkit's table
    path.write_text(source.format(word="second, a little longer"))
    assert find_check("mine", str(tmp_path))({}, {}) == (True, "second, a little longer")  # type: ignore[misc]
    path.write_text("from app.kernel.checks import check\n\nraise ValueError('broken')\n")
    with pytest.raises(ChecksError, match=r"checks\.py:3: ValueError: broken"):
        find_check("mine", str(tmp_path))
