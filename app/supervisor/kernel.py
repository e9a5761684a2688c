"""The web process's handle on one kernel: its channel, one request at a time, a deadline for
each, then an interrupt, then a kill. Nothing the kernel sends is trusted: each reply is decoded
strictly into its type, must answer the request it follows, and must be well formed; anything
else ends that kernel, never the server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NewType

import msgspec

from app.kernel.channel import ChannelClosed, ChannelViolation, FrameChannel, open_channel
from app.protocol import (
    Allowance,
    KernelReply,
    KernelRequest,
    KFailed,
    KHello,
    KProgress,
    reply_decoder,
    request_encoder,
)
from app.supervisor.errors import KernelDied
from app.supervisor.replies import RESTART, death_message, reply_problem, timed_out

if TYPE_CHECKING:
    from app.supervisor.zygote import Zygote

log = logging.getLogger("descent.kernel")
KernelId = NewType("KernelId", int)

#: After a deadline: SIGINT, repeated every INTERRUPT_REPEAT_S (one may land between learner
#: lines and be dropped), then SIGKILL once INTERRUPT_GRACE_S have passed without a reply.
INTERRUPT_GRACE_S = 1.0
INTERRUPT_REPEAT_S = 0.2
#: Progress reports a kernel may send per second (the runtime sends at most ten).
MAX_PROGRESS_PER_S = 100


class Kernel:
    """One learner's kernel: a channel, one request at a time, a deadline for each."""

    def __init__(self, kid: KernelId, pid: int, zygote: Zygote, sock: socket.socket) -> None:
        self.id, self.pid, self.zygote, self.sock = kid, pid, zygote, sock
        self.lock = asyncio.Lock()
        self.exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.channel: FrameChannel | None = None
        self.device = "cpu"
        self.last_used = time.monotonic()
        self.dead: KernelDied | None = None
        self.busy = False
        #: The kernel's pid on the host (None where /proc does not tell); for the watchdogs.
        self.host_pid: int | None = None
        self.base_memory = 0
        #: (monotonic time, CPU seconds) at the watchdog's last look, and its strikes in a row.
        self.cpu_sample = (0.0, 0.0)
        self.cpu_strikes = 0
        self._kill_reason: tuple[str, str] | None = None
        self._progress: list[float] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._requests = 0
        #: The lesson's sandbox allowance this kernel was started with (None: the plain one).
        self.allow: Allowance | None = None

    async def connect(self, timeout: float) -> None:
        channel = self.channel = await open_channel(self.sock)
        self.exited.add_done_callback(lambda _: channel.wake())
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
        """The next reply, or TimeoutError after `timeout` seconds. A frame half read when the
        time is up stays in the channel for the next call: a deadline never cuts a frame."""
        channel = self.channel
        assert channel is not None
        deadline = None
        try:
            while (payload := channel.take()) is None:
                if self.exited.done():
                    break
                now = asyncio.get_running_loop().time()
                if deadline is None:
                    deadline = now + timeout
                elif now >= deadline:
                    raise TimeoutError
                await channel.wait(deadline)
            else:
                reply: KernelReply = reply_decoder.decode(payload)
                return reply
            await self._await_exit()
        except ChannelClosed:
            await self._await_exit()
        except (ChannelViolation, msgspec.DecodeError, msgspec.ValidationError) as err:
            await self._violation(str(err))
        raise self.dead or KernelDied("exit", "The kernel ended.")

    async def _violation(self, problem: str) -> None:
        log.warning("kernel %s broke the protocol: %s", self.pid, problem)
        await self.kill(
            "protocol",
            f"Your kernel sent something that is not a valid message, so it was stopped. {RESTART}",
        )

    async def _close(self) -> None:
        """Let go of the channel."""
        if self.channel is not None:
            await self.channel.close(1.0)

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
            assert self.channel is not None
            self.busy = True
            self._requests += 1
            self.last_used = time.monotonic()
            self._progress = []
            try:
                self.channel.write(request_encoder.encode(req))
                self.channel.read_ready()  # the reply may be here already
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
