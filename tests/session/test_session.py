"""A lesson page's session on a real server, over its WebSocket: opening runs the cells and
draws the plots, slider moves come back as patches with the right numbers, bursts are merged
last-write-wins, bad values and locked cells are refused, and training plots play, step, reset
and stop on divergence."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

import numpy as np
import pytest
from page_socket import (
    Connect,
    Message,
    array,
    idle,
    line_xs,
    line_y,
    open_page,
    patch_with_seq,
    pong,
    receive_until,
    send,
)
from websockets.asyncio.client import ClientConnection

from app.config import Settings
from app.content.loader import load_catalogue
from app.protocol import CellId

# ----------------------------------------------------------------------------- the happy path


async def test_opening_the_line_starts_a_kernel_and_draws_the_line(connect: Connect) -> None:
    ws = await connect()
    messages = await open_page(ws)
    types = [m["type"] for m in messages]
    assert types[0] == "status" and messages[0]["state"] == "starting"
    ready = next(m for m in messages if m["type"] == "ready")
    assert ready["device"] in ("cpu", "cuda") or ready["device"].startswith("cuda")
    assert ready["sandbox"] in ("strict", "weak")
    output = next(m for m in messages if m["type"] == "output")
    assert (output["cell"], output["ok"]) == ("model", True)
    (figure,) = [m for m in messages if m["type"] == "figure"]
    assert figure["plot"] == "line"
    trace = figure["figure"]["data"][0]
    x, y = array(trace["x"]), array(trace["y"])
    np.testing.assert_allclose(y, 1.0 * x + 0.0, atol=1e-6)  # the lesson starts at w=1, b=0
    assert types.index("ready") < types.index("output") < types.index("figure")


async def test_slider_move_is_answered_with_a_patch_of_the_moved_line(connect: Connect) -> None:
    ws = await connect()
    x = await line_xs(ws)
    await send(ws, {"type": "slide", "values": {"w": 2.5, "b": -1.5}, "seq": 1})
    patch = (await receive_until(ws, patch_with_seq(1)))[-1]
    assert patch["seq"] == 1
    np.testing.assert_allclose(line_y(patch), 2.5 * x - 1.5, atol=1e-6)
    assert len(json.dumps(patch)) < 4096, "a slider move sends a small patch, not a figure"

    await send(ws, {"type": "slide", "values": {"b": 3.0}, "seq": 2})
    patch = (await receive_until(ws, patch_with_seq(2)))[-1]
    np.testing.assert_allclose(line_y(patch), 2.5 * x + 3.0, atol=1e-6)


async def test_plane_patch_holds_w1_x1_plus_w2_x2_plus_b(connect: Connect) -> None:
    ws = await connect("several-inputs")
    messages = await open_page(ws)
    (figure,) = [m for m in messages if m["type"] == "figure"]
    trace = figure["figure"]["data"][0]
    x1, x2 = array(trace["x"]), array(trace["y"])
    await send(ws, {"type": "slide", "values": {"w1": 2.0, "w2": -3.5, "b": 4.2}, "seq": 1})
    patch = (await receive_until(ws, patch_with_seq(1)))[-1]
    z = array(patch["patch"]["data"]["z"][0])
    expected = 2.0 * x1[None, :] - 3.5 * x2[:, None] + 4.2
    np.testing.assert_allclose(z, expected, rtol=1e-6, atol=1e-5)


# ----------------------------------------------------------------------------- last write wins


async def test_burst_of_slides_is_merged_and_the_last_values_win(connect: Connect) -> None:
    ws = await connect()
    x = await line_xs(ws)
    sent = {i + 1: round(-5.0 + 0.2 * i, 1) for i in range(50)}
    for seq, w in sent.items():
        await send(ws, {"type": "slide", "values": {"w": w}, "seq": seq})
    messages = await receive_until(ws, patch_with_seq(50))
    await send(ws, {"type": "ping", "seq": 777})
    messages += await receive_until(ws, pong(777))
    patches = [m for m in messages if m["type"] == "patch"]

    assert len(patches) < 25, f"{len(patches)} patches for 50 slides: moves were not merged"
    seqs = [p["seq"] for p in patches]
    assert seqs == sorted(set(seqs)), f"a patch came for an older value than one shown: {seqs}"
    assert seqs[-1] == 50
    for patch in patches:
        np.testing.assert_allclose(
            line_y(patch), sent[patch["seq"]] * x, atol=1e-6, err_msg=f"seq {patch['seq']}"
        )
    errors = [m for m in messages if m["type"] in ("error", "plot_error")]
    assert not errors


# ----------------------------------------------------------------------------- refused moves


@pytest.mark.parametrize("value", [1e9, -10.5, 10.2, 1.7e308])
async def test_slider_value_out_of_range_is_refused_with_a_message(
    connect: Connect, value: float
) -> None:
    ws = await connect()
    x = await line_xs(ws)
    await send(ws, {"type": "slide", "values": {"w": value}, "seq": 1})
    refusal = (await receive_until(ws, lambda m: m["type"] in ("error", "patch")))[-1]
    assert refusal["type"] == "error"
    assert "w" in refusal["message"] and "[-10, 10]" in refusal["message"]

    await send(ws, {"type": "slide", "values": {"w": 0.5}, "seq": 2})
    patch = (await receive_until(ws, patch_with_seq(2)))[-1]
    np.testing.assert_allclose(line_y(patch), 0.5 * x, atol=1e-6)


async def test_unknown_slider_is_refused_and_nothing_of_that_move_applies(
    connect: Connect,
) -> None:
    ws = await connect()
    x = await line_xs(ws)
    await send(ws, {"type": "slide", "values": {"w": 4.0, "q": 1.0}, "seq": 1})
    refusal = (await receive_until(ws, lambda m: m["type"] in ("error", "patch")))[-1]
    assert refusal["type"] == "error"
    assert "'q'" in refusal["message"]
    await send(ws, {"type": "slide", "values": {"b": 2.0}, "seq": 2})
    patch = (await receive_until(ws, patch_with_seq(2)))[-1]
    np.testing.assert_allclose(line_y(patch), 1.0 * x + 2.0, atol=1e-6)  # w is still 1


# ----------------------------------------------------------------------------- locked cells


async def test_locked_cell_cannot_be_run_with_changed_code(connect: Connect) -> None:
    ws = await connect()
    x = await line_xs(ws)
    hacked = "def y(x, w, b):\n    return 0 * x\n"
    await send(ws, {"type": "run", "cell": "model", "code": hacked, "seq": 1})
    refusal = (await receive_until(ws, lambda m: m["type"] in ("error", "output")))[-1]
    assert refusal["type"] == "error"
    assert "cannot be edited" in refusal["message"]

    await send(ws, {"type": "slide", "values": {"w": 3.0}, "seq": 2})
    patch = (await receive_until(ws, patch_with_seq(2)))[-1]
    np.testing.assert_allclose(line_y(patch), 3.0 * x, atol=1e-6)


async def test_locked_cell_runs_again_with_its_own_code(connect: Connect) -> None:
    ws = await connect()
    await open_page(ws)
    code = "def y(x, w, b):\n    return w * x + b\n"
    await send(ws, {"type": "run", "cell": "model", "code": code, "seq": 1})
    messages = await receive_until(ws, lambda m: m["type"] in ("error", "output"))
    assert messages[-1]["type"] == "output" and messages[-1]["ok"], messages[-1]


async def test_locked_cell_edits_sent_on_open_are_ignored(connect: Connect) -> None:
    ws = await connect()
    await send(ws, {"type": "open", "cells": {"model": "def y(x, w, b):\n    return 0 * x\n"}})
    messages = await receive_until(ws, idle)
    (figure,) = [m for m in messages if m["type"] == "figure"]
    trace = figure["figure"]["data"][0]
    np.testing.assert_allclose(array(trace["y"]), array(trace["x"]), atol=1e-6)


# ----------------------------------------------------------------------------- training


TRAIN_LOOP = "        update()\n        steps_taken = steps_taken + 1"
UNFINISHED = "        # Your turn: take one step here.\n        steps_taken = steps_taken + 1"


@pytest.fixture(scope="module")
def descent_code(settings: Settings) -> str:
    """The gradient-descent lesson's `loop` cell, as the lesson ships it."""
    lesson = load_catalogue(settings.lessons_dir).get("gradient-descent")
    assert lesson is not None
    code = lesson.cells[CellId("loop")].code
    assert UNFINISHED in code
    return code


