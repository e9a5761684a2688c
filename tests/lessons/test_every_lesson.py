"""Every lesson in lessons/ runs its own code, draws its plots and passes its own exercises with
its reference solution, in a real sandboxed kernel."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.content.loader import load_catalogue
from app.content.model import Catalogue
from tests.lessons.harness import KernelService

SLUGS = [
    lesson.slug
    for lesson in load_catalogue(Path(__file__).resolve().parents[2] / "lessons").lessons
]


@pytest.mark.parametrize("slug", SLUGS)
def test_lesson_code_runs_and_every_plot_draws(
    slug: str, catalogue: Catalogue, kernels: KernelService
) -> None:
    lesson = catalogue.get(slug)
    assert lesson is not None
    kernel = kernels.kernel(lesson.sandbox)
    try:
        for reply in kernels.run_lesson(kernel, lesson):
            assert reply.ok, reply.error
        for plot_id in lesson.plots:
            reply = kernels.evaluate(kernel, lesson, plot_id)
            assert reply.error == "", f"plot {plot_id}: {reply.error}"
    finally:
        kernels.release(kernel)


EXERCISES = [
    (lesson.slug, ex_id)
    for lesson in load_catalogue(Path(__file__).resolve().parents[2] / "lessons").lessons
    for ex_id in lesson.exercises
]


@pytest.mark.parametrize(("slug", "exercise"), EXERCISES)
def test_reference_solution_passes_its_exercise(
    slug: str, exercise: str, catalogue: Catalogue, kernels: KernelService
) -> None:
    lesson = catalogue.get(slug)
    assert lesson is not None
    ex = lesson.exercises[exercise]  # type: ignore[index]
    assert ex.solution.strip(), f"{slug}/{exercise} has no reference solution"
    kernel = kernels.kernel(lesson.sandbox)
    try:
        for reply in kernels.run_lesson(kernel, lesson):
            assert reply.ok, reply.error
        solved = kernels.run(kernel, ex.solution, ex.cell)
        assert solved.ok, solved.error
        verdict = kernels.check(kernel, lesson, exercise)
        assert verdict.passed, verdict.message
    finally:
        kernels.release(kernel)
