"""The playground (issue 4, item 10): sliders on the loss landscape, the landscape grid, training.

Starts the real server (`python -m app`) on a free port and prints one table:

1. slider move -> landscape-marker `patch` received, with the lesson's own plain-Python `loss`
   (A9 `the-loss-landscape`: loss only; A11 `the-gradient`: loss, the learner's `gradient` and
   two slice plots on the same sliders), p50/p99 over N moves sent one at a time, interleaved
   with the WebSocket echo of the same server (`ping` -> `pong`) so both see the same
   conditions; the patch size in bytes, and a check that no whole `figure` came during the moves;
2. the landscape grid: a 200x200 grid of the lesson's loss in this process with
   `app.engine.grid.evaluate_grid`, one broadcast call vs its scalar loop (the same function,
   made to refuse arrays), beside plain numpy broadcasting; and one whole-figure request through
   the server: `run` of the loss cell -> the landscape `figure` received;
3. training on A13 `gradient-descent`: a correct `train(iterations)` is run, then Play at a few
   speeds; frames (patches of the training plot) per second reaching this client and `update()`
   calls per second in the kernel (the `iteration` readout over time), beside what the server
   alone can stream on the same socket; then Pause, and no frame may follow its acknowledgement.

Design goals (../shared/design.md, "Figures to reach"): slider p50 <= 2x and p99 <= 3x the echo;
per-move patches of a few hundred bytes; training frames >= 0.5x what the server can stream,
>= 30 updates/s, Pause within one frame.

    .venv/bin/python bench/bench_playground.py [--quick] [--n 300]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import itertools
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from harness import learner_cookie, percentile, running_server  # noqa: E402

from app.content.loader import load_lesson  # noqa: E402
from app.engine.grid import evaluate_grid  # noqa: E402

LESSONS = ROOT / "lessons"
A9, A11, A13 = (
    LESSONS / "the-loss-landscape" / "lesson.md",
    LESSONS / "the-gradient" / "lesson.md",
    LESSONS / "gradient-descent" / "lesson.md",
)
LANDSCAPE, DESCENT = "landscape", "descent"  # the plot ids in those lessons
GRID = 200
GOAL_P50, GOAL_P99, GOAL_STREAM, GOAL_UPS = 2.0, 3.0, 0.5, 30.0

# A13's `loop` cell has the learner write the step inside train(); the bench writes it.
TRAIN_STUB = "        # Your turn: take one step here.\n"
TRAIN_STEP = "        update()\n"

# --------------------------------------------------------------------------- server


# --------------------------------------------------------------------------- one page


class Page:
    """One lesson page's WebSocket, driven as the browser drives it; every message is logged
    with its arrival time and size so the phases can count what arrived when."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws, self.seq = ws, 0
        self.device = self.sandbox = "?"
        self.figures: dict[str, dict[str, Any]] = {}
        self.log: list[tuple[float, int, dict[str, Any]]] = []  # (arrival, bytes, message)
        self.strict = True  # plot_error / error / dead stop the bench

    async def recv(self, timeout: float) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            raw = await self.ws.recv()
        now = time.perf_counter()
        msg: dict[str, Any] = json.loads(raw)
        self.log.append((now, len(raw), msg))
        if self.strict and (
            msg["type"] in ("error", "plot_error") or msg.get("state") in ("dead", "refused")
        ):
            raise SystemExit(f"the server refused the bench: {msg}")
        if msg["type"] == "ready":
            self.device, self.sandbox = msg["device"], msg["sandbox"]
        if msg["type"] == "figure":
            self.figures[msg["plot"]] = msg
        return msg

    async def until(
        self, done: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        deadline = time.perf_counter() + timeout
        while True:
            msg = await self.recv(max(0.001, deadline - time.perf_counter()))
            if done(msg):
                return msg

    async def send(self, msg: dict[str, Any]) -> float:
        await self.ws.send(json.dumps(msg))
        return time.perf_counter()

    async def open(self, cells: dict[str, str] | None = None) -> None:
        await self.send({"type": "open", "cells": cells or {}})
        await self.until(lambda m: m["type"] == "status" and m["state"] == "idle", timeout=60)

    async def echo(self) -> float:
        self.seq += 1
        seq = self.seq
        start = await self.send({"type": "ping", "seq": seq})
        msg = await self.until(lambda m: m["type"] == "pong" and m["seq"] == seq)
        return self.log[-1][0] - start if msg else math.nan


def lesson_code(path: Path, cell: str) -> str:
    return str(load_lesson(path).cells[cell].code)  # type: ignore[index]


def lesson_ns(path: Path, cells: list[str]) -> dict[str, Any]:
    """The namespace the lesson's cells leave behind, as the kernel runs them."""
    lesson = load_lesson(path)
    ns: dict[str, Any] = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        for cid in cells:
            exec(compile(lesson.cells[cid].code, f"<{cid}>", "exec"), ns)  # type: ignore[index]
    return ns


# --------------------------------------------------------------------------- 1. sliders


@dataclass
class SliderRun:
    lesson: str
    plots: int
    echo: list[float] = field(default_factory=list)
    marker: list[float] = field(default_factory=list)  # move -> landscape patch
    every: list[float] = field(default_factory=list)  # move -> the last plot's patch
    sizes: list[int] = field(default_factory=list)
    figures: int = 0
    wrong: int = 0
    seq_mismatch: int = 0
    run_figure: list[float] = field(default_factory=list)
    figure_bytes: int = 0


def slider_values(
    lo_w: float, hi_w: float, lo_b: float, hi_b: float, n: int
) -> Iterator[tuple[float, float]]:
    """(w, b) pairs spread over the sliders' ranges, each different from the one before."""
    for i in range(n):
        fw, fb = (i * 37 % 181) / 180, (i * 53 % 167) / 166
        yield round(lo_w + fw * (hi_w - lo_w), 2), round(lo_b + fb * (hi_b - lo_b), 2)


async def slider_phase(
    port: int, cookie: str, path: Path, n: int, warmup: int, runs: int
) -> tuple[SliderRun, Page]:
    lesson = load_lesson(path)
    slug = lesson.slug
    sw, sb = lesson.sliders["w"], lesson.sliders["b"]
    ns = lesson_ns(path, ["loss"])
    loss = ns["loss"]
    on_sliders = [pid for pid, p in lesson.plots.items() if {"w", "b"} & set(p.sliders)]
    result = SliderRun(path.stem[:3].upper(), len(on_sliders))
    url = f"ws://127.0.0.1:{port}/ws/lessons/{slug}"
    async with websockets.connect(url, max_size=None, additional_headers={"Cookie": cookie}) as ws:
        page = Page(ws)
        await page.open()
        assert LANDSCAPE in page.figures, f"{slug}: no landscape figure after open"
        values = slider_values(sw.min, sw.max, sb.min, sb.max, warmup + n)

        async def move(w: float, b: float) -> tuple[float, float, dict[str, Any]]:
            page.seq += 1
            seq = page.seq
            start = await page.send({"type": "slide", "values": {"w": w, "b": b}, "seq": seq})
            got: dict[str, tuple[float, dict[str, Any]]] = {}
            while len(got) < len(on_sliders):
                msg = await page.recv(30)
                if msg["type"] == "figure":
                    result.figures += 1
                if msg["type"] in ("patch", "figure") and msg["seq"] == seq:
                    got[msg["plot"]] = (page.log[-1][0], msg)
                    if msg["plot"] == LANDSCAPE:
                        result.sizes.append(page.log[-1][1])
                elif msg["type"] in ("patch", "figure"):
                    result.seq_mismatch += 1
            at, marker = got[LANDSCAPE]
            return at - start, max(t for t, _ in got.values()) - start, marker

        for i in range(warmup + n):
            w, b = next(values)
            if i == warmup:
                result.sizes.clear()
                result.figures = result.seq_mismatch = 0
            first_echo = i % 2 == 1  # alternate which goes first so neither always follows
            if first_echo:
                e = await page.echo()
            t_marker, t_all, msg = await move(w, b)
            if not first_echo:
                e = await page.echo()
            if i >= warmup:
                result.echo.append(e)
                result.marker.append(t_marker)
                result.every.append(t_all)
                # The marker must sit at the move's (w, b), at the learner's own loss there.
                x, y = msg["patch"]["data"]["x"][1], msg["patch"]["data"]["y"][1]
                z = msg["patch"]["extra"][0]["data"]["z"][0]
                if (
                    abs(x[0] - w) > 1e-9
                    or abs(y[0] - b) > 1e-9
                    or abs(z[0] - loss(w, b)) > 1e-6 * max(1.0, abs(loss(w, b)))
                ):
                    result.wrong += 1

        # A whole figure through the server: Run the loss cell, wait for the landscape figure.
        code = lesson_code(path, "loss")
        for _ in range(runs):
            page.seq += 1
            seq = page.seq
            start = await page.send({"type": "run", "cell": "loss", "code": code, "seq": seq})

            def landscape_figure(m: dict[str, Any], seq: int = seq) -> bool:
                return bool(m["type"] == "figure" and m["plot"] == LANDSCAPE and m["seq"] == seq)

            await page.until(landscape_figure)
            result.run_figure.append(page.log[-1][0] - start)
            result.figure_bytes = page.log[-1][1]
            await page.until(lambda m: m["type"] == "status" and m["state"] == "idle")
        return result, page


# --------------------------------------------------------------------------- 2. the grid


@dataclass
class GridRun:
    lesson: str
    how: str
    vectorised: float
    loop: float
    loop_points: int
    numpy_ref: float
    max_diff: float
    mode: str


def grid_phase(path: Path, repeats: int, loop_budget: float) -> GridRun:
    """The lesson's loss on a 200x200 grid: one broadcast call vs evaluate_grid's scalar loop.

    The loop is forced with the same function behind `float()`, which refuses arrays, so the
    broadcast attempt fails at once and every point is one plain-Python call, as for a learner
    whose code only works on numbers."""
    ns = lesson_ns(path, ["loss"] if path != A13 else ["loop"])
    loss = ns["loss"]
    ws, bs = np.linspace(-10, 10, GRID), np.linspace(-15, 15, GRID)

    def scalar_only(w: Any, b: Any) -> Any:
        return loss(float(w), float(b))

    data = np.asarray(ns["data"], dtype=np.float64)
    xs, ts = data[:, 0], data[:, 1]

    def numpy_ref() -> np.ndarray:
        """The same loss as one numpy broadcast over (b, w, data point), the textbook way."""
        w, b = np.meshgrid(ws, bs)
        return np.asarray(0.5 * ((w[..., None] * xs + b[..., None] - ts) ** 2).sum(-1))

    vec_times, ref_times = [], []
    ref = numpy_ref()
    vec = evaluate_grid(loss, ws, bs, budget_s=60)
    for _ in range(repeats):
        start = time.perf_counter()
        vec = evaluate_grid(loss, ws, bs, budget_s=60)
        vec_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        numpy_ref()
        ref_times.append(time.perf_counter() - start)
    start = time.perf_counter()
    looped = evaluate_grid(scalar_only, ws, bs, budget_s=loop_budget)
    loop_s = time.perf_counter() - start
    done = int(np.isfinite(looped.z).sum())
    if not looped.complete:  # ran out of budget: extrapolate from the points it reached
        loop_s *= looped.z.size / max(1, done)
    finite = np.isfinite(looped.z)
    diff = max(
        float(np.abs(vec.z - ref).max()), float(np.abs(looped.z[finite] - ref[finite]).max())
    )
    source = lesson_code(path, "loss" if path != A13 else "loop")
    how = "for loop" if "for x_i" in source else "sum(...)"
    return GridRun(
        path.stem[:3].upper(),
        how,
        statistics.median(vec_times),
        loop_s,
        done,
        statistics.median(ref_times),
        diff,
        vec.mode,
    )


# --------------------------------------------------------------------------- 3. training


@dataclass
class PlayRun:
    speed: int
    seconds: float
    frames: int
    fps: float
    ups: float
    max_gap_ms: float
    skipped: int  # frames whose iteration did not advance by exactly `speed`
    pause_ack_ms: float
    in_flight: int  # frames between Pause sent and its acknowledgement
    after_ack: int  # frames after the acknowledgement (must be 0)
    alive: bool  # a Step after the Pause still answers
    note: str = ""  # what came instead of the Step's frame


@dataclass
class TrainRun:
    baseline: float  # pongs per second, pipelined
    plays: list[PlayRun]
    pacing_fps: float | None
    frame_bytes: int


def pacing_fps() -> float | None:
    """The session's own frame pacing (1 / FRAME_S), read from the real module."""
    try:
        from app.session.training import FRAME_S

        return 1.0 / FRAME_S
    except Exception:
        return None


async def stream_baseline(page: Page, seconds: float, window: int = 32) -> float:
    """What the server alone can stream on this socket: pongs per second with `window` pings
    always in flight.

    Chosen because `ping` is the only message the server answers without the kernel: each pong
    is one server->client WebSocket message produced by the same process, event loop and send
    path (`send` under the socket's lock, msgspec encoding) that carries training frames, so the
    rate is the ceiling of messages the server can push to this client with no learner code and
    no pacing in the way. Pipelining (a window of pings in flight) keeps the client's round trip
    out of the figure, as a streaming server would."""
    sent = received = 0
    start = time.perf_counter()
    for _ in range(window):
        page.seq += 1
        await page.send({"type": "ping", "seq": page.seq})
        sent += 1
    first = last = 0.0
    while True:
        msg = await page.recv(10)
        if msg["type"] != "pong":
            continue
        received += 1
        now = page.log[-1][0]
        if received == 1:
            first = now
        last = now
        if now - start < seconds:
            page.seq += 1
            await page.send({"type": "ping", "seq": page.seq})
            sent += 1
        elif received == sent:
            break
    return (received - 1) / (last - first)


async def training_phase(
    port: int, cookie: str, speeds: list[int], play_s: float, baseline_s: float
) -> TrainRun:
    lesson = load_lesson(A13)
    url = f"ws://127.0.0.1:{port}/ws/lessons/{lesson.slug}"
    code = lesson_code(A13, "loop")
    assert TRAIN_STUB in code, "A13's train stub changed; update the bench"
    code = code.replace(TRAIN_STUB, TRAIN_STEP)
    async with websockets.connect(url, max_size=None, additional_headers={"Cookie": cookie}) as ws:
        page = Page(ws)
        await page.open({"loop": code})  # the exercise left undone would stop the first draw
        page.seq += 1
        seq = page.seq
        await page.send({"type": "run", "cell": "loop", "code": code, "seq": seq})
        out = await page.until(lambda m: m["type"] == "output" and m["seq"] == seq)
        if not out["ok"]:
            raise SystemExit(f"A13's loop cell failed: {out}")
        await page.until(lambda m: m["type"] == "status" and m["state"] == "idle")
        assert DESCENT in page.figures, "A13: no training figure"

        baseline = await stream_baseline(page, baseline_s)
        plays, frame_bytes = [], 0
        for speed in speeds:
            frames: list[tuple[float, float]] = []  # (arrival, iteration)
            await page.send({"type": "train", "plot": DESCENT, "action": "play", "speed": speed})
            await page.until(lambda m: m["type"] == "train_state" and m["playing"])
            end = time.perf_counter() + play_s
            while time.perf_counter() < end:
                try:
                    msg = await page.recv(max(0.001, end - time.perf_counter()))
                except TimeoutError:
                    break
                if msg["type"] == "patch" and msg["plot"] == DESCENT:
                    frames.append((page.log[-1][0], msg["readouts"]["iteration"]))
                    frame_bytes = page.log[-1][1]
                elif msg["type"] == "train_state" and not msg["playing"]:
                    break  # stopped by itself (diverged or an error)

            # Pause: frames may still arrive until the acknowledgement (one in flight), none after.
            paused_at = await page.send({"type": "train", "plot": DESCENT, "action": "pause"})
            in_flight = 0
            while True:
                msg = await page.recv(10)
                if msg["type"] == "patch" and msg["plot"] == DESCENT:
                    in_flight += 1
                if msg["type"] == "train_state" and not msg["playing"]:
                    break
            ack_ms = (page.log[-1][0] - paused_at) * 1e3
            after = 0
            quiet_until = time.perf_counter() + 0.5
            while (left := quiet_until - time.perf_counter()) > 0:
                try:
                    msg = await page.recv(left)
                except TimeoutError:
                    break
                if msg["type"] == "patch" and msg["plot"] == DESCENT:
                    after += 1

            # The kernel must still answer after a Pause that may have cut a frame short.
            page.strict = False
            await page.send({"type": "train", "plot": DESCENT, "action": "step", "speed": 1})
            msg = await page.until(
                lambda m: (
                    (m["type"] == "patch" and m["plot"] == DESCENT)
                    or m["type"] in ("plot_error", "error")
                    or m.get("state") == "dead"
                ),
                timeout=10,
            )
            alive = msg["type"] == "patch"
            note = "" if alive else json.dumps(msg)[:160]
            if alive:
                await page.until(lambda m: m["type"] == "train_state")
            page.strict = True

            span = frames[-1][0] - frames[0][0] if len(frames) > 1 else math.nan
            gaps = [b[0] - a[0] for a, b in itertools.pairwise(frames)]
            steps = [b[1] - a[1] for a, b in itertools.pairwise(frames)]
            plays.append(
                PlayRun(
                    speed,
                    span,
                    len(frames),
                    (len(frames) - 1) / span,
                    (frames[-1][1] - frames[0][1]) / span,
                    max(gaps) * 1e3,
                    sum(1 for s in steps if s != speed),
                    ack_ms,
                    in_flight,
                    after,
                    alive,
                    note,
                )
            )
            if not alive:  # Restart (the page's button) so the next speed is still measured
                page.strict = False
                await page.send({"type": "restart"})
                await page.until(
                    lambda m: m["type"] == "status" and m["state"] == "idle", timeout=60
                )
                page.strict = True
        return TrainRun(baseline, plays, pacing_fps(), frame_bytes)


# --------------------------------------------------------------------------- the table


def ms(x: float) -> str:
    return f"{x * 1e3:.3f}"


def report(
    sliders: list[SliderRun],
    grids: list[GridRun],
    training: TrainRun,
    n: int,
    warmup: int,
    device: str,
    sandbox: str,
    startup_s: float,
    load: tuple[float, float, float],
) -> None:
    rows: list[tuple[str, str, str, str]] = []  # (measure, value, reference, ratio / check)

    def row(measure: str, value: str, ref: str = "", ratio: str = "") -> None:
        rows.append((measure, value, ref, ratio))

    met = {True: "met", False: "MISSED"}
    for s in sliders:
        e50, e99 = percentile(s.echo, 50), percentile(s.echo, 99)
        m50, m99 = percentile(s.marker, 50), percentile(s.marker, 99)
        a50, a99 = percentile(s.every, 50), percentile(s.every, 99)
        tag = f"{s.lesson} ({s.plots} plots on w,b)"
        row(f"1 {tag}: echo ping->pong p50 / p99 ms", f"{ms(e50)} / {ms(e99)}", "", "1x / 1x")
        row(
            f"1 {tag}: move->landscape patch p50 / p99 ms",
            f"{ms(m50)} / {ms(m99)}",
            "echo",
            f"{m50 / e50:.2f}x / {m99 / e99:.2f}x "
            f"(goal {GOAL_P50:g}x/{GOAL_P99:g}x: {met[m50 <= GOAL_P50 * e50]}/"
            f"{met[m99 <= GOAL_P99 * e99]})",
        )
        if s.plots > 1:
            row(
                f"1 {tag}: move->all {s.plots} patches p50 / p99 ms",
                f"{ms(a50)} / {ms(a99)}",
                "echo",
                f"{a50 / e50:.2f}x / {a99 / e99:.2f}x",
            )
        sizes = sorted(s.sizes)
        row(
            f"1 {tag}: landscape patch size bytes (median/max)",
            f"{sizes[len(sizes) // 2]} / {sizes[-1]}",
            "",
            f"figures during moves: {s.figures}; wrong marker: {s.wrong}; stale: {s.seq_mismatch}",
        )
        run50 = statistics.median(s.run_figure)
        row(
            f"1 {tag}: run -> landscape figure ms (median of {len(s.run_figure)})",
            f"{run50 * 1e3:.1f}",
            f"{s.figure_bytes} bytes",
            f"{run50 / m50:.0f}x a marker patch",
        )
    for g in grids:
        row(
            f"2 {g.lesson} loss ({g.how}) {GRID}x{GRID} grid: vectorised s ({g.mode})",
            f"{g.vectorised:.4f}",
            f"numpy 3-D {g.numpy_ref:.4f}",
            f"{g.vectorised / g.numpy_ref:.2f}x numpy "
            f"(goal <= 2x: {met[g.vectorised <= 2 * g.numpy_ref]})",
        )
        extrap = "" if g.loop_points == GRID * GRID else f", extrapolated from {g.loop_points} pts"
        row(
            f"2 {g.lesson} loss ({g.how}) {GRID}x{GRID} grid: scalar loop s{extrap}",
            f"{g.loop:.3f}",
            "vectorised",
            f"{g.loop / g.vectorised:.0f}x slower (max |dz| {g.max_diff:.1e})",
        )
    t = training
    pace = f"{t.pacing_fps:.0f}/s" if t.pacing_fps else "?"
    row(
        "3 A13 server alone: pipelined pongs/s (window 32)",
        f"{t.baseline:.0f}",
        f"pacing {pace}",
        "",
    )
    for p in t.plays:
        row(
            f"3 A13 play speed {p.speed}: frames/s reaching client "
            f"({p.frames} in {p.seconds:.1f}s)",
            f"{p.fps:.1f}",
            "pongs/s",
            f"{p.fps / t.baseline:.4f}x "
            f"(goal {GOAL_STREAM:g}x: {met[p.fps >= GOAL_STREAM * t.baseline]}); "
            f">= {GOAL_UPS:g}/s: {met[p.fps >= GOAL_UPS]}"
            + (f"; {p.fps / t.pacing_fps:.2f}x pacing" if t.pacing_fps else ""),
        )
        row(
            f"3 A13 play speed {p.speed}: update() calls/s in kernel",
            f"{p.ups:.0f}",
            "",
            f"max frame gap {p.max_gap_ms:.0f} ms; frames not +{p.speed}: {p.skipped}",
        )
        row(
            f"3 A13 play speed {p.speed}: pause -> ack ms",
            f"{p.pause_ack_ms:.1f}",
            "",
            f"in flight {p.in_flight}; after ack {p.after_ack} (must be 0); "
            f"kernel alive after: {'yes' if p.alive else 'NO'}",
        )
    row("3 A13 training frame size bytes", f"{t.frame_bytes}", "", "")
    for p in t.plays:
        if p.note:
            rows.append((f"3 A13 play speed {p.speed}: a Step after Pause got", "", "", p.note))

    print(
        f"Descent playground bench: n={n} moves per lesson (after {warmup} warm-up), kernel on "
        f"{device}, sandbox {sandbox}, {os.cpu_count()} CPUs, server up in {startup_s:.1f} s, "
        f"load average {load[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end"
    )
    print()
    header = ("measure", "value", "beside", "ratio / check")
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(4)]
    w0, w1, w2 = widths[:3]
    line = f"{header[0]:<{w0}}  {header[1]:>{w1}}  {header[2]:<{w2}}  {header[3]}"
    print(line)
    print("-" * len(line))
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}")


