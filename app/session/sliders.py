"""Slider moves, merged last-write-wins: the page may send a move on every input event; the
queue keeps only the newest pending value of each slider and hands them over in one batch when
the previous batch is done, so no stale value is ever computed after a newer one arrived and
the page never waits on old moves."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable

from app.content.model import Lesson
from app.protocol import Slide

#: Takes the sliders that moved, every slider's value, and the seq of the newest move.
Apply = Callable[[set[str], dict[str, float], int], Awaitable[None]]


class SlideQueue:
    """The page's slider values and the moves not yet applied."""

    def __init__(self, lesson: Lesson, apply: Apply) -> None:
        self.lesson, self._apply = lesson, apply
        #: Every slider's value as last applied (the plots show these).
        self.values: dict[str, float] = lesson.initial_values()
        self.pending: dict[str, float] = {}
        self.pending_seq = 0
        #: Whether the newest move was made while the slider was still moving (`Slide.coarse`);
        #: `coarse` is that of the batch being applied.
        self.pending_coarse = False
        self.coarse = False
        self.wake = asyncio.Event()
        self.worker: asyncio.Task[None] | None = None

    def offer(self, msg: Slide) -> str:
        """Merge a move (last write wins); a problem to show instead, or "". A move with one
        bad value is refused whole."""
        for name, value in msg.values.items():
            slider = self.lesson.sliders.get(name)
            if slider is None:
                return f"There is no slider {name!r} on this page."
            if not math.isfinite(value) or not slider.accepts(value):
                return f"{name} = {value} is outside its range [{slider.min:g}, {slider.max:g}]."
        self.pending.update(msg.values)
        self.pending_seq = max(self.pending_seq, msg.seq)
        self.pending_coarse = msg.coarse
        self.wake.set()
        return ""

    def start(self) -> None:
        self.worker = asyncio.create_task(self._work())

    async def stop(self) -> None:
        if self.worker:
            self.worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.worker

    async def _work(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            if not self.pending:
                continue
            changed = set(self.pending)
            self.values.update(self.pending)
            seq = self.pending_seq
            self.coarse = self.pending_coarse
            self.pending = {}
            await self._apply(changed, self.values, seq)
