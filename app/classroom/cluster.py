"""What the replicas of one course tell each other (docs/cluster.md), so that a room works
wherever its learners' and its teacher's pages land:

* `tick`: at each tick of the class landscape, one message with the points this replica's
  learners moved, per room, and who has a lesson open here, per room (when it changed, and
  every second as a heartbeat: a replica silent for a few seconds is gone, and its learners'
  points and places with it);
* `remove` and `restart`: the teacher's actions, carried out on every replica; a restart is
  answered (`restarted`) with how many kernels each replica restarted;
* `hello` (a replica started or reconnected: everyone sends it their points and presence) and
  `bye` (a replica stops).

On SQLite the bus is `NoBus`: no peers, and every answer is this replica's own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from app.classroom.bus import Bus, Message
from app.classroom.landscape import ClassLandscape, Outbox
from app.classroom.live import LiveSessions
from app.protocol import LearnerId, LessonSlug, RoomId

log = logging.getLogger("descent.cluster")
HEARTBEAT_S = 1.0
GONE_AFTER_S = 3.5
ASK_TIMEOUT_S = 1.0
Presence = dict[RoomId, tuple[int, dict[LearnerId, str]]]
RestartLocal = Callable[[LearnerId], Awaitable[int]]


@dataclass
class Peer:
    seen: float
    rooms: Presence = field(default_factory=dict)


@dataclass
class Ask:
    waiting: set[str]
    done: asyncio.Event = field(default_factory=asyncio.Event)
    count: int = 0


def points_json(outbox: Outbox) -> list[list[Any]]:
    """[[room, [[learner, lesson, w, b], ...], [learner who left, ...]], ...]"""
    found = []
    for room, changes in outbox.items():
        moved = [[learner, p.lesson, p.w, p.b] for learner, p in changes.items() if p is not None]
        gone = [learner for learner, p in changes.items() if p is None]
        if moved or gone:
            found.append([room, moved, gone])
    return found


class Cluster:
    def __init__(
        self,
        bus: Bus,
        live: LiveSessions,
        landscape: ClassLandscape,
        restart_local: RestartLocal,
    ) -> None:
        self.bus, self.live, self.landscape = bus, live, landscape
        self.restart_local = restart_local
        self.replica = bus.replica
        self.peers: dict[str, Peer] = {}
        self.asks: dict[str, Ask] = {}
        self.sent_presence: Presence | None = None
        self.sent_at = 0.0
        self.resync = False
        self.sending: asyncio.Task[None] | None = None
        self.tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        await self.bus.start(self._on_message, self._on_connect)
        self.landscape.before_tick = self.tick

    async def stop(self) -> None:
        self.landscape.before_tick = None
        for task in [*self.tasks, self.sending]:
            if task is not None:
                task.cancel()
        if self.bus.shared:
            await self.bus.publish({"t": "bye"})
        await self.bus.stop()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -------------------------------------------------------------- what the classroom asks

    def in_room(self, room: RoomId) -> int:
        """Pages open in `room` on every replica (the room's kernel cap counts these)."""
        remote = sum(peer.rooms.get(room, (0, {}))[0] for peer in self.peers.values())
        return self.live.in_room(room) + remote

    def online(self, room: RoomId) -> dict[LearnerId, str]:
        """Learner -> the lesson they have open, on any replica."""
        found: dict[LearnerId, str] = {}
        for peer in self.peers.values():
            found.update(peer.rooms.get(room, (0, {}))[1])
        found.update(self.live.online(room))
        return found

    async def remove(self, room: RoomId, learner: LearnerId) -> None:
        """The teacher removed the learner: their pages leave the room on every replica."""
        self._remove_here(room, learner)
        await self.bus.publish({"t": "remove", "room": room, "learner": learner})

    def _remove_here(self, room: RoomId, learner: LearnerId) -> None:
        if self.live.leave_room(room, learner):
            self.sent_presence = None  # tell the others at the next tick
        self.landscape.remove(room, learner)

    async def restart(self, learner: LearnerId) -> int:
        """Restart the learner's kernels on every replica; how many were restarted."""
        count = await self.restart_local(learner)
        if not self.peers:
            return count
        ask = Ask(set(self.peers))
        key = secrets.token_hex(6)
        self.asks[key] = ask
        try:
            if await self.bus.publish({"t": "restart", "ask": key, "learner": learner}):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ask.done.wait(), ASK_TIMEOUT_S)
        finally:
            del self.asks[key]
        return count + ask.count

    # -------------------------------------------------------------- each landscape tick

    def tick(self) -> None:
        """At each landscape tick: forget the replicas that fell silent, and send the others
        this tick's message, unless the previous one is still on its way (a slow database:
        this tick's changes then go with the next)."""
        now = time.monotonic()
        for name in [n for n, peer in self.peers.items() if now - peer.seen > GONE_AFTER_S]:
            log.warning("replica %s fell silent: its learners' places and points are let go", name)
            self._forget(name)
        if not self.bus.shared:
            self.landscape.take_outbox()
            return
        if self.sending is None or self.sending.done():
            self.sending = asyncio.create_task(self._send(now))

    async def _send(self, now: float) -> None:
        """One message: the points moved since the last (all of them after a `hello`), and who
        is here when it changed or a second went by."""
        resync, self.resync = self.resync, False
        outbox = self.landscape.take_outbox()
        if resync:
            outbox = self.landscape.own_points()
        message: Message = {"t": "tick", "pts": points_json(outbox)}
        presence = self.live.presence()
        here = resync or presence != self.sent_presence or now - self.sent_at >= HEARTBEAT_S
        if here:
            message["here"] = [[room, count, who] for room, (count, who) in presence.items()]
        if not message["pts"] and not here:
            return
        if not await self.bus.publish(message):
            self.resync = True  # lost: send everything once the database answers again
        elif here:
            self.sent_presence, self.sent_at = presence, now

    def _on_connect(self) -> None:
        """Listening (again): ask everyone for their state, and send ours at the next tick."""
        self.resync = True
        self._spawn(self.bus.publish({"t": "hello"}))

    def _forget(self, name: str) -> None:
        self.peers.pop(name, None)
        self.landscape.forget(name)

    # -------------------------------------------------------------- what the others say

    def _on_message(self, msg: Message) -> None:
        kind, origin = msg.get("t"), str(msg.get("from", ""))
        if kind == "bye":
            self._forget(origin)
            return
        peer = self.peers.setdefault(origin, Peer(time.monotonic()))
        peer.seen = time.monotonic()
        if kind == "tick":
            self._points(origin, msg["pts"])
            if "here" in msg:
                peer.rooms = {
                    RoomId(int(room)): (int(count), {LearnerId(k): str(v) for k, v in who.items()})
                    for room, count, who in msg["here"]
                }
        elif kind == "hello":
            self.resync = True
        elif kind == "remove":
            self._remove_here(RoomId(int(msg["room"])), LearnerId(msg["learner"]))
        elif kind == "restart":
            self._spawn(self._restart_for(origin, str(msg["ask"]), LearnerId(msg["learner"])))
        elif kind == "restarted":
            ask = self.asks.get(str(msg["ask"]))
            if ask is not None and msg.get("to") == self.replica:
                ask.count += int(msg["count"])
                ask.waiting.discard(origin)
                if not ask.waiting:
                    ask.done.set()

    def _points(self, origin: str, rooms: list[list[Any]]) -> None:
        for room_id, moved, gone in rooms:
            room = RoomId(int(room_id))
            for learner, lesson, w, b in moved:
                self.landscape.move(
                    room, LearnerId(learner), LessonSlug(lesson), float(w), float(b), origin
                )
            for learner in gone:
                self.landscape.leave(room, LearnerId(learner), origin)

    async def _restart_for(self, asker: str, key: str, learner: LearnerId) -> None:
        count = await self.restart_local(learner)
        await self.bus.publish({"t": "restarted", "ask": key, "to": asker, "count": count})
