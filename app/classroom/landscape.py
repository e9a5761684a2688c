"""The live class landscape: each learner's newest (w, b) per room, sent to the teacher's pages
as one message with all points, at most once per interval, never one message per move.

A slow teacher connection never builds a queue: each viewer keeps only the newest snapshot, and
its sender sends that when the previous send is done."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("descent.classroom")
SendText = Callable[[str], Awaitable[None]]


@dataclass
class Point:
    lesson: str
    w: float
    b: float


@dataclass(eq=False)
class Viewer:
    """One teacher page watching one room and one lesson."""

    room: int
    lesson: str
    send_text: SendText
    newest: str | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    sent: int = 0

    def offer(self, text: str) -> None:
        self.newest = text
        self.wake.set()

    async def pump(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            text, self.newest = self.newest, None
            if text is not None:
                await self.send_text(text)
                self.sent += 1


class ClassLandscape:
    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self.points: dict[int, dict[str, Point]] = {}
        self.dirty: set[int] = set()
        self.viewers: set[Viewer] = set()
        self.seq = itertools.count(1)
        self.task: asyncio.Task[None] | None = None
        self.broadcasts = 0

    # -------------------------------------------------------------- learners

    def move(self, room: int, learner: str, lesson: str, w: float, b: float) -> None:
        self.points.setdefault(room, {})[learner] = Point(lesson, w, b)
        self.dirty.add(room)

    def leave(self, room: int, learner: str) -> None:
        if self.points.get(room, {}).pop(learner, None) is not None:
            self.dirty.add(room)

    # -------------------------------------------------------------- teachers

    def snapshot(self, room: int, lesson: str) -> str:
        points = [
            [learner, p.w, p.b]
            for learner, p in self.points.get(room, {}).items()
            if p.lesson == lesson
        ]
        message: dict[str, Any] = {
            "type": "points",
            "seq": next(self.seq),
            "lesson": lesson,
            "points": points,
        }
        return json.dumps(message, separators=(",", ":"))

    def watch(self, viewer: Viewer) -> None:
        self.viewers.add(viewer)
        viewer.offer(self.snapshot(viewer.room, viewer.lesson))

    def unwatch(self, viewer: Viewer) -> None:
        self.viewers.discard(viewer)

    def tick(self) -> None:
        """Send each watched room that changed one snapshot per viewer."""
        rooms, self.dirty = self.dirty, set()
        for viewer in list(self.viewers):
            if viewer.room in rooms:
                viewer.offer(self.snapshot(viewer.room, viewer.lesson))
                self.broadcasts += 1

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                self.tick()
            except Exception:
                log.exception("the class landscape could not be sent")

    def start(self) -> None:
        self.task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
