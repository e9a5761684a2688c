"""A learner's own data on one page: the file goes to the kernel, which parses it inside the
sandbox (app/kernel/bound_data.py); the server checks what comes back, keeps the normalised CSV
(with the classroom, in the database), applies it again to every new kernel, and tells the page
whose data is in use (`data_state`)."""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Literal

from app.content.datacsv import BadCsv, column_ranges, read_normalised
from app.content.model import Lesson
from app.protocol import DataState, KData, KDataDone
from app.session.hooks import DataKeeper, LiveSession, StoredData
from app.session.link import KernelLink
from app.supervisor import KernelDied

log = logging.getLogger("descent.session")
Source = Literal["lesson", "yours", "room"]


def size_words(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


class PageData:
    """Whose data the page's kernel holds, and the normalised CSV of it (None: the lesson's)."""

    def __init__(self, link: KernelLink, keeper: DataKeeper | None, session: LiveSession) -> None:
        self.link, self.keeper, self.session = link, keeper, session
        self.csv: str | None = None
        self.source: Source = "lesson"
        #: Whether the data in use is what the keeper holds for the learner (False for data
        #: loaded for this page only, such as a share link's).
        self.kept = False
        self.looked_up = False

    @property
    def lesson(self) -> Lesson:
        return self.link.lesson

    @property
    def max_bytes(self) -> int:
        return self.link.settings.data_max_kb * 1024

    def _request(self, raw: bytes, reset: bool = False) -> KData:
        spec = self.lesson.data
        assert spec is not None
        return KData(
            self.link.next_id(),
            raw,
            list(spec.variables),
            spec.shape,
            list(spec.columns),
            self.link.settings.data_max_rows,
            self.max_bytes,
            reset,
        )

    async def _ask(self, req: KData) -> KDataDone | None:
        try:
            async with self.link.supervisor.compute:
                reply = await self.link.request(req, self.link.settings.call_timeout_s)
        except KernelDied as err:
            await self.link.lost(err)
            return None
        return reply if isinstance(reply, KDataDone) else None

    async def state(self, seq: int = 0, ok: bool = True, message: str = "") -> None:
        """Tell the page whose data is in use now."""
        spec = self.lesson.data
        if spec is None:
            return
        rows, ranges = 0, {}
        if self.csv is not None:
            parsed = read_normalised(self.csv, spec.columns, 10**9, 10**9)
            rows, ranges = len(parsed), column_ranges(parsed, spec.columns)
        await self.link.send(DataState(self.source, ok, rows, ranges, False, message, seq))

    def checked(self, reply: KDataDone) -> str:
        """The kernel's normalised CSV, checked as plain numbers within the limits (a kernel
        is never trusted): raises BadCsv."""
        spec = self.lesson.data
        assert spec is not None
        settings = self.link.settings
        # The normalised text may be longer than the file (repr of each number): allow 8x.
        read_normalised(reply.csv, spec.columns, settings.data_max_rows, 8 * self.max_bytes)
        return reply.csv

    async def load(self, content: str, name: str, seq: int, keep: bool = True) -> bool:
        """A file from the page; True when the kernel now holds it (redraw every plot). Kept
        as the learner's own unless `keep` is false (a share link's data: this page only)."""
        if self.lesson.data is None:
            await self.link.send(DataState("lesson", False, message=NO_DATA, seq=seq))
            return False
        if len(content) > (self.max_bytes * 4) // 3 + 8:
            return await self._refuse(seq, self._too_big((len(content) * 3) // 4))
        try:
            raw = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            return await self._refuse(seq, "The file could not be read (it was not sent whole).")
        if len(raw) > self.max_bytes:
            return await self._refuse(seq, self._too_big(len(raw)))
        reply = await self._ask(self._request(raw))
        if reply is None:
            return False
        if not reply.ok:  # the kernel keeps the data it had (its own parse failed first)
            return await self._refuse(seq, reply.message)
        try:
            csv = self.checked(reply)
        except BadCsv as err:
            log.warning("a kernel sent unusable data: %s", err)
            return await self._refuse(seq, "Your kernel sent back data the server cannot use.")
        words = ""
        if self.keeper is not None and keep:
            words = await self.keeper.keep_data(self.session, csv)
        self.csv, self.source, self.kept = csv, "yours", keep
        shown = f"“{name[:80]}”: " if name else ""
        note = f" It is not saved: {words}" if words else ""
        await self.state(seq, True, f"{shown}{reply.message}{note}")
        return True

    def _too_big(self, size: int) -> str:
        return (
            f"This file is {size_words(size)}; at most {size_words(self.max_bytes)} can be "
            "loaded. Use fewer rows."
        )

    async def _refuse(self, seq: int, words: str) -> bool:
        await self.state(seq, False, words)
        return False

    async def _bind(self, csv: str) -> bool:
        reply = await self._ask(self._request(csv.encode()))
        return reply is not None and reply.ok

    async def reset(self, seq: int, forget: bool = True) -> bool:
        """Back to the lesson's data (or the room's); True when the cells must run again.
        Without `forget` only this page goes back to the lesson's own data; what the keeper
        holds is left as it was; so it is when the data in use was never kept (a share
        link's): the learner's own comes back on their next visit."""
        if self.lesson.data is None:
            return False
        fallback: StoredData | None = None
        if self.keeper is not None and forget and self.kept:
            fallback = await self.keeper.drop_data(self.session)
        self.csv, self.source, self.kept = None, "lesson", False
        if self.link.kernel is not None:
            await self._ask(self._request(b"", reset=True))
        if fallback is not None and await self._bind(fallback.csv):
            self.csv, self.source, self.kept = fallback.csv, fallback.source, True
        await self.state(seq, True, RESET_WORDS[self.source])
        return True

    async def restore(self) -> None:
        """A new kernel ran the cells: the data in use (looked up once, from the keeper) is
        bound in it again."""
        if self.lesson.data is None:
            return
        if not self.looked_up and self.keeper is not None:
            self.looked_up = True
            stored = await self.keeper.stored_data(self.session)
            if stored is not None:
                self.csv, self.source, self.kept = stored.csv, stored.source, True
        if self.csv is None or self.link.kernel is None:
            return
        if not await self._bind(self.csv):
            self.csv, self.source, self.kept = None, "lesson", False
            await self.state(
                0, False, "Your saved data could not be loaded again; this is the lesson's data."
            )
            return
        await self.state(0, True, RESTORED_WORDS[self.source])


NO_DATA = "This lesson has no data of its own to replace."
RESET_WORDS = {
    "lesson": "Back to the lesson's data.",
    "room": "Back to your class's data (your teacher chose it).",
    "yours": "",
}
RESTORED_WORDS = {
    "yours": "Your own data is loaded.",
    "room": "Your teacher chose the data of this lesson for your class.",
    "lesson": "",
}
