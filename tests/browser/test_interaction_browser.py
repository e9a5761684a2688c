"""Touching the plots (issue 10 items 2 and 7, issue 15): a landscape's marker and a lesson's data
points are dragged with the mouse, a finished run is scrubbed, and a held key keeps the plots
moving. Drags go through the same last-write-wins path as the sliders, so the sliders, their
readouts and the server's patches follow."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from helpers import WAIT_MS, next_frames, open_clean_lesson, read_plot, wait_for

pytestmark = pytest.mark.browser

# The slide messages the page sends, as the server gets them.
SENT = """() => {
  if (window.__sent) return;
  window.__sent = [];
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    try { const m = JSON.parse(data); if (m.type === "slide") window.__sent.push(m); } catch {}
    return send.call(this, data);
  };
}"""

# Where point `i` of trace `t` of a plot is on the screen (page pixels), and the page pixels of
# data coordinates (x, y) on that trace's axes.
WHERE = """([plot, t, i, x, y]) => {
  const div = document.getElementById(`plot-${plot}`);
  const trace = div._fullData[t];
  const name = (id, l) => `${l}axis${String(id || l).slice(1)}`;
  const xa = div._fullLayout[name(trace.xaxis, "x")], ya = div._fullLayout[name(trace.yaxis, "y")];
  const box = div.getBoundingClientRect();
  const px = (vx, vy) => [box.left + xa._offset + xa.c2p(vx), box.top + ya._offset + ya.c2p(vy)];
  return { point: px(Number(div.data[t].x[i]), Number(div.data[t].y[i])),
           target: x === null ? null : px(x, y) };
}"""


def drag(page: Any, start: list[float], end: list[float], steps: int = 12) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    for k in range(1, steps + 1):
        f = k / steps
        page.mouse.move(start[0] + (end[0] - start[0]) * f, start[1] + (end[1] - start[1]) * f)
        time.sleep(0.02)
    page.mouse.up()


def slider(page: Any, name: str) -> tuple[float, str]:
    value = float(page.input_value(f"input[data-slider='{name}']"))
    return value, page.inner_text(f"output[data-readout='{name}']")


def test_dragging_the_landscape_marker_moves_the_sliders_and_the_plots_follow(
    page: Any, lesson_server: Any
) -> None:
    page.add_init_script(f"({SENT})();")
    open_clean_lesson(page, lesson_server, "the-loss-landscape")
    page.locator("#plot-landscape").scroll_into_view_if_needed()
    before = page.evaluate("() => window.descent.lastPatchSeq")
    traces = read_plot(page, "landscape")
    marker = next(i for i, t in enumerate(traces) if t["name"] == "(w, b)")
    where = page.evaluate(WHERE, ["landscape", marker, 0, 3.0, -6.0])
    drag(page, where["point"], where["target"])

    # The sliders took the values (to their step) and their readouts show them.
    w, w_shown = slider(page, "w")
    b, b_shown = slider(page, "b")
    assert abs(w - 3.0) < 0.3 and abs(b + 6.0) < 0.5, (w, b)
    assert float(w_shown) == pytest.approx(w) and float(b_shown) == pytest.approx(b)
    # The server's patches follow: the marker in both views and the line stand at the sliders.
    wait_for(
        page,
        """([w, b]) => {
          const d = document.getElementById("plot-landscape").data;
          const m = d.find((t) => t.name === "(w, b)");
          return Math.abs(m.x[0] - w) < 1e-6 && Math.abs(m.y[0] - b) < 1e-6;
        }""",
        [w, b],
    )
    assert page.evaluate("() => window.descent.lastPatchSeq") > before
    traces = read_plot(page, "landscape")
    three = next(t for t in traces if t["type"] == "scatter3d")
    assert three["x"][0] == pytest.approx(w) and three["y"][0] == pytest.approx(b)
    line = read_plot(page, "line")[0]
    slope = (line["y"][-1] - line["y"][0]) / (line["x"][-1] - line["x"][0])
    assert slope == pytest.approx(w, abs=1e-4)
    # The moves went as slides, coarse while the mouse was down and once in full at rest.
    sent = page.evaluate("() => window.__sent")
    moves = [m for m in sent if set(m["values"]) == {"w", "b"}]
    assert len(moves) >= 2 and any(m.get("coarse") for m in moves)
    assert not sent[-1].get("coarse") and sent[-1]["values"] == {"w": w, "b": b}


def test_dragging_a_data_point_changes_the_data_and_the_fit_follows(
    page: Any, lesson_server: Any
) -> None:
    open_clean_lesson(page, lesson_server, "fitting-data")
    page.locator("#plot-fit").scroll_into_view_if_needed()
    traces = read_plot(page, "fit")
    data = next(i for i, t in enumerate(traces) if t["name"] == "data")
    x0, y0 = traces[data]["x"][0], traces[data]["y"][0]
    where = page.evaluate(WHERE, ["fit", data, 0, x0, y0 + 3.0])
    drag(page, where["point"], where["target"])

    # On release the table goes to the kernel as the learner's own data, and the server's new
    # figure shows the point where it was dropped.
    wait_for(page, "() => document.getElementById('own-data').dataset.source === 'yours'")
    wait_for(
        page,
        """([t, y]) => Math.abs(document.getElementById("plot-fit").data[t].y[0] - y) < 0.1""",
        [data, y0 + 3.0],
    )
    state = page.inner_text("#data-state")
    assert "8 rows" in state
    moved = read_plot(page, "fit")[data]
    assert moved["x"][1:] == pytest.approx(traces[data]["x"][1:], abs=1e-3)
    assert moved["y"][1:] == pytest.approx(traces[data]["y"][1:], abs=1e-3)
    # The sliders still drive the fit over the new data.
    page.focus("input[data-slider='w']")
    page.keyboard.press("ArrowRight")
    w = float(page.input_value("input[data-slider='w']"))
    wait_for(
        page,
        """w => { const l = document.getElementById("plot-fit").data[0];
                  const n = l.x.length - 1;
                  return Math.abs((l.y[n] - l.y[0]) / (l.x[n] - l.x[0]) - w) < 1e-4; }""",
        w,
    )


def test_a_held_key_keeps_the_landscape_moving_and_ends_on_the_last_value(
    page: Any, lesson_server: Any
) -> None:
    open_clean_lesson(page, lesson_server, "the-loss-landscape")
    # Count the marker positions the page draws while the key is held.
    page.evaluate(
        """() => {
          const div = document.getElementById("plot-landscape");
          const seen = (window.__seen = new Set());
          const look = () => {
            const m = (div.data || []).find((t) => t.name === "(w, b)");
            if (m) seen.add(Number(m.x[0]));
            requestAnimationFrame(look);
          };
          look();
        }"""
    )
    page.focus("input[data-slider='w']")
    start = float(page.input_value("input[data-slider='w']"))
    page.keyboard.down("ArrowRight")
    for _ in range(40):
        time.sleep(0.03)
        page.keyboard.down("ArrowRight")  # repeated keydowns, as a held key sends
    page.keyboard.up("ArrowRight")
    end = float(page.input_value("input[data-slider='w']"))
    assert end > start
    wait_for(
        page,
        """w => Math.abs(document.getElementById("plot-landscape").data
                .find((t) => t.name === "(w, b)").x[0] - w) < 1e-6""",
        end,
    )
    seen = page.evaluate("() => window.__seen.size")
    assert seen >= 8, f"only {seen} positions drawn while the key was held"
    next_frames(page)


# The plane's scene in the top layer: its draws, plotly's whole-scene plots (which also redraw
# the hover-picking buffer), and the rows of the grid its surface was last given.
WATCH_SCENE = """() => {
  const div = document.getElementById("plot-plane");
  const t = div._fullData.findIndex((d) => d.type === "surface" && d.visible === true);
  const scene = div._fullLayout[div._fullData[t].scene]._scene;
  const w = (window.__scene = { redraws: 0, plots: 0, t, scene });
  const plot = scene.plot, redraw = scene.glplot.redraw;
  scene.plot = function (...args) { w.plots += 1; return plot.apply(this, args); };
  scene.glplot.redraw = function (...args) { w.redraws += 1; return redraw.apply(this, args); };
}"""
SCENE_COUNTS = """() => { const w = window.__scene;
  const gl = w.scene.traces[document.getElementById("plot-plane")._fullData[w.t].uid];
  return { redraws: w.redraws, plots: w.plots, rows: gl.data.z.length }; }"""
# The slope along x1 of the surface plotly last drew (its x1 tilt, w1).
PLANE_SHOWS = """w1 => { const div = document.getElementById("plot-plane");
  const s = div._fullData.find((d) => d.type === "surface"), row = s.z[0], n = row.length - 1;
  return Math.abs((row[n] - row[0]) / (s.x[n] - s.x[0]) - w1) < 1e-4; }"""


def test_a_held_key_redraws_the_3d_plane_alone_and_plots_it_whole_at_rest(
    page: Any, lesson_server: Any
) -> None:
    """While a key is held, each move updates the plane's WebGL objects and draws the scene once,
    without plotly's whole scene plot (hover picking, axis text); the slider's last value is
    drawn, and once the slider rests the scene is plotted whole again, on the plane's whole grid."""
    open_clean_lesson(page, lesson_server, "several-inputs")
    page.evaluate(WATCH_SCENE)
    rows = page.evaluate(SCENE_COUNTS)["rows"]
    assert rows > 2
    page.focus("input[data-slider='w1']")
    page.keyboard.down("ArrowRight")
    for _ in range(30):
        time.sleep(0.03)
        page.keyboard.down("ArrowRight")
    held = page.evaluate(SCENE_COUNTS)
    page.keyboard.up("ArrowRight")
    end = float(page.input_value("input[data-slider='w1']"))
    assert end > 0
    assert held["redraws"] >= 5, f"the plane drawn {held['redraws']} times while the key was held"
    assert held["plots"] <= 1, f"{held['plots']} whole-scene plots while the key was held"
    wait_for(page, PLANE_SHOWS, end)
    # At rest: one whole plot of the scene, from the whole grid, showing the last value.
    wait_for(page, f"() => ({SCENE_COUNTS})().plots > {held['plots']}")
    rest = page.evaluate(SCENE_COUNTS)
    assert rest["rows"] == rows
    assert page.evaluate(PLANE_SHOWS, end)
    next_frames(page)


