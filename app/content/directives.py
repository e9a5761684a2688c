"""The fenced directive blocks of a lesson.md: ```` ```{slider} w ````, ```` ```{code} cell-id ````,
```` ```{plot} plot-id ```` and ```` ```{exercise} exercise-id ````, each checked as it is read;
a problem names the file, the line and what is wrong. The format is in docs/lessons.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from markdown_it.token import Token
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.content.check_source import CheckSpec
from app.content.errors import LessonError
from app.content.exercises import build_exercise, problem_of
from app.content.model import (
    Block,
    CellId,
    CodeCell,
    Exercise,
    ExerciseId,
    Plot,
    PlotId,
    Prose,
    Slider,
    SliderGroup,
)
from app.content.render import render_tokens
from app.plots.registry import PLOT_KINDS

DIRECTIVE = re.compile(r"^\{(?P<kind>[a-z]+)\}\s*(?P<arg>\S*)\s*$")
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SliderSpec(_Strict):
    min: float
    max: float
    step: float = Field(gt=0)
    value: float
    label: str = ""

    @model_validator(mode="after")
    def _in_range(self) -> SliderSpec:
        if self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        if not self.min <= self.value <= self.max:
            raise ValueError(f"value {self.value} lies outside [{self.min}, {self.max}]")
        return self


class PlotSpec(BaseModel):
    model_config = ConfigDict(extra="allow")
    kind: str
    sliders: list[str] = []


def parse_yaml(path: Path, line: int, text: str, what: str) -> dict[str, Any]:
    """A block's YAML (`line` is its first line in the file) as a mapping."""
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = line + (mark.line if mark else 0)
        raise LessonError(
            path, at, f"{what}: invalid YAML ({getattr(err, 'problem', err)})"
        ) from None
    if not isinstance(data, dict):
        raise LessonError(path, line, f"{what}: expected `key: value` lines")
    return data


def _split_code(body: str) -> tuple[dict[str, str], str]:
    """Leading `:key: value` lines are options; the rest is the cell's code."""
    options: dict[str, str] = {}
    lines = body.splitlines(keepends=True)
    while lines and (m := re.match(r"^:([a-z_]+):\s*(.*?)\s*$", lines[0])):
        options[m.group(1)] = m.group(2)
        lines.pop(0)
    return options, "".join(lines).rstrip() + "\n"


