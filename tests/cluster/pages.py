"""Learners' and the teacher's pages, as scripts that do what static/js does, through the
balancer: httpx for pages, forms and saves (with the cookies a browser keeps, HAProxy's route
cookie among them), websockets for the lesson and landscape sockets. A lesson page reconnects
by itself after its socket closes, 250 ms later and backing off, and then sends the code of
its editor (the code it saved last), which the new kernel runs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

LESSON, CELL = "the-line", "my-line"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"|<meta name="csrf-token" content="([^"]+)"')
ROUTE = "descent-route"
Message = dict[str, Any]


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1) or found.group(2)


class Browser:
    def __init__(self, base: str, ws_base: str) -> None:
        self.base, self.ws_base = base, ws_base
        self.http = httpx.AsyncClient(base_url=base, timeout=30)
        self.csrf = ""
        self.socket_route = ""

    async def page(self, path: str) -> httpx.Response:
        resp = await self.http.get(path)
        with contextlib.suppress(AssertionError):
            self.csrf = csrf_of(resp.text)
        return resp

    async def form(self, path: str, **fields: str) -> httpx.Response:
        return await self.http.post(path, data={"csrf_token": self.csrf, **fields})

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies.jar)

    @property
    def route(self) -> str:
        return next((c.value or "" for c in self.http.cookies.jar if c.name == ROUTE), "")

    def keep_cookies(self, ws: ClientConnection) -> str:
        """A browser keeps the cookie the balancer sets on a socket's handshake too; the route
        it sets, if any."""
        assert ws.response is not None
        route = ""
        for value in ws.response.headers.get_all("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                self.http.cookies.set(name, morsel.value, domain="127.0.0.1", path="/")
                route = morsel.value if name == ROUTE else route
        return route

    async def socket(self, path: str) -> ClientConnection:
        sent = self.route
        ws = await websockets.connect(
            self.ws_base + path,
            additional_headers={"Cookie": self.cookie_header(), "Origin": self.base},
            max_size=None,
            open_timeout=10,
        )
        #: The replica this socket reached: the balancer's new cookie, or the one sent.
        self.socket_route = self.keep_cookies(ws) or sent
        return ws

    async def close(self) -> None:
        await self.http.aclose()


@dataclass
class Closed:
    at: float
    code: int | None
    reason: str


@dataclass
class Learner:
    browser: Browser
    name: str
    version: int = 0
    code: str = ""
    acked: list[tuple[int, str]] = field(default_factory=list)
    closes: list[Closed] = field(default_factory=list)
    errors: list[Message] = field(default_factory=list)
    save_errors: list[str] = field(default_factory=list)
    ws: ClientConnection | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    ready_at: float = 0.0
    opened: int = 0
    w: float = 1.0
    b: float = 0.0
    seen: dict[str, float] = field(default_factory=dict)  # patch seq -> arrival
    ran: str = ""  # the code the newest kernel ran
    where: str = ""  # the replica of the newest socket (its route cookie)
    task: asyncio.Task[None] | None = None

    async def join(self, code: str) -> None:
        await self.browser.page(f"/join?code={code}")
        resp = await self.browser.form("/join", code=code, name=self.name)
        assert resp.status_code == 303, resp.text[:300]

    async def save(self, text: str) -> None:
        """Save the cell as the page's autosave does; the page retries after a 5xx, we count it."""
        try:
            resp = await self.browser.http.put(
                f"/api/work/{LESSON}/cells/{CELL}",
                json={"code": text, "version": self.version},
                headers={"X-CSRF-Token": self.browser.csrf},
            )
        except httpx.HTTPError as err:
            self.save_errors.append(f"{type(err).__name__}: {err}")
            return
        if resp.status_code != 200:
            self.save_errors.append(f"{resp.status_code} {resp.text[:200]}")
            return
        self.version = int(resp.json()["version"])
        self.code = text
        self.acked.append((self.version, text))

    async def saved(self) -> tuple[int, str]:
        resp = await self.browser.http.get(f"/api/work/{LESSON}")
        cell = resp.json()["cells"].get(CELL, {"version": 0, "code": ""})
        return int(cell["version"]), str(cell["code"])

    def start(self) -> None:
        self.task = asyncio.create_task(self._live())

    async def _live(self) -> None:
        delay = 0.25
        while True:
            try:
                self.ws = await self.browser.socket(f"/ws/lessons/{LESSON}")
            except (OSError, websockets.InvalidHandshake, TimeoutError):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            delay = 0.25
            self.where = self.browser.socket_route
            with contextlib.suppress(websockets.ConnectionClosed):
                await self._page(self.ws)
            self.ready.clear()
            self.closes.append(Closed(time.monotonic(), self.ws.close_code, self.ws.close_reason))
            self.ws = None
            await asyncio.sleep(delay)

    async def _page(self, ws: ClientConnection) -> None:
        self.opened += 1
        sent = self.code  # the editor's code: the newest the learner saved
        await ws.send(json.dumps({"type": "open", "cells": {CELL: sent}}))
        await self.slide(self.w, self.b)
        ran = False
        async for raw in ws:
            msg = json.loads(raw)
            kind = msg["type"]
            if kind == "output" and msg["cell"] == CELL:
                ran = msg["ok"] and msg["stdout"].strip() == marker(sent)
                self.ran = sent
                if not ran:
                    self.errors.append(msg)
            elif kind == "status" and msg["state"] == "idle" and ran and not self.ready.is_set():
                self.ready_at = time.monotonic()
                self.ready.set()
            elif kind in ("error", "plot_error") or (
                kind == "status" and msg["state"] in ("dead", "full", "refused")
            ):
                self.errors.append(msg)
            elif kind == "patch":
                self.seen[str(msg["seq"])] = time.monotonic()

    async def slide(self, w: float, b: float, seq: int = 0) -> bool:
        self.w, self.b = w, b
        ws = self.ws
        if ws is None:
            return False
        msg = {"type": "slide", "values": {"w": w, "b": b}, "seq": seq}
        with contextlib.suppress(websockets.ConnectionClosed):
            await ws.send(json.dumps(msg))
            return True
        return False

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.ws is not None:
            await self.ws.close()
        await self.browser.close()


