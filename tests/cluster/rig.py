"""Real parts for the cluster test and bench: a throwaway PostgreSQL database, Descent replicas
(`python -m app` on loopback ports, each its own process group: server, zygote and kernels),
and Debian's HAProxy running the repository's `deploy/haproxy/haproxy.cfg` with its `bind` and
`server` addresses changed to those ports."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from classroom.postgres import Cluster, binaries, cluster
from live_server import ROOT, VENV_PYTHON, free_port, wait_for

HAPROXY_CFG = ROOT / "deploy" / "haproxy" / "haproxy.cfg"
PASSWORD = "cluster-teacher-pw"
SECRET_KEY = "cluster-test-key-" + "0123456789abcdef" * 2


def missing_parts() -> str:
    """Why the cluster cannot be built here, or ""."""
    if shutil.which("haproxy") is None:
        return "HAProxy is not installed (apt-get install haproxy)"
    if binaries() is None:
        return "PostgreSQL is not installed (apt-get install postgresql)"
    return ""


@contextlib.contextmanager
def postgres() -> Iterator[Cluster]:
    bindir = binaries()
    assert bindir is not None
    with cluster(bindir, free_port()) as running:
        yield running


@contextlib.contextmanager
def fresh_database(pg: Cluster) -> Iterator[str]:
    name = f"c_{uuid.uuid4().hex[:12]}"
    admin = pg.url().replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg.url(name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@dataclass
class Replica:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        python = VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable)
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start {self.starts + 1} =====\n".encode())
            self.process = subprocess.Popen(
                [str(python), "-m", "app"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: server, zygote, kernels
            )
        self.starts += 1

    def health(self) -> int:
        with contextlib.suppress(OSError):
            return get(self.url + "/healthz", timeout=2)[0]
        return 0

    def wait_healthy(self, timeout: float = 90.0) -> None:
        def up() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited at start:\n{self.log()[-3000:]}")
            return self.health() == 200

        wait_for(up, timeout, f"replica {self.name} to answer /healthz", interval=0.05)

    def signal(self, sig: int) -> None:
        """`sig` to the server process alone (SIGTERM: the drain)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL to the whole replica, as when its container dies."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def wait_exit(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@dataclass
class Balancer:
    port: int
    config: Path
    stats: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    names: dict[int, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                ["haproxy", "-db", "-f", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )

    def servers(self) -> dict[str, str]:
        """HAProxy's own view: server name -> UP, DOWN, ... (its stats socket)."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(self.stats))
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        rows = csv.DictReader(io.StringIO(data.decode().lstrip("# ")))
        return {
            r["svname"]: r["status"]
            for r in rows
            if r["pxname"] == "replicas" and r["svname"] not in ("BACKEND", "FRONTEND")
        }

    def wait_state(self, server: str, state: str, timeout: float = 20.0) -> None:
        wait_for(
            lambda: self.servers().get(server, "").startswith(state),
            timeout,
            f"HAProxy to see {server} {state}",
            interval=0.05,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def haproxy_config(ports: list[int], port: int, stats: Path) -> str:
    """The repository's config with the test's addresses; nothing else changes."""
    text = HAPROXY_CFG.read_text()
    text, binds = re.subn(r"(?m)^(\s*)bind :8000$", rf"\1bind 127.0.0.1:{port}", text)
    assert binds == 1, "deploy/haproxy/haproxy.cfg has no `bind :8000` line"
    servers = re.findall(r"(?m)^\s*server (r\d) 127\.0\.0\.1:\d+ cookie (r\d)$", text)
    assert len(servers) == len(ports), "deploy/haproxy/haproxy.cfg lists other replicas"
    for (name, _), replica_port in zip(servers, ports, strict=True):
        text = re.sub(
            rf"(?m)^(\s*server {name}) 127\.0\.0\.1:\d+", rf"\1 127.0.0.1:{replica_port}", text
        )
    text, found = re.subn(
        r"(?m)^global$", f"global\n    stats socket {stats} mode 600 level admin", text
    )
    assert found == 1
    text = text.replace("log stdout format raw local0 info", "log stdout format raw local0 notice")
    return text


@dataclass
class Rig:
    replicas: list[Replica]
    balancer: Balancer
    database_url: str

    def replica_of(self, route: str) -> Replica:
        return self.replicas[int(route.removeprefix("r")) - 1]

    def stop(self) -> None:
        self.balancer.stop()
        for replica in self.replicas:
            if replica.process is not None and replica.process.poll() is None:
                replica.signal(signal.SIGTERM)
        for replica in self.replicas:
            if replica.process is None:
                continue
            with contextlib.suppress(subprocess.TimeoutExpired):
                replica.process.wait(timeout=20)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(replica.process.pid, signal.SIGKILL)  # what is left of its group


def build(folder: Path, database_url: str, count: int = 3, **settings: str) -> Rig:
    """`count` replicas started together on a fresh database (their migrations race), then
    HAProxy in front of them once each answers."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("DESCENT_")}
    lessons = folder / "lessons"  # the one lesson the learners open: quick to load
    shutil.copytree(ROOT / "lessons" / "the-line", lessons / "the-line")
    replicas = []
    for i in range(1, count + 1):
        port = free_port()
        env = {
            **base,
            "DESCENT_HOST": "127.0.0.1",
            "DESCENT_LESSONS_DIR": str(lessons),
            "DESCENT_PORT": str(port),
            "DESCENT_DATA_DIR": str(folder / f"r{i}-data"),
            "DESCENT_DATABASE_URL": database_url,
            "DESCENT_SECRET_KEY": SECRET_KEY,
            "DESCENT_TEACHER_PASSWORD": PASSWORD,
            "DESCENT_SANDBOX": "weak",  # tests/sandbox covers the sandbox; here the web path
            "PYTHONUNBUFFERED": "1",
            **{f"DESCENT_{k.upper()}": v for k, v in settings.items()},
        }
        replicas.append(Replica(f"r{i}", port, env, folder / f"r{i}.log"))
    for replica in replicas:
        replica.start()
    balancer = Balancer(
        free_port(), folder / "haproxy.cfg", folder / "haproxy.sock", folder / "haproxy.log"
    )
    rig = Rig(replicas, balancer, database_url)
    try:
        for replica in replicas:
            replica.wait_healthy()
        balancer.config.write_text(
            haproxy_config([r.port for r in replicas], balancer.port, balancer.stats)
        )
        balancer.start()

        def listening() -> bool:
            assert balancer.process is not None
            if balancer.process.poll() is not None:
                raise AssertionError(f"HAProxy exited:\n{balancer.log_path.read_text()}")
            return balancer.stats.exists()

        wait_for(listening, 10, "HAProxy's stats socket")
        for replica in replicas:
            balancer.wait_state(replica.name, "UP")
    except BaseException:
        rig.stop()
        raise
    return rig


def elapsed_since(t0: float) -> float:
    return time.monotonic() - t0
