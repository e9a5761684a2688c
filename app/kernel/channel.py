"""The wire between the web process and the sandbox, defined once for both sides: length-prefixed
frames over a stream socket (4 bytes big-endian length, then msgpack) and the exit codes a kernel
ends with.

The web process reads a kernel's frames with a hard size cap: a frame that claims more, or that
does not decode into a known reply, is a protocol violation and ends that kernel.
"""

from __future__ import annotations

import asyncio
import socket
import struct

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


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise ChannelClosed
        buf += chunk
    return bytes(buf)


def recv_frame(sock: socket.socket, limit: int = MAX_REQUEST_BYTES) -> bytes:
    """Blocking receive of one frame, used inside the kernel and the zygote."""
    (size,) = HEADER.unpack(recv_exact(sock, HEADER.size))
    if size > limit:
        raise ChannelViolation(f"frame of {size} bytes exceeds {limit}")
    return recv_exact(sock, size)


async def read_frame(reader: asyncio.StreamReader, limit: int = MAX_REPLY_BYTES) -> bytes:
    """Async receive of one frame in the web process, refusing oversized frames."""
    try:
        header = await reader.readexactly(HEADER.size)
    except (asyncio.IncompleteReadError, ConnectionError):
        raise ChannelClosed from None
    (size,) = HEADER.unpack(header)
    if size > limit:
        raise ChannelViolation(f"frame of {size} bytes exceeds the limit of {limit}")
    try:
        return await reader.readexactly(size)
    except (asyncio.IncompleteReadError, ConnectionError):
        raise ChannelClosed from None


def frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload)) + payload


def header(size: int) -> bytes:
    """The length prefix alone, for a frame whose first bytes carry file descriptors."""
    return HEADER.pack(size)


def frame_size(prefix: bytes) -> int:
    (size,) = HEADER.unpack(prefix)
    return int(size)
