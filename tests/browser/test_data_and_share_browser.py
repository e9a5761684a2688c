"""A learner's own data and share links, in Chromium, as learners and a teacher use them: a CSV
file and pasted rows replace the lesson's data in the plot, training runs on them, bad files get
words, a share link carries code, sliders and data to a friend (who edits their own copy while
the sharer's work stays as it was) until the sharer stops it, and a teacher's dataset for a room
reaches a learner who joins it. axe-core checks every page a test ends on (conftest.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from a11y import assert_accessible
from helpers import (
    LESSON_SETTLED,
    LOAD_MS,
    TEACHER_PASSWORD,
    WAIT_MS,
    editor_text,
    open_clean_lesson,
    open_lesson,
    press,
    read_plot,
    readouts,
    replace_code,
    run_cell,
    same_plot,
    wait_for,
    wait_for_readouts,
)
from live_server import LiveServer
from teacher_pages import join_room, open_room, sign_in

pytestmark = pytest.mark.browser

LESSON_POINTS: list[tuple[float, float]] = [
    (1, 0.85), (2, 1.43), (3, 1.92), (4, 2.59), (5, 3.20), (6, 3.82), (7, 4.38), (8, 4.97)
]  # fmt: skip
MINE: list[tuple[float, float]] = [(0.0, 1.0), (1.0, 1.5), (2.0, 2.2), (3.0, 2.4), (4.0, 3.1)]
TRAIN_FIXED = """def train(iterations=100):
    global steps_taken
    for _ in range(iterations):
        update()
        steps_taken = steps_taken + 1
"""


def points(page: Any, plot: str) -> list[tuple[float, float]]:
    """The data points drawn on `plot` (its trace named "data")."""
    for trace in read_plot(page, plot):
        if trace["name"] == "data":
            return list(zip(trace["x"], trace["y"], strict=True))
    raise AssertionError(f"plot {plot} has no data trace: {read_plot(page, plot)}")


def trace(page: Any, plot: str, name: str) -> dict[str, Any]:
    return next(t for t in read_plot(page, plot) if t["name"] == name)


def wait_for_points(page: Any, plot: str, want: Sequence[tuple[float, float]]) -> None:
    script = """([plot, want]) => {
      const t = (document.getElementById(`plot-${plot}`).data || []).find((t) => t.name === "data");
      if (!t || t.x.length !== want.length) return false;
      return want.every(([x, y], i) => Math.abs(t.x[i] - x) < 1e-9 && Math.abs(t.y[i] - y) < 1e-9);
    }"""
    try:
        wait_for(page, script, [plot, want])
    except Exception:
        raise AssertionError(f"plot {plot} shows {points(page, plot)}, not {want}") from None


def data_state(page: Any) -> str:
    return str(page.inner_text("#data-state")).strip()


def wait_for_data_state(page: Any, source: str) -> str:
    """Wait until the page says whose data is in use (`lesson`, `yours`, `room`); its words."""
    wait_for(
        page,
        "s => document.getElementById('own-data').dataset.source === s"
        " && document.getElementById('data-state').dataset.ok === 'true'",
        source,
    )
    return data_state(page)


def wait_for_refusal(page: Any) -> str:
    wait_for(page, "() => document.getElementById('data-state').dataset.ok === 'false'")
    return data_state(page)


def paste_rows(page: Any, rows: Sequence[tuple[float, float]]) -> None:
    """Paste `rows` into the data box and load them: the learner's own data in use."""
    page.click("#own-data summary")
    page.fill("#data-paste", "x,y\n" + "".join(f"{x:g},{y:g}\n" for x, y in rows))
    page.click("#data-load")
    wait_for_data_state(page, "yours")


def make_link(page: Any) -> str:
    """Make a share link of the page as it is; its address."""
    page.click("#share summary")
    page.get_by_role("button", name="Make a share link").click()
    wait_for(page, "() => document.getElementById('share-link').value !== ''")
    return str(page.input_value("#share-link"))


