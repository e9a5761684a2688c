"""The classroom's small parts on their own: the rate limiter, the Origin rule, password
hashing, CSV cells, JSON log lines and database URLs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from app.classroom.admission import same_origin, trusted_origins
from app.classroom.db import database_url
from app.classroom.export import safe
from app.classroom.logs import JsonFormatter
from app.classroom.passwords import hash_password, verify_password
from app.classroom.ratelimit import RateLimiter


def test_the_rate_limiter_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=6, burst=3, clock=lambda: now[0])
    assert [limiter.take("ada") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("ada")
    assert wait == pytest.approx(10.0)  # one run every 10 s
    assert limiter.take("bob") == 0.0  # each learner has their own bucket
    now[0] = 10.0
    assert limiter.take("ada") == 0.0
    assert limiter.take("ada") > 0


@pytest.mark.parametrize(
    ("origin", "host", "scheme", "allowed"),
    [
        (None, "127.0.0.1:8000", "ws", True),  # no browser page: a script or a test
        ("http://127.0.0.1:8000", "127.0.0.1:8000", "ws", True),
        ("http://LOCALHOST:8000", "localhost:8000", "ws", True),
        ("https://descent.school.org", "descent.school.org", "wss", True),
        ("https://descent.school.org:443", "descent.school.org", "wss", True),
        ("http://evil.example", "127.0.0.1:8000", "ws", False),
        ("http://127.0.0.1:8001", "127.0.0.1:8000", "ws", False),
        ("http://descent.school.org", "descent.school.org", "wss", False),  # port 80 vs 443
        ("null", "127.0.0.1:8000", "ws", False),
        ("file://", "127.0.0.1:8000", "ws", False),
    ],
)
def test_a_socket_must_come_from_a_page_of_this_server(
    origin: str | None, host: str, scheme: str, allowed: bool
) -> None:
    assert same_origin(origin, host, scheme, set()) is allowed


def test_trusted_origins_are_allowed_behind_a_proxy() -> None:
    trusted = trusted_origins(" https://class.example.org/ , http://other:9000")
    assert same_origin("https://class.example.org", "10.0.0.5:8000", "ws", trusted)
    assert not same_origin("https://evil.example", "10.0.0.5:8000", "ws", trusted)


def test_passwords_are_salted_scrypt_hashes() -> None:
    first, second = hash_password("hunter22"), hash_password("hunter22")
    assert first.startswith("scrypt$") and first != second
    assert "hunter22" not in first
    assert verify_password("hunter22", first) and not verify_password("hunter23", first)
    assert not verify_password("hunter22", "garbage") and not verify_password("x", "md5$1$2$3$4$5")


@pytest.mark.parametrize("name", ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx"])
def test_csv_cells_a_spreadsheet_would_run_are_quoted(name: str) -> None:
    assert safe(name) == "'" + name
    assert safe("Ada") == "Ada"


def test_json_log_lines_carry_level_logger_message_and_extras() -> None:
    record = logging.LogRecord("descent.x", logging.WARNING, __file__, 1, "hi %s", ("you",), None)
    record.learner = "abc"
    line = json.loads(JsonFormatter().format(record))
    assert (line["level"], line["logger"], line["msg"], line["learner"]) == (
        "warning",
        "descent.x",
        "hi you",
        "abc",
    )


def test_database_urls() -> None:
    assert database_url("", Path("/d")) == "sqlite:////d/descent.sqlite3"
    assert database_url("postgresql://u:p@h/db", Path("/d")) == "postgresql+psycopg://u:p@h/db"
    assert database_url("postgres://u@h/db", Path("/d")).startswith("postgresql+psycopg://")
