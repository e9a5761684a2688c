"""One open lesson page: its kernel, its slider values, and the figures it shows.

Slider moves are merged last-write-wins: the page may send a move on every input event, the
session keeps only the newest pending values and computes them when the kernel is free, so no
stale value is ever computed after a newer one arrived and the page never waits on old moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable

import numpy as np

from app.config import Settings
from app.content.model import CellId, Lesson, Plot
from app.supervisor import Kernel, KernelDied, SandboxRefused, ServerFull, Supervisor
from app.plots.base import Options, PlotError, Result
from app.plots.registry import plot_kind
from app.protocol import (
    Check,
    CheckResult,
    ErrorMsg,
    FigureMsg,
    KCheck,
    KChecked,
    KEvaluate,
    KEvaluated,
    KEvaluatedMany,
    KEvaluateMany,
    KExec,
    KExecDone,
    KTrain,
    Output,
    PatchMsg,
    PlotProblem,
    Progress,
    Ready,
    Run,
    ServerMessage,
    Slide,
    Status,
    Train,
    TrainState,
)
from app.web.observer import NoObserver, SessionObserver

log = logging.getLogger("descent.session")
Send = Callable[[ServerMessage], Awaitable[None]]
MAX_ARRAY_VALUES = 1_000_000


def decode_result(reply: KEvaluated) -> Result:
    """Arrays and scalars from a kernel, checked: shapes match bytes, sizes are bounded."""
    result: Result = {}
    for name, arr in reply.arrays.items():
        count = int(np.prod(arr.shape)) if arr.shape else 1
        if any(d < 0 for d in arr.shape) or count > MAX_ARRAY_VALUES or len(arr.data) != count * 8:
            raise PlotError("The kernel sent a malformed array.")
        result[name] = np.frombuffer(arr.data, dtype="<f8").reshape(arr.shape)
    for name, value in reply.scalars.items():
        result[name] = value
    for name, texts in reply.texts.items():
        result[name] = [str(t)[:80] for t in texts[:64]]
    return result


class Session:
    """The server side of one page's WebSocket."""

    def __init__(
        self,
        lesson: Lesson,
        supervisor: Supervisor,
        settings: Settings,
        send: Send,
        observer: SessionObserver | None = None,
        learner: str = "",
    ) -> None:
        self.lesson, self.supervisor, self.settings, self.send = lesson, supervisor, settings, send
        self.observer: SessionObserver = observer or NoObserver()
        self.learner = learner
        self.values: dict[str, float] = lesson.initial_values()
        self.code: dict[str, str] = {cid: cell.code for cid, cell in lesson.cells.items()}
        self.options: dict[str, Options] = {
            pid: plot_kind(p.kind).parse_options(p.options) for pid, p in lesson.plots.items()
        }
        self.kernel: Kernel | None = None
        self.pending: dict[str, float] = {}
        self.pending_seq = 0
        self.wake = asyncio.Event()
        self.ids = itertools.count(1)
        self.worker: asyncio.Task[None] | None = None
        self.shown: set[str] = set()
        self.starting = asyncio.Lock()
        self.playing: dict[str, asyncio.Task[None]] = {}
        self.stopping: set[asyncio.Task[None]] = set()
        self.frame_s = 1 / 40

    # ------------------------------------------------------------------ lifecycle

    async def open(self, cells: dict[str, str] | None = None) -> None:
        """Start the kernel, run the page's cells in order, draw every plot."""
        if cells:
            for cid, code in cells.items():
                if cid in self.code and self.lesson.cells[CellId(cid)].editable:
                    self.code[cid] = code
        self.worker = asyncio.create_task(self._slide_worker())
        await self.observer.opened(self)
        await self._start_kernel()

    async def close(self) -> None:
        for task in self.playing.values():
            task.cancel()
        await self.observer.closed(self)
        if self.worker:
            self.worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.worker
        if self.kernel:
            await self.supervisor.release(self.kernel)
            self.kernel = None

    async def _stop_playing(self) -> None:
        """Stop every training run after its frame in flight."""
        playing = dict(self.playing)
        self.playing.clear()
        self.stopping.update(playing.values())
        if playing:
            await asyncio.wait(playing.values())
        for plot_id in playing:
            await self.send(TrainState(plot_id, False))

    async def restart(self) -> None:
        await self._stop_playing()
        if self.kernel:
            await self.supervisor.release(self.kernel)
            self.kernel = None
        self.shown.clear()
        await self._start_kernel()

    def interrupt(self) -> None:
        if self.kernel:
            self.kernel.interrupt()

    async def _start_kernel(self) -> None:
        async with self.starting:
            await self.send(Status("starting", "Starting your kernel…"))
            try:
                self.kernel = await self.supervisor.acquire(allow=self.lesson.sandbox)
            except ServerFull as err:
                await self.send(Status("full", str(err)))
                return
            except SandboxRefused as err:
                await self.send(Status("refused", str(err)))
                return
            except (KernelDied, TimeoutError) as err:
                await self.send(
                    Status("dead", getattr(err, "message", "The kernel did not start."))
                )
                return
            mode = "strict" if self.supervisor.layers.complete else "weak"
            await self.send(Ready(self.kernel.device, mode))
            for cid in self.lesson.cells:
                await self._exec(cid, self.code[cid], seq=0)
            await self._draw_all(seq=0, whole=True)
            await self.send(Status("idle"))

    async def _lost(self, err: KernelDied) -> None:
        await self.send(Status("dead", err.message))
        self.kernel = None
        self.shown.clear()

    # ------------------------------------------------------------------ requests

    async def run(self, msg: Run) -> None:
        cell = self.lesson.cells.get(msg.cell)  # type: ignore[call-overload]
        if cell is None:
            await self.send(ErrorMsg(f"There is no code cell {msg.cell!r} on this page."))
            return
        if not cell.editable and msg.code != cell.code:
            await self.send(ErrorMsg(f"Cell {msg.cell!r} cannot be edited."))
            return
        self.code[msg.cell] = msg.code
        refused = self.observer.run_refused(self)  # the classroom's per-learner rate limit
        if refused:
            await self.send(Output(msg.cell, False, error=refused, seq=msg.seq))
            return
        async with self.starting:
            pass
        if not self.kernel:
            await self._start_kernel()
            return
        await self.send(Status("busy", "Running…"))
        ok = await self._exec(msg.cell, msg.code, msg.seq)
        await self.observer.ran(self, msg.cell, msg.code, ok)
        if self.kernel:
            if ok:
                await self._draw_all(msg.seq, whole=True)
            await self.send(Status("idle"))

    async def _exec(self, cid: str, code: str, seq: int) -> bool:
        if not self.kernel:
            return False
        limit = self.settings.output_limit_kb * 1024
        try:
            async with self.supervisor.compute:
                reply = await self.kernel.request(
                    KExec(next(self.ids), cid, code, limit),
                    self.settings.cell_timeout_s,
                    f"{self.settings.cell_timeout_s:g} seconds",
                    on_progress=lambda p: self.send(Progress(cid, p.done, p.total, p.label)),
                )
        except KernelDied as err:
            await self.send(Output(cid, False, error=err.message, seq=seq))
            await self._lost(err)
            return False
        if not isinstance(reply, KExecDone):
            return False
        await self.send(
            Output(
                cid,
                reply.ok,
                reply.stdout,
                reply.stderr,
                reply.error,
                reply.error_line,
                reply.truncated,
                seq,
            )
        )
        return reply.ok

    async def check(self, msg: Check) -> None:
        ex = self.lesson.exercises.get(msg.exercise)  # type: ignore[call-overload]
        if ex is None:
            await self.send(ErrorMsg(f"There is no exercise {msg.exercise!r} on this page."))
            return
        async with self.starting:
            pass
        if not self.kernel:
            await self.send(
                CheckResult(
                    msg.exercise, False, "Your kernel is not running. Press Restart.", msg.seq
                )
            )
            return
        try:
            async with self.supervisor.compute:
                reply = await self.kernel.request(
                    KCheck(next(self.ids), ex.id, ex.check, ex.params),
                    self.settings.call_timeout_s,
                    f"{self.settings.call_timeout_s:g} seconds",
                )
        except KernelDied as err:
            await self.send(CheckResult(msg.exercise, False, err.message, msg.seq))
            await self._lost(err)
            return
        if isinstance(reply, KChecked):
            await self.send(CheckResult(msg.exercise, reply.passed, reply.message, msg.seq))
            await self.observer.checked(self, msg.exercise, reply.passed)

    # ------------------------------------------------------------------ sliders

    def slide(self, msg: Slide) -> str:
        """Merge new values (last write wins); returns a problem to show, or ""."""
        for name, value in msg.values.items():
            slider = self.lesson.sliders.get(name)
            if slider is None:
                return f"There is no slider {name!r} on this page."
            if not np.isfinite(value) or not slider.accepts(value):
                return f"{name} = {value} is outside its range [{slider.min:g}, {slider.max:g}]."
        self.pending.update(msg.values)
        self.pending_seq = max(self.pending_seq, msg.seq)
        self.wake.set()
        return ""

    async def _slide_worker(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            if not self.pending:
                continue
            changed = set(self.pending)
            self.values.update(self.pending)
            seq = self.pending_seq
            self.pending = {}
            await self.observer.values_changed(self, dict(self.values))
            if self.kernel and not self.starting.locked():
                plots = [p for p in self.lesson.plots.values() if changed & set(p.sliders)]
                if len(plots) == 1:
                    await self._draw(plots[0], seq, whole=plots[0].id not in self.shown)
                elif plots:
                    await self._draw_many(plots, seq)

    # ------------------------------------------------------------------ training

    async def train(self, msg: Train) -> None:
        plot = self.lesson.plots.get(msg.plot)  # type: ignore[call-overload]
        if plot is None or not hasattr(plot_kind(plot.kind), "advance"):
            await self.send(ErrorMsg(f"There is no training plot {msg.plot!r} on this page."))
            return
        speed = max(1, min(msg.speed, 10_000))
        task = self.playing.pop(plot.id, None)
        if task:
            # Let the frame in flight finish (at most one frame): cancelling it mid-request
            # would leave its reply on the kernel's channel.
            self.stopping.add(task)
            await asyncio.wait({task})
        if msg.action == "play":
            self.playing[plot.id] = asyncio.create_task(self._play(plot, speed, msg))
        elif msg.action == "step":
            await self._frame(plot, speed, reset=False, seq=0)
        elif msg.action == "reset":
            await self._frame(plot, 0, reset=True, seq=0)
        await self.send(TrainState(plot.id, plot.id in self.playing))

    async def _play(self, plot: Plot, speed: int, msg: Train) -> None:
        """Frames paced to the page: the next chunk is asked for only after this one went out."""
        loop = asyncio.get_running_loop()
        try:
            me = asyncio.current_task()
            while me not in self.stopping:
                start = loop.time()
                if not await self._frame(plot, speed, reset=False, seq=0):
                    break
                await asyncio.sleep(max(0.0, self.frame_s - (loop.time() - start)))
        finally:
            self.stopping.discard(asyncio.current_task())
            if self.playing.get(plot.id) is asyncio.current_task():
                del self.playing[plot.id]
                await self.send(TrainState(plot.id, False))

    async def _frame(self, plot: Plot, iterations: int, reset: bool, seq: int) -> bool:
        """One training frame; False when training must stop (error or divergence)."""
        if not self.kernel:
            return False
        try:
            reply = await self.kernel.request(
                KTrain(next(self.ids), plot.id, plot.kind, plot.options, iterations, reset),
                self.settings.call_timeout_s,
                f"{self.settings.call_timeout_s:g} seconds",
            )
        except KernelDied as err:
            await self._lost(err)
            return False
        if not isinstance(reply, KEvaluated):
            return False
        if reply.error:
            await self.send(PlotProblem(plot.id, reply.error, seq))
            return False
        if "loss" not in reply.scalars or not all(np.isfinite(list(reply.scalars.values()))):
            it = int(reply.scalars.get("iteration", 0))
            await self.send(
                PlotProblem(
                    plot.id,
                    f"Training diverged at iteration {it}: the parameters or the loss became "
                    "infinite or NaN. The last finite state stays on screen. Try a smaller "
                    "learning rate, then press Reset.",
                    seq,
                )
            )
            return False
        kind, options = plot_kind(plot.kind), self.options[plot.id]
        result = decode_result(reply)
        patch = kind.reset_patch(options, result) if reset else kind.patch(options, result)  # type: ignore[attr-defined]
        await self.send(PatchMsg(plot.id, patch, seq, kind.shown_readouts(reply.scalars)))
        params: dict[str, float] = {k: reply.scalars[k] for k in ("w", "b") if k in reply.scalars}
        if params:
            await self.observer.values_changed(self, params)
        return True

    # ------------------------------------------------------------------ plots

    async def _draw_all(self, seq: int, whole: bool) -> None:
        for plot in self.lesson.plots.values():
            if not self.kernel:
                return
            await self._draw(plot, seq, whole)

    def _evaluate(self, plot: Plot, whole: bool) -> KEvaluate:
        values = {name: self.values[name] for name in plot.sliders}
        return KEvaluate(next(self.ids), plot.id, plot.kind, plot.options, values, whole)

    async def _draw(self, plot: Plot, seq: int, whole: bool) -> None:
        if not self.kernel:
            return
        try:
            reply = await self.kernel.request(
                self._evaluate(plot, whole),
                self.settings.call_timeout_s,
                f"{self.settings.call_timeout_s:g} seconds",
                on_progress=lambda p: self.send(Progress(plot.id, p.done, p.total, p.label)),
            )
        except KernelDied as err:
            await self._lost(err)
            return
        if isinstance(reply, KEvaluated):
            await self._show(plot, reply, seq, whole)

    async def _draw_many(self, plots: list[Plot], seq: int) -> None:
        """Every plot a slider move changed, in one round trip to the kernel."""
        if not self.kernel:
            return
        wholes = [p.id not in self.shown for p in plots]
        items = [self._evaluate(p, whole) for p, whole in zip(plots, wholes, strict=True)]
        try:
            reply = await self.kernel.request(
                KEvaluateMany(next(self.ids), items),
                self.settings.call_timeout_s,
                f"{self.settings.call_timeout_s:g} seconds",
            )
        except KernelDied as err:
            await self._lost(err)
            return
        if isinstance(reply, KEvaluatedMany):
            for plot, whole, result in zip(plots, wholes, reply.results, strict=True):
                await self._show(plot, result, seq, whole)

    async def _show(self, plot: Plot, reply: KEvaluated, seq: int, whole: bool) -> None:
        """A plot's numbers to the page: a whole figure, a patch, or the problem in words."""
        if reply.error:
            self.shown.discard(plot.id)
            await self.send(PlotProblem(plot.id, reply.error, seq))
            return
        kind, options = plot_kind(plot.kind), self.options[plot.id]
        try:
            result = decode_result(reply)
            readouts = kind.shown_readouts(reply.scalars)
            if whole:
                await self.send(FigureMsg(plot.id, kind.figure(options, result), seq, readouts))
                self.shown.add(plot.id)
            else:
                await self.send(PatchMsg(plot.id, kind.patch(options, result), seq, readouts))
        except (PlotError, KeyError, ValueError) as err:
            log.warning("plot %s got unusable numbers: %s", plot.id, err)
            await self.send(
                PlotProblem(plot.id, f"The plot could not use the numbers it got: {err}", seq)
            )
