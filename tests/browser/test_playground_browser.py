"""The playground lessons (A4 to A13) in Debian's Chromium, driven as a learner drives them: type
code into the editor, press Run and Check, move sliders with the keyboard, press Play and Pause;
then read what the page shows and compare it with numbers computed here."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest
from helpers import (
    WAIT_MS,
    check_exercise,
    editor_text,
    isclose,
    open_clean_lesson,
    output_text,
    plot_error,
    press,
    read_plot,
    readouts,
    replace_code,
    run_cell,
    shown_hints,
    wait_for,
    wait_for_plot_error,
    wait_for_readout,
    wait_for_readouts,
)
from live_server import LiveServer

pytestmark = pytest.mark.browser

DATA = np.array(
    [(1, 0.85), (2, 1.43), (3, 1.92), (4, 2.59), (5, 3.20), (6, 3.82), (7, 4.38), (8, 4.97)]
)
DX, DY = DATA[:, 0], DATA[:, 1]

LINE_Y_IS = """([sel, ys, tol]) => {
  const div = document.querySelector(sel);
  const t = div && div.data && div.data[0];
  return Boolean(t) && t.y.length === ys.length && ys.every((y, i) => Math.abs(t.y[i] - y) <= tol);
}"""


def wait_for_line(page: Any, plot: str, fn: Any, tol: float = 1e-5) -> None:
    """Wait until the first trace of `plot` is y = fn(x) at every one of its x."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    xs = np.asarray(read_plot(page, plot)[0]["x"], dtype=float)
    ys = [float(fn(x)) for x in xs]
    try:
        wait_for(page, LINE_Y_IS, [f"#plot-{plot}", ys, tol])
    except PlaywrightTimeout:
        shown = np.asarray(read_plot(page, plot)[0]["y"], dtype=float)
        worst = int(np.argmax(np.abs(shown - ys)))
        raise AssertionError(
            f"{plot} shows y({xs[worst]:g}) = {shown[worst]:g}, expected {ys[worst]:g}"
        ) from None


def l2_loss(w: float, b: float) -> float:
    return float(0.5 * np.sum((w * DX + b - DY) ** 2))


def l2_gradient(w: float, b: float) -> tuple[float, float]:
    gap = w * DX + b - DY
    return float(np.sum(gap * DX)), float(np.sum(gap))


def click_train(page: Any, plot: str, action: str) -> None:
    page.click(f"[data-train='{plot}'] [data-train-action='{action}']")


def playing(page: Any, plot: str) -> str | None:
    value = page.get_attribute(f"[data-train='{plot}']", "data-playing")
    return None if value is None else str(value)


# ----------------------------------------------------------------------------- A4


def test_a4_output_weight_stretches_the_neuron_and_your_lists_draw_your_network(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "neurons-and-networks")

    def one(x: float, wo: float) -> float:
        return float(wo / (1 + np.exp(-x)))

    wait_for_line(page, "one-neuron", lambda x: one(x, 6.28))
    press(page, "wo1", "ArrowLeft", 128)  # 6.28 - 1.28
    wait_for_line(page, "one-neuron", lambda x: one(x, 5.0))
    assert page.text_content("output[data-readout='wo1']") == "5.00"

    # A fourth neuron that steps back down at x = 4: the staircase goes up, then down.
    replace_code(
        page,
        "mine",
        "my_wi = [4, 4, 4, 4]\nmy_b = [8, 0, -8, -16]\nmy_wo = [2, 2, 2, -2]\n\n"
        "def my_network(x):\n    return network(x, my_wi, my_b, my_wo)",
    )
    ok, _ = run_cell(page, "mine")
    assert ok

    def mine(x: float) -> float:
        wi, b, wo = [4, 4, 4, 4], [8, 0, -8, -16], [2, 2, 2, -2]
        return float(sum(o / (1 + np.exp(-(i * x + c))) for i, c, o in zip(wi, b, wo, strict=True)))

    wait_for_line(page, "my-network", mine)
    ys = read_plot(page, "my-network")[0]["y"]
    assert max(ys) > 5.5 and ys[-1] < 4.5, "the staircase should climb to 6, then step down to 4"


