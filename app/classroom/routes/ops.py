"""`/metrics` in Prometheus's text format."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from app.classroom.models import Room
from app.classroom.routes.deps import classroom_of

router = APIRouter()


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    classroom = classroom_of(request)
    token = classroom.settings.metrics_token
    if token and not hmac.compare_digest(
        request.headers.get("authorization", "").encode(), f"Bearer {token}".encode()
    ):
        return PlainTextResponse(
            "The metrics need the token set by DESCENT_METRICS_TOKEN: "
            "send it as 'Authorization: Bearer <token>'.",
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    def count_rooms() -> tuple[int, int]:
        with classroom.db.session() as db:
            total = db.scalar(select(func.count()).select_from(Room)) or 0
            closed = (
                db.scalar(select(func.count()).select_from(Room).where(Room.closed_at.is_not(None)))
                or 0
            )
        return total - closed, closed

    opened, closed = await run_in_threadpool(count_rooms)
    classroom.metrics.rooms.labels("open").set(opened)
    classroom.metrics.rooms.labels("closed").set(closed)
    classroom.kills.sweep()
    return Response(generate_latest(classroom.metrics.registry), media_type=CONTENT_TYPE_LATEST)
