"""Share links and a room's data over the classroom's routes (issue 14), on SQLite and
PostgreSQL: a link opens the snapshot for anyone and names nothing of the sharer; only the
sharer lists and revokes it; a teacher's dataset is parsed under the limits and reaches a
learner of the room; a bad file stores nothing."""

from __future__ import annotations

from fastapi import FastAPI

from app.classroom import datasets
from app.classroom.models_data import RoomData
from app.protocol import LessonSlug, RoomId
from classroom.kit import Browser, classroom_of, new_browser, room_with_learner

LESSON = "gradient-descent"


async def test_share_round_trip_and_revocation(app: FastAPI, browsers: list[Browser]) -> None:
    sharer = await new_browser(app, browsers, f"/lessons/{LESSON}")
    body = {"cells": {"descent": "w = 0.5"}, "values": {}, "train": {"descent": 40}}
    made = await sharer.api("POST", f"/api/share/{LESSON}", body)
    assert made.status_code == 201, made.text
    token = made.json()["id"]
    assert len(token) >= 20

    visitor = await new_browser(app, browsers, f"/lessons/{LESSON}")
    opened = await visitor.client.get(f"/s/{token}")
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/lessons/{LESSON}?share={token}"
    shot = (await visitor.client.get(f"/api/shared/{token}")).json()
    assert shot["train"] == {"descent": 40} and shot["lesson"] == LESSON
    assert "learner" not in str(shot).lower()

    assert (await visitor.client.get(f"/api/share/{LESSON}")).json()["links"] == []
    refused = await visitor.api("DELETE", f"/api/share/{LESSON}/{token}")
    assert refused.status_code == 404  # only the sharer may stop it
    listed = (await sharer.client.get(f"/api/share/{LESSON}")).json()["links"]
    assert [link["id"] for link in listed] == [token]
    assert (await sharer.api("DELETE", f"/api/share/{LESSON}/{token}")).status_code == 200
    assert (await visitor.client.get(f"/s/{token}")).status_code == 404
    assert (await visitor.client.get(f"/api/shared/{token}")).status_code == 404


async def test_a_link_carries_the_data_the_sharers_page_uses(
    app: FastAPI, browsers: list[Browser]
) -> None:
    sharer = await new_browser(app, browsers, f"/lessons/{LESSON}")
    visitor = await new_browser(app, browsers, f"/lessons/{LESSON}")

    async def shared(body: dict[str, object]) -> object:
        made = await sharer.api("POST", f"/api/share/{LESSON}", {"cells": {}, **body})
        assert made.status_code == 201, made.text
        return (await visitor.client.get(f"/api/shared/{made.json()['id']}")).json()["data"]

    # Rows the page uses without the server keeping them (a link's) go with the new link.
    rows = "x,y\n1,2\n2,4\n"
    assert await shared({"data_source": "yours", "data": rows}) == "x,y\n1.0,2.0\n2.0,4.0\n"
    # The page shows the lesson's (or the class's) data: none goes with the link.
    assert await shared({"data_source": "lesson", "data": rows}) is None
    assert await shared({"data_source": "room"}) is None
    # The learner keeps no data of their own: a link of theirs has none.
    assert await shared({}) is None
    # Rows that are not data are refused with words, and no link is made.
    bad = await sharer.api(
        "POST", f"/api/share/{LESSON}", {"data_source": "yours", "data": "x,y\n1,two\n"}
    )
    assert bad.status_code == 400 and "Row 2" in bad.json()["detail"], bad.text
    assert len((await sharer.client.get(f"/api/share/{LESSON}")).json()["links"]) == 4


async def test_a_rooms_data_reaches_its_learner_and_a_bad_file_stores_nothing(
    app: FastAPI, browsers: list[Browser]
) -> None:
    teacher, _learner, room_id, _code = await room_with_learner(app, browsers, lesson=LESSON)
    page = await teacher.page(f"/teacher/rooms/{room_id}/data")
    assert page.status_code == 200 and "Data for the class" in page.text
    bad = await teacher.form(f"/teacher/rooms/{room_id}/data", lesson=LESSON, rows="1,2\n3,x\n")
    assert bad.status_code == 400 and "Row 2, column y" in bad.text
    classroom = classroom_of(app)
    with classroom.db.session() as db:
        assert db.query(RoomData).count() == 0
    good = await teacher.form(
        f"/teacher/rooms/{room_id}/data", lesson=LESSON, rows="x,y\n1,10\n2,20\n3,30\n"
    )
    # Post, redirect, get: reloading the page it lands on never sends the form again.
    assert good.status_code == 303
    done = await teacher.client.get(good.headers["location"])
    assert done.status_code == 200 and "3 rows" in done.text
    odd = await teacher.page(f"/teacher/rooms/{room_id}/data?saved=no-such-lesson&rows=5")
    assert odd.status_code == 200 and "5 rows" not in odd.text
    # What a learner of the room starts from when their kernel opens the lesson.
    with classroom.db.session() as db:
        csv = datasets.room_data(db, RoomId(room_id), LessonSlug(LESSON))
    assert csv == "x,y\n1.0,10.0\n2.0,20.0\n3.0,30.0\n"
