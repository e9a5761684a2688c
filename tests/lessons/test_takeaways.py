"""Every lesson ends with its take-aways in one format (issue 10, item 9): a `## Take-aways`
section holding a bullet list, the last section of the lesson or followed only by `## Where to go
next`. The lesson files are read with the app's own Markdown parser, so a `#` line inside a code
cell or a directive is never taken for a heading."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it.token import Token

from app.content.loader import load_catalogue
from app.content.model import Lesson
from app.content.render import markdown_parser

LESSONS = Path(__file__).resolve().parents[2] / "lessons"
TAKEAWAYS = "Take-aways"
MAY_FOLLOW = ["Where to go next"]

CATALOGUE = load_catalogue(LESSONS)
SLUGS = [lesson.slug for lesson in CATALOGUE.lessons]


def lesson(slug: str) -> Lesson:
    found = CATALOGUE.get(slug)
    assert found is not None, slug
    return found


def sections(tokens: list[Token]) -> list[tuple[int, str]]:
    """Each top-level `##` heading: the index of its `heading_open` in `tokens`, and its text."""
    return [
        (i, tokens[i + 1].content.strip())
        for i, tok in enumerate(tokens)
        if tok.type == "heading_open" and tok.tag == "h2" and tok.level == 0
    ]


def test_every_lesson_is_checked() -> None:
    assert len(SLUGS) == len({p.parent.name for p in LESSONS.glob("*/lesson.md")})


@pytest.mark.parametrize("slug", SLUGS)
def test_lesson_ends_with_one_takeaways_list(slug: str) -> None:
    text = lesson(slug).path.read_text(encoding="utf-8")
    assert "**Take away" not in text, f"{slug} still has a **Take away.** paragraph"

    tokens = markdown_parser().parse(text)
    heads = sections(tokens)
    titles = [title for _, title in heads]
    assert titles.count(TAKEAWAYS) == 1, f"{slug}: want one '## {TAKEAWAYS}', found {titles}"

    where = titles.index(TAKEAWAYS)
    after = titles[where + 1 :]
    assert after in ([], MAY_FOLLOW), (
        f"{slug}: '## {TAKEAWAYS}' must be the last section or followed only by "
        f"'## {MAY_FOLLOW[0]}', but {after} follow it"
    )

    start = heads[where][0]
    first = tokens[start + 3]  # heading_open, inline, heading_close, then the section's first block
    assert first.type == "bullet_list_open", (
        f"{slug}: '## {TAKEAWAYS}' must open with a bullet list, not {first.type}"
    )
    end = heads[where + 1][0] if after else len(tokens)
    items = [t for t in tokens[start:end] if t.type == "list_item_open" and t.level == 1]
    assert len(items) >= 2, f"{slug}: the take-away list has {len(items)} item(s)"
