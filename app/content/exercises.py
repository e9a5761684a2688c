"""An `{exercise}` block: its YAML, its check (the toolkit's or the bundle's checks.py, read
from source, never run here) and its `mistakes:`, each `when` one the check understands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.content.check_source import CheckSpec, toolkit_checks
from app.content.errors import LessonError
from app.content.model import CellId, Exercise, ExerciseId, Mistake
from app.content.render import markdown_parser, render_tokens


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MistakeSpec(_Strict):
    when: str
    message: str = Field(min_length=1)
    answer: str = ""

    @field_validator("when", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        """`when: 0` is the formula "0"."""
        return str(value) if isinstance(value, int | float) else value


class ExerciseSpec(_Strict):
    cell: str
    check: str
    prompt: str = ""
    params: dict[str, Any] = {}
    hints: list[str] = Field(default_factory=list)
    solution: str = ""
    mistakes: list[MistakeSpec] = Field(default_factory=list)


def problem_of(err: ValidationError) -> str:
    """The first problem pydantic found, as `field: what is wrong`."""
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    msg = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def mistake_lines(body: str) -> list[int]:
    """The 0-based line, within the block's body, of each item of its `mistakes:` list."""
    try:
        node = yaml.compose(body)
    except yaml.YAMLError:
        return []
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == "mistakes" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line for item in value.value]
    return []


def _known(spec: CheckSpec) -> str:
    names = ", ".join(spec.mistakes) or "none"
    formulas = " or a formula of its inputs" if spec.expressions else ""
    return f"the mistakes it knows: {names}{formulas}"


def _python(text: str, what: str) -> str | None:
    """The syntax problem of a piece of Python, or None."""
    try:
        compile(text, f"<{what}>", "exec")
    except SyntaxError as err:
        return f"{what} is not valid Python (line {err.lineno}): {err.msg}"
    return None


def build_exercise(
    path: Path,
    line: int,
    name: str,
    raw: dict[str, Any],
    body: str,
    cells: dict[CellId, Any],
    checks: dict[str, CheckSpec],
) -> Exercise:
    """The exercise declared at `line` of `path`; `checks` are the bundle's own checks."""

    def fail(at: int, problem: str) -> LessonError:
        return LessonError(path, at, f"exercise {name!r}: {problem}")

    try:
        spec = ExerciseSpec.model_validate(raw)
    except ValidationError as err:
        raise fail(line, problem_of(err)) from None
    if spec.cell not in cells:
        raise fail(line, f"no code cell {spec.cell!r} is declared above it")
    check = checks.get(spec.check) or toolkit_checks().get(spec.check)
    if check is None:
        own = ", ".join(sorted(checks)) or "none (no checks.py beside lesson.md)"
        toolkit = ", ".join(sorted(toolkit_checks()))
        raise fail(
            line,
            f"unknown check {spec.check!r} (this lesson's checks.py: {own}; "
            f"the toolkit's: {toolkit})",
        )
    if "mistakes" in spec.params:
        raise fail(line, "put `mistakes:` beside `params:`, not inside it")
    if spec.solution and (problem := _python(spec.solution, "solution")):
        raise fail(line, problem)
    lines = mistake_lines(body)
    mistakes: list[Mistake] = []
    for i, m in enumerate(spec.mistakes):
        at = line + 1 + lines[i] if i < len(lines) else line
        if m.when not in check.mistakes:
            if not check.expressions:
                raise fail(
                    at, f"check {check.name!r} knows no mistake {m.when!r} ({_known(check)})"
                )
            try:
                compile(m.when, "<when>", "eval")
            except SyntaxError as err:
                raise fail(
                    at,
                    f"mistake {m.when!r} is neither a name {check.name!r} knows nor a "
                    f"formula ({err.msg}); {_known(check)}",
                ) from None
        if m.answer and (problem := _python(m.answer, f"the answer of mistake {m.when!r}")):
            raise fail(at, problem)
        mistakes.append(Mistake(m.when, m.message, m.answer, at))
    params = dict(spec.params)
    if mistakes:
        params["mistakes"] = [{"when": m.when, "message": m.message} for m in mistakes]
    prompt = render_tokens(markdown_parser().parse(spec.prompt)) if spec.prompt else ""
    return Exercise(
        ExerciseId(name),
        CellId(spec.cell),
        spec.check,
        params,
        prompt,
        tuple(markdown_parser().renderInline(h) for h in spec.hints),
        spec.solution,
        line,
        tuple(mistakes),
    )
