"""The lesson WebSocket, fuzzed with Hypothesis on a real server: every message type with absurd
fields (numbers of 2**64 and beyond, NaN, lone surrogates, NUL bytes, huge and deeply nested
values), unknown types, binary frames and oversized frames. The invariant: the page either gets
an answer and the socket still answers a ping, or the socket closes with a defined code and
words; never a traceback in the server's log."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live_server import LiveServer
from page_socket import Connect, open_page, pong, receive_until, send
from websockets.asyncio.client import ClientConnection

#: Close codes that carry a rule the page broke, each with words.
DEFINED = {1003, 1007, 1008, 1009}
TYPES = ["open", "slide", "run", "check", "train", "interrupt", "restart", "ping"]
FIELDS = ["cells", "values", "seq", "cell", "code", "exercise", "plot", "action", "speed"]


def _numbers() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(min_value=-(2**80), max_value=2**80),
        st.sampled_from([2**64, 2**63, -(2**63) - 1, 10**400]),
        st.floats(),
    )


def _texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=30),
        st.sampled_from(["\x00", "w\x00", "\ud800", "w", "b", "model", "line", "play", ""]),
        st.just("x" * 5_000),
    )


def _values() -> st.SearchStrategy[Any]:
    leaves = st.one_of(st.none(), st.booleans(), _numbers(), _texts())
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts(), inner, max_size=3),
        max_leaves=8,
    )


@st.composite
def frames(draw: st.DrawFn) -> str | bytes:
    kind = draw(st.sampled_from(["typed", "typed", "typed", "json", "binary", "deep", "huge"]))
    if kind == "typed":
        msg: dict[str, Any] = {"type": draw(st.sampled_from([*TYPES, "nope", ""]))}
        for name in draw(st.lists(st.sampled_from(FIELDS), max_size=4, unique=True)):
            msg[name] = draw(_values())
        return json.dumps(msg, ensure_ascii=True)  # lone surrogates travel escaped
    if kind == "json":
        return json.dumps(draw(_values()), ensure_ascii=True)
    if kind == "binary":
        return draw(st.binary(max_size=64))
    if kind == "deep":
        depth = draw(st.sampled_from([50, 5_000, 50_000]))
        return '{"type": "slide", "values": ' + "[" * depth + "]" * depth + "}"
    return json.dumps({"type": "run", "cell": "model", "code": "x" * (300 * 1024)})


async def alive(ws: ClientConnection, seq: int) -> bool:
    """Whether the socket still answers a ping; False when it closed (with a defined code)."""
    try:
        await send(ws, {"type": "ping", "seq": seq})
        await receive_until(ws, pong(seq), timeout=20)
        return True
    except websockets.ConnectionClosed:
        assert ws.close_code in DEFINED, (ws.close_code, ws.close_reason)
        assert ws.close_reason, "a close without words"
        return False


@pytest.fixture
async def page(connect: Connect) -> list[ClientConnection]:
    ws = await connect("the-line")
    await open_page(ws)
    return [ws]


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(frame=frames())
async def test_no_message_breaks_the_socket_or_the_server(
    connect: Connect, page: list[ClientConnection], frame: str | bytes
) -> None:
    ws = page[0]
    with contextlib.suppress(websockets.ConnectionClosed):
        await ws.send(frame)
    await asyncio.sleep(0)
    if not await alive(ws, 7):
        fresh = await connect("the-line")
        await open_page(fresh)
        page[0] = fresh


def test_the_fuzzed_server_logged_no_traceback(server: LiveServer) -> None:
    """Runs after the fuzz test (same module, same server): nothing raised inside."""
    log = server.log()
    assert "Traceback" not in log, log[log.find("Traceback") - 200 :][:3000]
