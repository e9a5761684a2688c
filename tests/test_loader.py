"""The lesson loader: every real lesson loads, and a broken lesson is refused with the file, the
line and the problem, before the server listens."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from live_server import ROOT, VENV_PYTHON

from app.config import Settings
from app.content.loader import LessonError, load_catalogue, load_lesson
from app.plots.registry import PLOT_KINDS
from app.server import create_app

LESSONS = sorted((ROOT / "lessons").glob("*/lesson.md"))

FRONT = """\
---
title: A test lesson
slug: test-lesson
track: A
order: 1
summary: Used by the loader tests.
---
"""

SLIDER_W = """
```{slider} w
min: -10
max: 10
step: 0.1
value: 1
```
"""

CODE_Y = """
```{code} model
def y(x, w):
    return w * x
```
"""


def write(folder: Path, text: str, name: str = "lesson.md") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, marker: str, nth: int = 1) -> int:
    """The 1-based line of the `nth` line that contains `marker`."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if marker in line]
    assert len(hits) >= nth, f"{marker!r} occurs {len(hits)} times in the test lesson"
    return hits[nth - 1]


def refusal(path: Path) -> LessonError:
    with pytest.raises(LessonError) as caught:
        load_lesson(path)
    return caught.value


# ----------------------------------------------------------------------------- real lessons


@pytest.mark.parametrize("path", LESSONS, ids=[p.parent.name for p in LESSONS])
def test_every_real_lesson_loads(path: Path) -> None:
    lesson = load_lesson(path)
    assert lesson.title and lesson.summary
    assert lesson.blocks
    for slider in lesson.sliders.values():
        assert slider.min < slider.max
        assert slider.accepts(slider.value)
        assert slider.label
    for plot in lesson.plots.values():
        assert plot.kind in PLOT_KINDS
        assert set(plot.sliders) <= set(lesson.sliders)


def test_the_catalogue_orders_the_first_lessons_of_track_a() -> None:
    catalogue = load_catalogue(ROOT / "lessons")
    slugs = [lesson.slug for lesson in catalogue.lessons]
    assert slugs[:3] == ["the-line", "several-inputs", "the-sigmoid"]
    assert [(lesson.track, lesson.order) for lesson in catalogue.lessons] == sorted(
        (lesson.track, lesson.order) for lesson in catalogue.lessons
    )


def test_the_line_lesson_has_its_sliders_and_locked_model() -> None:
    lesson = load_lesson(ROOT / "lessons" / "the-line" / "lesson.md")
    assert list(lesson.sliders) == ["w", "b"]
    w = lesson.sliders["w"]
    assert (w.min, w.max, w.step, w.value) == (-10, 10, 0.1, 1)
    assert not lesson.cells["model"].editable
    assert lesson.plots["line"].kind == "line"
    assert lesson.plots["line"].sliders == ("w", "b")


# ----------------------------------------------------------------------------- front matter


def test_lesson_without_front_matter_is_refused_at_line_1(tmp_path: Path) -> None:
    path = write(tmp_path, "# The line\n\nSome text.\n")
    err = refusal(path)
    assert (err.path, err.line) == (path, 1)
    assert "front matter" in err.problem
    assert str(err) == f"{path}:1: {err.problem}"


@pytest.mark.parametrize(
    ("front", "words"),
    [
        (FRONT.replace("summary: Used by the loader tests.\n", ""), "summary"),
        (FRONT.replace("track: A", "track: AB"), "track"),
        (FRONT.replace("order: 1", "order: first"), "order"),
        (FRONT.replace("slug: test-lesson", "slug: Test Lesson"), "slug"),
        (FRONT.replace("order: 1", "order: 1\nauthor: me"), "author"),
    ],
    ids=["missing-summary", "bad-track", "order-not-a-number", "bad-slug", "unknown-field"],
)
def test_invalid_front_matter_is_refused_naming_the_field(
    tmp_path: Path, front: str, words: str
) -> None:
    err = refusal(write(tmp_path, front + "Text.\n"))
    assert err.line == 1
    assert err.problem.startswith("front matter")
    assert words in err.problem