async def run_loop(ws: ClientConnection, code: str) -> None:
    await send(ws, {"type": "run", "cell": "loop", "code": code, "seq": 1})
    outputs = [m for m in await receive_until(ws, idle) if m["type"] == "output"]
    assert outputs and outputs[-1]["ok"], outputs


async def train(ws: ClientConnection, action: str, speed: int = 5) -> None:
    await send(ws, {"type": "train", "plot": "descent", "action": action, "speed": speed})


def frame(m: Message) -> bool:
    return m["type"] == "patch" and m["plot"] == "descent"


def train_state(playing: bool) -> Callable[[Message], bool]:
    return lambda m: m["type"] == "train_state" and m["playing"] is playing


async def test_training_plays_frames_of_speed_iterations_and_pause_stops_it(
    connect: Connect, descent_code: str
) -> None:
    ws = await connect("gradient-descent")
    await open_page(ws)
    await run_loop(ws, descent_code.replace(UNFINISHED, TRAIN_LOOP))

    await train(ws, "play")
    await receive_until(ws, train_state(True))
    seen = [m for m in await receive_until(ws, frame) if frame(m)]
    for _ in range(2):
        seen += [m for m in await receive_until(ws, frame) if frame(m)]
    iterations = [m["readouts"]["iteration"] for m in seen]
    assert iterations == sorted(iterations) and len(set(iterations)) == 3
    assert all(n % 5 == 0 for n in iterations), "5 iterations per frame"
    patch = seen[-1]["patch"]
    assert patch["extend"]["traces"] == [3, 4], "one more point on the path and the loss curve"
    assert np.isfinite(seen[-1]["readouts"]["loss"])

    await train(ws, "pause")
    await receive_until(ws, train_state(False))
    await send(ws, {"type": "ping", "seq": 9})
    after = await receive_until(ws, pong(9))
    assert not [m for m in after if frame(m)], "no frame after Pause was answered"


