"""Read `lessons/*.md` into typed lessons; any problem names the file, the line and what is wrong.

A lesson is Markdown with YAML front matter and fenced directive blocks:
```` ```{slider} w ````, ```` ```{code} cell-id ````, ```` ```{plot} plot-id ```` and
```` ```{exercise} exercise-id ````. The format is documented in docs/lessons.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from markdown_it.token import Token
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.content.check_names import check_names
from app.content.model import (
    Block,
    Catalogue,
    CellId,
    CodeCell,
    Exercise,
    ExerciseId,
    Lesson,
    LessonSlug,
    Plot,
    PlotId,
    Prose,
    Slider,
    SliderGroup,
)
from app.content.render import markdown_parser, render_tokens
from app.plots.registry import PLOT_KINDS
from app.protocol import Allowance

DIRECTIVE = re.compile(r"^\{(?P<kind>[a-z]+)\}\s*(?P<arg>\S*)\s*$")
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: The most worker processes a lesson's sandbox allowance may grant.
MAX_WORKER_PROCESSES = 8


class LessonError(Exception):
    """A lesson file that cannot be served, with where and why."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path, self.line, self.problem = path, line, problem


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SandboxSpec(_Strict):
    """A lesson's sandbox allowance (docs/sandbox.md, "Allowances"): worker processes its
    kernels may fork, and sockets on their own loopback interface."""

    processes: int = Field(default=0, ge=0, le=MAX_WORKER_PROCESSES)
    loopback: bool = False


class FrontMatter(_Strict):
    title: str = Field(min_length=1)
    slug: str
    track: str = Field(pattern=r"^[A-Z]$")
    order: int = Field(ge=0)
    summary: str = Field(min_length=1)
    sandbox: SandboxSpec | None = None


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


class ExerciseSpec(_Strict):
    cell: str
    check: str
    prompt: str = ""
    params: dict[str, Any] = {}
    hints: list[str] = Field(default_factory=list)
    solution: str = ""


def _problem(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    msg = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def _yaml(path: Path, line: int, text: str, what: str) -> dict[str, Any]:
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


class _Builder:
    """Collects one file's blocks and checks that their names are unique and consistent."""

    def __init__(self, path: Path, lines: list[str]) -> None:
        self.path = path
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
            spec = SliderSpec.model_validate(_yaml(self.path, line + 1, body, f"slider {arg!r}"))
        except ValidationError as err:
            raise self.fail(line, f"slider {arg!r}: {_problem(err)}") from None
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
        raw = _yaml(self.path, line + 1, body, f"plot {arg!r}")
        try:
            spec = PlotSpec.model_validate(raw)
        except ValidationError as err:
            raise self.fail(line, f"plot {arg!r}: {_problem(err)}") from None
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
            raise self.fail(line, f"plot {arg!r}: {_problem(err)}") from None
        plot = Plot(pid, spec.kind, tuple(spec.sliders), options, line)
        self.plots[pid] = plot
        self.flush_prose()
        self.blocks.append(plot)

    def exercise(self, line: int, arg: str, body: str) -> None:
        eid = ExerciseId(self.ident(line, "exercise", arg, self.exercises))
        try:
            spec = ExerciseSpec.model_validate(
                _yaml(self.path, line + 1, body, f"exercise {arg!r}")
            )
        except ValidationError as err:
            raise self.fail(line, f"exercise {arg!r}: {_problem(err)}") from None
        if spec.cell not in self.cells:
            raise self.fail(
                line, f"exercise {arg!r}: no code cell {spec.cell!r} is declared above it"
            )
        if spec.check not in check_names():
            known = ", ".join(sorted(check_names()))
            raise self.fail(
                line, f"exercise {arg!r}: unknown check {spec.check!r} (known: {known})"
            )
        prompt = render_tokens(markdown_parser().parse(spec.prompt)) if spec.prompt else ""
        ex = Exercise(
            eid,
            CellId(spec.cell),
            spec.check,
            spec.params,
            prompt,
            tuple(markdown_parser().renderInline(h) for h in spec.hints),
            spec.solution,
            line,
        )
        self.exercises[eid] = ex
        self.flush_prose()
        self.blocks.append(ex)


def _directives(tokens: list[Token]) -> Iterator[tuple[Token, re.Match[str] | None]]:
    for tok in tokens:
        m = DIRECTIVE.match(tok.info.strip()) if tok.type == "fence" else None
        yield tok, m


def load_lesson(path: Path) -> Lesson:
    """Parse one lesson file; raise LessonError naming the line of the first problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise LessonError(path, 1, f"cannot read the file: {err}") from None
    tokens = markdown_parser().parse(text)
    if not tokens or tokens[0].type != "front_matter":
        raise LessonError(path, 1, "the file must start with front matter between --- lines")
    try:
        meta = FrontMatter.model_validate(_yaml(path, 2, tokens[0].content, "front matter"))
    except ValidationError as err:
        raise LessonError(path, 1, f"front matter: {_problem(err)}") from None
    if not SLUG.match(meta.slug):
        raise LessonError(
            path, 1, f"front matter: slug {meta.slug!r} must be lowercase words joined by -"
        )
    spec = meta.sandbox
    allow = Allowance(spec.processes, spec.loopback) if spec is not None else None
    b = _Builder(path, text.splitlines(keepends=True))
    handlers = {"slider": b.slider, "code": b.code, "plot": b.plot, "exercise": b.exercise}
    for tok, m in _directives(tokens[1:]):
        line = (tok.map[0] + 1) if tok.map else 1
        if m is None:
            b.pending_prose.append(tok)
            continue
        handler = handlers.get(m.group("kind"))
        if handler is None:
            raise LessonError(
                path,
                line,
                f"unknown directive {{{m.group('kind')}}} (known: {', '.join(handlers)})",
            )
        handler(line, m.group("arg"), tok.content)
    b.flush_prose()
    return Lesson(
        slug=LessonSlug(meta.slug),
        title=meta.title,
        track=meta.track,
        order=meta.order,
        summary=meta.summary,
        path=path,
        blocks=tuple(b.blocks),
        sliders=b.sliders,
        cells=b.cells,
        plots=b.plots,
        exercises=b.exercises,
        sandbox=allow or None,
    )


def load_catalogue(folder: Path) -> Catalogue:
    """Every lesson in `folder`, ordered by track then order; duplicates are errors."""
    if not folder.is_dir():
        raise LessonError(folder, 0, "the lessons folder does not exist")
    lessons = [load_lesson(p) for p in sorted(folder.glob("*.md"))]
    seen: dict[str, Path] = {}
    for lesson in lessons:
        if lesson.slug in seen:
            raise LessonError(
                lesson.path, 1, f"slug {lesson.slug!r} is also used by {seen[lesson.slug]}"
            )
        seen[lesson.slug] = lesson.path
    places: dict[tuple[str, int], Path] = {}
    for lesson in lessons:
        key = (lesson.track, lesson.order)
        if key in places:
            raise LessonError(
                lesson.path,
                1,
                f"track {lesson.track} order {lesson.order} is also used by {places[key]}",
            )
        places[key] = lesson.path
    lessons.sort(key=lambda lesson: (lesson.track, lesson.order))
    return Catalogue(tuple(lessons))
