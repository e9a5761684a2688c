"""Two browsers, one class: a learner drags a slider in their lesson and the dot that is them
moves on the class landscape in the teacher's browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_server import LiveServer
from teacher_pages import join_room, open_room, sign_in

from classroom.kit import PASSWORD

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1280, "height": 900}

PLOT_DRAWN = """sel => {
  const div = document.querySelector(sel);
  return Boolean(div && div.data && div.data.length && document.body.dataset.kernel === "idle");
}"""
ONE_POINT = "() => (window.descentTeacher?.points || []).length === 1"
POINT_AT = """want => {
  const t = window.descentTeacher;
  const div = document.getElementById("class-landscape");
  if (!t || !t.points.length || !div.data) return false;
  const dots = div.data[div.data.length - 1];
  return Math.abs(t.points[0][1] - want) < 1e-9 && Math.abs(dots.x[0] - want) < 1e-9;
}"""


@pytest.fixture
def contexts(browser: Any) -> Iterator[tuple[Any, Any, list[str]]]:
    errors: list[str] = []
    made = [browser.new_context(viewport=VIEWPORT) for _ in range(2)]
    pages = []
    for context in made:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.on("pageerror", lambda err: errors.append(str(err)))
        pages.append(page)
    yield pages[0], pages[1], errors
    for context in made:
        context.close()


def test_the_class_landscape_moves_when_a_learner_drags_a_slider(
    classroom_server: LiveServer, contexts: tuple[Any, Any, list[str]], tmp_path: Path
) -> None:
    teacher, learner, errors = contexts
    base = classroom_server.url

    sign_in(teacher, base, PASSWORD)
    code = open_room(teacher, "Period 3", "the-loss-landscape")
    join_room(learner, base, code, "Ada", "the-loss-landscape")
    learner.wait_for_function(PLOT_DRAWN, arg="[data-plot=landscape]")
    assert "Period 3" in learner.inner_text("#room-banner")

    teacher.wait_for_function(ONE_POINT)
    teacher.wait_for_function(POINT_AT, arg=1.0)  # the slider's starting value
    learner.focus("input[type=range][aria-label='w']")
    for _ in range(25):
        learner.keyboard.press("ArrowRight")
    teacher.wait_for_function(POINT_AT, arg=1.25)
    teacher.wait_for_function("() => document.querySelector('#roster [data-learner]') !== null")
    assert "Ada" in teacher.inner_text("#roster")
    # The surface under the dots is the lesson's own loss landscape.
    kinds = teacher.evaluate(
        "() => document.getElementById('class-landscape').data.map(t => t.type)"
    )
    assert kinds == ["contour", "scatter"]

    # The learner's edit is saved on the server and the cell says so.
    learner.click("[data-cell=loss] .cm-content")
    learner.keyboard.press("Control+End")
    learner.keyboard.type("\n# mine")
    learner.wait_for_selector("[data-save-state=loss][data-state=saved]")
    learner.evaluate("() => window.scrollTo(0, 0)")

    # Both views can be drawn; `make screenshots` refreshes the README's copies.
    teacher.screenshot(path=str(tmp_path / "teacher.png"), full_page=True)
    learner.screenshot(path=str(tmp_path / "learner-in-room.png"))
    assert (tmp_path / "teacher.png").stat().st_size > 0
    assert not errors, errors
