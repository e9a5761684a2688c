"""The web layer's part of the app: the FastAPI app over given services, with the pages, the
lesson WebSocket, the error pages and a lifespan that starts the supervisor and the classroom.
`app.server.create_app` builds the services and calls `build_app`."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.config import ROOT
from app.plots.base import TrainablePlotKind
from app.plots.registry import plot_kind
from app.web import pages, socket
from app.web.assets import asset_url
from app.web.drain import Drain, DrainTraffic
from app.web.errors import NotFound, PageError
from app.web.services import Services

log = logging.getLogger("descent")


def make_templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(ROOT / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["asset"] = asset_url
    env.globals["trainable"] = lambda kind: isinstance(plot_kind(kind), TrainablePlotKind)
    return env


def build_app(services: Services) -> FastAPI:
    """The app over `services`; its lifespan starts and stops the supervisor and the classroom."""
    supervisor, classroom = services.supervisor, services.classroom

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if supervisor.refused:
            log.error("learner code is refused: %s", supervisor.refused)
        elif not supervisor.layers.complete:
            log.warning("weak sandbox: missing %s", ", ".join(supervisor.layers.missing))
        await supervisor.start()
        if classroom is not None:
            await classroom.start()
        # Everything loaded at start lives as long as the server: keep it out of the collector's
        # full passes, which otherwise stall the event loop for tens of milliseconds.
        gc.collect()
        gc.freeze()
        yield
        if classroom is not None:
            await classroom.stop()  # pending saves are written before the kernels go
        await supervisor.stop()

    app = FastAPI(title="Descent", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.services = services
    app.state.drain = drain = Drain()  # SIGTERM starts it (app/__main__.py)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(DrainTraffic, drain=drain)
    app.include_router(pages.router)
    app.include_router(socket.router)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        # Said in words, without echoing the input back: it may be bytes that are not text.
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
            for e in exc.errors()[:5]
        )
        return JSONResponse(
            {"detail": f"This request is not understood: {problems}"}, status_code=422
        )

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


__all__ = ["build_app", "make_templates"]
