"""Small messages go uncompressed, large ones deflated (app/web/wire.py): seen frame by frame
on a real server's lesson socket, and on the extension itself with a standard decoder."""

from __future__ import annotations

import json
from typing import Any

from page_socket import Connect, open_page, receive_until, send
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame, Opcode

from app.web.wire import COMPRESS_FROM, DeflateLarge


def watch_frames(ws: Any) -> list[tuple[bool, int]]:
    """Each data frame the client reads from now on: (compressed, bytes once decoded)."""
    [deflate] = ws.protocol.extensions
    assert isinstance(deflate, PerMessageDeflate), "permessage-deflate was not agreed"
    seen: list[tuple[bool, int]] = []
    decode = deflate.decode

    def watching(frame: Frame, *, max_size: int | None = None) -> Frame:
        out = decode(frame, max_size=max_size)
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            seen.append((frame.rsv1, len(out.data)))
        return out

    deflate.decode = watching  # type: ignore[method-assign]
    return seen


async def test_the_server_deflates_only_large_messages(connect: Connect) -> None:
    ws = await connect("the-loss-landscape")
    seen = watch_frames(ws)
    messages = await open_page(ws)  # status, ready, output, the figures (grids: large)
    await send(ws, {"type": "slide", "values": {"w": 1.5}, "seq": 7})
    await receive_until(ws, lambda m: m["type"] == "patch" and m["seq"] == 7)
    await send(ws, {"type": "ping", "seq": 8})
    await receive_until(ws, lambda m: m["type"] == "pong")

    assert any(m["type"] == "figure" for m in messages)
    small = [size for compressed, size in seen if size < COMPRESS_FROM]
    large = [size for compressed, size in seen if size >= COMPRESS_FROM]
    assert small and large, seen
    assert all(not compressed for compressed, size in seen if size < COMPRESS_FROM), seen
    assert all(compressed for compressed, size in seen if size >= COMPRESS_FROM), seen


def pair() -> tuple[DeflateLarge, PerMessageDeflate]:
    """The server's extension and a reader's, as agreed with context takeover both ways."""
    return DeflateLarge(False, False, 12, 12, {"memLevel": 5}), PerMessageDeflate(
        False, False, 12, 12
    )


def test_mixed_messages_keep_the_shared_context_in_step() -> None:
    server, reader = pair()
    figure = json.dumps({"z": [[i * j * 0.001 for j in range(60)] for i in range(60)]}).encode()
    patch = json.dumps({"y": [i * 0.5 for i in range(101)]}).encode()
    assert len(patch) < COMPRESS_FROM <= len(figure)
    for payload in (figure, patch, figure, patch, patch, figure):
        sent = server.encode(Frame(Opcode.TEXT, payload))
        assert sent.rsv1 == (len(payload) >= COMPRESS_FROM)
        if sent.rsv1:
            assert len(sent.data) < len(payload) / 3  # numbers compress well
        assert reader.decode(sent).data == payload


def test_a_fragmented_message_is_compressed_from_its_first_frame_to_its_last() -> None:
    server, reader = pair()
    parts = [b'{"a": "', b"x" * 10, b'"}']
    frames = [
        Frame(Opcode.TEXT, parts[0], fin=False),
        Frame(Opcode.CONT, parts[1], fin=False),
        Frame(Opcode.CONT, parts[2], fin=True),
    ]
    sent = [server.encode(f) for f in frames]
    assert sent[0].rsv1 and not sent[1].rsv1 and not sent[2].rsv1  # RSV1 marks the first only
    assert b"".join(reader.decode(f).data for f in sent) == b"".join(parts)


def test_control_frames_pass_untouched() -> None:
    server, _ = pair()
    ping = Frame(Opcode.PING, b"hello")
    assert server.encode(ping) is ping
