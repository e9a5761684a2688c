"""The WebSocket of a lesson page: decode strictly, dispatch by type, never let one bad page
disturb another. Malformed or unknown messages close that socket with 1003."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

import msgspec
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from app.protocol import (
    Check,
    ClientMessage,
    ErrorMsg,
    Interrupt,
    Open,
    Ping,
    Pong,
    Restart,
    Run,
    ServerMessage,
    Slide,
    Train,
    client_decoder,
    server_encoder,
)
from app.web.session import Send, Session

log = logging.getLogger("descent.socket")
router = APIRouter()
UNSUPPORTED = 1003
TOO_BIG = 1009


@router.websocket("/ws/lessons/{slug}")
async def lesson_socket(ws: WebSocket, slug: str) -> None:
    state = ws.app.state
    lesson = state.catalogue.get(slug)
    await ws.accept()
    if lesson is None:
        await ws.close(code=UNSUPPORTED, reason="unknown lesson")
        return
    send_lock = asyncio.Lock()

    async def send(msg: ServerMessage) -> None:
        if ws.application_state != WebSocketState.CONNECTED:
            return
        async with send_lock:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await ws.send_text(server_encoder.encode(msg).decode())

    observer, learner = None, ""
    classroom = getattr(state, "classroom", None)
    if classroom is not None:
        admission = await classroom.admit(ws, lesson)
        if admission is None:
            return  # refused: the classroom closed the socket with its reason
        observer, learner = admission.observer, admission.learner
    session = Session(lesson, state.supervisor, state.settings, send, observer, learner)
    tasks: set[asyncio.Task[None]] = set()
    limit = state.settings.max_message_kb * 1024
    opened = False
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            raw = message.get("text")
            if raw is None:  # a binary frame: receive_text() would raise KeyError
                log.warning("closing a socket on %s: binary message", slug)
                await ws.close(code=UNSUPPORTED, reason="binary message")
                return
            if len(raw) > limit:
                log.warning("closing a socket on %s: message of %d bytes", slug, len(raw))
                await ws.close(code=TOO_BIG, reason="message too big")
                return
            try:
                msg: ClientMessage = client_decoder.decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError) as err:
                log.warning("closing a socket on %s: malformed message: %s", slug, err)
                await ws.close(code=UNSUPPORTED, reason="malformed message"[:120])
                return
            if isinstance(msg, Open):
                if not opened:
                    opened = True
                    spawn(tasks, session.open(msg.cells), send)
            elif isinstance(msg, Slide):
                problem = session.slide(msg)
                if problem:
                    await send(ErrorMsg(problem))
            elif isinstance(msg, Run):
                spawn(tasks, session.run(msg), send)
            elif isinstance(msg, Check):
                spawn(tasks, session.check(msg), send)
            elif isinstance(msg, Train):
                spawn(tasks, session.train(msg), send)
            elif isinstance(msg, Interrupt):
                session.interrupt()
            elif isinstance(msg, Restart):
                spawn(tasks, session.restart(), send)
            elif isinstance(msg, Ping):
                await send(Pong(msg.seq))
    except WebSocketDisconnect:
        pass
    finally:
        for task in tasks:
            task.cancel()
        await session.close()


def spawn(tasks: set[asyncio.Task[None]], coro: Coroutine[Any, Any, None], send: Send) -> None:
    """Run a request concurrently; a bug in it is logged and told to the page, never silent."""

    async def guarded() -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a request failed")
            await send(
                ErrorMsg("Something went wrong on the server. Your code is kept; try again.")
            )

    task = asyncio.ensure_future(guarded())
    tasks.add(task)
    task.add_done_callback(tasks.discard)
