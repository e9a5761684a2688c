"""Slider move → plot patch received, beside a WebSocket echo of the same server in the same run.

Starts the real server (`python -m app`) on a free port, opens one WebSocket to the line lesson
and measures, one request at a time and interleaved so both see the same conditions:

* echo: the protocol's `ping` answered by `pong` (the app has no other echo endpoint), i.e.
  the cost of the WebSocket path itself;
* slider: a `slide` of w, through the session and the sandboxed kernel, until the `patch` for
  that move is received.

Design goal (docs: ../shared/design.md): slider p50 ≤ 2× echo p50 and p99 ≤ 3× echo p99.

    .venv/bin/python bench/bench_slider.py [--n 500] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import learner_cookie, percentile, running_server

GOAL_P50, GOAL_P99 = 2.0, 3.0


class Page:
    """One lesson page's WebSocket, as the browser drives it."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws, self.seq = ws, 0
        self.patch_bytes: list[int] = []
        self.wrong = 0
        self.device = self.sandbox = "?"
        self.xs: list[float] = []

    async def until(
        self, done: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.ws.recv()
                msg = json.loads(raw)
                if msg["type"] in ("error", "plot_error") or msg.get("state") in (
                    "dead",
                    "refused",
                ):
                    raise SystemExit(f"the server refused the bench: {msg}")
                if msg["type"] == "patch":
                    self.patch_bytes.append(len(raw))
                if done(msg):
                    return dict(msg)

    async def open(self) -> None:
        await self.ws.send(json.dumps({"type": "open", "cells": {}}))
        figure: dict[str, Any] = {}

        def idle(msg: dict[str, Any]) -> bool:
            if msg["type"] == "ready":
                self.device, self.sandbox = msg["device"], msg["sandbox"]
            if msg["type"] == "figure":
                figure.update(msg)
            return bool(msg["type"] == "status" and msg["state"] == "idle")

        await self.until(idle, timeout=60)
        self.xs = values(figure["figure"]["data"][0]["x"])

    async def slide(self, w: float) -> float:
        """Seconds from sending a move of w to receiving its patch; checks the patch's numbers."""
        self.seq += 1
        seq = self.seq
        start = time.perf_counter()
        await self.ws.send(json.dumps({"type": "slide", "values": {"w": w}, "seq": seq}))
        msg = await self.until(lambda m: m["type"] == "patch" and m["seq"] >= seq)
        elapsed = time.perf_counter() - start
        y = values(msg["patch"]["data"]["y"][0])
        want = w * self.xs[-1]  # b stays 0; float32 holds about 7 significant digits
        if abs(y[-1] - want) > 1e-6 * max(1.0, abs(want)):
            self.wrong += 1
        return elapsed

    async def echo(self) -> float:
        self.seq += 1
        seq = self.seq
        start = time.perf_counter()
        await self.ws.send(json.dumps({"type": "ping", "seq": seq}))
        await self.until(lambda m: m["type"] == "pong" and m["seq"] == seq)
        return time.perf_counter() - start


def values(array: Any) -> list[float]:
    """An array as the protocol sends it: a list, or base64 float32 (docs/protocol.md)."""
    if isinstance(array, dict):
        return [v for (v,) in struct.iter_unpack("<f", base64.b64decode(array["bdata"]))]
    return list(array)


def slider_values(count: int) -> Iterator[float]:
    """Values of w across its range, each different from the one before."""
    for i in range(count):
        yield round(-9.0 + (i * 37 % 181) * 0.1, 1)


async def measure(port: int, n: int, warmup: int) -> tuple[Page, list[float], list[float]]:
    url = f"ws://127.0.0.1:{port}/ws/lessons/the-line"
    cookie = learner_cookie(port)  # lesson sockets are refused without a learner cookie
    async with websockets.connect(url, max_size=None, additional_headers={"Cookie": cookie}) as ws:
        page = Page(ws)
        await page.open()
        values = slider_values(warmup + n)
        for _ in range(warmup):
            await page.echo()
            await page.slide(next(values))
        page.patch_bytes.clear()
        echo, slide = [], []
        for i in range(n):
            # Alternate which goes first so neither always follows the other.
            if i % 2:
                echo.append(await page.echo())
                slide.append(await page.slide(next(values)))
            else:
                slide.append(await page.slide(next(values)))
                echo.append(await page.echo())
        return page, echo, slide


def report(
    page: Page, echo: list[float], slide: list[float], n: int, warmup: int, state: dict[str, Any]
) -> None:
    e50, e99 = percentile(echo, 50) * 1e3, percentile(echo, 99) * 1e3
    s50, s99 = percentile(slide, 50) * 1e3, percentile(slide, 99) * 1e3
    print(
        f"Descent slider bench: n={n} each (after {warmup} warm-up), lesson the-line, "
        f"kernel on {page.device}, sandbox {page.sandbox}, {os.cpu_count()} CPUs"
    )
    if state.get("missing_layers"):
        print(f"  missing sandbox layers: {', '.join(state['missing_layers'])}")
    print()
    header = f"{'metric':<36}{'p50 ms':>9}{'p99 ms':>9}{'p50/echo':>10}{'p99/echo':>10}"
    print(header)
    print("-" * len(header))
    print(f"{'WebSocket echo (ping -> pong)':<36}{e50:>9.3f}{e99:>9.3f}{1:>9.2f}x{1:>9.2f}x")
    print(
        f"{'slider move -> patch received':<36}{s50:>9.3f}{s99:>9.3f}"
        f"{s50 / e50:>9.2f}x{s99 / e99:>9.2f}x"
    )
    print()
    met = {True: "met", False: "MISSED"}
    print(
        f"goal: p50 <= {GOAL_P50:g}x echo: {met[s50 <= GOAL_P50 * e50]}; "
        f"p99 <= {GOAL_P99:g}x echo: {met[s99 <= GOAL_P99 * e99]}"
    )
    sizes = sorted(page.patch_bytes)
    print(f"patch size on the wire: median {sizes[len(sizes) // 2]} bytes (JSON text)")
    if page.wrong:
        print(f"WARNING: {page.wrong} patches did not hold w * x for their move")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=None, help="measured moves and echoes (500)")
    parser.add_argument("--quick", action="store_true", help="n=100 and a short warm-up")
    args = parser.parse_args()
    n = args.n or (100 if args.quick else 500)
    warmup = 20 if args.quick else 100
    with tempfile.TemporaryDirectory(prefix="descent-bench-") as tmp:
        with running_server(Path(tmp) / "server.log", start_s=60) as (port, state, _):
            if state.get("sandbox") == "refused":
                print("the server refuses learner code on this host (see DESCENT_SANDBOX)")
                return 1
            page, echo, slide = asyncio.run(measure(port, n, warmup))
        report(page, echo, slide, n, warmup, state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
