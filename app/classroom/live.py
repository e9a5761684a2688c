"""The lesson pages open right now: per learner (to restart their kernel) and per room (to
count kernels against the room's cap and show who is online)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from app.web.session import Session


@dataclass(eq=False)
class Ticket:
    """One admitted lesson socket, from its admission until its session closed."""

    learner: str
    lesson: str
    room: int | None
    session: Session | None = None


class LiveSessions:
    def __init__(self) -> None:
        self.tickets: set[Ticket] = set()
        self.per_room: Counter[int] = Counter()

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

    def in_room(self, room: int) -> int:
        return self.per_room.get(room, 0)

    def of_learner(self, learner: str) -> list[Ticket]:
        return [t for t in self.tickets if t.learner == learner]

    def online(self, room: int) -> dict[str, str]:
        """learner id -> the lesson they have open (the newest, if several)."""
        return {t.learner: t.lesson for t in self.tickets if t.room == room}

    def __len__(self) -> int:
        return len(self.tickets)
