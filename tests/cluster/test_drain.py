"""One server's graceful drain on SIGTERM, without a balancer (app/web/drain.py): `/healthz`
turns 503 `draining`, open lesson sockets are closed with 1012 and the words the page shows,
new ones are refused the same way, saves are still served, and the process exits by itself
once nothing but health checks arrives."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
import urllib.request
from pathlib import Path

import websockets
from live_server import start_server

from app.web.drain import GOING_AWAY, WORDS
from cluster.rig import get


async def test_sigterm_drains_then_exits(tmp_path: Path) -> None:
    server = start_server(tmp_path / "server.log", env={"DESCENT_DRAIN_S": "8"})
    try:
        cookie = server.learner_cookie()
        headers = {"Cookie": cookie}
        async with websockets.connect(
            server.ws_url + "/ws/lessons/the-line", additional_headers=headers
        ) as ws:
            await ws.send(json.dumps({"type": "open", "cells": {}}))
            async with asyncio.timeout(30):
                while json.loads(await ws.recv()).get("state") != "idle":
                    pass
            t0 = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(10):
                try:
                    while True:
                        await ws.recv()
                except websockets.ConnectionClosed:
                    pass
            assert (ws.close_code, ws.close_reason) == (GOING_AWAY, WORDS)
        status, body = await asyncio.to_thread(get, server.url + "/healthz")
        assert status == 503 and json.loads(body)["status"] == "draining"
        async with websockets.connect(
            server.ws_url + "/ws/lessons/the-line", additional_headers=headers
        ) as late:
            async with asyncio.timeout(10):
                with contextlib.suppress(websockets.ConnectionClosed):
                    await late.recv()
            assert late.close_code == GOING_AWAY
        with urllib.request.urlopen(server.url + "/api/lessons", timeout=5) as resp:
            assert resp.status == 200  # plain requests are still served while draining
        code = await asyncio.to_thread(server.process.wait, 20)
        took = time.monotonic() - t0
        assert code in (0, -signal.SIGTERM), code
        assert took < 8, f"the drain took {took:.1f} s with nobody left"
        assert "draining: 1 socket(s) told to reconnect elsewhere" in server.log()
    finally:
        server.stop()
