"""All kernels of the server: the cap, the pool of kernels started ahead of need, the idle
reaper, the watchdogs' rounds and the compute slots."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable

from app.config import Settings
from app.protocol import Allowance
from app.supervisor.errors import SandboxRefused, ServerFull
from app.supervisor.kernel import Kernel
from app.supervisor.sandbox import Layers, probe_layers
from app.supervisor.watchdog import WATCH_INTERVAL_S, watch_once
from app.supervisor.zygote import Zygote

log = logging.getLogger("descent.kernel")

#: Kernels kept forked and confined ahead of need, so that a new session starts at once.
POOL_SIZE = 2


class Supervisor:
    """All kernels of the server: the cap, the idle reaper, the watchdogs, the compute slots."""

    def __init__(self, settings: Settings, layers: Layers | None = None) -> None:
        self.settings = settings
        self.layers = layers or probe_layers()
        self.zygote = Zygote(settings, self.layers)
        self.live: set[Kernel] = set()
        self.starting = 0
        #: Kernels forked and confined ahead of need: a new session takes one at once.
        self.pool: list[Kernel] = []
        self.filling: asyncio.Task[None] | None = None
        slots = settings.busy_slots or os.cpu_count() or 1
        #: Held by the web layer while a kernel runs a cell or a check, so that no more kernels
        #: compute at once than there are cores; slider requests stay out of it.
        self.compute = asyncio.Semaphore(slots)
        self.reaper: asyncio.Task[None] | None = None
        self.watchdog: asyncio.Task[None] | None = None
        self.on_reap: Callable[[Kernel], Awaitable[None]] | None = None

    @property
    def refused(self) -> str:
        """Why learner code is refused here, or "" when it may run."""
        if self.layers.complete or self.settings.sandbox == "weak":
            return ""
        return (
            "This server cannot run learner code safely: the host lacks "
            + ", ".join(self.layers.missing)
            + ". An administrator can allow a weaker sandbox with DESCENT_SANDBOX=weak "
            "(trusted single-user installs only)."
        )

    async def start(self) -> None:
        if not self.refused:
            await self.zygote.start()
            self._fill()
        self.reaper = asyncio.create_task(self._reap_idle())
        self.watchdog = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        for task in (self.reaper, self.watchdog, self.filling):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for kernel in [*self.live, *self.pool]:
            await self.release(kernel)
        self.pool.clear()
        await self.zygote.stop()

    async def acquire(self, allow: Allowance | None = None) -> Kernel:
        """A kernel for a learner: one from the pool, or, for a lesson with a sandbox allowance
        (`allow`), always a fresh one started with it (pooled kernels have none)."""
        if self.refused:
            raise SandboxRefused(self.refused)
        self.live = {k for k in self.live if not k.dead}
        if len(self.live) + self.starting >= self.settings.max_kernels:
            raise ServerFull(
                f"The server is full: {self.settings.max_kernels} learners are running code "
                "right now. Try again in a minute."
            )
        kernel = None
        while self.pool and kernel is None and not allow:
            ready = self.pool.pop(0)
            if ready.dead or ready.exited.done():
                await ready.kill("closed", "The kernel was closed.")  # died waiting: let go
            else:
                kernel = ready
        if kernel is None:
            self.starting += 1
            try:
                kernel = await self.zygote.spawn(allow=allow)
            finally:
                self.starting -= 1
        kernel.last_used = time.monotonic()
        self.live.add(kernel)
        self._fill()
        return kernel

    def _fill(self) -> None:
        """Top the pool of ready kernels up, in the background."""
        if POOL_SIZE and (self.filling is None or self.filling.done()):
            self.filling = asyncio.create_task(self._fill_pool())

    async def _fill_pool(self) -> None:
        while (
            len(self.pool) < POOL_SIZE
            and len(self.live) + len(self.pool) + self.starting < self.settings.max_kernels
        ):
            try:
                self.pool.append(await self.zygote.spawn())
            except Exception as err:  # the next acquire spawns (and reports) itself
                log.warning("could not prepare a kernel ahead of need: %s", err)
                return

    async def release(self, kernel: Kernel) -> None:
        self.live.discard(kernel)
        await kernel.kill("closed", "The kernel was closed.")

    async def _reap_idle(self) -> None:
        while True:
            await asyncio.sleep(min(30.0, self.settings.kernel_idle_s / 2))
            now = time.monotonic()
            for kernel in list(self.live):
                if not kernel.busy and now - kernel.last_used > self.settings.kernel_idle_s:
                    self.live.discard(kernel)
                    await kernel.kill(
                        "idle",
                        "Your kernel was stopped after being unused for a while. "
                        "Press Restart to go on.",
                    )
                    if self.on_reap:
                        await self.on_reap(kernel)

    async def _watch(self) -> None:
        """CPU spent between requests, memory grown past the budget, the host short of memory."""
        while True:
            await asyncio.sleep(WATCH_INTERVAL_S)
            with contextlib.suppress(Exception):
                await self.watch_once()

    async def watch_once(self) -> None:
        self.live = {k for k in self.live if not k.dead}
        await watch_once(self.live, self.settings)
