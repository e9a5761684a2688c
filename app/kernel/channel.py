"""The wire between the web process and the sandbox, defined once for both sides: length-prefixed
frames over a stream socket (4 bytes big-endian length, then msgpack) and the exit codes a kernel
ends with.

The web process reads a kernel's frames with a hard size cap: a frame that claims more, or that
does not decode into a known reply, is a protocol violation and ends that kernel.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
import struct
from typing import cast

HEADER = struct.Struct(">I")
MAX_REPLY_BYTES = 16 * 1024 * 1024
MAX_REQUEST_BYTES = 4 * 1024 * 1024

#: Exit codes a kernel ends with when it could not go on; the supervisor words each for the
#: learner. Codes the zygote reports are 0..255 for exits and negative for signals.
EXIT_SANDBOX = 70  # a sandbox layer could not be applied; no learner code ran
EXIT_MEMORY = 71  # out of memory outside the runtime's own handlers
EXIT_RUNTIME = 72  # the request loop failed (e.g. learner code closed the channel)


class ChannelClosed(Exception):
    """The other end closed the channel."""


class ChannelViolation(Exception):
    """The other end sent something that is not a valid frame."""


def send_frame(sock: socket.socket, payload: bytes) -> None:
    """Blocking send, used inside the kernel and the zygote."""
    sock.sendall(HEADER.pack(len(payload)) + payload)


class FrameReader:
    """Blocking receive of frames inside the kernel: as many bytes as have come are taken in one
    call (a request is usually one read, not a read for its header and one for the rest); bytes
    past the frame wait for the next one."""

    def __init__(self, sock: socket.socket, limit: int = MAX_REQUEST_BYTES) -> None:
        self.sock, self.limit = sock, limit
        self._buf = bytearray()

    def read(self) -> bytes:
        buf = self._buf
        while True:
            if len(buf) >= HEADER.size:
                (size,) = HEADER.unpack_from(buf)
                if size > self.limit:
                    raise ChannelViolation(f"frame of {size} bytes exceeds {self.limit}")
                end = HEADER.size + size
                if len(buf) >= end:
                    payload = bytes(buf[HEADER.size : end])
                    del buf[:end]
                    return payload
                want = end - len(buf)
            else:
                want = HEADER.size - len(buf)
            chunk = self.sock.recv(max(want, 1 << 16))
            if not chunk:
                raise ChannelClosed
            buf += chunk


class FrameChannel(asyncio.Protocol):
    """The web process's end of a kernel's channel. Frames are cut from the stream in the
    callback that receives the bytes and handed straight to the one waiting reader (no task, no
    extra turn of the loop per reply). A frame that claims more than `limit` bytes, or the end
    of the stream, is kept and raised by `take` once the frames before it are taken. Reading
    pauses while unread frames pile up, so a kernel that sends unasked blocks, not the server."""

    #: Bytes of whole frames not yet taken above which reading pauses (a frame still arriving
    #: is bounded by `limit` and never pauses, or it could never complete).
    PAUSE_BYTES = 1 << 20

    def __init__(self, limit: int = MAX_REPLY_BYTES) -> None:
        self.limit = limit
        self.transport: asyncio.Transport | None = None
        #: The socket under the transport (set by `open_channel`), for `read_ready`.
        self.sock: socket.socket | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiter: asyncio.Future[None] | None = None
        self._buf = bytearray()
        self._frames: collections.deque[bytes] = collections.deque()
        self._queued = 0
        self._error: Exception | None = None
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        if self._error is not None:
            return
        buf = self._buf
        buf += data
        start, ready = 0, False
        while len(buf) - start >= HEADER.size:
            (size,) = HEADER.unpack_from(buf, start)
            if size > self.limit:
                self._error = ChannelViolation(
                    f"frame of {size} bytes exceeds the limit of {self.limit}"
                )
                ready = True
                break
            end = start + HEADER.size + size
            if len(buf) < end:
                break
            self._frames.append(bytes(buf[start + HEADER.size : end]))
            self._queued += size
            start, ready = end, True
        del buf[:start]
        if self._error is not None:
            buf.clear()
        if self._queued > self.PAUSE_BYTES and self.transport and not self._paused:
            self._paused = True
            self.transport.pause_reading()
        if ready:
            self.wake()

    def eof_received(self) -> bool:
        self._end()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._end()
        if not self.closed.done():
            self.closed.set_result(None)

    def _end(self) -> None:
        if self._error is None:
            self._error = ChannelClosed()
        self.wake()

    def wake(self) -> None:
        """Wake the waiting reader (a frame came, the channel ended, or the caller says so)."""
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def take(self) -> bytes | None:
        """The next whole frame; None when none has come yet; ChannelClosed or
        ChannelViolation once the channel ended or broke and every frame before is taken."""
        if self._frames:
            payload = self._frames.popleft()
            self._queued -= len(payload)
            if self._paused and self._queued <= self.PAUSE_BYTES:
                self._paused = False
                if self.transport is not None and not self.transport.is_closing():
                    self.transport.resume_reading()
            return payload
        if self._error is not None:
            raise self._error
        return None

    async def wait(self, deadline: float | None = None) -> None:
        """Until a frame or the channel's end comes, `wake` is called, or the loop's clock
        reaches `deadline`; the caller then looks with `take`."""
        loop = asyncio.get_running_loop()
        waiter = self.waiter = loop.create_future()
        timer = loop.call_at(deadline, self.wake) if deadline is not None else None
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            self.waiter = None

    async def read(self) -> bytes:
        """The next whole frame, however long it takes to come."""
        while (payload := self.take()) is None:
            await self.wait()
        return payload

    def write(self, payload: bytes) -> None:
        assert self.transport is not None
        self.transport.write(frame(payload))

    def read_ready(self) -> None:
        """Take the bytes already waiting on the channel's socket now, instead of on the
        loop's next turn. A kernel woken by a request on a machine with few cores often
        runs, and answers, before the writer's `write` returns; reading its reply at once saves
        the web process a turn of the event loop per slider move. Nothing is read while
        reading is paused or once the channel ended; the end of the stream is left for the
        transport to see, and bytes read here go through `data_received` like any others."""
        sock, transport = self.sock, self.transport
        if self._paused or self._error is not None or sock is None or transport is None:
            return
        if transport.is_closing():
            return
        try:
            data = sock.recv(1 << 16, socket.MSG_DONTWAIT)
        except OSError:  # nothing yet (EAGAIN), or a failure the transport reports itself
            return
        if data:
            self.data_received(data)

    async def close(self, timeout: float) -> None:
        if self.transport is not None:
            self.transport.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.closed), timeout)


async def open_channel(sock: socket.socket, limit: int = MAX_REPLY_BYTES) -> FrameChannel:
    """A FrameChannel reading `sock` on the running loop."""
    channel = FrameChannel(limit)
    channel.sock = sock
    await asyncio.get_running_loop().create_unix_connection(lambda: channel, sock=sock)
    return channel


def frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload)) + payload


def header(size: int) -> bytes:
    """The length prefix alone, for a frame whose first bytes carry file descriptors."""
    return HEADER.pack(size)


def frame_size(prefix: bytes) -> int:
    (size,) = HEADER.unpack(prefix)
    return int(size)
