"""Talking to a real server's lesson WebSocket as a page does: send messages, read replies until
one of interest, read plotly arrays off the wire. Shared by the socket and session tests."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import websockets
from websockets.asyncio.client import ClientConnection

Message = dict[str, Any]
TIMEOUT = 20.0
Connect = Callable[..., Awaitable[ClientConnection]]


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
