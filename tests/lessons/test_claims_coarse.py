"""The numbers the prose states about coarse drawing (issue 15) are the plot's own: "the first
500 epochs" while the slider moves is the plot's `coarse_args`, "all 2000" the function's default,
read from the lesson's code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.content.loader import load_catalogue

LESSONS = Path(__file__).resolve().parents[2] / "lessons"
CATALOGUE = load_catalogue(LESSONS)

# (lesson, plot, argument, what the prose says while moving, what it says at rest)
CLAIMS = [
    ("the-seven-steps", "losses", "epochs", "first {coarse} epochs", "trains\nall {full}"),
    ("learning-rate-schedules", "training-plot", "runs", "shows a single run", "all five"),
    ("optimizers", "banana-race", "steps", "first {coarse} steps", "all {full}"),
]
WORDS = {1: "single", 5: "five"}


def default_of(code: str, function: str, argument: str) -> int:
    """The default value of `argument` of the lesson's `function`, from its code."""
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            args = node.args
            names = [a.arg for a in args.args][-len(args.defaults) :] if args.defaults else []
            for name, default in zip(names, args.defaults, strict=True):
                if name == argument:
                    return int(ast.literal_eval(default))
    raise AssertionError(f"{function} has no default for {argument}")


@pytest.mark.parametrize(("slug", "plot_id", "argument", "moving", "rest"), CLAIMS)
def test_the_prose_states_the_plots_own_coarse_and_full_numbers(
    slug: str, plot_id: str, argument: str, moving: str, rest: str
) -> None:
    lesson = CATALOGUE.get(slug)
    assert lesson is not None
    plot = lesson.plots[plot_id]  # type: ignore[index]
    coarse = int(plot.options["coarse_args"][argument])
    function = str(plot.options.get("paths") or plot.options["function"])  # a race: its paths
    code = "\n".join(cell.code for cell in lesson.cells.values())
    full = default_of(code, function, argument)
    text = (lesson.folder / "lesson.md").read_text()
    assert coarse < full
    assert moving.format(coarse=coarse, full=full) in text
    if "{" in rest:
        assert rest.format(coarse=coarse, full=full) in text
    else:
        assert (WORDS[coarse] in moving) and (WORDS[full] in rest) and rest in text
