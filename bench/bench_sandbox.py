"""The sandbox's figures, each beside its peer measured in the same run.

* new session → first result: a kernel forked from the warm zygote, a cell defining `y`, one
  slider evaluation; peer: a Jupyter kernel started, ready and answering its first execute;
* slider round trip: one `line` plot evaluation of the learner's `y` through the sandbox, and the
  very same call (same runtime, same frames) to a plain subprocess over a bare pipe; Jupyter's
  execute round trip with `user_expressions` beside them;
* private memory (USS) per idle kernel and how many idle kernels fit in 4 GB; the same for an
  idle ipykernel;
* a neighbour's slider while ten kernels spin in busy loops: through the compute gate as the
  web layer runs cells, and ungated (the worst case, e.g. threads left spinning before the
  watchdog stops them), beside the same neighbour on an idle server.

Design goals (../shared/design.md): first result p50 ≤ 30 ms, USS ≤ 10 MB per idle kernel,
the neighbour's p99 under 50 ms while others spin.

    .venv/bin/python bench/bench_sandbox.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.protocol import KEvaluate, KEvaluated, KExec, KExecDone, request_encoder  # noqa: E402
from app.supervisor import Kernel, Supervisor  # noqa: E402

LEARNER_CODE = "def y(x, w=1.0, b=0.0):\n    return w * x + b\n"
OPTIONS = {"function": "y", "points": 101}
MB = 1024 * 1024
FOUR_GB = 4 * 1024 * MB

#: The bare-pipe peer: the same runtime answering the same frames, outside any sandbox, but
#: scheduled as a kernel is (its own session and autogroup at nice 5, nice 5 inside it).
PIPE_CHILD = f"""
import os, sys, struct
os.nice(5)
try:
    open("/proc/self/autogroup", "w").write("5")
except OSError:
    pass
sys.path.insert(0, {str(ROOT)!r})
from app.kernel.runtime import Runtime
from app.protocol import KExec, request_decoder, reply_encoder
rt = Runtime("cpu")
rt.exec_cell(KExec(0, "c", {LEARNER_CODE!r}, 1000))
inp, out = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = inp.read(4)
    if not head:
        break
    req = request_decoder.decode(inp.read(struct.unpack(">I", head)[0]))
    body = reply_encoder.encode(rt.handlers[type(req)](req))
    out.write(struct.pack(">I", len(body)) + body)
    out.flush()
"""


def slider(rid: int, w: float) -> KEvaluate:
    fields = {f.name for f in msgspec.structs.fields(KEvaluate)}
    kw: dict[str, Any] = {
        "id": rid, "plot": "p", "kind": "line", "options": OPTIONS, "values": {"w": w, "b": 0.5},
    }  # fmt: skip
    if "whole" in fields:
        kw["whole"] = False
    return KEvaluate(**kw)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(self, figure: str, ours: str, peer: str, ratio: str, goal: str) -> None:
        self.rows.append((figure, ours, peer, ratio, goal))
        print(f"  {figure}: {ours} | {peer} | {ratio}", flush=True)

    def show(self) -> None:
        head = ("figure", "Descent sandbox", "peer", "ratio", "goal")
        widths = [max(len(r[i]) for r in [head, *self.rows]) for i in range(5)]
        line = "  ".join("-" * w for w in widths)
        print()
        print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
        print(line)
        for row in self.rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


# ------------------------------------------------------------------ Descent


async def first_result(sup: Supervisor, rid: int) -> tuple[float, Kernel]:
    start = time.perf_counter()
    kernel = await sup.acquire()
    done = await kernel.request(KExec(rid, "c", LEARNER_CODE, 1000), 5.0, "5 s")
    reply = await kernel.request(slider(rid + 1, 1.0), 5.0, "5 s")
    elapsed = time.perf_counter() - start
    assert isinstance(done, KExecDone) and done.ok and isinstance(reply, KEvaluated), reply
    assert not reply.error, reply.error
    return elapsed, kernel


async def round_trips(kernel: Kernel, n: int) -> tuple[list[float], list[float]]:
    """The same slider call through the sandbox and over a bare pipe, interleaved so that both
    see the same machine."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PIPE_CHILD, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    sandboxed, piped = [], []
    try:
        for i in range(n + 20):
            req = slider(10_000 + i, (i % 30) / 10)
            start = time.perf_counter()
            reply = await kernel.request(req, 5.0, "5 s")
            middle = time.perf_counter()
            assert isinstance(reply, KEvaluated) and not reply.error
            body = request_encoder.encode(req)
            proc.stdin.write(struct.pack(">I", len(body)) + body)
            (size,) = struct.unpack(">I", await proc.stdout.readexactly(4))
            await proc.stdout.readexactly(size)
            end = time.perf_counter()
            if i >= 20:  # the first calls warm both up
                sandboxed.append(middle - start)
                piped.append(end - middle)
    finally:
        proc.stdin.close()
        await proc.wait()
    return sandboxed, piped


