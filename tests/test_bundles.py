"""Lesson bundles: a folder per lesson with its lesson.md and checks.py, several lessons folders
side by side, a broken checks.py refused at load with its file and line (read, never run), and a
catalogue that reloads an edited lesson while a teacher writes it."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import httpx
import pytest
from live_server import ROOT

from app.config import Settings
from app.content.loader import LessonError, ReloadingCatalogue, load_catalogue, load_lesson
from app.server import create_app

LESSONS = ROOT / "lessons"
RATE = ROOT / "tests" / "fixtures" / "learning-rate-and-batch-size"  # frozen copy

CHECKS = '''"""My own check."""

from app.kernel.checks import Mistakes, Verdict, check, define_first, learner_function


@check("doubles", mistakes=("adds",))
def doubles(ns, params) -> Verdict:
    fn = learner_function(ns, "double")
    if fn is None:
        return define_first("double", "x")
    if all(fn(x) == 2 * x for x in range(-3, 4)):
        return True, "Correct."
    if all(fn(x) == x + 2 for x in range(-3, 4)):
        return False, Mistakes(params).message("adds") or "Not yet."
    return False, "Not yet."
'''


def teachers_copy(folder: Path, slug: str = "my-rate") -> Path:
    """The built-in lesson copied to a teacher's folder under a slug and a place of its own."""
    bundle = folder / slug
    shutil.copytree(RATE, bundle, ignore=shutil.ignore_patterns("__pycache__"))
    text = (bundle / "lesson.md").read_text(encoding="utf-8")
    text = text.replace("slug: learning-rate-and-batch-size", f"slug: {slug}", 1)
    (bundle / "lesson.md").write_text(text.replace("track: C", "track: T", 1), encoding="utf-8")
    return bundle


def refusal(*folders: Path) -> LessonError:
    with pytest.raises(LessonError) as caught:
        load_catalogue(folders)
    return caught.value


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(path: Path, marker: str) -> int:
    return next(i + 1 for i, line in enumerate(path.read_text().splitlines()) if marker in line)


# ----------------------------------------------------------------------------- folders


def test_a_teachers_folder_stands_beside_the_built_in_lessons(tmp_path: Path) -> None:
    bundle = teachers_copy(tmp_path)
    catalogue = load_catalogue([LESSONS, tmp_path])
    mine = catalogue.get("my-rate")
    assert mine is not None and mine.folder == bundle and mine.track == "T"
    assert catalogue.get("learning-rate-and-batch-size") is not None
    assert len(catalogue.lessons) == len(load_catalogue(LESSONS).lessons) + 1


def test_one_bundle_folder_is_a_lessons_folder_of_its_own(tmp_path: Path) -> None:
    bundle = teachers_copy(tmp_path)
    assert [lesson.slug for lesson in load_catalogue(bundle).lessons] == ["my-rate"]


def test_a_slug_used_twice_names_both_files(tmp_path: Path) -> None:
    bundle = teachers_copy(tmp_path, "learning-rate-and-batch-size")
    err = refusal(LESSONS, tmp_path)
    assert err.path == bundle / "lesson.md" and err.line == 1
    built_in = LESSONS / "learning-rate-and-batch-size" / "lesson.md"
    assert str(built_in) in err.problem and "learning-rate-and-batch-size" in err.problem


def test_a_bundle_is_named_by_its_slug(tmp_path: Path) -> None:
    bundle = teachers_copy(tmp_path)
    bundle.rename(tmp_path / "elsewhere")
    err = refusal(tmp_path)
    assert "slug 'my-rate'" in err.problem and "elsewhere" in err.problem


def test_a_lesson_file_of_the_old_layout_says_where_it_goes(tmp_path: Path) -> None:
    shutil.copy(RATE / "lesson.md", tmp_path / "c07-rate.md")
    err = refusal(tmp_path)
    assert err.path == tmp_path / "c07-rate.md" and "a lesson is a folder now" in err.problem


