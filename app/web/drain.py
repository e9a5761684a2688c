"""A replica's graceful drain, started by SIGTERM (`app/__main__.py`; docs/cluster.md):

1. `/healthz` answers 503 `{"status": "draining"}`, so the balancer stops choosing this replica;
   new lesson sockets are closed at once with 1012 and words the page shows while it reconnects.
2. Every open lesson and teacher socket is closed the same way: the pages reconnect, through the
   balancer, to another replica, which starts a kernel and re-runs the code the page sends.
3. Plain requests (saves, page loads) are still served, until none but health checks has arrived
   for `QUIET_S` or `DESCENT_DRAIN_S` passed; then the server stops listening, finishes the
   requests in flight, and the lifespan writes what is pending before the kernels stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("descent")
#: "Service Restart": the page reconnects by itself, and shows the words as it does.
GOING_AWAY = 1012
WORDS = "This server is restarting: reconnecting you to another one. Your code is kept."
#: Seconds without a request (health checks aside) after which the balancer has let go.
QUIET_S = 1.0
#: Requests that do not count as traffic: the balancer's and the monitoring's polls.
POLLS = ("/healthz", "/metrics")

Closer = Callable[[int, str], Awaitable[None]]


class Drain:
    def __init__(self) -> None:
        self.draining = False
        self.sockets: set[Closer] = set()
        self.last_request = time.monotonic()

    @contextlib.contextmanager
    def track(self, close: Closer) -> Iterator[None]:
        """An open socket the drain closes (with its code and words) when it starts."""
        self.sockets.add(close)
        try:
            yield
        finally:
            self.sockets.discard(close)

    def touch(self) -> None:
        self.last_request = time.monotonic()

    async def run(self, most_s: float) -> None:
        """Drain: tell the pages to go, then wait until the traffic stops or `most_s` passed."""
        self.draining = True
        started = time.monotonic()
        closers = list(self.sockets)
        log.warning("draining: %d socket(s) told to reconnect elsewhere", len(closers))
        if closers:
            self.touch()
            await asyncio.gather(*(c(GOING_AWAY, WORDS) for c in closers), return_exceptions=True)
        while True:
            now = time.monotonic()
            if now - self.last_request >= QUIET_S or now - started >= most_s:
                break
            await asyncio.sleep(0.05)
        log.warning("drained in %.1f s: stopping", time.monotonic() - started)


class DrainTraffic:
    """ASGI middleware: notes the time of every request that is not a poll."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app, self.drain = app, drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not str(scope.get("path", "")).startswith(
            POLLS
        ):
            self.drain.touch()
        await self.app(scope, receive, send)


def drain_of(conn: HTTPConnection) -> Drain:
    drain = conn.app.state.drain
    if not isinstance(drain, Drain):
        raise RuntimeError("this app was not built by app.web.app.build_app")
    return drain


__all__ = ["GOING_AWAY", "WORDS", "Drain", "DrainTraffic", "drain_of"]
