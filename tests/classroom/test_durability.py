"""Saved work survives the server being killed with SIGKILL mid-flight, and a restart: every
save is committed before it is answered. On SQLite and PostgreSQL, with the real server."""

from __future__ import annotations

import json
import os
import signal
import urllib.request
from pathlib import Path

from live_server import LiveServer, free_port, start_server
from sqlalchemy import text

from app.classroom.db import Database
from classroom.kit import PASSWORD

LESSON = "the-loss-landscape"
MODEL = "def y(x, w, b):\n    return w * x + b\n"


class Page:
    """What a browser does, over urllib: a cookie from the page load, the page's CSRF token."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        with urllib.request.urlopen(f"{server.url}/lessons/{LESSON}", timeout=10) as resp:
            self.cookie = resp.headers["set-cookie"].split(";", 1)[0]
            html = resp.read().decode()
        self.csrf = html.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]

    def call(self, method: str, path: str, body: object = None) -> tuple[int, dict[str, object]]:
        request = urllib.request.Request(
            self.server.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Cookie": self.cookie,
                "Content-Type": "application/json",
                "X-CSRF-Token": self.csrf,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())


def test_saved_work_survives_kill_9_and_a_restart(tmp_path: Path, database_url: str) -> None:
    env = (
        {"DESCENT_DATABASE_URL": database_url, "DESCENT_SECRET_KEY": "k" * 32}
        if database_url
        else {}
    )
    port = free_port()
    log = tmp_path / "server.log"
    server = start_server(log, port=port, env=env)
    try:
        page = Page(server)
        version = 0
        for i in range(1, 21):
            status, body = page.call(
                "PUT", f"/api/work/{LESSON}/cells/loss", {"code": f"edit {i}", "version": version}
            )
            assert status == 200, body
            version = int(str(body["version"]))
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
    finally:
        server.stop()

    again = start_server(log, port=port, env=env)
    try:
        page.server = again
        status, body = page.call("GET", f"/api/work/{LESSON}")
        assert status == 200
        assert body["cells"] == {"loss": {"code": "edit 20", "version": 20}}
        # The old tab's next save still knows its version: no conflict after the restart.
        status, body = page.call(
            "PUT", f"/api/work/{LESSON}/cells/loss", {"code": "after", "version": 20}
        )
        assert (status, body) == (200, {"version": 21})
    finally:
        again.stop()


async def test_progress_still_pending_is_written_when_the_server_stops(tmp_path: Path) -> None:
    from classroom.live import idle, join, new_room, sign_in, until

    port = free_port()
    log = tmp_path / "server.log"
    env = {"DESCENT_TEACHER_PASSWORD": PASSWORD}
    server = start_server(log, port=port, env=env)
    try:
        teacher = sign_in(server)
        room, code = new_room(teacher)
        ada = join(server, code, "Ada")
        ws = await ada.socket()
        await ws.send(json.dumps({"type": "open", "cells": {}}))
        await until(ws, idle)
        run = {"type": "run", "cell": "model", "code": MODEL, "seq": 1}
        await ws.send(json.dumps(run))
        await until(ws, lambda m: m["type"] == "output" and m["seq"] == 1)
        server.process.send_signal(signal.SIGTERM)  # at once: the run is still in the queue
        server.process.wait(timeout=30)
        await ws.close()
    finally:
        server.stop()
    again = start_server(log, port=port, env=env)
    try:
        teacher.server = again
        old = teacher.http
        teacher.http = type(old)(base_url=again.url, cookies=old.cookies)
        old.close()
        roster = teacher.http.get(f"/api/teacher/rooms/{room}/roster").json()
        (learner,) = roster["learners"]
        assert learner["lessons"]["the-line"]["runs"] == 1
        assert learner["lessons"]["the-line"]["opened"]
    finally:
        again.stop()
        teacher.close()
        ada.close()


def test_the_sqlite_files_are_private_and_synced_at_every_commit(tmp_path: Path) -> None:
    """The database and its journal are readable by the server's user only, even under a lax
    umask, and every commit is synced (synchronous=FULL): a save survives a power cut."""
    old = os.umask(0o022)
    try:
        path = tmp_path / "data" / "descent.sqlite3"
        db = Database(f"sqlite:///{path}")
        with db.session() as session:
            mode = session.execute(text("PRAGMA synchronous")).scalar()
            session.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
            session.execute(text("INSERT INTO probe VALUES (1)"))
            session.commit()
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        modes = {p.name: oct(p.stat().st_mode & 0o777) for p in files if p.exists()}
        db.close()
    finally:
        os.umask(old)
    assert mode == 2  # FULL
    assert modes[path.name] == "0o600" and len(modes) >= 2, modes
    assert set(modes.values()) == {"0o600"}, modes
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
