"""Saved work: each learner's code per cell (versioned, so two tabs never silently overwrite
each other), exercise results and progress per lesson."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.classroom.accounts import ensure_learner
from app.classroom.models import CellWork, ExerciseResult, LessonProgress, now
from app.protocol import CellId, ExerciseId, LearnerId, LessonSlug


@dataclass(frozen=True)
class Saved:
    """The outcome of a save: `ok`, or a conflict carrying the code and version that won."""

    ok: bool
    version: int
    code: str


def save_cell(
    db: Session, learner: LearnerId, lesson: LessonSlug, cell: CellId, code: str, base: int
) -> Saved:
    """Store `code` if the cell is still at version `base` (0: never saved); commit at once."""
    ensure_learner(db, learner)
    key = (learner, lesson, cell)
    if base == 0:
        db.add(CellWork(learner_id=learner, lesson=lesson, cell=cell, code=code, version=1))
        try:
            db.commit()
            return Saved(True, 1, code)
        except IntegrityError:
            db.rollback()
    else:
        result = db.execute(
            update(CellWork)
            .where(
                CellWork.learner_id == learner,
                CellWork.lesson == lesson,
                CellWork.cell == cell,
                CellWork.version == base,
            )
            .values(code=code, version=base + 1, updated_at=now())
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            db.commit()
            return Saved(True, base + 1, code)
        db.rollback()
    current = db.get(CellWork, key, populate_existing=True)
    if current is None:
        return Saved(False, 0, "")
    if current.code == code:  # the same text again (a retried save): nothing is lost
        return Saved(True, current.version, code)
    return Saved(False, current.version, current.code)


def saved_cells(
    db: Session, learner: LearnerId, lesson: LessonSlug | None = None
) -> list[CellWork]:
    query = select(CellWork).where(CellWork.learner_id == learner)
    if lesson is not None:
        query = query.where(CellWork.lesson == lesson)
    return list(db.scalars(query.order_by(CellWork.lesson, CellWork.cell)))


def exercise_results(db: Session, learners: list[LearnerId]) -> list[ExerciseResult]:
    if not learners:
        return []
    return list(db.scalars(select(ExerciseResult).where(ExerciseResult.learner_id.in_(learners))))


def lesson_progress(db: Session, learners: list[LearnerId]) -> list[LessonProgress]:
    if not learners:
        return []
    return list(db.scalars(select(LessonProgress).where(LessonProgress.learner_id.in_(learners))))


# ------------------------------------------------------------------ progress events


@dataclass(frozen=True)
class Opened:
    learner: LearnerId
    lesson: LessonSlug


@dataclass(frozen=True)
class Ran:
    learner: LearnerId
    lesson: LessonSlug
    ok: bool


@dataclass(frozen=True)
class Checked:
    learner: LearnerId
    lesson: LessonSlug
    exercise: ExerciseId
    passed: bool


Event = Opened | Ran | Checked


def _progress(db: Session, learner: LearnerId, lesson: LessonSlug) -> LessonProgress:
    row = db.get(LessonProgress, (learner, lesson))
    if row is None:
        row = LessonProgress(learner_id=learner, lesson=lesson, runs=0, failed_runs=0)
        db.add(row)
    return row


def apply_events(db: Session, events: list[Event]) -> None:
    """Record a batch of progress events in one transaction."""
    for learner in {e.learner for e in events}:
        ensure_learner(db, learner)
    for event in events:
        progress = _progress(db, event.learner, event.lesson)
        progress.seen_at = now()
        if isinstance(event, Ran):
            progress.runs += 1
            progress.failed_runs += 0 if event.ok else 1
        elif isinstance(event, Checked):
            key = (event.learner, event.lesson, event.exercise)
            result = db.get(ExerciseResult, key)
            if result is None:
                result = ExerciseResult(
                    learner_id=event.learner,
                    lesson=event.lesson,
                    exercise=event.exercise,
                    passed=False,
                    attempts=0,
                )
                db.add(result)
            result.attempts += 1
            result.passed = result.passed or event.passed
            result.updated_at = now()
        db.flush()
    db.commit()
