"""Known mistakes and their messages, as an exercise declares them in its lesson file:

```yaml
mistakes:
  - when: uphill                      # a mistake the check knows by name
    message: "Your step goes uphill: subtract the slope."
  - when: "w * x"                     # or a formula, where the check takes formulas
    message: "Close: the bias {b} is missing."
```

The loader hands them to the check as `params["mistakes"]`, a list of {when, message}. A check
knows what each named mistake computes; the words are the lesson's. `{field}` in a message is
filled with a value the check computes and names in its docstring (`{n}`, `{n:.3g}`); a brace
the check does not fill stays as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")
Test = Callable[[], bool]

_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([^{}]*))?\}")


def fill(template: str, /, **fields: Any) -> str:
    """The message with each `{name}` or `{name:spec}` the check gives replaced by its value."""

    def one(m: re.Match[str]) -> str:
        name, spec = m.group(1), m.group(2) or ""
        return format(fields[name], spec) if name in fields else m.group(0)

    return _FIELD.sub(one, template)


class Mistakes:
    """The exercise's mistakes (from `params`), in the order the lesson file lists them, and the
    check's own default messages for the named mistakes an exercise does not mention."""

    def __init__(self, params: Mapping[str, Any], defaults: Mapping[str, str] | None = None):
        self.declared = [(str(m["when"]), str(m["message"])) for m in params.get("mistakes", ())]
        self.defaults = dict(defaults or {})

    def message(self, name: str, /, **fields: Any) -> str | None:
        """The message for the named mistake: the exercise's, else the check's default, filled
        with `fields`; None when neither has one."""
        for when, text in self.declared:
            if when == name:
                return fill(text, **fields)
        default = self.defaults.get(name)
        return None if default is None else fill(default, **fields)

    def candidates(
        self, known: Mapping[str, T], formula: Callable[[str], T] | None = None
    ) -> list[tuple[T, str]]:
        """Each mistake to try, with its message: first the exercise's, in its order (a name in
        `known`, or any other `when` turned into a candidate by `formula` when the check takes
        formulas), then the check's defaults for the known names the exercise leaves out."""
        out: list[tuple[T, str]] = []
        for when, text in self.declared:
            if when in known:
                out.append((known[when], text))
            elif formula is not None:
                out.append((formula(when), text))
        mentioned = {when for when, _ in self.declared}
        for name, text in self.defaults.items():
            if name in known and name not in mentioned:
                out.append((known[name], text))
        return out

    def first(
        self,
        tests: Mapping[str, Test],
        formula: Callable[[str], Test] | None = None,
        /,
        **fields: Any,
    ) -> str | None:
        """The filled message of the first mistake whose test says the learner made it."""
        for test, text in self.candidates(tests, formula):
            if test():
                return fill(text, **fields)
        return None
