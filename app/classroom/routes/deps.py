"""What the classroom's routes share: the classroom itself, who is asking, CSRF checks."""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.requests import HTTPConnection

from app.classroom import accounts
from app.classroom.classroom import Classroom
from app.classroom.identity import CSRF_HEADER, SCOPE_KEY, TEACHER_COOKIE
from app.protocol import LearnerId
from app.web.errors import PageError
from app.web.services import services_of


class Forbidden(PageError):
    status = 403
    title = "Not allowed"


class BadForm(PageError):
    status = 400
    title = "This form cannot be used"


def classroom_of(conn: HTTPConnection) -> Classroom:
    """The classroom plugged into the app serving this request or socket."""
    classroom = services_of(conn).classroom
    if not isinstance(classroom, Classroom):
        raise RuntimeError("this app has no classroom")
    return classroom


def learner_id(request: Request) -> LearnerId | None:
    learner = request.scope.get(SCOPE_KEY)
    return LearnerId(learner) if isinstance(learner, str) else None


def require_learner(request: Request) -> LearnerId:
    """The learner's id from their signed cookie; an API call without one is refused."""
    learner = learner_id(request)
    if learner is None:
        raise HTTPException(401, "No valid learner cookie: reload the page to get one.")
    return learner


def check_form_csrf(request: Request, token: str | None) -> None:
    """A form must carry the token its page was rendered with (another site cannot know it)."""
    if not classroom_of(request).identity.csrf_valid(learner_id(request), token):
        raise BadForm(
            "The form was too old or did not come from this site. Go back, reload the page and "
            "try again."
        )


def check_api_csrf(request: Request) -> None:
    token = request.headers.get(CSRF_HEADER)
    if not classroom_of(request).identity.csrf_valid(learner_id(request), token):
        raise HTTPException(403, "Missing or wrong CSRF token: reload the page.")


def teacher_token(request: Request) -> str | None:
    return classroom_of(request).identity.teacher_token_from(request.cookies.get(TEACHER_COOKIE))


def is_teacher(request: Request) -> bool:
    """A signed teacher cookie whose session is still open (checked in the database)."""
    token = teacher_token(request)
    if token is None:
        return False
    with classroom_of(request).db.session() as db:
        return accounts.teacher_session_valid(db, token)


def require_teacher_api(request: Request) -> None:
    if not is_teacher(request):
        raise HTTPException(401, "Sign in as the teacher first.")
