"""The classroom of one server: saved work, rooms, the teacher's view, and the admission of
lesson WebSockets. `app.server.create_app` makes one, plugs it into the web layer (it
implements `app.web.services.Plug`) and installs its routes (`app.classroom.install`). With
PostgreSQL it is one replica of several (`cluster`, docs/cluster.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import WebSocket
from starlette.concurrency import run_in_threadpool

from app.classroom import accounts, rooms
from app.classroom.admission import (
    POLICY,
    TRY_LATER,
    learner_of,
    refuse,
    same_origin,
    trusted_origins,
)
from app.classroom.bus import Bus, NoBus, PgBus
from app.classroom.cluster import Cluster
from app.classroom.db import Database, database_url, libpq_url
from app.classroom.identity import SCOPE_KEY, Identity, require_shared_key
from app.classroom.landscape import ClassLandscape
from app.classroom.live import LiveSessions, Ticket
from app.classroom.metrics import KillTracker, Metrics
from app.classroom.observer import ClassroomObserver
from app.classroom.ratelimit import RateLimiter
from app.classroom.signin_throttle import SignInThrottle
from app.classroom.surfaces import Surfaces, parameters
from app.classroom.writer import EventWriter
from app.config import Settings
from app.content.model import Catalogue, Lesson
from app.protocol import ErrorMsg, LearnerId, RoomId
from app.supervisor import Supervisor
from app.web.services import Admission

log = logging.getLogger("descent.classroom")
SWEEP_S = 0.5


class Classroom:
    def __init__(self, settings: Settings, supervisor: Supervisor, catalogue: Catalogue) -> None:
        self.settings, self.supervisor, self.catalogue = settings, supervisor, catalogue
        self.db = Database(database_url(settings.database_url, settings.data_dir))
        require_shared_key(settings.secret_key, self.db.dialect)
        self.identity = Identity(settings.secret_key, settings.data_dir, settings.cookie_secure)
        self.live = LiveSessions()
        self.limiter = RateLimiter(settings.run_rate_per_min, settings.run_burst)
        self.sign_in_throttle = SignInThrottle()
        self.writer = EventWriter(self.db)
        self.landscape = ClassLandscape(settings.landscape_interval_ms / 1000)
        bus: Bus = PgBus(libpq_url(self.db.url)) if self.db.dialect == "postgresql" else NoBus()
        self.cluster = Cluster(bus, self.live, self.landscape, self.restart_here)
        self.surfaces = Surfaces(supervisor, settings)
        self.metrics = Metrics(supervisor, lambda: len(self.live))
        self.kills = KillTracker(supervisor, self.metrics)
        self.trusted = trusted_origins(settings.trusted_origins)
        #: One-time code for the first-run teacher setup page, printed in the server log.
        self.setup_code: str | None = None
        self.sweeper: asyncio.Task[None] | None = None
        self.tasks: set[asyncio.Task[None]] = set()  # restarts asked by the teacher

    # -------------------------------------------------------------- wiring

    def csrf_for(self, request: object) -> str:
        """The CSRF token of the page being rendered (a template helper)."""
        scope = getattr(request, "scope", {})
        learner = scope.get(SCOPE_KEY) if isinstance(scope, dict) else None
        return self.identity.csrf_token(LearnerId(learner)) if learner else ""

    async def start(self) -> None:
        await run_in_threadpool(self._prepare)
        self.writer.start()
        self.landscape.start()
        await self.cluster.start()
        self.sweeper = asyncio.create_task(self._sweep())

    def _prepare(self) -> None:
        self.db.ready()
        self.identity.key  # noqa: B018 - made now, not on the first page load
        with self.db.session() as db:
            self.db.serialize_start(db)
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
        await self.cluster.stop()
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
        if room is not None and self.cluster.in_room(room) >= cap:
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

    def _membership(self, learner: LearnerId) -> rooms.Membership | None:
        with self.db.session() as db:
            return rooms.current_membership(db, learner)

    # -------------------------------------------------------------- teacher actions

    async def restart_learner(self, learner: LearnerId) -> int:
        """Restart every open kernel of a learner, on every replica; the number restarted."""
        return await self.cluster.restart(learner)

    async def remove_learner(self, room: RoomId, learner: LearnerId) -> None:
        """The learner was removed from the room (in the database): their open pages leave it
        at once, on every replica."""
        await self.cluster.remove(room, learner)

    async def restart_here(self, learner: LearnerId) -> int:
        """Restart the learner's kernels open on this replica; the number restarted."""
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
