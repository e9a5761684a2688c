"""Tracks B, C and D in Debian's Chromium: every lesson comes up whole for a new learner (every
cell ran, every plot drawn, no message anywhere once its kernel is idle), shows the result the
curriculum fixes, and answers its main interaction: a slider that changes its plot, an edit and
Run that changes what is printed and drawn, or an exercise whose check names what is wrong and
then passes."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
from helpers import (
    check_exercise,
    editor_text,
    open_clean_lesson,
    output_text,
    press,
    read_plot,
    readouts,
    replace_code,
    run_cell,
    wait_for,
    wait_for_readout,
    wait_for_readouts,
    with_solution,
)
from live_server import LiveServer

pytestmark = pytest.mark.browser

SERIES_NAMED = """([sel, name]) => {
  const div = document.querySelector(sel);
  return Boolean(div && div.data) && div.data.some((t) => t.name === name);
}"""

SERIES_LENGTH_IS = """([sel, name, n]) => {
  const div = document.querySelector(sel);
  const t = div && div.data && div.data.find((t) => t.name === name);
  return Boolean(t) && t.y.length === n;
}"""


def series(page: Any, plot: str) -> dict[str, np.ndarray]:
    """A plot's traces by name, as float arrays of their y values."""
    return {
        str(t["name"]): np.asarray(t["y"], dtype=float)
        for t in read_plot(page, plot)
        if t["name"] is not None and t["y"] is not None
    }


def wait_for_series(page: Any, plot: str, name: str) -> None:
    wait_for(page, SERIES_NAMED, [f"#plot-{plot}", name])


def solve(page: Any, exercise: str, cell: str) -> None:
    """Put the exercise's own solution into its cell, in place of the unfinished function, and
    run the cell."""
    solution = str(page.text_content(f"[data-solution-text='{exercise}']")).strip("\n")
    replace_code(page, cell, with_solution(editor_text(page, cell), solution), typing=False)
    ok, text = run_cell(page, cell)
    assert ok, text


def numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)]


# ----------------------------------------------------------------------------- B1


def test_b1_sgd_finds_w_2_and_b_1_and_fewer_epochs_draw_fewer_points(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "linear-regression-by-sgd")
    last = output_text(page, "script").strip().splitlines()[-1]
    match = re.search(r"after 10 epochs: w = ([-\d.]+), b = ([-\d.]+), eval loss = (\S+)", last)
    assert match, last
    w, b, eval_loss = (float(g) for g in match.groups())
    assert abs(w - 2) < 1e-3 and abs(b - 1) < 0.02 and eval_loss < 1e-4
    curves = series(page, "losses")
    assert [len(v) for v in curves.values()] == [10, 10]
    assert curves["eval loss"][-1] < curves["eval loss"][0] / 1000

    code = editor_text(page, "script").replace("epochs = 10\n", "epochs = 3\n")
    replace_code(page, "script", code, typing=False)
    ok, _ = run_cell(page, "script")
    assert ok
    assert "after 3 epochs" in output_text(page, "script")
    wait_for(page, SERIES_LENGTH_IS, ["#plot-losses", "eval loss", 3])
    assert len(series(page, "parameter-paths")["w"]) == 4


def test_b1_a_too_big_learning_rate_stops_the_sweep_early(page: Any, server: LiveServer) -> None:
    open_clean_lesson(page, server, "linear-regression-by-sgd")
    assert len(series(page, "rate-sweep")["training loss"]) == 10
    press(page, "rate", "ArrowLeft", 5)  # 0.5 x 0.0001: slower
    wait_for(
        page,
        "() => { const t = document.getElementById('plot-rate-sweep').data[0];"
        " return t.y.length === 10 && t.y[9] > 1e-3; }",
    )
    press(page, "rate", "End")  # 3 x 0.0001: blows up in the first epoch
    wait_for(page, SERIES_LENGTH_IS, ["#plot-rate-sweep", "training loss", 1])
    assert series(page, "rate-sweep")["training loss"][0] > 1e6


# ----------------------------------------------------------------------------- B2


def test_b2_autograd_matches_the_hand_formula_and_a_missing_zero_grad_is_caught(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "autograd")
    rows = {
        line.split()[0]: numbers(line)
        for line in output_text(page, "one-example").splitlines()
        if line.startswith("dL/d")
    }
    assert rows["dL/dw"][-2:] == [-9702.0, -9702.0]
    assert rows["dL/db"][-2:] == [-198.0, -198.0]
    worst = float(output_text(page, "gradient-check").split("relative difference:")[1].split()[0])
    assert worst < 1e-12
    trained = output_text(page, "train").splitlines()
    assert numbers(trained[0])[:2] == numbers(trained[1])[:2]

    passed, message = check_exercise(page, "zero-grad")
    assert not passed and message
    solve(page, "zero-grad", "your-step")
    mine, loop = output_text(page, "your-step").strip().splitlines()
    assert numbers(mine)[-2:] == pytest.approx(numbers(loop)[-2:], rel=1e-5)
    passed, message = check_exercise(page, "zero-grad")
    assert passed, message


