"""What the classroom hears from one lesson page: progress to record, (w, b) for the class
landscape, and each run or check to let through the learner's rate limit or not."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from app.classroom.data_observer import DataObserver
from app.classroom.live import Ticket
from app.classroom.work import Checked, Opened, Ran
from app.protocol import CellId, ExerciseId
from app.session import LiveSession

if TYPE_CHECKING:
    from app.classroom.classroom import Classroom


class ClassroomObserver(DataObserver):
    """One per admitted lesson socket; implements app.session.SessionObserver (and, through
    DataObserver, app.session.hooks.DataKeeper)."""

    def __init__(self, classroom: Classroom, ticket: Ticket) -> None:
        self.classroom, self.ticket = classroom, ticket
        self.params = classroom.parameters(ticket.lesson)

    async def opened(self, session: LiveSession) -> None:
        self.ticket.session = session
        self.classroom.writer.put(Opened(self.ticket.learner, self.ticket.lesson))

    async def values_changed(self, session: LiveSession, values: dict[str, float]) -> None:
        self.classroom.kills.note(session.kernel)
        room = self.ticket.room
        if room is None or self.params is None:
            return
        w, b = (values.get(name) for name in self.params)
        if w is None or b is None or not (math.isfinite(w) and math.isfinite(b)):
            return
        self.classroom.landscape.move(room, self.ticket.learner, self.ticket.lesson, w, b)

    async def ran(self, session: LiveSession, cell: CellId, code: str, ok: bool) -> None:
        self.classroom.kills.note(session.kernel)
        self.classroom.writer.put(Ran(self.ticket.learner, self.ticket.lesson, ok))

    async def checked(self, session: LiveSession, exercise: ExerciseId, passed: bool) -> None:
        self.classroom.kills.note(session.kernel)
        event = Checked(self.ticket.learner, self.ticket.lesson, exercise, passed)
        self.classroom.writer.put(event)

    def run_refused(self, session: LiveSession) -> str:
        """Words for the learner when this run is over their rate limit, else ""."""
        wait = self.classroom.limiter.take(self.ticket.learner)
        if not wait:
            return ""
        self.classroom.metrics.limited.inc()
        settings = self.classroom.settings
        return (
            f"You are running code very often: at most {settings.run_rate_per_min} runs a "
            f"minute (and {settings.run_burst} in a quick burst). Wait {math.ceil(wait)} s, "
            "then press Run again. Nothing you wrote is lost."
        )

    async def closed(self, session: LiveSession) -> None:
        self.classroom.kills.note(session.kernel)
        live = self.classroom.live
        live.release(self.ticket)
        room, learner = self.ticket.room, self.ticket.learner
        if room is not None and not any(t.room == room for t in live.of_learner(learner)):
            self.classroom.landscape.leave(room, learner)
