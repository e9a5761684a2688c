"""The WebSocket of a lesson page: decode strictly, dispatch by type through one table, never
let one bad page disturb another. Malformed messages, and any type without a handler, close
that socket with 1003; a message over the size limit closes it with 1009. A draining replica
(app/web/drain.py) closes its sockets, and refuses new ones, with 1012: the page reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import msgspec
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from app.protocol import (
    Check,
    ClientMessage,
    DataLoad,
    DataReset,
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
from app.session import Session
from app.web.drain import GOING_AWAY, WORDS, drain_of
from app.web.services import services_of

log = logging.getLogger("descent.socket")
router = APIRouter()
UNSUPPORTED = 1003
TOO_BIG = 1009


class PageSocket:
    """One open lesson socket: its session, the requests it runs, whether the page opened."""

    def __init__(self, ws: WebSocket, slug: str) -> None:
        self.ws, self.slug = ws, slug
        self.session: Session | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.opened = False
        self._send_lock = asyncio.Lock()

    @property
    def live(self) -> Session:
        assert self.session is not None, "a message before the session was made"
        return self.session

    async def send(self, msg: ServerMessage) -> None:
        if self.ws.application_state != WebSocketState.CONNECTED:
            return
        async with self._send_lock:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await self.ws.send_text(server_encoder.encode(msg).decode())

    async def close(self, code: int, reason: str) -> None:
        log.warning("closing a socket on %s: %s", self.slug, reason)
        await self.ws.close(code=code, reason=reason[:120])

    async def go_away(self, code: int, reason: str) -> None:
        """The replica drains: close between two messages, never in the middle of one."""
        async with self._send_lock:
            if self.ws.application_state == WebSocketState.CONNECTED:
                with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                    await self.ws.close(code=code, reason=reason[:120])

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a request concurrently; a bug in it is logged and told to the page, never silent."""

        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("a request failed")
                await self.send(
                    ErrorMsg("Something went wrong on the server. Your code is kept; try again.")
                )

        task = asyncio.ensure_future(guarded())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


# ----------------------------------------------------------------------------- handlers


async def on_open(page: PageSocket, msg: Open) -> None:
    if not page.opened:
        page.opened = True
        page.spawn(page.live.open(msg.cells))


async def on_slide(page: PageSocket, msg: Slide) -> None:
    problem = page.live.slide(msg)
    if problem:
        await page.send(ErrorMsg(problem))


async def on_run(page: PageSocket, msg: Run) -> None:
    page.spawn(page.live.run(msg))


async def on_check(page: PageSocket, msg: Check) -> None:
    page.spawn(page.live.check(msg))


async def on_train(page: PageSocket, msg: Train) -> None:
    page.spawn(page.live.train(msg))


async def on_interrupt(page: PageSocket, msg: Interrupt) -> None:
    page.live.interrupt()


async def on_restart(page: PageSocket, msg: Restart) -> None:
    page.spawn(page.live.restart())


async def on_data(page: PageSocket, msg: DataLoad) -> None:
    page.spawn(page.live.load_data(msg))


async def on_data_reset(page: PageSocket, msg: DataReset) -> None:
    page.spawn(page.live.reset_data(msg))


async def on_ping(page: PageSocket, msg: Ping) -> None:
    await page.send(Pong(msg.seq))


Handler = Callable[[PageSocket, Any], Awaitable[None]]
#: Every page message type and its handler; a decoded type missing here closes the socket.
HANDLERS: dict[type[Any], Handler] = {
    Open: on_open,
    Slide: on_slide,
    Run: on_run,
    Check: on_check,
    Train: on_train,
    Interrupt: on_interrupt,
    Restart: on_restart,
    Ping: on_ping,
    DataLoad: on_data,
    DataReset: on_data_reset,
}


async def dispatch(page: PageSocket, msg: ClientMessage) -> bool:
    """Hand `msg` to its handler; False (the socket is closed) when no handler takes its type."""
    handler = HANDLERS.get(type(msg))
    if handler is None:
        log.error("no handler for page messages of type %s", type(msg).__name__)
        await page.close(UNSUPPORTED, f"unhandled message type {type(msg).__name__}")
        return False
    await handler(page, msg)
    return True


# ----------------------------------------------------------------------------- the socket


@router.websocket("/ws/lessons/{slug}")
async def lesson_socket(ws: WebSocket, slug: str) -> None:
    services = services_of(ws)
    lesson = services.catalogue.get(slug)
    await ws.accept()
    if lesson is None:
        await ws.close(code=UNSUPPORTED, reason="unknown lesson")
        return
    drain = drain_of(ws)
    if drain.draining:  # the balancer has not noticed yet: the page tries again, elsewhere
        await ws.close(code=GOING_AWAY, reason=WORDS)
        return
    page = PageSocket(ws, slug)
    observer, learner = None, None
    if services.classroom is not None:
        admission = await services.classroom.admit(ws, lesson)
        if admission is None:
            return  # refused: the classroom closed the socket with its reason
        observer, learner = admission.observer, admission.learner
    session = Session(lesson, services.supervisor, services.settings, page.send, observer, learner)
    page.session = session
    limit = services.settings.max_message_kb * 1024
    try:
        with drain.track(page.go_away):
            await serve(page, ws, limit)
    except WebSocketDisconnect:
        pass
    finally:
        for task in page.tasks:
            task.cancel()
        await session.close()


async def serve(page: PageSocket, ws: WebSocket, limit: int) -> None:
    """Read and dispatch the page's messages until it goes or breaks a rule."""
    slug = page.slug
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text")
        if raw is None:  # a binary frame: receive_text() would raise KeyError
            await page.close(UNSUPPORTED, "binary message")
            return
        if len(raw) > limit:
            log.warning("closing a socket on %s: message of %d bytes", slug, len(raw))
            await ws.close(code=TOO_BIG, reason="message too big")
            return
        try:
            msg: ClientMessage = client_decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as err:
            log.warning("closing a socket on %s: malformed message: %s", slug, err)
            await ws.close(code=UNSUPPORTED, reason="malformed message")
            return
        if not await dispatch(page, msg):
            return
