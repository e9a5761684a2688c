"""Who may open a lesson WebSocket: a page of this site (Origin), a browser with a valid
learner cookie, and, for a learner in a room, a free kernel within the room's cap. A refused
socket is closed here with a code and a reason the page shows."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import WebSocket

from app.classroom.identity import SCOPE_KEY
from app.protocol import LearnerId

POLICY = 1008  # the socket breaks a rule: cross-site, no cookie
TRY_LATER = 1013  # the room is at its cap: the page reconnects by itself later
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _netloc(scheme: str, host_port: str) -> str:
    host_port = host_port.strip().lower()
    if not host_port:
        return ""
    parts = urlsplit(f"//{host_port}")
    port = parts.port or DEFAULT_PORTS.get(scheme, 80)
    return f"{parts.hostname}:{port}"


def same_origin(origin: str | None, host: str | None, scheme: str, trusted: set[str]) -> bool:
    """A socket without Origin comes from no browser page (a script, a test) and cannot be a
    cross-site request; a browser always sends Origin, which must name this server."""
    if origin is None:
        return True
    origin = origin.strip().lower().rstrip("/")
    if origin in trusted:
        return True
    try:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        page_scheme = "https" if scheme in ("https", "wss") else "http"
        return _netloc(parts.scheme, parts.netloc) == _netloc(page_scheme, host or "")
    except ValueError:  # a port out of range or not a number, a broken IPv6 address
        return False


def trusted_origins(setting: str) -> set[str]:
    return {o.strip().lower().rstrip("/") for o in setting.split(",") if o.strip()}


def learner_of(ws: WebSocket) -> LearnerId | None:
    """The learner id the cookie middleware put in the socket's scope."""
    learner = ws.scope.get(SCOPE_KEY)
    return LearnerId(learner) if isinstance(learner, str) else None


async def refuse(ws: WebSocket, code: int, reason: str) -> None:
    await ws.close(code=code, reason=reason[:120])  # a close reason is at most 123 bytes
