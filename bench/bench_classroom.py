"""A class of simulated learners over real WebSockets, beside the websockets library's own echo
server driven the same way in the same run.

Starts the real server (`python -m app`), signs in as the teacher, makes a room, joins N
learners (default 200) and opens the teacher's class landscape. Each learner then, for the
duration, drags the w slider of the line lesson: it sends a move, waits for the patch of that
move, thinks for a moment, and sends the next; every few seconds it presses Run. Afterwards the
same learners drive the echo server with the same messages and the same pauses.

Reported: p50 and p99 of move -> patch, errors (error messages, refused or closed sockets,
timeouts), stale frames (a patch whose seq is older than one already received), moves per
second against the echo's, and what the teacher's landscape received. First, what a save costs
with SQLite's synchronous=FULL (the server's setting) against NORMAL.
Goals (../shared/design.md): no errors, no stale frames, p99 <= 100 ms, throughput >= 0.7x echo.

    .venv/bin/python bench/bench_classroom.py [--learners 200] [--seconds 60] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.cookiejar
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import PYTHON, ROOT, free_port, percentile, running_server

LESSON = "the-line"
PASSWORD = "bench-teacher-password"
REPLY_TIMEOUT_S = 10.0
#: Where the line lesson starts its w slider (lessons/the-line/lesson.md).
START_W = 1.0
CODE = "def y(x, w, b):\n    return w * x + b\n"
ECHO_SERVER = """
import asyncio, sys
from websockets.asyncio.server import serve
async def echo(ws):
    async for message in ws:
        await ws.send(message)
async def main():
    async with serve(echo, "127.0.0.1", int(sys.argv[1]), max_size=None):
        await asyncio.Future()
