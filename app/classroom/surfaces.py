"""The ground under the teacher's class landscape: the lesson's own loss surface, computed once
per lesson from the lesson's original code in a sandboxed kernel (the web process never runs
lesson code), or the plain (w, b) plane when the lesson draws no landscape."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from app.config import Settings
from app.content.model import Lesson
from app.protocol import FigureMsg, LessonSlug, PlotProblem, ServerMessage, Status, Surface
from app.session import Session
from app.supervisor import Supervisor

log = logging.getLogger("descent.classroom")
COMPUTE_TIMEOUT_S = 90.0


def parameters(lesson: Lesson) -> tuple[str, str] | None:
    """The two sliders that are the lesson's (w, b): a landscape's, else `w` and `b`."""
    for plot in lesson.plots.values():
        if plot.kind == "landscape" and len(plot.sliders) == 2:
            return plot.sliders[0], plot.sliders[1]
    if "w" in lesson.sliders and "b" in lesson.sliders:
        return "w", "b"
    names = list(lesson.sliders)
    return (names[0], names[1]) if len(names) >= 2 else None


def plane(lesson: Lesson, names: tuple[str, str]) -> Surface:
    w, b = (lesson.sliders[n] for n in names)
    return Surface(lesson.slug, lesson.title, names, (w.min, w.max), (b.min, b.max))


class Surfaces:
    def __init__(self, supervisor: Supervisor, settings: Settings) -> None:
        self.supervisor, self.settings = supervisor, settings
        self.cache: dict[LessonSlug, Surface] = {}
        self.locks: dict[LessonSlug, asyncio.Lock] = {}

    async def get(self, lesson: Lesson) -> Surface | None:
        names = parameters(lesson)
        if names is None:
            return None
        if lesson.slug in self.cache:
            return self.cache[lesson.slug]
        lock = self.locks.setdefault(lesson.slug, asyncio.Lock())
        async with lock:
            if lesson.slug not in self.cache:
                self.cache[lesson.slug] = await self._compute(lesson, names)
        return self.cache[lesson.slug]

    async def _compute(self, lesson: Lesson, names: tuple[str, str]) -> Surface:
        surface = plane(lesson, names)
        plot = next((p for p in lesson.plots.values() if p.kind == "landscape"), None)
        if plot is None:
            return surface
        figures: dict[str, dict[str, Any]] = {}
        problems: list[str] = []

        async def capture(msg: ServerMessage) -> None:
            if isinstance(msg, FigureMsg):
                figures[msg.plot] = msg.figure
            elif isinstance(msg, PlotProblem) or (
                isinstance(msg, Status) and msg.state in ("full", "refused", "dead")
            ):
                problems.append(msg.message)

        session = Session(lesson, self.supervisor, self.settings, capture)
        try:
            await asyncio.wait_for(session.open({}), COMPUTE_TIMEOUT_S)
        except TimeoutError:
            problems.append("the landscape took too long to compute")
        finally:
            await session.close()
        figure = figures.get(plot.id)
        contour = next(
            (t for t in (figure or {}).get("data", []) if t.get("type") == "contour"), None
        )
        if contour is None:
            log.warning("no landscape for %s: %s", lesson.slug, "; ".join(problems))
            surface.note = "The loss surface could not be computed: " + (
                problems[0] if problems else "no figure came back."
            )
            return surface
        surface.contour = contour
        return surface