def check_controls_named_and_live(page: Any) -> None:
    """From the box's summary, Tab reaches every control of the data box in order, each with
    a name a screen reader reads, and the page's words about the data are in a polite live
    region."""
    page.focus("#own-data summary")
    reached = []
    for _ in range(3):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id"))
    assert reached == ["data-file", "data-paste", "data-load"], reached
    for control in (
        page.get_by_label("CSV file"),
        page.get_by_label("or paste rows"),
        page.get_by_role("button", name="Load pasted rows"),
    ):
        assert control.count() == 1
    state = page.locator("#data-state")
    assert state.get_attribute("role") == "status"
    assert state.get_attribute("aria-live") == "polite"


@pytest.fixture
def friend(browser: Any) -> Iterator[Any]:
    """A second learner, in a browser of their own (their own cookie and saved work)."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    errors: list[str] = []
    tab.on("pageerror", lambda err: errors.append(str(err)))
    yield tab
    context.close()
    assert not errors, f"the friend's page raised script errors: {errors}"


def test_own_csv_file_replaces_the_points_trains_shares_and_goes_back(
    page: Any, friend: Any, lesson_server: Any, tmp_path: Path
) -> None:
    open_clean_lesson(page, lesson_server, "gradient-descent")
    assert points(page, "descent") == LESSON_POINTS

    # The box opens from the keyboard, and its controls are named.
    page.focus("#own-data summary")
    page.keyboard.press("Enter")
    assert page.evaluate("document.getElementById('own-data').open")
    check_controls_named_and_live(page)

    csv = tmp_path / "my data.csv"
    csv.write_text("x,y\n" + "".join(f"{x:g},{y:g}\n" for x, y in MINE), encoding="utf-8")
    page.set_input_files("#data-file", str(csv))
    words = wait_for_data_state(page, "yours")
    assert "“my data.csv”" in words and "5 rows" in words, words
    assert "x from 0 to 4, y from 1 to 3.1" in words, words
    wait_for_points(page, "descent", MINE)

    # Training runs on the learner's data: fix train(), Play, and the line moves.
    code = editor_text(page, "loop")
    replace_code(page, "loop", code[: code.index("def train")] + TRAIN_FIXED, typing=False)
    assert run_cell(page, "loop")[0]
    before = trace(page, "descent", "fit")["y"]
    page.click("[data-train='descent'] [data-train-action='play']")
    wait_for_readouts(page, "descent", "(r) => r.iteration >= 50")
    page.click("[data-train='descent'] [data-train-action='play']")  # Pause
    paused = "() => document.querySelector(\"[data-train='descent']\").dataset.playing === 'false'"
    wait_for(page, paused)
    after = trace(page, "descent", "fit")["y"]
    assert after != before, "the line did not move while training"
    assert readouts(page, "descent")["b"] > 0.1  # pulled up towards this data's intercept
    assert points(page, "descent") == MINE

    # A friend opening a share link of it sees the same trained line, path and loss curve.
    page.click("#share summary")
    page.get_by_role("button", name="Make a share link").click()
    wait_for(page, "() => document.getElementById('share-link').value !== ''")
    trained = readouts(page, "descent")
    friend.goto(page.input_value("#share-link"))
    friend.wait_for_function(LESSON_SETTLED, timeout=LOAD_MS)
    wait_for_readouts(friend, "descent", "(r, want) => r.iteration === want", trained["iteration"])
    wait_for(friend, "() => document.body.dataset.kernel === 'idle'")
    assert readouts(friend, "descent") == trained
    assert same_plot(read_plot(friend, "descent"), read_plot(page, "descent"))

    # Back to the lesson's data: its 8 points again, and the focus stays in the box.
    page.get_by_role("button", name="Back to the lesson's data").click()
    words = wait_for_data_state(page, "lesson")
    assert "Back to the lesson's data" in words, words
    wait_for_points(page, "descent", LESSON_POINTS)
    assert page.locator("#data-reset").is_hidden()
    assert page.evaluate("document.activeElement.id") == "data-file"


def test_pasted_rows_load_and_bad_files_get_words(
    page: Any, lesson_server: Any, tmp_path: Path
) -> None:
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(str(f))))
    open_lesson(page, lesson_server, "gradient-descent")
    page.click("#own-data summary")

    page.fill("#data-paste", "0, 1\n1, 1.5\n2, 2.2\n")
    page.click("#data-load")
    words = wait_for_data_state(page, "yours")
    assert "3 rows" in words, words
    wait_for_points(page, "descent", MINE[:3])

    # A non-number: the row and the value are named; the data in use stays.
    page.fill("#data-paste", "x,y\n1,2\n2,abc\n")
    page.click("#data-load")
    words = wait_for_refusal(page)
    assert "Row 3" in words and "abc" in words and "not a number" in words, words
    assert points(page, "descent") == MINE[:3]

    # Too large: refused by the page, with words, before anything is sent.
    big = tmp_path / "big.csv"
    big.write_text("x,y\n" + "1,2\n" * 40_000, encoding="utf-8")
    data_sent = sum('"type":"data"' in f.replace(" ", "") for f in sent)
    page.fill("#data-paste", "")
    page.set_input_files("#data-file", str(big))
    words = wait_for_refusal(page)
    assert "“big.csv”" in words and "at most 128 KB" in words and "Nothing was sent" in words
    assert sum('"type":"data"' in f.replace(" ", "") for f in sent) == data_sent
    assert points(page, "descent") == MINE[:3]


def test_a_share_link_gives_a_friend_their_own_copy_until_it_is_stopped(
    page: Any, friend: Any, lesson_server: Any
) -> None:
    sharer = page
    open_clean_lesson(sharer, lesson_server, "fitting-data")
    sharer.click("#own-data summary")
    sharer.fill("#data-paste", "x,y\n0,1\n1,1.5\n2,2.2\n3,2.4\n4,3.1\n")
    sharer.click("#data-load")
    wait_for_data_state(sharer, "yours")
    press(sharer, "w", "ArrowRight", 5)  # w = 1.05
    mine = editor_text(sharer, "data").replace("return w * x + b", "return w * x + b + 1")
    replace_code(sharer, "data", mine, typing=False)
    assert run_cell(sharer, "data")[0]
    sharer.locator("[data-save-state='data'][data-state='saved']").wait_for(timeout=WAIT_MS)
    wait_for(sharer, "() => document.querySelector(\"input[data-slider='w']\").value === '1.05'")
    shown = read_plot(sharer, "fit")

    sharer.click("#share summary")
    sharer.get_by_role("button", name="Make a share link").click()
    wait_for(sharer, "() => document.getElementById('share-link').value !== ''")
    url = sharer.input_value("#share-link")
    assert re.fullmatch(r"http://[^/]+/s/[\w-]{16,}", url), url
    assert "your link is ready" in sharer.inner_text("#share-state").lower()
    assert sharer.evaluate("document.activeElement.id") == "share-link"

    # The friend sees the same code, slider value, data and plot.
    friend.goto(url)
    friend.wait_for_function(LESSON_SETTLED, timeout=LOAD_MS)
    assert "shared link" in wait_for_data_state(friend, "yours")
    wait_for_points(friend, "fit", MINE)
    assert editor_text(friend, "data") == mine
    assert friend.input_value("input[data-slider='w']") == "1.05"
    wait_for(friend, "() => document.body.dataset.kernel === 'idle'")
    assert same_plot(read_plot(friend, "fit"), shown)

    # The friend's edit is their own: it changes their plot, not the sharer's work.
    theirs = mine.replace("+ b + 1", "+ b + 2")
    replace_code(friend, "data", theirs, typing=False)
    assert run_cell(friend, "data")[0]
    assert not same_plot(read_plot(friend, "fit"), shown)
    sharer.reload()
    sharer.wait_for_function(LESSON_SETTLED, timeout=LOAD_MS)
    assert editor_text(sharer, "data") == mine

    # The sharer stops the link; opening it again says so, in words, not a server error.
    sharer.click("#share summary")
    stop = sharer.get_by_role("button", name=f"Stop sharing {url}")
    stop.click()
    wait_for(sharer, "() => document.getElementById('share-state').textContent.includes('Stopped')")
    wait_for(sharer, "() => !document.querySelector('[data-stop-share]')")
    assert stop.count() == 0
    resp = friend.goto(url)
    assert resp is not None and resp.status == 404
    assert friend.inner_text("h1") == "This lesson is no longer shared"
    assert "stopped by the person who shared it" in friend.inner_text("main")
    assert_accessible(friend, "a stopped share link")


def friend_opens_a_link(
    page: Any, friend: Any, server: Any, data: Sequence[tuple[float, float]] | None
) -> None:
    """The friend, with data of their own in the lesson, opens a link the sharer made with
    `data` of theirs (None: the lesson's own)."""
    open_clean_lesson(friend, server, "fitting-data")
    paste_rows(friend, MINE)
    wait_for_points(friend, "fit", MINE)
    open_clean_lesson(page, server, "fitting-data")
    if data is not None:
        paste_rows(page, data)
    friend.goto(make_link(page))
    friend.wait_for_function(LESSON_SETTLED, timeout=LOAD_MS)


def own_data_came_back(friend: Any, server: Any) -> None:
    """The friend's own data was not thrown away: their next visit has it again."""
    open_lesson(friend, server, "fitting-data")
    wait_for_data_state(friend, "yours")
    wait_for_points(friend, "fit", MINE)


def test_a_link_made_with_the_lessons_data_shows_it_and_keeps_the_friends_own(
    page: Any, friend: Any, lesson_server: Any
) -> None:
    friend_opens_a_link(page, friend, lesson_server, None)
    # The link shows what the sharer saw: the lesson's points, not the friend's.
    wait_for_data_state(friend, "lesson")
    wait_for_points(friend, "fit", LESSON_POINTS)
    own_data_came_back(friend, lesson_server)


def test_a_link_with_the_sharers_data_shows_it_and_keeps_the_friends_own(
    page: Any, friend: Any, lesson_server: Any
) -> None:
    theirs = [(1.0, 5.0), (2.0, 4.0), (3.0, 2.5)]
    friend_opens_a_link(page, friend, lesson_server, theirs)
    # The link shows the sharer's points, for this page only.
    words = wait_for_data_state(friend, "yours")
    assert "shared link" in words and "only if you change it" in words, words
    wait_for_points(friend, "fit", theirs)
    wait_for(friend, "() => document.body.dataset.kernel === 'idle'")

    # A link the friend makes from this page carries what it shows: the sharer's points.
    token = make_link(friend).rsplit("/", 1)[1]
    shot = friend.evaluate("t => fetch(`/api/shared/${t}`).then((r) => r.json())", token)
    assert shot["data"] == "x,y\n1.0,5.0\n2.0,4.0\n3.0,2.5\n", shot
    # So does a notebook downloaded from it.
    with friend.expect_download(timeout=WAIT_MS) as info:
        friend.click("#export")
    notebook = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    assert "(1.0, 5.0), (2.0, 4.0), (3.0, 2.5)" in code, code

    own_data_came_back(friend, lesson_server)


@pytest.fixture
def teacher(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def test_a_rooms_dataset_reaches_a_learner_who_joins(
    page: Any, teacher: Any, teacher_server: LiveServer
) -> None:
    base = teacher_server.url
    sign_in(teacher, base, TEACHER_PASSWORD)
    code = open_room(teacher, "Measurements", "gradient-descent")
    teacher.get_by_role("link", name="Data for the class").click()
    teacher.wait_for_url(re.compile(r"/teacher/rooms/\d+/data$"))
    form = teacher.locator("#form-gradient-descent")
    form.get_by_label("or paste rows").fill("x,y\n0,5\n1,4\n2,3.5\n3,2\n")
    form.get_by_role("button", name="Use this data for Gradient descent").click()
    teacher.wait_for_selector("#room-data-message.form-ok")
    assert "4 rows" in teacher.inner_text("#room-data-message")
    assert "Your data is in use (4 rows)" in teacher.inner_text("#form-gradient-descent")
    assert_accessible(teacher, "the room's data page")

    join_room(page, base, code, "Ada", "gradient-descent")
    page.wait_for_function(LESSON_SETTLED, timeout=LOAD_MS)
    assert "teacher chose" in wait_for_data_state(page, "room")
    wait_for_points(page, "descent", [(0, 5), (1, 4), (2, 3.5), (3, 2)])
    assert page.locator("#data-reset").is_hidden()
