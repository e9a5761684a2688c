"""The teacher's class landscape socket: JSON from the server; `TeacherMessage` is what it
receives."""

from __future__ import annotations

from typing import Any

import msgspec

from app.protocol.ids import LearnerId, LessonSlug

# --------------------------------------------------------------------------- server -> teacher


class Surface(msgspec.Struct):
    """The ground of a class landscape: the lesson's two parameters, their ranges, and the
    filled contour of the lesson's own loss (None when the lesson draws no landscape, with a
    `note` when it could not be computed)."""

    lesson: LessonSlug
    title: str
    names: tuple[str, str]
    w: tuple[float, float]
    b: tuple[float, float]
    contour: dict[str, Any] | None = None
    note: str = ""


class LandscapeSurface(msgspec.Struct, tag="surface"):
    """Sent once when the teacher's landscape opens: what the points are drawn on (None when
    the lesson has no two parameters to show)."""

    surface: Surface | None


class LandscapePoints(msgspec.Struct, tag="points"):
    """Every learner's newest (w, b) in the lesson shown, all at once, at most once per
    `DESCENT_LANDSCAPE_INTERVAL_MS`; `seq` grows with every message."""

    seq: int
    lesson: LessonSlug
    points: list[tuple[LearnerId, float, float]]


TeacherMessage = LandscapeSurface | LandscapePoints
