"""Export to Jupyter: every lesson becomes a valid notebook that runs top to bottom in a plain
Python kernel, with the learner's code in place of the lesson's."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from app.content.loader import load_catalogue
from app.content.notebook import lesson_notebook, notebook_bytes

LESSONS = load_catalogue(Path(__file__).resolve().parents[1] / "lessons")


@pytest.mark.parametrize("slug", [lesson.slug for lesson in LESSONS.lessons])
def test_exported_notebook_runs_top_to_bottom(slug: str) -> None:
    lesson = LESSONS.get(slug)
    assert lesson is not None
    nb = nbformat.reads(notebook_bytes(lesson).decode(), as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors


def test_notebook_carries_the_learners_code_and_the_prose() -> None:
    lesson = LESSONS.get("the-line")
    assert lesson is not None
    nb = lesson_notebook(lesson, {"model": "print('mine')"})
    sources = [c.source for c in nb.cells]
    assert any("weight" in s and "$" in s for s in sources if "def" not in s)
    assert any(s.startswith("w = 1.0") for s in sources)


def test_learner_code_replaces_editable_cells_only() -> None:
    lesson = next(les for les in LESSONS.lessons if any(c.editable for c in les.cells.values()))
    cell = next(c for c in lesson.cells.values() if c.editable)
    nb = lesson_notebook(lesson, {cell.id: "x = 'edited by the learner'"})
    assert any(c.source == "x = 'edited by the learner'" for c in nb.cells)


async def test_export_endpoint_downloads_an_ipynb_with_the_posted_code() -> None:
    import httpx

    from app.config import Settings
    from app.server import create_app

    app = create_app(Settings())  # no lifespan needed: export does not touch kernels
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        res = await client.post("/lessons/the-line/notebook", json={"cells": {"model": "y = 1"}})
        assert res.status_code == 200
        assert res.headers["content-type"].startswith("application/x-ipynb+json")
        assert 'filename="the-line.ipynb"' in res.headers["content-disposition"]
        assert nbformat.reads(res.text, as_version=4).nbformat == 4
        missing = await client.post("/lessons/no-such-lesson/notebook", json={"cells": {}})
        assert missing.status_code == 404


async def test_exported_notebook_carries_the_learners_data_and_runs() -> None:
    """With the learner's own data (the normalised CSV the server keeps), the notebook defines
    the lesson's data variable from it, and the lesson's code computes on it."""
    import httpx

    from app.config import Settings
    from app.server import create_app

    app = create_app(Settings())
    transport = httpx.ASGITransport(app=app)
    csv = "x,y\n1,3\n2,5\n3,7\n"
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        res = await client.post(
            "/lessons/gradient-descent/notebook", json={"cells": {}, "data": csv}
        )
        assert res.status_code == 200, res.text
        bad = await client.post(
            "/lessons/gradient-descent/notebook", json={"cells": {}, "data": "x,y\n1,oops\n"}
        )
        assert bad.status_code == 400
    nb = nbformat.reads(res.text, as_version=4)
    assert any("(1.0, 3.0)" in c.source or "(1, 3)" in c.source for c in nb.cells)
    nb.cells.append(nbformat.v4.new_code_cell("print(len(data), data[0])"))
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    last = nb.cells[-1].outputs[0]["text"]
    assert last.startswith("3 (1.0, 3.0)"), last