def test_front_matter_with_broken_yaml_reports_the_broken_line(tmp_path: Path) -> None:
    text = FRONT.replace("track: A", "track: : A") + "Text.\n"
    err = refusal(write(tmp_path, text))
    assert err.line == line_of(text, "track: : A")
    assert "invalid YAML" in err.problem


# ----------------------------------------------------------------------------- directives

BROKEN = {
    "unknown-directive": (
        "```{video} intro\nclip.mp4\n```\n",
        "```{video}",
        "unknown directive {video}",
    ),
    "slider-min-not-below-max": (
        "```{slider} w\nmin: 5\nmax: 5\nstep: 0.1\nvalue: 5\n```\n",
        "```{slider} w",
        "min (5.0) must be below max (5.0)",
    ),
    "slider-value-out-of-range": (
        "```{slider} w\nmin: -10\nmax: 10\nstep: 0.1\nvalue: 20\n```\n",
        "```{slider} w",
        "value 20.0 lies outside [-10.0, 10.0]",
    ),
    "slider-step-zero": (
        "```{slider} w\nmin: -10\nmax: 10\nstep: 0\nvalue: 1\n```\n",
        "```{slider} w",
        "step",
    ),
    "slider-unknown-field": (
        "```{slider} w\nmin: -10\nmax: 10\nstep: 0.1\nvalue: 1\ncolour: red\n```\n",
        "```{slider} w",
        "colour",
    ),
    "slider-not-a-variable-name": (
        "```{slider} 2w\nmin: -10\nmax: 10\nstep: 0.1\nvalue: 1\n```\n",
        "```{slider} 2w",
        "Python variable name",
    ),
    "slider-bad-yaml": (
        "```{slider} w\nmin: -10\nmax: 10\nstep: : 0.1\nvalue: 1\n```\n",
        "step: : 0.1",
        "invalid YAML",
    ),
    "plot-unknown-kind": (
        SLIDER_W + CODE_Y + "\n```{plot} p\nkind: histogram\nsliders: [w]\n```\n",
        "```{plot} p",
        "unknown kind 'histogram'",
    ),
    "plot-coarse-args-where-no-function-takes-them": (
        SLIDER_W + CODE_Y + "\n```{plot} p\nkind: line\nsliders: [w]\ncoarse_args: {n: 2}\n```\n",
        "```{plot} p",
        "cannot take coarse_args",
    ),
    "plot-unknown-slider": (
        SLIDER_W + CODE_Y + "\n```{plot} p\nkind: line\nsliders: [w, q]\n```\n",
        "```{plot} p",
        "no slider 'q'",
    ),
    "plot-slider-declared-below": (
        CODE_Y + "\n```{plot} p\nkind: line\nsliders: [w]\n```\n" + SLIDER_W,
        "```{plot} p",
        "no slider 'w' is declared above it",
    ),
    "plot-unknown-option": (
        SLIDER_W + CODE_Y + "\n```{plot} p\nkind: line\nsliders: [w]\ncolour: red\n```\n",
        "```{plot} p",
        "colour",
    ),
    "plot-option-of-wrong-type": (
        SLIDER_W + CODE_Y + "\n```{plot} p\nkind: line\nsliders: [w]\npoints: many\n```\n",
        "```{plot} p",
        "points",
    ),
    "plot-bad-yaml": (
        SLIDER_W + CODE_Y + "\n```{plot} p\nkind: line\nsliders: [w\nfunction: y\n```\n",
        "function: y",
        "invalid YAML",
    ),
    "code-syntax-error": (
        "```{code} model\ndef y(x, w):\n    return w *\n```\n",
        "return w *",
        "code 'model' is not valid Python",
    ),
    "code-syntax-error-after-options": (
        "```{code} model\n:editable: false\nimport numpy as np\n\ndef y(x w):\n    return x\n```\n",
        "def y(x w)",
        "not valid Python",
    ),
    "code-unknown-option": (
        "```{code} model\n:hidden: true\nx = 1\n```\n",
        "```{code} model",
        "unknown option :hidden:",
    ),
    "exercise-unknown-cell": (
        CODE_Y + "\n```{exercise} e1\ncell: nowhere\ncheck: output\n```\n",
        "```{exercise} e1",
        "no code cell 'nowhere'",
    ),
}


