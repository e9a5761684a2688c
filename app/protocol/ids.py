"""The ids every layer passes around, each its own `NewType`, so that a cell id cannot be
handed where a plot id belongs; the protocol, the lesson model and the classroom share them."""

from __future__ import annotations

from typing import NewType

LessonSlug = NewType("LessonSlug", str)
"""A lesson's slug, the last part of its URL: `the-line`."""
CellId = NewType("CellId", str)
"""A code cell of a lesson, unique on its page."""
PlotId = NewType("PlotId", str)
"""A plot of a lesson, unique on its page."""
ExerciseId = NewType("ExerciseId", str)
"""An exercise of a lesson, unique on its page."""
LearnerId = NewType("LearnerId", str)
"""A browser's anonymous learner, from its signed cookie."""
RoomId = NewType("RoomId", int)
"""A teacher's room (a class)."""