# Every 10 ms, what the gradient lesson's landscape marker and its slice along b show (from the
# traces plotly last drew): the marker's w, and the slice's w from its slope (the slice is
# 1/2 sum (w x + b - y)^2 over b, whose slope is 36 w + 8 b - 23.16 on the lesson's data).
WATCH_GRADIENT = """() => {
  const shows = (id, f) => f(document.getElementById(id)._fullData || []);
  const marker = (d) => { const t = d.find((t) => t.type === "scatter" && t.mode === "markers"
    && t.x && t.x.length === 1); return t ? Number(t.x[0]) : null; };
  const slice = (d) => { const t = d.find((t) => t.type === "scatter" && t.x && t.x.length > 2);
    if (!t) return null; const i = Math.floor(t.x.length / 2);
    const k = (t.y[i + 1] - t.y[i - 1]) / (t.x[i + 1] - t.x[i - 1]);
    return Math.round(((k - 8 * t.x[i] + 23.16) / 36) * 100) / 100; };
  const w = (window.__seen = { landscape: [], slice: [], at: [] });
  w.timer = setInterval(() => {
    w.landscape.push(shows("plot-landscape", marker));
    w.slice.push(shows("plot-slice-b", slice));
    w.at.push(performance.now());
  }, 10);
}"""
SEEN = """since => { const w = window.__seen; clearInterval(w.timer);
  const pick = (list, after) => list.filter((v, i) => v !== null && (w.at[i] >= since) === after);
  return { landscape: [...new Set(pick(w.landscape, false))],
           slice: [...new Set(pick(w.slice, false))],
           landscape_after: [...new Set(pick(w.landscape, true))] }; }"""
