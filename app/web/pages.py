"""HTML pages and JSON endpoints: the index, lessons, health and the catalogue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from app.content.datacsv import BadCsv, read_normalised
from app.content.model import Catalogue
from app.content.notebook import notebook_bytes
from app.web.assets import FULL_PLOTLY, plotly_bundle, serve_asset
from app.web.drain import drain_of
from app.web.errors import NotFound
from app.web.services import services_of

router = APIRouter()


def catalogue_of(request: Request) -> Catalogue:
    return services_of(request).catalogue


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    env = services_of(request).templates
    html = env.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status)


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    return render(request, "index.html", tracks=catalogue_of(request).by_track())


@router.get("/lessons/{slug}", response_class=HTMLResponse)
async def lesson_page(request: Request, slug: str) -> HTMLResponse:
    catalogue = catalogue_of(request)
    lesson = catalogue.get(slug)
    if lesson is None:
        raise NotFound(f"There is no lesson called “{slug}”.")
    prev, nxt = catalogue.neighbours(slug)
    page_data = {
        "slug": lesson.slug,
        "cells": {cid: {"code": c.code, "editable": c.editable} for cid, c in lesson.cells.items()},
        "sliders": {name: {"min": s.min, "max": s.max} for name, s in lesson.sliders.items()},
        "plots": {pid: p.kind for pid, p in lesson.plots.items()},
    }
    # ?plotly=full loads the whole plotly.js instead (bench/bench_page.py compares the two).
    full = request.query_params.get("plotly") == "full"
    plotly_js = FULL_PLOTLY if full else plotly_bundle(p.kind for p in lesson.plots.values())
    return render(
        request,
        "lesson.html",
        lesson=lesson,
        prev=prev,
        next=nxt,
        page_data=page_data,
        plotly_js=plotly_js,
    )


class NotebookRequest(BaseModel):
    cells: dict[str, str] = {}
    #: The learner's own data as the server keeps it (normalised CSV), or None.
    data: str | None = None


@router.post("/lessons/{slug}/notebook")
async def export_notebook(request: Request, slug: str, body: NotebookRequest) -> Response:
    """The lesson as a Jupyter notebook, with the code the page sends (the learner's edits)."""
    lesson = catalogue_of(request).get(slug)
    if lesson is None:
        raise NotFound(f"There is no lesson called “{slug}”.")
    if sum(len(c) for c in body.cells.values()) > 1_000_000:
        return JSONResponse({"detail": "too much code"}, status_code=413)
    rows = None
    if body.data and lesson.data:
        settings = services_of(request).settings
        try:
            most = 8 * settings.data_max_kb * 1024  # normalised text: up to 8x the file
            rows = read_normalised(body.data, lesson.data.columns, settings.data_max_rows, most)
        except BadCsv as err:
            return JSONResponse({"detail": str(err)}, status_code=400)
    return Response(
        notebook_bytes(lesson, body.cells, rows),
        media_type="application/x-ipynb+json",
        headers={"Content-Disposition": f'attachment; filename="{lesson.slug}.ipynb"'},
    )


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 while this replica takes learners; 503 `draining` once SIGTERM started its drain (the
    balancer's and Kubernetes' readiness checks send new learners elsewhere)."""
    supervisor = services_of(request).supervisor
    draining = drain_of(request).draining
    return JSONResponse(
        {
            "status": "draining" if draining else "ok",
            "lessons": len(catalogue_of(request).lessons),
            "kernels": len(supervisor.live),
            "sandbox": "refused"
            if supervisor.refused
            else ("strict" if supervisor.layers.complete else "weak"),
            "missing_layers": supervisor.layers.missing,
            "layer_problems": supervisor.layers.problems,
        },
        status_code=503 if draining else 200,
    )


@router.get("/api/lessons")
async def api_lessons(request: Request) -> JSONResponse:
    return JSONResponse(
        [
            {
                "slug": lesson.slug,
                "title": lesson.title,
                "track": lesson.track,
                "order": lesson.order,
                "summary": lesson.summary,
                "url": f"/lessons/{lesson.slug}",
                "sliders": list(lesson.sliders),
                "cells": list(lesson.cells),
                "plots": {pid: p.kind for pid, p in lesson.plots.items()},
                "exercises": list(lesson.exercises),
            }
            for lesson in catalogue_of(request).lessons
        ]
    )


@router.get("/assets/{hash_}/{name:path}")
async def asset(request: Request, hash_: str, name: str) -> Response:
    return serve_asset(hash_, name, request.headers.get("accept-encoding", ""))
