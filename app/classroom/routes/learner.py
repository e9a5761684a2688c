"""Learner pages: join a room with its code and a name; take one's work to another browser
with the private resume link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from app.classroom import accounts, rooms
from app.classroom.identity import LEARNER_COOKIE, LEARNER_MAX_AGE
from app.classroom.routes.deps import (
    check_api_csrf,
    check_form_csrf,
    classroom_of,
    require_learner,
)
from app.web.errors import NotFound
from app.web.pages import render

router = APIRouter()


@router.get("/join", response_class=HTMLResponse)
def join_page(request: Request, code: str = "") -> HTMLResponse:
    return render(request, "classroom/join.html", code=rooms.normal_code(code), name="", error="")


@router.get("/join/{code}")
def join_link(code: str) -> RedirectResponse:
    return RedirectResponse(f"/join?code={rooms.normal_code(code)}", status_code=303)


@router.post("/join", response_model=None)
def join(
    request: Request,
    code: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_form_csrf(request, csrf_token)
    learner = require_learner(request)
    classroom = classroom_of(request)
    try:
        with classroom.db.session() as db:
            room = rooms.join(db, code, learner, name)
    except rooms.JoinRefused as err:
        return render(
            request, "classroom/join.html", status=400, code=code, name=name, error=str(err)
        )
    return RedirectResponse(f"/lessons/{room.lesson}", status_code=303)


@router.post("/api/me/resume-link")
def resume_link(request: Request) -> JSONResponse:
    check_api_csrf(request)
    learner = require_learner(request)
    with classroom_of(request).db.session() as db:
        token = accounts.new_resume_token(db, learner)
    return JSONResponse({"url": str(request.url_for("resume_page", token=token))})


@router.get("/resume/{token}", response_class=HTMLResponse)
def resume_page(request: Request, token: str) -> HTMLResponse:
    with classroom_of(request).db.session() as db:
        found = accounts.learner_by_resume_token(db, token)
    if found is None:
        raise NotFound("This resume link is not valid (a newer one may have replaced it).")
    return render(request, "classroom/resume.html", token=token)


@router.post("/resume/{token}")
def resume(request: Request, token: str, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_form_csrf(request, csrf_token)
    classroom = classroom_of(request)
    with classroom.db.session() as db:
        found = accounts.learner_by_resume_token(db, token)
    if found is None:
        raise NotFound("This resume link is not valid (a newer one may have replaced it).")
    response = RedirectResponse("/", status_code=303)
    cookie = classroom.identity.cookie_header(
        LEARNER_COOKIE, classroom.identity.learner_cookie(found), LEARNER_MAX_AGE
    )
    response.headers.append("set-cookie", cookie)
    return response