# ----------------------------------------------------------------------------- B3


def test_b3_says_its_device_and_shuffled_minibatches_pass_the_check(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "batches-and-the-gpu")
    device = output_text(page, "device").splitlines()[0].split(":")[1].strip()
    badge = str(page.text_content("#device"))
    assert device == ("cpu" if badge == "CPU" else "cuda"), (device, badge)
    assert "[3000, 3000, 3000, 1000]" in output_text(page, "batches")
    timing = series(page, "timing-plot")
    assert timing["seconds per epoch"][0] > timing["seconds per epoch"][-1]

    passed, message = check_exercise(page, "shuffle")
    assert not passed and message
    solve(page, "shuffle", "batches")
    passed, message = check_exercise(page, "shuffle")
    assert passed, message


# ----------------------------------------------------------------------------- B4


def test_b4_workers_in_the_sandbox_reach_the_single_process_result(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "data-parallel-training")
    printed = output_text(page, "parallel")
    assert "equal to 1e-6: same result, work split across workers" in printed, printed
    passed, message = check_exercise(page, "fair-shards")
    assert not passed and message
    solve(page, "fair-shards", "shard")
    passed, message = check_exercise(page, "fair-shards")
    assert passed, message


# ----------------------------------------------------------------------------- C1


def test_c1_worked_step_and_the_tangent_slope_come_from_the_code(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "one-dimension")
    worked = output_text(page, "worked")
    assert "gradient at w = -1.5: -33.75" in worked
    assert "new w after one step: -1.46625" in worked
    assert readouts(page, "slope")["slope"] == -33.75
    press(page, "point", "ArrowRight", 50)  # w = -1.0
    wait_for_readout(page, "slope", "slope", 4 * (-1.0) ** 3 - 9 * (-1.0) ** 2)

    # The learner's step drives the second walk: it stands still until step() is written.
    assert series(page, "my-walk-plot") and "my_walk → -1.5" in series(page, "my-walk-plot")
    solve(page, "one-step", "your-step")
    walk = next(n for n in series(page, "walk-plot") if n.startswith("walk →"))
    wait_for_series(page, "my-walk-plot", walk.replace("walk", "my_walk"))
    passed, message = check_exercise(page, "one-step")
    assert passed, message


# ----------------------------------------------------------------------------- C2


def test_c2_a_start_just_across_the_hilltop_ends_in_another_valley(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "valleys-and-starting-points")

    def end_of_walk(start: float) -> float:
        w = start
        for _ in range(60):
            w = w - 0.05 * (3 * math.cos(3 * w) + 0.3 * w)
        return w

    assert readouts(page, "one-start")["where the walk ends"] == pytest.approx(
        end_of_walk(2.2), 1e-4
    )
    press(page, "start", "ArrowLeft", 33)  # 0.55
    wait_for_readout(page, "one-start", "where the walk ends", end_of_walk(0.55))
    press(page, "start", "ArrowLeft")  # 0.50
    wait_for_readout(page, "one-start", "where the walk ends", end_of_walk(0.5))
    assert end_of_walk(0.5) < 0 < end_of_walk(0.55)
    names = list(series(page, "one-start"))
    assert any(n.startswith("descend → -0.50") for n in names), names


# ----------------------------------------------------------------------------- C3


def test_c3_the_largest_rate_is_labelled_diverged(page: Any, server: LiveServer) -> None:
    open_clean_lesson(page, server, "learning-rate-too-big")
    names = list(series(page, "four"))
    assert "α = 1.3 → diverged" in names
    assert [n for n in names if "diverged" in n] == ["α = 1.3 → diverged"]

    press(page, "learning_rate", "End")  # 1.5: both walks take off
    wait_for_series(page, "yours", "from the left, w = -2 → diverged")
    wait_for_series(page, "yours", "from the right, w = 3.5 → diverged")
    press(page, "learning_rate", "Home")  # 0.01: both crawl
    wait_for(
        page,
        "() => document.getElementById('plot-yours').data.slice(1)"
        ".every((t) => t.name.includes('→') && !t.name.includes('diverged'))",
    )


# ----------------------------------------------------------------------------- C4


