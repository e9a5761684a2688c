"""The teacher's live class landscape over its WebSocket: only for the signed-in teacher and
this site's pages; all points in one message, at most one per interval, however fast the
learners move."""

from __future__ import annotations

import asyncio
import json
import time

from live_server import LiveServer

from classroom.live import close_code, idle, join, new_room, receive, sign_in, until


async def test_the_landscape_socket_is_for_the_teacher_only(classroom_server: LiveServer) -> None:
    teacher = sign_in(classroom_server)
    room, code = new_room(teacher)
    ada = join(classroom_server, code, "Ada")
    refused, reason = await close_code(await ada.socket(f"/ws/teacher/rooms/{room}"))
    assert refused == 1008 and "teacher" in reason
    cross = await teacher.socket(f"/ws/teacher/rooms/{room}", origin="http://evil.example")
    assert (await close_code(cross))[0] == 1008
    missing = await teacher.socket("/ws/teacher/rooms/99999")
    assert (await close_code(missing))[0] == 1008
    teacher.close()
    ada.close()


async def test_all_points_come_in_one_throttled_message(classroom_server: LiveServer) -> None:
    teacher = sign_in(classroom_server)
    room, code = new_room(teacher, lesson="the-line")
    view = await teacher.socket(f"/ws/teacher/rooms/{room}", origin=classroom_server.url)
    first = [await receive(view), await receive(view)]
    kinds = {m["type"]: m for m in first}
    assert kinds["points"]["points"] == []
    surface = kinds["surface"]["surface"]
    assert surface["names"] == ["w", "b"] and surface["w"] == [-10, 10]

    learners = [join(classroom_server, code, name) for name in ("Ada", "Bob")]
    sockets = [await b.socket() for b in learners]
    for ws in sockets:
        await ws.send(json.dumps({"type": "open", "cells": {}}))
        await until(ws, idle)
    start = time.monotonic()
    for i in range(60):  # 60 moves each as fast as they go
        for j, ws in enumerate(sockets):
            await ws.send(
                json.dumps({"type": "slide", "values": {"w": round(-3 + 0.1 * i, 1) + j}, "seq": i})
            )
    await asyncio.sleep(1.5)
    elapsed = time.monotonic() - start
    updates = []
    while True:
        try:
            updates.append(await receive(view, timeout=0.5))
        except TimeoutError:
            break
    points = [m for m in updates if m["type"] == "points"]
    assert points, "no class landscape update arrived"
    assert len(points) <= elapsed / 0.2 + 2, f"{len(points)} updates in {elapsed:.1f} s"
    newest = {p[0]: (p[1], p[2]) for p in points[-1]["points"]}
    assert sorted(newest.values()) == [(2.9, 0.0), (3.9, 0.0)]
    seqs = [m["seq"] for m in points]
    assert seqs == sorted(seqs)
    for ws in sockets:
        await ws.close()
    await view.close()
    teacher.close()
    for b in learners:
        b.close()


async def test_a_removed_learner_leaves_at_once_and_frees_their_place(
    classroom_server: LiveServer,
) -> None:
    """Removed while their page is open: their dot goes, a later slider move does not bring it
    back, and their place under the room's kernel cap (2 here) is free for another learner."""
    teacher = sign_in(classroom_server)
    room, code = new_room(teacher, lesson="the-line")
    view = await teacher.socket(f"/ws/teacher/rooms/{room}", origin=classroom_server.url)
    ada, bob = join(classroom_server, code, "Ada"), join(classroom_server, code, "Bob")
    sockets = [await ada.socket(), await bob.socket()]
    for ws in sockets:
        await ws.send(json.dumps({"type": "open", "cells": {}}))
        await until(ws, idle)
    ada_id = ada.http.cookies["descent_learner"].split(".")[0]
    await sockets[0].send(json.dumps({"type": "slide", "values": {"w": 1.5}, "seq": 1}))

    def with_ada(msg: dict[str, object]) -> bool:
        points = msg.get("points")
        return isinstance(points, list) and any(p[0] == ada_id for p in points)

    await until(view, lambda m: m["type"] == "points" and with_ada(m))
    teacher.page(f"/teacher/rooms/{room}")
    assert teacher.form(f"/teacher/rooms/{room}/learners/{ada_id}/remove").status_code == 303
    await sockets[0].send(json.dumps({"type": "slide", "values": {"w": 2.5}, "seq": 2}))
    await sockets[1].send(json.dumps({"type": "slide", "values": {"w": -1.0}, "seq": 1}))
    await asyncio.sleep(1.0)
    latest: dict[str, object] = {}
    while True:
        try:
            msg = await receive(view, timeout=0.5)
        except TimeoutError:
            break
        if msg["type"] == "points":
            latest = msg
    assert latest and not with_ada(latest), latest
    # Ada's page is still open, yet a third learner gets a kernel under the cap of 2.
    cy = join(classroom_server, code, "Cy")
    third = await cy.socket()
    await third.send(json.dumps({"type": "ping", "seq": 1}))
    await until(third, lambda m: m["type"] == "pong", timeout=10)
    for ws in [*sockets, third, view]:
        await ws.close()
    for b in (teacher, ada, bob, cy):
        b.close()