def kernel_uss(sup: Supervisor, kernels: list[Kernel]) -> list[int]:
    return [psutil.Process(k.host_pid).memory_full_info().uss for k in kernels if k.host_pid]


async def neighbour_while_spinning(
    sup: Supervisor, neighbour: Kernel, seconds: float, gated: bool, spinners: int = 10
) -> list[float]:
    kernels = [await sup.acquire() for _ in range(spinners)]

    async def spin(kernel: Kernel) -> None:
        async with sup.compute if gated else contextlib.nullcontext():
            with contextlib.suppress(Exception):
                await kernel.request(KExec(1, "spin", "while True:\n    pass", 100), seconds, "")

    tasks = [asyncio.create_task(spin(k)) for k in kernels]
    await asyncio.sleep(0.2)
    times = await moves(neighbour, seconds - 0.4)
    await asyncio.gather(*tasks)
    for kernel in kernels:
        await sup.release(kernel)
    return times


async def moves(neighbour: Kernel, seconds: float) -> list[float]:
    times: list[float] = []
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end:
        start = time.perf_counter()
        reply = await neighbour.request(slider(50_000 + i, (i % 30) / 10), 5.0, "5 s")
        times.append(time.perf_counter() - start)
        assert isinstance(reply, KEvaluated) and not reply.error
        i += 1
        await asyncio.sleep(0.01)  # a learner dragging a slider: a move every 10 ms
    return times


async def descent(args: argparse.Namespace) -> dict[str, Any]:
    sup = Supervisor(Settings(device="cpu", max_kernels=64, cell_timeout_s=30.0))
    t0 = time.perf_counter()
    await sup.start()
    await sup.acquire()  # the zygote is warm once the first kernel answered
    zygote_s = time.perf_counter() - t0
    gc.collect()
    gc.freeze()
    results: dict[str, Any] = {"zygote_s": zygote_s}

    starts: list[float] = []
    for i in range(args.sessions):
        elapsed, kernel = await first_result(sup, 100 * i)
        starts.append(elapsed)
        await sup.release(kernel)
    results["start"] = starts
    burst: list[float] = []
    for b in range(args.bursts):  # ten learners opening the page at the same moment
        await asyncio.sleep(0.3)  # the pool refilled
        got = await asyncio.gather(
            *(first_result(sup, 500_000 + 1000 * b + 10 * i) for i in range(10))
        )
        burst += [elapsed for elapsed, _ in got]
        for _, kernel in got:
            await sup.release(kernel)
    results["burst"] = burst

    neighbour = (await first_result(sup, 999_000))[1]
    results["rtt"], results["pipe"] = await round_trips(neighbour, args.calls)

    idle = [(await first_result(sup, 200_000 + 10 * i))[1] for i in range(args.idle)]
    await asyncio.sleep(0.5)
    results["uss"] = kernel_uss(sup, idle)
    assert sup.zygote.host_pid is not None
    results["zygote_rss"] = psutil.Process(sup.zygote.host_pid).memory_info().rss
    for kernel in idle:
        await sup.release(kernel)

    results["quiet"] = await moves(neighbour, args.spin_s)
    results["gated"] = await neighbour_while_spinning(sup, neighbour, args.spin_s, gated=True)
    results["ungated"] = await neighbour_while_spinning(sup, neighbour, args.spin_s, gated=False)
    await sup.stop()
    return results


# ------------------------------------------------------------------ Jupyter


def jupyter(args: argparse.Namespace) -> dict[str, Any]:
    from jupyter_client.manager import KernelManager

    def execute(kc: Any, code: str, expressions: dict[str, str] | None = None) -> dict[str, Any]:
        msg_id = kc.execute(code, silent=False, user_expressions=expressions or {})
        while True:
            reply = kc.get_shell_msg(timeout=30)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply  # type: ignore[no-any-return]

    starts, uss, rtt = [], [], []
    for i in range(args.jupyter_starts):
        start = time.perf_counter()
        km = KernelManager(kernel_name="python3")
        km.start_kernel(stderr=subprocess.DEVNULL)
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        reply = execute(kc, LEARNER_CODE, {"v": "y(0.5)"})
        starts.append(time.perf_counter() - start)
        assert reply["content"]["status"] == "ok"
        if i == 0:
            for j in range(args.calls + 20):
                t = time.perf_counter()
                execute(
                    kc, "", {"v": f"y(__import__('numpy').linspace(-10, 10, 101), w={j % 30 / 10})"}
                )
                if j >= 20:
                    rtt.append(time.perf_counter() - t)
        time.sleep(0.5)
        pid = km.provisioner.process.pid  # type: ignore[union-attr]
        uss.append(psutil.Process(pid).memory_full_info().uss)
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return {"start": starts, "uss": uss, "rtt": rtt}


