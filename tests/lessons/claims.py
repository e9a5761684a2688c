"""Helpers for the claim tests: a lesson's cells run in this process (no sandbox: these tests
compute what the prose says, quickly), and the lesson's prose, to find each stated number in.

A claim test computes a number from the lesson's own code and data, formats it the way the
prose states it, and asserts that exact text is in the lesson (`says`). When the computation
changes, the test fails and names the text the prose should now hold."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

from app.content.loader import load_catalogue

LESSONS = Path(__file__).resolve().parents[2] / "lessons"


def prose(slug: str) -> str:
    """The lesson file with every run of white space made one space (lines wrap anywhere)."""
    return " ".join((LESSONS / slug / "lesson.md").read_text(encoding="utf-8").split())


def says(slug: str, text: str) -> None:
    """The lesson states `text` (white space as in `prose`)."""
    wanted = " ".join(text.split())
    assert wanted in prose(slug), f"{slug} should say: {wanted!r}"


def run_lesson(
    slug: str,
    only: tuple[str, ...] = (),
    skip: tuple[str, ...] = (),
    solve: tuple[str, ...] = (),
) -> tuple[dict[str, Any], dict[str, str]]:
    """Every code cell of the lesson (or `only` those, minus `skip`), in page order, in one
    fresh namespace; the reference solutions of the exercises in `solve` run after the cell
    they edit. Returns the namespace and each cell's printed output."""
    lesson = load_catalogue(LESSONS / slug).get(slug)  # this bundle alone
    assert lesson is not None, slug
    ns: dict[str, Any] = {"DEVICE": "cpu", "progress": lambda *a, **k: None}
    exercises = lesson.exercises or {}
    fixes: dict[str, list[str]] = {}
    for ex_id in solve:
        ex = exercises[ex_id]  # type: ignore[index]
        fixes.setdefault(str(ex.cell), []).append(ex.solution)
    printed: dict[str, str] = {}
    for cid, cell in lesson.cells.items():
        if (only and cid not in only) or cid in skip:
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(cell.code, f"{slug}/{cid}", "exec"), ns)
            for code in fixes.get(str(cid), []):
                exec(compile(code, f"{slug}/{cid} (solution)", "exec"), ns)
        printed[str(cid)] = out.getvalue()
    return ns, printed


def numbers_in(text: str) -> list[float]:
    """Every number written in `text`, in order."""
    return [float(m) for m in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)]
