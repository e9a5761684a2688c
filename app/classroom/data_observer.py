"""The classroom's side of a learner's own data in a lesson session (app.session.DataKeeper):
kept per learner and lesson in the database; a room's data is where a learner of the room
starts from until they load their own."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from app.classroom import datasets
from app.content.datacsv import BadCsv
from app.session import LiveSession
from app.session.hooks import StoredData

if TYPE_CHECKING:
    from app.classroom.classroom import Classroom
    from app.classroom.live import Ticket

log = logging.getLogger("descent.classroom")


class DataObserver:
    """Mixed into ClassroomObserver: the data hooks of one admitted lesson socket."""

    classroom: Classroom
    ticket: Ticket

    def _room_data(self) -> StoredData | None:
        room = self.ticket.room
        if room is None:
            return None
        with self.classroom.db.session() as db:
            csv = datasets.room_data(db, room, self.ticket.lesson)
        return StoredData(csv, "room") if csv is not None else None

    def _stored(self) -> StoredData | None:
        with self.classroom.db.session() as db:
            csv = datasets.learner_data(db, self.ticket.learner, self.ticket.lesson)
        return StoredData(csv, "yours") if csv is not None else self._room_data()

    async def stored_data(self, session: LiveSession) -> StoredData | None:
        try:
            return await run_in_threadpool(self._stored)
        except Exception:  # the database is down: the lesson's own data, and say nothing
            log.exception("could not read a learner's data")
            return None

    def _keep(self, csv: str) -> None:
        lesson = self.classroom.catalogue.get(self.ticket.lesson)
        assert lesson is not None
        with self.classroom.db.session() as db:
            datasets.save_learner_data(
                db, self.ticket.learner, lesson, csv, self.classroom.settings
            )

    async def keep_data(self, session: LiveSession, csv: str) -> str:
        try:
            await run_in_threadpool(self._keep, csv)
        except BadCsv as err:
            return str(err)
        except Exception:
            log.exception("could not save a learner's data")
            return "the server could not save it now; it is used until you close the page."
        return ""

    def _drop(self) -> StoredData | None:
        with self.classroom.db.session() as db:
            datasets.drop_learner_data(db, self.ticket.learner, self.ticket.lesson)
        return self._room_data()

    async def drop_data(self, session: LiveSession) -> StoredData | None:
        try:
            return await run_in_threadpool(self._drop)
        except Exception:
            log.exception("could not drop a learner's data")
            return None