# ------------------------------------------------------------------ report


def report(d: dict[str, Any], j: dict[str, Any], table: Table) -> None:
    s50, s99 = pct(d["start"], 0.5), pct(d["start"], 0.99)
    j50 = statistics.median(j["start"])
    table.add(
        f"new session → first result p50 (n={len(d['start'])})", ms(s50),
        f"Jupyter start + first execute {ms(j50)} (n={len(j['start'])})", f"{s50 / j50:.3f}×",
        "≤ 30 ms, ≤ 0.03×",
    )  # fmt: skip
    table.add(f"new session → first result p99 (n={len(d['start'])})", ms(s99), "", "", "")
    b50, b99 = pct(d["burst"], 0.5), pct(d["burst"], 0.99)
    table.add(f"10 sessions at once → first result p50 / p99 (n={len(d['burst'])})",
              f"{ms(b50)} / {ms(b99)}", "", f"{b50 / j50:.3f}×", "")  # fmt: skip
    r50, r99 = pct(d["rtt"], 0.5), pct(d["rtt"], 0.99)
    p50, p99 = pct(d["pipe"], 0.5), pct(d["pipe"], 0.99)
    table.add(f"slider call round trip p50 (n={len(d['rtt'])})", ms(r50),
              f"bare pipe {ms(p50)}", f"{r50 / p50:.2f}×", "")  # fmt: skip
    table.add(f"slider call round trip p99 (n={len(d['rtt'])})", ms(r99),
              f"bare pipe {ms(p99)}", f"{r99 / p99:.2f}×", "")  # fmt: skip
    jr50 = pct(j["rtt"], 0.5)
    table.add("slider call round trip p50 vs Jupyter", ms(r50),
              f"Jupyter execute, user_expressions {ms(jr50)}", f"{r50 / jr50:.3f}×",
              "≤ 0.05× (end to end)")  # fmt: skip
    uss = statistics.median(d["uss"])
    juss = statistics.median(j["uss"])
    table.add(f"USS per idle kernel (median of {len(d['uss'])})", f"{uss / MB:.1f} MiB",
              f"idle ipykernel {juss / MB:.1f} MiB", f"{uss / juss:.2f}×",
              "≤ 10 MB, ≤ 0.25×")  # fmt: skip
    table.add("idle kernels in 4 GB", f"{int(FOUR_GB / uss)}", f"ipykernel {int(FOUR_GB / juss)}",
              f"{juss / uss:.1f}× as many", "")  # fmt: skip
    q99 = pct(d["quiet"], 0.99)
    for key, words in (("gated", "through the compute gate"), ("ungated", "ungated")):
        n99, n50 = pct(d[key], 0.99), pct(d[key], 0.5)
        table.add(
            f"neighbour slider p99, 10 kernels spinning {words} (n={len(d[key])})",
            f"{ms(n99)} (p50 {ms(n50)})", f"same neighbour, idle server {ms(q99)}",
            f"{n99 / q99:.1f}×", "< 50 ms",
        )  # fmt: skip
    table.add("zygote start (once per server)", ms(d["zygote_s"]),
              f"zygote RSS {d['zygote_rss'] / MB:.0f} MiB (shared by every kernel)",
              "", "")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer samples (about 30 s)")
    args = parser.parse_args()
    args.sessions = 30 if args.quick else 100
    args.calls = 300 if args.quick else 1000
    args.idle = 8 if args.quick else 20
    args.spin_s = 2.0 if args.quick else 5.0
    args.jupyter_starts = 2 if args.quick else 5
    args.bursts = 2 if args.quick else 5
    cpus = psutil.cpu_count()
    print(
        f"bench_sandbox: {cpus} CPUs, load {psutil.getloadavg()[0]:.1f}, "
        f"python {sys.version.split()[0]}"
    )
    table = Table()
    print("Descent sandbox…", flush=True)
    d = asyncio.run(descent(args))
    print("Jupyter…", flush=True)
    j = jupyter(args)
    report(d, j, table)
    table.show()


if __name__ == "__main__":
    main()
