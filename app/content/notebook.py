"""A lesson as a Jupyter notebook: prose as Markdown cells, the learner's current code as code
cells, sliders as plain assignments, so it runs top to bottom in any Python kernel."""

from __future__ import annotations

from collections.abc import Mapping

import nbformat
from nbformat.notebooknode import NotebookNode

from app.content.model import CodeCell, Exercise, Lesson, Plot, Prose, SliderGroup

PREAMBLE = (
    "# Descent sets DEVICE to where torch should compute: 'cuda' with a GPU, else 'cpu'.\n"
    "try:\n"
    "    import torch\n"
    "    DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'\n"
    "except ImportError:\n"
    "    DEVICE = 'cpu'"
)


def lesson_notebook(lesson: Lesson, code: Mapping[str, str] | None = None) -> NotebookNode:
    """The notebook of `lesson`, with `code` (cell id -> text) in place of the lesson's code."""
    code = code or {}
    v4 = nbformat.v4
    cells = [
        v4.new_markdown_cell(f"# {lesson.title}\n\n*{lesson.summary}*\n\nExported from Descent."),
        v4.new_code_cell(PREAMBLE),
    ]
    for block in lesson.blocks:
        if isinstance(block, Prose):
            cells.append(v4.new_markdown_cell(block.markdown))
        elif isinstance(block, SliderGroup):
            lines = [
                f"{s.name} = {s.value!r}  # slider “{s.label}”: {s.min:g} to {s.max:g}"
                for s in block.sliders
            ]
            cells.append(v4.new_code_cell("\n".join(lines)))
        elif isinstance(block, CodeCell):
            text = code.get(block.id, block.code) if block.editable else block.code
            cells.append(v4.new_code_cell(text.rstrip("\n")))
        elif isinstance(block, Plot):
            cells.append(
                v4.new_markdown_cell(
                    f"*In Descent, a `{block.kind}` plot (“{block.id}”) is drawn here.*"
                )
            )
        elif isinstance(block, Exercise):
            hints = "\n".join(f"- {h}" for h in block.hints)
            cells.append(
                v4.new_markdown_cell(
                    f"**Exercise ({block.id}).** {_plain(block.prompt)}"
                    + (f"\n\nHints:\n{hints}" if hints else "")
                )
            )
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def _plain(html: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", html).strip()


def notebook_bytes(lesson: Lesson, code: Mapping[str, str] | None = None) -> bytes:
    nb = lesson_notebook(lesson, code)
    nbformat.validate(nb)
    return nbformat.writes(nb).encode()
