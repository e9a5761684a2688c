"""Read lesson bundles into typed lessons; any problem names the file, the line and what is wrong.

A lesson is a folder, its bundle: `lesson.md` (YAML front matter, Markdown, fenced directive
blocks), `checks.py` when its exercises have checks of their own, and the data files it reads.
A lessons folder holds bundles, each named by its lesson's slug; `DESCENT_LESSONS_DIR` may name
several lessons folders. The format is documented in docs/lessons.md.

The checks are read here from their source, never imported or run: they run in kernels.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.content.check_source import read_checks
from app.content.directives import Builder, directives, parse_yaml
from app.content.errors import LessonError
from app.content.exercises import problem_of
from app.content.model import Catalogue, DataSpec, Lesson, LessonSlug
from app.content.render import markdown_parser
from app.protocol import Allowance

log = logging.getLogger("descent.lessons")

LESSON_FILE = "lesson.md"
CHECKS_FILE = "checks.py"
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: The most worker processes a lesson's sandbox allowance may grant.
MAX_WORKER_PROCESSES = 8

__all__ = [
    "LessonError",
    "ReloadingCatalogue",
    "bundles",
    "check_places",
    "load_catalogue",
    "load_lesson",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SandboxSpec(_Strict):
    """A lesson's sandbox allowance (docs/sandbox.md, "Allowances"): worker processes its
    kernels may fork, and sockets on their own loopback interface."""

    processes: int = Field(default=0, ge=0, le=MAX_WORKER_PROCESSES)
    loopback: bool = False


IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"


class DataDecl(_Strict):
    """A lesson's data declaration: `{variable: data, shape: pairs, columns: [x, y]}`, or for
    `arrays` and `tensors` one variable per column: `{variable: [xs, ys], shape: arrays, ...}`."""

    variable: str | list[str]
    shape: str
    columns: list[str] = Field(min_length=1, max_length=8)


class FrontMatter(_Strict):
    title: str = Field(min_length=1)
    slug: str
    track: str = Field(pattern=r"^[A-Z]$")
    order: int = Field(ge=0)
    summary: str = Field(min_length=1)
    sandbox: SandboxSpec | None = None
    data: DataDecl | None = None


def data_spec(path: Path, line: int, decl: DataDecl) -> DataSpec:
    """The declaration checked: a known shape, names that are Python identifiers, and one
    variable for `pairs` or one per column otherwise; else a LessonError at its line."""
    from app.kernel.dataset import SHAPES

    def wrong(words: str) -> LessonError:
        return LessonError(path, line, f"front matter: data: {words}")

    if decl.shape not in SHAPES:
        raise wrong(f"shape {decl.shape!r} is not one of {', '.join(SHAPES)}")
    names = [decl.variable] if isinstance(decl.variable, str) else list(decl.variable)
    for name in [*names, *decl.columns]:
        if not re.match(IDENTIFIER, name):
            raise wrong(f"{name!r} is not a Python name")
    if len(set(decl.columns)) != len(decl.columns):
        raise wrong("the columns' names must differ")
    if decl.shape == "pairs" and len(names) != 1:
        raise wrong("shape pairs keeps the rows in one variable: give one name")
    if decl.shape != "pairs" and len(names) != len(decl.columns):
        raise wrong(
            f"shape {decl.shape} binds one variable per column: give {len(decl.columns)} "
            f"names in variable, got {len(names)}"
        )
    return DataSpec(tuple(names), decl.shape, tuple(decl.columns))


def _front_matter_line(text: str, key: str) -> int:
    """The line of a front matter key (for errors), else 1."""
    for number, line in enumerate(text.splitlines()[1:], start=2):
        if line == "---":
            break
        if line.startswith(f"{key}:"):
            return number
    return 1


def load_lesson(path: Path) -> Lesson:
    """Parse one lesson.md (and read the checks.py beside it, if any); raise LessonError naming
    the line of the first problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise LessonError(path, 1, f"cannot read the file: {err}") from None
    tokens = markdown_parser().parse(text)
    if not tokens or tokens[0].type != "front_matter":
        raise LessonError(path, 1, "the file must start with front matter between --- lines")
    try:
        meta = FrontMatter.model_validate(parse_yaml(path, 2, tokens[0].content, "front matter"))
    except ValidationError as err:
        raise LessonError(path, 1, f"front matter: {problem_of(err)}") from None
    if not SLUG.match(meta.slug):
        raise LessonError(
            path, 1, f"front matter: slug {meta.slug!r} must be lowercase words joined by -"
        )
    data = data_spec(path, _front_matter_line(text, "data"), meta.data) if meta.data else None
    spec = meta.sandbox
    allow = Allowance(spec.processes, spec.loopback) if spec is not None else None
    checks_py = path.parent / CHECKS_FILE
    checks = read_checks(checks_py) if checks_py.is_file() else {}
    b = Builder(path, text.splitlines(keepends=True), checks)
    handlers = {"slider": b.slider, "code": b.code, "plot": b.plot, "exercise": b.exercise}
    for tok, m in directives(tokens[1:]):
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
        data=data,
    )