asyncio.run(main())
"""


# ------------------------------------------------------------------ HTTP as a browser does it


class Browser:
    def __init__(self, base: str) -> None:
        self.base, self.jar = base, http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )
        self.csrf = ""

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as resp:
            html = resp.read().decode()
        found = re.search(r'name="csrf_token" value="([^"]+)"', html)
        self.csrf = found.group(1) if found else self.csrf
        return html

    def post(self, path: str, **fields: str) -> str:
        data = urllib.parse.urlencode({"csrf_token": self.csrf, **fields}).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as resp:
                return str(resp.headers.get("location", ""))
        except urllib.error.HTTPError as err:
            if err.code == 303:
                return str(err.headers.get("location", ""))
            raise

    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# ------------------------------------------------------------------ servers


def class_settings(learners: int) -> dict[str, str]:
    """Room for the whole class and its Runs; the teacher signs in with PASSWORD."""
    return {
        "DESCENT_MAX_KERNELS": str(learners + 20),
        "DESCENT_ROOM_MAX_KERNELS": str(learners + 10),
        "DESCENT_RUN_RATE_PER_MIN": "6000",
        "DESCENT_RUN_BURST": "100",
        "DESCENT_TEACHER_PASSWORD": PASSWORD,
    }


@contextlib.contextmanager
def echo_server() -> Iterator[int]:
    port = free_port()
    python = PYTHON if PYTHON.exists() else Path(sys.executable)
    proc = subprocess.Popen([str(python), "-c", ECHO_SERVER, str(port)])
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError):
                import socket

                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            if time.monotonic() > deadline:
                raise SystemExit("the echo server did not start")
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait()


# ------------------------------------------------------------------ learners


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    moves: int = 0
    runs: int = 0
    errors: list[str] = field(default_factory=list)
    stale: int = 0


class Learner:
    def __init__(self, ws: Any, rng: random.Random) -> None:
        self.ws, self.rng, self.seq, self.newest = ws, rng, 0, 0
        #: The slider's value as the page shows it: where the lesson starts it, then the last
        #: one sent. A move to the value shown is drawn by nothing, so none is ever sent.
        self.w = START_W
        self.seen: list[str] = []  # the last messages that came while waiting, for a timeout

    async def reply(self, tally: Tally, done: Any) -> dict[str, Any]:
        self.seen = []
        async with asyncio.timeout(REPLY_TIMEOUT_S):
            while True:
                msg = json.loads(await self.ws.recv())
                self.seen = [
                    *self.seen[-5:],
                    f"{msg.get('type')}:{msg.get('state', msg.get('seq'))}",
                ]
                kind = msg.get("type")
                if kind == "patch":
                    if msg["seq"] < self.newest:
                        tally.stale += 1
                    self.newest = max(self.newest, msg["seq"])
                elif kind in ("error", "plot_error") or msg.get("state") in ("dead", "full"):
                    tally.errors.append(str(msg)[:200])
                if done(msg):
                    return dict(msg)

    async def open(self) -> None:
        await self.ws.send(json.dumps({"type": "open", "cells": {}}))
        async with asyncio.timeout(120):
            while True:
                msg = json.loads(await self.ws.recv())
                if msg.get("type") == "status" and msg["state"] == "idle":
                    return
                if msg.get("state") in ("dead", "full", "refused"):
                    raise SystemExit(f"a learner's kernel did not start: {msg}")

    async def drive(
        self, tally: Tally, until: float, think: float, echo: bool, run_every: float
    ) -> None:
        runs = run_every > 0 and not echo
        next_run = time.monotonic() + self.rng.uniform(0.4, 1.2) * run_every if runs else math.inf
        seq = 0
        while time.monotonic() < until:
            try:
                if time.monotonic() >= next_run:
                    self.seq += 1
                    run = {"type": "run", "cell": "model", "code": CODE, "seq": self.seq}
                    await self.ws.send(json.dumps(run))
                    out = await self.reply(
                        tally, lambda m: m.get("type") == "status" and m["state"] == "idle"
                    )
                    tally.runs += 1
                    next_run = time.monotonic() + self.rng.uniform(0.8, 1.2) * run_every
                    del out
                self.seq += 1
                seq = self.seq
                # A new value each time: the server draws nothing for the value already shown
                # (the lesson's start before the first move), so its patch would never come.
                w = round(self.rng.uniform(-9, 9), 1)
                while w == self.w:
                    w = round(self.rng.uniform(-9, 9), 1)
                self.w = w
                move = {"type": "slide", "values": {"w": w}, "seq": seq}
                start = time.perf_counter()
                await self.ws.send(json.dumps(move))
                if echo:
                    async with asyncio.timeout(REPLY_TIMEOUT_S):
                        await self.ws.recv()
                else:
                    await self.reply(
                        tally, lambda m, s=seq: m.get("type") == "patch" and m["seq"] >= s
                    )
                tally.latencies.append(time.perf_counter() - start)
                tally.moves += 1
            except TimeoutError:
                waited = f"the patch of move {self.seq}" if self.seq == seq else "a Run's end"
                tally.errors.append(
                    f"timeout: no reply within 10 s, waiting for {waited}; "
                    f"came meanwhile: {', '.join(self.seen) or 'nothing'}"
                )
            except websockets.ConnectionClosed as err:
                tally.errors.append(f"closed: {err}")
                return
            await asyncio.sleep(think * self.rng.uniform(0.5, 1.5))


async def connect(url: str, cookie: str, origin: str) -> Any:
    return await websockets.connect(
        url,
        max_size=None,
        additional_headers={"Cookie": cookie, "Origin": origin},
        open_timeout=60,
    )


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="descent-class-bench-"))
    n, seconds, think = args.learners, args.seconds, args.think_ms / 1000
    with (
        running_server(tmp / "server.log", class_settings(n)) as (port, _, _),
        echo_server() as echo_port,
    ):
        base = f"http://127.0.0.1:{port}"
        teacher = Browser(base)
        teacher.get("/teacher/login")
        teacher.post("/teacher/login", password=PASSWORD)
        teacher.get("/teacher")
        room = teacher.post("/teacher/rooms", name="Bench", lesson=LESSON).rsplit("/", 1)[1]
        code = re.search(r'id="join-code">(\w+)<', teacher.get(f"/teacher/rooms/{room}"))
        assert code, "no join code"
        browsers = []
        for i in range(n):
            b = Browser(base)
            b.get(f"/join?code={code.group(1)}")
            b.post("/join", code=code.group(1), name=f"Learner {i + 1}")
            browsers.append(b)
        t0 = time.monotonic()
        url = f"ws://127.0.0.1:{port}/ws/lessons/{LESSON}"
        learners: list[Learner] = []
        for i in range(0, n, 10):
            batch = await asyncio.gather(
                *(connect(url, b.cookie(), base) for b in browsers[i : i + 10])
            )
            new = [Learner(ws, random.Random(i + j)) for j, ws in enumerate(batch)]
            await asyncio.gather(*(learner.open() for learner in new))
            learners += new
        opened_s = time.monotonic() - t0
        view = await connect(
            f"ws://127.0.0.1:{port}/ws/teacher/rooms/{room}", teacher.cookie(), base
        )
        landscape = {"messages": 0, "largest": 0, "points": 0}

        async def watch() -> None:
            with contextlib.suppress(websockets.ConnectionClosed, asyncio.CancelledError):
                async for raw in view:
                    msg = json.loads(raw)
                    if msg["type"] == "points":
                        landscape["messages"] += 1
                        landscape["largest"] = max(landscape["largest"], len(raw))
                        landscape["points"] = len(msg["points"])

        watcher = asyncio.create_task(watch())
        class_tally = Tally()
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(lr.drive(class_tally, until, think, False, args.run_every_s) for lr in learners)
        )
        watcher.cancel()
        await view.close()
        for learner in learners:
            await learner.ws.close()

        echo_tally = Tally()
        echoes = [
            Learner(
                await websockets.connect(f"ws://127.0.0.1:{echo_port}", max_size=None),
                random.Random(i),
            )
            for i in range(n)
        ]
        until = time.monotonic() + seconds
        await asyncio.gather(*(e.drive(echo_tally, until, think, True, 0) for e in echoes))
        for e in echoes:
            await e.ws.close()
    report(args, class_tally, echo_tally, landscape, opened_s)


def report(
    args: argparse.Namespace, cls: Tally, echo: Tally, landscape: dict[str, int], opened_s: float
) -> None:
    def row(name: str, t: Tally, ratio: float) -> str:
        p50 = percentile(t.latencies, 50) * 1e3 if t.latencies else math.nan
        p99 = percentile(t.latencies, 99) * 1e3 if t.latencies else math.nan
        rate = t.moves / args.seconds
        return (
            f"{name:<34}{t.moves:>8}{rate:>9.1f}{ratio:>8.2f}x{p50:>9.2f}{p99:>9.2f}"
            f"{len(t.errors):>8}{t.stale:>7}"
        )

    print(
        f"Descent classroom bench: {args.learners} learners, {args.seconds} s each phase, "
        f"think {args.think_ms} ms between moves, Run every {args.run_every_s} s, lesson {LESSON}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"  all {args.learners} kernels open and drawn in {opened_s:.1f} s\n")
    header = (
        f"{'server':<34}{'moves':>8}{'moves/s':>9}{'vs echo':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'stale':>7}"
    )
    print(header)
    print("-" * len(header))
    ratio = cls.moves / echo.moves if echo.moves else math.nan
    print(row("Descent (slide -> patch, + Run)", cls, ratio))
    print(row("websockets echo server", echo, 1.0))
    print()
    print(
        f"Runs pressed: {cls.runs}. Teacher's class landscape: {landscape['messages']} updates "
        f"({landscape['messages'] / args.seconds:.1f}/s), {landscape['points']} points in the "
        f"last, largest {landscape['largest']} bytes."
    )
    p99 = percentile(cls.latencies, 99) * 1e3 if cls.latencies else math.inf
    goals = {
        "no errors": not cls.errors,
        "no stale frames": cls.stale == 0,
        "p99 <= 100 ms": p99 <= 100,
        "throughput >= 0.7x echo": ratio >= 0.7,
    }
    print("Goals: " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in goals.items()))
    for err in cls.errors[:5]:
        print(f"  error: {err}")


def save_costs(saves: int) -> None:
    """What synchronous=FULL (the server's setting: a save survives a power cut) costs per save
    against NORMAL (survives a killed server only), on the same disk, interleaved in one run."""
    from app.classroom.db import Database
    from app.classroom.work import save_cell
    from app.protocol import CellId, LearnerId, LessonSlug

    tmp = Path(tempfile.mkdtemp(prefix="descent-save-bench-", dir=ROOT))
    try:
        dbs = {mode: Database(f"sqlite:///{tmp / mode / 'descent.sqlite3'}", mode) for mode in
               ("NORMAL", "FULL")}  # fmt: skip
        times: dict[str, list[float]] = {mode: [] for mode in dbs}
        versions = dict.fromkeys(dbs, 0)
        for i in range(saves):
            for mode, db in dbs.items():
                with db.session() as session:
                    start = time.perf_counter()
                    saved = save_cell(
                        session, LearnerId("bench"), LessonSlug("the-line"), CellId("model"),
                        f"def y(x, w, b):\n    return w * x + b  # {i}\n", versions[mode],
                    )  # fmt: skip
                    times[mode].append(time.perf_counter() - start)
                versions[mode] = saved.version
        for db in dbs.values():
            db.close()
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    print(f"Saves of one cell, SQLite in the repository's folder, {saves} each, interleaved")
    print(f"{'synchronous':<14}{'p50 ms':>9}{'p99 ms':>9}{'vs NORMAL':>11}")
    base = percentile(times["NORMAL"], 50)
    for mode, t in times.items():
        p50, p99 = percentile(t, 50), percentile(t, 99)
        print(f"{mode:<14}{p50 * 1e3:>9.2f}{p99 * 1e3:>9.2f}{p50 / base:>10.2f}x")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think-ms", type=float, default=100, help="pause between two moves")
    parser.add_argument(
        "--run-every-s",
        type=float,
        default=5,
        help="each learner presses Run this often (0: never)",
    )
    parser.add_argument("--quick", action="store_true", help="20 learners for 10 s")
    args = parser.parse_args()
    if args.quick:
        args.learners, args.seconds = 20, 10
    save_costs(100 if args.quick else 500)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
