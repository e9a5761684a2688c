"""Messages between the replicas of one course, through the database they already share:
PostgreSQL's LISTEN/NOTIFY (docs/cluster.md says why no other broker). Each replica listens on
one channel with a connection of its own and sends on another; a message is a JSON object, split
into parts sent in one transaction when it is longer than a notification may be (PostgreSQL
delivers the notifications of a transaction together and in order). On SQLite there is one
replica and nothing to send: `NoBus`."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
import socket
from collections.abc import Callable
from typing import Any, Protocol

import psycopg

log = logging.getLogger("descent.cluster")
CHANNEL = "descent"
#: A notification's payload must stay under 8000 bytes; the JSON is ASCII (ensure_ascii).
PART = 7800
MULTIPART = "~"
CONNECT_TIMEOUT_S = 3
SEND_TIMEOUT_S = 2.0

Message = dict[str, Any]
OnMessage = Callable[[Message], None]
OnConnect = Callable[[], None]


def replica_name() -> str:
    """This replica's name in messages and logs: the host (the pod's name) and a random part,
    since a restarted pod keeps its host name."""
    return f"{socket.gethostname()[:40]}-{secrets.token_hex(3)}"


class Bus(Protocol):
    replica: str
    shared: bool

    async def start(self, on_message: OnMessage, on_connect: OnConnect) -> None: ...

    async def publish(self, message: Message) -> bool: ...

    async def stop(self) -> None: ...


class NoBus:
    """One replica (SQLite): nobody to tell."""

    shared = False

    def __init__(self) -> None:
        self.replica = replica_name()

    async def start(self, on_message: OnMessage, on_connect: OnConnect) -> None:
        return None

    async def publish(self, message: Message) -> bool:
        return True

    async def stop(self) -> None:
        return None


def split(text: str, ids: itertools.count[int], replica: str) -> list[str]:
    """The payloads of one message: itself, or numbered parts `~id:i:n:` + a slice."""
    if len(text) <= PART:
        return [text]
    chunks = [text[i : i + PART] for i in range(0, len(text), PART)]
    tag = f"{replica}.{next(ids)}"
    return [f"{MULTIPART}{tag}:{i}:{len(chunks)}:{c}" for i, c in enumerate(chunks)]


class PgBus:
    shared = True

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.replica = replica_name()
        self.on_message: OnMessage = lambda message: None
        self.on_connect: OnConnect = lambda: None
        self.listener: asyncio.Task[None] | None = None
        self.sender: psycopg.AsyncConnection[Any] | None = None
        self.send_lock = asyncio.Lock()
        self.parts: dict[str, list[str]] = {}
        self.ids = itertools.count(1)
        self.connected = False
        self.received = 0

    async def start(self, on_message: OnMessage, on_connect: OnConnect) -> None:
        self.on_message, self.on_connect = on_message, on_connect
        self.listener = asyncio.create_task(self._listen())

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
        )

    async def _listen(self) -> None:
        delay = 0.5
        while True:
            try:
                async with await self._connect() as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.connected, delay = True, 0.5
                    self.on_connect()
                    async for note in conn.notifies():
                        self._receive(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as err:
                self.connected = False
                log.warning("the other replicas cannot be heard (%s); again in %.1f s", err, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _receive(self, payload: str) -> None:
        if payload.startswith(MULTIPART):
            tag, index, count, chunk = payload[1:].split(":", 3)
            parts = self.parts.setdefault(tag, [])
            if int(index) != len(parts):  # a part was missed: drop the message
                self.parts.pop(tag, None)
                return
            parts.append(chunk)
            if len(parts) < int(count):
                return
            payload = "".join(self.parts.pop(tag))
        try:
            message = json.loads(payload)
        except ValueError:
            log.warning("an unreadable message from another replica was dropped")
            return
        if not isinstance(message, dict) or message.get("from") == self.replica:
            return
        self.received += 1
        try:
            self.on_message(message)
        except Exception:
            log.exception("a message from another replica could not be handled: %s", payload[:200])

    async def publish(self, message: Message) -> bool:
        """Send `message` to every other replica; False (logged) when the database is away."""
        text = json.dumps({**message, "from": self.replica}, separators=(",", ":"))
        payloads = split(text, self.ids, self.replica)
        async with self.send_lock:
            try:
                async with asyncio.timeout(SEND_TIMEOUT_S):
                    if self.sender is None or self.sender.closed:
                        self.sender = await self._connect()
                    if len(payloads) == 1:
                        await self.sender.execute("SELECT pg_notify(%s, %s)", (CHANNEL, text))
                    else:
                        async with self.sender.transaction():
                            for payload in payloads:
                                await self.sender.execute(
                                    "SELECT pg_notify(%s, %s)", (CHANNEL, payload)
                                )
                return True
            except (Exception, asyncio.CancelledError) as err:
                await self._drop_sender()
                if isinstance(err, asyncio.CancelledError):
                    raise
                log.warning("a message to the other replicas was not sent: %s", err)
                return False

    async def _drop_sender(self) -> None:
        sender, self.sender = self.sender, None
        if sender is not None:
            with contextlib.suppress(Exception):
                await sender.close()

    async def stop(self) -> None:
        if self.listener is not None:
            self.listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.listener
        async with self.send_lock:
            await self._drop_sender()


__all__ = ["Bus", "Message", "NoBus", "PgBus", "replica_name"]
