"""A session's line to its kernel, shared by every part of the session: the kernel (or None),
the lock held while one starts, request ids, and the page to tell."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable

from app.config import Settings
from app.content.model import Lesson
from app.protocol import KernelReply, KernelRequest, KProgress, ServerMessage, Status
from app.supervisor import Kernel, KernelDied, Supervisor

Send = Callable[[ServerMessage], Awaitable[None]]
OnProgress = Callable[[KProgress], Awaitable[None]]


class KernelLink:
    """The kernel of one page and how to reach it."""

    def __init__(
        self, lesson: Lesson, supervisor: Supervisor, settings: Settings, send: Send
    ) -> None:
        self.lesson, self.supervisor, self.settings, self.send = lesson, supervisor, settings, send
        self.kernel: Kernel | None = None
        #: Held while a kernel starts and runs the page's cells; requests wait for it.
        self.starting = asyncio.Lock()
        #: Called when the kernel is lost: whatever was shown from it is stale.
        self.on_lost: list[Callable[[], None]] = []
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)

    async def request(
        self, req: KernelRequest, timeout_s: float, on_progress: OnProgress | None = None
    ) -> KernelReply:
        """One request with its deadline; KernelDied when the kernel is (or goes) away."""
        if self.kernel is None:
            raise KernelDied("exit", "Your kernel is not running. Press Restart.")
        return await self.kernel.request(
            req, timeout_s, f"{timeout_s:g} seconds", on_progress=on_progress
        )

    async def lost(self, err: KernelDied) -> None:
        """The kernel died: say so, and forget it and what it showed."""
        await self.send(Status("dead", err.message))
        self.kernel = None
        for forget in self.on_lost:
            forget()

    async def release(self) -> None:
        """Give the kernel back to the supervisor (the page closed or restarts)."""
        if self.kernel:
            await self.supervisor.release(self.kernel)
            self.kernel = None
