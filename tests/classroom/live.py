"""Browsers against a real server: an httpx client with its own cookies and CSRF token, and
lesson sockets opened with that browser's cookie (and, if asked, an Origin header)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import websockets
from live_server import LiveServer
from websockets.asyncio.client import ClientConnection

from classroom.kit import CSRF_INPUT, CSRF_META, PASSWORD

Message = dict[str, Any]


class LiveBrowser:
    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=30)
        self.csrf = ""

    def page(self, path: str) -> httpx.Response:
        resp = self.http.get(path)
        found = CSRF_INPUT.search(resp.text) or CSRF_META.search(resp.text)
        if found:
            self.csrf = found.group(1)
        return resp

    def form(self, path: str, **fields: str) -> httpx.Response:
        return self.http.post(path, data={"csrf_token": self.csrf, **fields})

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())

    async def socket(
        self, path: str = "/ws/lessons/the-line", origin: str | None = None
    ) -> ClientConnection:
        headers = {"Cookie": self.cookie_header()}
        if origin:
            headers["Origin"] = origin
        return await websockets.connect(
            self.server.ws_url + path, max_size=None, additional_headers=headers
        )

    def close(self) -> None:
        self.http.close()


def sign_in(server: LiveServer) -> LiveBrowser:
    teacher = LiveBrowser(server)
    teacher.page("/teacher/login")
    assert teacher.form("/teacher/login", password=PASSWORD).status_code == 303
    return teacher


def new_room(teacher: LiveBrowser, lesson: str = "the-line") -> tuple[int, str]:
    teacher.page("/teacher")
    resp = teacher.form("/teacher/rooms", name="Live", lesson=lesson)
    room = int(resp.headers["location"].rsplit("/", 1)[1])
    found = re.search(r'id="join-code">(\w+)<', teacher.page(f"/teacher/rooms/{room}").text)
    assert found
    return room, found.group(1)


def join(server: LiveServer, code: str, name: str) -> LiveBrowser:
    learner = LiveBrowser(server)
    learner.page(f"/join?code={code}")
    assert learner.form("/join", code=code, name=name).status_code == 303
    return learner


async def receive(ws: ClientConnection, timeout: float = 20.0) -> Message:
    async with asyncio.timeout(timeout):
        return dict(json.loads(await ws.recv()))


async def until(ws: ClientConnection, match: Any, timeout: float = 30.0) -> list[Message]:
    """Every message up to and including the first that `match` accepts."""
    seen: list[Message] = []
    async with asyncio.timeout(timeout):
        while True:
            msg = dict(json.loads(await ws.recv()))
            seen.append(msg)
            if match(msg):
                return seen


async def close_code(ws: ClientConnection, timeout: float = 20.0) -> tuple[int | None, str]:
    async with asyncio.timeout(timeout):
        try:
            while True:
                await ws.recv()
        except websockets.ConnectionClosed:
            pass
    return ws.close_code, ws.close_reason or ""


def idle(msg: Message) -> bool:
    return msg["type"] == "status" and msg["state"] == "idle"
