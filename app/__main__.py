"""`python -m app` starts the server with the `DESCENT_*` settings;
`python -m app lessons check [DIR ...]` checks lesson bundles (docs/lessons.md)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

import uvicorn

from app.classroom.identity import SharedKeyMissing
from app.classroom.logs import log_config
from app.config import load_settings
from app.server import create_app
from app.web.drain import Drain
from app.web.wire import LessonWebSocketProtocol

#: uvicorn's own exit code when the app does not start (the database is unreachable).
STARTUP_FAILURE = 3
#: Settings that cannot work (the words are printed).
BAD_SETTINGS = 2


class DrainingServer(uvicorn.Server):
    """uvicorn's server, whose first SIGTERM drains the replica (app/web/drain.py) before the
    usual graceful stop; a second SIGTERM, or Ctrl-C, stops at once."""

    def __init__(self, config: uvicorn.Config, drain: Drain, drain_s: float) -> None:
        super().__init__(config)
        self.drain, self.drain_s = drain, drain_s
        self.loop: asyncio.AbstractEventLoop | None = None
        self.draining: asyncio.Task[None] | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig != signal.SIGTERM or self.loop is None or self.drain.draining or self.should_exit:
            super().handle_exit(sig, frame)
            return
        self.drain.draining = True  # /healthz says so from now on
        self.loop.call_soon_threadsafe(self._start_drain, sig)

    def _start_drain(self, sig: int) -> None:
        self.draining = asyncio.ensure_future(self._drain(sig))

    async def _drain(self, sig: int) -> None:
        try:
            await self.drain.run(self.drain_s)
        finally:
            super().handle_exit(sig, None)


def serve() -> None:
    settings = load_settings()
    try:
        app = create_app(settings)
    except SharedKeyMissing as err:
        print(f"descent: {err}", file=sys.stderr)
        sys.exit(BAD_SETTINGS)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # Larger than the app's own limit, so the app refuses big messages itself (1009, logged).
        ws_max_size=settings.max_message_kb * 1024 * 4,
        ws=LessonWebSocketProtocol,  # small messages go uncompressed (app/web/wire.py)
        timeout_graceful_shutdown=5,
        log_config=log_config(settings),
    )
    server = DrainingServer(config, app.state.drain, settings.drain_s)
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def lessons_check(folders: list[Path]) -> int:
    """Load every bundle and run every exercise in a real kernel; 1 when anything is wrong."""
    from app.content.validate import check_lessons

    settings = load_settings()
    problems = check_lessons(folders or settings.lessons_dir, settings)
    if problems:
        print(f"{problems} problem{'s' if problems != 1 else ''} found", file=sys.stderr)
        return 1
    print("Every lesson loads, and every exercise checks out.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    lessons = commands.add_parser("lessons", help="work on lesson bundles")
    actions = lessons.add_subparsers(dest="action", required=True)
    check = actions.add_parser(
        "check",
        help="load every bundle and run each exercise's solution and declared mistakes",
        description=(
            "Load every lesson bundle (a lessons folder, or one bundle folder) and report every "
            "problem as file:line: problem; then run each exercise in a sandboxed kernel: with "
            "its solution it must pass, and with the answer of each mistake fail with that "
            "mistake's message. Without DIR: the DESCENT_LESSONS_DIR folders."
        ),
    )
    check.add_argument("dirs", nargs="*", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    if args.command == "lessons":
        return lessons_check(args.dirs)
    serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
