"""The database: SQLite in the data folder (WAL; a commit survives a crash of the server and a
power cut; the files are the server user's alone) or PostgreSQL by URL, brought to the newest
schema by the Alembic migrations at start."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def database_url(configured: str, data_dir: Path) -> str:
    """The URL to connect to; `postgresql://` URLs get the psycopg (v3) driver."""
    if not configured:
        return f"sqlite:///{data_dir / 'descent.sqlite3'}"
    url = make_url(configured)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


#: SQLite's durability: FULL syncs the write-ahead log at every commit, so an acknowledged save
#: survives a power cut, not only a killed server (NORMAL would lose the newest commits then).
#: bench/bench_classroom.py measures what it costs per save.
SQLITE_SYNCHRONOUS = "FULL"
#: The database and its journal are the server user's alone: saved code and sign-in tokens.
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, synchronous: str) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def private_sqlite_file(path: Path) -> None:
    """Create the database file readable by the server's user only, before SQLite opens it;
    SQLite gives its -wal and -shm files the same permissions."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=PRIVATE_DIR)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    os.close(fd)
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if part.exists() and part.stat().st_mode & 0o077:
            part.chmod(PRIVATE_FILE)


#: The largest integer every integer column stores on both databases (PostgreSQL's INTEGER is
#: signed 32-bit; SQLite would take more, so the same value is refused on both).
MAX_INTEGER = 2**31 - 1


class Unstorable(ValueError):
    """A value neither database can store as given; the message is for the person who sent it."""


def _storable(value: object) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise Unstorable("Text with a NUL character (\\x00) cannot be stored.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Unstorable(
                "Text with a broken character (a lone surrogate) cannot be stored."
            ) from None
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        raise Unstorable(f"The number {value} is too large to be an id or a count here.")


def refuse_unstorable(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    """Before any statement, on either database: NUL bytes (PostgreSQL refuses them in text,
    SQLite keeps them), lone surrogates and integers beyond 64 bits are refused the same way,
    with words, and nothing is written half-way."""
    if "pg_advisory" in statement:  # the lock keys are 64-bit on purpose, and ours
        return
    rows = parameters if executemany else [parameters]
    for row in rows:
        values = row.values() if isinstance(row, dict) else row if row is not None else ()
        for value in values:
            _storable(value)


def make_engine(url: str, synchronous: str = SQLITE_SYNCHRONOUS) -> Engine:
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            private_sqlite_file(Path(path))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5})
        event.listen(engine, "connect", lambda conn, rec: _sqlite_pragmas(conn, rec, synchronous))
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    event.listen(engine, "before_cursor_execute", refuse_unstorable)
    return engine


def libpq_url(url: str) -> str:
    """The same database as a libpq URL, for psycopg's own connections (LISTEN/NOTIFY)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


#: The PostgreSQL advisory lock that migrations run under ("descent" as an integer): replicas
#: that start together wait for the first, then find the schema at its newest and do nothing.
MIGRATION_LOCK = int.from_bytes(b"descent", "big")


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest migration (a no-op when it is already there). On
    PostgreSQL under a transaction-scoped advisory lock: the first replica migrates, the others
    wait for its commit, then see the newest schema."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Database:
    """One engine and its session factory; migrated once, on first use or at start."""

    def __init__(self, url: str, synchronous: str = SQLITE_SYNCHRONOUS) -> None:
        self.url = url
        self.engine = make_engine(url, synchronous)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._ready = False
        self._lock = threading.Lock()

    def ready(self) -> None:
        with self._lock:
            if not self._ready:
                migrate(self.engine)
                self._ready = True

    def session(self) -> Session:
        self.ready()
        return self.sessions()

    def serialize_start(self, db: Session) -> None:
        """Replicas that start together do their first writes (the teacher's password) one
        after the other: a PostgreSQL advisory lock held until `db`'s transaction ends."""
        if self.dialect == "postgresql":
            db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK + 1})

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()
