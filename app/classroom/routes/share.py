"""Share links: make one (POST), list and revoke one's own (GET, DELETE), and open one
(`/s/<id>`: the lesson page, which loads the snapshot as the visitor's own copy)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from app.classroom import datasets, shares
from app.classroom.routes.deps import check_api_csrf, classroom_of, require_learner
from app.classroom.routes.work import lesson_or_404
from app.content.datacsv import BadCsv
from app.web.errors import NotFound

router = APIRouter()
GONE = "This link does not work: it was stopped by the person who shared it, or never existed."


class ShareGone(NotFound):
    """A share link that was stopped (or never was): a page that says so, not a bare 404."""

    title = "This lesson is no longer shared"


class ShareRequest(BaseModel):
    cells: dict[str, str] = Field(default_factory=dict, max_length=64)
    values: dict[str, float] = Field(default_factory=dict, max_length=64)
    train: dict[str, int] = Field(default_factory=dict, max_length=16)
    #: Whose data the page uses: the learner's own (kept by the server, or `data` when the page
    #: uses data it did not keep, such as a share link's), or the lesson's or class's (none
    #: goes with the link).
    data_source: Literal["yours", "lesson", "room"] = "yours"
    data: str | None = Field(None, max_length=1 << 22)  # checked like any learner's data


def _link(request: Request, token: str) -> str:
    return str(request.url_for("open_share", token=token))


@router.post("/api/share/{slug}")
def make_share(request: Request, slug: str, body: ShareRequest) -> JSONResponse:
    check_api_csrf(request)
    learner = require_learner(request)
    lesson = lesson_or_404(request, slug)
    classroom = classroom_of(request)
    with classroom.db.session() as db:
        data = None
        if lesson.data is not None and body.data_source == "yours":
            data = body.data
            if data is None:
                data = datasets.learner_data(db, learner, lesson.slug)
        try:
            shot = shares.snapshot(
                lesson, body.cells, body.values, body.train, data, classroom.settings
            )
        except shares.ShareRefused as err:
            raise HTTPException(413, str(err)) from None
        except BadCsv as err:  # rows the page sent that are not this lesson's kind of data
            raise HTTPException(400, str(err)) from None
        token = shares.create(db, learner, lesson.slug, shot)
    return JSONResponse({"id": token, "url": _link(request, token)}, status_code=201)


@router.get("/api/share/{slug}")
def my_shares(request: Request, slug: str) -> JSONResponse:
    learner = require_learner(request)
    lesson = lesson_or_404(request, slug)
    with classroom_of(request).db.session() as db:
        rows = shares.mine(db, learner, lesson.slug)
    links = [
        {"id": r.id, "url": _link(request, r.id), "created": r.created_at.isoformat()} for r in rows
    ]
    return JSONResponse({"links": links}, headers={"Cache-Control": "no-store"})


@router.delete("/api/share/{slug}/{token}")
def stop_share(request: Request, slug: str, token: str) -> JSONResponse:
    check_api_csrf(request)
    learner = require_learner(request)
    with classroom_of(request).db.session() as db:
        if not shares.revoke(db, learner, token):
            raise HTTPException(404, "There is no such link of yours.")
    return JSONResponse({"stopped": token})


@router.get("/api/shared/{token}")
def shared_snapshot(request: Request, token: str) -> JSONResponse:
    """The snapshot behind a link, for the page that opens it (nothing about the sharer)."""
    with classroom_of(request).db.session() as db:
        found = shares.opened(db, token)
    if found is None:
        raise HTTPException(404, GONE)
    lesson, shot = found
    return JSONResponse({"lesson": lesson, **shot}, headers={"Cache-Control": "no-store"})


@router.get("/s/{token}", name="open_share")
def open_share(request: Request, token: str) -> RedirectResponse:
    with classroom_of(request).db.session() as db:
        found = shares.opened(db, token)
    if found is None:
        raise ShareGone(GONE)
    return RedirectResponse(f"/lessons/{found[0]}?share={token}", status_code=303)
