"""The lesson pages open right now: per learner (to restart their kernel) and per room (to
count kernels against the room's cap and show who is online)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from app.protocol import LearnerId, LessonSlug, RoomId
from app.session import LiveSession


@dataclass(eq=False)
class Ticket:
    """One admitted lesson socket, from its admission until its session closed."""

    learner: LearnerId
    lesson: LessonSlug
    room: RoomId | None
    session: LiveSession | None = None


class LiveSessions:
    def __init__(self) -> None:
        self.tickets: set[Ticket] = set()
        self.per_room: Counter[RoomId] = Counter()

    def admit(self, ticket: Ticket) -> None:
        self.tickets.add(ticket)
        if ticket.room is not None:
            self.per_room[ticket.room] += 1

    def release(self, ticket: Ticket) -> None:
        if ticket in self.tickets:
            self.tickets.discard(ticket)
            if ticket.room is not None:
                self.per_room[ticket.room] -= 1
                if self.per_room[ticket.room] <= 0:
                    del self.per_room[ticket.room]

    def leave_room(self, room: RoomId, learner: LearnerId) -> int:
        """The learner was removed from `room`: their open pages leave it at once (no later
        move brings their dot back) and free their places under the room's kernel cap. Returns
        how many pages left."""
        left = 0
        for ticket in self.of_learner(learner):
            if ticket.room == room:
                ticket.room = None
                self.per_room[room] -= 1
                left += 1
        if self.per_room.get(room, 1) <= 0:
            del self.per_room[room]
        return left

    def in_room(self, room: RoomId) -> int:
        return self.per_room.get(room, 0)

    def of_learner(self, learner: LearnerId) -> list[Ticket]:
        return [t for t in self.tickets if t.learner == learner]

    def online(self, room: RoomId) -> dict[LearnerId, str]:
        """learner id -> the lesson they have open (the newest, if several)."""
        return {t.learner: t.lesson for t in self.tickets if t.room == room}

    def presence(self) -> dict[RoomId, tuple[int, dict[LearnerId, str]]]:
        """Per room: how many pages are open here, and who has which lesson open."""
        return {room: (count, self.online(room)) for room, count in self.per_room.items()}

    def __len__(self) -> int:
        return len(self.tickets)
