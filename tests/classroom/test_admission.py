"""Who may open a lesson socket, on a real server: a page of this site with a valid learner
cookie; runs are rate-limited per learner and kernels capped per room, each with words."""

from __future__ import annotations

import json

from live_server import LiveServer

from classroom.live import LiveBrowser, close_code, idle, join, new_room, sign_in, until


async def test_a_socket_without_a_learner_cookie_is_refused(classroom_server: LiveServer) -> None:
    import websockets

    ws = await websockets.connect(f"{classroom_server.ws_url}/ws/lessons/the-line")
    code, reason = await close_code(ws)
    assert code == 1008 and "cookie" in reason


async def test_a_forged_learner_cookie_is_refused(classroom_server: LiveServer) -> None:
    browser = LiveBrowser(classroom_server)
    browser.page("/lessons/the-line")
    real = browser.http.cookies["descent_learner"]
    ident, signature = real.split(".")
    for forged in (ident, f"{ident}.{signature[::-1]}", f"another.{signature}"):
        browser.http.cookies.clear()
        browser.http.cookies.set("descent_learner", forged)
        code, reason = await close_code(await browser.socket())
        assert code == 1008 and "cookie" in reason, forged
    browser.close()


async def test_a_page_of_another_site_cannot_open_a_socket(classroom_server: LiveServer) -> None:
    browser = LiveBrowser(classroom_server)
    browser.page("/lessons/the-line")
    for origin in (
        "http://evil.example",
        "http://127.0.0.1:1",
        "null",
        "https://127.0.0.1.evil.io",
    ):
        code, reason = await close_code(await browser.socket(origin=origin))
        assert code == 1008 and "cross-site" in reason, origin
    same = await browser.socket(origin=classroom_server.url)
    await same.send(json.dumps({"type": "ping", "seq": 7}))
    assert (await until(same, lambda m: m["type"] == "pong"))[-1]["seq"] == 7
    await same.close()
    browser.close()


async def test_runs_over_the_rate_limit_are_refused_with_a_reason(
    classroom_server: LiveServer,
) -> None:
    browser = LiveBrowser(classroom_server)
    browser.page("/lessons/the-line")
    ws = await browser.socket()
    await ws.send(json.dumps({"type": "open", "cells": {}}))
    await until(ws, idle)
    code = "def y(x, w, b):\n    return w * x + b\n"
    for seq in range(1, 6):  # the server allows a burst of 3
        await ws.send(json.dumps({"type": "run", "cell": "model", "code": code, "seq": seq}))
    outputs = {}
    while len(outputs) < 5:
        msg = (await until(ws, lambda m: m["type"] == "output" and m["seq"] > 0))[-1]
        outputs[msg["seq"]] = msg
    refused = [s for s, m in outputs.items() if not m["ok"]]
    assert len(refused) == 2
    assert "at most 6 runs a minute" in outputs[refused[0]]["error"]
    assert "Nothing you wrote is lost" in outputs[refused[0]]["error"]
    # A second learner has their own allowance.
    other = LiveBrowser(classroom_server)
    other.page("/lessons/the-line")
    ws2 = await other.socket()
    await ws2.send(json.dumps({"type": "open", "cells": {}}))
    await until(ws2, idle)
    await ws2.send(json.dumps({"type": "run", "cell": "model", "code": code, "seq": 1}))
    assert (await until(ws2, lambda m: m["type"] == "output" and m["seq"] == 1))[-1]["ok"]
    await ws.close()
    await ws2.close()
    browser.close()
    other.close()


async def test_a_room_runs_at_most_its_cap_of_kernels(classroom_server: LiveServer) -> None:
    teacher = sign_in(classroom_server)
    _, code = new_room(teacher)
    learners = [join(classroom_server, code, f"L{i}") for i in range(3)]
    first = await learners[0].socket()
    second = await learners[1].socket()
    for ws in (first, second):
        await ws.send(json.dumps({"type": "ping", "seq": 1}))
        await until(ws, lambda m: m["type"] == "pong")
    code_, reason = await close_code(await learners[2].socket())
    assert code_ == 1013 and "limit of 2 running kernels" in reason
    # Self-study learners are not in the room: they are not counted against it.
    loner = LiveBrowser(classroom_server)
    loner.page("/lessons/the-line")
    alone = await loner.socket()
    await alone.send(json.dumps({"type": "ping", "seq": 1}))
    await until(alone, lambda m: m["type"] == "pong")
    # A slot frees when a page closes.
    await first.close()
    await close_code(first)
    for _ in range(50):
        third = await learners[2].socket()
        await third.send(json.dumps({"type": "ping", "seq": 2}))
        try:
            await until(third, lambda m: m["type"] == "pong", timeout=2)
            break
        except Exception:
            continue
    else:
        raise AssertionError("the third learner never got a kernel after one left")
    for ws in (second, third, alone):
        await ws.close()
    for b in [teacher, loner, *learners]:
        b.close()


async def test_the_teacher_restarts_a_learners_kernel(classroom_server: LiveServer) -> None:
    teacher = sign_in(classroom_server)
    room, code = new_room(teacher)
    ada = join(classroom_server, code, "Ada")
    ws = await ada.socket()
    await ws.send(json.dumps({"type": "open", "cells": {}}))
    await until(ws, idle)
    learner = ada.http.cookies["descent_learner"].split(".")[0]
    resp = teacher.http.post(
        f"/teacher/rooms/{room}/learners/{learner}/restart",
        data={"csrf_token": teacher.csrf},
        headers={"accept": "application/json"},
    )
    assert resp.json() == {"restarted": 1}
    seen = await until(ws, lambda m: m["type"] == "ready")
    assert any(m["type"] == "error" and "teacher restarted" in m["message"] for m in seen)
    await until(ws, idle)
    await ws.close()
    teacher.close()
    ada.close()


async def test_metrics_are_served_in_prometheus_format(classroom_server: LiveServer) -> None:
    browser = LiveBrowser(classroom_server)
    browser.page("/lessons/the-line")
    ws = await browser.socket()
    await ws.send(json.dumps({"type": "open", "cells": {}}))
    await until(ws, idle)
    text = browser.http.get("/metrics").text
    assert 'descent_kernels{state="idle"}' in text
    assert "descent_sessions " in text
    assert 'route="/lessons/{slug}"' in text and "descent_http_request_duration_seconds" in text
    assert 'descent_rooms{state="open"}' in text
    await ws.close()
    await close_code(ws)
    for _ in range(50):
        text = browser.http.get("/metrics").text
        if 'descent_kernel_kills_total{reason="closed"}' in text:
            break
    assert 'descent_kernel_kills_total{reason="closed"}' in text
    assert browser.http.get("/metrics").headers["content-type"].startswith("text/plain")
    browser.close()
