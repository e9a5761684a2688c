"""The teacher's live class landscape over a WebSocket: first the lesson's surface, then one
message with every learner's (w, b) whenever points moved, at most once per interval."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketState

from app.classroom import accounts
from app.classroom.admission import POLICY, refuse, same_origin
from app.classroom.classroom import Classroom
from app.classroom.identity import TEACHER_COOKIE
from app.classroom.landscape import SendText, Viewer, teacher_text
from app.classroom.models import Room
from app.classroom.routes.deps import classroom_of
from app.content.model import Lesson
from app.protocol import LandscapeSurface, RoomId
from app.web.drain import GOING_AWAY, WORDS, drain_of

router = APIRouter()


@router.websocket("/ws/teacher/rooms/{room_id}")
async def landscape_socket(ws: WebSocket, room_id: RoomId, lesson: str = "") -> None:
    classroom = classroom_of(ws)
    drain = drain_of(ws)
    await ws.accept()
    if drain.draining:  # the teacher's page reconnects, through the balancer, elsewhere
        await refuse(ws, GOING_AWAY, WORDS)
        return
    if not same_origin(
        ws.headers.get("origin"), ws.headers.get("host"), ws.url.scheme, classroom.trusted
    ):
        await refuse(ws, POLICY, "This page is not from this server (cross-site refused).")
        return
    token = classroom.identity.teacher_token_from(ws.cookies.get(TEACHER_COOKIE))

    def allowed() -> Room | None:
        with classroom.db.session() as db:
            if token is None or not accounts.teacher_session_valid(db, token):
                return None
            return db.get(Room, room_id)

    room = await run_in_threadpool(allowed)
    if room is None:
        await refuse(ws, POLICY, "Sign in as the teacher, and open a room that exists.")
        return
    shown = classroom.catalogue.get(lesson or room.lesson)
    if shown is None:
        await refuse(ws, POLICY, "There is no such lesson.")
        return
    send_lock = asyncio.Lock()

    async def send_text(text: str) -> None:
        if ws.application_state != WebSocketState.CONNECTED:
            return
        async with send_lock:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await ws.send_text(text)

    async def go_away(code: int, reason: str) -> None:
        async with send_lock:
            if ws.application_state == WebSocketState.CONNECTED:
                with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                    await ws.close(code=code, reason=reason)

    viewer = Viewer(room_id, shown.slug, send_text)
    pump = asyncio.create_task(viewer.pump())
    surface_task = asyncio.create_task(send_surface(classroom, shown, send_text))
    classroom.landscape.watch(viewer)
    try:
        with drain.track(go_away):
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
    except WebSocketDisconnect:
        pass
    finally:
        classroom.landscape.unwatch(viewer)
        for task in (pump, surface_task):
            task.cancel()


async def send_surface(classroom: Classroom, lesson: Lesson, send_text: SendText) -> None:
    """The ground of the landscape; computing it may take a kernel's start and a grid."""
    surface = await classroom.surfaces.get(lesson)
    await send_text(teacher_text(LandscapeSurface(surface)))