# ----------------------------------------------------------------------------- A5


def test_a5_your_function_draws_the_line_and_the_check_names_your_mistake(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "a-model-in-code")
    # As given, y ignores w = 0.5 and b = 2: the diagonal.
    wait_for_line(page, "my-line", lambda x: x)
    assert shown_hints(page, "write-the-line") == []

    # A first try without the bias: the plot follows it, the check names the mistake.
    replace_code(page, "model", "def y(x, w, b):\n    return w * x")
    ok, _ = run_cell(page, "model")
    assert ok
    wait_for_line(page, "my-line", lambda x: 0.5 * x)
    passed, message = check_exercise(page, "write-the-line")
    assert not passed
    assert "the bias is missing" in message
    assert page.get_attribute("[data-verdict='write-the-line']", "data-passed") == "false"
    hints = shown_hints(page, "write-the-line")
    assert len(hints) == 1 and "Inside the function" in hints[0]
    page.click("[data-hint='write-the-line']")
    assert len(shown_hints(page, "write-the-line")) == 2

    # The right line: the plot follows the sliders through the learner's function.
    replace_code(page, "model", "def y(x, w, b):\n    return w * x + b")
    ok, _ = run_cell(page, "model")
    assert ok
    wait_for_line(page, "my-line", lambda x: 0.5 * x + 2)
    press(page, "w", "ArrowRight", 10)
    press(page, "b", "ArrowLeft", 5)
    wait_for_line(page, "my-line", lambda x: 1.5 * x + 1.5)

    passed, message = check_exercise(page, "write-the-line")
    assert passed, message
    assert message.startswith("Correct")
    assert "done" in str(page.get_attribute("[data-exercise='write-the-line']", "class"))
    assert len(shown_hints(page, "write-the-line")) == 2, "a pass reveals no further hint"

    # The next cell calls the learner's model.
    ok, _ = run_cell(page, "call")
    assert ok
    assert output_text(page, "call").split() == ["7", "4.0"]

    # The solution is there on request, and hidden again on a second click.
    solution = page.locator("[data-solution-text='write-the-line']")
    assert solution.is_hidden()
    page.click("[data-solution='write-the-line']")
    assert "return w * x + b" in str(solution.inner_text())
    page.click("[data-solution='write-the-line']")
    assert solution.is_hidden()


def test_a5_your_edit_survives_a_reload_and_draws_again(page: Any, server: LiveServer) -> None:
    open_clean_lesson(page, server, "a-model-in-code")
    replace_code(page, "model", "def y(x, w, b):\n    return w * x + b - 1")
    page.locator("[data-save-state='model'][data-state='saved']").wait_for(timeout=WAIT_MS)
    open_clean_lesson(page, server, "a-model-in-code")  # the same page, loaded again
    assert editor_text(page, "model") == "def y(x, w, b):\n    return w * x + b - 1"
    # The fresh kernel ran the saved code, not the lesson's.
    wait_for_line(page, "my-line", lambda x: 0.5 * x + 1)


def test_a5_a_typo_shows_a_traceback_with_the_editor_line(page: Any, server: LiveServer) -> None:
    open_clean_lesson(page, server, "a-model-in-code")
    replace_code(page, "model", "def y(x, w, b):\n    return w * x +")
    ok, _ = run_cell(page, "model")
    assert not ok
    error = str(page.locator("[data-output='model'] pre.error").inner_text())
    assert "SyntaxError" in error and "line 2" in error
    # The page keeps working: Reset brings the lesson's code back and it runs again.
    page.click("[data-reset='model']")
    assert editor_text(page, "model") == "def y(x, w, b):\n    return x\n"
    ok, _ = run_cell(page, "model")
    assert ok


