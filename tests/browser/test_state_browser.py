"""What the page says about its state: a lost connection is shown wherever the learner has
scrolled and greys the plots until they are current again (then says the kernel is fresh); a
running cell has its own Stop and a timer; messages are rendered; numbers are readable; the index
shows where to start and the learner's progress marks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import LOAD_MS, WAIT_MS, open_clean_lesson, replace_code
from live_server import start_server

pytestmark = pytest.mark.browser

VISIBLE_IN_VIEWPORT = """sel => {
  const el = document.querySelector(sel);
  if (!el || el.hidden) return false;
  const r = el.getBoundingClientRect();
  return r.top >= 0 && r.bottom <= window.innerHeight && getComputedStyle(el).position === "fixed";
}"""


def test_a_lost_connection_shows_where_the_learner_is_and_greys_the_plots(
    page: Any, tmp_path: Path
) -> None:
    server = start_server(tmp_path / "first.log")
    try:
        page.goto(f"{server.url}/lessons/the-loss-landscape")
        page.wait_for_function("document.body.dataset.kernel === 'idle'", timeout=LOAD_MS)
        page.locator("[data-plot-box=line]").scroll_into_view_if_needed()
        server.stop()
        page.wait_for_function(VISIBLE_IN_VIEWPORT, arg="#connection-banner")
        assert "Connection lost" in page.inner_text("#connection-banner")
        stale = "() => Array.from(document.querySelectorAll('[data-plot]'), d => d.dataset.stale)"
        assert page.evaluate(stale) == ["true", "true"]

        server = start_server(tmp_path / "second.log", port=server.port)
        page.wait_for_function("document.body.dataset.connection === 'open'", timeout=30_000)
        page.wait_for_function(f"() => ({stale})().every((s) => s === undefined)", timeout=LOAD_MS)
        assert "kernel is fresh" in page.inner_text("#connection-banner")
    finally:
        server.stop()


def test_a_running_cell_has_its_own_stop_and_a_timer(page: Any, lesson_server: Any) -> None:
    open_clean_lesson(page, lesson_server, "the-loss-landscape")
    slow = "import time\nfor _ in range(100):\n    time.sleep(0.1)"
    replace_code(page, "search", slow, typing=False)
    page.click("[data-run=search]")
    stop = page.locator("[data-stop=search]")
    stop.wait_for(state="visible")
    timer = "document.querySelector('[data-timer=search]').textContent"
    page.wait_for_function(f"() => /running [1-9]\\.\\d s/.test({timer})", timeout=WAIT_MS)
    stop.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('[data-output=search]').dataset.ok === 'false'",
        timeout=WAIT_MS,
    )
    assert stop.is_hidden() and page.locator("[data-timer=search]").is_hidden()


def test_messages_are_rendered_and_readouts_stay_readable(page: Any, lesson_server: Any) -> None:
    open_clean_lesson(page, lesson_server, "the-loss-landscape")
    page.evaluate(
        """() => {
          const p = document.getElementById("page-message");
          p.hidden = false;
        }"""
    )
    # The page's own Markdown renderer: code and bold become elements, markup stays text.
    html = page.evaluate(
        """async () => {
          const { markdown } = await import(document.querySelector(
            'script[src*="js/lesson.js"]').src.replace("lesson.js", "status.js"));
          const { fmt } = await import(document.querySelector(
            'script[src*="js/lesson.js"]').src.replace("lesson.js", "format.js"));
          return [markdown("Call `update()` **once** <b>x</b>"),
                  [fmt(1234567.891), fmt(0.000012345), fmt(NaN), fmt(-Infinity), fmt(2.5), fmt(7)]];
        }"""
    )
    assert html[0] == "Call <code>update()</code> <strong>once</strong> &lt;b&gt;x&lt;/b&gt;"
    assert html[1] == ["1.2346e6", "12.345e-6", "not a number", "minus infinity", "2.5", "7"]
    # Readouts on the page use the same format: a few significant digits.
    text = page.inner_text("[data-readouts=landscape]")
    assert "loss = 13.77" in text, text


def test_the_index_shows_where_to_start_and_progress_marks(page: Any, lesson_server: Any) -> None:
    page.goto(f"{lesson_server.url}/")
    start = page.locator("a.start")
    assert start.get_attribute("href") == "/lessons/the-line"
    assert page.locator("#continue").is_hidden()
    open_clean_lesson(page, lesson_server, "the-line")
    page.goto(f"{lesson_server.url}/")
    page.wait_for_selector("[data-lesson-slug=the-line] [data-mark][data-state]")
    total = int(str(page.get_attribute("[data-lesson-slug=the-line]", "data-exercises")))
    want = f"0 of {total} exercises" if total else "✓ opened"
    assert page.inner_text("[data-lesson-slug=the-line] [data-mark]") == want
    assert page.get_attribute("#continue a", "href") == "/lessons/the-line"
    assert page.locator("[data-lesson-slug=the-loss] [data-mark]").inner_text() == ""
