"""Helpers of the classroom tests: browsers with their own cookies over an app in process, a
signed-in teacher, a room with a learner in it."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from app.classroom.classroom import Classroom
from app.web.services import Services

PASSWORD = "correct horse battery"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')


def classroom_of(app: FastAPI) -> Classroom:
    """The classroom plugged into an app built by create_app."""
    services = app.state.services
    assert isinstance(services, Services) and isinstance(services.classroom, Classroom)
    return services.classroom


class Browser:
    """One browser: its own cookie jar, and the CSRF token its pages carry."""

    def __init__(self, app: FastAPI) -> None:
        transport = httpx.ASGITransport(app=app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        self.csrf = ""

    async def page(self, path: str) -> httpx.Response:
        resp = await self.client.get(path)
        found = CSRF_INPUT.search(resp.text) or CSRF_META.search(resp.text)
        if found:
            self.csrf = found.group(1)
        return resp

    async def form(self, path: str, **fields: str) -> httpx.Response:
        return await self.client.post(path, data={"csrf_token": self.csrf, **fields})

    async def api(self, method: str, path: str, json: object = None) -> httpx.Response:
        headers = {"x-csrf-token": self.csrf}
        return await self.client.request(method, path, json=json, headers=headers)

    async def close(self) -> None:
        await self.client.aclose()


async def new_browser(app: FastAPI, made: list[Browser], first_page: str = "/") -> Browser:
    browser = Browser(app)
    made.append(browser)
    await browser.page(first_page)
    return browser


async def teacher(app: FastAPI, made: list[Browser]) -> Browser:
    browser = await new_browser(app, made, "/teacher/login")
    resp = await browser.form("/teacher/login", password=PASSWORD)
    assert resp.status_code == 303, resp.text
    return browser


async def room_with_learner(
    app: FastAPI, made: list[Browser], name: str = "Ada", lesson: str = "the-loss-landscape"
) -> tuple[Browser, Browser, int, str]:
    """A teacher, a room, and a learner in it: (teacher, learner, room id, join code)."""
    t = await teacher(app, made)
    await t.page("/teacher")
    resp = await t.form("/teacher/rooms", name="Monday", lesson=lesson)
    room_id = int(resp.headers["location"].rsplit("/", 1)[1])
    page = await t.page(f"/teacher/rooms/{room_id}")
    code = re.search(r'id="join-code">(\w+)<', page.text)
    assert code, page.text
    learner = await new_browser(app, made, f"/join?code={code.group(1)}")
    joined = await learner.form("/join", code=code.group(1), name=name)
    assert joined.status_code == 303, joined.text
    await learner.page(f"/lessons/{lesson}")
    return t, learner, room_id, code.group(1)
