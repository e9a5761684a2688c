"""Teacher sign-in slows down after repeated wrong passwords, per address and for the account:
after FREE_FAILURES failures in a row, each further try must wait twice as long as the last
(from 2 s up to MAX_WAIT_S). A right password clears the address's count and the account's."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

#: Wrong passwords allowed before any wait, per address and for the account.
FREE_FAILURES = 5
#: The account counts the failures of every address: a guesser with many addresses is slowed.
ACCOUNT_FREE_FAILURES = 20
MAX_WAIT_S = 15 * 60.0
#: Failures are forgotten after this long without another.
FORGET_S = 60 * 60.0
ACCOUNT = "account"


@dataclass
class Failures:
    count: int
    last: float


class SignInThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.failures: dict[str, Failures] = {}

    def wait(self, address: str) -> float:
        """Seconds before `address` may try again (0: now)."""
        now = self.clock()
        return max(
            self._wait(address, FREE_FAILURES, now), self._wait(ACCOUNT, ACCOUNT_FREE_FAILURES, now)
        )

    def _wait(self, key: str, free: int, now: float) -> float:
        seen = self.failures.get(key)
        if seen is None or now - seen.last > FORGET_S:
            return 0.0
        over = seen.count - free
        if over < 0:
            return 0.0
        pause = min(MAX_WAIT_S, 2.0 * 2.0**over)
        return max(0.0, seen.last + pause - now)

    def failed(self, address: str) -> None:
        now = self.clock()
        for key in (address, ACCOUNT):
            seen = self.failures.get(key)
            if seen is None or now - seen.last > FORGET_S:
                seen = self.failures[key] = Failures(0, now)
            seen.count += 1
            seen.last = now
        if len(self.failures) > 10_000:
            stale = [k for k, f in self.failures.items() if now - f.last > FORGET_S]
            for key in stale:
                del self.failures[key]

    def succeeded(self, address: str) -> None:
        self.failures.pop(address, None)
        self.failures.pop(ACCOUNT, None)


def wait_words(seconds: float) -> str:
    """What the sign-in page says while an address must wait."""
    whole = int(seconds + 0.999)
    shown = f"{whole} seconds" if whole < 120 else f"{(whole + 59) // 60} minutes"
    return (
        "Too many wrong passwords: sign-in is paused for a moment to stop guessing. "
        f"Try again in {shown}."
    )
