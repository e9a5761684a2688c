"""The session's parts in process, without a kernel: the slider queue merges moves
last-write-wins, and figures decode a kernel's arrays through the protocol's one array check."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from app.config import Settings
from app.content.loader import load_catalogue
from app.content.model import Lesson
from app.plots.base import PlotError
from app.protocol import Array, KEvaluated, Slide
from app.session.figures import decode_result
from app.session.sliders import SlideQueue


@pytest.fixture(scope="module")
def the_line(settings: Settings) -> Lesson:
    lesson = load_catalogue(settings.lessons_dir).get("the-line")
    assert lesson is not None
    return lesson


async def test_moves_that_arrive_while_one_is_applied_are_merged_and_the_newest_wins(
    the_line: Lesson,
) -> None:
    applied: list[tuple[set[str], dict[str, float], int]] = []
    busy = asyncio.Event()
    release = asyncio.Event()

    async def apply(moved: set[str], values: dict[str, float], seq: int) -> None:
        applied.append((moved, dict(values), seq))
        busy.set()
        await release.wait()

    queue = SlideQueue(the_line, apply)
    queue.start()
    try:
        assert queue.offer(Slide({"w": 2.0}, 1)) == ""
        await busy.wait()  # the first move is being computed
        for seq, w in enumerate([3.0, 4.0, 5.0], start=2):
            assert queue.offer(Slide({"w": w}, seq)) == ""
        assert queue.offer(Slide({"b": -1.0}, 5)) == ""
        release.set()
        while len(applied) < 2:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
    finally:
        await queue.stop()
    assert applied == [({"w"}, {"w": 2.0, "b": 0.0}, 1), ({"w", "b"}, {"w": 5.0, "b": -1.0}, 5)]


def test_a_move_with_one_bad_value_is_refused_whole(the_line: Lesson) -> None:
    async def apply(moved: set[str], values: dict[str, float], seq: int) -> None:
        raise AssertionError("nothing should be applied")

    queue = SlideQueue(the_line, apply)
    assert "outside its range [-10, 10]" in queue.offer(Slide({"b": 1.0, "w": 11.0}, 1))
    assert "no slider 'q'" in queue.offer(Slide({"q": 1.0}, 2))
    assert queue.pending == {} and queue.pending_seq == 0


def test_figures_decode_arrays_that_pass_the_protocols_check() -> None:
    data = np.arange(6, dtype="<f8")
    reply = KEvaluated(1, {"z": Array([2, 3], data.tobytes())}, {"loss": 0.5}, "", {"n": ["a"]})
    result = decode_result(reply)
    np.testing.assert_array_equal(result["z"], data.reshape(2, 3))
    assert result["loss"] == 0.5 and result["n"] == ["a"]

    bad = KEvaluated(1, {"z": Array([2, 3], data.tobytes()[:40])}, {}, "")
    with pytest.raises(PlotError, match="malformed array: 'z' of shape"):
        decode_result(bad)