# ----------------------------------------------------------------------------- A6


def test_a6_fitting_by_hand_with_the_keyboard_then_checking_the_fit(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "fitting-data")
    wait_for_line(page, "fit", lambda x: x)
    traces = read_plot(page, "fit")
    assert np.allclose(traces[1]["x"], DX) and np.allclose(traces[1]["y"], DY)

    press(page, "w", "ArrowLeft", 41)
    press(page, "b", "ArrowRight", 22)
    wait_for_line(page, "fit", lambda x: 0.59 * x + 0.22)
    w = float(page.text_content("output[data-readout='w']") or "nan")
    b = float(page.text_content("output[data-readout='b']") or "nan")
    assert (w, b) == (0.59, 0.22)

    # The untouched cell fails the check with a hint; the slider values pass it.
    passed, message = check_exercise(page, "fit-by-hand")
    assert not passed and message
    assert len(shown_hints(page, "fit-by-hand")) == 1
    replace_code(page, "my-fit", f"my_w = {w}\nmy_b = {b}")
    assert run_cell(page, "my-fit")[0]
    passed, message = check_exercise(page, "fit-by-hand")
    assert passed, message


# ----------------------------------------------------------------------------- A7


def test_a7_new_inputs_are_predicted_printed_and_drawn_on_the_line(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "predictions")
    assert "x = 8   model says 5.00" in output_text(page, "replay")
    code = editor_text(page, "predict").replace("[-3, 6.28]", "[-3, 6.28, 9]")
    replace_code(page, "predict", code, typing=False)
    ok, _ = run_cell(page, "predict")
    assert ok
    assert "x = 9   prediction 5.600" in output_text(page, "predict")
    wait_for(
        page,
        "() => { const d = document.getElementById('plot-guesses'); "
        "return d.data && d.data[1] && d.data[1].x.length === 3; }",
    )
    points = read_plot(page, "guesses")[1]
    assert np.allclose(points["x"], [-3, 6.28, 9])
    assert np.allclose(points["y"], [0.6 * x + 0.2 for x in (-3, 6.28, 9)])


# ----------------------------------------------------------------------------- A8


def test_a8_sliders_move_the_residuals_and_both_loss_readouts(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "the-loss")

    def l1(w: float, b: float) -> float:
        return float(np.sum(np.abs(w * DX + b - DY)))

    # As given, `loss` repeats the L1 loss.
    wait_for_readout(page, "fit", "L1 loss", l1(1, 0))
    wait_for_readout(page, "fit", "L2 loss", l1(1, 0))

    code = editor_text(page, "losses").replace(
        "    # Your turn: the L2 loss, half the sum of the squared gaps.\n    return l1_loss(w, b)",
        "    total = 0\n"
        "    for x_i, y_i in data:\n"
        "        total = total + (y(x_i, w, b) - y_i) ** 2\n"
        "    return total / 2",
    )
    replace_code(page, "losses", code, typing=False)
    assert run_cell(page, "losses")[0]
    wait_for_readout(page, "fit", "L2 loss", l2_loss(1, 0))
    passed, message = check_exercise(page, "write-l2")
    assert passed, message

    press(page, "w", "ArrowLeft", 40)
    press(page, "b", "ArrowRight", 20)
    w, b = 0.6, 0.2
    wait_for_readout(page, "fit", "L2 loss", l2_loss(w, b))
    wait_for_readout(page, "fit", "L1 loss", l1(w, b))
    assert l2_loss(w, b) < 0.01
    # Each residual runs from its data point to the line, straight up or down.
    residuals = read_plot(page, "fit")[2]
    segments = np.array(residuals["y"], dtype=object).reshape(-1, 3)
    assert np.allclose(segments[:, 0].astype(float), DY)
    assert np.allclose(segments[:, 1].astype(float), w * DX + b, atol=1e-6)
    assert all(v is None for v in segments[:, 2])


