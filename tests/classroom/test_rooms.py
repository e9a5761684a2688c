"""Rooms and the teacher, on SQLite and PostgreSQL: sign-in, join codes, the roster, closing a
room, removing a learner, CSV export, and every teacher route closed to learners."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI

from app.classroom.work import Checked, Opened, Ran
from classroom.kit import (
    PASSWORD,
    Browser,
    classroom_of,
    new_browser,
    room_with_learner,
    teacher,
)

TEACHER_GETS = [
    "/teacher",
    "/teacher/rooms/{room}",
    "/teacher/rooms/{room}/progress.csv",
    "/teacher/rooms/{room}/learners/{learner}",
]
TEACHER_POSTS = [
    "/teacher/rooms",
    "/teacher/rooms/{room}/close",
    "/teacher/rooms/{room}/lesson",
    "/teacher/rooms/{room}/learners/{learner}/remove",
    "/teacher/rooms/{room}/learners/{learner}/restart",
]


def learner_id(browser: Browser) -> str:
    return browser.client.cookies["descent_learner"].split(".")[0]


async def test_teacher_routes_are_closed_to_learners(app: FastAPI, browsers: list[Browser]) -> None:
    _, ada, room, _ = await room_with_learner(app, browsers)
    ids = {"room": room, "learner": learner_id(ada)}
    for path in TEACHER_GETS:
        resp = await ada.client.get(path.format(**ids))
        assert resp.status_code == 303 and resp.headers["location"] == "/teacher/login", path
    for path in TEACHER_POSTS:
        resp = await ada.form(path.format(**ids), name="x", lesson="the-line")
        assert resp.status_code == 303 and resp.headers["location"] == "/teacher/login", path
    roster = await ada.client.get(f"/api/teacher/rooms/{room}/roster")
    assert roster.status_code == 401


async def test_a_forged_teacher_cookie_is_refused(app: FastAPI, browsers: list[Browser]) -> None:
    t, ada, room, _ = await room_with_learner(app, browsers)
    real = t.client.cookies["descent_teacher"]
    token = real.rsplit(".", 1)[0]
    for forged in (token, f"{token}.bad", f"x{real}"):
        ada.client.cookies.set("descent_teacher", forged)
        assert (await ada.client.get(f"/api/teacher/rooms/{room}/roster")).status_code == 401
        assert (await ada.client.get("/teacher")).status_code == 303


async def test_the_teacher_signs_in_with_the_password_only(
    app: FastAPI, browsers: list[Browser]
) -> None:
    guest = await new_browser(app, browsers, "/teacher/login")
    wrong = await guest.form("/teacher/login", password="letmein")
    assert wrong.status_code == 401 and "Wrong password" in wrong.text
    assert "descent_teacher" not in guest.client.cookies
    right = await guest.form("/teacher/login", password=PASSWORD)
    assert right.status_code == 303
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert (await guest.client.get("/teacher")).status_code == 200
    await guest.form("/teacher/logout")
    assert (await guest.client.get("/teacher")).status_code == 303


async def test_forms_without_the_csrf_token_are_refused(
    app: FastAPI, browsers: list[Browser]
) -> None:
    t = await teacher(app, browsers)
    resp = await t.client.post("/teacher/rooms", data={"name": "x", "lesson": "the-line"})
    assert resp.status_code == 400 and "did not come from this site" in resp.text
    forged = await t.client.post("/teacher/rooms", data={"name": "x", "csrf_token": "abc"})
    assert forged.status_code == 400
    guest = await new_browser(app, browsers, "/teacher/login")
    login = await guest.client.post("/teacher/login", data={"password": PASSWORD})
    assert login.status_code == 400
    rooms_page = await t.page("/teacher")
    assert 'class="rooms"' not in rooms_page.text  # no room was made


async def test_a_learner_joins_with_the_code_and_appears_in_the_roster(
    app: FastAPI, browsers: list[Browser]
) -> None:
    t, ada, room, code = await room_with_learner(app, browsers, name="Ada  Lovelace")
    work = (await ada.client.get("/api/work/the-loss-landscape")).json()
    assert work["room"] == {"name": "Monday", "code": code, "you": "Ada Lovelace"}
    roster = (await t.client.get(f"/api/teacher/rooms/{room}/roster")).json()
    assert [m["name"] for m in roster["learners"]] == ["Ada Lovelace"]
    page = await t.page(f"/teacher/rooms/{room}")
    assert "Ada Lovelace" in page.text and code in page.text


async def test_a_wrong_code_or_empty_name_is_refused_with_a_reason(
    app: FastAPI, browsers: list[Browser]
) -> None:
    _, _, _, code = await room_with_learner(app, browsers)
    bob = await new_browser(app, browsers, "/join")
    wrong = await bob.form("/join", code="ZZZZZZ", name="Bob")
    assert wrong.status_code == 400 and "no room with this code" in wrong.text
    nameless = await bob.form("/join", code=code, name="   ")
    assert nameless.status_code == 400 and "name" in nameless.text
    lower = await bob.form("/join", code=code.lower(), name="Bob")
    assert lower.status_code == 303


async def test_a_closed_room_takes_no_one_and_its_learners_go_on_alone(
    app: FastAPI, browsers: list[Browser]
) -> None:
    t, ada, room, code = await room_with_learner(app, browsers)
    assert (await t.form(f"/teacher/rooms/{room}/close")).status_code == 303
    bob = await new_browser(app, browsers, "/join")
    refused = await bob.form("/join", code=code, name="Bob")
    assert refused.status_code == 400 and "closed" in refused.text
    work = (await ada.client.get("/api/work/the-loss-landscape")).json()
    assert work["room"] is None and "closed the class “Monday”" in work["notice"]


async def test_a_removed_learner_cannot_rejoin_and_is_gone_from_the_roster(
    app: FastAPI, browsers: list[Browser]
) -> None:
    t, ada, room, code = await room_with_learner(app, browsers)
    removed = await t.form(f"/teacher/rooms/{room}/learners/{learner_id(ada)}/remove")
    assert removed.status_code == 303
    roster = (await t.client.get(f"/api/teacher/rooms/{room}/roster")).json()
    assert roster["learners"] == []
    again = await ada.form("/join", code=code, name="Ada")
    assert again.status_code == 400 and "removed you" in again.text
    work = (await ada.client.get("/api/work/the-loss-landscape")).json()
    assert work["room"] is None and "removed you" in work["notice"]


async def test_the_teacher_reads_a_learners_code_only_in_their_own_room(
    app: FastAPI, browsers: list[Browser]
) -> None:
    t, ada, room, _ = await room_with_learner(app, browsers)
    await ada.api(
        "PUT", "/api/work/the-loss-landscape/cells/loss", {"code": "w = 1 < 2", "version": 0}
    )
    page = await t.client.get(f"/teacher/rooms/{room}/learners/{learner_id(ada)}")
    assert page.status_code == 200
    assert "w = 1 &lt; 2" in page.text  # escaped, shown read-only
    loner = await new_browser(app, browsers, "/lessons/the-line")
    await loner.api("PUT", "/api/work/the-loss-landscape/cells/loss", {"code": "x", "version": 0})
    not_member = await t.client.get(f"/teacher/rooms/{room}/learners/{learner_id(loner)}")
    assert not_member.status_code == 404
    other = await t.form("/teacher/rooms", name="Tuesday", lesson="the-line")
    other_room = other.headers["location"].rsplit("/", 1)[1]
    wrong_room = await t.client.get(f"/teacher/rooms/{other_room}/learners/{learner_id(ada)}")
    assert wrong_room.status_code == 404


async def test_progress_is_exported_as_csv_with_names_made_safe(
    app: FastAPI, browsers: list[Browser]
) -> None:
    t, ada, room, code = await room_with_learner(app, browsers, name="=HYPERLINK(1)")
    bob = await new_browser(app, browsers, "/join")
    await bob.form("/join", code=code, name="Bob")
    writer = classroom_of(app).writer
    me = learner_id(ada)
    for event in (
        Opened(me, "the-loss-landscape"),
        Ran(me, "the-loss-landscape", True),
        Ran(me, "the-loss-landscape", False),
        Checked(me, "the-loss-landscape", "grid-search", False),
        Checked(me, "the-loss-landscape", "grid-search", True),
    ):
        writer.put(event)
    await writer.flush()

    resp = await t.client.get(f"/teacher/rooms/{room}/progress.csv")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    assert f"descent-{code}-progress.csv" in resp.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {"'=HYPERLINK(1)", "Bob"}
    ada_row = by_name["'=HYPERLINK(1)"]
    assert ada_row["A9 The loss landscape: opened"] == "yes"
    assert ada_row["A9 The loss landscape: runs"] == "2"
    assert ada_row["A9 The loss landscape: grid-search"] == "passed (2 tries)"
    assert ada_row["exercises passed"] == "1"
    assert by_name["Bob"]["A9 The loss landscape: grid-search"] == "none"
    joined = datetime.fromisoformat(ada_row["joined (UTC)"])  # the time carries its zone
    assert joined.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - joined) < timedelta(minutes=5)


async def test_first_run_setup_needs_the_code_from_the_log(
    tmp_path: object, database_url: str
) -> None:
    from pathlib import Path

    from app.server import create_app
    from classroom.conftest import classroom_settings

    assert isinstance(tmp_path, Path)
    fresh = create_app(classroom_settings(tmp_path / "fresh", database_url, teacher_password=""))
    classroom = classroom_of(fresh)
    await classroom.start()
    browsers: list[Browser] = []
    try:
        guest = await new_browser(fresh, browsers, "/teacher")
        assert (await guest.client.get("/teacher/login")).headers["location"] == "/teacher/setup"
        await guest.page("/teacher/setup")
        bad = await guest.form(
            "/teacher/setup", setup_code="nope", password="abcdefgh", again="abcdefgh"
        )
        assert bad.status_code == 400 and "setup code is wrong" in bad.text
        short = await guest.form(
            "/teacher/setup", setup_code=classroom.setup_code, password="abc", again="abc"
        )
        assert short.status_code == 400
        ok = await guest.form(
            "/teacher/setup", setup_code=classroom.setup_code, password="abcdefgh", again="abcdefgh"
        )
        assert ok.status_code == 303 and (await guest.client.get("/teacher")).status_code == 200
        # Once set, the setup page is gone.
        assert (await guest.client.get("/teacher/setup")).headers["location"] == "/teacher/login"
    finally:
        for browser in browsers:
            await browser.close()
        await classroom.stop()


@pytest.mark.parametrize("path", ["/teacher/rooms/999", "/teacher/rooms/999/progress.csv"])
async def test_a_room_that_does_not_exist_is_404(
    app: FastAPI, browsers: list[Browser], path: str
) -> None:
    t = await teacher(app, browsers)
    assert (await t.client.get(path)).status_code == 404
