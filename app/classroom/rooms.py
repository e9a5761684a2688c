"""Rooms with join codes, and the learners in them under their display names."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.classroom.accounts import ensure_learner
from app.classroom.models import Member, Room, now
from app.protocol import LearnerId, LessonSlug, RoomId

#: No 0/O, 1/I/L: a code read aloud or off a projector is typed right the first time.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
NAME_LENGTH = 40


class JoinRefused(Exception):
    """Why a learner cannot join; the message is shown on the join page."""


@dataclass(frozen=True)
class Membership:
    room_id: RoomId
    room_code: str
    room_name: str
    lesson: LessonSlug
    display_name: str
    closed: bool
    ended: str | None


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def create_room(db: Session, name: str, lesson: LessonSlug) -> Room:
    while True:
        code = new_code()
        if db.scalar(select(Room).where(Room.code == code)) is None:
            break
    room = Room(code=code, name=name.strip()[:80] or "My class", lesson=lesson)
    db.add(room)
    db.commit()
    return room


def rooms(db: Session) -> list[Room]:
    return list(db.scalars(select(Room).order_by(Room.created_at.desc(), Room.id.desc())))


def room_by_code(db: Session, code: str) -> Room | None:
    return db.scalar(select(Room).where(Room.code == normal_code(code)))


def close_room(db: Session, room_id: RoomId) -> None:
    room = db.get(Room, room_id)
    if room is not None and room.closed_at is None:
        room.closed_at = now()
        db.commit()


def set_room_lesson(db: Session, room_id: RoomId, lesson: LessonSlug) -> None:
    room = db.get(Room, room_id)
    if room is not None:
        room.lesson = lesson
        db.commit()


def clean_name(name: str) -> str:
    return " ".join(name.split())[:NAME_LENGTH]


def join(db: Session, code: str, learner: LearnerId, name: str) -> Room:
    """Put the learner in the open room with this code; any other room of theirs is left."""
    display = clean_name(name)
    if not display:
        raise JoinRefused("Type the name your teacher should see.")
    room = room_by_code(db, code)
    if room is None:
        raise JoinRefused("There is no room with this code. Check it with your teacher.")
    if room.closed_at is not None:
        raise JoinRefused("This room is closed. Ask your teacher for the code of an open room.")
    ensure_learner(db, learner)
    mine = list(db.scalars(select(Member).where(Member.learner_id == learner)))
    for member in mine:
        if member.room_id == room.id:
            if member.ended == "removed":
                raise JoinRefused("Your teacher removed you from this room.")
            member.ended, member.display_name = None, display
        elif member.ended is None:
            member.ended = "left"
    if not any(m.room_id == room.id for m in mine):
        db.add(Member(room_id=room.id, learner_id=learner, display_name=display))
    db.commit()
    return room


def current_membership(db: Session, learner: LearnerId) -> Membership | None:
    """The learner's newest room: still in it, or a note of why not (closed, removed)."""
    row = db.execute(
        select(Member, Room)
        .join(Room, Room.id == Member.room_id)
        .where(Member.learner_id == learner, (Member.ended.is_(None)) | (Member.ended == "removed"))
        .order_by(Member.joined_at.desc(), Member.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    member, room = row
    return Membership(
        room.id,
        room.code,
        room.name,
        room.lesson,
        member.display_name,
        room.closed_at is not None,
        member.ended,
    )


def members(db: Session, room_id: RoomId) -> list[Member]:
    return list(
        db.scalars(
            select(Member)
            .where(Member.room_id == room_id, Member.ended.is_(None))
            .order_by(Member.display_name, Member.id)
        )
    )


def member(db: Session, room_id: RoomId, learner: LearnerId) -> Member | None:
    return db.scalar(
        select(Member).where(
            Member.room_id == room_id, Member.learner_id == learner, Member.ended.is_(None)
        )
    )


def remove_member(db: Session, room_id: RoomId, learner: LearnerId) -> bool:
    row = member(db, room_id, learner)
    if row is None:
        return False
    row.ended = "removed"
    db.commit()
    return True
