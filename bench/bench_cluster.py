"""Descent past one machine (issue 12): what the balancer's hop and the shared room view cost,
on the real parts of tests/cluster (a PostgreSQL cluster, three replicas, Debian's HAProxy
running deploy/haproxy/haproxy.cfg), in one run:

* slider move -> patch, the same learner's page through HAProxy and straight to the replica
  that holds it, interleaved move by move. Goal: the hop adds at most 0.3x (p50).
* learner move -> dot on the teacher's class landscape, the learner on one replica and the
  teacher's page on another (LISTEN/NOTIFY between them), and both on one replica for
  comparison. Goal: p99 within twice DESCENT_LANDSCAPE_INTERVAL_MS.

    .venv/bin/python bench/bench_cluster.py [--moves 300] [--dots 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster.pages import Browser, Learner, program  # noqa: E402
from cluster.rig import PASSWORD, Rig, build, fresh_database, missing_parts, postgres  # noqa: E402
from harness import percentile  # noqa: E402
from websockets.asyncio.client import ClientConnection  # noqa: E402

INTERVAL_MS = 200
HOP_GOAL, DOT_GOAL = 1.3, 2.0


async def patch_after(ws: ClientConnection, seq: int, w: float) -> float:
    """Send one move and wait for its patch; the seconds it took."""
    t0 = time.perf_counter()
    await ws.send(json.dumps({"type": "slide", "values": {"w": w}, "seq": seq}))
    while True:
        msg = json.loads(await ws.recv())
        if msg["type"] == "patch" and msg["seq"] >= seq:
            return time.perf_counter() - t0


async def open_page(browser: Browser, path: str = "/ws/lessons/the-line") -> ClientConnection:
    ws = await browser.socket(path)
    await ws.send(json.dumps({"type": "open", "cells": {}}))
    while True:
        msg = json.loads(await ws.recv())
        if msg["type"] == "status" and msg["state"] == "idle":
            return ws


async def hop(rig: Rig, moves: int) -> tuple[list[float], list[float]]:
    """One learner, two tabs of the same lesson: one through HAProxy, one straight to the
    replica HAProxy chose (same cookies, same kernel pool, same CPU)."""
    learner = Browser(rig.balancer.url, rig.balancer.ws_url)
    await learner.page("/lessons/the-line")
    via = await open_page(learner)
    replica = rig.replica_of(learner.route)
    direct_browser = Browser(replica.url, f"ws://127.0.0.1:{replica.port}")
    direct_browser.http.cookies = learner.http.cookies
    direct = await open_page(direct_browser)
    through, straight = [], []
    for i in range(1, moves + 1):
        w = round(random.uniform(-5, 5), 2)
        through.append(await patch_after(via, i, w))
        straight.append(await patch_after(direct, i, w))
    await via.close()
    await direct.close()
    await learner.close()
    return through, straight


async def dots(rig: Rig, count: int, same: bool) -> list[float]:
    """Move -> dot: the teacher watches straight on r1; the learner sits on r2 (or on r1)."""
    teacher = Browser(rig.replicas[0].url, f"ws://127.0.0.1:{rig.replicas[0].port}")
    await teacher.page("/teacher/login")
    assert (await teacher.form("/teacher/login", password=PASSWORD)).status_code == 303
    await teacher.page("/teacher")
    made = await teacher.form("/teacher/rooms", name="Bench", lesson="the-line")
    room = int(made.headers["location"].rsplit("/", 1)[1])
    code = (await teacher.http.get(f"/api/teacher/rooms/{room}/roster")).json()["room"]["code"]
    home = rig.replicas[0] if same else rig.replicas[1]
    learner = Learner(Browser(home.url, f"ws://127.0.0.1:{home.port}"), "Bench")
    await learner.join(code)
    await learner.save(program("Bench", 0))
    page = await open_page(learner.browser)
    view = await teacher.socket(f"/ws/teacher/rooms/{room}")
    me = next(c.value for c in learner.browser.http.cookies.jar if c.name == "descent_learner")
    me = (me or "").rsplit(".", 1)[0]
    times = []
    for i in range(count):
        w = round(-4 + 8 * i / count, 3)
        await asyncio.sleep(random.uniform(0.05, 0.3))  # any phase against the ticks
        t0 = time.perf_counter()
        await page.send(json.dumps({"type": "slide", "values": {"w": w, "b": 1.0}, "seq": i + 1}))
        while True:
            msg = json.loads(await view.recv())
            if msg["type"] == "points" and any(p[0] == me and p[1] == w for p in msg["points"]):
                times.append(time.perf_counter() - t0)
                break
    await view.close()
    await page.close()
    await learner.browser.close()
    await teacher.close()
    return times


def row(name: str, times: list[float], ratio: str = "") -> str:
    p50, p99 = percentile(times, 50) * 1e3, percentile(times, 99) * 1e3
    return f"{name:<46}{len(times):>7}{p50:>9.2f}{p99:>9.2f}{ratio:>9}"


async def measure(rig: Rig, args: argparse.Namespace) -> None:
    through, straight = await hop(rig, args.moves)
    across = await dots(rig, args.dots, same=False)
    alone = await dots(rig, args.dots, same=True)
    ratio = percentile(through, 50) / percentile(straight, 50)
    print(
        f"Descent cluster bench: 3 replicas on PostgreSQL behind HAProxy "
        f"(deploy/haproxy/haproxy.cfg), {os.cpu_count()} CPUs, landscape interval {INTERVAL_MS} ms"
    )
    header = f"{'path':<46}{'n':>7}{'p50 ms':>9}{'p99 ms':>9}{'vs':>9}"
    print(header)
    print("-" * len(header))
    print(row("slide -> patch, through HAProxy", through, f"{ratio:.2f}x"))
    print(row("slide -> patch, straight to the replica", straight, "1.00x"))
    limit = 2 * INTERVAL_MS / 1e3
    for name, times in (("across replicas", across), ("on one replica", alone)):
        print(row(f"move -> teacher's dot, {name}", times, f"{percentile(times, 99) / limit:.2f}"))
    print("('vs' for dots: p99 over twice the interval)")
    goals = {
        f"hop adds at most {HOP_GOAL - 1:.1f}x (p50)": ratio <= HOP_GOAL,
        f"dot across replicas within {DOT_GOAL:g}x the interval (p99)": percentile(across, 99)
        <= limit,
    }
    print("Goals: " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in goals.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moves", type=int, default=300)
    parser.add_argument("--dots", type=int, default=100)
    args = parser.parse_args()
    reason = missing_parts()
    if reason:
        sys.exit(f"bench_cluster: {reason}")
    with (
        tempfile.TemporaryDirectory(prefix="descent-bench-cluster-") as folder,
        postgres() as pg,
        fresh_database(pg) as url,
    ):
        rig = build(Path(folder), url, landscape_interval_ms=str(INTERVAL_MS))
        try:
            asyncio.run(measure(rig, args))
        finally:
            rig.stop()


if __name__ == "__main__":
    main()