def test_a8_the_check_names_the_missing_half(page: Any, server: LiveServer) -> None:
    open_clean_lesson(page, server, "the-loss")
    code = editor_text(page, "losses").replace(
        "    return l1_loss(w, b)",
        "    return sum((y(x_i, w, b) - y_i) ** 2 for x_i, y_i in data)",
    )
    replace_code(page, "losses", code, typing=False)
    assert run_cell(page, "losses")[0]
    passed, message = check_exercise(page, "write-l2")
    assert not passed
    assert "forgot the ½" in message


# ----------------------------------------------------------------------------- A9


def test_a9_a_slider_move_moves_only_the_marker_on_the_landscape(
    page: Any, server: LiveServer
) -> None:
    frames: list[dict[str, Any]] = []

    def on_socket(ws: Any) -> None:
        ws.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    open_clean_lesson(page, server, "the-loss-landscape")
    surface_before = read_plot(page, "landscape")[0]
    assert surface_before["type"] == "surface"
    assert len(surface_before["z"]) == 61 and len(surface_before["z"][0]) == 61
    assert isclose(surface_before["z"][30][30], l2_loss(0.0, 0.0), rel=1e-5)
    figures = page.evaluate("window.descent.figures")
    patches = page.evaluate("window.descent.patches")
    seen = len(frames)

    press(page, "w", "ArrowLeft", 41)
    press(page, "b", "ArrowRight", 22)
    w, b = 0.59, 0.22
    wait_for(
        page,
        "([w, b]) => { const d = document.getElementById('plot-landscape'); "
        "return d.data[3].x[0] === w && d.data[3].y[0] === b; }",
        [w, b],
    )
    wait_for_readout(page, "line", "loss L(w, b)", l2_loss(w, b))

    assert page.evaluate("window.descent.figures") == figures, "a slider move redrew a figure"
    assert page.evaluate("window.descent.patches") > patches
    after = frames[seen:]
    assert not [m for m in after if m.get("type") == "figure"]
    landscape = [m for m in after if m.get("type") == "patch" and m.get("plot") == "landscape"]
    assert landscape, "no patch reached the landscape"
    biggest = max(len(json.dumps(m)) for m in landscape)
    assert biggest < 2000, f"a marker patch took {biggest} bytes: the surface was sent again"

    traces = read_plot(page, "landscape")
    assert traces[0]["z"] == surface_before["z"], "the surface changed on a slider move"
    marker3d, marker = traces[2], traces[3]
    assert (marker["x"], marker["y"]) == ([w], [b])
    assert (marker3d["x"], marker3d["y"]) == ([w], [b])
    assert isclose(marker3d["z"][0], l2_loss(w, b), rel=1e-6)
    assert readouts(page, "landscape")["loss"] == pytest.approx(l2_loss(w, b), rel=1e-4)


# ----------------------------------------------------------------------------- A10


def test_a10_tangent_slope_is_the_derivative_at_the_slider(page: Any, server: LiveServer) -> None:
    open_clean_lesson(page, server, "derivatives")

    def f(x: float) -> float:
        return 0.3 * x**4 - 1.5 * x**2 + 0.4 * x + 2

    def df(x: float) -> float:
        return 1.2 * x**3 - 3 * x + 0.4

    wait_for_readout(page, "coaster", "slope", df(0.0))
    press(page, "x", "ArrowLeft", 164)  # x = -1.64, the floor of the deep valley
    wait_for_readout(page, "coaster", "slope", df(-1.64))
    assert abs(readouts(page, "coaster")["slope"]) < 0.1
    press(page, "x", "ArrowRight", 194)  # x = 0.3
    wait_for_readout(page, "coaster", "slope", df(0.3))
    wait_for_readout(page, "coaster", "f(x)", f(0.3))
    # The red line touches the curve at x with that slope.
    tangent = read_plot(page, "coaster")[1]
    (x0, x1), (y0, y1) = tangent["x"], tangent["y"]
    assert (y1 - y0) / (x1 - x0) == pytest.approx(df(0.3), rel=1e-4)
    assert (y0 + y1) / 2 == pytest.approx(f(0.3), rel=1e-6)

    # The learner's df drives the second tangent: flat until it is written.
    wait_for_readout(page, "your-tangent", "slope", 0.0)
    replace_code(page, "derivative", "def df(x):\n    return 1.2 * x**3 - 3 * x + 0.4")
    assert run_cell(page, "derivative")[0]
    wait_for_readout(page, "your-tangent", "slope", df(-1.0))
    passed, message = check_exercise(page, "write-df")
    assert passed, message