LOOK_AT_LANDSCAPE = """() => { document.getElementById("plot-landscape")
  .scrollIntoView({ block: "center", behavior: "instant" }); return performance.now(); }"""
MARKER_AT = """w => { const d = document.getElementById("plot-landscape")._fullData;
  const t = d.find((t) => t.type === "scatter" && t.mode === "markers" && t.x && t.x.length === 1);
  return !!t && Math.abs(t.x[0] - w) < 1e-9; }"""


def test_a_plot_out_of_sight_waits_until_it_comes_into_view_or_the_key_is_let_go(
    page: Any, lesson_server: Any
) -> None:
    """On the gradient lesson the landscape is far below the sliders. While a key is held there,
    the slice in sight moves at every step and the landscape out of sight is left alone; scrolled
    into view while the key is still down, it moves with the slider from then on; and a plot
    out of sight when the key is let go shows the last value without being scrolled to."""
    open_clean_lesson(page, lesson_server, "the-gradient")
    slider = "input[data-slider='w']"
    page.locator(slider).scroll_into_view_if_needed()
    below = page.evaluate(
        "() => document.getElementById('plot-landscape').getBoundingClientRect().top"
        " > innerHeight * 1.5"
    )
    assert below, "the landscape should be well below the sliders on this page"
    page.evaluate(WATCH_GRADIENT)
    page.focus(slider)
    looked = 0.0
    for i in range(40):
        page.keyboard.down("ArrowRight")
        time.sleep(0.03)
        if i == 20:  # the key still down: the learner scrolls to the landscape
            looked = float(page.evaluate(LOOK_AT_LANDSCAPE))
    seen = page.evaluate(SEEN, looked)
    page.keyboard.up("ArrowRight")
    assert len(seen["slice"]) >= 5, f"the slice in sight showed only {seen['slice']}"
    assert len(seen["landscape"]) <= 2, f"the landscape out of sight moved: {seen['landscape']}"
    assert len(seen["landscape_after"]) >= 5, (
        f"the landscape, once in sight, showed only {seen['landscape_after']}"
    )
    wait_for(page, MARKER_AT, float(page.input_value(slider)))
    # Out of sight again, a few steps, let go: the landscape shows the last value unscrolled.
    page.locator(slider).scroll_into_view_if_needed()
    page.focus(slider)
    for _ in range(8):
        page.keyboard.down("ArrowLeft")
        time.sleep(0.03)
    page.keyboard.up("ArrowLeft")
    end = float(page.input_value(slider))
    wait_for(page, MARKER_AT, end)
    assert page.evaluate(
        "() => document.getElementById('plot-landscape').getBoundingClientRect().top"
        " > innerHeight * 1.5"
    )
    next_frames(page)


