"""A lesson as a Jupyter notebook: prose as Markdown cells, the learner's current code as code
cells, sliders as plain assignments, so it runs top to bottom in any Python kernel."""

from __future__ import annotations

import re
from collections.abc import Mapping

import nbformat
from nbformat.notebooknode import NotebookNode

from app.content.datacsv import Rows
from app.content.model import CodeCell, DataSpec, Exercise, Lesson, Plot, Prose, SliderGroup

PREAMBLE = (
    "# Descent sets DEVICE to where torch should compute: 'cuda' with a GPU, else 'cpu'.\n"
    "try:\n"
    "    import torch\n"
    "    DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'\n"
    "except ImportError:\n"
    "    DEVICE = 'cpu'"
)


def data_cell_source(spec: DataSpec, rows: Rows) -> str:
    """Python that defines the lesson's data variables from the learner's rows."""
    head = "# Your own data, loaded in Descent: it replaces the lesson's."
    if spec.shape == "pairs":
        pairs = ", ".join("(" + ", ".join(repr(v) for v in row) + ")" for row in rows)
        return f"{head}\n{spec.variables[0]} = [{pairs}]"
    lines = [head]
    if spec.shape == "arrays":
        lines.append("import numpy as np")
    else:
        lines.append("import torch")
    for i, name in enumerate(spec.variables):
        values = ", ".join(repr(row[i]) for row in rows)
        if spec.shape == "arrays":
            lines.append(f"{name} = np.array([{values}])")
        else:
            lines.append(f"{name} = torch.tensor([{values}], dtype=torch.float32, device=DEVICE)")
    return "\n".join(lines)


def _assigns(spec: DataSpec, text: str) -> bool:
    return any(re.search(rf"^\s*{re.escape(v)}\s*=[^=]", text, re.M) for v in spec.variables)


def lesson_notebook(
    lesson: Lesson, code: Mapping[str, str] | None = None, data: Rows | None = None
) -> NotebookNode:
    """The notebook of `lesson`, with `code` (cell id -> text) in place of the lesson's code,
    and the learner's own `data` (rows) after every cell that sets the lesson's data."""
    code = code or {}
    spec = lesson.data if data else None
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
            if spec is not None and data and _assigns(spec, text):
                cells.append(v4.new_code_cell(data_cell_source(spec, data)))
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
    if (
        spec is not None
        and data
        and not any(_assigns(spec, c.source) for c in cells if c.cell_type == "code")
    ):
        cells.insert(2, v4.new_code_cell(data_cell_source(spec, data)))
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


def notebook_bytes(
    lesson: Lesson, code: Mapping[str, str] | None = None, data: Rows | None = None
) -> bytes:
    nb = lesson_notebook(lesson, code, data)
    nbformat.validate(nb)
    return nbformat.writes(nb).encode()
