"""Training plots, played: Play asks the kernel for `speed` more iterations, sends the page one
patch, waits out the rest of the frame and repeats. The next chunk is asked for only after the
previous frame went out, so the page never lags the kernel, and Pause takes effect at the next
frame. What a frame means (which scalar is the loss, which values move) is the plot kind's."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Any

from app.content.model import Plot
from app.plots.base import TrainablePlotKind
from app.plots.registry import plot_kind
from app.protocol import (
    ErrorMsg,
    KEvaluated,
    KTrain,
    PatchMsg,
    PlotId,
    PlotProblem,
    Train,
    TrainState,
)
from app.session.figures import Figures, decode_result
from app.session.link import KernelLink
from app.supervisor import KernelDied

#: Seconds per frame while a training plot plays (40 frames a second at most).
FRAME_S = 1 / 40
#: Told the values a training frame moved.
Moved = Callable[[dict[str, float]], Awaitable[None]]


class Trainer:
    """The training plots of one page: which are playing, and their frames."""

    def __init__(self, link: KernelLink, figures: Figures, moved: Moved) -> None:
        self.link, self.figures, self.moved = link, figures, moved
        self.playing: dict[PlotId, asyncio.Task[None]] = {}
        #: Plays asked to stop; each finishes the frame in flight first.
        self.stopping: set[asyncio.Task[None]] = set()
        self.frame_s = FRAME_S
        #: The newest start asked for per plot while a place is in flight (last write wins).
        self.places: dict[PlotId, list[float]] = {}

    def trainable(self, plot_id: PlotId) -> tuple[Plot, TrainablePlotKind[Any]] | None:
        plot = self.link.lesson.plots.get(plot_id)
        if plot is None:
            return None
        kind = plot_kind(plot.kind)
        return (plot, kind) if isinstance(kind, TrainablePlotKind) else None

    async def train(self, msg: Train) -> None:
        found = self.trainable(msg.plot)
        if found is None:
            await self.link.send(ErrorMsg(f"There is no training plot {msg.plot!r} on this page."))
            return
        plot, kind = found
        if msg.action == "place":
            problem = self._place_problem(kind, msg.at)
            if problem:
                await self.link.send(ErrorMsg(problem))
                return
            assert msg.at is not None
            placing = plot.id in self.places
            self.places[plot.id] = msg.at
            if placing:
                return  # the place in flight picks the newest start up when it is done
        speed = max(1, min(msg.speed, 10_000))
        task = self.playing.pop(plot.id, None)
        if task:
            # Let the frame in flight finish (at most one frame): cancelling it mid-request
            # would leave its reply on the kernel's channel.
            self.stopping.add(task)
            await asyncio.wait({task})
        if msg.action == "play":
            self.playing[plot.id] = asyncio.create_task(self._play(plot, kind, speed))
        elif msg.action == "step":
            await self._frame(plot, kind, speed, reset=False)
        elif msg.action == "reset":
            await self._frame(plot, kind, 0, reset=True)
        elif msg.action == "place":
            try:
                while (at := self.places.get(plot.id)) is not None:
                    await self._frame(plot, kind, 0, reset=True, start=at)
                    if self.places.get(plot.id) is at:
                        break
            finally:
                self.places.pop(plot.id, None)
        await self.link.send(TrainState(plot.id, plot.id in self.playing))

    @staticmethod
    def _place_problem(kind: TrainablePlotKind[Any], at: list[float] | None) -> str:
        """Words for a start that cannot be used, or "" when it can."""
        if not kind.placeable:
            return "This plot's start cannot be moved: it starts where your code puts it."
        if at is None or len(at) != 2 or not all(math.isfinite(v) for v in at):
            return "A start needs two finite numbers, such as [w, b]."
        return ""

    async def stop_all(self) -> None:
        """Stop every training run after its frame in flight."""
        playing = dict(self.playing)
        self.playing.clear()
        self.stopping.update(playing.values())
        if playing:
            await asyncio.wait(playing.values())
        for plot_id in playing:
            await self.link.send(TrainState(plot_id, False))

    def cancel_all(self) -> None:
        """The page is gone: nobody waits for the frames in flight."""
        for task in self.playing.values():
            task.cancel()

    async def _play(self, plot: Plot, kind: TrainablePlotKind[Any], speed: int) -> None:
        """Frames paced to the page: the next chunk is asked for only after this one went out."""
        loop = asyncio.get_running_loop()
        try:
            me = asyncio.current_task()
            while me not in self.stopping:
                start = loop.time()
                if not await self._frame(plot, kind, speed, reset=False):
                    break
                await asyncio.sleep(max(0.0, self.frame_s - (loop.time() - start)))
        finally:
            self.stopping.discard(asyncio.current_task())
            if self.playing.get(plot.id) is asyncio.current_task():
                del self.playing[plot.id]
                await self.link.send(TrainState(plot.id, False))

    async def _frame(
        self,
        plot: Plot,
        kind: TrainablePlotKind[Any],
        iterations: int,
        reset: bool,
        start: list[float] | None = None,
    ) -> bool:
        """One training frame; False when training must stop (error or divergence)."""
        if not self.link.kernel:
            return False
        req = KTrain(
            self.link.next_id(), plot.id, plot.kind, plot.options, iterations, reset, start
        )
        try:
            reply = await self.link.request(req, self.link.settings.call_timeout_s)
        except KernelDied as err:
            await self.link.lost(err)
            return False
        if not isinstance(reply, KEvaluated):
            return False
        if reply.error:
            await self.link.send(PlotProblem(plot.id, reply.error, 0))
            return False
        diverged = kind.divergence(reply.scalars)
        if diverged:
            await self.link.send(PlotProblem(plot.id, diverged, 0))
            return False
        options = self.figures.options[plot.id]
        result = decode_result(reply)
        patch = kind.reset_patch(options, result) if reset else kind.patch(options, result)
        await self.link.send(
            PatchMsg(plot.id, patch, 0, kind.shown_readouts(options, reply.scalars))
        )
        moved = kind.trained_values(options, reply.scalars)
        if moved:
            await self.moved(moved)
        return True