def train_descent(page: Any, frames: int) -> None:
    """Complete the descent lesson's loop, run it, and play until `frames` frames came."""
    code = page.evaluate(
        """() => { const c = document.querySelector("[data-editor='loop'] .cm-content");
                   return c.cmTile.root.view.state.doc.toString(); }"""
    )
    solved = re.sub(
        r"def train\(iterations(?:=\d+)?\):\n(?:[ \t]+.*(?:\n|$))+",
        "def train(iterations):\n    for _ in range(iterations):\n        update()\n",
        code,
    )
    page.evaluate(
        """text => { const c = document.querySelector("[data-editor='loop'] .cm-content");
                     const v = c.cmTile.root.view;
                     const all = { from: 0, to: v.state.doc.length, insert: text };
                     v.dispatch({ changes: all }); }""",
        solved,
    )
    page.click("[data-run='loop']")
    wait_for(page, "() => document.querySelector(\"[data-output='loop']\").dataset.ok === 'true'")
    page.click("[data-train='descent'] [data-train-action='play']")
    wait_for(
        page,
        "n => (document.getElementById('plot-descent').data[3].x || []).length >= n",
        frames,
        timeout=WAIT_MS * 2,
    )
    page.click("[data-train='descent'] [data-train-action='play']")
    wait_for(page, "() => document.querySelector('[data-train=descent]').dataset.playing != 'true'")


