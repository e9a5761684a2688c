"""A real Descent server for tests: `python -m app` in a subprocess on a free port, exactly as a
learner starts it, with its log in a file the tests can read."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.02
) -> Any:
    """Poll `condition` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


@dataclass
class LiveServer:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=5) as resp:
            return json.loads(resp.read())

    def health(self) -> dict[str, Any]:
        return dict(self.get_json("/healthz"))

    def learner_cookie(self, path: str = "/lessons/the-line") -> str:
        """A fresh learner's `Cookie` header, as a page load hands it out: lesson sockets are
        refused without one."""
        with urllib.request.urlopen(self.url + path, timeout=10) as resp:
            set_cookie = resp.headers.get("set-cookie", "")
        return set_cookie.split(";", 1)[0]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_server(
    log_path: Path,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> LiveServer:
    """Start `python -m app` and return once `/healthz` answers; fail with the log otherwise."""
    port = port or free_port()
    python = VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DESCENT_")}
    full_env.update(
        {
            "DESCENT_HOST": "127.0.0.1",
            "DESCENT_PORT": str(port),
            "DESCENT_DATA_DIR": str(log_path.parent / "data"),
            # The web path is under test here, not the host's namespaces (tests/sandbox covers
            # those): a host without user namespaces must still run these tests.
            "DESCENT_SANDBOX": "weak",
            "PYTHONUNBUFFERED": "1",
        }
    )
    full_env.update(env or {})
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(python), "-m", "app"], cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
    server = LiveServer(port, process, log_path)

    def healthy() -> bool:
        if process.poll() is not None:
            code = process.returncode
            raise AssertionError(f"the server exited with code {code} at start:\n{server.log()}")
        with contextlib.suppress(OSError, urllib.error.URLError):
            return bool(server.health()["status"] == "ok")
        return False

    try:
        wait_for(healthy, timeout, f"the server on port {port} to answer /healthz", interval=0.05)
    except BaseException:
        server.stop()
        raise
    return server
