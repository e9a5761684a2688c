"""A teacher's own lessons, end to end in real sandboxed kernels: a bundle copied from a built-in
lesson, with its exercise and its check changed, works beside the built-in lessons with no
change to app/; `python -m app lessons check` passes on the built-in lessons and names the file
and line of a solution that does not pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import ROOT

from app.config import Settings
from app.content.loader import load_catalogue
from app.content.model import ExerciseId, Lesson
from tests.lessons.harness import KernelService

LESSONS = ROOT / "lessons"
SOURCE = ROOT / "tests" / "fixtures" / "learning-rate-and-batch-size"  # frozen copy

CHECKS = '''"""Checks of my own lesson."""

from app.kernel.checks import Mistakes, Verdict, check, define_first, learner_function, number


@check("doubles", mistakes=("adds_two", "squares"))
def doubles(ns, params) -> Verdict:
    """The learner's double(x) is 2 * x."""
    fn = learner_function(ns, "double")
    if fn is None:
        return define_first("double", "x")
    got = [number(fn(x)) for x in range(-3, 4)]
    if got == [2.0 * x for x in range(-3, 4)]:
        return True, "Correct: double(x) is x + x."
    slip = Mistakes(params).first(
        {
            "adds_two": lambda: got == [x + 2.0 for x in range(-3, 4)],
            "squares": lambda: got == [float(x * x) for x in range(-3, 4)],
        }
    )
    return False, slip or f"Not yet: double(3) gave {got[-1]}."
'''

EXERCISE = """```{exercise} double
cell: rule
check: doubles
prompt: Write `double(x)`.
hints:
  - "Twice x."
solution: |
  def double(x):
      return SOLUTION
mistakes:
  - when: adds_two
    message: "Twice x is x times 2, not x plus 2."
    answer: |
      def double(x):
          return x + 2
  - when: squares
    message: "x * x squares x; double it instead."
    answer: |
      def double(x):
          return x * x
```"""


def teachers_lesson(
    folder: Path,
    solution: str = "2 * x",
    slug: str = "doubling",
    exercise: str = "",
    checks: str = "",
) -> Path:
    """The built-in lesson copied into a teacher's folder, its exercise and check replaced."""
    folder.chmod(0o755)  # the sandbox reads it as an unprivileged user
    bundle = folder / slug
    shutil.copytree(SOURCE, bundle, ignore=shutil.ignore_patterns("__pycache__"))
    lesson = bundle / "lesson.md"
    text = lesson.read_text(encoding="utf-8")
    text = text.replace("slug: learning-rate-and-batch-size", f"slug: {slug}", 1)
    text = text.replace("track: C", "track: T", 1)
    start = text.index("```{exercise}")
    end = text.index("\n```", start) + 4
    exercise = exercise or EXERCISE.replace("SOLUTION", solution)
    lesson.write_text(text[:start] + exercise + text[end:], encoding="utf-8")
    (bundle / "checks.py").write_text(checks or CHECKS, encoding="utf-8")
    return bundle


@pytest.fixture
def teacher(tmp_path: Path) -> Iterator[tuple[KernelService, Lesson]]:
    """Kernels of a server whose DESCENT_LESSONS_DIR names the built-in and a teacher's folder."""
    teachers_lesson(tmp_path)
    settings = Settings(lessons_dir=(LESSONS, tmp_path), cell_timeout_s=120, call_timeout_s=60)
    lesson = load_catalogue(settings.lessons_dir).get("doubling")
    assert lesson is not None
    service = KernelService(settings)
    yield service, lesson
    service.stop()


def test_a_teachers_bundle_checks_in_a_real_kernel(teacher: tuple[KernelService, Lesson]) -> None:
    kernels, lesson = teacher
    ex = lesson.exercises[ExerciseId("double")]
    kernel = kernels.kernel(lesson.sandbox)
    try:
        for reply in kernels.run_lesson(kernel, lesson):
            assert reply.ok, reply.error
        missing = kernels.check(kernel, lesson, ex.id)
        assert missing.message == "Define a function called `double(x)` and press Run first."
        for mistake in ex.mistakes:
            assert kernels.run(kernel, mistake.answer, ex.cell).ok
            verdict = kernels.check(kernel, lesson, ex.id)
            assert (verdict.passed, verdict.message) == (False, mistake.message)
        assert kernels.run(kernel, ex.solution, ex.cell).ok
        verdict = kernels.check(kernel, lesson, ex.id)
        assert verdict.passed, verdict.message
        built_in = load_catalogue(LESSONS).get("learning-rate-and-batch-size")
        assert built_in is not None  # the built-in lessons' checks work beside it
        assert kernels.run(kernel, built_in.exercises[ExerciseId("scaling-rule")].solution).ok
        assert kernels.check(kernel, built_in, ExerciseId("scaling-rule")).passed
    finally:
        kernels.release(kernel)


def lessons_check(*folders: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DESCENT_CELL_TIMEOUT_S": "120",
        "DESCENT_CALL_TIMEOUT_S": "60",
    }
    return subprocess.run(
        [sys.executable, "-m", "app", "lessons", "check", *map(str, folders)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_lessons_check_passes_on_the_built_in_lessons() -> None:
    done = lessons_check()
    assert done.returncode == 0, done.stdout + done.stderr
    exercises = sum(len(lesson.exercises) for lesson in load_catalogue(LESSONS).lessons)
    assert done.stdout.count("ok   ") == exercises
    assert "Every lesson loads, and every exercise checks out." in done.stdout


def test_lessons_check_names_the_line_of_a_solution_that_fails(tmp_path: Path) -> None:
    bundle = teachers_lesson(tmp_path, solution="x + 2")
    lesson = bundle / "lesson.md"
    line = next(i + 1 for i, t in enumerate(lesson.read_text().splitlines()) if "{exercise}" in t)
    done = lessons_check(tmp_path)
    assert done.returncode == 1
    assert (
        f"{lesson}:{line}: exercise 'double': its solution does not pass: "
        "Twice x is x times 2, not x plus 2." in done.stdout
    ), done.stdout
    assert "1 problem found" in done.stderr


def test_the_worked_example_of_the_docs_checks_out(tmp_path: Path) -> None:
    """docs/lessons.md's custom check, copied as a teacher would, passes `lessons check`."""
    doc = (ROOT / "docs" / "lessons.md").read_text(encoding="utf-8")
    guide = doc[doc.index("## Your own lesson") :]
    exercise = guide[
        guide.index("```{exercise}") : guide.index("\n````", guide.index("```{exercise}"))
    ]
    code = guide.index("```python\n") + len("```python\n")
    checks = guide[code : guide.index("\n```", code) + 1]
    teachers_lesson(tmp_path, slug="adam-scaling", exercise=exercise, checks=checks)
    done = lessons_check(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok   adam-scaling/square-root" in done.stdout
