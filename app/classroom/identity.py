"""Who is asking: the learner's anonymous id and the teacher's session, each in a signed,
HttpOnly, SameSite=Lax cookie, plus the CSRF token that forms and page scripts send back."""

from __future__ import annotations

import hmac
import os
import secrets
from http.cookies import SimpleCookie
from pathlib import Path

from itsdangerous import BadSignature, Signer

from app.classroom.accounts import new_learner_id
from app.protocol import LearnerId

LEARNER_COOKIE = "descent_learner"
TEACHER_COOKIE = "descent_teacher"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LEARNER_MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie
SCOPE_KEY = "descent.learner"


class SharedKeyMissing(RuntimeError):
    """The server would sign cookies with a key of its own where replicas must share one."""


def require_shared_key(configured: str, dialect: str) -> None:
    """With PostgreSQL, replicas share learners and teacher sessions, so they must sign cookies
    with one key: a key generated per replica would make every replica refuse the others'
    cookies. Refused at start rather than kept in the database: whoever reads a backup of the
    database could then sign any learner's cookie, and a missing key is an operator's slip best
    told before the first learner arrives."""
    if dialect == "postgresql" and not configured:
        raise SharedKeyMissing(
            "DESCENT_SECRET_KEY is not set, and the database is PostgreSQL: every replica of "
            "the server must sign cookies with the same key. Set DESCENT_SECRET_KEY to the same "
            "long random value on every replica (e.g. the output of `openssl rand -hex 32`), "
            "then start again."
        )


def load_secret(configured: str, data_dir: Path) -> str:
    """The signing key: from the settings, or made once and kept (mode 0600) in the data folder."""
    if configured:
        return configured
    path = data_dir / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


class Identity:
    """Signs and reads the cookies; the key is read from the data folder on first use."""

    def __init__(self, configured_key: str, data_dir: Path, secure: bool) -> None:
        self._configured, self._data_dir, self.secure = configured_key, data_dir, secure
        self._key: str | None = None

    @property
    def key(self) -> str:
        if self._key is None:
            self._key = load_secret(self._configured, self._data_dir)
        return self._key

    def _signer(self, salt: str) -> Signer:
        return Signer(self.key, salt=f"descent.{salt}")

    def learner_cookie(self, learner: LearnerId) -> str:
        return self._signer("learner").sign(learner).decode()

    def learner_from(self, cookie: str | None) -> LearnerId | None:
        if not cookie:
            return None
        try:
            return LearnerId(self._signer("learner").unsign(cookie).decode())
        except BadSignature:
            return None

    def teacher_cookie(self, token: str) -> str:
        return self._signer("teacher").sign(token).decode()

    def teacher_token_from(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return self._signer("teacher").unsign(cookie).decode()
        except BadSignature:
            return None

    def csrf_token(self, learner: LearnerId) -> str:
        """Bound to the browser's learner id: a page of another site cannot know it."""
        return self._signer("csrf").get_signature(learner).decode()

    def csrf_valid(self, learner: LearnerId | None, token: str | None) -> bool:
        if not learner or not token:
            return False
        # As bytes: compare_digest refuses str with characters beyond ASCII.
        given = token.encode("utf-8", "surrogatepass")
        return hmac.compare_digest(self.csrf_token(learner).encode(), given)

    def cookie_header(self, name: str, value: str, max_age: int | None) -> str:
        """A Set-Cookie value: HttpOnly, SameSite=Lax, Secure when the server says so."""
        morsel = SimpleCookie()
        morsel[name] = value
        attrs = morsel[name]
        attrs["path"] = "/"
        attrs["httponly"] = True
        attrs["samesite"] = "Lax"
        if max_age is not None:
            attrs["max-age"] = max_age
        if self.secure:
            attrs["secure"] = True
        return attrs.OutputString()

    def new_learner(self) -> tuple[LearnerId, str]:
        """A fresh learner id and its Set-Cookie value."""
        learner = new_learner_id()
        return learner, self.cookie_header(
            LEARNER_COOKIE, self.learner_cookie(learner), LEARNER_MAX_AGE
        )


def read_cookies(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in headers:
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header counts as none
                continue
    return {key: morsel.value for key, morsel in jar.items()}
