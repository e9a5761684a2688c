"""Lessons with the keyboard alone: Tab walks from the skip link to the next lesson without being
trapped in a code cell or changing code by passing through it; every slider is reached and moved,
a cell is edited and run, an exercise checked, training played and paused, a 3-D plot turned."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import LOAD_MS, WAIT_MS, editor_text, open_clean_lesson

pytestmark = pytest.mark.browser

MAX_TABS = 200

# What has the focus: a short, stable description.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return {kind: "body"};
  const cell = e.closest("[data-editor]");
  if (e.classList.contains("cm-content")) return {kind: "editor", id: cell.dataset.editor};
  if (e.dataset.slider) return {kind: "slider", id: e.dataset.slider, value: e.value};
  if (e.dataset.run) return {kind: "run", id: e.dataset.run};
  if (e.dataset.check) return {kind: "check", id: e.dataset.check};
  if (e.dataset.trainAction) {
    return {kind: "train-" + e.dataset.trainAction, id: e.closest("[data-train]").dataset.train};
  }
  if (e.dataset.plot) return {kind: "plot", id: e.dataset.plotId};
  if (e.classList.contains("skip-link")) return {kind: "skip"};
  if (e.matches(".prev-next a")) return {kind: "next-lesson"};
  if (e.closest(".modebar")) return {kind: "modebar"};
  return {kind: e.tagName.toLowerCase(), text: (e.textContent || "").trim().slice(0, 40)};
}"""

SOLUTION = ["def train(iterations):", "for _ in range(iterations):", "update()"]


def tab(page: Any, shift: bool = False) -> dict[str, Any]:
    page.keyboard.press("Shift+Tab" if shift else "Tab")
    return dict(page.evaluate(FOCUSED))


def type_lines(page: Any, lines: list[str]) -> None:
    """Type code as a learner does: the editor indents after each Enter by itself."""
    for i, line in enumerate(lines):
        if i:
            page.keyboard.press("Enter")
        page.keyboard.type(line)


def test_the_skip_link_leads_to_the_lesson(page: Any, lesson_server: Any) -> None:
    open_clean_lesson(page, lesson_server, "the-line")
    page.evaluate("() => document.activeElement.blur()")
    assert tab(page)["kind"] == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "lesson"
    assert tab(page)["kind"] != "skip"


def test_a_lesson_end_to_end_with_the_keyboard(page: Any, lesson_server: Any) -> None:
    """Gradient descent: pass through the editor untouched, come back, write the loop, run it,
    check it, play and pause the training, and reach the next lesson, all with keys."""
    page.goto(f"{lesson_server.url}/lessons/gradient-descent")
    page.wait_for_function("document.body.dataset.kernel === 'idle'", timeout=LOAD_MS)
    original = editor_text(page, "loop")
    seen: list[str] = []
    edited = ran = checked = played = False
    for _ in range(MAX_TABS):
        now = tab(page)
        seen.append(now["kind"])
        assert now["kind"] != "modebar", "plotly's toolbar took a tab stop"
        if now["kind"] == "editor" and not edited:
            # Passing through: the next Tab leaves the editor, and the code is unchanged.
            after = tab(page)
            assert after["kind"] == "run", f"Tab from the editor went to {after}"
            assert editor_text(page, "loop") == original, "a Tab changed the code"
            back = tab(page, shift=True)
            assert back["kind"] == "editor"
            # Working in it: select all, type the loop (Tab indents now), then Escape, Tab.
            page.keyboard.press("Control+a")
            type_lines(page, SOLUTION)
            page.keyboard.press("Escape")
            assert tab(page)["kind"] == "run", "Escape then Tab did not leave the editor"
            assert "for _ in range(iterations):" in editor_text(page, "loop")
            edited = True
            page.keyboard.press("Enter")
            page.wait_for_function(
                "() => document.querySelector('[data-output=loop]').dataset.ok === 'true'",
                timeout=WAIT_MS,
            )
            ran = True
        elif now["kind"] == "train-play" and edited and not played:
            page.keyboard.press("Enter")
            page.wait_for_function(
                "() => document.querySelector('[data-train=descent]').dataset.playing === 'true'"
            )
            page.wait_for_function("() => window.descent.patches > 3", timeout=WAIT_MS)
            page.keyboard.press("Enter")  # the same button now pauses
            page.wait_for_function(
                "() => document.querySelector('[data-train=descent]').dataset.playing === 'false'"
            )
            played = True
        elif now["kind"] == "check" and edited and not checked:
            page.keyboard.press("Enter")
            page.wait_for_function(
                "() => document.querySelector('[data-verdict=loop]').dataset.passed",
                timeout=WAIT_MS,
            )
            verdict = page.inner_text("[data-verdict=loop]")
            assert page.get_attribute("[data-verdict=loop]", "data-passed") == "true", verdict
            checked = True
        elif now["kind"] == "next-lesson":
            break
    else:
        pytest.fail(f"{MAX_TABS} Tabs never reached the next lesson: {seen[-20:]}")
    assert edited and ran and played and checked, seen
    # The description of the training plot says what happened (written half a second after
    # the last change, so wait for it).
    page.wait_for_function(
        "() => (document.querySelector('[data-plot-desc=descent]').textContent || '')"
        ".includes('paused at iteration')",
        timeout=WAIT_MS,
    )


def test_every_slider_is_reached_and_moved_and_the_3d_plot_turns(
    page: Any, lesson_server: Any
) -> None:
    open_clean_lesson(page, lesson_server, "the-loss-landscape")
    page.evaluate("() => document.activeElement.blur()")
    names = "els => els.map(e => e.dataset.slider)"
    sliders = set(page.eval_on_selector_all("input[data-slider]", names))
    moved: set[str] = set()
    turned = False
    for _ in range(MAX_TABS):
        now = tab(page)
        assert now["kind"] != "modebar", "plotly's toolbar took a tab stop"
        if now["kind"] == "slider" and now["id"] not in moved:
            page.keyboard.press("ArrowRight")
            after = dict(page.evaluate(FOCUSED))
            assert after["value"] != now["value"]
            moved.add(now["id"])
        elif now["kind"] == "plot" and not turned:
            eye = "() => JSON.stringify(document.activeElement._fullLayout.scene.camera.eye)"
            before = page.evaluate(eye)
            page.keyboard.press("ArrowLeft")
            page.wait_for_function(f"before => ({eye})() !== before", arg=before)
            turned = True
        elif now["kind"] == "next-lesson":
            break
    assert moved == sliders
    assert turned, "no 3-D plot took the focus"
    page.wait_for_function(
        "() => /w = 1\\.01/.test(document.querySelector('[data-plot-desc=landscape]').textContent)"
    )
