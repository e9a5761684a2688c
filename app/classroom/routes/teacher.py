"""The teacher's pages: first-run setup, sign in and out, rooms (create, close, choose the
lesson of the landscape), the roster, a learner's code, restart and removal, CSV export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.classroom import accounts, progress, rooms, work
from app.classroom.export import progress_csv
from app.classroom.identity import TEACHER_COOKIE
from app.classroom.models import Member, Room
from app.classroom.passwords import MIN_LENGTH
from app.classroom.routes.deps import (
    check_form_csrf,
    classroom_of,
    is_teacher,
    require_teacher_api,
    teacher_token,
)
from app.classroom.signin_throttle import wait_words
from app.protocol import LearnerId, RoomId
from app.web.errors import NotFound
from app.web.pages import render

router = APIRouter()
LOGIN = "/teacher/login"


def to(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def room_or_404(request: Request, room_id: RoomId) -> Room:
    with classroom_of(request).db.session() as db:
        room = db.get(Room, room_id)
    if room is None:
        raise NotFound("There is no such room.")
    return room


def has_password(request: Request) -> bool:
    with classroom_of(request).db.session() as db:
        return accounts.teacher_hash(db) is not None


# ------------------------------------------------------------------ setup and sign-in


@router.get("/teacher/setup", response_class=HTMLResponse, response_model=None)
def setup_page(request: Request) -> Response:
    if has_password(request):
        return to(LOGIN)
    return render(request, "teacher/setup.html", error="")


@router.post("/teacher/setup", response_model=None)
def setup(
    request: Request,
    setup_code: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    again: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_form_csrf(request, csrf_token)
    classroom = classroom_of(request)
    if has_password(request):
        return to(LOGIN)
    error = ""
    if not classroom.setup_code or setup_code.strip() != classroom.setup_code:
        error = "The setup code is wrong. It is printed in the server's log at start."
    elif len(password) < MIN_LENGTH:
        error = f"Choose a password of at least {MIN_LENGTH} characters."
    elif password != again:
        error = "The two passwords differ."
    if error:
        return render(request, "teacher/setup.html", status=400, error=error)
    with classroom.db.session() as db:
        accounts.set_teacher_password(db, password)
    classroom.setup_code = None
    return sign_in(request)


@router.get("/teacher/login", response_class=HTMLResponse, response_model=None)
def login_page(request: Request) -> Response:
    if not has_password(request):
        return to("/teacher/setup")
    return render(request, "teacher/login.html", error="")


@router.post("/teacher/login", response_model=None)
def login(
    request: Request,
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_form_csrf(request, csrf_token)
    classroom = classroom_of(request)
    address = request.client.host if request.client else "unknown"
    wait = classroom.sign_in_throttle.wait(address)
    if wait > 0:
        response = render(request, "teacher/login.html", status=429, error=wait_words(wait))
        response.headers["Retry-After"] = str(int(wait + 0.999))
        return response
    with classroom.db.session() as db:
        ok = accounts.check_teacher_password(db, password)
    if not ok:
        classroom.sign_in_throttle.failed(address)
        return render(request, "teacher/login.html", status=401, error="Wrong password.")
    classroom.sign_in_throttle.succeeded(address)
    return sign_in(request)


def sign_in(request: Request) -> Response:
    classroom = classroom_of(request)
    hours = classroom.settings.teacher_session_h
    with classroom.db.session() as db:
        token = accounts.start_teacher_session(db, hours)
    response = to("/teacher")
    value = classroom.identity.teacher_cookie(token)
    response.headers.append(
        "set-cookie", classroom.identity.cookie_header(TEACHER_COOKIE, value, int(hours * 3600))
    )
    return response


@router.post("/teacher/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_form_csrf(request, csrf_token)
    classroom = classroom_of(request)
    token = teacher_token(request)
    if token:
        with classroom.db.session() as db:
            accounts.end_teacher_session(db, token)
    response = to(LOGIN)
    response.headers.append("set-cookie", classroom.identity.cookie_header(TEACHER_COOKIE, "", 0))
    return response


# ------------------------------------------------------------------ rooms


@router.get("/teacher", response_class=HTMLResponse, response_model=None)
def dashboard(request: Request) -> Response:
    if not is_teacher(request):
        return to(LOGIN)
    classroom = classroom_of(request)
    with classroom.db.session() as db:
        all_rooms = rooms.rooms(db)
    return render(
        request,
        "teacher/dashboard.html",
        rooms=all_rooms,
        lessons=classroom.catalogue.lessons,
        online={r.id: classroom.cluster.in_room(r.id) for r in all_rooms},
    )


@router.post("/teacher/rooms", response_model=None)
def create_room(
    request: Request,
    name: Annotated[str, Form()] = "",
    lesson: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_form_csrf(request, csrf_token)
    if not is_teacher(request):
        return to(LOGIN)
    classroom = classroom_of(request)
    chosen = classroom.catalogue.get(lesson) or classroom.catalogue.lessons[0]
    with classroom.db.session() as db:
        room = rooms.create_room(db, name, chosen.slug)
    return to(f"/teacher/rooms/{room.id}")


@router.get("/teacher/rooms/{room_id}", response_class=HTMLResponse, response_model=None)
def room_page(request: Request, room_id: RoomId, lesson: str = "") -> Response:
    if not is_teacher(request):
        return to(LOGIN)
    classroom = classroom_of(request)
    room = room_or_404(request, room_id)
    shown = lesson if classroom.catalogue.get(lesson) else room.lesson
    with classroom.db.session() as db:
        rows = progress.roster(db, classroom.catalogue, room.id, classroom.cluster.online(room.id))
    return render(
        request,
        "teacher/room.html",
        room=room,
        rows=rows,
        lessons=classroom.catalogue.lessons,
        shown=shown,
        join_url=str(request.url_for("join_link", code=room.code)),
    )


@router.post("/teacher/rooms/{room_id}/close")
def close_room(
    request: Request, room_id: RoomId, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_form_csrf(request, csrf_token)
    if not is_teacher(request):
        return to(LOGIN)
    room_or_404(request, room_id)
    with classroom_of(request).db.session() as db:
        rooms.close_room(db, room_id)
    return to(f"/teacher/rooms/{room_id}")


@router.post("/teacher/rooms/{room_id}/lesson")
def room_lesson(
    request: Request,
    room_id: RoomId,
    lesson: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_form_csrf(request, csrf_token)
    if not is_teacher(request):
        return to(LOGIN)
    room_or_404(request, room_id)
    classroom = classroom_of(request)
    chosen = classroom.catalogue.get(lesson)
    if chosen is not None:
        with classroom.db.session() as db:
            rooms.set_room_lesson(db, room_id, chosen.slug)
    return to(f"/teacher/rooms/{room_id}")


@router.get("/teacher/rooms/{room_id}/progress.csv", response_model=None)
def export(request: Request, room_id: RoomId) -> Response:
    if not is_teacher(request):
        return to(LOGIN)
    classroom = classroom_of(request)
    room = room_or_404(request, room_id)
    with classroom.db.session() as db:
        rows = progress.roster(db, classroom.catalogue, room.id, {})
    filename = f"descent-{room.code}-progress.csv"
    return Response(
        progress_csv(classroom.catalogue, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/api/teacher/rooms/{room_id}/roster")
def roster_api(request: Request, room_id: RoomId) -> JSONResponse:
    require_teacher_api(request)
    classroom = classroom_of(request)
    room = room_or_404(request, room_id)
    with classroom.db.session() as db:
        rows = progress.roster(db, classroom.catalogue, room.id, classroom.cluster.online(room.id))
    return JSONResponse(
        {
            "room": {"id": room.id, "code": room.code, "closed": room.closed_at is not None},
            "lessons": progress.lessons_json(classroom.catalogue),
            "learners": progress.roster_json(rows),
        },
        headers={"Cache-Control": "no-store"},
    )


# ------------------------------------------------------------------ one learner


def member_or_404(request: Request, room_id: RoomId, learner: LearnerId) -> Member:
    with classroom_of(request).db.session() as db:
        found = rooms.member(db, room_id, learner)
    if found is None:
        raise NotFound("This learner is not in this room.")
    return found


@router.get("/teacher/rooms/{room_id}/learners/{learner}", response_model=None)
def learner_code(request: Request, room_id: RoomId, learner: LearnerId) -> Response:
    if not is_teacher(request):
        return to(LOGIN)
    classroom = classroom_of(request)
    room = room_or_404(request, room_id)
    found = member_or_404(request, room_id, learner)
    with classroom.db.session() as db:
        cells = work.saved_cells(db, learner)
    titles = {lesson.slug: lesson.title for lesson in classroom.catalogue.lessons}
    return render(
        request,
        "teacher/learner.html",
        room=room,
        member=found,
        cells=cells,
        titles=titles,
        online=classroom.cluster.online(room.id).get(learner),
    )


@router.post("/teacher/rooms/{room_id}/learners/{learner}/remove")
async def remove_learner(
    request: Request, room_id: RoomId, learner: LearnerId, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_form_csrf(request, csrf_token)
    if not await run_in_threadpool(is_teacher, request):
        return to(LOGIN)
    await run_in_threadpool(room_or_404, request, room_id)
    classroom = classroom_of(request)

    def remove() -> bool:
        with classroom.db.session() as db:
            return rooms.remove_member(db, room_id, learner)

    if not await run_in_threadpool(remove):
        raise NotFound("This learner is not in this room.")
    await classroom.remove_learner(room_id, learner)  # on every replica
    return to(f"/teacher/rooms/{room_id}")


@router.post("/teacher/rooms/{room_id}/learners/{learner}/restart")
async def restart_kernel(
    request: Request, room_id: RoomId, learner: LearnerId, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_form_csrf(request, csrf_token)
    if not await run_in_threadpool(is_teacher, request):
        return to(LOGIN)
    await run_in_threadpool(member_or_404, request, room_id, learner)
    count = await classroom_of(request).restart_learner(learner)
    if request.headers.get("accept", "").startswith("application/json"):
        return JSONResponse({"restarted": count})
    return to(f"/teacher/rooms/{room_id}/learners/{learner}")
