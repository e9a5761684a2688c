"""Fixtures of the classroom tests: every database test runs on SQLite and on a real
PostgreSQL server started here; an app built in process; a real server with the classroom's
limits set low enough to hit."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from live_server import ROOT, LiveServer, free_port, start_server

from app.config import Settings
from app.server import create_app
from classroom.kit import PASSWORD, Browser, classroom_of
from classroom.postgres import Cluster, binaries, cluster


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """One PostgreSQL cluster for the run. Missing binaries fail the run in CI, skip elsewhere."""
    bindir = binaries()
    if bindir is None:
        message = "PostgreSQL is not installed (apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; the PostgreSQL tests must run in CI", pytrace=False)
        pytest.skip(message)
    with cluster(bindir, free_port()) as running:
        yield running


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """ "" (SQLite in the data folder) or a fresh PostgreSQL database for this test."""
    if request.param == "sqlite":
        yield ""
        return
    pg: Cluster = request.getfixturevalue("postgres")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = pg.url().replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg.url(name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


#: The cookie key of the tests' PostgreSQL servers (DESCENT_SECRET_KEY must be set there).
SHARED_KEY = "tests-shared-cookie-key-0123456789abcdef"


def classroom_settings(data_dir: Path, database_url: str, **extra: object) -> Settings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 0,
        "lessons_dir": ROOT / "lessons",
        "data_dir": data_dir,
        "sandbox": "weak",
        "database_url": database_url,
        "teacher_password": PASSWORD,
    }
    if database_url:  # PostgreSQL: replicas share the key, so it must be given
        values["secret_key"] = SHARED_KEY
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def app(tmp_path: Path, database_url: str) -> AsyncIterator[FastAPI]:
    """An app in process with its classroom started (no kernels: the lifespan is not run)."""
    built = create_app(classroom_settings(tmp_path / "data", database_url))
    await classroom_of(built).start()
    yield built
    await classroom_of(built).stop()


@pytest.fixture
async def browsers(app: FastAPI) -> AsyncIterator[list[Browser]]:
    """Make browsers with `browsers.new()`; each is closed after the test."""
    made: list[Browser] = []
    yield made
    for b in made:
        await b.close()


@pytest.fixture(scope="session")
def classroom_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server (`python -m app`) with a teacher password and low classroom limits."""
    live = start_server(
        tmp_path_factory.mktemp("classroom") / "server.log",
        env={
            "DESCENT_TEACHER_PASSWORD": PASSWORD,
            "DESCENT_RUN_BURST": "3",
            "DESCENT_RUN_RATE_PER_MIN": "6",
            "DESCENT_ROOM_MAX_KERNELS": "2",
        },
    )
    yield live
    live.stop()
