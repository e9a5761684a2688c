"""A learner's own data as the server keeps it (for the notebook export), and the teacher's
data for a lesson of a room: a form that takes a CSV file or pasted rows.

The teacher's file is parsed in the web process by the same parser the kernels use
(app/kernel/dataset.py), under the same limits: at most `DESCENT_DATA_MAX_KB` is read from the
upload before parsing, at most `DESCENT_DATA_MAX_ROWS` rows are taken, and the parser only
splits text and reads numbers with float(); it never evaluates anything of the file. The file
comes from the signed-in teacher, and a kernel would need a lesson session to run in."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.classroom import datasets
from app.classroom.routes.deps import check_form_csrf, classroom_of, is_teacher, require_learner
from app.classroom.routes.teacher import room_or_404
from app.classroom.routes.work import lesson_or_404
from app.content.datacsv import BadCsv
from app.content.model import Lesson
from app.kernel.bound_data import normalised_csv
from app.kernel.dataset import DataError, parse
from app.protocol import RoomId
from app.web.pages import render

router = APIRouter()


@router.get("/api/data/{slug}")
def my_data(request: Request, slug: str) -> JSONResponse:
    """The learner's own data for a lesson (normalised CSV), or null."""
    learner = require_learner(request)
    lesson = lesson_or_404(request, slug)
    with classroom_of(request).db.session() as db:
        csv = datasets.learner_data(db, learner, lesson.slug)
    return JSONResponse({"csv": csv}, headers={"Cache-Control": "no-store"})


def _data_lessons(request: Request) -> list[Lesson]:
    return [lesson for lesson in classroom_of(request).catalogue.lessons if lesson.data]


def _page(request: Request, room_id: RoomId, message: str = "", status: int = 200) -> Response:
    room = room_or_404(request, room_id)
    with classroom_of(request).db.session() as db:
        chosen = datasets.room_datasets(db, room.id)
    settings = classroom_of(request).settings
    return render(
        request,
        "teacher/room_data.html",
        status=status,
        room=room,
        lessons=_data_lessons(request),
        chosen=chosen,
        message=message,
        ok=status < 400,
        max_kb=settings.data_max_kb,
        max_rows=settings.data_max_rows,
    )


@router.get("/teacher/rooms/{room_id}/data", response_model=None)
def room_data_page(
    request: Request, room_id: RoomId, saved: str = "", rows: int = 0, cleared: str = ""
) -> Response:
    """The form; after a change, the words that say what it did (the POST redirects here, so
    reloading the page never sends the form again)."""
    if not is_teacher(request):
        return RedirectResponse("/teacher/login", status_code=303)
    return _page(request, room_id, _done(request, saved, rows, cleared))


def _done(request: Request, saved: str, rows: int, cleared: str) -> str:
    """What the last change did, in words, from the redirect's query (named lessons only)."""
    catalogue = classroom_of(request).catalogue
    if (lesson := catalogue.get(cleared)) is not None:
        return f"{lesson.title}: back to the lesson's own data."
    if (lesson := catalogue.get(saved)) is not None and rows > 0:
        return (
            f"{lesson.title}: every learner of this room now starts from your {rows:,} rows "
            "(unless they load their own)."
        )
    return ""


def _after(room_id: RoomId, **query: str | int) -> RedirectResponse:
    """Post, redirect, get: the page that says what was done, at its own address."""
    return RedirectResponse(f"/teacher/rooms/{room_id}/data?{urlencode(query)}", status_code=303)


def _parsed(lesson: Lesson, raw: bytes, max_rows: int, max_bytes: int) -> str:
    assert lesson.data is not None
    columns = list(lesson.data.columns)
    data, _header = parse(raw, columns, max_rows, max_bytes)
    return normalised_csv(data, columns)


@router.post("/teacher/rooms/{room_id}/data", response_model=None)
async def set_room_data(
    request: Request,
    room_id: RoomId,
    lesson: Annotated[str, Form()] = "",
    rows: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Annotated[str, Form()] = "",
    clear: Annotated[str, Form()] = "",
) -> Response:
    check_form_csrf(request, csrf_token)
    if not is_teacher(request):
        return RedirectResponse("/teacher/login", status_code=303)
    classroom = classroom_of(request)
    chosen = classroom.catalogue.get(lesson)
    if chosen is None or chosen.data is None:
        raise HTTPException(400, "Choose a lesson that has data of its own.")
    if clear:

        def drop() -> None:
            with classroom.db.session() as db:
                datasets.drop_room_data(db, room_id, chosen.slug)

        await run_in_threadpool(drop)
        return _after(room_id, cleared=chosen.slug)
    settings = classroom.settings
    max_bytes = settings.data_max_kb * 1024
    raw = await file.read(max_bytes + 1) if file is not None and file.filename else b""
    if not raw:
        raw = rows.encode("utf-8")
    try:
        csv = await run_in_threadpool(_parsed, chosen, raw, settings.data_max_rows, max_bytes)
    except DataError as err:
        return _page(request, room_id, f"{chosen.title}: not used. {err}", status=400)

    def save() -> int:
        with classroom.db.session() as db:
            return datasets.save_room_data(db, room_id, chosen, csv, settings)

    try:
        count = await run_in_threadpool(save)
    except BadCsv as err:
        return _page(request, room_id, f"{chosen.title}: not used. {err}", status=400)
    return _after(room_id, saved=chosen.slug, rows=count)
