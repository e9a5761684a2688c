"""Every page, checked as learners with other needs meet it: axe-core finds no serious problem on
any lesson (at desktop and phone width), the index, the join and error pages, or the teacher's
pages; and at 390 px wide no page scrolls sideways."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from a11y import assert_accessible
from helpers import LOAD_MS, TEACHER_PASSWORD, open_clean_lesson
from live_server import ROOT, LiveServer

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def lesson_slugs() -> list[str]:
    """Every lesson's slug, read from its front matter (lessons/x.md or lessons/x/lesson.md)."""
    files = sorted(ROOT.glob("lessons/*.md")) + sorted(ROOT.glob("lessons/*/lesson.md"))
    slugs = []
    for path in files:
        found = re.search(r"^slug:\s*(\S+)", path.read_text(encoding="utf-8"), re.M)
        if found:
            slugs.append(found.group(1))
    return slugs


# The page's widest element, when it is wider than the window (nothing may scroll sideways).
SIDEWAYS = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  };
  let worst = null;
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 1 && !clipped(el) && (!worst || r.right > worst.right)) {
      const what = el.tagName + (el.id ? "#" + el.id : "") + "." + el.className;
      worst = { right: r.right, what };
    }
  }
  return { scrollWidth: document.documentElement.scrollWidth, width, worst };
}"""


def assert_no_sideways_scroll(page: Any, where: str) -> None:
    page.wait_for_timeout(300)  # plots resize on the window's resize event
    found = page.evaluate(SIDEWAYS)
    assert found is None, f"{where} scrolls sideways at {PHONE['width']} px: {found}"


def at_phone_size(page: Any, where: str) -> None:
    page.set_viewport_size(PHONE)
    assert_no_sideways_scroll(page, where)
    assert_accessible(page, f"{where} at {PHONE['width']} px")


@pytest.mark.parametrize("slug", lesson_slugs())
def test_every_lesson_passes_axe_and_fits_a_phone(page: Any, lesson_server: Any, slug: str) -> None:
    open_clean_lesson(page, lesson_server, slug)
    # The partial plotly.js the page loaded draws every trace its figures hold.
    bundle = page.evaluate("() => window.Plotly ? window.Plotly.descentBundle || 'full' : 'none'")
    missing = page.evaluate("() => Array.from(window.descent.missingTraces)")
    assert not missing, f"{slug} loaded plotly bundle {bundle}, which cannot draw {missing}"
    assert_accessible(page, slug)
    at_phone_size(page, slug)


@pytest.mark.parametrize("path", ["/", "/join", "/join/NOSUCH", "/lessons/no-such-lesson"])
def test_the_pages_around_the_lessons_pass_axe_and_fit_a_phone(
    page: Any, lesson_server: Any, path: str
) -> None:
    page.goto(lesson_server.url + path)
    assert_accessible(page, path)
    at_phone_size(page, path)


@pytest.fixture
def two_tabs(browser: Any) -> Iterator[tuple[Any, Any, list[str]]]:
    """A teacher's tab and a learner's tab, in separate browsers (cookies), with their errors."""
    errors: list[str] = []
    contexts = [browser.new_context(viewport={"width": 1100, "height": 900}) for _ in range(2)]
    tabs = []
    for context in contexts:
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        tab.on("pageerror", lambda err: errors.append(str(err)))
        tabs.append(tab)
    yield tabs[0], tabs[1], errors
    for context in contexts:
        context.close()


def test_the_teachers_pages_pass_axe_and_fit_a_phone(
    teacher_server: LiveServer, two_tabs: tuple[Any, Any, list[str]]
) -> None:
    teacher, learner, errors = two_tabs
    base = teacher_server.url

    teacher.goto(f"{base}/teacher/login")
    assert_accessible(teacher, "the sign-in page")
    teacher.fill("#login-password", "not the password")
    teacher.click("button[type=submit]")
    teacher.wait_for_selector(".form-error")
    assert_accessible(teacher, "the sign-in page with an error")

    teacher.fill("#login-password", TEACHER_PASSWORD)
    teacher.click("button[type=submit]")
    teacher.wait_for_url(f"{base}/teacher")
    assert_accessible(teacher, "the dashboard without rooms")
    teacher.fill("#room-name", "Period <b>3</b>")
    teacher.select_option("#room-lesson", "the-line")
    teacher.click("#new-room button[type=submit]")
    teacher.wait_for_url(re.compile(r"/teacher/rooms/\d+$"))
    room_url = teacher.url
    code = teacher.inner_text("#join-code").strip()
    teacher.wait_for_function("() => document.getElementById('class-landscape').data")
    assert_accessible(teacher, "an empty room")

    learner.goto(f"{base}/join/{code}")
    assert_accessible(learner, "the join page with its code")
    learner.fill("#join-name", "Ada <i>L</i>")
    learner.click("button[type=submit]")
    learner.wait_for_url(f"{base}/lessons/the-line")
    learner.wait_for_function("document.body.dataset.kernel === 'idle'", timeout=LOAD_MS)
    learner.wait_for_selector("#room-banner:not([hidden])")
    assert_accessible(learner, "a lesson inside a room")

    teacher.wait_for_function("() => document.querySelector('#roster [data-learner]') !== null")
    teacher.wait_for_function("() => (window.descentTeacher?.points || []).length === 1")
    assert_accessible(teacher, "a room with a learner")
    # Names are text, never markup: in the roster, and on the class landscape's dots.
    assert "Ada <i>L</i>" in teacher.inner_text("#roster")
    assert "The line" in teacher.inner_text("#roster [data-learner] td.online")
    teacher.check("#show-names")
    dot_label = "#class-landscape .textpoint text"
    teacher.wait_for_selector(dot_label)
    assert teacher.text_content(dot_label) == "Ada <i>L</i>"
    at_phone_size(teacher, "a room with a learner")

    teacher.set_viewport_size({"width": 1100, "height": 900})
    teacher.click("#roster [data-learner] th a")
    teacher.wait_for_url(re.compile(r"/learners/"))
    assert_accessible(teacher, "a learner's code")
    at_phone_size(teacher, "a learner's code")

    teacher.goto(f"{base}/teacher")
    assert_accessible(teacher, "the dashboard with a room")
    at_phone_size(teacher, "the dashboard with a room")
    teacher.goto(room_url)
    assert not errors, errors
