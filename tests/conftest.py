"""Fixtures shared by the web, socket and browser tests: settings, one real server for the whole
run, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from live_server import ROOT, LiveServer, start_server
from page_socket import Connect
from websockets.asyncio.client import ClientConnection

from app.config import Settings

CHROMIUM = Path(os.environ.get("DESCENT_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1100, "height": 900}


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for an app built in process: the real lessons, a throwaway data folder."""
    return Settings(
        host="127.0.0.1",
        port=0,
        lessons_dir=ROOT / "lessons",
        data_dir=tmp_path_factory.mktemp("data"),
        sandbox="weak",
    )


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real uvicorn server (`python -m app`) shared by the socket and browser tests."""
    live = start_server(tmp_path_factory.mktemp("server") / "server.log")
    yield live
    live.stop()


@pytest.fixture
async def connect(server: LiveServer) -> AsyncIterator[Connect]:
    """Open lesson sockets on the shared server, each with a fresh learner's cookie; all are
    closed when the test ends."""
    opened: list[ClientConnection] = []

    async def _connect(slug: str = "the-line") -> ClientConnection:
        ws = await websockets.connect(
            f"{server.ws_url}/ws/lessons/{slug}",
            max_size=None,
            additional_headers={"Cookie": server.learner_cookie()},
        )
        opened.append(ws)
        return ws

    yield _connect
    for ws in opened:
        await ws.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless. Missing Chromium fails the run in CI and skips elsewhere.

    Module-scoped on purpose: Playwright's sync API leaves its event loop marked as running in
    this thread while it is started, which breaks every async test that runs meanwhile.
    """
    if not CHROMIUM.exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; browser tests must run in CI", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


class PageProblems:
    """Script errors, and requests for anything not on this machine, seen while a test drove
    the page."""

    LOCAL = ("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:", "about:")

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []

    def on_request(self, request: Any) -> None:
        url = str(request.url)
        if not url.startswith(self.LOCAL):
            self.outside.append(url)


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Any, page_problems: PageProblems) -> Iterator[Any]:
    """A fresh browser tab; the test fails if the page threw a script error or asked for
    anything from outside the server."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.on("pageerror", lambda err: page_problems.errors.append(str(err)))
    tab.on("request", page_problems.on_request)
    yield tab
    context.close()
    assert not page_problems.errors, f"the page raised script errors: {page_problems.errors}"
    assert not page_problems.outside, f"the page requested outside URLs: {page_problems.outside}"
