"""The tables of issue 14: a learner's own data per lesson, a room's data per lesson (the
teacher's), and share links. Only normalised CSV (app/content/datacsv.py) is ever stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.classroom.models import Base, now
from app.protocol import LearnerId, LessonSlug, RoomId


class LearnerData(Base):
    """A learner's own data for one lesson, as the kernel parsed it."""

    __tablename__ = "learner_data"
    learner_id: Mapped[LearnerId] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    lesson: Mapped[LessonSlug] = mapped_column(String(80), primary_key=True)
    csv: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class RoomData(Base):
    """The data a teacher chose for one lesson of a room: every learner starts from it."""

    __tablename__ = "room_data"
    room_id: Mapped[RoomId] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    lesson: Mapped[LessonSlug] = mapped_column(String(80), primary_key=True)
    csv: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Share(Base):
    """A snapshot of a lesson behind an unguessable id; its sharer may list and revoke it."""

    __tablename__ = "shares"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    learner_id: Mapped[LearnerId] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), index=True
    )
    lesson: Mapped[LessonSlug] = mapped_column(String(80))
    snapshot: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
