"""The teacher's and a learner's first steps in a browser, as the tests and the screenshots take
them: sign in, make a room for a lesson, join it by its code."""

from __future__ import annotations

import re
from typing import Any


def sign_in(teacher: Any, base: str, password: str) -> None:
    """Sign the teacher's page in; it ends on the dashboard."""
    teacher.goto(f"{base}/teacher/login")
    teacher.fill("#login-password", password)
    teacher.click("button[type=submit]")
    teacher.wait_for_url(f"{base}/teacher")


def open_room(teacher: Any, name: str, lesson: str) -> str:
    """Make a room from the dashboard; its page is left open. Returns the join code."""
    teacher.fill("#room-name", name)
    teacher.select_option("#room-lesson", lesson)
    teacher.click("#new-room button[type=submit]")
    teacher.wait_for_url(re.compile(r"/teacher/rooms/\d+$"))
    return str(teacher.inner_text("#join-code")).strip()


def join_room(learner: Any, base: str, code: str, name: str, lesson: str) -> None:
    """Join a room by its code under `name`; it ends on the room's lesson."""
    learner.goto(f"{base}/join/{code}")
    learner.fill("#join-name", name)
    learner.click("button[type=submit]")
    learner.wait_for_url(f"{base}/lessons/{lesson}")
