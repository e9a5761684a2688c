"""The WebSocket protocol the server speaks: uvicorn's own (websockets, sans-I/O), except that
a small message goes out uncompressed.

A page and the server agree on permessage-deflate (RFC 7692), and uvicorn compresses every
message it sends. Most messages a lesson sends are small and frequent: a slider's patch is
about 700 bytes, 30 of them a second while a key is held. Deflating one costs more CPU than the
kernel spends computing it (about 40 µs in the web process, measured by bench/bench_slider.py)
and saves a few hundred bytes. RFC 7692 lets a sender leave any message uncompressed (RSV1
clear), and every browser reads both, so messages under `COMPRESS_FROM` bytes go as they are,
and whole figures (tens of kilobytes of numbers) are still compressed for slow links.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.extensions.base import Extension
from websockets.extensions.permessage_deflate import (
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import Frame, Opcode
from websockets.typing import ExtensionParameter

#: Messages shorter than this (bytes of UTF-8 text or binary) are sent uncompressed.
COMPRESS_FROM = 4096


class DeflateLarge(PerMessageDeflate):
    """permessage-deflate that compresses only messages of `COMPRESS_FROM` bytes or more.

    Only a whole message in one frame is left as it is; a fragmented message is compressed
    from its first frame to its last, as the extension requires. Leaving a message out does
    not disturb the shared compression context: neither end adds it to its window."""

    def encode(self, frame: Frame) -> Frame:
        if (
            frame.fin
            and frame.opcode in (Opcode.TEXT, Opcode.BINARY)
            and len(frame.data) < COMPRESS_FROM
        ):
            return frame
        return super().encode(frame)


class DeflateLargeFactory(ServerPerMessageDeflateFactory):
    """Negotiates permessage-deflate exactly as websockets does, then hands out `DeflateLarge`."""

    def process_request_params(
        self, params: Sequence[ExtensionParameter], accepted_extensions: Sequence[Extension]
    ) -> tuple[list[ExtensionParameter], PerMessageDeflate]:
        response, agreed = super().process_request_params(params, accepted_extensions)
        return response, DeflateLarge(
            agreed.remote_no_context_takeover,
            agreed.local_no_context_takeover,
            agreed.remote_max_window_bits,
            agreed.local_max_window_bits,
            self.compress_settings,
        )


class LessonWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets protocol with `DeflateLargeFactory` in place of its deflate
    factory (same window sizes and memory level); pass it to uvicorn as `ws=`."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        if config.ws_per_message_deflate:
            self.conn.available_extensions = [
                DeflateLargeFactory(
                    server_max_window_bits=12,
                    client_max_window_bits=12,
                    compress_settings={"memLevel": 5},
                )
            ]
