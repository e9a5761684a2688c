"""A room's roster: each learner's progress per lesson and exercise, for the teacher's table,
its live refresh and the CSV export."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from app.classroom import rooms, work
from app.content.model import Catalogue
from app.protocol import LearnerId, RoomId

ExerciseState = Literal["passed", "tried", "none"]


@dataclass
class LessonRow:
    opened: bool = False
    runs: int = 0
    failed_runs: int = 0
    exercises: dict[str, ExerciseState] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)


@dataclass
class RosterRow:
    learner: LearnerId
    name: str
    joined: datetime
    online: str | None
    lessons: dict[str, LessonRow]

    def passed(self) -> int:
        return sum(s == "passed" for row in self.lessons.values() for s in row.exercises.values())


def roster(
    db: Session, catalogue: Catalogue, room_id: RoomId, online: dict[LearnerId, str]
) -> list[RosterRow]:
    members = rooms.members(db, room_id)
    ids = [m.learner_id for m in members]
    progress = {(p.learner_id, p.lesson): p for p in work.lesson_progress(db, ids)}
    results = {(r.learner_id, r.lesson, r.exercise): r for r in work.exercise_results(db, ids)}
    rows = []
    for member in members:
        lessons: dict[str, LessonRow] = {}
        for lesson in catalogue.lessons:
            p = progress.get((member.learner_id, lesson.slug))
            row = LessonRow(opened=p is not None, runs=p.runs if p else 0)
            row.failed_runs = p.failed_runs if p else 0
            for ex in lesson.exercises:
                r = results.get((member.learner_id, lesson.slug, ex))
                row.exercises[ex] = "none" if r is None else ("passed" if r.passed else "tried")
                row.attempts[ex] = r.attempts if r else 0
            lessons[lesson.slug] = row
        rows.append(
            RosterRow(
                member.learner_id,
                member.display_name,
                member.joined_at,
                online.get(member.learner_id),
                lessons,
            )
        )
    return rows


def lessons_json(catalogue: Catalogue) -> list[dict[str, Any]]:
    return [
        {
            "slug": lesson.slug,
            "label": f"{lesson.track}{lesson.order}",
            "title": lesson.title,
            "exercises": list(lesson.exercises),
        }
        for lesson in catalogue.lessons
    ]


def roster_json(rows: list[RosterRow]) -> list[dict[str, Any]]:
    return [
        {
            "id": row.learner,
            "name": row.name,
            "online": row.online,
            "passed": row.passed(),
            "lessons": {
                slug: {"opened": lr.opened, "runs": lr.runs, "exercises": lr.exercises}
                for slug, lr in row.lessons.items()
            },
        }
        for row in rows
    ]
