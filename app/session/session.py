"""One open lesson page: its kernel's life (start, restart, close), its Runs and Checks, put
together with the slider queue, the figures and the training plots of the page."""

from __future__ import annotations

from app.config import Settings
from app.content.model import Lesson
from app.content.names import plots_fed_by
from app.protocol import (
    CellId,
    Check,
    CheckResult,
    DataLoad,
    DataReset,
    ErrorMsg,
    KCheck,
    KChecked,
    KExec,
    KExecDone,
    LearnerId,
    Output,
    PlotProblem,
    Progress,
    Ready,
    Run,
    ServerMessage,
    Slide,
    Status,
    Train,
)
from app.session.data import PageData
from app.session.figures import Figures
from app.session.hooks import DataKeeper, NoObserver, SessionObserver
from app.session.link import KernelLink, Send
from app.session.sliders import SlideQueue
from app.session.training import Trainer
from app.supervisor import Kernel, KernelDied, SandboxRefused, ServerFull, Supervisor


class Session:
    """The server side of one page's WebSocket."""

    def __init__(
        self,
        lesson: Lesson,
        supervisor: Supervisor,
        settings: Settings,
        send: Send,
        observer: SessionObserver | None = None,
        learner: LearnerId | None = None,
    ) -> None:
        self.lesson, self.settings, self.learner = lesson, settings, learner
        self.observer: SessionObserver = observer or NoObserver()
        self.link = KernelLink(lesson, supervisor, settings, send)
        self.code: dict[CellId, str] = {cid: cell.code for cid, cell in lesson.cells.items()}
        self.sliders = SlideQueue(lesson, self._slid)
        self.figures = Figures(self.link, self.sliders.values)
        self.trainer = Trainer(self.link, self.figures, self._trained)
        keeper = self.observer if isinstance(self.observer, DataKeeper) else None
        self.data = PageData(self.link, keeper, self)

    @property
    def kernel(self) -> Kernel | None:
        return self.link.kernel

    async def send(self, msg: ServerMessage) -> None:
        await self.link.send(msg)

    # ------------------------------------------------------------------ lifecycle

    async def open(self, cells: dict[CellId, str] | None = None) -> None:
        """Start the kernel, run the page's cells in order, draw every plot."""
        for cid, code in (cells or {}).items():
            cell = self.lesson.cells.get(cid)
            if cell is not None and cell.editable:
                self.code[cid] = code
        self.sliders.start()
        await self.observer.opened(self)
        await self._start_kernel()

    async def close(self) -> None:
        self.trainer.cancel_all()
        await self.observer.closed(self)
        await self.sliders.stop()
        await self.link.release()

    async def restart(self) -> None:
        await self.trainer.stop_all()
        await self.link.release()
        self.figures.shown.clear()
        await self._start_kernel()

    def interrupt(self) -> None:
        if self.link.kernel:
            self.link.kernel.interrupt()

    async def _start_kernel(self) -> None:
        link = self.link
        async with link.starting:
            await self.send(Status("starting", "Starting your kernel…"))
            try:
                link.kernel = await link.supervisor.acquire(allow=self.lesson.sandbox)
            except ServerFull as err:
                await self.send(Status("full", str(err)))
                return
            except SandboxRefused as err:
                await self.send(Status("refused", str(err)))
                return
            except (KernelDied, TimeoutError) as err:
                words = getattr(err, "message", "The kernel did not start.")
                await self.send(Status("dead", words))
                return
            mode = "strict" if link.supervisor.layers.complete else "weak"
            await self.send(Ready(link.kernel.device, mode))
            for cid in self.lesson.cells:
                await self._exec(cid, self.code[cid], seq=0)
                if link.kernel is None:
                    return  # it died running the page's code: the page was told so
            await self.data.restore()  # the learner's own data, bound after the cells
            await self.figures.draw_all(seq=0, whole=True)
            if link.kernel is not None:  # a kernel that died drawing is not ready
                await self.send(Status("idle"))

    async def _ready(self) -> bool:
        """Whether a kernel is there, once any start in progress is done."""
        async with self.link.starting:
            pass
        return self.link.kernel is not None

    # ------------------------------------------------------------------ run and check

    async def run(self, msg: Run) -> None:
        cell = self.lesson.cells.get(msg.cell)
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
        if not await self._ready():
            await self._start_kernel()
            return
        await self.send(Status("busy", "Running…"))
        ok = await self._exec(msg.cell, msg.code, msg.seq)
        await self.observer.ran(self, msg.cell, msg.code, ok)
        if self.link.kernel:
            if ok:
                await self.figures.draw_all(msg.seq, whole=True)
            else:  # the plots this cell feeds no longer match the code on the page: grey them
                words = (
                    f"Cell {msg.cell} did not run to the end, so this plot still shows the code "
                    "before your change. Fix the error and press Run."
                )
                for plot in plots_fed_by(cell.code, self.lesson.plots.values()):
                    await self.send(PlotProblem(plot.id, words, msg.seq))
            await self.send(Status("idle"))

    async def _exec(self, cid: CellId, code: str, seq: int) -> bool:
        if not self.link.kernel:
            return False
        limit = self.settings.output_limit_kb * 1024
        try:
            async with self.link.supervisor.compute:
                reply = await self.link.request(
                    KExec(self.link.next_id(), cid, code, limit),
                    self.settings.cell_timeout_s,
                    on_progress=lambda p: self.send(Progress(cid, p.done, p.total, p.label)),
                )
        except KernelDied as err:
            await self.send(Output(cid, False, error=err.message, seq=seq))
            await self.link.lost(err)
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
        ex = self.lesson.exercises.get(msg.exercise)
        if ex is None:
            await self.send(ErrorMsg(f"There is no exercise {msg.exercise!r} on this page."))
            return
        if not await self._ready():
            words = "Your kernel is not running. Press Restart."
            await self.send(CheckResult(msg.exercise, False, words, msg.seq))
            return
        try:
            async with self.link.supervisor.compute:
                bundle = str(self.lesson.folder)  # where the kernel finds the lesson's checks
                reply = await self.link.request(
                    KCheck(self.link.next_id(), ex.id, ex.check, ex.params, bundle),
                    self.settings.call_timeout_s,
                )
        except KernelDied as err:
            await self.send(CheckResult(msg.exercise, False, err.message, msg.seq))
            await self.link.lost(err)
            return
        if isinstance(reply, KChecked):
            await self.send(CheckResult(msg.exercise, reply.passed, reply.message, msg.seq))
            await self.observer.checked(self, msg.exercise, reply.passed)

    # ------------------------------------------------------------------ the learner's data

    async def load_data(self, msg: DataLoad) -> None:
        """The learner's own file: parsed in the kernel, then every plot drawn whole from it."""
        if not await self._ready():
            await self.data.state(msg.seq, False, "Your kernel is not running. Press Restart.")
            return
        await self.trainer.stop_all()
        await self.send(Status("busy", "Loading your data…"))
        if await self.data.load(msg.content, msg.name, msg.seq, msg.keep) and self.link.kernel:
            await self.figures.draw_all(msg.seq, whole=True)
        if self.link.kernel:
            await self.send(Status("idle"))

    async def reset_data(self, msg: DataReset) -> None:
        """Back to the lesson's data: the cells run again to make it, then every plot."""
        if not await self._ready():
            return
        await self.trainer.stop_all()
        await self.send(Status("busy", "Back to the lesson's data…"))
        if await self.data.reset(msg.seq, msg.forget):
            for cid in self.lesson.cells:
                await self._exec(cid, self.code[cid], msg.seq)
                if self.link.kernel is None:
                    return
            await self.figures.draw_all(msg.seq, whole=True)
        if self.link.kernel:
            await self.send(Status("idle"))

    # ------------------------------------------------------------------ sliders and training

    def slide(self, msg: Slide) -> str:
        """Merge new slider values (last write wins); a problem to show, or ""."""
        return self.sliders.offer(msg)

    async def _slid(self, moved: set[str], values: dict[str, float], seq: int) -> None:
        # The page first, the observer (the teacher's class landscape, sent a few times a
        # second) after: its bookkeeping is not on the way of the learner's patch.
        try:
            if self.link.kernel and not self.link.starting.locked():
                await self.figures.draw_moved(moved, seq, coarse=self.sliders.coarse)
        finally:
            await self.observer.values_changed(self, dict(values))

    async def train(self, msg: Train) -> None:
        await self.trainer.train(msg)

    async def _trained(self, values: dict[str, float]) -> None:
        await self.observer.values_changed(self, values)