# ----------------------------------------------------------------------------- A11


def test_a11_a_broken_gradient_shows_a_message_and_the_plot_recovers(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "the-gradient")
    w, b = 1.5, 8.0
    gw, gb = l2_gradient(w, b)
    # As given, dL/dw is 0: the learner's arrow points straight along b, autograd's elsewhere.
    wait_for_readout(page, "landscape", "your ∂L/∂b", gb)
    shown = readouts(page, "landscape")
    assert shown["your ∂L/∂w"] == 0
    assert shown["autograd ∂L/∂w"] == pytest.approx(gw, rel=1e-4)
    yours, autograd = read_plot(page, "landscape")[4:6]
    assert yours["x"] == [w, w] and yours["y"][0] == b and yours["y"][1] > b
    assert len(autograd["x"]) == 2 and autograd["x"][1] > w

    # A gradient that returns a string: a readable message beside the plot, the page carries on.
    replace_code(page, "gradient", 'def gradient(w, b):\n    return "uphill"')
    assert run_cell(page, "gradient")[0]
    message = wait_for_plot_error(page, "landscape")
    # Rendered, not raw Markdown: the function's name is set as code.
    assert message == "gradient returned str, expected a number."
    assert page.inner_text("[data-plot-error='landscape'] code") == "gradient"
    assert "stale" in str(page.get_attribute("#plot-landscape", "class"))
    passed, verdict = check_exercise(page, "write-gradient")
    assert not passed and verdict

    # Fixed: the message goes, the plot comes back with both arrows agreeing.
    solution = str(page.text_content("[data-solution-text='write-gradient']")).strip()
    replace_code(page, "gradient", solution, typing=False)
    assert run_cell(page, "gradient")[0]
    wait_for_plot_error(page, "landscape", shown=False)
    assert "stale" not in str(page.get_attribute("#plot-landscape", "class"))
    wait_for_readout(page, "landscape", "your ∂L/∂w", gw)
    assert readouts(page, "landscape")["relative error"] < 1e-4
    yours, autograd = read_plot(page, "landscape")[4:6]
    assert len(yours["x"]) == 2 and autograd["x"] == [], "autograd's arrow stays when they agree"
    passed, verdict = check_exercise(page, "write-gradient")
    assert passed, verdict

    # Sliders still drive the learner's gradient.
    press(page, "b", "ArrowLeft", 78)  # b = 0.2
    wait_for_readout(page, "landscape", "your ∂L/∂b", l2_gradient(w, 0.2)[1])


# ----------------------------------------------------------------------------- A12


def set_speed(page: Any, plot: str, steps: int) -> None:
    page.select_option(f"[data-train='{plot}'] [data-train-speed]", str(steps))


STUB = "    # Your turn: move w and b one step against the gradient, scaled by learning_rate.\n"
STEP = "    w = w - learning_rate * dw\n    b = b - learning_rate * db\n"


def write_update(page: Any) -> str:
    """The learner completes update() in A12's cell (the page shows no finished update)."""
    code = editor_text(page, "step")
    assert STUB in code
    code = code.replace(STUB, STEP)
    replace_code(page, "step", code, typing=False)
    assert run_cell(page, "step")[0]
    return code


