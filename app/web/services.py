"""What the web layer is given: the app's services as one typed object, and the interface a
classroom plugs into. The web layer defines these; `app.server` builds them and
`app.classroom` implements `Plug`, so the web layer never imports the classroom."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from jinja2 import Environment
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from app.config import Settings
from app.content.model import Catalogue, Lesson
from app.protocol import LearnerId
from app.session import SessionObserver
from app.supervisor import Supervisor


@dataclass(frozen=True)
class Admission:
    """A lesson socket let in: the learner, and who listens to their session."""

    observer: SessionObserver
    learner: LearnerId


class Plug(Protocol):
    """A layer over the lessons (the classroom): started and stopped with the app, and asked
    before each lesson socket opens."""

    async def start(self) -> None: ...

    async def stop(self) -> None:
        """Called before the kernels stop, so pending work is written first."""

    async def admit(self, ws: WebSocket, lesson: Lesson) -> Admission | None:
        """Let a lesson socket in, or close it with a code and a reason and return None."""


@dataclass(frozen=True)
class Services:
    """Everything a request may need, built once per app by `app.server.create_app`."""

    settings: Settings
    catalogue: Catalogue
    supervisor: Supervisor
    templates: Environment
    classroom: Plug | None = None


def services_of(conn: HTTPConnection) -> Services:
    """The services of the app serving this request or socket."""
    services = conn.app.state.services
    if not isinstance(services, Services):
        raise RuntimeError("this app was not built by app.server.create_app")
    return services