class Builder:
    """Collects one file's blocks and checks that their names are unique and consistent;
    `checks` are the bundle's own checks (from its checks.py), besides the toolkit's."""

    def __init__(self, path: Path, lines: list[str], checks: dict[str, CheckSpec]) -> None:
        self.path = path
        self.checks = checks
        self.lines = lines
        self.blocks: list[Block] = []
        self.sliders: dict[str, Slider] = {}
        self.cells: dict[CellId, CodeCell] = {}
        self.plots: dict[PlotId, Plot] = {}
        self.exercises: dict[ExerciseId, Exercise] = {}
        self.pending_prose: list[Token] = []

    def fail(self, line: int, problem: str) -> LessonError:
        return LessonError(self.path, line, problem)

    def flush_prose(self) -> None:
        if self.pending_prose:
            html = render_tokens(self.pending_prose)
            spans = [t.map for t in self.pending_prose if t.map]
            source = ""
            if spans:
                source = "".join(self.lines[min(a for a, _ in spans) : max(b for _, b in spans)])
            if html.strip():
                self.blocks.append(Prose(html, source.strip()))
            self.pending_prose = []

    def ident(self, line: int, kind: str, arg: str, taken: Any) -> str:
        if not IDENT.match(arg.replace("-", "_")):
            raise self.fail(
                line, f"{{{kind}}} needs a name made of letters, digits, _ or -, got {arg!r}"
            )
        if arg in taken:
            raise self.fail(line, f"{{{kind}}} {arg!r} is declared twice")
        return arg

    def slider(self, line: int, arg: str, body: str) -> None:
        if not IDENT.match(arg):
            raise self.fail(line, f"{{slider}} needs a Python variable name, got {arg!r}")
        if arg in self.sliders:
            raise self.fail(line, f"slider {arg!r} is declared twice")
        try:
            spec = SliderSpec.model_validate(
                parse_yaml(self.path, line + 1, body, f"slider {arg!r}")
            )
        except ValidationError as err:
            raise self.fail(line, f"slider {arg!r}: {problem_of(err)}") from None
        slider = Slider(arg, spec.min, spec.max, spec.step, spec.value, spec.label or arg)
        self.sliders[arg] = slider
        last = self.blocks[-1] if self.blocks and not self.pending_prose else None
        if isinstance(last, SliderGroup):
            self.blocks[-1] = SliderGroup((*last.sliders, slider))
        else:
            self.flush_prose()
            self.blocks.append(SliderGroup((slider,)))

    def code(self, line: int, arg: str, body: str) -> None:
        cid = CellId(self.ident(line, "code", arg, self.cells))
        options, code = _split_code(body)
        unknown = set(options) - {"editable"}
        if unknown:
            raise self.fail(line, f"code {arg!r}: unknown option :{sorted(unknown)[0]}:")
        editable = options.get("editable", "true").lower() in ("true", "yes", "1")
        try:
            compile(code, f"<cell {arg}>", "exec")
        except SyntaxError as err:
            at = line + len(options) + (err.lineno or 1)
            raise self.fail(at, f"code {arg!r} is not valid Python: {err.msg}") from None
        cell = CodeCell(cid, code, editable, line)
        self.cells[cid] = cell
        self.flush_prose()
        self.blocks.append(cell)

    def plot(self, line: int, arg: str, body: str) -> None:
        pid = PlotId(self.ident(line, "plot", arg, self.plots))
        raw = parse_yaml(self.path, line + 1, body, f"plot {arg!r}")
        try:
            spec = PlotSpec.model_validate(raw)
        except ValidationError as err:
            raise self.fail(line, f"plot {arg!r}: {problem_of(err)}") from None
        kind = PLOT_KINDS.get(spec.kind)
        if kind is None:
            known = ", ".join(sorted(PLOT_KINDS))
            raise self.fail(line, f"plot {arg!r}: unknown kind {spec.kind!r} (known: {known})")
        for name in spec.sliders:
            if name not in self.sliders:
                raise self.fail(line, f"plot {arg!r}: no slider {name!r} is declared above it")
        options = {k: v for k, v in raw.items() if k not in ("kind", "sliders")}
        try:
            kind.parse_options(options)
        except ValidationError as err:
            raise self.fail(line, f"plot {arg!r}: {problem_of(err)}") from None
        if options.get("coarse_args") and not kind.coarse_arguments:
            raise self.fail(
                line,
                f"plot {arg!r}: a {spec.kind} plot does not call a function of the sliders by "
                "name, so it cannot take coarse_args",
            )
        plot = Plot(pid, spec.kind, tuple(spec.sliders), options, line)
        self.plots[pid] = plot
        self.flush_prose()
        self.blocks.append(plot)

    def exercise(self, line: int, arg: str, body: str) -> None:
        eid = ExerciseId(self.ident(line, "exercise", arg, self.exercises))
        raw = parse_yaml(self.path, line + 1, body, f"exercise {arg!r}")
        ex = build_exercise(self.path, line, arg, raw, body, self.cells, self.checks)
        self.exercises[eid] = ex
        self.flush_prose()
        self.blocks.append(ex)


def directives(tokens: list[Token]) -> Iterator[tuple[Token, re.Match[str] | None]]:
    """Each token with its directive match (None for prose)."""
    for tok in tokens:
        m = DIRECTIVE.match(tok.info.strip()) if tok.type == "fence" else None
        yield tok, m