def _folders(folders: Path | Iterable[Path]) -> tuple[Path, ...]:
    return (folders,) if isinstance(folders, Path) else tuple(folders)


def bundles(folders: Path | Iterable[Path]) -> list[Path]:
    """The bundle folders of the lessons folders, in order (a folder that itself holds a
    lesson.md is one bundle). A lesson.md of the old layout, straight in a lessons folder, is
    refused with where it goes now."""
    found: list[Path] = []
    for folder in _folders(folders):
        if not folder.is_dir():
            raise LessonError(folder, 0, "the lessons folder does not exist")
        if (folder / LESSON_FILE).is_file():
            found.append(folder)
            continue
        for entry in sorted(folder.iterdir()):
            if entry.is_dir() and (entry / LESSON_FILE).is_file():
                found.append(entry)
            elif entry.suffix == ".md" and entry.read_text(errors="replace").startswith("---"):
                raise LessonError(
                    entry,
                    1,
                    f"a lesson is a folder now: move this file to "
                    f"{folder / '<its slug>' / LESSON_FILE}, beside its checks.py",
                )
    return found


def check_places(lessons: Sequence[Lesson]) -> None:
    """Slugs are unique (and name their bundle's folder), and so are places in a track."""
    seen: dict[str, Path] = {}
    places: dict[tuple[str, int], Path] = {}
    for lesson in lessons:
        if lesson.folder.name != lesson.slug:
            raise LessonError(
                lesson.path,
                1,
                f"slug {lesson.slug!r} differs from its folder's name {lesson.folder.name!r}: "
                "a bundle's folder is named by its slug",
            )
        if lesson.slug in seen:
            raise LessonError(
                lesson.path, 1, f"slug {lesson.slug!r} is also used by {seen[lesson.slug]}"
            )
        seen[lesson.slug] = lesson.path
        key = (lesson.track, lesson.order)
        if key in places:
            raise LessonError(
                lesson.path,
                1,
                f"track {lesson.track} order {lesson.order} is also used by {places[key]}",
            )
        places[key] = lesson.path


def _catalogue(lessons: list[Lesson]) -> tuple[Lesson, ...]:
    check_places(lessons)
    return tuple(sorted(lessons, key=lambda lesson: (lesson.track, lesson.order)))


def load_catalogue(folders: Path | Iterable[Path], reload: bool = False) -> Catalogue:
    """Every lesson of the lessons folders, ordered by track then order; a slug or a place in a
    track used twice is an error naming both files. With `reload`, a catalogue that re-reads
    a bundle when its files change (ReloadingCatalogue)."""
    if reload:
        return ReloadingCatalogue(_folders(folders))
    return Catalogue(_catalogue([load_lesson(b / LESSON_FILE) for b in bundles(folders)]))


Fingerprint = tuple[tuple[str, int, int], ...]


def _fingerprint(bundle: Path) -> Fingerprint:
    """The bundle's files with their sizes and modification times."""
    out = []
    for root, dirs, files in os.walk(bundle):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            try:
                st = os.stat(os.path.join(root, name))
            except OSError:
                continue
            out.append((os.path.join(root, name), st.st_size, st.st_mtime_ns))
    return tuple(out)


class ReloadingCatalogue(Catalogue):
    """A catalogue for writing lessons (`DESCENT_RELOAD=true`): each page request re-reads the
    bundles whose files changed. An edit that breaks a lesson is logged with its file and line,
    and the last good version is served until the files change again."""

    def __init__(self, folders: tuple[Path, ...]) -> None:
        self.folders = folders
        self.seen: dict[Path, tuple[Fingerprint, Lesson]] = {}
        self.failed: dict[Path, Fingerprint] | None = None
        super().__init__(())
        self.refresh(strict=True)

    def refresh(self, strict: bool = False) -> None:
        """Re-read what changed; `strict` (at start) raises a LessonError instead of logging."""
        prints: dict[Path, Fingerprint] | None = None
        try:
            prints = {b: _fingerprint(b) for b in bundles(self.folders)}
            if prints == {b: s[0] for b, s in self.seen.items()} or prints == self.failed:
                return
            seen = {}
            for b, fp in prints.items():
                old = self.seen.get(b)
                lesson = old[1] if old and old[0] == fp else load_lesson(b / LESSON_FILE)
                seen[b] = (fp, lesson)
            lessons = _catalogue([lesson for _, lesson in seen.values()])
        except LessonError as err:
            if strict:
                raise
            if prints != self.failed:
                log.warning("lessons not reloaded: %s", err)
            self.failed = prints
            return
        self.lessons, self.seen, self.failed = lessons, seen, None
        log.info("lessons reloaded (%d)", len(lessons))
