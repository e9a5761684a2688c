"""Plots for everyone: each plot is a named figure with a description written from its numbers
(updated as they change) and a table of those numbers; math carries MathML for screen readers;
on a phone, side-by-side panels stack and every plot resizes with the window."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import WAIT_MS, open_clean_lesson, press

pytestmark = pytest.mark.browser

PLOTS = """() => Array.from(document.querySelectorAll("[data-plot]"), (div) => ({
  id: div.dataset.plotId,
  role: div.getAttribute("role"),
  label: div.getAttribute("aria-label"),
  describedby: div.getAttribute("aria-describedby"),
  live: document.getElementById(div.getAttribute("aria-describedby"))?.getAttribute("aria-live"),
  text: document.getElementById(div.getAttribute("aria-describedby"))?.textContent || "",
}))"""

DESCRIPTION_HAS = """([plot, pattern]) => new RegExp(pattern).test(
  document.querySelector(`[data-plot-desc="${plot}"]`).textContent)"""

# Every plot's box and drawn width, and whether it overlaps the next card.
SIZES = """() => Array.from(document.querySelectorAll("[data-plot]"), (div) => {
  const box = div.closest(".plot-box").getBoundingClientRect();
  const svg = div.querySelector(".main-svg");
  const drawn = svg ? svg.getBoundingClientRect() : { width: 0, bottom: 0 };
  const next = div.closest(".plot-box").nextElementSibling;
  return { id: div.dataset.plotId, box: box.width, drawn: drawn.width,
           spills: Boolean(next) && drawn.bottom > next.getBoundingClientRect().top + 1 };
})"""


def wait_description(page: Any, plot: str, pattern: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(DESCRIPTION_HAS, arg=[plot, pattern], timeout=WAIT_MS)
    except PlaywrightTimeout:
        text = page.inner_text(f"[data-plot-desc='{plot}']")
        raise AssertionError(f"{plot}'s description never matched {pattern!r}: {text!r}") from None


def test_the_line_is_described_by_its_slope_and_intercept(page: Any, lesson_server: Any) -> None:
    open_clean_lesson(page, lesson_server, "the-line")
    (plot,) = page.evaluate(PLOTS)
    assert plot["role"] == "figure" and "line" in plot["label"]
    assert plot["live"] == "polite"
    wait_description(page, "line", r"slope 1 and crosses x = 0 at 0\.")
    press(page, "w", "ArrowRight", 5)
    press(page, "b", "ArrowLeft", 3)
    wait_description(page, "line", r"slope 1\.5 and crosses x = 0 at -0\.3\.")
    # The numbers behind the plot, as a table.
    page.click("[data-plot-numbers=line] summary")
    page.wait_for_selector("[data-plot-table=line] table.numbers")
    rows = page.locator("[data-plot-table=line] table.numbers tr")
    assert rows.count() > 10
    first = page.locator("[data-plot-table=line] table.numbers tr").nth(1).inner_text().split()
    assert [float(v) for v in first] == [-10.0, -15.3]
    # Math is MathML underneath KaTeX's drawing.
    assert page.locator(".prose .katex math").count() >= 5


def test_the_landscape_says_where_the_marker_is_and_where_the_gradient_points(
    page: Any, lesson_server: Any
) -> None:
    open_clean_lesson(page, lesson_server, "the-loss-landscape")
    wait_description(page, "landscape", r"marker stands at w = 1, b = 0, where the loss is 13\.77")
    wait_description(page, "landscape", r"gradient points toward larger w and larger b; its size")
    press(page, "w", "End")
    wait_description(page, "landscape", r"w = 10, b = 0, where the loss is")
    page.click("[data-plot-numbers=landscape] summary")
    page.wait_for_selector("[data-plot-table=landscape] table.numbers")
    assert "rows" in page.inner_text("[data-plot-table=landscape]")
    every = page.evaluate(PLOTS)
    assert all(p["role"] == "figure" and p["label"] and p["text"] for p in every), every


def test_the_race_has_real_play_pause_and_step_controls(page: Any, lesson_server: Any) -> None:
    open_clean_lesson(page, lesson_server, "optimizers")
    bar = "[data-anim=valley-race]"
    menus = "() => document.getElementById('plot-valley-race').layout.updatemenus"
    assert page.evaluate(menus) is None
    page.focus(f"{bar} input[type=range]")
    page.keyboard.press("End")
    page.wait_for_function(
        "() => document.getElementById('plot-valley-race').dataset.frame !== '0'"
    )
    last = page.get_attribute("#plot-valley-race", "data-frame")
    wait_description(page, "valley-race", f"^Step {last}: SGD at")
    page.keyboard.press("Home")
    page.focus(f"{bar} button")
    page.keyboard.press("Enter")
    assert page.inner_text(f"{bar} button") == "Pause"
    page.wait_for_function(
        "() => Number(document.getElementById('plot-valley-race').dataset.frame) > 2"
    )
    page.keyboard.press("Enter")
    assert page.inner_text(f"{bar} button") == "Play"


@pytest.mark.parametrize(
    ("slug", "plot", "panels"),
    [("the-loss-landscape", "landscape", 2), ("gradient-descent", "descent", 3)],
)
def test_panels_stack_on_a_phone_and_plots_follow_the_window(
    page: Any, lesson_server: Any, slug: str, plot: str, panels: int
) -> None:
    open_clean_lesson(page, lesson_server, slug)
    stacked = f"() => Boolean(document.getElementById('plot-{plot}').layout.__stacked)"
    assert not page.evaluate(stacked)
    for width in (390, 1100, 390):
        page.set_viewport_size({"width": width, "height": 844})
        page.wait_for_function(f"() => ({stacked})() === {str(width < 640).lower()}")
        page.wait_for_timeout(300)
        for size in page.evaluate(SIZES):
            assert abs(size["drawn"] - size["box"]) < 40, f"{size} at {width} px"
            assert not size["spills"], f"{size} spills over the next card at {width} px"
    height = page.evaluate(f"() => document.getElementById('plot-{plot}').layout.height")
    assert height >= panels * 280
    # Sliders take the full width of their box on a phone.
    widths = page.evaluate(
        """() => Array.from(document.querySelectorAll(".slider"), (s) =>
             s.querySelector("input").getBoundingClientRect().width
             / s.getBoundingClientRect().width)"""
    )
    assert all(w > 0.9 for w in widths), widths


def test_a_2d_lesson_loads_a_small_plotly_of_the_python_packages_version(
    page: Any, lesson_server: Any
) -> None:
    """The partial bundle is built from the npm plotly.js of the version the Python plotly
    package bundles (figures are made for it), and a 2-D lesson never loads 3-D code."""
    import re

    from app.web.assets import PLOTLY_JS

    python_version = re.search(rb"plotly\.js v(\d+\.\d+\.\d+)", PLOTLY_JS.read_bytes()[:400])
    assert python_version
    scripts: list[str] = []
    page.on("response", lambda r: scripts.append(r.url) if r.url.endswith(".js") else None)
    open_clean_lesson(page, lesson_server, "the-line")
    got = page.evaluate("() => [window.Plotly.version, window.Plotly.descentBundle]")
    assert got == [python_version.group(1).decode(), "basic"]
    assert not [u for u in scripts if "plotly-3d" in u or "plotly.min.js" in u], scripts
    assert page.evaluate("() => window.Plotly.descentTraces") == ["scatter"]
