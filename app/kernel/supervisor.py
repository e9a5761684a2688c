"""The web process's side of the sandbox: one zygote, the kernels it forks, their deadlines and
the plain words for every way a kernel can end."""

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
from typing import NewType

import msgspec

from app.config import Settings
from app.kernel.channel import ChannelClosed, ChannelViolation, frame, read_frame
from app.kernel.sandbox import Layers, kernel_limits, probe_layers, zygote_command, zygote_environment
from app.protocol import (
    KernelReply,
    KernelRequest,
    KFailed,
    KHello,
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


class KernelDied(Exception):
    """The kernel is gone; `message` tells the learner what happened and what to do."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


class ServerFull(Exception):
    """No more kernels may start now."""


class SandboxRefused(Exception):
    """The host lacks a sandbox layer and weak mode is not allowed."""


def death_message(code: int, settings: Settings) -> tuple[str, str]:
    """(reason, plain words) for a kernel that ended with `code` (negative: killed by signal)."""
    restart = "Press Restart to get a fresh kernel; your code in the page is kept."
    if code == -signal.SIGSEGV:
        return "crash", f"Your code crashed the kernel (a segmentation fault). {restart}"
    if code == -signal.SIGXCPU:
        return "cpu", (
            f"Your kernel used more than {settings.kernel_cpu_s} s of CPU time in all and was "
            f"stopped. {restart}"
        )
    if code == -signal.SIGXFSZ:
        return "disk", f"Your code wrote a file larger than {settings.tmp_mb} MB and was stopped. {restart}"
    if code == -signal.SIGKILL:
        return "killed", f"Your kernel was stopped. {restart}"
    if code == 70:
        return "sandbox", "The sandbox could not be set up for your kernel. Tell your teacher."
    if code < 0:
        return "signal", f"Your kernel ended on signal {signal.Signals(-code).name}. {restart}"
    return "exit", f"Your code ended the kernel (exit code {code}). {restart}"


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
        self._kill_reason: tuple[str, str] | None = None

    async def connect(self, timeout: float) -> None:
        self.reader, self.writer = await asyncio.open_unix_connection(sock=self.sock)
        reply = await self._read(timeout, "start")
        if isinstance(reply, KFailed):
            log.error("a kernel could not confine itself: %s", reply.message)
        if not isinstance(reply, KHello):
            await self.kill("protocol", "The kernel did not start properly.")
            raise self.dead or KernelDied("protocol", "The kernel did not start properly.")
        self.device = reply.device

    async def _read(self, timeout: float, what: str) -> KernelReply:
        assert self.reader is not None
        read = asyncio.ensure_future(read_frame(self.reader))
        done, _ = await asyncio.wait({read, self.exited}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if read in done:
            try:
                payload = read.result()
                return reply_decoder.decode(payload)
            except ChannelClosed:
                await self._await_exit()
            except (ChannelViolation, msgspec.DecodeError, msgspec.ValidationError) as err:
                log.warning("kernel %s sent an invalid frame: %s", self.pid, err)
                await self.kill(
                    "protocol",
                    "Your kernel sent something that is not a valid message, so it was stopped. "
                    "Press Restart to get a fresh kernel.",
                )
        else:
            read.cancel()
            if self.exited.done():
                await self._await_exit()
            else:
                raise TimeoutError(what)
        raise self.dead or KernelDied("exit", "The kernel ended.")

    async def _await_exit(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.exited), 2.0)
        if self.dead is None:
            if self._kill_reason:
                self.dead = KernelDied(*self._kill_reason)
            elif self.exited.done():
                self.dead = KernelDied(*death_message(self.exited.result(), self.zygote.settings))
            else:
                self.dead = KernelDied("exit", "The kernel closed its channel.")

    async def request(self, req: KernelRequest, timeout: float, limit_words: str) -> KernelReply:
        """Send one request and wait for its reply; past the deadline interrupt, then kill."""
        if self.dead:
            raise self.dead
        async with self.lock:
            if self.dead:
                raise self.dead
            assert self.writer is not None
            self.busy = True
            self.last_used = time.monotonic()
            try:
                self.writer.write(frame(request_encoder.encode(req)))
                try:
                    return await self._read(timeout, "request")
                except TimeoutError:
                    self.zygote.signal(self.pid, signal.SIGINT)
                try:
                    return await self._read(1.0, "interrupt")
                except TimeoutError:
                    await self.kill(
                        "timeout",
                        f"Your code ran for more than {limit_words} and did not stop when "
                        "interrupted, so the kernel was stopped. Look for an endless loop, then "
                        "press Restart.",
                    )
                    raise self.dead or KernelDied("timeout", "stopped") from None
            finally:
                self.busy = False
                self.last_used = time.monotonic()

    def interrupt(self) -> None:
        if self.busy and not self.dead:
            self.zygote.signal(self.pid, signal.SIGINT)

    async def kill(self, reason: str, message: str) -> None:
        if self.dead is None:
            self._kill_reason = (reason, message)
            self.dead = KernelDied(reason, message)
        if not self.exited.done():
            self.zygote.signal(self.pid, signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.exited), 2.0)
        if self.writer is not None:
            self.writer.close()


class Zygote:
    """The warm parent of every kernel, inside bubblewrap; restarted if it ever dies."""

    def __init__(self, settings: Settings, layers: Layers) -> None:
        self.settings, self.layers = settings, layers
        self.control: socket.socket | None = None
        self.proc: asyncio.subprocess.Process | None = None
        self.ready = asyncio.Event()
        self.pending: dict[int, asyncio.Future[ZSpawned]] = {}
        self.kernels: dict[int, Kernel] = {}
        self.ids = itertools.count(1)
        self.task: asyncio.Task[None] | None = None
        self.send_lock = asyncio.Lock()

    async def start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        cmd = zygote_command(self.settings, self.layers, theirs.fileno())
        self.proc = await asyncio.create_subprocess_exec(
            *cmd, pass_fds=(theirs.fileno(),), env=zygote_environment(),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, preexec_fn=lambda: os.nice(5),
        )
        theirs.close()
        self.control = ours
        self.ready.clear()
        self.task = asyncio.create_task(self._events(ours))

    async def _events(self, sock: socket.socket) -> None:
        reader, _writer = await asyncio.open_unix_connection(sock=sock)
        try:
            while True:
                event = zygote_event_decoder.decode(await read_frame(reader))
                if isinstance(event, ZReady):
                    self.ready.set()
                elif isinstance(event, ZSpawned):
                    fut = self.pending.pop(event.id, None)
                    if fut and not fut.done():
                        fut.set_result(event)
                elif isinstance(event, ZExited):
                    kernel = self.kernels.pop(event.pid, None)
                    if kernel and not kernel.exited.done():
                        kernel.exited.set_result(event.code)
        except (ChannelClosed, ChannelViolation, msgspec.DecodeError) as err:
            stderr = b""
            if self.proc and self.proc.stderr:
                with contextlib.suppress(Exception):
                    stderr = await asyncio.wait_for(self.proc.stderr.read(4000), 1.0)
            log.error("the zygote ended (%s): %s", err, stderr.decode(errors="replace"))
            for kernel in self.kernels.values():
                if not kernel.exited.done():
                    kernel.exited.set_result(-signal.SIGKILL)
            self.kernels.clear()
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(KernelDied("zygote", "The kernel service restarted; press Restart."))
            self.pending.clear()

    async def spawn(self, timeout: float = 30.0) -> Kernel:
        if self.proc is None or self.proc.returncode is not None or (self.task and self.task.done()):
            await self.start()
        await asyncio.wait_for(self.ready.wait(), timeout)
        assert self.control is not None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        rid = next(self.ids)
        fut: asyncio.Future[ZSpawned] = asyncio.get_running_loop().create_future()
        self.pending[rid] = fut
        body = request_encoder.encode(ZSpawn(rid, kernel_limits(self.settings, self.layers)))
        async with self.send_lock:
            socket.send_fds(self.control, [len(body).to_bytes(4, "big")], [theirs.fileno()])
            self.control.sendall(body)
        theirs.close()
        spawned = await asyncio.wait_for(fut, timeout)
        if spawned.error:
            ours.close()
            raise KernelDied("sandbox", spawned.error)
        kernel = Kernel(KernelId(rid), spawned.pid, self, ours)
        self.kernels[spawned.pid] = kernel
        await kernel.connect(timeout)
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
        if self.proc and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()
        if self.task:
            self.task.cancel()


class Supervisor:
    """All kernels of the server: the cap, the idle reaper, the shared compute slots."""

    def __init__(self, settings: Settings, layers: Layers | None = None) -> None:
        self.settings = settings
        self.layers = layers or probe_layers()
        self.zygote = Zygote(settings, self.layers)
        self.live: set[Kernel] = set()
        slots = settings.busy_slots or os.cpu_count() or 1
        self.compute = asyncio.Semaphore(slots)
        self.reaper: asyncio.Task[None] | None = None
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
        self.reaper = asyncio.create_task(self._reap_idle())

    async def stop(self) -> None:
        if self.reaper:
            self.reaper.cancel()
        for kernel in list(self.live):
            await self.release(kernel)
        await self.zygote.stop()

    async def acquire(self) -> Kernel:
        if self.refused:
            raise SandboxRefused(self.refused)
        self.live = {k for k in self.live if not k.dead}
        if len(self.live) >= self.settings.max_kernels:
            raise ServerFull(
                f"The server is full: {self.settings.max_kernels} learners are running code "
                "right now. Try again in a minute."
            )
        kernel = await self.zygote.spawn()
        self.live.add(kernel)
        return kernel

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
