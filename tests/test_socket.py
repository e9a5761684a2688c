"""The lesson WebSocket of a real uvicorn server (`python -m app`), driven over real sockets:
slider moves come back as patches with the right numbers, bursts are merged last-write-wins,
and bad input closes only the page that sent it."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import numpy as np
import psutil
import pytest
import websockets
from live_server import LiveServer
from websockets.asyncio.client import ClientConnection

Message = dict[str, Any]
TIMEOUT = 20.0


def array(value: Any) -> np.ndarray:
    """A plotly array from the wire: a plain list, or base64 float32 with its shape."""
    if isinstance(value, dict) and value.get("dtype") == "f4":
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype="<f4")
        return flat.reshape(value["shape"]).astype(np.float64)
    return np.asarray(value, dtype=np.float64)


async def send(ws: ClientConnection, msg: Message) -> None:
    await ws.send(json.dumps(msg))


async def receive(ws: ClientConnection, timeout: float = TIMEOUT) -> Message:
    async with asyncio.timeout(timeout):
        return dict(json.loads(await ws.recv()))


async def receive_until(
    ws: ClientConnection, done: Callable[[Message], bool], timeout: float = TIMEOUT
) -> list[Message]:
    """Every message up to and including the first one for which `done` is true."""
    seen: list[Message] = []
    async with asyncio.timeout(timeout):
        while True:
            msg = dict(json.loads(await ws.recv()))
            seen.append(msg)
            if done(msg):
                return seen


async def closed_with(ws: ClientConnection, timeout: float = TIMEOUT) -> int | None:
    """Read until the server closes the socket; the close code it sent."""
    async with asyncio.timeout(timeout):
        try:
            while True:
                await ws.recv()
        except websockets.ConnectionClosed:
            pass
    return ws.close_code


async def eventually(condition: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.02)
    return result


def idle(msg: Message) -> bool:
    return msg["type"] == "status" and msg["state"] == "idle"


def patch_with_seq(seq: int) -> Callable[[Message], bool]:
    return lambda msg: msg["type"] == "patch" and msg["seq"] >= seq


def pong(seq: int) -> Callable[[Message], bool]:
    return lambda msg: msg["type"] == "pong" and msg["seq"] == seq


def line_y(patch: Message) -> np.ndarray:
    assert patch["plot"] == "line"
    assert patch["patch"]["traces"] == [0]
    return array(patch["patch"]["data"]["y"][0])


Connect = Callable[..., Awaitable[ClientConnection]]


@pytest.fixture
async def connect(server: LiveServer) -> AsyncIterator[Connect]:
    """Open lesson sockets on the shared server; all are closed when the test ends."""
    opened: list[ClientConnection] = []

    async def _connect(slug: str = "the-line") -> ClientConnection:
        ws = await websockets.connect(
            f"{server.ws_url}/ws/lessons/{slug}",
            max_size=None,
            additional_headers={"Cookie": server.learner_cookie()},
        )
        opened.append(ws)
        return ws

    yield _connect
    for ws in opened:
        await ws.close()


async def open_page(ws: ClientConnection) -> list[Message]:
    """What a page does first: send its cells and wait until the kernel has drawn everything."""
    await send(ws, {"type": "open", "cells": {}})
    return await receive_until(ws, idle)


async def line_xs(ws: ClientConnection) -> np.ndarray:
    figures = [m for m in await open_page(ws) if m["type"] == "figure"]
    (line,) = [m for m in figures if m["plot"] == "line"]
    return array(line["figure"]["data"][0]["x"])


async def still_answers(ws: ClientConnection, seq: int = 4242) -> None:
    await send(ws, {"type": "ping", "seq": seq})
    await receive_until(ws, pong(seq))


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


async def test_ping_is_answered_with_pong_of_the_same_seq(connect: Connect) -> None:
    ws = await connect()
    for seq in (1, 99, 12345):
        await send(ws, {"type": "ping", "seq": seq})
        assert await receive(ws) == {"type": "pong", "seq": seq}


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


# ----------------------------------------------------------------------------- bad input


BAD_MESSAGES = {
    "malformed-json": "{not json",
    "unknown-type": '{"type":"shutdown"}',
    "unknown-field": '{"type":"slide","values":{"w":1},"seq":1,"admin":true}',
    "wrong-type": '{"type":"slide","values":{"w":"one"},"seq":1}',
    "nan-literal": '{"type":"slide","values":{"w":NaN},"seq":1}',
    "binary-frame": b"\x00\x01",
}


@pytest.mark.parametrize("payload", BAD_MESSAGES.values(), ids=BAD_MESSAGES.keys())
async def test_bad_message_closes_that_socket_with_1003_and_others_keep_working(
    connect: Connect, server: LiveServer, payload: str | bytes
) -> None:
    bystander = await connect()
    x = await line_xs(bystander)
    culprit = await connect()
    await open_page(culprit)

    await culprit.send(payload)
    assert await closed_with(culprit) == 1003

    await still_answers(bystander)
    await send(bystander, {"type": "slide", "values": {"w": -2.0}, "seq": 1})
    patch = (await receive_until(bystander, patch_with_seq(1)))[-1]
    np.testing.assert_allclose(line_y(patch), -2.0 * x, atol=1e-6)
    if isinstance(payload, str):
        await eventually(
            lambda: "closing a socket on the-line" in server.log(), "a log line about the close"
        )


async def test_oversized_message_closes_that_socket_with_1009(connect: Connect) -> None:
    bystander = await connect()
    await open_page(bystander)
    culprit = await connect()
    await send(culprit, {"type": "ping", "seq": 1, "pad": "x" * (257 * 1024)})
    assert await closed_with(culprit) == 1009
    await still_answers(bystander)


async def test_large_message_under_the_limit_is_accepted(connect: Connect) -> None:
    ws = await connect()
    await open_page(ws)
    code = "x = 1\n" * (200 * 1024 // 6)
    await send(ws, {"type": "run", "cell": "model", "code": code, "seq": 3})
    refusal = (await receive_until(ws, lambda m: m["type"] == "error"))[-1]
    assert "cannot be edited" in refusal["message"]
    await still_answers(ws)


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


async def test_unknown_lesson_socket_is_closed_with_1003(connect: Connect) -> None:
    ws = await connect("no-such-lesson")
    assert await closed_with(ws) == 1003


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


# ----------------------------------------------------------------------------- kernel lifetime


def descendants(pid: int) -> set[int]:
    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


async def test_kernel_is_stopped_when_the_page_disconnects(server: LiveServer) -> None:
    ws = await websockets.connect(
        f"{server.ws_url}/ws/lessons/the-line",
        additional_headers={"Cookie": server.learner_cookie()},
    )
    await open_page(ws)
    assert server.health()["kernels"] >= 1
    # The supervisor keeps spare kernels forked ahead of need, so the page's own kernel is the
    # one of these processes that ends when the page goes.
    while_open = descendants(server.process.pid)

    await ws.close()
    await eventually(
        lambda: while_open - descendants(server.process.pid), "the page's kernel process to end"
    )
    await eventually(lambda: server.health()["kernels"] == 0, "healthz to count no kernels")
