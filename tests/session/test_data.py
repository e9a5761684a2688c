"""A learner's own data through the real socket and kernel (issue 14): a good file replaces the
lesson's data in every plot and survives a Run; every kind of bad file gets words naming the row
and changes nothing; a reload brings the learner's data back; back to the lesson's data."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import websockets
from live_server import LiveServer
from page_socket import array, closed_with, open_page, receive_until, send
from websockets.asyncio.client import ClientConnection

LESSON = "fitting-data"
GOOD = b"x,y\n0,1\n1,3\n2,5\n3,7\n10,21\n"


async def socket(server: LiveServer, cookie: str) -> ClientConnection:
    return await websockets.connect(
        f"{server.ws_url}/ws/lessons/{LESSON}",
        max_size=None,
        additional_headers={"Cookie": cookie},
    )


def data_state(msg: dict[str, object]) -> bool:
    return msg["type"] == "data_state"


def idle_after_state(seen: list[dict[str, object]]) -> bool:
    return any(m["type"] == "data_state" for m in seen)


async def load(ws: ClientConnection, raw: bytes, seq: int = 1) -> list[dict[str, object]]:
    content = base64.b64encode(raw).decode()
    await send(ws, {"type": "data", "content": content, "name": "mine.csv", "seq": seq})
    seen: list[dict[str, object]] = []
    state: dict[str, object] = {}

    def done(msg: dict[str, object]) -> bool:
        seen.append(msg)
        if data_state(msg):
            state.update(msg)
        return bool(state) and msg["type"] == "status" and msg["state"] == "idle"

    await receive_until(ws, done)
    return seen


def points(messages: list[dict[str, object]]) -> np.ndarray:
    figures = [m for m in messages if m["type"] == "figure" and m["plot"] == "fit"]
    trace = figures[-1]["figure"]["data"][1]  # type: ignore[index]
    return array(trace["x"])


async def test_own_data_replaces_the_lessons_in_every_plot_and_survives_a_run(
    server: LiveServer,
) -> None:
    cookie = server.learner_cookie(f"/lessons/{LESSON}")
    ws = await socket(server, cookie)
    opened = await open_page(ws)
    assert len(points(opened)) == 8
    assert [m for m in opened if data_state(m)] == []  # nothing of their own yet
    seen = await load(ws, GOOD)
    (state,) = [m for m in seen if data_state(m)]
    assert state["ok"] and state["source"] == "yours" and state["rows"] == 5
    assert state["columns"] == {"x": [0.0, 10.0], "y": [1.0, 21.0]}
    np.testing.assert_allclose(points(seen), [0, 1, 2, 3, 10])
    figure = [m for m in seen if m["type"] == "figure" and m["plot"] == "fit"][-1]
    x_range = figure["figure"]["layout"]["xaxis"]["range"]  # type: ignore[index]
    assert x_range[0] < 0 < 10 < x_range[1] < 12, "the axes follow the learner's data"

    # A Run of the cell that sets the lesson's `data = [...]` does not undo the learner's data.
    await send(ws, {"type": "run", "cell": "data", "code": "data = [(1, 2)]", "seq": 5})
    ran = await receive_until(ws, lambda m: m["type"] == "status" and m["state"] == "idle")
    np.testing.assert_allclose(points(ran), [0, 1, 2, 3, 10])

    # A reload (a new socket, the same learner) brings the learner's data back.
    await ws.close()
    again = await socket(server, cookie)
    reopened = await open_page(again)
    (state,) = [m for m in reopened if data_state(m)]
    assert state["source"] == "yours" and state["rows"] == 5
    np.testing.assert_allclose(points(reopened), [0, 1, 2, 3, 10])

    # Back to the lesson's data: dropped, the cells run again, the lesson's 8 points are back.
    await send(again, {"type": "data_reset", "seq": 9})
    back = await receive_until(again, lambda m: m["type"] == "status" and m["state"] == "idle")
    (state,) = [m for m in back if data_state(m)]
    assert state["source"] == "lesson"
    assert len(points(back)) == 8
    await again.close()
    third = await socket(server, cookie)
    assert not [m for m in await open_page(third) if data_state(m)]
    await third.close()


BAD = [
    ("missing", b"x,y\n1,2\n3\n", "Row 3 has 1 value"),
    ("extra", b"1,2\n3,4,5\n", "Row 2 has 3 values"),
    ("header", b"a,b,c\n1,2\n", "Row 1 looks like a header with 3 names"),
    ("text", b"x,y\n1,2\n3,four\n", "Row 3, column y: 'four' is not a number"),
    ("nan", b"1,2\nnan,4\n", "Row 2, column x: nan is not a finite number"),
    ("inf", b"1,2\n3,inf\n", "Row 2, column y: inf is not a finite number"),
    ("empty", b"", "empty"),
    ("blank", b"\n\n  \n", "The file is empty"),
    ("rows", b"1,2\n" * 5000, "5,000 rows; at most 1,000"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not text"),
    ("utf16 lie", b"\xff\xfe\x00\xd8", "UTF-16"),
]


@pytest.mark.parametrize(("name", "raw", "words"), BAD, ids=[b[0] for b in BAD])
async def test_a_bad_file_gets_words_naming_the_row_and_changes_nothing(
    server: LiveServer, name: str, raw: bytes, words: str
) -> None:
    cookie = server.learner_cookie(f"/lessons/{LESSON}")
    ws = await socket(server, cookie)
    await open_page(ws)
    if not raw:  # an empty file: the page says so itself; the server too
        await send(ws, {"type": "data", "content": "", "seq": 1})
        state = (await receive_until(ws, data_state))[-1]
        assert not state["ok"] and "empty" in str(state["message"])
        await ws.close()
        return
    seen = await load(ws, raw)
    (state,) = [m for m in seen if data_state(m)]
    assert not state["ok"] and state["source"] == "lesson"
    assert words in str(state["message"]), state["message"]
    assert not [m for m in seen if m["type"] == "figure"], "a refused file redraws nothing"
    await ws.close()
    again = await socket(server, cookie)  # nothing of the bad file was kept
    assert not [m for m in await open_page(again) if data_state(m)]
    await again.close()


async def test_odd_encodings_are_read(server: LiveServer) -> None:
    ws = await socket(server, server.learner_cookie(f"/lessons/{LESSON}"))
    await open_page(ws)
    for raw in (
        "x;y\n1,5;2,5\n3;4\n".encode("utf-16"),  # a spreadsheet's UTF-16 export, decimal commas
        "\ufeffx,y\n1,2\n3,4\n".encode(),  # UTF-8 with a byte-order mark
        "x\xb5,y\n1,2\n3,4\n".encode("latin-1"),  # Latin-1
    ):
        (state,) = [m for m in await load(ws, raw) if data_state(m)]
        assert state["ok"] and state["rows"] == 2, state
    await ws.close()


async def test_a_file_over_the_limit_is_refused_by_the_server(server: LiveServer) -> None:
    ws = await socket(server, server.learner_cookie(f"/lessons/{LESSON}"))
    await open_page(ws)
    (state,) = [m for m in await load(ws, b"1,2\n" * 34_000) if data_state(m)]  # 133 KB
    assert not state["ok"] and "at most 128 KB" in str(state["message"])
    # 50 MB never fits a message: the socket is closed (the page refuses it before sending).
    big = base64.b64encode(b"1,2\n" * (50 * 1024 * 1024 // 4)).decode()
    await ws.send(json.dumps({"type": "data", "content": big}))
    assert await closed_with(ws) == 1009
