"""The web process's side of the sandbox: one zygote, the kernels it forks, their deadlines, the
watchdogs that look at them from outside, and the plain words for every way a kernel can end.

Nothing a kernel sends is trusted: each reply is decoded strictly into its type, must answer the
request it follows, and must be well formed; anything else ends that kernel, never the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, NewType

import msgspec

from app.config import Settings
from app.kernel.channel import ChannelClosed, ChannelViolation, frame, read_frame
from app.kernel.confine import memory_words
from app.kernel.hostproc import (
    anonymous_bytes,
    available_bytes,
    children,
    cpu_or_zero,
    cpu_seconds,
    descendants,
    find_host_pid,
)
from app.kernel.replies import RESTART, death_message, reply_problem, timed_out
from app.kernel.sandbox import (
    Layers,
    identity_arguments,
    kernel_limits,
    probe_layers,
    zygote_command,
    zygote_environment,
)
from app.protocol import (
    Allowance,
    KernelReply,
    KernelRequest,
    KFailed,
    KHello,
    KProgress,
    ZExited,
    ZReady,
    ZSignal,
    ZSpawn,
    ZSpawned,
    reply_decoder,
    request_encoder,
    zygote_event_decoder,
)

log = logging.getLogger("descent.kernel")
KernelId = NewType("KernelId", int)

#: Kernels kept forked and confined ahead of need, so that a new session starts at once.
POOL_SIZE = 2
#: After a deadline: SIGINT, repeated every INTERRUPT_REPEAT_S (one may land between learner
#: lines and be dropped), then SIGKILL once INTERRUPT_GRACE_S have passed without a reply.
INTERRUPT_GRACE_S = 1.0
INTERRUPT_REPEAT_S = 0.2
#: Watchdogs between requests, every WATCH_INTERVAL_S.
WATCH_INTERVAL_S = 1.0
#: A kernel that is not answering a request but uses more than this share of a core for
#: IDLE_CPU_STRIKES intervals in a row (a thread left spinning) is stopped.
IDLE_CPU_SHARE = 0.05
IDLE_CPU_STRIKES = 2
#: When the host's available memory falls below this, the kernel that grew most is stopped.
MEMORY_RESERVE_BYTES = 256 * 1024 * 1024
#: Progress reports a kernel may send per second (the runtime sends at most ten).
MAX_PROGRESS_PER_S = 100


class KernelDied(Exception):
    """The kernel is gone; `message` tells the learner what happened and what to do."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


class ServerFull(Exception):
    """No more kernels may start now."""


class SandboxRefused(Exception):
    """The host lacks a sandbox layer and weak mode is not allowed."""


# ------------------------------------------------------------------ kernels


