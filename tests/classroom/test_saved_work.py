"""Saved work on SQLite and PostgreSQL: a learner's code comes back, two tabs never overwrite
each other silently, and nobody else can read or change it."""

from __future__ import annotations

from fastapi import FastAPI

from classroom.kit import Browser, new_browser

LESSON = "the-loss-landscape"
CELL = f"/api/work/{LESSON}/cells/loss"


async def test_saved_code_comes_back_on_reload(app: FastAPI, browsers: list[Browser]) -> None:
    me = await new_browser(app, browsers, f"/lessons/{LESSON}")
    first = await me.api("PUT", CELL, {"code": "data = []", "version": 0})
    assert first.status_code == 200 and first.json() == {"version": 1}
    second = await me.api("PUT", CELL, {"code": "data = [(1, 2)]", "version": 1})
    assert second.json() == {"version": 2}

    work = (await me.client.get(f"/api/work/{LESSON}")).json()
    assert work["cells"] == {"loss": {"code": "data = [(1, 2)]", "version": 2}}


async def test_a_stale_save_from_a_second_tab_gets_409_with_the_winning_code(
    app: FastAPI, browsers: list[Browser]
) -> None:
    tab = await new_browser(app, browsers, f"/lessons/{LESSON}")
    assert (await tab.api("PUT", CELL, {"code": "v1", "version": 0})).status_code == 200
    # Both tabs loaded version 1; the first saves, then the second saves from version 1 too.
    assert (await tab.api("PUT", CELL, {"code": "from tab A", "version": 1})).status_code == 200
    stale = await tab.api("PUT", CELL, {"code": "from tab B", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["code"] == "from tab A" and stale.json()["version"] == 2
    assert "another tab" in stale.json()["detail"]
    # The learner chooses to keep tab B's text: it is saved on top of the version that won.
    kept = await tab.api("PUT", CELL, {"code": "from tab B", "version": 2})
    assert kept.json() == {"version": 3}


async def test_two_first_saves_of_a_cell_conflict_too(
    app: FastAPI, browsers: list[Browser]
) -> None:
    tab = await new_browser(app, browsers, f"/lessons/{LESSON}")
    assert (await tab.api("PUT", CELL, {"code": "A", "version": 0})).status_code == 200
    assert (await tab.api("PUT", CELL, {"code": "B", "version": 0})).status_code == 409


async def test_a_retried_save_of_the_same_text_is_not_a_conflict(
    app: FastAPI, browsers: list[Browser]
) -> None:
    tab = await new_browser(app, browsers, f"/lessons/{LESSON}")
    await tab.api("PUT", CELL, {"code": "same", "version": 0})
    again = await tab.api("PUT", CELL, {"code": "same", "version": 0})
    assert again.status_code == 200 and again.json() == {"version": 1}


async def test_a_learner_never_sees_another_learners_code(
    app: FastAPI, browsers: list[Browser]
) -> None:
    ada = await new_browser(app, browsers, f"/lessons/{LESSON}")
    await ada.api("PUT", CELL, {"code": "secret = 42", "version": 0})
    bob = await new_browser(app, browsers, f"/lessons/{LESSON}")
    assert (await bob.client.get(f"/api/work/{LESSON}")).json()["cells"] == {}
    # Bob saving the same cell writes his own copy, never Ada's.
    assert (await bob.api("PUT", CELL, {"code": "mine", "version": 0})).status_code == 200
    assert (await ada.client.get(f"/api/work/{LESSON}")).json()["cells"]["loss"]["code"] == (
        "secret = 42"
    )


async def test_a_forged_or_missing_cookie_reaches_no_work(
    app: FastAPI, browsers: list[Browser]
) -> None:
    ada = await new_browser(app, browsers, f"/lessons/{LESSON}")
    await ada.api("PUT", CELL, {"code": "secret = 42", "version": 0})
    learner = ada.client.cookies["descent_learner"]
    ident = learner.split(".")[0]
    stranger = await new_browser(app, browsers, "/healthz")  # no page load: no cookie
    assert (await stranger.client.get(f"/api/work/{LESSON}")).status_code == 401
    for forged in (ident, f"{ident}.AAAAAAAAAAAAAAAAAAAAAAAAAAA", f"{ident}.{learner[::-1]}"):
        stranger.client.cookies.set("descent_learner", forged)
        resp = await stranger.client.get(f"/api/work/{LESSON}")
        assert resp.status_code == 401, forged


async def test_a_save_without_the_pages_csrf_token_is_refused(
    app: FastAPI, browsers: list[Browser]
) -> None:
    me = await new_browser(app, browsers, f"/lessons/{LESSON}")
    other = await new_browser(app, browsers, f"/lessons/{LESSON}")
    no_token = await me.client.put(CELL, json={"code": "x", "version": 0})
    assert no_token.status_code == 403
    someone_elses = await me.client.put(
        CELL, json={"code": "x", "version": 0}, headers={"x-csrf-token": other.csrf}
    )
    assert someone_elses.status_code == 403
    assert (await me.client.get(f"/api/work/{LESSON}")).json()["cells"] == {}


async def test_cells_that_cannot_be_saved_say_why(app: FastAPI, browsers: list[Browser]) -> None:
    me = await new_browser(app, browsers, "/lessons/the-line")
    fixed = await me.api("PUT", "/api/work/the-line/cells/model", {"code": "x", "version": 0})
    assert fixed.status_code == 400 and "cannot be edited" in fixed.json()["detail"]
    missing = await me.api("PUT", "/api/work/no-such/cells/x", {"code": "x", "version": 0})
    assert missing.status_code == 404
    huge = await me.api("PUT", CELL, {"code": "#" * (65 * 1024), "version": 0})
    assert huge.status_code == 413 and "64 KB" in huge.json()["detail"]


async def test_the_resume_link_takes_the_work_to_another_browser(
    app: FastAPI, browsers: list[Browser]
) -> None:
    home = await new_browser(app, browsers, f"/lessons/{LESSON}")
    await home.api("PUT", CELL, {"code": "my work", "version": 0})
    link = (await home.api("POST", "/api/me/resume-link")).json()["url"]
    path = link.removeprefix("http://testserver")

    school = await new_browser(app, browsers, "/")
    assert (await school.client.get(f"/api/work/{LESSON}")).json()["cells"] == {}
    confirm = await school.page(path)
    assert confirm.status_code == 200 and "Continue my work here" in confirm.text
    moved = await school.form(path)
    assert moved.status_code == 303
    work = (await school.client.get(f"/api/work/{LESSON}")).json()
    assert work["cells"]["loss"]["code"] == "my work"
    # A newer link replaces the old one.
    await home.api("POST", "/api/me/resume-link")
    assert (await school.client.get(path)).status_code == 404


async def test_the_resume_link_needs_the_confirmation_form(
    app: FastAPI, browsers: list[Browser]
) -> None:
    home = await new_browser(app, browsers, f"/lessons/{LESSON}")
    path = (
        (await home.api("POST", "/api/me/resume-link"))
        .json()["url"]
        .removeprefix("http://testserver")
    )
    attacker_page = await new_browser(app, browsers, "/")
    resp = await attacker_page.client.post(path, data={"csrf_token": "forged"})
    assert resp.status_code == 400