def test_c4_your_central_differences_agree_with_the_hand_gradient(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "checking-a-gradient")
    lines = dict(line.split(":", 1) for line in output_text(page, "one-d").splitlines())
    assert float(lines["exact, from dL"]) == -33.75
    assert abs(float(lines["central difference"]) + 33.75) < 1e-4
    assert "hand vs numerical:  1.0e+00" in output_text(page, "compare")

    passed, message = check_exercise(page, "central")
    assert not passed and message
    solve(page, "central", "numerical")
    ok, _ = run_cell(page, "compare")
    assert ok
    error = output_text(page, "compare").split("hand vs numerical:")[1].split()[0]
    assert float(error) < 1e-6
    passed, message = check_exercise(page, "central")
    assert passed, message


# ----------------------------------------------------------------------------- C5


def write_batch_gradient(page: Any) -> None:
    """Every curve of the batch-size lesson steps with the learner's `batch_gradient`, flat until
    it is written: write it (the exercise's solution) and wait for the full batch's curve to
    fall."""
    solve(page, "batch-gradient", "yours")
    wait_for(
        page,
        "() => { const d = document.getElementById('plot-noise'); const t = d && d.data"
        " && d.data.find(t => (t.name || '').startsWith('full batch'));"
        " return t && t.y.length > 1 && t.y[t.y.length - 1] < t.y[0] * 0.5; }",
    )


def test_c5_the_batch_size_slider_reruns_the_race_against_full_batch(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "learning-rate-and-batch-size")
    write_batch_gradient(page)
    before = series(page, "noise")
    assert set(before) == {"batch size 4", "full batch (256)"}
    press(page, "batch_size", "ArrowRight", 60)  # 64
    wait_for_series(page, "noise", "batch size 64")
    after = series(page, "noise")
    assert len(after["batch size 64"]) == 200
    np.testing.assert_allclose(after["full batch (256)"], before["full batch (256)"])
    # The bigger the batch, the less the jitter near the end.
    assert np.std(after["batch size 64"][-50:]) < np.std(before["batch size 4"][-50:])


# ----------------------------------------------------------------------------- C6