class Kernel:
    """One learner's kernel: a channel, one request at a time, a deadline for each."""

    def __init__(self, kid: KernelId, pid: int, zygote: Zygote, sock: socket.socket) -> None:
        self.id, self.pid, self.zygote, self.sock = kid, pid, zygote, sock
        self.lock = asyncio.Lock()
        self.exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.device = "cpu"
        self.last_used = time.monotonic()
        self.dead: KernelDied | None = None
        self.busy = False
        #: The kernel's pid on the host (None where /proc does not tell); for the watchdogs.
        self.host_pid: int | None = None
        self.base_memory = 0
        self._cpu = (0.0, 0.0)  # (monotonic time, CPU seconds) at the last watchdog sample
        self._strikes = 0
        self._kill_reason: tuple[str, str] | None = None
        self._pending: asyncio.Task[bytes] | None = None
        self._progress: list[float] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._requests = 0
        #: The lesson's sandbox allowance this kernel was started with (None: the plain one).
        self.allow: Allowance | None = None

    async def connect(self, timeout: float) -> None:
        self.reader, self.writer = await asyncio.open_unix_connection(sock=self.sock)
        try:
            reply = await self._read(timeout)
        except TimeoutError:
            await self.kill("sandbox", "The kernel did not start in time. Press Restart.")
            raise self.dead or KernelDied("sandbox", "The kernel did not start.") from None
        if isinstance(reply, KFailed):
            log.error("a kernel could not confine itself: %s", reply.message)
        if not isinstance(reply, KHello):
            await self.kill(
                "sandbox", "The sandbox could not be set up for your kernel. Tell your teacher."
            )
            raise self.dead or KernelDied("sandbox", "The kernel did not start properly.")
        self.device = reply.device

    async def _read(self, timeout: float) -> KernelReply:
        """The next reply. A timeout leaves the frame being read in place for the next call,
        so a deadline never cuts a frame in half."""
        assert self.reader is not None
        if self._pending is None:
            self._pending = asyncio.ensure_future(read_frame(self.reader))
        read = self._pending
        waiting: set[asyncio.Future[Any]] = {read, self.exited}
        done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if read in done:
            self._pending = None
            try:
                reply: KernelReply = reply_decoder.decode(read.result())
                return reply
            except ChannelClosed:
                await self._await_exit()
            except (ChannelViolation, msgspec.DecodeError, msgspec.ValidationError) as err:
                await self._violation(str(err))
        elif self.exited.done():
            await self._await_exit()
        else:
            raise TimeoutError
        raise self.dead or KernelDied("exit", "The kernel ended.")

    async def _violation(self, problem: str) -> None:
        log.warning("kernel %s broke the protocol: %s", self.pid, problem)
        await self.kill(
            "protocol",
            f"Your kernel sent something that is not a valid message, so it was stopped. {RESTART}",
        )

    async def _close(self) -> None:
        """Let go of the channel: the frame being read, then the socket."""
        self._drop_pending()
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.writer.wait_closed(), 1.0)

    def _drop_pending(self) -> None:
        """Forget the frame being read: the kernel is gone."""
        read, self._pending = self._pending, None
        if read is not None:
            if read.done() and not read.cancelled():
                read.exception()  # retrieved: a closed channel is expected here
            read.cancel()

    async def _await_exit(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.exited), 2.0)
        if self.dead is None:
            if self._kill_reason:
                self.dead = KernelDied(*self._kill_reason)
            elif self.exited.done():
                self.dead = KernelDied(*death_message(self.exited.result(), self.zygote.settings))
            else:
                self.dead = KernelDied("exit", f"The kernel closed its channel. {RESTART}")
        await self._close()

    async def request(
        self,
        req: KernelRequest,
        timeout: float,
        limit_words: str,
        on_progress: Callable[[KProgress], object] | None = None,
    ) -> KernelReply:
        """Send one request and wait for its reply; past the deadline interrupt, then kill.

        Progress reports the kernel sends meanwhile go to `on_progress` (at most
        MAX_PROGRESS_PER_S a second; a kernel that floods them is stopped)."""
        if self.dead:
            raise self.dead
        async with self.lock:
            if self.dead:
                raise self.dead
            assert self.writer is not None
            self.busy = True
            self._requests += 1
            self.last_used = time.monotonic()
            self._progress = []
            try:
                self.writer.write(frame(request_encoder.encode(req)))
                try:
                    return await self._reply(req, time.monotonic() + timeout, on_progress)
                except TimeoutError:
                    pass
                give_up = time.monotonic() + INTERRUPT_GRACE_S
                while time.monotonic() < give_up:
                    self.zygote.signal(self.pid, signal.SIGINT)
                    step = min(time.monotonic() + INTERRUPT_REPEAT_S, give_up)
                    try:
                        reply = await self._reply(req, step, on_progress)
                    except TimeoutError:
                        continue
                    return timed_out(reply, limit_words)
                await self.kill(
                    "timeout",
                    f"Your code ran for more than {limit_words} and did not stop when "
                    "interrupted, so the kernel was stopped. Look for an endless loop, then "
                    "press Restart.",
                )
                raise self.dead or KernelDied("timeout", "stopped")
            finally:
                self.busy = False
                self.last_used = time.monotonic()

    async def _reply(
        self,
        req: KernelRequest,
        deadline: float,
        on_progress: Callable[[KProgress], object] | None,
    ) -> KernelReply:
        """The reply to `req` by `deadline` (else TimeoutError), passing progress reports on."""
        while True:
            reply = await self._read(max(0.0, deadline - time.monotonic()))
            if isinstance(reply, KProgress):
                now = time.monotonic()
                self._progress = [t for t in self._progress if now - t < 1.0] + [now]
                if len(self._progress) > MAX_PROGRESS_PER_S:
                    problem = "a flood of progress reports"
                else:
                    # A report that names another request is stale: dropped, not obeyed.
                    if on_progress is not None and reply.id == req.id:
                        result = on_progress(reply)
                        if asyncio.iscoroutine(result):
                            await result
                    continue
            else:
                problem = reply_problem(req, reply)
            if problem:
                await self._violation(problem)
                raise self.dead or KernelDied("protocol", "stopped")
            return reply

    def interrupt(self) -> None:
        """Stop what the kernel runs now (the learner pressed Stop)."""
        if self.busy and not self.dead:
            task = asyncio.get_running_loop().create_task(self._interrupt(self._requests))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _interrupt(self, request: int) -> None:
        # SIGINT counts only while learner code runs: repeat it for a moment in case the first
        # one arrived just before (or just after) the learner's code started.
        for _ in range(int(INTERRUPT_GRACE_S / INTERRUPT_REPEAT_S)):
            if not self.busy or self.dead or self._requests != request:
                return
            self.zygote.signal(self.pid, signal.SIGINT)
            await asyncio.sleep(INTERRUPT_REPEAT_S)

    async def kill(self, reason: str, message: str) -> None:
        if self.dead is None:
            self._kill_reason = (reason, message)
            self.dead = KernelDied(reason, message)
        if not self.exited.done():
            self.zygote.signal(self.pid, signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.exited), 2.0)
        await self._close()

    # -------------------------------------------------------------- watchdog

    def watch(self, settings: Settings) -> tuple[str, str] | None:
        """One watchdog look from outside: (reason, words) when the kernel must be stopped."""
        if self.host_pid is None or self.dead:
            return None
        try:
            now, cpu = time.monotonic(), cpu_seconds(self.host_pid)
            grown = anonymous_bytes(self.host_pid) - self.base_memory
            if self.allow and self.allow.processes:  # its worker processes spin on its behalf
                cpu += sum(cpu_or_zero(p) for p in descendants(self.host_pid))
        except (OSError, ValueError, IndexError):
            return None
        then, before = self._cpu
        self._cpu = (now, cpu)
        idle_throughout = not self.busy and self.last_used < then
        if idle_throughout and now > then and (cpu - before) / (now - then) > IDLE_CPU_SHARE:
            self._strikes += 1
        else:
            self._strikes = 0
        if self._strikes >= IDLE_CPU_STRIKES:
            return "cpu", (
                "Your code kept the processor busy after it had finished (a thread left "
                f"running?), which slows down everyone else, so the kernel was stopped. {RESTART}"
            )
        if grown > settings.kernel_memory_mb * 1024 * 1024:
            return "memory", memory_words(settings.kernel_memory_mb)
        return None

    def grown(self) -> int:
        if self.host_pid is None or self.dead:
            return 0
        try:
            return anonymous_bytes(self.host_pid) - self.base_memory
        except (OSError, ValueError, IndexError):
            return 0