def test_a_finished_run_can_be_scrubbed_and_replayed(page: Any, lesson_server: Any) -> None:
    open_clean_lesson(page, lesson_server, "gradient-descent")
    train_descent(page, 12)
    scrub = page.locator("[data-scrub='descent']")
    scrub.wait_for(state="visible", timeout=WAIT_MS)
    path = read_plot(page, "descent")[3]
    n = len(path["x"])
    last = read_plot(page, "descent")[0]["y"]
    end = page.inner_text("[data-readouts='descent']")

    # With the keyboard: Home goes back to the start, the line and readouts of iteration 0.
    page.focus("[data-scrub-range='descent']")
    page.keyboard.press("Home")
    next_frames(page)
    assert page.inner_text("[data-scrub='descent'] output") == "iteration 0"
    assert "iteration = 0" in page.inner_text("[data-readouts='descent']")
    traces = read_plot(page, "descent")
    rings = [t for t in traces if t["name"] == "this iteration"]
    assert len(rings) == 2  # on the path and on the loss curve
    assert rings[0]["x"][0] == pytest.approx(path["x"][0])
    assert rings[0]["y"][0] == pytest.approx(path["y"][0])
    first = traces[0]["y"]
    assert first != pytest.approx(last)
    assert len(traces[3]["x"]) == n  # the path keeps every point

    # Step forward: the ring moves along the path, the readouts follow.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    next_frames(page)
    rings = [t for t in read_plot(page, "descent") if t["name"] == "this iteration"]
    assert rings[0]["x"][0] == pytest.approx(path["x"][2])
    assert page.inner_text("[data-readouts='descent']") != end

    # The pointer over the loss curve scrubs to the iteration under it.
    page.locator("#plot-descent").scroll_into_view_if_needed()
    where = page.evaluate(
        """() => { const div = document.getElementById("plot-descent");
                   const t = div._fullData[4];
                   const xa = div._fullLayout.xaxis3, ya = div._fullLayout.yaxis3;
                   const k = 5, box = div.getBoundingClientRect();
                   return [box.left + xa._offset + xa.c2p(div.data[4].x[k]),
                           box.top + ya._offset + ya.c2p(div.data[4].y[k])]; }"""
    )
    page.mouse.move(*where)
    wait_for(page, "() => document.querySelector('[data-scrub-range=descent]').value === '5'")

    # Replay runs from the start to the end by itself, fast.
    page.select_option("#replay-speed-descent", "240")
    page.click("[data-replay='descent']")
    wait_for(
        page,
        "n => document.querySelector('[data-scrub-range=descent]').value === String(n - 1)"
        " && document.querySelector('[data-replay=descent]').textContent === 'Replay'",
        n,
    )
    assert read_plot(page, "descent")[0]["y"] == pytest.approx(last)
    assert page.inner_text("[data-readouts='descent']") == end


def test_the_point_on_a_curve_is_dragged_along_it(page: Any, lesson_server: Any) -> None:
    open_clean_lesson(page, lesson_server, "one-dimension")
    page.locator("#plot-slope").scroll_into_view_if_needed()
    traces = read_plot(page, "slope")
    point = next(i for i, t in enumerate(traces) if t["name"] == "x")
    where = page.evaluate(WHERE, ["slope", point, 0, 2.0, 0.0])
    start = page.evaluate(WHERE, ["slope", point, 0, None, None])["point"]
    # Only x counts: the point stays on the curve wherever the pointer goes up or down.
    drag(page, start, [where["target"][0], start[1] + 40])
    value, shown = slider(page, "point")
    assert abs(value - 2.0) < 0.1 and float(shown) == pytest.approx(value)
    wait_for(
        page,
        """x => Math.abs(document.getElementById("plot-slope").data
                .find((t) => t.name === "x").x[0] - x) < 1e-6""",
        value,
    )


def test_the_start_of_a_training_path_is_dragged_and_training_goes_on_from_there(
    page: Any, lesson_server: Any
) -> None:
    open_clean_lesson(page, lesson_server, "gradient-descent")
    train_descent(page, 4)
    page.locator("#plot-descent").scroll_into_view_if_needed()
    traces = read_plot(page, "descent")
    path = next(i for i, t in enumerate(traces) if t["name"] == "path")
    ring = next(i for i, t in enumerate(traces) if t["name"] == "start")
    assert traces[ring]["x"][0] == traces[path]["x"][0]  # the ring marks the path's start
    where = page.evaluate(WHERE, ["descent", ring, 0, -1.0, 8.0])
    drag(page, where["point"], where["target"])

    # The path starts again where the pointer let go, and the readouts say so.
    def start() -> tuple[float, float, int]:
        t = read_plot(page, "descent")[path]
        return float(t["x"][0]), float(t["y"][0]), len(t["x"])

    wait_for(
        page,
        """t => { const p = document.getElementById("plot-descent").data[t];
                  return p.x.length === 1 && Math.abs(p.x[0] + 1) < 0.2
                         && Math.abs(p.y[0] - 8) < 0.8; }""",
        path,
    )
    w, b, _ = start()
    assert read_plot(page, "descent")[ring]["x"][0] == pytest.approx(w)  # the ring moved too
    shown = page.inner_text("[data-readouts='descent']")
    assert "iteration = 0" in shown and f"w = {w:.4g}"[:6] in shown, shown

    # Step goes on from the dragged start; Reset comes back to it.
    page.click("[data-train='descent'] [data-train-action='step']")
    wait_for(page, "t => document.getElementById('plot-descent').data[t].x.length > 1", path)
    assert start()[:2] == pytest.approx((w, b))
    page.click("[data-train='descent'] [data-train-action='reset']")
    wait_for(page, "t => document.getElementById('plot-descent').data[t].x.length === 1", path)
    assert start()[:2] == pytest.approx((w, b))