@pytest.mark.parametrize(("body", "marker", "words"), BROKEN.values(), ids=BROKEN.keys())
def test_broken_directive_is_refused_naming_line_and_problem(
    tmp_path: Path, body: str, marker: str, words: str
) -> None:
    text = FRONT + "\nSome prose first.\n\n" + body
    path = write(tmp_path, text)
    err = refusal(path)
    assert err.path == path
    assert words in err.problem
    assert err.line == line_of(text, marker), err
    assert str(err) == f"{path}:{err.line}: {err.problem}"


def test_slider_declared_twice_is_refused_at_the_second(tmp_path: Path) -> None:
    text = FRONT + SLIDER_W + "\nMore prose.\n" + SLIDER_W
    err = refusal(write(tmp_path, text))
    assert err.line == line_of(text, "```{slider} w", nth=2)
    assert "declared twice" in err.problem


def test_code_cell_declared_twice_is_refused_at_the_second(tmp_path: Path) -> None:
    text = FRONT + CODE_Y + CODE_Y
    err = refusal(write(tmp_path, text))
    assert err.line == line_of(text, "```{code} model", nth=2)
    assert "declared twice" in err.problem


def test_a_well_formed_test_lesson_loads(tmp_path: Path) -> None:
    """The broken cases above differ from this one only by their fault."""
    text = FRONT + SLIDER_W + CODE_Y + "\n```{plot} p\nkind: line\nsliders: [w]\n```\n"
    lesson = load_lesson(write(tmp_path, text))
    assert list(lesson.sliders) == ["w"]
    assert lesson.plots["p"].kind == "line"
    assert lesson.cells["model"].editable


# ----------------------------------------------------------------------------- catalogue


def bundle(folder: Path, text: str) -> Path:
    """A lesson bundle in `folder`, named by the slug in its front matter."""
    slug = next(
        line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("slug:")
    )
    (folder / slug).mkdir(parents=True)
    return write(folder / slug, text)


def test_two_lessons_with_one_slug_are_refused(tmp_path: Path) -> None:
    first = bundle(tmp_path / "a", FRONT + "One.\n")
    second = bundle(tmp_path / "b", FRONT.replace("order: 1", "order: 2") + "Two.\n")
    with pytest.raises(LessonError) as caught:
        load_catalogue([tmp_path / "a", tmp_path / "b"])
    assert caught.value.path == second
    assert "test-lesson" in caught.value.problem and str(first) in caught.value.problem


def test_two_lessons_in_one_place_of_a_track_are_refused(tmp_path: Path) -> None:
    bundle(tmp_path, FRONT + "One.\n")
    bundle(tmp_path, FRONT.replace("slug: test-lesson", "slug: other") + "Two.\n")
    with pytest.raises(LessonError) as caught:
        load_catalogue(tmp_path)
    assert "order 1" in caught.value.problem


def test_missing_lessons_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LessonError) as caught:
        load_catalogue(tmp_path / "nowhere")
    assert "does not exist" in caught.value.problem


def test_app_with_a_broken_lesson_refuses_to_build(tmp_path: Path, settings: Settings) -> None:
    text = FRONT + "\n```{slider} w\nmin: 1\nmax: 0\nstep: 0.1\nvalue: 0.5\n```\n"
    path = bundle(tmp_path, text)
    with pytest.raises(LessonError) as caught:
        create_app(settings.model_copy(update={"lessons_dir": (tmp_path,)}))
    assert caught.value.path == path
    assert caught.value.line == line_of(text, "```{slider} w")


def test_server_with_a_broken_lesson_stops_at_start_naming_file_and_line(tmp_path: Path) -> None:
    text = FRONT + CODE_Y + "\n```{plot} p\nkind: histogram\n```\n"
    path = bundle(tmp_path, text)
    python = VENV_PYTHON if VENV_PYTHON.exists() else Path("python")
    env = {
        "PATH": "/usr/bin:/bin",
        "DESCENT_LESSONS_DIR": str(tmp_path),
        "DESCENT_DATA_DIR": str(tmp_path / "data"),
        "DESCENT_PORT": "0",
    }
    proc = subprocess.run(
        [str(python), "-m", "app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0
    assert f"{path}:{line_of(text, '```{plot} p')}: plot 'p': unknown kind" in proc.stderr
    assert "Uvicorn running" not in proc.stderr
