"""Both ends of a kernel's channel. The web process's (`FrameChannel`), on both event loops the
server may run on (asyncio's own and uvloop, whose transports are not asyncio's classes): frames
cut from any split of the stream, a frame over the limit refused, the end of the stream raised
only after the frames before it, and a flood of unasked frames paused, not buffered without end.
The kernel's (`FrameReader`, blocking): the same frames from any split, bytes past a frame kept
for the next, a frame over its limit refused, a torn frame at the end of the stream."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import pytest
import uvloop

from app.kernel.channel import (
    ChannelClosed,
    ChannelViolation,
    FrameChannel,
    FrameReader,
    frame,
    open_channel,
)

LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


def run(loop: str, scenario: Callable[[], Awaitable[None]]) -> None:
    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        runner.run(asyncio.wait_for(scenario(), 10))


async def opened(limit: int = 1 << 20) -> tuple[FrameChannel, socket.socket]:
    """A channel on one end of a socket pair, and the other end."""
    ours, theirs = socket.socketpair()
    return await open_channel(ours, limit), theirs


@pytest.mark.parametrize("loop", LOOPS)
def test_frames_are_cut_from_any_split_of_the_stream(loop: str) -> None:
    async def scenario() -> None:
        channel, theirs = await opened()
        payloads = [b"a", b"", b"x" * 70_000, bytes(range(256)) * 3]
        stream = b"".join(frame(p) for p in payloads)
        for cut in (1, 3, 4, 5, 4096):  # inside a header, at its end, across frames
            for i in range(0, len(stream), cut * 997):
                theirs.sendall(stream[i : i + cut * 997])
                await asyncio.sleep(0)
            assert [await channel.read() for _ in payloads] == payloads
        theirs.close()
        with pytest.raises(ChannelClosed):
            await channel.read()
        await channel.close(1.0)

    run(loop, scenario)


@pytest.mark.parametrize("loop", LOOPS)
def test_the_end_of_the_stream_comes_after_the_frames_before_it(loop: str) -> None:
    async def scenario() -> None:
        channel, theirs = await opened()
        theirs.sendall(frame(b"last words") + frame(b"more")[:5])  # then a torn frame
        theirs.close()
        assert await channel.read() == b"last words"
        with pytest.raises(ChannelClosed):
            await channel.read()
        await channel.close(1.0)

    run(loop, scenario)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_frame_over_the_limit_is_a_violation(loop: str) -> None:
    async def scenario() -> None:
        channel, theirs = await opened(limit=1000)
        theirs.sendall(frame(b"fine") + (1001).to_bytes(4, "big") + b"x" * 10)
        assert await channel.read() == b"fine"
        with pytest.raises(ChannelViolation, match="1001 bytes exceeds the limit of 1000"):
            await channel.read()
        theirs.sendall(frame(b"ignored"))  # nothing after a violation is taken
        await asyncio.sleep(0.05)
        with pytest.raises(ChannelViolation):
            channel.take()
        theirs.close()
        await channel.close(1.0)

    run(loop, scenario)


@pytest.mark.parametrize("loop", LOOPS)
def test_unasked_frames_pause_reading_until_taken(loop: str) -> None:
    async def scenario() -> None:
        channel, theirs = await opened()
        one = frame(b"z" * 60_000)

        def flood() -> int:
            """A kernel that writes and never waits: its writes block once the channel pauses."""
            theirs.settimeout(0.5)
            sent = 0
            try:
                while sent < 200:  # 12 MB: far more than the pause and the socket hold
                    theirs.sendall(one)
                    sent += 1
            except TimeoutError:
                return sent
            raise AssertionError("the channel kept reading")

        sent = await asyncio.to_thread(flood)
        held = channel._queued
        assert FrameChannel.PAUSE_BYTES < held <= FrameChannel.PAUSE_BYTES + len(one)
        assert sent * len(one) > held  # the rest waits in the socket, not in the server
        taken = 0
        while channel.take() is not None:  # taking the frames resumes reading
            taken += 1
            await asyncio.sleep(0)
        theirs.settimeout(5)
        theirs.sendall(frame(b"after"))
        while (payload := await channel.read()) != b"after":
            assert payload[:1] == b"z"
        theirs.close()
        await channel.close(1.0)

    run(loop, scenario)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_big_frame_arriving_slowly_is_never_paused(loop: str) -> None:
    async def scenario() -> None:
        channel, theirs = await opened(limit=8 << 20)
        big = bytes(range(256)) * (12 << 10)  # 3 MiB: more than PAUSE_BYTES, in one frame
        stream = frame(big)

        async def send() -> None:
            writer = theirs.dup()
            writer.setblocking(False)
            loop = asyncio.get_running_loop()
            for i in range(0, len(stream), 1 << 16):
                await loop.sock_sendall(writer, stream[i : i + (1 << 16)])
            writer.close()

        sending = asyncio.ensure_future(send())
        assert await channel.read() == big
        await sending
        theirs.close()
        await channel.close(1.0)

    run(loop, scenario)


def test_the_kernels_reader_takes_frames_from_any_split() -> None:
    ours, theirs = socket.socketpair()
    reader = FrameReader(ours, limit=100_000)
    payloads = [b"one", b"", b"x" * 90_000, b"last"]
    stream = b"".join(frame(p) for p in payloads)
    theirs.sendall(stream[:2])  # half a header
    theirs.sendall(stream[2:9])  # the rest of it, the first frame and a byte of the next
    theirs.sendall(stream[9:])
    assert [reader.read() for _ in payloads] == payloads
    theirs.sendall(frame(b"torn")[:6])
    theirs.close()
    with pytest.raises(ChannelClosed):
        reader.read()
    ours.close()


def test_the_kernels_reader_refuses_a_frame_over_its_limit() -> None:
    ours, theirs = socket.socketpair()
    reader = FrameReader(ours, limit=10)
    theirs.sendall(frame(b"0123456789") + frame(b"0123456789!"))
    assert reader.read() == b"0123456789"
    with pytest.raises(ChannelViolation, match="11 bytes exceeds 10"):
        reader.read()
    ours.close()
    theirs.close()


@pytest.mark.parametrize("loop", LOOPS)
def test_read_ready_takes_a_waiting_reply_without_a_turn_of_the_loop(loop: str) -> None:
    async def scenario() -> None:
        channel, theirs = await opened()
        channel.read_ready()  # nothing there yet
        assert channel.take() is None
        theirs.sendall(frame(b"answer"))
        channel.read_ready()  # no await: the loop never ran
        assert channel.take() == b"answer"
        # Bytes the loop read and bytes read here join up in order.
        whole = frame(b"first") + frame(b"second")
        theirs.sendall(whole[:7])
        await asyncio.sleep(0.02)  # the loop reads the start of the first frame
        theirs.sendall(whole[7:])
        channel.read_ready()
        assert [channel.take(), channel.take(), channel.take()] == [b"first", b"second", None]
        await channel.close(1.0)
        theirs.close()

    run(loop, scenario)


@pytest.mark.parametrize("loop", LOOPS)
def test_read_ready_leaves_the_end_of_the_stream_to_the_transport(loop: str) -> None:
    async def scenario() -> None:
        channel, theirs = await opened()
        theirs.sendall(frame(b"last"))
        theirs.close()
        channel.read_ready()
        channel.read_ready()  # the end: nothing taken, nothing raised here
        assert channel.take() == b"last"
        with pytest.raises(ChannelClosed):
            await channel.read()  # the transport saw the end on its own turn
        channel.read_ready()  # after the end: nothing to do
        await channel.close(1.0)

    run(loop, scenario)