async def test_training_step_runs_one_frame_and_reset_starts_over(
    connect: Connect, descent_code: str
) -> None:
    ws = await connect("gradient-descent")
    await open_page(ws)
    await run_loop(ws, descent_code.replace(UNFINISHED, TRAIN_LOOP))

    await train(ws, "step", speed=7)
    stepped = await receive_until(ws, train_state(False))
    (one,) = [m for m in stepped if frame(m)]
    assert one["readouts"]["iteration"] == 7
    assert one["readouts"]["w"] != 0.0

    await train(ws, "reset")
    reset = await receive_until(ws, train_state(False))
    (again,) = [m for m in reset if frame(m)]
    assert again["readouts"]["iteration"] == 0
    # Reset goes back to the program's own start: `w, b = 1.0, 0.0` in the lesson's code.
    assert (again["readouts"]["w"], again["readouts"]["b"]) == (1.0, 0.0)
    assert again["patch"]["traces"] == [0, 3, 4, 5], "the path, the loss curve and the start"


async def test_a_dragged_start_is_where_training_starts_and_reset_returns_there(
    connect: Connect, descent_code: str
) -> None:
    ws = await connect("gradient-descent")
    await open_page(ws)
    await run_loop(ws, descent_code.replace(UNFINISHED, TRAIN_LOOP))

    # A drag sends many places; the newest wins and every frame is a fresh start there.
    for k in range(6):
        place = {"type": "train", "plot": "descent", "action": "place", "at": [0.5 * k, -k]}
        await send(ws, place)
    messages = await receive_until(
        ws, lambda m: frame(m) and m["readouts"]["w"] == 2.5 and m["readouts"]["b"] == -5.0
    )
    placed = [m for m in messages if frame(m)]
    assert all(m["readouts"]["iteration"] == 0 for m in placed)
    assert placed[-1]["patch"]["traces"] == [0, 3, 4, 5], "the path starts again at the new start"

    await train(ws, "step", speed=3)
    stepped = [m for m in await receive_until(ws, frame) if frame(m)]
    moved = stepped[-1]["readouts"]
    assert moved["iteration"] == 3 and (moved["w"], moved["b"]) != (2.5, -5.0)
    await train(ws, "reset")
    again = [m for m in await receive_until(ws, frame) if frame(m)]
    assert (again[-1]["readouts"]["w"], again[-1]["readouts"]["b"]) == (2.5, -5.0)

    # A Run puts the start back where the program says.
    await run_loop(ws, descent_code.replace(UNFINISHED, TRAIN_LOOP))
    await train(ws, "reset")
    ran = [m for m in await receive_until(ws, frame) if frame(m)]
    assert (ran[-1]["readouts"]["w"], ran[-1]["readouts"]["b"]) == (1.0, 0.0)


@pytest.mark.parametrize("at", [None, [1.0], [1.0, 2.0, 3.0]])
async def test_a_start_that_is_not_two_numbers_is_refused_with_words(
    connect: Connect, at: list[float] | None
) -> None:
    ws = await connect("gradient-descent")
    await open_page(ws)
    await send(ws, {"type": "train", "plot": "descent", "action": "place", "at": at})
    refusal = (await receive_until(ws, lambda m: m["type"] == "error"))[-1]
    assert "two finite numbers" in refusal["message"]


