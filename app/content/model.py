"""The typed shape of a lesson, as the loader builds it from a bundle's lesson.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from app.protocol import Allowance
from app.protocol import CellId as CellId  # the ids are defined once, in app.protocol
from app.protocol import ExerciseId as ExerciseId
from app.protocol import LessonSlug as LessonSlug
from app.protocol import PlotId as PlotId


@dataclass(frozen=True)
class Slider:
    """A range input bound to one variable of the lesson."""

    name: str
    min: float
    max: float
    step: float
    value: float
    label: str

    def accepts(self, value: float) -> bool:
        """Whether a value lies in the slider's range (with a little rounding slack)."""
        slack = abs(self.step) * 1e-6
        return self.min - slack <= value <= self.max + slack


@dataclass(frozen=True)
class CodeCell:
    """Python the lesson runs in the learner's kernel; editable cells can be changed and re-run."""

    id: CellId
    code: str
    editable: bool
    line: int


@dataclass(frozen=True)
class Plot:
    """A figure of one kind, fed by learner functions evaluated at the slider values."""

    id: PlotId
    kind: str
    sliders: tuple[str, ...]
    options: dict[str, Any]
    line: int


@dataclass(frozen=True)
class Mistake:
    """A known mistake of an exercise: when the check recognises it (a name the check knows, or
    a formula), the message the learner then reads, and optionally an answer that makes it."""

    when: str
    message: str
    answer: str
    line: int


@dataclass(frozen=True)
class Exercise:
    """A task checked in the kernel against the learner's code. `params` is what the check
    receives: the exercise's `params:` and, under "mistakes", its mistakes' `when` and
    `message`."""

    id: ExerciseId
    cell: CellId
    check: str
    params: dict[str, Any]
    prompt: str
    hints: tuple[str, ...]
    solution: str
    line: int
    mistakes: tuple[Mistake, ...] = ()


@dataclass(frozen=True)
class Prose:
    """Markdown between widgets: its source (for notebooks) and its HTML (math left for KaTeX)."""

    html: str
    markdown: str = ""


@dataclass(frozen=True)
class SliderGroup:
    """Sliders declared next to each other, shown as one control panel."""

    sliders: tuple[Slider, ...]


@dataclass(frozen=True)
class DataSpec:
    """Where a lesson keeps the data its model is fitted to (front matter `data:`), so that a
    learner can load their own: `variables` (one for `pairs`, else one per column), the
    `shape` (one of app/kernel/dataset.py's SHAPES) and the `columns`' names."""

    variables: tuple[str, ...]
    shape: str
    columns: tuple[str, ...]


Block = Prose | SliderGroup | CodeCell | Plot | Exercise
Track = Literal["A", "B", "C", "D"]


@dataclass(frozen=True)
class Lesson:
    """One lesson page: its front matter and its blocks in page order."""

    slug: LessonSlug
    title: str
    track: str
    order: int
    summary: str
    path: Path
    blocks: tuple[Block, ...]
    sliders: dict[str, Slider] = field(default_factory=dict)
    cells: dict[CellId, CodeCell] = field(default_factory=dict)
    plots: dict[PlotId, Plot] = field(default_factory=dict)
    exercises: dict[ExerciseId, Exercise] = field(default_factory=dict)
    #: What its kernels may do beyond every other kernel (front matter `sandbox:`); None: nothing.
    sandbox: Allowance | None = None
    #: The data a learner may replace with their own (front matter `data:`); None: no data.
    data: DataSpec | None = None

    @property
    def folder(self) -> Path:
        """The lesson's bundle: the folder of its lesson.md, checks.py and data files. A check
        request names it so the kernel finds the bundle's checks, whatever its working folder."""
        return self.path.parent.resolve()

    def initial_values(self) -> dict[str, float]:
        """Each slider's starting value."""
        return {name: s.value for name, s in self.sliders.items()}


TRACK_TITLES: dict[str, str] = {
    "A": "How machines learn",
    "B": "From a loop to a framework",
    "C": "Gradient descent in depth",
    "D": "The training loop and networks",
    "E": "Batches, GPUs and many workers",
}


@dataclass
class Catalogue:
    """All lessons, ordered by track then order, with neighbours for previous and next.

    `get`, `neighbours` and `by_track` (what a page request asks) first call `refresh`, which a
    catalogue that reloads edited lessons overrides (app.content.loader.ReloadingCatalogue).
    """

    lessons: tuple[Lesson, ...]

    def refresh(self) -> None:
        """Bring the lessons up to date with their files; this catalogue never changes."""

    def get(self, slug: str) -> Lesson | None:
        self.refresh()
        for lesson in self.lessons:
            if lesson.slug == slug:
                return lesson
        return None

    def neighbours(self, slug: str) -> tuple[Lesson | None, Lesson | None]:
        self.refresh()
        slugs = [lesson.slug for lesson in self.lessons]
        i = slugs.index(LessonSlug(slug))
        prev = self.lessons[i - 1] if i > 0 else None
        nxt = self.lessons[i + 1] if i + 1 < len(self.lessons) else None
        return prev, nxt

    def by_track(self) -> list[tuple[str, str, list[Lesson]]]:
        self.refresh()
        tracks: dict[str, list[Lesson]] = {}
        for lesson in self.lessons:
            tracks.setdefault(lesson.track, []).append(lesson)
        return [(t, TRACK_TITLES.get(t, f"Track {t}"), ls) for t, ls in tracks.items()]
