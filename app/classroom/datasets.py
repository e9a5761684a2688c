"""A learner's own data and a room's data, per lesson, in the database. Whatever comes in is
checked again as normalised CSV within the limits (app/content/datacsv.py) before it is
stored: nothing of a file a kernel refused, or of a malformed form, reaches the database."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.classroom.accounts import ensure_learner
from app.classroom.models import now
from app.classroom.models_data import LearnerData, RoomData
from app.config import Settings
from app.content.datacsv import BadCsv, read_normalised, write_normalised
from app.content.model import Lesson
from app.protocol import LearnerId, LessonSlug, RoomId


def clean(lesson: Lesson, csv: str, settings: Settings) -> tuple[str, int]:
    """The normalised CSV written afresh from its numbers, and its rows; BadCsv when it is not
    one, or the lesson declares no data."""
    if lesson.data is None:
        raise BadCsv("This lesson has no data of its own to replace.")
    columns = lesson.data.columns
    # Normalised text is longer than the file it came from (every number as repr): allow 8x.
    rows = read_normalised(csv, columns, settings.data_max_rows, 8 * settings.data_max_kb * 1024)
    return write_normalised(rows, columns), len(rows)


def save_learner_data(
    db: Session, learner: LearnerId, lesson: Lesson, csv: str, settings: Settings
) -> None:
    text, rows = clean(lesson, csv, settings)
    ensure_learner(db, learner)
    row = db.get(LearnerData, (learner, lesson.slug))
    if row is None:
        db.add(LearnerData(learner_id=learner, lesson=lesson.slug, csv=text, rows=rows))
    else:
        row.csv, row.rows, row.updated_at = text, rows, now()
    db.commit()


def learner_data(db: Session, learner: LearnerId, lesson: LessonSlug) -> str | None:
    row = db.get(LearnerData, (learner, lesson))
    return row.csv if row is not None else None


def drop_learner_data(db: Session, learner: LearnerId, lesson: LessonSlug) -> None:
    db.execute(
        delete(LearnerData).where(LearnerData.learner_id == learner, LearnerData.lesson == lesson)
    )
    db.commit()


def save_room_data(db: Session, room: RoomId, lesson: Lesson, csv: str, settings: Settings) -> int:
    text, rows = clean(lesson, csv, settings)
    row = db.get(RoomData, (room, lesson.slug))
    if row is None:
        db.add(RoomData(room_id=room, lesson=lesson.slug, csv=text, rows=rows))
    else:
        row.csv, row.rows, row.updated_at = text, rows, now()
    db.commit()
    return rows


def room_data(db: Session, room: RoomId, lesson: LessonSlug) -> str | None:
    row = db.get(RoomData, (room, lesson))
    return row.csv if row is not None else None


def room_datasets(db: Session, room: RoomId) -> dict[LessonSlug, int]:
    """The lessons of a room with data of the teacher's, and their rows."""
    rows = db.query(RoomData).filter(RoomData.room_id == room).all()
    return {r.lesson: r.rows for r in rows}


def drop_room_data(db: Session, room: RoomId, lesson: LessonSlug) -> None:
    db.execute(delete(RoomData).where(RoomData.room_id == room, RoomData.lesson == lesson))
    db.commit()
