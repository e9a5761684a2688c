"""A room's progress as CSV: one row per learner, a column per lesson and per exercise.
Display names are typed by learners, so a cell that a spreadsheet would read as a formula is
quoted (CSV injection)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from app.classroom.progress import RosterRow
from app.content.model import Catalogue

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def utc(moment: datetime) -> str:
    """A time with its zone, in UTC: SQLite hands times back without one (they are stored in
    UTC), PostgreSQL with one."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat(timespec="seconds")


def progress_csv(catalogue: Catalogue, rows: list[RosterRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = ["name", "joined (UTC)", "exercises passed"]
    for lesson in catalogue.lessons:
        # Readable columns: the lesson's title, then the exercise's name.
        name = f"{lesson.track}{lesson.order} {lesson.title}"
        header += [f"{name}: opened", f"{name}: runs"]
        header += [f"{name}: {ex}" for ex in lesson.exercises]
    writer.writerow(header)
    for row in rows:
        line = [safe(row.name), utc(row.joined), str(row.passed())]
        for lesson in catalogue.lessons:
            lr = row.lessons[lesson.slug]
            line += ["yes" if lr.opened else "no", str(lr.runs)]
            for ex in lesson.exercises:
                state = lr.exercises[ex]
                line.append(f"{state} ({lr.attempts[ex]} tries)" if state != "none" else "none")
        writer.writerow(line)
    return out.getvalue()
