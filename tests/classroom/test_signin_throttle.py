"""Teacher sign-in slows down after repeated wrong passwords, per address and for the account,
and says so in words."""

from __future__ import annotations

from fastapi import FastAPI

from app.classroom.signin_throttle import ACCOUNT_FREE_FAILURES, FREE_FAILURES, SignInThrottle
from classroom.kit import PASSWORD, Browser, classroom_of, new_browser


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_waits_double_after_the_free_failures() -> None:
    clock = Clock()
    throttle = SignInThrottle(clock)
    for _ in range(FREE_FAILURES):
        assert throttle.wait("10.0.0.1") == 0
        throttle.failed("10.0.0.1")
    assert throttle.wait("10.0.0.1") == 2.0
    assert throttle.wait("10.0.0.2") == 0  # another address is not slowed by this one
    clock.now += 2.0
    throttle.failed("10.0.0.1")
    assert throttle.wait("10.0.0.1") == 4.0
    throttle.succeeded("10.0.0.1")
    assert throttle.wait("10.0.0.1") == 0


def test_the_account_is_slowed_across_addresses() -> None:
    clock = Clock()
    throttle = SignInThrottle(clock)
    for i in range(ACCOUNT_FREE_FAILURES):
        throttle.failed(f"10.0.{i}.1")  # a few tries each from many addresses
    assert throttle.wait("192.168.1.1") > 0


async def test_the_sign_in_page_pauses_a_guesser(app: FastAPI, browsers: list[Browser]) -> None:
    guesser = await new_browser(app, browsers, "/teacher/login")
    for _ in range(FREE_FAILURES):
        resp = await guesser.form("/teacher/login", password="wrong")
        assert resp.status_code == 401 and "Wrong password." in resp.text
    paused = await guesser.form("/teacher/login", password=PASSWORD)  # even the right one
    assert paused.status_code == 429 and paused.headers["retry-after"] == "2"
    assert "Too many wrong passwords" in paused.text and "Try again in 2 seconds" in paused.text
    throttle = classroom_of(app).sign_in_throttle
    for failures in throttle.failures.values():  # the pause is over
        failures.last -= 3.0
    assert (await guesser.form("/teacher/login", password=PASSWORD)).status_code == 303
