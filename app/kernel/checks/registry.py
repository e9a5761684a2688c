"""The `@check` registry and the verdict a check returns.

A check is a function `(ns, params) -> (passed, message)`: `ns` is the learner's namespace after
their code ran, `params` the exercise's `params:` from the lesson file (plus its `mistakes:`). The
toolkit's own checks land in `CHECKS`; a lesson bundle's `checks.py` fills a table of its own while
the kernel loads it (`collect`), so two bundles may use the same name without meeting.

`@check` also takes what the web process reads from the source without running it: `mistakes`,
the names of the known mistakes the check recognises (an exercise's `mistakes:` gives each its
message with `when: <name>`), and `expressions`, whether `when:` may also be a formula of the
check's inputs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

#: What a check returns: whether the learner passed, and the message they read.
Verdict = tuple[bool, str]
CheckFn = Callable[[dict[str, Any], Mapping[str, Any]], Verdict]

#: The toolkit's checks, usable by name from any lesson.
CHECKS: dict[str, CheckFn] = {}
_tables: list[dict[str, CheckFn]] = [CHECKS]


def check(
    name: str, *, mistakes: Sequence[str] = (), expressions: bool = False
) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function as the check `name` (the name an exercise's `check:` uses).

    `mistakes` and `expressions` declare what the exercise's `mistakes:` may say (see above);
    the lesson loader reads them from the source, so write them as plain literals.
    """

    def register(fn: CheckFn) -> CheckFn:
        _tables[-1][name] = fn
        return fn

    del mistakes, expressions  # read from the source by the web process, not needed here
    return register


@contextlib.contextmanager
def collect() -> Iterator[dict[str, CheckFn]]:
    """While a bundle's checks.py runs, `@check` fills the table this yields instead of CHECKS."""
    table: dict[str, CheckFn] = {}
    _tables.append(table)
    try:
        yield table
    finally:
        _tables.pop()
