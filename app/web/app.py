"""The application factory: `create_app(settings)` builds one server with its own state."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.classroom.classroom import Classroom
from app.config import ROOT, Settings
from app.content.loader import load_catalogue
from app.content.model import Catalogue
from app.supervisor import Supervisor
from app.web import pages, socket
from app.web.assets import REQUIRED, asset_url, check_assets
from app.web.errors import NotFound, PageError

log = logging.getLogger("descent")


def make_templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(ROOT / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["asset"] = asset_url
    return env


def create_app(settings: Settings, catalogue: Catalogue | None = None) -> FastAPI:
    """Build the app; a broken lesson raises LessonError here, before the server listens."""
    catalogue = catalogue or load_catalogue(settings.lessons_dir)
    check_assets(REQUIRED)
    supervisor = Supervisor(settings)
    classroom = Classroom(settings, supervisor, catalogue)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if supervisor.refused:
            log.error("learner code is refused: %s", supervisor.refused)
        elif not supervisor.layers.complete:
            log.warning("weak sandbox: missing %s", ", ".join(supervisor.layers.missing))
        await supervisor.start()
        await classroom.start()
        # Everything loaded at start lives as long as the server: keep it out of the collector's
        # full passes, which otherwise stall the event loop for tens of milliseconds.
        gc.collect()
        gc.freeze()
        yield
        await classroom.stop()  # pending saves are written before the kernels go
        await supervisor.stop()

    app = FastAPI(title="Descent", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.catalogue = catalogue
    app.state.supervisor = supervisor
    app.state.templates = make_templates()
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.include_router(pages.router)
    app.include_router(socket.router)
    app.state.classroom = classroom
    classroom.install(app)  # its routes, cookie and timing middleware, template helpers

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        return pages.render(request, "error.html", status=exc.status, error=exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(("/api/", "/assets/")):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        error = (
            NotFound("There is nothing at this address.")
            if exc.status_code == 404
            else PageError(str(exc.detail))
        )
        return pages.render(request, "error.html", status=exc.status_code, error=error)

    return app


__all__ = ["create_app"]