def test_a12_step_moves_w_and_b_by_the_update_rule(page: Any, server: LiveServer) -> None:
    open_clean_lesson(page, server, "a-step-downhill")
    write_update(page)
    shown = readouts(page, "steps")
    assert (shown["iteration"], shown["w"], shown["b"]) == (0, 0, 0)
    assert shown["loss"] == pytest.approx(l2_loss(0, 0), rel=1e-4)
    set_speed(page, "steps", 1)

    w, b, lr = 0.0, 0.0, 0.01
    for i in (1, 2, 3):
        gw, gb = l2_gradient(w, b)
        w, b = w - lr * gw, b - lr * gb
        click_train(page, "steps", "step")
        wait_for_readout(page, "steps", "iteration", i)
        wait_for_readout(page, "steps", "w", w)
        wait_for_readout(page, "steps", "b", b)
        wait_for_readout(page, "steps", "loss", l2_loss(w, b))
    # The path on the landscape has one point per state, the fit line follows w and b.
    traces = read_plot(page, "steps")
    path = traces[3]
    assert len(path["x"]) == 4 and path["x"][-1] == pytest.approx(w, rel=1e-9)
    fit = traces[0]
    assert np.allclose(fit["y"], w * np.array(fit["x"]) + b, rtol=1e-5)

    click_train(page, "steps", "reset")
    wait_for_readout(page, "steps", "iteration", 0)
    assert readouts(page, "steps")["w"] == 0
    assert playing(page, "steps") == "false"


def test_a12_a_learning_rate_too_high_stops_with_the_last_finite_state_on_screen(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "a-step-downhill")
    code = write_update(page).replace("learning_rate = 0.01", "learning_rate = 0.05")
    replace_code(page, "step", code, typing=False)
    assert run_cell(page, "step")[0]
    # One step a frame: the run leaves the sane range (1e15) after about 15 steps, and the
    # frame before that stays on screen.
    set_speed(page, "steps", 1)
    click_train(page, "steps", "play")
    message = wait_for_plot_error(page, "steps")
    wait_for(page, "document.querySelector(\"[data-train='steps']\").dataset.playing === 'false'")
    assert message.startswith("Training diverged at iteration "), message
    assert "smaller learning rate" in message
    assert page.text_content("[data-train='steps'] [data-train-action='play']") == "Play"
    shown = readouts(page, "steps")
    assert shown["iteration"] > 0
    assert all(np.isfinite(v) for v in shown.values()), shown
    assert abs(shown["w"]) > 1e4, "the run should have blown up before it stopped"
    traces = read_plot(page, "steps")
    assert all(np.isfinite(traces[0]["y"])) and all(np.isfinite(traces[3]["x"]))
    assert traces[3]["x"][-1] == pytest.approx(shown["w"], rel=1e-4)

    # A smaller rate and Reset: the message goes and training works again.
    replace_code(
        page, "step", code.replace("learning_rate = 0.05", "learning_rate = 0.003"), typing=False
    )
    assert run_cell(page, "step")[0]
    click_train(page, "steps", "reset")
    wait_for_plot_error(page, "steps", shown=False)
    wait_for_readout(page, "steps", "iteration", 0)
    set_speed(page, "steps", 25)
    click_train(page, "steps", "step")
    wait_for_readout(page, "steps", "iteration", 25)
    assert plot_error(page, "steps") == ""


# ----------------------------------------------------------------------------- A13

TRAIN_STUB = "        # Your turn: take one step here.\n"
TRAIN_LOOP = "        update()\n"


def iteration(page: Any) -> float:
    return readouts(page, "descent")["iteration"]


