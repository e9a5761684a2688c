"""What a lesson session tells the rest of the server: the classroom listens here to save work,
record progress and move each learner's point on the teacher's class landscape."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from app.web.session import Session


class SessionObserver(Protocol):
    async def opened(self, session: Session) -> None: ...

    async def values_changed(self, session: Session, values: dict[str, float]) -> None:
        """Slider values moved, or training moved the parameters (newest values only)."""

    async def ran(self, session: Session, cell: str, code: str, ok: bool) -> None: ...

    async def checked(self, session: Session, exercise: str, passed: bool) -> None: ...

    def run_refused(self, session: Session) -> str:
        """Asked before each Run: words for the learner when it is refused (rate limit), else ""."""

    async def closed(self, session: Session) -> None: ...


class NoObserver:
    """Self-study without a classroom: nothing listens."""

    async def opened(self, session: Session) -> None:
        return None

    async def values_changed(self, session: Session, values: dict[str, float]) -> None:
        return None

    async def ran(self, session: Session, cell: str, code: str, ok: bool) -> None:
        return None

    async def checked(self, session: Session, exercise: str, passed: bool) -> None:
        return None

    def run_refused(self, session: Session) -> str:
        return ""

    async def closed(self, session: Session) -> None:
        return None
