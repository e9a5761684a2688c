"""Run lessons in real sandboxed kernels from synchronous tests: one Supervisor, on its own event
loop in a background thread, shared by the whole test session."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from app.config import Settings
from app.content.model import Lesson
from app.kernel.supervisor import Kernel, Supervisor
from app.protocol import Allowance, KCheck, KChecked, KEvaluate, KEvaluated, KExec, KExecDone

T = TypeVar("T")


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
        reply = self.call(
            kernel.request(
                KExec(next(self.ids), cell, code, 1 << 20),
                self.settings.cell_timeout_s,
                "the limit",
            )
        )
        assert isinstance(reply, KExecDone)
        return reply

    def run_lesson(self, kernel: Kernel, lesson: Lesson) -> list[KExecDone]:
        return [self.run(kernel, cell.code, cell.id) for cell in lesson.cells.values()]

    def evaluate(
        self, kernel: Kernel, lesson: Lesson, plot_id: str, values: dict[str, float] | None = None
    ) -> KEvaluated:
        plot = lesson.plots[plot_id]  # type: ignore[index]
        vals = values or {n: lesson.sliders[n].value for n in plot.sliders}
        reply = self.call(
            kernel.request(
                KEvaluate(next(self.ids), plot.id, plot.kind, plot.options, vals, True),
                self.settings.call_timeout_s,
                "the limit",
            )
        )
        assert isinstance(reply, KEvaluated)
        return reply

    def check(self, kernel: Kernel, lesson: Lesson, exercise_id: str) -> KChecked:
        ex = lesson.exercises[exercise_id]  # type: ignore[index]
        reply = self.call(
            kernel.request(
                KCheck(next(self.ids), ex.id, ex.check, ex.params),
                self.settings.call_timeout_s,
                "the limit",
            )
        )
        assert isinstance(reply, KChecked)
        return reply

    def stop(self) -> None:
        self.call(self.supervisor.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
