"""The classroom of one server: saved work, rooms, the teacher's view, and the admission of
lesson WebSockets. `create_app` makes one, installs it and starts it with the app."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI, WebSocket
from starlette.concurrency import run_in_threadpool

from app.classroom import accounts, rooms
from app.classroom.admission import (
    POLICY,
    TRY_LATER,
    Admission,
    learner_of,
    refuse,
    same_origin,
    trusted_origins,
)
from app.classroom.db import Database, database_url
from app.classroom.identity import Identity
from app.classroom.landscape import ClassLandscape
from app.classroom.live import LiveSessions, Ticket
from app.classroom.metrics import KillTracker, Metrics, RequestTimer
from app.classroom.middleware import LearnerCookies
from app.classroom.observer import ClassroomObserver
from app.classroom.ratelimit import RateLimiter
from app.classroom.surfaces import Surfaces, parameters
from app.classroom.writer import EventWriter
from app.config import Settings
from app.content.model import Catalogue, Lesson
from app.supervisor import Supervisor
from app.protocol import ErrorMsg

log = logging.getLogger("descent.classroom")
SWEEP_S = 0.5


class Classroom:
    def __init__(self, settings: Settings, supervisor: Supervisor, catalogue: Catalogue) -> None:
        self.settings, self.supervisor, self.catalogue = settings, supervisor, catalogue
        self.db = Database(database_url(settings.database_url, settings.data_dir))
        self.identity = Identity(settings.secret_key, settings.data_dir, settings.cookie_secure)
        self.live = LiveSessions()
        self.limiter = RateLimiter(settings.run_rate_per_min, settings.run_burst)
        self.writer = EventWriter(self.db)
        self.landscape = ClassLandscape(settings.landscape_interval_ms / 1000)
        self.surfaces = Surfaces(supervisor, settings)
        self.metrics = Metrics(supervisor, lambda: len(self.live))
        self.kills = KillTracker(supervisor, self.metrics)
        self.trusted = trusted_origins(settings.trusted_origins)
        #: One-time code for the first-run teacher setup page, printed in the server log.
        self.setup_code: str | None = None
        self.sweeper: asyncio.Task[None] | None = None
        self.tasks: set[asyncio.Task[None]] = set()  # restarts asked by the teacher

    # -------------------------------------------------------------- wiring

    def install(self, app: FastAPI) -> None:
        """Routes, the cookie and timing middleware, and the template helpers."""
        from app.classroom.routes import learner, live, ops, teacher, work

        for module in (learner, work, teacher, live, ops):
            app.include_router(module.router)
        app.add_middleware(LearnerCookies, identity=self.identity)
        app.add_middleware(RequestTimer, metrics=self.metrics)
        templates = app.state.templates
        templates.globals["csrf_token"] = self.csrf_for

    def csrf_for(self, request: object) -> str:
        scope = getattr(request, "scope", {})
        learner = scope.get("descent.learner") if isinstance(scope, dict) else None
        return self.identity.csrf_token(learner) if learner else ""

    async def start(self) -> None:
        await run_in_threadpool(self._prepare)
        self.writer.start()
        self.landscape.start()
        self.sweeper = asyncio.create_task(self._sweep())

    def _prepare(self) -> None:
        self.db.ready()
        self.identity.key  # noqa: B018 - made now, not on the first page load
        with self.db.session() as db:
            if self.settings.teacher_password:
                accounts.sync_teacher_password(db, self.settings.teacher_password)
            elif accounts.teacher_hash(db) is None:
                self.setup_code = accounts.new_learner_id()[:10]
                log.warning(
                    "no teacher password yet: open /teacher/setup and enter the setup code %s",
                    self.setup_code,
                )

    async def stop(self) -> None:
        """Pending progress is written before the server goes."""
        if self.sweeper:
            self.sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.sweeper
        await self.landscape.stop()
        await self.writer.stop()
        self.db.close()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            self.kills.sweep()
            self.metrics.landscape.inc(self.landscape.broadcasts)
            self.landscape.broadcasts = 0

    # -------------------------------------------------------------- lesson sockets

    def parameters(self, slug: str) -> tuple[str, str] | None:
        lesson = self.catalogue.get(slug)
        return parameters(lesson) if lesson else None

    async def admit(self, ws: WebSocket, lesson: Lesson) -> Admission | None:
        origin, host = ws.headers.get("origin"), ws.headers.get("host")
        if not same_origin(origin, host, ws.url.scheme, self.trusted):
            self.metrics.refused.labels("origin").inc()
            log.warning("refused a lesson socket from another site: origin %s", origin)
            await refuse(ws, POLICY, "This page is not from this server (cross-site refused).")
            return None
        learner = learner_of(ws)
        if learner is None:
            self.metrics.refused.labels("cookie").inc()
            await refuse(ws, POLICY, "No valid learner cookie: reload the page to get one.")
            return None
        try:
            membership = await run_in_threadpool(self._membership, learner)
        except Exception:  # the database is down: the lesson still works, outside any room
            log.exception("could not look up the room of a learner")
            membership = None
        in_room = membership is not None and not membership.closed and membership.ended is None
        room = membership.room_id if membership is not None and in_room else None
        cap = self.settings.room_max_kernels
        if room is not None and self.live.in_room(room) >= cap:
            self.metrics.refused.labels("room_full").inc()
            await refuse(
                ws,
                TRY_LATER,
                f"Your room's limit of {cap} running kernels is reached. Close a lesson tab; "
                "this page retries by itself.",
            )
            return None
        ticket = Ticket(learner, lesson.slug, room)
        self.live.admit(ticket)
        return Admission(ClassroomObserver(self, ticket), learner)

    def _membership(self, learner: str) -> rooms.Membership | None:
        with self.db.session() as db:
            return rooms.current_membership(db, learner)

    # -------------------------------------------------------------- teacher actions

    async def restart_learner(self, learner: str) -> int:
        """Restart every open kernel of a learner; the number restarted."""
        restarted = 0
        for ticket in self.live.of_learner(learner):
            session = ticket.session
            if session is None:
                continue
            self.kills.note(session.kernel)
            await session.send(ErrorMsg("Your teacher restarted your kernel. Your code is kept."))
            task = asyncio.create_task(session.restart())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            restarted += 1
        return restarted