def test_c6_your_step_decay_draws_the_halving_schedule(page: Any, server: LiveServer) -> None:
    open_clean_lesson(page, server, "learning-rate-schedules")
    rates = series(page, "rate-plot")
    np.testing.assert_allclose(rates["step decay"], rates["constant"])

    passed, message = check_exercise(page, "step-decay")
    assert not passed and message
    solve(page, "step-decay", "schedules")
    want = [0.2 * 0.5 ** (t // 5) for t in range(30)]
    wait_for(
        page,
        "want => { const t = document.getElementById('plot-rate-plot').data[1];"
        " return want.every((v, i) => Math.abs(t.y[i] - v) < 1e-9); }",
        want,
    )
    passed, message = check_exercise(page, "step-decay")
    assert passed, message


# ----------------------------------------------------------------------------- C7


def test_c7_your_scaled_rate_joins_the_first_two_curves(page: Any, server: LiveServer) -> None:
    open_clean_lesson(page, server, "learning-rate-and-batch-size")
    write_batch_gradient(page)
    assert "batch 32, rate 0.02 (your scaled_rate)" in series(page, "scaling")
    passed, message = check_exercise(page, "scaling-rule")
    assert not passed and message
    solve(page, "scaling-rule", "rule")
    wait_for_series(page, "scaling", "batch 32, rate 0.08 (your scaled_rate)")
    curves = list(series(page, "scaling").values())
    # Epoch 20: the scaled curve lands near the first one, unlike the unchanged rate.
    assert abs(math.log(curves[3][-1] / curves[0][-1])) < abs(
        math.log(curves[2][-1] / curves[0][-1])
    )
    passed, message = check_exercise(page, "scaling-rule")
    assert passed, message


# ----------------------------------------------------------------------------- C8


def test_c8_optimizers_race_with_a_play_button(page: Any, server: LiveServer) -> None:
    open_clean_lesson(page, server, "optimizers")
    layout = page.evaluate(
        "() => { const d = document.getElementById('plot-valley-race');"
        " return {menus: d.layout.updatemenus, frames: (d._transitionData._frames || []).length}; }"
    )
    # Plotly's own buttons (out of keyboard reach) are replaced by a real button and scrubber.
    assert layout["menus"] is None
    assert page.inner_text("[data-anim=valley-race] button") == "Play"
    steps = page.get_attribute("[data-anim=valley-race] input[type=range]", "max")
    assert layout["frames"] > 10 and int(str(steps)) == layout["frames"] - 1
    paths = series(page, "valley-race")
    assert {"SGD", "Momentum", "RMSprop", "Adam"} <= set(paths)
    assert all(len(paths[n]) == 101 for n in ("SGD", "Momentum", "RMSprop", "Adam"))

    # Play moves every optimizer's head away from the shared start.
    heads = "() => document.getElementById('plot-valley-race').data.slice(5).map((t) => t.x[0])"
    assert page.evaluate(heads) == [-4.5] * 4
    page.click("[data-anim=valley-race] button")
    wait_for(page, f"() => ({heads})().every((x) => x > -4.4)")

    # Too big a rate for SGD: its path is marked as blown up.
    press(page, "sgd_lr", "End")
    wait_for_series(page, "valley-race", "SGD (blew up)")


# ----------------------------------------------------------------------------- D1


def test_d1_the_loop_fits_a_thrown_ball_and_the_rate_slider_retrains_it(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "the-seven-steps")
    fitted = output_text(page, "loop").splitlines()[0]
    a, b, c = numbers(fitted.split("h(t) =")[1])
    assert -5.5 < a < -4.5 and b > 0 and c > 0
    fit = read_plot(page, "fit")[0]
    xs = np.asarray(fit["x"])
    np.testing.assert_allclose(fit["y"], a * xs**2 + b * xs + c, atol=0.02)

    before = series(page, "losses")["training loss"]
    press(page, "lr", "ArrowLeft", 5)  # 0.05: slower
    wait_for(
        page,
        "last => { const t = document.getElementById('plot-losses').data[0];"
        " return t.y.length === 2000 && t.y[1999] > last * 1.5; }",
        float(before[-1]),
    )
    after = series(page, "losses")["training loss"]
    assert after[0] == pytest.approx(before[0])


# ----------------------------------------------------------------------------- D2


def test_d2_the_digit_classifiers_score_above_90_percent(page: Any, server: LiveServer) -> None:
    open_clean_lesson(page, server, "a-digit-classifier")
    linear = re.search(r"([\d.]+) %", output_text(page, "linear"))
    network = re.search(r"([\d.]+) %", output_text(page, "network"))
    assert linear and float(linear.group(1)) > 90
    assert network and float(network.group(1)) > 90
    accuracy = series(page, "linear-accuracy")["test accuracy"]
    assert len(accuracy) == 40 and accuracy[-1] > 0.9
    weights = read_plot(page, "linear-weights")
    assert len(weights) == 2 and len(weights[0]["z"]) == 8 and len(weights[0]["z"][0]) == 8

    passed, message = check_exercise(page, "report")
    assert not passed and message
    solve(page, "report", "report")
    scores = numbers(output_text(page, "report"))
    assert scores[0] == pytest.approx(float(linear.group(1)) / 100, abs=1e-3)
    passed, message = check_exercise(page, "report")
    assert passed, message


# ----------------------------------------------------------------------------- D3


def test_d3_the_epoch_slider_shows_parameters_and_loss_at_that_epoch(
    page: Any, server: LiveServer
) -> None:
    open_clean_lesson(page, server, "activations-and-parameters")
    losses = series(page, "loss")["losses"]
    assert readouts(page, "parameters")["loss at this epoch"] == pytest.approx(losses[0], rel=1e-4)
    w1_start = read_plot(page, "parameters")[0]["z"]
    hidden_start = read_plot(page, "activations")[2]["z"]

    press(page, "epoch", "End")  # epoch 1500
    wait_for_readout(page, "parameters", "loss at this epoch", float(losses[1500]))
    assert losses[1500] < losses[0] / 100
    assert read_plot(page, "parameters")[0]["z"] != w1_start
    assert read_plot(page, "activations")[2]["z"] != hidden_start
    # The data never moves.
    assert read_plot(page, "activations")[0]["z"] == [[0, 0], [0, 1], [1, 0], [1, 1]]


# ----------------------------------------------------------------------------- D4


def test_d4_more_hidden_neurons_fit_the_two_bumps_better(page: Any, server: LiveServer) -> None:
    open_clean_lesson(page, server, "networks-as-composition")
    narrow = readouts(page, "fit")["loss of the fit"]
    narrow_line = read_plot(page, "fit")[0]["y"]
    assert "loss at the trained weights" in readouts(page, "landscape")

    press(page, "hidden", "ArrowRight", 6)  # 8 neurons per hidden layer
    wait_for_readouts(page, "fit", "(r, old) => r['loss of the fit'] < old / 10", narrow)
    wide_line = read_plot(page, "fit")[0]["y"]
    assert wide_line != narrow_line
    # Near both bumps the wide network follows the samples.
    samples = read_plot(page, "fit")[1]
    xs, ys = np.asarray(samples["x"]), np.asarray(samples["y"])
    line_x = np.asarray(read_plot(page, "fit")[0]["x"])
    for bump in (-1.5, 1.0):
        i, j = int(np.argmin(abs(xs - bump))), int(np.argmin(abs(line_x - bump)))
        assert abs(wide_line[j] - ys[i]) < 0.05
