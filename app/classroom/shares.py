"""Share links: a snapshot of a lesson as a learner sees it (the code of every cell, slider
values, their data, how far each training plot got) behind an unguessable id. The snapshot
names nothing of the sharer; only the sharer may list and revoke their links."""

from __future__ import annotations

import json
import math
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.classroom import datasets
from app.classroom.accounts import ensure_learner
from app.classroom.models_data import Share
from app.config import Settings
from app.content.model import Lesson
from app.plots.base import TrainablePlotKind
from app.plots.registry import plot_kind
from app.protocol import LearnerId, LessonSlug

#: Most shares one learner keeps per lesson; the oldest go first.
MAX_PER_LESSON = 20
MAX_ITERATIONS = 100_000


class ShareRefused(ValueError):
    """The snapshot cannot be shared; the message says why."""


@dataclass(frozen=True)
class Snapshot:
    cells: dict[str, str]
    values: dict[str, float]
    train: dict[str, int]
    data: str | None

    def as_json(self) -> dict[str, Any]:
        return {"cells": self.cells, "values": self.values, "train": self.train, "data": self.data}


def snapshot(
    lesson: Lesson,
    cells: dict[str, str],
    values: dict[str, float],
    train: dict[str, int],
    data: str | None,
    settings: Settings,
) -> Snapshot:
    """The snapshot checked against the lesson and the limits; ShareRefused otherwise."""
    code_limit = settings.saved_code_kb * 1024
    kept_cells = {}
    for cid, code in cells.items():
        cell = lesson.cells.get(cid)  # type: ignore[call-overload]
        if cell is None or not cell.editable:
            continue
        if len(code.encode("utf-8", "replace")) > code_limit:
            raise ShareRefused(f"Cell {cid} is longer than {settings.saved_code_kb} KB.")
        if code != cell.code:
            kept_cells[cid] = code
    kept_values = {}
    for name, value in values.items():
        slider = lesson.sliders.get(name)
        if slider is not None and math.isfinite(value) and slider.accepts(value):
            kept_values[name] = float(value)
    kept_train = {}
    for pid, iterations in train.items():
        plot = lesson.plots.get(pid)  # type: ignore[call-overload]
        if plot is not None and isinstance(plot_kind(plot.kind), TrainablePlotKind):
            kept_train[pid] = max(0, min(int(iterations), MAX_ITERATIONS))
    if data is not None:
        data = datasets.clean(lesson, data, settings)[0]
    shot = Snapshot(kept_cells, kept_values, kept_train, data)
    size = len(json.dumps(shot.as_json()).encode())
    if size > settings.share_max_kb * 1024:
        raise ShareRefused(
            f"This lesson's state is {size // 1024} KB; a link holds at most "
            f"{settings.share_max_kb} KB. Use less data or shorter code."
        )
    return shot


def create(db: Session, learner: LearnerId, lesson: LessonSlug, shot: Snapshot) -> str:
    ensure_learner(db, learner)
    token = secrets.token_urlsafe(18)
    db.add(Share(id=token, learner_id=learner, lesson=lesson, snapshot=json.dumps(shot.as_json())))
    db.commit()
    old = mine(db, learner, lesson)[MAX_PER_LESSON:]
    if old:
        db.execute(delete(Share).where(Share.id.in_([s.id for s in old])))
        db.commit()
    return token


def mine(db: Session, learner: LearnerId, lesson: LessonSlug) -> list[Share]:
    """The learner's links for a lesson, newest first."""
    query = (
        select(Share)
        .where(Share.learner_id == learner, Share.lesson == lesson)
        .order_by(Share.created_at.desc())
    )
    return list(db.scalars(query))


def revoke(db: Session, learner: LearnerId, token: str) -> bool:
    result = db.execute(delete(Share).where(Share.id == token, Share.learner_id == learner))
    db.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def opened(db: Session, token: str) -> tuple[LessonSlug, dict[str, Any]] | None:
    """The lesson and snapshot behind a link (never who made it), or None."""
    row = db.get(Share, token) if 8 <= len(token) <= 64 else None
    if row is None:
        return None
    return row.lesson, dict(json.loads(row.snapshot))