def test_a13_play_runs_your_train_live_pause_stops_it_reset_starts_over(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "gradient-descent")
    assert iteration(page) == 0

    # The unfinished train() moves nothing: Play stops at once and says why.
    click_train(page, "descent", "play")
    message = wait_for_plot_error(page, "descent")
    assert "did not change" in message and "train(5)" in message
    wait_for(page, "document.querySelector(\"[data-train='descent']\").dataset.playing === 'false'")

    code = editor_text(page, "loop")
    assert TRAIN_STUB in code
    code = code.replace(TRAIN_STUB, TRAIN_LOOP)
    replace_code(page, "loop", code, typing=False)
    assert run_cell(page, "loop")[0]
    wait_for_plot_error(page, "descent", shown=False)
    passed, verdict = check_exercise(page, "loop")
    assert passed, verdict

    # Play: the iteration counter climbs while the learner watches.
    click_train(page, "descent", "play")
    wait_for(page, "document.querySelector(\"[data-train='descent']\").dataset.playing === 'true'")
    assert page.text_content("[data-train='descent'] [data-train-action='play']") == "Pause"
    seen: list[float] = []
    for _ in range(3):
        wait_for_readouts(
            page, "descent", "(r, last) => r.iteration > last", seen[-1] if seen else 0
        )
        seen.append(iteration(page))
    assert seen == sorted(seen) and len(set(seen)) == 3
    assert all(n % 5 == 0 for n in seen), "5 steps per frame"

    # Pause: once the page hears training stopped, the counter stays where it is.
    click_train(page, "descent", "play")
    wait_for(page, "document.querySelector(\"[data-train='descent']\").dataset.playing === 'false'")
    stopped = readouts(page, "descent")
    patches = page.evaluate("window.descent.patches")
    time.sleep(0.5)  # 20 frames at the server's pace: any would show
    assert readouts(page, "descent") == stopped
    assert page.evaluate("window.descent.patches") == patches
    assert page.text_content("[data-train='descent'] [data-train-action='play']") == "Play"
    assert stopped["loss"] < l2_loss(0, 0)
    path = read_plot(page, "descent")[3]
    assert path["x"][-1] == pytest.approx(stopped["w"], rel=1e-4)

    # Reset: back to iteration 0 at the program's own start, the path starts again.
    click_train(page, "descent", "reset")
    wait_for_readout(page, "descent", "iteration", 0)
    shown = readouts(page, "descent")
    assert (shown["w"], shown["b"]) == (1, 0)
    wait_for(page, "() => document.getElementById('plot-descent').data[3].x.length === 1")


def test_a13_long_training_reaches_the_least_squares_line(page: Any, server: LiveServer) -> None:
    open_clean_lesson(page, server, "gradient-descent")
    code = editor_text(page, "loop").replace(TRAIN_STUB, TRAIN_LOOP)
    replace_code(page, "loop", code, typing=False)
    assert run_cell(page, "loop")[0]
    set_speed(page, "descent", 100)
    click_train(page, "descent", "play")
    best_w, best_b = np.polyfit(DX, DY, 1)
    wait_for_readouts(
        page,
        "descent",
        "(r, [w, b]) => Math.abs(r.w - w) < 2e-3 && Math.abs(r.b - b) < 1e-2",
        [float(best_w), float(best_b)],
    )
    click_train(page, "descent", "play")
    wait_for(page, "document.querySelector(\"[data-train='descent']\").dataset.playing === 'false'")
    loss_curve = read_plot(page, "descent")[4]["y"]
    assert loss_curve[-1] < loss_curve[0] / 1000


# ----------------------------------------------------------------------------- export


def test_download_notebook_holds_the_learners_code(
    page: Any, server: LiveServer, tmp_path: Any
) -> None:
    open_clean_lesson(page, server, "a-model-in-code")
    replace_code(page, "model", "def y(x, w, b):\n    return w * x + b  # mine")
    with page.expect_download(timeout=WAIT_MS) as info:
        page.click("#export")
    download = info.value
    assert download.suggested_filename == "a-model-in-code.ipynb"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    prose = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown"]
    assert any("return w * x + b  # mine" in c for c in code), code
    assert not any("    return x\n" in c + "\n" for c in code), (
        "the lesson's original code came back"
    )
    assert any("print(y(3, 2, 1))" in c for c in code)
    assert any("A model in code" in p or "model in code" in p.lower() for p in prose)
