"""The saved-work API of lesson pages: load a learner's code and results, save one cell.

A save names the version it was based on; if another tab saved since, the answer is 409 with
the code that won, and the page lets the learner choose. Each save is committed before the
answer, so it survives a crash of the server."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.classroom import rooms, work
from app.classroom.routes.deps import check_api_csrf, classroom_of, require_learner
from app.content.model import Lesson
from app.protocol import CellId

router = APIRouter()


class CellSave(BaseModel):
    code: str
    version: int = Field(ge=0)


def lesson_or_404(request: Request, slug: str) -> Lesson:
    lesson = classroom_of(request).catalogue.get(slug)
    if lesson is None:
        raise HTTPException(404, f"There is no lesson called {slug!r}.")
    return lesson


@router.get("/api/work/{slug}")
def load_work(request: Request, slug: str) -> JSONResponse:
    learner = require_learner(request)
    lesson = lesson_or_404(request, slug)
    with classroom_of(request).db.session() as db:
        cells = work.saved_cells(db, learner, lesson.slug)
        results = work.exercise_results(db, [learner])
        membership = rooms.current_membership(db, learner)
    room: dict[str, Any] | None = None
    notice = ""
    if membership and membership.ended == "removed":
        notice = (
            f"Your teacher removed you from the class “{membership.room_name}”. Your work is "
            "saved, and you can go on on your own."
        )
    elif membership and membership.closed:
        notice = (
            f"Your teacher closed the class “{membership.room_name}”. Your work is saved, and "
            "you can go on on your own."
        )
    elif membership:
        room = {
            "name": membership.room_name,
            "code": membership.room_code,
            "you": membership.display_name,
        }
    return JSONResponse(
        {
            "cells": {
                c.cell: {"code": c.code, "version": c.version}
                for c in cells
                if c.cell in lesson.cells and lesson.cells[c.cell].editable
            },
            "exercises": {r.exercise: r.passed for r in results if r.lesson == slug},
            "room": room,
            "notice": notice,
        },
        headers={"Cache-Control": "no-store"},
    )


@router.put("/api/work/{slug}/cells/{cell}")
def save_cell(request: Request, slug: str, cell: CellId, body: CellSave) -> JSONResponse:
    check_api_csrf(request)
    learner = require_learner(request)
    lesson = lesson_or_404(request, slug)
    spec = lesson.cells.get(cell)
    if spec is None or not spec.editable:
        raise HTTPException(400, f"Cell {cell!r} of this lesson cannot be edited.")
    classroom = classroom_of(request)
    limit = classroom.settings.saved_code_kb * 1024
    if len(body.code.encode()) > limit:
        raise HTTPException(
            413,
            f"This code is longer than {classroom.settings.saved_code_kb} KB and was not saved.",
        )
    with classroom.db.session() as db:
        saved = work.save_cell(db, learner, lesson.slug, cell, body.code, body.version)
    classroom.metrics.saves.labels("ok" if saved.ok else "conflict").inc()
    if not saved.ok:
        return JSONResponse(
            {
                "detail": "This cell was changed in another tab or browser since you loaded it.",
                "code": saved.code,
                "version": saved.version,
            },
            status_code=409,
        )
    return JSONResponse({"version": saved.version})
