"""ASGI middleware: every page load without a valid learner cookie gets one, and every request
carries the learner id (if any) in its scope for the routes and the WebSocket admission."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.classroom.identity import LEARNER_COOKIE, SCOPE_KEY, Identity, read_cookies

#: Paths that never hand out a cookie: machines poll them, and no page is shown.
NO_COOKIE = ("/api/", "/assets/", "/metrics", "/healthz", "/ws/")


class LearnerCookies:
    def __init__(self, app: ASGIApp, identity: Identity) -> None:
        self.app, self.identity = app, identity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        cookies = read_cookies(scope.get("headers", []))
        learner = self.identity.learner_from(cookies.get(LEARNER_COOKIE))
        issue = (
            learner is None
            and scope["type"] == "http"
            and scope.get("method") == "GET"
            and not str(scope.get("path", "")).startswith(NO_COOKIE)
        )
        set_cookie = ""
        if issue:
            learner, set_cookie = self.identity.new_learner()
        scope[SCOPE_KEY] = learner

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and set_cookie:
                headers = list(message.get("headers", []))
                if not any(k == b"set-cookie" and LEARNER_COOKIE.encode() in v for k, v in headers):
                    headers.append((b"set-cookie", set_cookie.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
