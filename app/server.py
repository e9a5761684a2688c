"""The application factory: `create_app(settings)` builds one server with its own services. It
is the one place that knows every layer: the lessons, the supervisor, the web layer, and the
classroom plugged into it."""

from __future__ import annotations

from fastapi import FastAPI

from app.classroom.classroom import Classroom
from app.classroom.install import install_classroom
from app.config import Settings
from app.content.loader import load_catalogue
from app.content.model import Catalogue
from app.supervisor import Supervisor
from app.web.app import build_app, make_templates
from app.web.assets import REQUIRED, check_assets
from app.web.services import Services


def create_app(settings: Settings, catalogue: Catalogue | None = None) -> FastAPI:
    """Build the app; a broken lesson raises LessonError here, before the server listens."""
    catalogue = catalogue or load_catalogue(settings.lessons_dir, reload=settings.reload)
    check_assets(REQUIRED)
    supervisor = Supervisor(settings)
    classroom = Classroom(settings, supervisor, catalogue)
    services = Services(settings, catalogue, supervisor, make_templates(), classroom)
    app = build_app(services)
    install_classroom(app, classroom, services.templates)
    return app


__all__ = ["create_app"]
