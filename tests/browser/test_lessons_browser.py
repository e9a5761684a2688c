"""The first lessons in Debian's Chromium: move a slider with the keyboard, read the plotly div's
data, and check the figure moved by exactly the right amount."""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from live_server import LiveServer, start_server

pytestmark = pytest.mark.browser

# Plot data as plain lists (plotly keeps typed arrays and arrays of rows; both are copied).
READ_PLOT = """sel => {
  const div = document.querySelector(sel);
  const row = (r) => (typeof r === "number" ? r : Array.from(r));
  const list = (v) => (v == null ? null : Array.from(v, row));
  return div.data.map((t) => ({x: list(t.x), y: list(t.y), z: list(t.z)}));
}"""

PLOT_DRAWN = """sel => {
  const div = document.querySelector(sel);
  return Boolean(div && div.data && div.data.length && document.body.dataset.kernel === "idle");
}"""

LINE_VALUE_IS = """([sel, i, want]) => {
  const div = document.querySelector(sel);
  return Boolean(div && div.data) && Math.abs(div.data[0].y[i] - want) < 1e-6;
}"""

SURFACE_VALUE_IS = """([sel, trace, row, col, want, tol]) => {
  const div = document.querySelector(sel);
  return Boolean(div && div.data && div.data[trace]) &&
    Math.abs(div.data[trace].z[row][col] - want) <= tol;
}"""


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def open_lesson(page: Any, server: LiveServer, slug: str, kind: str) -> str:
    """Open a lesson and wait until its kernel has drawn the plot of `kind`."""
    page.goto(f"{server.url}/lessons/{slug}")
    selector = f"[data-plot={kind}]"
    page.wait_for_function(PLOT_DRAWN, arg=selector)
    return selector


def press(page: Any, slider: str, key: str, times: int) -> None:
    """Focus a slider by its aria-label and press a key, as a keyboard user does."""
    page.focus(f"input[type=range][aria-label='{slider}']")
    for _ in range(times):
        page.keyboard.press(key)


def read_plot(page: Any, selector: str) -> list[dict[str, Any]]:
    return list(page.evaluate(READ_PLOT, selector))


def wait_until(page: Any, script: str, arg: Any, selector: str, what: str) -> None:
    """Wait for a condition on the plot; on timeout, fail showing what the plot holds."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(script, arg=arg, timeout=15_000)
    except PlaywrightTimeout:
        data = read_plot(page, selector)
        shown = {k: (np.asarray(v).ravel()[:5].tolist() if v else v) for k, v in data[0].items()}
        pytest.fail(f"the plot never showed {what}; its first trace starts {shown}")


def readout(page: Any, slider: str) -> str:
    return str(page.text_content(f"output[data-readout='{slider}']")).strip()


def wait_for_line(page: Any, selector: str, w: float, b: float) -> None:
    """Wait until the line's value at x = 10 (its last point) is w * 10 + b."""
    wait_until(page, LINE_VALUE_IS, [selector, 100, w * 10 + b], selector, f"w={w}, b={b}")


def check_line(page: Any, selector: str, w: float, b: float) -> None:
    (line,) = read_plot(page, selector)[:1]
    x, y = np.asarray(line["x"]), np.asarray(line["y"])
    assert x[100] == 10.0
    np.testing.assert_allclose(y, w * x + b, atol=1e-6)


# ----------------------------------------------------------------------------- A1: the line


def test_moving_w_with_the_keyboard_turns_the_line(page: Any, server: LiveServer) -> None:
    sel = open_lesson(page, server, "the-line", "line")
    check_line(page, sel, w=1.0, b=0.0)
    press(page, "w", "ArrowRight", 5)
    wait_for_line(page, sel, w=1.5, b=0.0)
    check_line(page, sel, w=1.5, b=0.0)
    assert readout(page, "w") == "1.5"
    assert page.input_value("input[aria-label='w']") == "1.5"


