"""Refresh the README's screenshots (`make screenshots`): start a real server, drive Debian's
Chromium through Playwright as a learner and a teacher, and write docs/screenshot-*.png.

Tests never write into the repository; this script is the one thing that does."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from live_server import LiveServer, start_server  # noqa: E402
from teacher_pages import join_room, open_room, sign_in  # noqa: E402

DOCS = ROOT / "docs"
PASSWORD = "screenshots only"

PLOT_DRAWN = """sel => {
  const div = document.querySelector(sel);
  return Boolean(div && div.data && div.data.length && document.body.dataset.kernel === "idle");
}"""
LINE_AT_10_IS = """want => {
  const div = document.querySelector("[data-plot=line]");
  return Boolean(div && div.data) && Math.abs(div.data[0].y[100] - want) < 1e-6;
}"""
ONE_POINT_AT = """want => {
  const t = window.descentTeacher;
  return Boolean(t && t.points.length === 1 && Math.abs(t.points[0][1] - want) < 1e-9);
}"""


def press(page: Any, slider: str, key: str, times: int) -> None:
    page.focus(f"input[type=range][aria-label='{slider}']")
    for _ in range(times):
        page.keyboard.press(key)


def the_line(browser: Any, server: LiveServer) -> None:
    """The line lesson at w = 1.5, b = 2: the formula, the code, both sliders and the plot."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{server.url}/lessons/the-line")
    page.wait_for_function(PLOT_DRAWN, arg="[data-plot=line]")
    press(page, "w", "ArrowRight", 5)
    press(page, "b", "ArrowRight", 20)
    page.wait_for_function(LINE_AT_10_IS, arg=1.5 * 10 + 2.0)
    page.locator(".prose .katex-display").first.evaluate(
        "el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 12)"
    )
    page.screenshot(path=str(DOCS / "screenshot-the-line.png"), animations="disabled")
    context.close()


def the_class(browser: Any, server: LiveServer) -> None:
    """A teacher's room on the loss landscape with one learner, Ada, who moved w and saved."""
    made = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    teacher, learner = (context.new_page() for context in made)
    for page in (teacher, learner):
        page.set_default_timeout(60_000)
    sign_in(teacher, server.url, PASSWORD)
    code = open_room(teacher, "Period 3", "the-loss-landscape")
    join_room(learner, server.url, code, "Ada", "the-loss-landscape")
    learner.wait_for_function(PLOT_DRAWN, arg="[data-plot=landscape]")
    teacher.wait_for_function(ONE_POINT_AT, arg=1.0)
    press(learner, "w", "ArrowRight", 25)
    teacher.wait_for_function(ONE_POINT_AT, arg=1.25)
    teacher.wait_for_function("() => document.querySelector('#roster [data-learner]') !== null")
    learner.click("[data-cell=loss] .cm-content")
    learner.keyboard.press("Control+End")
    learner.keyboard.type("\n# mine")
    learner.wait_for_selector("[data-save-state=loss][data-state=saved]")
    learner.evaluate("() => window.scrollTo(0, 0)")

    teacher.screenshot(path=str(DOCS / "screenshot-teacher.png"), full_page=True)
    learner.screenshot(path=str(DOCS / "screenshot-learner-in-room.png"))
    for context in made:
        context.close()


def main() -> int:
    if not CHROMIUM.exists():
        print(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
        return 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "server.log", env={"DESCENT_TEACHER_PASSWORD": PASSWORD})
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                the_line(browser, server)
                the_class(browser, server)
                browser.close()
        finally:
            server.stop()
    for name in ("the-line", "teacher", "learner-in-room"):
        print(f"wrote docs/screenshot-{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
