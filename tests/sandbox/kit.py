"""Helpers for the sandbox battery: the limits it runs under, requests as the web layer sends
them, and the processes left in the sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
from typing import Any

import msgspec
import numpy as np
import psutil
import pytest

from app.protocol import KernelReply, KEvaluate, KEvaluated, KExec, KExecDone
from app.supervisor import Kernel, KernelDied, Supervisor

#: The secret the server's environment holds; no kernel may see it.
SECRET = "descent-test-secret-4f1c"
#: A neighbour's slider must stay prompt during every hostile program: 90 % of its moves within
#: 50 ms (design.md's figure) and none beyond 500 ms. The battery runs on shared CI machines, so
#: it checks p90 and a hard ceiling; bench/bench_sandbox.py measures the p99 itself.
NEIGHBOUR_P90_MS = float(os.environ.get("DESCENT_TEST_NEIGHBOUR_P90_MS", "50"))
NEIGHBOUR_MAX_MS = float(os.environ.get("DESCENT_TEST_NEIGHBOUR_MAX_MS", "500"))
#: Limits kept small so that the bombs go off quickly.
CELL_S = 1.0
MEMORY_MB = 128
TMP_MB = 4
OUTPUT_LIMIT = 4096
XS = np.linspace(-10.0, 10.0, 11)
ids = itertools.count(1)


def slider_request(values: dict[str, float], function: str = "y") -> KEvaluate:
    fields = {f.name for f in msgspec.structs.fields(KEvaluate)}
    kw: dict[str, Any] = {
        "id": next(ids),
        "plot": "p",
        "kind": "line",
        "options": {"function": function, "points": len(XS)},
        "values": values,
    }
    if "whole" in fields:
        kw["whole"] = True
    return KEvaluate(**kw)


def array(reply: KEvaluated, name: str) -> np.ndarray:
    arr = reply.arrays[name]
    return np.frombuffer(arr.data, "<f8").reshape(arr.shape)


async def slide(kernel: Kernel, w: float) -> None:
    """One slider move of the neighbour; its plot must be exactly right."""
    reply = await kernel.request(slider_request({"w": w, "b": 0.5}), 2.0, "2 seconds")
    assert isinstance(reply, KEvaluated) and not reply.error, reply
    assert np.allclose(array(reply, "y"), w * XS + 0.5)


async def run(
    kernel: Kernel, code: str, timeout: float = CELL_S, sup: Supervisor | None = None
) -> KExecDone:
    """Run a cell as the web layer does (holding a compute slot when given the supervisor)."""
    async with sup.compute if sup else contextlib.nullcontext():
        reply = await kernel.request(
            KExec(next(ids), "hostile", code, OUTPUT_LIMIT), timeout, f"{timeout:g} seconds"
        )
    assert isinstance(reply, KExecDone), reply
    return reply


async def run_ok(kernel: Kernel, code: str) -> str:
    reply = await run(kernel, code)
    assert reply.ok, reply.error
    return reply.stdout


async def died(kernel: Kernel, code: str, timeout: float = CELL_S) -> KernelDied:
    """Run a cell that must end the kernel; the reason the learner reads."""
    with pytest.raises(KernelDied) as info:
        await run(kernel, code, timeout)
    return info.value


async def request(kernel: Kernel, req: Any, timeout: float = CELL_S) -> KernelReply:
    return await kernel.request(req, timeout, f"{timeout:g} seconds")


def sandbox_processes(sup: Supervisor) -> set[int]:
    """Host pids of every process under the zygote (its kernels and anything they started)."""
    assert sup.zygote.host_pid is not None
    try:
        return {p.pid for p in psutil.Process(sup.zygote.host_pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


async def no_strays(sup: Supervisor) -> None:
    """Every process in the sandbox is a live kernel or one ready in the pool (a pool being
    topped up gets a moment to settle)."""

    def expected() -> set[int | None]:
        return {k.host_pid for k in [*sup.live, *sup.pool] if not k.dead}

    if sup.filling is not None and not sup.filling.done():
        await asyncio.wait_for(asyncio.shield(sup.filling), 15.0)  # the pool is being topped up
    deadline = time.monotonic() + 3.0
    while sandbox_processes(sup) != expected() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    strays = sandbox_processes(sup) - expected()
    described = []
    for pid in strays:
        with contextlib.suppress(psutil.Error):
            p = psutil.Process(pid)
            described.append(f"{pid} {p.status()} parent {p.ppid()} {p.cmdline()}")
    assert not strays, f"left behind in the sandbox: {described}; pool {len(sup.pool)}"
    assert expected() <= sandbox_processes(sup), "a live kernel is gone"


#: The first words of the sentence the kernel adds under an error the sandbox caused.
REFUSAL_OPENINGS = ("Descent's sandbox", "The sandbox", "The sandbox's")


def python_error(error: str) -> str:
    """The Python error of a reply, without the sandbox's sentence under it."""
    lines = error.splitlines()
    if len(lines) > 1 and lines[-1].startswith(REFUSAL_OPENINGS):
        lines = lines[:-1]
    return "\n".join(lines)