class Zygote:
    """The warm parent of every kernel, inside bubblewrap; restarted if it ever dies."""

    def __init__(self, settings: Settings, layers: Layers) -> None:
        self.settings, self.layers = settings, layers
        self.control: socket.socket | None = None
        self.proc: asyncio.subprocess.Process | None = None
        self.started: asyncio.Future[int] | None = None
        self.pending: dict[int, asyncio.Future[ZSpawned]] = {}
        self.kernels: dict[int, Kernel] = {}
        self.ids = itertools.count(1)
        self.task: asyncio.Task[None] | None = None
        self.start_lock = asyncio.Lock()
        #: The zygote's pid on the host, once it is ready.
        self.host_pid: int | None = None
        self.stderr_tail = b""

    @property
    def alive(self) -> bool:
        return (
            self.proc is not None
            and self.proc.returncode is None
            and self.task is not None
            and not self.task.done()
        )

    async def start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        cmd = zygote_command(self.settings, self.layers, theirs.fileno())
        self.proc = await asyncio.create_subprocess_exec(
            *cmd, pass_fds=(theirs.fileno(),), env=zygote_environment(),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, **identity_arguments(nice=5),
        )  # fmt: skip
        theirs.close()
        self.control = ours
        self.host_pid = None
        self.started = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(self._events(ours, self.proc, self.started))

    async def _drain(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        while chunk := await proc.stderr.read(4096):
            self.stderr_tail = (self.stderr_tail + chunk)[-4000:]

    async def _events(
        self, sock: socket.socket, proc: asyncio.subprocess.Process, started: asyncio.Future[int]
    ) -> None:
        drain = asyncio.create_task(self._drain(proc))
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        try:
            while True:
                event = zygote_event_decoder.decode(await read_frame(reader))
                if isinstance(event, ZReady):
                    self.host_pid = find_host_pid([proc.pid], event.pid)
                    if not started.done():
                        started.set_result(event.pid)
                elif isinstance(event, ZSpawned):
                    fut = self.pending.pop(event.id, None)
                    if fut and not fut.done():
                        fut.set_result(event)
                elif isinstance(event, ZExited):
                    kernel = self.kernels.pop(event.pid, None)
                    if kernel and not kernel.exited.done():
                        kernel.exited.set_result(event.code)
        except (
            ChannelClosed,
            ChannelViolation,
            msgspec.DecodeError,
            msgspec.ValidationError,
        ) as err:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(drain, 1.0)
            log.error("the zygote ended (%s): %s", err, self.stderr_tail.decode(errors="replace"))
            if not started.done():
                started.set_exception(
                    KernelDied("sandbox", "The kernel service could not start. Tell your teacher.")
                )
            for kernel in self.kernels.values():
                if not kernel.exited.done():
                    kernel.exited.set_result(-signal.SIGKILL)
            self.kernels.clear()
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(
                        KernelDied("zygote", f"The kernel service restarted. {RESTART}")
                    )
            self.pending.clear()
        finally:
            drain.cancel()
            writer.close()

    async def spawn(self, timeout: float = 30.0, allow: Allowance | None = None) -> Kernel:
        """A new kernel, with the lesson's allowance `allow` when one is given."""
        async with self.start_lock:
            if not self.alive:
                await self.stop()
                await self.start()
        assert self.started is not None and self.control is not None
        await asyncio.wait_for(asyncio.shield(self.started), timeout)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        rid = next(self.ids)
        fut: asyncio.Future[ZSpawned] = asyncio.get_running_loop().create_future()
        self.pending[rid] = fut
        limits = kernel_limits(self.settings, self.layers)
        if allow:
            limits = msgspec.structs.replace(
                limits, processes=allow.processes, loopback=allow.loopback
            )
        body = request_encoder.encode(ZSpawn(rid, limits))
        try:
            socket.send_fds(self.control, [len(body).to_bytes(4, "big")], [theirs.fileno()])
            self.control.sendall(body)
        except OSError:
            ours.close()
            self.pending.pop(rid, None)
            raise KernelDied("zygote", f"The kernel service restarted. {RESTART}") from None
        finally:
            theirs.close()
        try:
            spawned = await asyncio.wait_for(fut, timeout)
        except BaseException:
            ours.close()
            raise
        if spawned.error:
            ours.close()
            raise KernelDied("sandbox", f"A kernel could not start ({spawned.error}). Try again.")
        kernel = Kernel(KernelId(rid), spawned.pid, self, ours)
        kernel.allow = allow or None
        self.kernels[spawned.pid] = kernel
        if self.host_pid is not None:
            kernel.host_pid = find_host_pid(children(self.host_pid), spawned.pid, depth=1)
        try:
            await kernel.connect(timeout)
        except BaseException:
            await kernel.kill("sandbox", "The kernel did not start.")
            raise
        if kernel.host_pid is not None:
            with contextlib.suppress(OSError, ValueError, IndexError):
                kernel.base_memory = anonymous_bytes(kernel.host_pid)
                kernel._cpu = (time.monotonic(), cpu_seconds(kernel.host_pid))
        return kernel

    def signal(self, pid: int, signum: int) -> None:
        if self.control is None:
            return
        body = request_encoder.encode(ZSignal(pid, signum))
        with contextlib.suppress(OSError):
            self.control.sendall(len(body).to_bytes(4, "big") + body)

    async def stop(self) -> None:
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.proc and self.proc.returncode is None:
            # Its control socket closed, the zygote kills its kernels and exits; kill it if not.
            try:
                await asyncio.wait_for(self.proc.wait(), 2.0)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


class Supervisor:
    """All kernels of the server: the cap, the idle reaper, the watchdogs, the compute slots."""

    def __init__(self, settings: Settings, layers: Layers | None = None) -> None:
        self.settings = settings
        self.layers = layers or probe_layers()
        self.zygote = Zygote(settings, self.layers)
        self.live: set[Kernel] = set()
        self.starting = 0
        #: Kernels forked and confined ahead of need: a new session takes one at once.
        self.pool: list[Kernel] = []
        self.filling: asyncio.Task[None] | None = None
        slots = settings.busy_slots or os.cpu_count() or 1
        #: Held by the web layer while a kernel runs a cell or a check, so that no more kernels
        #: compute at once than there are cores; slider requests stay out of it.
        self.compute = asyncio.Semaphore(slots)
        self.reaper: asyncio.Task[None] | None = None
        self.watchdog: asyncio.Task[None] | None = None
        self.on_reap: Callable[[Kernel], Awaitable[None]] | None = None

    @property
    def refused(self) -> str:
        """Why learner code is refused here, or "" when it may run."""
        if self.layers.complete or self.settings.sandbox == "weak":
            return ""
        return (
            "This server cannot run learner code safely: the host lacks "
            + ", ".join(self.layers.missing)
            + ". An administrator can allow a weaker sandbox with DESCENT_SANDBOX=weak "
            "(trusted single-user installs only)."
        )

    async def start(self) -> None:
        if not self.refused:
            await self.zygote.start()
            self._fill()
        self.reaper = asyncio.create_task(self._reap_idle())
        self.watchdog = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        for task in (self.reaper, self.watchdog, self.filling):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for kernel in [*self.live, *self.pool]:
            await self.release(kernel)
        self.pool.clear()
        await self.zygote.stop()

    async def acquire(self, allow: Allowance | None = None) -> Kernel:
        """A kernel for a learner: one from the pool, or, for a lesson with a sandbox allowance
        (`allow`), always a fresh one started with it (pooled kernels have none)."""
        if self.refused:
            raise SandboxRefused(self.refused)
        self.live = {k for k in self.live if not k.dead}
        if len(self.live) + self.starting >= self.settings.max_kernels:
            raise ServerFull(
                f"The server is full: {self.settings.max_kernels} learners are running code "
                "right now. Try again in a minute."
            )
        kernel = None
        while self.pool and kernel is None and not allow:
            ready = self.pool.pop(0)
            if ready.dead or ready.exited.done():
                await ready.kill("closed", "The kernel was closed.")  # died waiting: let go
            else:
                kernel = ready
        if kernel is None:
            self.starting += 1
            try:
                kernel = await self.zygote.spawn(allow=allow)
            finally:
                self.starting -= 1
        kernel.last_used = time.monotonic()
        self.live.add(kernel)
        self._fill()
        return kernel

    def _fill(self) -> None:
        """Top the pool of ready kernels up, in the background."""
        if POOL_SIZE and (self.filling is None or self.filling.done()):
            self.filling = asyncio.create_task(self._fill_pool())

    async def _fill_pool(self) -> None:
        while (
            len(self.pool) < POOL_SIZE
            and len(self.live) + len(self.pool) + self.starting < self.settings.max_kernels
        ):
            try:
                self.pool.append(await self.zygote.spawn())
            except Exception as err:  # the next acquire spawns (and reports) itself
                log.warning("could not prepare a kernel ahead of need: %s", err)
                return

    async def release(self, kernel: Kernel) -> None:
        self.live.discard(kernel)
        await kernel.kill("closed", "The kernel was closed.")

    async def _reap_idle(self) -> None:
        while True:
            await asyncio.sleep(min(30.0, self.settings.kernel_idle_s / 2))
            now = time.monotonic()
            for kernel in list(self.live):
                if not kernel.busy and now - kernel.last_used > self.settings.kernel_idle_s:
                    self.live.discard(kernel)
                    await kernel.kill(
                        "idle",
                        "Your kernel was stopped after being unused for a while. "
                        "Press Restart to go on.",
                    )
                    if self.on_reap:
                        await self.on_reap(kernel)

    async def _watch(self) -> None:
        """CPU spent between requests, memory grown past the budget, the host short of memory."""
        while True:
            await asyncio.sleep(WATCH_INTERVAL_S)
            with contextlib.suppress(Exception):
                await self.watch_once()

    async def watch_once(self) -> None:
        self.live = {k for k in self.live if not k.dead}
        for kernel in list(self.live):
            verdict = kernel.watch(self.settings)
            if verdict:
                log.warning("watchdog stops kernel %s: %s", kernel.pid, verdict[0])
                await kernel.kill(*verdict)
        if self.live and available_bytes() < MEMORY_RESERVE_BYTES:
            biggest = max(self.live, key=lambda k: k.grown())
            mb = biggest.grown() // (1024 * 1024)
            log.warning("the host is short of memory: stopping kernel %s (%d MB)", biggest.pid, mb)
            await biggest.kill(
                "memory",
                f"The server ran short of memory and your kernel held the most ({mb} MB), so it "
                f"was stopped. {RESTART}",
            )