def marker(code: str) -> str:
    """What the code prints."""
    found = re.search(r"print\('([^']*)'\)", code)
    return found.group(1) if found else ""


def program(name: str, n: int) -> str:
    """The code a learner saves: their line, and a print that names the save."""
    return f"my_w = 0.5\nmy_b = -3\nprint('{name} save {n}')\n"


class LandscapeView:
    """The teacher's class landscape socket for one room, reconnecting as teacher.js does."""

    def __init__(self, teacher: Browser, room: int) -> None:
        self.teacher, self.room = teacher, room
        self.points: dict[str, tuple[float, float]] = {}
        self.updates = 0
        self.closes: list[Closed] = []
        self.arrivals: list[tuple[float, dict[str, tuple[float, float]]]] = []
        self.ws: ClientConnection | None = None
        self.task = asyncio.create_task(self._live())

    async def _live(self) -> None:
        while True:
            try:
                self.ws = ws = await self.teacher.socket(f"/ws/teacher/rooms/{self.room}")
            except (OSError, websockets.InvalidHandshake, TimeoutError):
                await asyncio.sleep(0.5)
                continue
            with contextlib.suppress(websockets.ConnectionClosed):
                async for raw in ws:
                    msg = json.loads(raw)
                    if msg["type"] == "points":
                        now = time.monotonic()
                        self.points = {p[0]: (p[1], p[2]) for p in msg["points"]}
                        self.updates += 1
                        self.arrivals.append((now, self.points))
            self.closes.append(Closed(time.monotonic(), ws.close_code, ws.close_reason))
            await asyncio.sleep(0.5)

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        if self.ws is not None:
            await self.ws.close()
