"""The web process's handle on the zygote: the warm parent of every kernel, inside bubblewrap,
started on demand and restarted if it ever dies. It asks the zygote for kernels and signals, and
hears from it when a kernel ends."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import signal
import socket

import msgspec

from app.config import Settings
from app.kernel.channel import ChannelClosed, ChannelViolation, frame, header, open_channel
from app.protocol import (
    Allowance,
    ZExited,
    ZReady,
    ZSignal,
    ZSpawn,
    ZSpawned,
    request_encoder,
    zygote_event_decoder,
)
from app.supervisor.errors import KernelDied
from app.supervisor.hostproc import children, find_host_pid
from app.supervisor.kernel import Kernel, KernelId
from app.supervisor.replies import RESTART
from app.supervisor.sandbox import (
    Layers,
    identity_arguments,
    kernel_limits,
    zygote_command,
    zygote_environment,
)
from app.supervisor.watchdog import start_watching

log = logging.getLogger("descent.kernel")


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
        identity = identity_arguments(nice=5, lessons=self.settings.lessons_dir)
        self.proc = await asyncio.create_subprocess_exec(
            *cmd, pass_fds=(theirs.fileno(),), env=zygote_environment(),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, **identity,
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
        channel = await open_channel(sock)
        try:
            while True:
                event = zygote_event_decoder.decode(await channel.read())
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
            if channel.transport is not None:
                channel.transport.close()

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
            socket.send_fds(self.control, [header(len(body))], [theirs.fileno()])
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
        start_watching(kernel)
        return kernel

    def signal(self, pid: int, signum: int) -> None:
        if self.control is None:
            return
        body = request_encoder.encode(ZSignal(pid, signum))
        with contextlib.suppress(OSError):
            self.control.sendall(frame(body))

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