async def serve_phases(
    port: int, n: int, warmup: int, runs: int, speeds: list[int], play_s: float, base_s: float
) -> tuple[list[SliderRun], TrainRun, str, str]:
    cookie = learner_cookie(port, load_lesson(A9).slug)
    sliders, device, sandbox = [], "?", "?"
    for path in (A9, A11):
        result, page = await slider_phase(port, cookie, path, n, warmup, runs)
        result.lesson = path.stem[:3].upper()
        sliders.append(result)
        device, sandbox = page.device, page.sandbox
    training = await training_phase(port, cookie, speeds, play_s, base_s)
    return sliders, training, device, sandbox


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=None, help="measured slider moves (300)")
    parser.add_argument("--quick", action="store_true", help="n=100, shorter phases (~30 s)")
    args = parser.parse_args()
    n = args.n or (100 if args.quick else 300)
    warmup = 20 if args.quick else 50
    runs = 3 if args.quick else 5
    repeats = 3 if args.quick else 5
    play_s = 2.0 if args.quick else 5.0
    base_s = 1.0 if args.quick else 2.0
    speeds = [5, 10_000] if args.quick else [5, 100, 10_000]

    load = os.getloadavg()  # other work on this machine skews every figure: printed with them
    # 2. the grid, in this process, before the server runs (nothing else competes).
    grids = [grid_phase(path, repeats, loop_budget=60.0) for path in (A9, A13)]

    with (
        tempfile.TemporaryDirectory(prefix="descent-bench-") as tmp,
        running_server(Path(tmp) / "server.log", start_s=60) as (port, state, startup_s),
    ):
        if state.get("sandbox") == "refused":
            print("the server refuses learner code on this host (see DESCENT_SANDBOX)")
            return 1
        sliders, training, device, sandbox = asyncio.run(
            serve_phases(port, n, warmup, runs, speeds, play_s, base_s)
        )
        server_log = (Path(tmp) / "server.log").read_text(errors="replace").splitlines()
    report(sliders, grids, training, n, warmup, device, sandbox, startup_s, load)
    warnings = [
        ln
        for ln in server_log
        if ("WARNING" in ln or "ERROR" in ln or "Traceback" in ln)
        and "no teacher password yet" not in ln  # a fresh data folder's first-run notice
    ]
    if warnings:
        print()
        print(f"server log: {len(warnings)} warning/error lines, the last ones:")
        for ln in warnings[-5:]:
            print(f"  {ln[:200]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
