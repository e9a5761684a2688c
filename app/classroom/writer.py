"""Progress events are written behind the pages' backs: queued in memory, flushed in batches on
one database thread, and flushed once more at shutdown so none is lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor

from app.classroom.db import Database
from app.classroom.work import Event, apply_events

log = logging.getLogger("descent.classroom")
FLUSH_S = 0.5


class EventWriter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.queue: list[Event] = []
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="descent-db")
        self.task: asyncio.Task[None] | None = None
        self.written = 0

    def put(self, event: Event) -> None:
        self.queue.append(event)

    def start(self) -> None:
        self.task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            try:
                await self.flush()
            except Exception:
                log.exception("progress could not be written; retrying")

    async def flush(self) -> None:
        if not self.queue:
            return
        batch, self.queue = self.queue, []
        try:
            await asyncio.get_running_loop().run_in_executor(self.thread, self._write, batch)
        except Exception:
            self.queue[:0] = batch  # keep them for the next try
            raise
        self.written += len(batch)

    def _write(self, batch: list[Event]) -> None:
        with self.db.session() as db:
            apply_events(db, batch)

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        with contextlib.suppress(Exception):
            await self.flush()
        self.thread.shutdown(wait=True)