async def test_a_plot_that_trains_a_network_has_no_start_to_drag(connect: Connect) -> None:
    ws = await connect("networks-as-composition")
    await open_page(ws)
    await send(ws, {"type": "train", "plot": "live-fit", "action": "place", "at": [0.0, 0.0]})
    refusal = (await receive_until(ws, lambda m: m["type"] == "error"))[-1]
    assert "start cannot be moved" in refusal["message"]


async def test_training_that_diverges_stops_with_words_and_the_last_finite_state(
    connect: Connect, descent_code: str
) -> None:
    ws = await connect("gradient-descent")
    await open_page(ws)
    code = descent_code.replace(UNFINISHED, TRAIN_LOOP)
    await run_loop(ws, code.replace("learning_rate = 0.003", "learning_rate = 10.0"))

    await train(ws, "play", speed=50)
    messages = await receive_until(ws, train_state(False))
    problems = [m for m in messages if m["type"] == "plot_error"]
    assert problems, [m["type"] for m in messages]
    assert "Training diverged at iteration" in problems[-1]["message"]
    assert "smaller learning rate" in problems[-1]["message"]


async def test_an_unfinished_train_moves_nothing_and_play_says_why(connect: Connect) -> None:
    ws = await connect("gradient-descent")
    await open_page(ws)
    await train(ws, "play")
    messages = await receive_until(ws, lambda m: m["type"] == "plot_error")
    assert "did not change" in messages[-1]["message"]
    assert "train(5)" in messages[-1]["message"]
    await receive_until(ws, train_state(False))


async def test_training_a_plot_that_is_not_a_training_plot_is_refused(connect: Connect) -> None:
    ws = await connect()
    await open_page(ws)
    await send(ws, {"type": "train", "plot": "line", "action": "play", "speed": 1})
    refusal = (await receive_until(ws, lambda m: m["type"] == "error"))[-1]
    assert "There is no training plot 'line'" in refusal["message"]
    await send(ws, {"type": "train", "plot": "nope", "action": "step", "speed": 1})
    refusal = (await receive_until(ws, lambda m: m["type"] == "error"))[-1]
    assert "'nope'" in refusal["message"]


# ----------------------------------------------------------------------------- kernel deaths


@pytest.mark.parametrize("dies_in", ["a plot", "a cell"])
async def test_a_kernel_that_dies_at_start_is_never_called_ready(
    connect: Connect, dies_in: str
) -> None:
    """Calling the model ends the kernel, while the plots draw or while a later cell runs: the
    page hears that the kernel is dead, and no idle ("Ready") status follows."""
    ws = await connect("a-model-in-code")
    model = "import os\n\ndef y(x, w, b):\n    os._exit(3)\n"
    cells = {"model": model, "call": "pass"} if dies_in == "a plot" else {"model": model}
    await send(ws, {"type": "open", "cells": cells})
    seen = await receive_until(ws, lambda m: m["type"] == "status" and m["state"] == "dead")
    assert "exit code 3" in seen[-1]["message"]
    (call,) = [m for m in seen if m["type"] == "output" and m["cell"] == "call"]
    assert call["ok"] == (dies_in == "a plot")
    later: list[Message] = []
    with contextlib.suppress(TimeoutError):
        await receive_until(ws, lambda m: bool(later.append(m)), timeout=1.5)
    assert not [m for m in later if m["type"] == "status" and m["state"] == "idle"], later


async def test_a_run_that_fails_greys_the_plots_its_cell_feeds(connect: Connect) -> None:
    """A syntax error in the model's cell: the plots drawn from `y` are marked out of date with
    words (the page greys them); a fixed Run redraws them."""
    ws = await connect("a-model-in-code")
    opened = await open_page(ws)
    drawn = {m["plot"] for m in opened if m["type"] == "figure"}
    await send(
        ws, {"type": "run", "cell": "model", "code": "def y(x, w, b)\n    return x", "seq": 3}
    )
    seen = await receive_until(ws, idle)
    greyed = {m["plot"] for m in seen if m["type"] == "plot_error"}
    assert greyed and greyed <= drawn, (greyed, drawn)
    assert all("did not run to the end" in m["message"] for m in seen if m["type"] == "plot_error")
    fixed = "def y(x, w, b):\n    return w * x + b\n"
    await send(ws, {"type": "run", "cell": "model", "code": fixed, "seq": 4})
    again = await receive_until(ws, idle)
    assert greyed <= {m["plot"] for m in again if m["type"] == "figure"}