# ----------------------------------------------------------------------------- checks.py


@pytest.mark.parametrize(
    ("source", "marker", "words"),
    [
        ("def broken(:\n", "def broken(:", "not valid Python"),
        ("from app.content.model import Lesson\n", "from app.content", "may import only"),
        ("from app.kernel.checks.values import close\n", "checks.values", "may import only"),
        ("from . import helpers\n", "from . import", "cannot import from its folder"),
        ("@check(NAME)\ndef c(ns, params):\n    pass\n", "@check(NAME)", "plain string"),
        ('@check("good_fit")\ndef c(ns, params):\n    pass\n', '@check("good_fit")', "toolkit"),
        (
            '@check("twice")\ndef a(ns, params):\n    pass\n\n\n@check("twice")\ndef b(ns, p):\n'
            "    pass\n",
            "def b(",
            "defined twice",
        ),
    ],
    ids=["syntax", "server-code", "private-module", "relative", "name", "toolkit-name", "twice"],
)
def test_a_broken_checks_py_is_refused_naming_its_line(
    tmp_path: Path, source: str, marker: str, words: str
) -> None:
    bundle = teachers_copy(tmp_path)
    checks = bundle / "checks.py"
    checks.write_text("from app.kernel.checks import check\n\n" + source, encoding="utf-8")
    err = refusal(tmp_path)
    assert err.path == checks and words in err.problem
    line = line_of(checks, marker) - (1 if marker == "def b(" else 0)
    assert err.line == line, err
    assert str(err).startswith(f"{checks}:{line}: ")


def test_checks_py_is_read_never_run(tmp_path: Path) -> None:
    bundle = teachers_copy(tmp_path)
    witness = tmp_path / "ran"
    with (bundle / "checks.py").open("a", encoding="utf-8") as out:
        out.write(f"\nopen({str(witness)!r}, 'w').close()\n")
    load_catalogue(tmp_path)
    assert not witness.exists()


def test_an_exercise_needs_a_check_its_checks_py_defines(tmp_path: Path) -> None:
    bundle = teachers_copy(tmp_path)
    (bundle / "checks.py").unlink()
    err = refusal(tmp_path)
    lesson = bundle / "lesson.md"
    assert (err.path, err.line) == (lesson, line_of(lesson, "{exercise} scaling-rule"))
    assert "unknown check 'linear_scaling'" in err.problem and "no checks.py" in err.problem


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("  - when: new_only", "  - when: new_onyl", "knows no mistake 'new_onyl'"),
        ("params:\n  function: scaled_rate", "params:\n  mistakes: []", "beside `params:`"),
    ],
    ids=["unknown-name", "inside-params"],
)
def test_mistakes_must_be_ones_the_check_knows(
    tmp_path: Path, old: str, new: str, words: str
) -> None:
    bundle = teachers_copy(tmp_path)
    edit(bundle / "lesson.md", old, new)
    err = refusal(tmp_path)
    assert words in err.problem, err


def test_a_formula_that_is_not_python_is_refused(tmp_path: Path) -> None:
    bundle = teachers_copy(tmp_path)
    edit(bundle / "lesson.md", "check: linear_scaling", "check: function_matches")
    edit(bundle / "lesson.md", "  - when: inverse", "  - when: lr *")
    err = refusal(tmp_path)
    assert "neither a name 'function_matches' knows nor a formula" in err.problem, err
    assert err.line == line_of(bundle / "lesson.md", "when: lr *")


def test_a_mistake_is_refused_at_its_own_line(tmp_path: Path) -> None:
    bundle = teachers_copy(tmp_path)
    edit(bundle / "lesson.md", "  - when: new_only", "  - when: new_onyl")
    err = refusal(tmp_path)
    assert err.line == line_of(bundle / "lesson.md", "when: new_onyl")


