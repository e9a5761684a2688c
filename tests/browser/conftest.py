"""Browser-test fixtures: every test's page is checked by axe-core in the state the test left it
in, and a server with a teacher for the teacher's pages."""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from a11y import assert_accessible
from helpers import TEACHER_PASSWORD
from live_server import LiveServer, start_server


@pytest.fixture
def page(page: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The shared fixture's tab; once the test passed, axe-core checks the page it ended on."""
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.passed or page.is_closed():
        return
    if not page.url.startswith("http"):
        return
    assert_accessible(page, f"{page.url} at the end of {request.node.name}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def teacher_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server whose teacher signs in with TEACHER_PASSWORD."""
    live = start_server(
        tmp_path_factory.mktemp("teacher") / "server.log",
        env={"DESCENT_TEACHER_PASSWORD": TEACHER_PASSWORD},
    )
    yield live
    live.stop()


@pytest.fixture(scope="session")
def outside_server() -> Any:
    """DESCENT_TEST_SERVER_URL (a server already running, e.g. while the server's code is being
    changed) or None."""
    url = os.environ.get("DESCENT_TEST_SERVER_URL", "").rstrip("/")
    return SimpleNamespace(url=url) if url else None


@pytest.fixture(scope="session")
def lesson_server(request: pytest.FixtureRequest, outside_server: Any) -> Any:
    """The server the lesson tests of this folder use: the shared one, or an outside one."""
    return outside_server or request.getfixturevalue("server")