def test_moving_b_shifts_the_line_without_turning_it(page: Any, server: LiveServer) -> None:
    sel = open_lesson(page, server, "the-line", "line")
    press(page, "b", "ArrowLeft", 7)
    wait_for_line(page, sel, w=1.0, b=-0.7)
    check_line(page, sel, w=1.0, b=-0.7)
    assert readout(page, "b") == "-0.7"


def test_end_and_home_jump_to_the_ends_of_the_range(page: Any, server: LiveServer) -> None:
    sel = open_lesson(page, server, "the-line", "line")
    press(page, "w", "End", 1)
    wait_for_line(page, sel, w=10.0, b=0.0)
    assert readout(page, "w") == "10.0"
    press(page, "w", "Home", 1)
    wait_for_line(page, sel, w=-10.0, b=0.0)
    check_line(page, sel, w=-10.0, b=0.0)
    assert readout(page, "w") == "-10.0"


def test_math_is_typeset_by_katex(page: Any, server: LiveServer) -> None:
    open_lesson(page, server, "the-line", "line")
    assert page.locator(".prose .katex").count() >= 5
    assert page.locator(".prose .katex-display").count() >= 1
    prose = " ".join(page.locator(".prose").all_inner_texts())
    assert "$" not in prose, "some math was left as raw TeX"


def test_everything_the_page_loads_is_cached_for_a_year(page: Any, server: LiveServer) -> None:
    """Including the modules that lesson.js imports by relative URL."""
    loaded: list[tuple[str, int, str]] = []
    page.on(
        "response",
        lambda r: loaded.append((r.url, r.status, r.headers.get("cache-control", ""))),
    )
    open_lesson(page, server, "the-line", "line")
    assets = [(url, status, cache) for url, status, cache in loaded if "/assets/" in url]
    assert any(url.endswith("/js/lesson.js") for url, _, _ in assets)
    assert all(status == 200 for _, status, _ in assets), assets
    uncached = [f"{url} ({cache})" for url, _, cache in assets if "immutable" not in cache]
    assert not uncached, "served without long cache headers:\n" + "\n".join(uncached)


def test_page_shows_it_is_connected_and_its_kernel_ready(page: Any, server: LiveServer) -> None:
    open_lesson(page, server, "the-line", "line")
    assert page.text_content("#connection") == "Connected"
    assert page.text_content("#kernel-status") == "Ready"
    device = str(page.text_content("#device"))
    assert device == "CPU" or device.startswith("GPU (cuda")


def test_out_of_range_value_is_refused_with_a_message_on_the_page(
    page: Any, server: LiveServer
) -> None:
    sel = open_lesson(page, server, "the-line", "line")
    # A tampered page: the input allows what the lesson does not.
    page.eval_on_selector("input[aria-label='w']", "el => { el.max = '50'; el.value = '40'; }")
    page.dispatch_event("input[aria-label='w']", "input")
    message = page.locator("#page-message")
    message.wait_for(state="visible")
    assert "[-10, 10]" in str(message.text_content())
    check_line(page, sel, w=1.0, b=0.0)


# ----------------------------------------------------------------------------- A2: the plane


def test_moving_w1_tilts_the_plane(page: Any, server: LiveServer) -> None:
    sel = open_lesson(page, server, "several-inputs", "plane")
    press(page, "w1", "ArrowRight", 8)
    press(page, "b", "ArrowLeft", 3)
    w1, w2, b = 0.8, 0.0, -0.3
    # z[0][0] lies at x1 = x2 = -10; arrays of this size travel as float32.
    corner = w1 * -10 + w2 * -10 + b
    wait_until(page, SURFACE_VALUE_IS, [sel, 0, 0, 0, corner, 1e-5], sel, f"w1={w1}, b={b}")
    (surface,) = read_plot(page, sel)
    x1, x2, z = np.asarray(surface["x"]), np.asarray(surface["y"]), np.asarray(surface["z"])
    assert z.shape == (x2.size, x1.size)
    expected = w1 * x1[None, :] + w2 * x2[:, None] + b
    np.testing.assert_allclose(z, expected, rtol=1e-6, atol=1e-5)
    assert readout(page, "w1") == "0.8"


# ----------------------------------------------------------------------------- A3: the sigmoid


