"""What a lesson session tells the rest of the server, and what a listener may do back. The
session layer defines these interfaces; the classroom implements them to save work, record
progress and move each learner's point on the teacher's class landscape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from app.protocol import CellId, ExerciseId, ServerMessage
from app.supervisor import Kernel


class LiveSession(Protocol):
    """What a listener may use of an open session: its kernel (to count how kernels end), a
    message to its page, and a restart (the teacher's button)."""

    @property
    def kernel(self) -> Kernel | None: ...

    async def send(self, msg: ServerMessage) -> None: ...

    async def restart(self) -> None: ...


class SessionObserver(Protocol):
    """Told what happens in one session, in order; one observer per session."""

    async def opened(self, session: LiveSession) -> None: ...

    async def values_changed(self, session: LiveSession, values: dict[str, float]) -> None:
        """Slider values moved, or training moved the parameters (newest values only)."""

    async def ran(self, session: LiveSession, cell: CellId, code: str, ok: bool) -> None: ...

    async def checked(self, session: LiveSession, exercise: ExerciseId, passed: bool) -> None: ...

    def run_refused(self, session: LiveSession) -> str:
        """Asked before each Run: words for the learner when it is refused (rate limit), else ""."""

    async def closed(self, session: LiveSession) -> None: ...


class NoObserver:
    """Self-study without a classroom: nothing listens."""

    async def opened(self, session: LiveSession) -> None:
        return None

    async def values_changed(self, session: LiveSession, values: dict[str, float]) -> None:
        return None

    async def ran(self, session: LiveSession, cell: CellId, code: str, ok: bool) -> None:
        return None

    async def checked(self, session: LiveSession, exercise: ExerciseId, passed: bool) -> None:
        return None

    def run_refused(self, session: LiveSession) -> str:
        return ""

    async def closed(self, session: LiveSession) -> None:
        return None


@dataclass(frozen=True)
class StoredData:
    """A learner's data kept by a listener: the normalised CSV, and whose it is."""

    csv: str
    source: Literal["yours", "room"]


@runtime_checkable
class DataKeeper(Protocol):
    """An observer that also keeps a learner's own data (the classroom): a session without one
    keeps the data only while it lives."""

    async def stored_data(self, session: LiveSession) -> StoredData | None:
        """The data to apply when a kernel starts: the learner's own, else their room's."""

    async def keep_data(self, session: LiveSession, csv: str) -> str:
        """Keep a dataset the kernel parsed; "" when kept, else words why not."""

    async def drop_data(self, session: LiveSession) -> StoredData | None:
        """Forget the learner's own data; what they start from now (their room's), if any."""
