"""The lesson WebSocket of a real uvicorn server (`python -m app`), driven over real sockets:
ping is answered, every page message type has its handler, bad input closes only the page
that sent it, and a page's kernel ends with its socket."""

from __future__ import annotations

import typing

import msgspec
import numpy as np
import psutil
import pytest
import websockets
from live_server import LiveServer
from page_socket import (
    Connect,
    closed_with,
    eventually,
    line_xs,
    line_y,
    open_page,
    patch_with_seq,
    receive,
    receive_until,
    send,
    still_answers,
)

from app.protocol import ClientMessage
from app.web.socket import HANDLERS, UNSUPPORTED, PageSocket, dispatch


async def test_ping_is_answered_with_pong_of_the_same_seq(connect: Connect) -> None:
    ws = await connect()
    for seq in (1, 99, 12345):
        await send(ws, {"type": "ping", "seq": seq})
        assert await receive(ws) == {"type": "pong", "seq": seq}


# ----------------------------------------------------------------------------- dispatch


def test_every_page_message_type_has_a_handler() -> None:
    assert set(HANDLERS) == set(typing.get_args(ClientMessage))


class Shutdown(msgspec.Struct, tag="shutdown"):
    """A page message the protocol might gain one day, with no handler yet."""


class RecordingSocket:
    """Just enough of a WebSocket to see how the page's socket is closed."""

    def __init__(self) -> None:
        self.closed: tuple[int, str] | None = None

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


async def test_a_message_type_without_a_handler_closes_the_socket_with_1003(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ws = RecordingSocket()
    page = PageSocket(ws, "the-line")  # type: ignore[arg-type]
    assert not await dispatch(page, Shutdown())  # type: ignore[arg-type]
    assert ws.closed is not None
    code, reason = ws.closed
    assert code == UNSUPPORTED == 1003
    assert "Shutdown" in reason
    assert "no handler for page messages of type Shutdown" in caplog.text


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


async def test_unknown_lesson_socket_is_closed_with_1003(connect: Connect) -> None:
    ws = await connect("no-such-lesson")
    assert await closed_with(ws) == 1003


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
