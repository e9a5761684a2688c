"""The classroom's tables: learners, the teacher, rooms and their members, saved code, results."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.protocol import CellId, ExerciseId, LearnerId, LessonSlug, RoomId

#: Constraint names spelled out, so migrations name the same things on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Learner(Base):
    """A browser's anonymous identity; the resume link lets another browser take it over."""

    __tablename__ = "learners"
    id: Mapped[LearnerId] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    resume_hash: Mapped[str | None] = mapped_column(String(64), unique=True)


class Teacher(Base):
    """The one teacher account of a server (row id 1)."""

    __tablename__ = "teacher"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class TeacherSession(Base):
    __tablename__ = "teacher_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Room(Base):
    __tablename__ = "rooms"
    id: Mapped[RoomId] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    lesson: Mapped[LessonSlug] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Member(Base):
    """A learner in a room under a display name; `ended` says why they are no longer in it."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("room_id", "learner_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[RoomId] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[LearnerId] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    display_name: Mapped[str] = mapped_column(String(40))
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    ended: Mapped[str | None] = mapped_column(String(16))  # "removed" or "left"


class CellWork(Base):
    """A learner's code in one cell; `version` grows by one with every save."""

    __tablename__ = "cell_work"
    learner_id: Mapped[LearnerId] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    lesson: Mapped[LessonSlug] = mapped_column(String(80), primary_key=True)
    cell: Mapped[CellId] = mapped_column(String(80), primary_key=True)
    code: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class ExerciseResult(Base):
    __tablename__ = "exercise_results"
    learner_id: Mapped[LearnerId] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    lesson: Mapped[LessonSlug] = mapped_column(String(80), primary_key=True)
    exercise: Mapped[ExerciseId] = mapped_column(String(80), primary_key=True)
    passed: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class LessonProgress(Base):
    __tablename__ = "lesson_progress"
    learner_id: Mapped[LearnerId] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    lesson: Mapped[LessonSlug] = mapped_column(String(80), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failed_runs: Mapped[int] = mapped_column(Integer, default=0)