def test_the_start_of_a_walk_is_dragged_along_the_curve(page: Any, lesson_server: Any) -> None:
    open_clean_lesson(page, lesson_server, "learning-rate-too-big")
    page.locator("#plot-yours").scroll_into_view_if_needed()
    traces = read_plot(page, "yours")
    right = next(i for i, t in enumerate(traces) if t["name"].startswith("from the right"))
    where = page.evaluate(WHERE, ["yours", right, 0, 5.0, 0.0])
    drag(page, where["point"], [where["target"][0], where["point"][1]])
    value, shown = slider(page, "right")
    assert abs(value - 5.0) < 0.2 and float(shown) == pytest.approx(value)
    assert slider(page, "left")[0] == -2.0  # the other walk keeps its start
    wait_for(
        page,
        """v => document.getElementById("plot-yours").data
                .some((t) => (t.name || "").startsWith(`from the right, w = ${v} →`))""",
        value,
    )


def test_the_start_of_a_race_is_dragged_on_the_map(page: Any, lesson_server: Any) -> None:
    open_clean_lesson(page, lesson_server, "optimizers")
    page.locator("#plot-valley-race").scroll_into_view_if_needed()
    traces = read_plot(page, "valley-race")
    sgd = next(i for i, t in enumerate(traces) if t["name"] == "SGD")  # the path, not its head
    where = page.evaluate(WHERE, ["valley-race", sgd, 0, -3.0, -1.0])
    drag(page, where["point"], where["target"])
    x, _ = slider(page, "start_x")
    y, _ = slider(page, "start_y")
    assert abs(x + 3.0) < 0.2 and abs(y + 1.0) < 0.2, (x, y)
    # Every path now starts there.
    wait_for(
        page,
        """([x, y]) => document.getElementById("plot-valley-race").data
                .filter((t) => t.type === "scatter" && t.mode === "lines")
                .every((t) => Math.abs(t.x[0] - x) < 1e-9 && Math.abs(t.y[0] - y) < 1e-9)""",
        [x, y],
    )


def test_a_finger_drags_the_marker_and_elsewhere_the_page_still_scrolls(
    browser: Any, lesson_server: Any
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    phone = context.new_page()
    try:
        open_clean_lesson(phone, lesson_server, "the-loss-landscape")
        phone.locator("#plot-landscape").scroll_into_view_if_needed()
        traces = read_plot(phone, "landscape")
        marker = next(i for i, t in enumerate(traces) if t["name"] == "(w, b)")
        where = phone.evaluate(WHERE, ["landscape", marker, 0, 3.0, -6.0])
        cdp = context.new_cdp_session(phone)

        def touch(kind: str, x: float, y: float) -> None:
            points = [] if kind == "touchEnd" else [{"x": x, "y": y}]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        def swipe(start: list[float], end: list[float]) -> None:
            touch("touchStart", *start)
            for k in range(1, 11):
                f = k / 10
                touch(
                    "touchMove",
                    start[0] + (end[0] - start[0]) * f,
                    start[1] + (end[1] - start[1]) * f,
                )
                time.sleep(0.02)
            touch("touchEnd", *end)

        # A finger 22 px off the marker (a pointer must be within 16) takes it, and the marker
        # keeps that offset instead of jumping under the finger; the page stays put.
        scrolled = phone.evaluate("() => window.scrollY")
        x0, y0 = where["point"]
        swipe([x0 + 18, y0 + 12], [where["target"][0] + 18, where["target"][1] + 12])
        w, _ = slider(phone, "w")
        b, _ = slider(phone, "b")
        assert abs(w - 3.0) < 0.4 and abs(b + 6.0) < 0.8, (w, b)
        assert phone.evaluate("() => window.scrollY") == scrolled

        # A finger on the text scrolls the page as ever.
        intro = phone.locator("#lesson p").first.bounding_box()
        assert intro is not None
        swipe([intro["x"] + 20, 600], [intro["x"] + 20, 300])
        wait_for(phone, "y => window.scrollY !== y", scrolled)
    finally:
        context.close()
