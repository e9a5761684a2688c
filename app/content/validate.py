"""A teacher's authoring loop, `python -m app lessons check [DIR ...]`: load every bundle,
report every problem with its file and line, then run each exercise in a real sandboxed kernel,
the way nbgrader's validate does: with its `solution` it must pass, and with the `answer` of
each of its mistakes it must fail with that mistake's message.

`KernelService` runs kernels from synchronous code (this command, and the tests): one
Supervisor on its own event loop in a background thread.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any, TypeVar

from app.config import Settings
from app.content.errors import LessonError
from app.content.loader import LESSON_FILE, bundles, check_places, load_lesson
from app.content.model import Exercise, Lesson
from app.protocol import (
    Allowance,
    CellId,
    KCheck,
    KChecked,
    KEvaluate,
    KEvaluated,
    KExec,
    KExecDone,
)
from app.supervisor import Kernel, Supervisor

T = TypeVar("T")
_FIELD = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?::[^{}]*)?\}")


class KernelService:
    """A Supervisor running in a thread; `call` runs a coroutine on its loop and waits."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings(cell_timeout_s=120, call_timeout_s=60)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.supervisor = Supervisor(self.settings)
        self.call(self.supervisor.start())
        self.ids = itertools.count(1)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 300) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def kernel(self, allow: Allowance | None = None) -> Kernel:
        """A kernel as a lesson page gets one: with the lesson's sandbox allowance, if any."""
        return self.call(self.supervisor.acquire(allow=allow))

    def release(self, kernel: Kernel) -> None:
        self.call(self.supervisor.release(kernel))

    def run(self, kernel: Kernel, code: str, cell: str = "test") -> KExecDone:
        request = KExec(next(self.ids), CellId(cell), code, 1 << 20)
        reply = self.call(kernel.request(request, self.settings.cell_timeout_s, "the limit"))
        assert isinstance(reply, KExecDone)
        return reply

    def run_lesson(self, kernel: Kernel, lesson: Lesson) -> list[KExecDone]:
        return [self.run(kernel, cell.code, cell.id) for cell in lesson.cells.values()]

    def evaluate(
        self, kernel: Kernel, lesson: Lesson, plot_id: str, values: dict[str, float] | None = None
    ) -> KEvaluated:
        plot = lesson.plots[plot_id]  # type: ignore[index]
        vals = values or {n: lesson.sliders[n].value for n in plot.sliders}
        request = KEvaluate(next(self.ids), plot.id, plot.kind, plot.options, vals, True)
        reply = self.call(kernel.request(request, self.settings.call_timeout_s, "the limit"))
        assert isinstance(reply, KEvaluated)
        return reply

    def check(self, kernel: Kernel, lesson: Lesson, exercise_id: str) -> KChecked:
        """Check an exercise as a lesson page does: the bundle's folder names its checks."""
        ex = lesson.exercises[exercise_id]  # type: ignore[index]
        request = KCheck(next(self.ids), ex.id, ex.check, ex.params, str(lesson.folder))
        reply = self.call(kernel.request(request, self.settings.call_timeout_s, "the limit"))
        assert isinstance(reply, KChecked)
        return reply

    def stop(self) -> None:
        self.call(self.supervisor.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def says(template: str, message: str) -> bool:
    """Whether a check's message is the declared one, each `{field}` standing for any text."""
    parts = _FIELD.split(template)
    pattern = ".+?".join(re.escape(p) for p in parts)
    return re.fullmatch(pattern, message, flags=re.DOTALL) is not None


def load_bundles(folders: Iterable[Path]) -> tuple[list[Lesson], list[LessonError]]:
    """Every lesson that loads, and every problem, one per bundle (the first in its files)."""
    lessons: list[Lesson] = []
    problems: list[LessonError] = []
    try:
        found = bundles(folders)
    except LessonError as err:
        return [], [err]
    for bundle in found:
        try:
            lessons.append(load_lesson(bundle / LESSON_FILE))
        except LessonError as err:
            problems.append(err)
    try:
        check_places(lessons)
    except LessonError as err:
        problems.append(err)
    return lessons, problems


def validate_exercise(kernels: KernelService, lesson: Lesson, ex: Exercise) -> list[str]:
    """Run the exercise in a fresh kernel after the lesson's cells: with its solution, then with
    each answer that declares a mistake. Each problem as `path:line: problem`."""
    path = lesson.path
    where = f"exercise {ex.id!r}"
    if not ex.solution.strip():
        return [f"{path}:{ex.line}: {where} has no solution"]
    problems: list[str] = []
    kernel = kernels.kernel(lesson.sandbox)
    try:
        replies = kernels.run_lesson(kernel, lesson)
        for cell, reply in zip(lesson.cells.values(), replies, strict=True):
            if not reply.ok:
                return [f"{path}:{cell.line}: code {cell.id!r} fails: {reply.error}"]
        outcome = _try(kernels, kernel, lesson, ex, ex.solution)
        if outcome is None or not outcome.passed:
            said = "it raised an error" if outcome is None else outcome.message
            problems.append(f"{path}:{ex.line}: {where}: its solution does not pass: {said}")
        for m in ex.mistakes:
            if not m.answer:
                continue
            outcome = _try(kernels, kernel, lesson, ex, m.answer)
            if outcome is None:
                problems.append(f"{path}:{m.line}: {where}: the answer of {m.when!r} raised")
            elif outcome.passed:
                problems.append(f"{path}:{m.line}: {where}: the answer of {m.when!r} passes")
            elif not says(m.message, outcome.message):
                problems.append(
                    f"{path}:{m.line}: {where}: the answer of {m.when!r} is told "
                    f"{outcome.message!r}, not its message"
                )
    finally:
        kernels.release(kernel)
    return problems


def _try(
    kernels: KernelService, kernel: Kernel, lesson: Lesson, ex: Exercise, code: str
) -> KChecked | None:
    """The verdict after running `code` as the learner's edit of the exercise's cell."""
    if not kernels.run(kernel, code, ex.cell).ok:
        return None
    return kernels.check(kernel, lesson, ex.id)


def check_lessons(
    folders: Iterable[Path], settings: Settings, say: Callable[[str], None] = print
) -> int:
    """The authoring loop over the lessons folders; the number of problems found."""
    folders = tuple(folders)
    lessons, errors = load_bundles(folders)
    for err in errors:
        say(str(err))
    problems = len(errors)
    if not any(lesson.exercises for lesson in lessons):
        return problems
    kernels = KernelService(settings.model_copy(update={"lessons_dir": folders}))
    try:
        for lesson in lessons:
            for ex in lesson.exercises.values():
                found = validate_exercise(kernels, lesson, ex)
                for line in found:
                    say(line)
                if not found:
                    say(f"ok   {lesson.slug}/{ex.id}")
                problems += len(found)
    finally:
        kernels.stop()
    return problems
