"""What the server benches share: `python -m app` started on a free port as a learner starts it
(and stopped, only it, afterwards), its health, a learner's cookie, and percentiles."""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def health(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            return dict(json.loads(resp.read()))
    except OSError:
        return None


def learner_cookie(port: int, slug: str = "the-line") -> str:
    """The learner cookie a page load hands out, as a `Cookie` header value (lesson sockets are
    refused without one)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/lessons/{slug}", timeout=10) as resp:
        return str(resp.headers.get("set-cookie", "")).split(";", 1)[0]


@contextlib.contextmanager
def running_server(
    log: Path, settings: Mapping[str, str] | None = None, start_s: float = 90
) -> Iterator[tuple[int, dict[str, Any], float]]:
    """`python -m app` on a free port with `settings` (DESCENT_* variables) over the
    environment's, its data beside `log`. Yields the port, /healthz's answer and the seconds it
    took to answer; stopped on exit."""
    port = free_port()
    env = {**os.environ, "DESCENT_HOST": "127.0.0.1", "DESCENT_PORT": str(port)}
    env["DESCENT_DATA_DIR"] = str(log.parent / "data")
    env.setdefault("DESCENT_LOG_LEVEL", "warning")
    env.update(settings or {})
    python = PYTHON if PYTHON.exists() else Path(sys.executable)
    start = time.perf_counter()
    try:
        with process([str(python), "-m", "app"], ROOT, env, log, lambda: health(port), start_s):
            state = health(port)
            assert state is not None
            yield port, state, time.perf_counter() - start
    except DidNotStart as err:
        raise SystemExit(f"the server did not start; its log:\n{err.log}") from None


class DidNotStart(RuntimeError):
    """A server process that ended, or did not answer in time; the end of its log."""

    def __init__(self, cmd: list[str], log: str) -> None:
        super().__init__(f"{cmd[2] if len(cmd) > 2 else cmd[0]} did not start:\n{log}")
        self.log = log


@contextlib.contextmanager
def process(
    cmd: list[str],
    cwd: Path,
    env: Mapping[str, str],
    log: Path,
    ready: Callable[[], object],
    start_s: float = 90,
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process, up once `ready()` is truthy (DidNotStart otherwise); stopped, only it,
    on exit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + start_s
        while not ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise DidNotStart(cmd, log.read_text(errors="replace")[-3000:])
            time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]
