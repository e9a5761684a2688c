"""The classroom inside a web app: its routes, its learner-cookie and request-timing
middleware, and the template helper that puts the CSRF token in every form."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from jinja2 import Environment

from app.classroom.classroom import Classroom
from app.classroom.db import Unstorable
from app.classroom.metrics import RequestTimer
from app.classroom.middleware import LearnerCookies
from app.classroom.routes import data, learner, live, ops, share, teacher, work


async def unstorable(request: Request, exc: Exception) -> Response:
    """A value the database cannot store (NUL, a lone surrogate, a huge number): 400 in words,
    the same on SQLite and PostgreSQL; nothing of the request was stored."""
    words = f"{exc} Nothing was saved."
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": words}, status_code=400)
    return PlainTextResponse(words, status_code=400)


def install_classroom(app: FastAPI, classroom: Classroom, templates: Environment) -> None:
    for module in (learner, work, teacher, live, ops, data, share):
        app.include_router(module.router)
    app.add_exception_handler(Unstorable, unstorable)
    app.add_middleware(LearnerCookies, identity=classroom.identity)
    app.add_middleware(RequestTimer, metrics=classroom.metrics)
    templates.globals["csrf_token"] = classroom.csrf_for
