"""Replicas that share one PostgreSQL, in process: two classrooms on one fresh database, as two
replicas would have, telling each other over LISTEN/NOTIFY who is in which room, where their
learners' points are, and the teacher's removals and restarts (app/classroom/cluster.py).
tests/cluster/ does the same with real processes behind HAProxy."""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from live_server import ROOT, VENV_PYTHON

from app.classroom import cluster
from app.classroom.classroom import Classroom
from app.classroom.db import Database
from app.classroom.identity import SharedKeyMissing
from app.classroom.live import Ticket
from app.protocol import LearnerId, LessonSlug, RoomId, ServerMessage
from app.server import create_app
from app.supervisor import Kernel
from classroom.conftest import classroom_settings
from classroom.kit import classroom_of
from classroom.postgres import Cluster

ROOM, ADA, LESSON = RoomId(7), LearnerId("ada-0123456789"), LessonSlug("the-line")


@pytest.fixture
def pg_url(postgres: Cluster) -> Iterator[str]:
    name = f"r_{uuid.uuid4().hex[:12]}"
    admin = postgres.url().replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield postgres.url(name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def pair(tmp_path: Path, pg_url: str) -> AsyncIterator[tuple[Classroom, Classroom]]:
    made = [
        classroom_of(create_app(classroom_settings(tmp_path / n, pg_url, landscape_interval_ms=50)))
        for n in ("a", "b")
    ]
    for room in made:
        await room.start()
    a, b = made
    await until(lambda: knows(a, b) and knows(b, a), "the replicas to meet")
    yield a, b
    for room in made:
        await room.stop()


async def until(condition: object, what: str, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.02)


def knows(one: Classroom, other: Classroom) -> bool:
    return other.cluster.replica in one.cluster.peers


class FakeSession:
    """What a classroom may use of an open lesson session (app.session.LiveSession)."""

    def __init__(self) -> None:
        self.sent: list[ServerMessage] = []
        self.restarts = 0

    @property
    def kernel(self) -> Kernel | None:
        return None

    async def send(self, msg: ServerMessage) -> None:
        self.sent.append(msg)

    async def restart(self) -> None:
        self.restarts += 1


def page(room: Classroom, learner: LearnerId = ADA) -> Ticket:
    ticket = Ticket(learner, LESSON, ROOM, FakeSession())
    room.live.admit(ticket)
    return ticket


async def test_a_page_on_one_replica_counts_on_every_replica(
    pair: tuple[Classroom, Classroom],
) -> None:
    a, b = pair
    ticket = page(a)
    await until(lambda: b.cluster.in_room(ROOM) == 1, "B to count A's page")
    assert b.cluster.online(ROOM) == {ADA: LESSON}
    a.live.release(ticket)
    await until(lambda: b.cluster.in_room(ROOM) == 0, "B to see the page closed")


async def test_points_move_on_every_replica_and_leave_with_their_page(
    pair: tuple[Classroom, Classroom],
) -> None:
    a, b = pair
    a.landscape.move(ROOM, ADA, LESSON, 1.5, -2.0)
    await until(lambda: ADA in b.landscape.points.get(ROOM, {}), "A's point on B")
    point = b.landscape.points[ROOM][ADA]
    assert (point.w, point.b, point.origin) == (1.5, -2.0, a.cluster.replica)
    a.landscape.leave(ROOM, ADA)
    await until(lambda: ADA not in b.landscape.points.get(ROOM, {}), "the point gone from B")


async def test_a_removal_reaches_the_replica_that_holds_the_page(
    pair: tuple[Classroom, Classroom],
) -> None:
    a, b = pair
    ticket = page(b)
    b.landscape.move(ROOM, ADA, LESSON, 1.0, 1.0)
    await until(lambda: a.cluster.in_room(ROOM) == 1, "A to count B's page")
    await a.remove_learner(ROOM, ADA)  # the teacher's page is on A
    await until(lambda: ticket.room is None, "B's page to leave the room")
    assert b.live.in_room(ROOM) == 0 and ADA not in b.landscape.points.get(ROOM, {})
    await until(lambda: a.cluster.in_room(ROOM) == 0, "A to see the place freed")


async def test_a_restart_reaches_the_replica_that_holds_the_kernel(
    pair: tuple[Classroom, Classroom],
) -> None:
    a, b = pair
    ticket = page(b)
    assert await a.restart_learner(ADA) == 1  # answered by B
    session = ticket.session
    assert isinstance(session, FakeSession)
    await until(lambda: session.restarts == 1, "B to restart the kernel")
    assert "restarted" in str(session.sent[0])
    assert await a.restart_learner(LearnerId("nobody")) == 0


async def test_the_room_cap_counts_every_replica(pair: tuple[Classroom, Classroom]) -> None:
    a, b = pair
    for i in range(3):
        page(a, LearnerId(f"on-a-{i}"))
        page(b, LearnerId(f"on-b-{i}"))
    await until(lambda: a.cluster.in_room(ROOM) == 6 and b.cluster.in_room(ROOM) == 6, "six pages")
    assert len(a.cluster.online(ROOM)) == 6


async def test_a_silent_replica_is_forgotten(
    pair: tuple[Classroom, Classroom], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    monkeypatch.setattr(cluster, "GONE_AFTER_S", 0.5)
    page(a)
    a.landscape.move(ROOM, ADA, LESSON, 0.0, 0.0)
    await until(lambda: b.cluster.in_room(ROOM) == 1 and b.landscape.points.get(ROOM), "A's page")
    await a.cluster.bus.stop()  # as if killed: no goodbye, no more heartbeats
    a.landscape.before_tick = None
    await until(lambda: b.cluster.in_room(ROOM) == 0, "B to let A's page go", timeout=5)
    assert not b.landscape.points.get(ROOM)


def test_migrations_run_once_when_replicas_start_together(pg_url: str) -> None:
    databases = [Database(pg_url) for _ in range(4)]
    problems: list[BaseException] = []
    start = threading.Barrier(len(databases))

    def migrate(db: Database) -> None:
        start.wait()
        try:
            db.ready()
        except BaseException as err:
            problems.append(err)

    threads = [threading.Thread(target=migrate, args=(db,)) for db in databases]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for db in databases:
        db.close()
    assert not problems, problems
    with psycopg.connect(pg_url.replace("postgresql+psycopg", "postgresql")) as conn:
        assert len(conn.execute("SELECT version_num FROM alembic_version").fetchall()) == 1


def test_postgresql_without_a_shared_key_refuses_to_start(tmp_path: Path, pg_url: str) -> None:
    with pytest.raises(SharedKeyMissing, match="DESCENT_SECRET_KEY"):
        create_app(classroom_settings(tmp_path, pg_url, secret_key=""))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESCENT_")}
    env.update(DESCENT_DATABASE_URL=pg_url, DESCENT_DATA_DIR=str(tmp_path), DESCENT_PORT="0")
    ran = subprocess.run(
        [str(VENV_PYTHON), "-m", "app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 2, ran.stderr[-2000:]
    assert "same long random value on every replica" in ran.stderr
