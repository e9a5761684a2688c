"""The live class landscape: each learner's newest (w, b) per room, sent to the teacher's pages
as one message with all points, at most once per interval, never one message per move.

A slow teacher connection never builds a queue: each viewer keeps only the newest snapshot, and
its sender sends that when the previous send is done.

Several replicas (docs/cluster.md): each point knows the replica it came from ("" for this one).
This replica's own changes gather in an outbox that `before_tick` (app/classroom/cluster.py)
sends to the others at each tick. Ticks fall on multiples of the interval on the wall clock, on
every replica alike, and the teachers' pages get their snapshot a little later (`offset_s`):
another replica's batch of the same tick has arrived by then, so a move reaches a teacher on any
replica within one interval and the offset."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.protocol import (
    LandscapePoints,
    LearnerId,
    LessonSlug,
    RoomId,
    TeacherMessage,
    server_encoder,
)

log = logging.getLogger("descent.classroom")
SendText = Callable[[str], Awaitable[None]]


def teacher_text(msg: TeacherMessage) -> str:
    """A message to the teacher's landscape page, as the JSON text it is sent as."""
    return server_encoder.encode(msg).decode()


@dataclass
class Point:
    lesson: LessonSlug
    w: float
    b: float
    origin: str = ""  # the replica whose learner this is; "" for this one


#: A change to send the other replicas: the learner's new point, or None when they left.
Outbox = dict[RoomId, dict[LearnerId, Point | None]]


@dataclass(eq=False)
class Viewer:
    """One teacher page watching one room and one lesson."""

    room: RoomId
    lesson: LessonSlug
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
        #: After each tick's batch went out, the wait before the teachers' snapshots.
        self.offset_s = min(interval_s / 4, 0.05)
        self.points: dict[RoomId, dict[LearnerId, Point]] = {}
        self.dirty: set[RoomId] = set()
        self.outbox: Outbox = {}
        #: Called at each tick, before the teachers' snapshots: it must not wait.
        self.before_tick: Callable[[], None] | None = None
        self.viewers: set[Viewer] = set()
        self.seq = itertools.count(1)
        self.task: asyncio.Task[None] | None = None
        self.broadcasts = 0

    # -------------------------------------------------------------- learners

    def move(
        self,
        room: RoomId,
        learner: LearnerId,
        lesson: LessonSlug,
        w: float,
        b: float,
        origin: str = "",
    ) -> None:
        point = Point(lesson, w, b, origin)
        self.points.setdefault(room, {})[learner] = point
        self.dirty.add(room)
        if not origin:
            self.outbox.setdefault(room, {})[learner] = point

    def leave(self, room: RoomId, learner: LearnerId, origin: str = "") -> None:
        """The learner's last page on `origin` closed: their point goes if it came from there
        (a page reopened on another replica has moved it there already)."""
        points = self.points.get(room, {})
        point = points.get(learner)
        if point is None or point.origin != origin:
            return
        del points[learner]
        self.dirty.add(room)
        if not origin:
            self.outbox.setdefault(room, {})[learner] = None

    def remove(self, room: RoomId, learner: LearnerId) -> None:
        """The teacher removed the learner: their point goes, wherever it came from."""
        if self.points.get(room, {}).pop(learner, None) is not None:
            self.dirty.add(room)

    def forget(self, origin: str) -> None:
        """A replica is gone: the points of its learners go (they come back from the replica
        their pages reconnect to)."""
        for room, points in self.points.items():
            gone = [learner for learner, p in points.items() if p.origin == origin]
            for learner in gone:
                del points[learner]
            if gone:
                self.dirty.add(room)

    def take_outbox(self) -> Outbox:
        outbox, self.outbox = self.outbox, {}
        return outbox

    def own_points(self) -> Outbox:
        """Every point of this replica's learners (for a replica that just started)."""
        return {
            room: {learner: p for learner, p in points.items() if not p.origin}
            for room, points in self.points.items()
        }

    # -------------------------------------------------------------- teachers

    def snapshot(self, room: RoomId, lesson: LessonSlug) -> str:
        points = [
            (learner, p.w, p.b)
            for learner, p in self.points.get(room, {}).items()
            if p.lesson == lesson
        ]
        return teacher_text(LandscapePoints(next(self.seq), lesson, points))

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
            now = time.time()
            await asyncio.sleep(self.interval_s - now % self.interval_s)
            if self.before_tick is not None:
                try:
                    self.before_tick()
                except Exception:
                    log.exception("the class landscape could not be shared with other replicas")
            await asyncio.sleep(self.offset_s)
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