def test_the_server_stops_at_start_on_a_broken_checks_py(tmp_path: Path) -> None:
    bundle = teachers_copy(tmp_path)
    (bundle / "checks.py").write_text("x = (\n", encoding="utf-8")
    settings = Settings(lessons_dir=(LESSONS, tmp_path), data_dir=tmp_path / "data")
    with pytest.raises(LessonError) as caught:
        create_app(settings)
    assert caught.value.path == bundle / "checks.py" and caught.value.line == 1


# ----------------------------------------------------------------------------- reloading


def touch_later(path: Path) -> None:
    """Make sure an edit gets a new modification time, even on a coarse clock."""
    later = time.time() + 2
    os.utime(path, (later, later))


def test_reload_picks_up_an_edit_on_the_next_request(tmp_path: Path) -> None:
    bundle = teachers_copy(tmp_path)
    catalogue = load_catalogue(tmp_path, reload=True)
    assert isinstance(catalogue, ReloadingCatalogue)
    lesson = catalogue.get("my-rate")
    assert lesson is not None and "Renamed" not in lesson.title
    edit(bundle / "lesson.md", "title: ", "title: Renamed ")
    touch_later(bundle / "lesson.md")
    lesson = catalogue.get("my-rate")
    assert lesson is not None and lesson.title.startswith("Renamed ")
    same = catalogue.get("my-rate")
    assert same is lesson  # nothing changed: nothing is read again


def test_a_broken_edit_keeps_the_last_good_lesson(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bundle = teachers_copy(tmp_path)
    catalogue = load_catalogue(tmp_path, reload=True)
    (bundle / "checks.py").write_text("def broken(:\n", encoding="utf-8")
    touch_later(bundle / "checks.py")
    assert catalogue.get("my-rate") is not None
    assert f"{bundle / 'checks.py'}:1:" in caplog.text
    shutil.copy(RATE / "checks.py", bundle / "checks.py")
    edit(bundle / "lesson.md", "title: ", "title: Fixed ")
    touch_later(bundle / "lesson.md")
    lesson = catalogue.get("my-rate")
    assert lesson is not None and lesson.title.startswith("Fixed ")


async def test_a_page_shows_the_edit_on_the_next_load(tmp_path: Path, settings: Settings) -> None:
    bundle = teachers_copy(tmp_path)
    catalogue = load_catalogue([LESSONS, tmp_path], reload=True)
    app = create_app(settings.model_copy(update={"lessons_dir": (LESSONS, tmp_path)}), catalogue)
    # ASGITransport does not run the lifespan: no zygote or kernel starts.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/lessons/my-rate")).status_code == 200
        edit(bundle / "lesson.md", "## ", "## A heading a teacher just wrote\n\n## ")
        touch_later(bundle / "lesson.md")
        assert "A heading a teacher just wrote" in (await client.get("/lessons/my-rate")).text


def test_a_new_check_in_a_teachers_bundle_loads_with_no_change_to_app(tmp_path: Path) -> None:
    bundle = teachers_copy(tmp_path)
    (bundle / "checks.py").write_text(CHECKS, encoding="utf-8")
    text = (bundle / "lesson.md").read_text(encoding="utf-8")
    start = text.index("```{exercise}")
    end = text.index("```", text.index("\n", start) + 1)
    exercise = (
        "```{exercise} double\ncell: rule\ncheck: doubles\nsolution: |\n"
        "  def double(x):\n      return 2 * x\nmistakes:\n  - when: adds\n"
        "    message: Twice x is x times 2, not x plus 2.\n"
    )
    (bundle / "lesson.md").write_text(text[:start] + exercise + text[end:], encoding="utf-8")
    lesson = load_lesson(bundle / "lesson.md")
    ex = lesson.exercises["double"]  # type: ignore[index]
    assert ex.check == "doubles" and ex.mistakes[0].when == "adds"
    assert ex.params["mistakes"] == [
        {"when": "adds", "message": "Twice x is x times 2, not x plus 2."}
    ]