def test_moving_w_sharpens_the_sigmoid(page: Any, server: LiveServer) -> None:
    sel = open_lesson(page, server, "the-sigmoid", "sigmoid")
    press(page, "w", "ArrowRight", 10)
    press(page, "b", "ArrowRight", 4)
    w, b = 2.0, 0.4
    # x[52] = 0.4, where every intermediate (w, b) gives a different value.
    want = float(sigmoid(np.array(w * 0.4 + b)))
    wait_until(page, LINE_VALUE_IS, [sel, 52, want], sel, f"w={w}, b={b}")
    curve = read_plot(page, sel)[0]
    x, y = np.asarray(curve["x"]), np.asarray(curve["y"])
    np.testing.assert_allclose(y, sigmoid(w * x + b), atol=1e-6)
    assert readout(page, "w") == "2.0" and readout(page, "b") == "0.4"


def test_moving_w1_turns_the_sigmoid_surface_and_its_top_view(
    page: Any, server: LiveServer
) -> None:
    sel = open_lesson(page, server, "the-sigmoid", "sigmoid_surface")
    press(page, "w1", "ArrowLeft", 15)
    press(page, "b2", "ArrowRight", 2)
    w1, w2, b = -0.5, 1.0, 0.2
    row, col = 12, 18  # x1 = 2, x2 = -2: every intermediate value of w1 gives another z
    traces = read_plot(page, sel)
    x1, x2 = np.asarray(traces[0]["x"]), np.asarray(traces[0]["y"])
    want = float(sigmoid(np.array(w1 * x1[col] + w2 * x2[row] + b)))
    for trace in (0, 1):
        wait_until(page, SURFACE_VALUE_IS, [sel, trace, row, col, want, 1e-6], sel, "w1=-0.5")
    expected = sigmoid(w1 * x1[None, :] + w2 * x2[:, None] + b)
    surface, top = read_plot(page, sel)[:2]
    np.testing.assert_allclose(np.asarray(surface["z"]), expected, atol=1e-6)
    np.testing.assert_allclose(np.asarray(top["z"]), expected, atol=1e-6)
    assert math.isclose(float(readout(page, "w1")), w1)


# ----------------------------------------------------------------------------- connection


def test_lost_connection_is_shown_and_comes_back_by_itself(page: Any, tmp_path: Path) -> None:
    server = start_server(tmp_path / "first.log")
    try:
        sel = open_lesson(page, server, "the-line", "line")
        press(page, "w", "ArrowRight", 3)
        wait_for_line(page, sel, w=1.3, b=0.0)
        figures = page.evaluate("window.descent.figures")

        server.stop()
        page.wait_for_function("document.body.dataset.connection === 'lost'")
        assert "lost" in str(page.text_content("#connection")).lower()

        server = start_server(tmp_path / "second.log", port=server.port)
        page.wait_for_function("document.body.dataset.connection === 'open'", timeout=30_000)
        page.wait_for_function(f"window.descent.figures > {figures}")
        page.wait_for_function(PLOT_DRAWN, arg=sel)
        # The fresh kernel draws the page's current slider values, not the lesson's initial ones.
        wait_for_line(page, sel, w=1.3, b=0.0)
        check_line(page, sel, w=1.3, b=0.0)
        assert page.text_content("#connection") == "Connected"
    finally:
        server.stop()


# ----------------------------------------------------------------------------- screenshot


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_screenshot_of_the_line_lesson(page: Any, server: LiveServer, tmp_path: Path) -> None:
    """The screenshot goes to the test's own folder; `make screenshots` refreshes the README's."""
    sel = open_lesson(page, server, "the-line", "line")
    press(page, "w", "ArrowRight", 5)
    press(page, "b", "ArrowRight", 20)
    wait_for_line(page, sel, w=1.5, b=2.0)
    # The formula, the code, both sliders and the plot, in one view.
    page.locator(".prose .katex-display").first.evaluate(
        "el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 12)"
    )
    shot = tmp_path / "the-line.png"
    page.screenshot(path=str(shot), animations="disabled")
    assert png_size(shot) == (1100, 900)
