"""Learners (anonymous ids, resume links) and the teacher (password, sign-in sessions)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.classroom.models import Learner, Teacher, TeacherSession, now
from app.classroom.passwords import hash_password, token_hash, verify_password
from app.protocol import LearnerId

TEACHER_ID = 1


def new_learner_id() -> LearnerId:
    return LearnerId(secrets.token_urlsafe(16))


def ensure_learner(db: Session, learner: LearnerId) -> None:
    """The learner's row, made on first need (a cookie is handed out before any row exists)."""
    if db.get(Learner, learner) is not None:
        return
    db.add(Learner(id=learner))
    try:
        db.commit()
    except IntegrityError:  # another request made it first
        db.rollback()


def new_resume_token(db: Session, learner: LearnerId) -> str:
    """A fresh private resume token for the learner; the previous one stops working."""
    ensure_learner(db, learner)
    token = secrets.token_urlsafe(24)
    row = db.get(Learner, learner)
    assert row is not None
    row.resume_hash = token_hash(token)
    db.commit()
    return token


def learner_by_resume_token(db: Session, token: str) -> LearnerId | None:
    row = db.scalar(select(Learner).where(Learner.resume_hash == token_hash(token)))
    return row.id if row else None


# ------------------------------------------------------------------ the teacher


def teacher_hash(db: Session) -> str | None:
    row = db.get(Teacher, TEACHER_ID)
    return row.password_hash if row else None


def set_teacher_password(db: Session, password: str) -> None:
    row = db.get(Teacher, TEACHER_ID)
    hashed = hash_password(password)
    if row is None:
        db.add(Teacher(id=TEACHER_ID, password_hash=hashed))
    else:
        row.password_hash, row.updated_at = hashed, now()
    db.execute(delete(TeacherSession))  # a new password signs everyone out
    db.commit()


def sync_teacher_password(db: Session, password: str) -> None:
    """Make the stored hash match the password from the settings (only when it differs)."""
    stored = teacher_hash(db)
    if stored is None or not verify_password(password, stored):
        set_teacher_password(db, password)


def check_teacher_password(db: Session, password: str) -> bool:
    stored = teacher_hash(db)
    return stored is not None and verify_password(password, stored)


def start_teacher_session(db: Session, hours: float) -> str:
    token = secrets.token_urlsafe(32)
    expires = now() + timedelta(hours=hours)
    db.execute(delete(TeacherSession).where(TeacherSession.expires_at < now()))
    db.add(TeacherSession(token_hash=token_hash(token), expires_at=expires))
    db.commit()
    return token


def teacher_session_valid(db: Session, token: str) -> bool:
    row = db.get(TeacherSession, token_hash(token))
    if row is None:
        return False
    expires = row.expires_at
    if expires.tzinfo is None:  # SQLite hands datetimes back without their zone
        expires = expires.replace(tzinfo=UTC)
    return expires > datetime.now(UTC)


def end_teacher_session(db: Session, token: str) -> None:
    db.execute(delete(TeacherSession).where(TeacherSession.token_hash == token_hash(token)))
    db.commit()
