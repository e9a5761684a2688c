"""Every HTTP route, fuzzed with Hypothesis on SQLite and on PostgreSQL: absurd numbers, NUL
bytes, lone surrogates, odd path values, huge and deeply nested bodies, as a stranger, a learner
in a room and the signed-in teacher. The invariant: a 4xx (or a redirect, or success) with
words, never a 500 and never an exception out of the app; the app still answers afterwards."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classroom.kit import Browser, room_with_learner

PARAM = re.compile(r"{(\w+)(?::\w+)?}")
#: Examples per test; each is one request.
EXAMPLES = 150

# ---------------------------------------------------------------------------- values


def _texts(long: bool = True) -> st.SearchStrategy[str]:
    """Text as a hostile form or JSON value: NUL, lone surrogates, long, spreadsheet formulas."""
    return st.one_of(
        st.text(max_size=40),
        st.text(alphabet=st.characters(codec=None), max_size=20),  # surrogates included
        st.sampled_from(["\x00", "a\x00b", "\ud800", "=1+1", "../../etc/passwd", " ", "%00"]),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.just("x" * (70_000 if long else 2_000)),
    )


def _json() -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        _texts(),
    )
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_texts(), inner, max_size=4),
        max_leaves=12,
    )


def _path_value() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=20),
        st.sampled_from(["the-line", "0", "-1", "18446744073709551616", "%00", "a\x00b", ".."]),
    )


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _routes(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    """(method, path template, form or JSON field names) of every HTTP route."""
    found = []
    pending = list(app.routes)
    while pending:
        route = pending.pop(0)
        included = getattr(route, "original_router", None)  # FastAPI's included routers
        if included is not None:
            pending.extend(included.routes)
        elif isinstance(route, APIRoute):
            fields = [p.alias for p in route.dependant.body_params]
            for method in sorted(route.methods):
                found.append((method, route.path, fields))
    assert len(found) > 20, found
    return found


@st.composite
def requests(draw: st.DrawFn, routes: list[tuple[str, str, list[str]]]) -> dict[str, Any]:
    method, template, fields = draw(st.sampled_from(routes))
    path = PARAM.sub(lambda m: quote(draw(_path_value()), safe=""), template)
    keys = st.sampled_from(["code", "seq", "lesson", "x"])
    plain = _texts(long=False).map(lambda t: t.encode("utf-8", "replace").decode())
    query = draw(st.dictionaries(keys, plain, max_size=2))
    body_kind = draw(st.sampled_from(["none", "form", "json", "raw", "deep"]))
    request: dict[str, Any] = {"method": method, "url": path, "params": query}
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        names = fields or ["code", "name", "password", "lesson", "cells"]
        if body_kind == "form":
            request["form"] = {n: draw(_texts()) for n in names}
        elif body_kind == "json":
            request["content"] = json.dumps(
                {n: draw(_json()) for n in names}, ensure_ascii=True
            ).encode()
            request["headers"] = {"content-type": "application/json"}
        elif body_kind == "raw":
            request["content"] = draw(st.binary(max_size=200))
        elif body_kind == "deep":
            request["content"] = _deep(draw(st.sampled_from([100, 5_000, 100_000]))).encode()
            request["headers"] = {"content-type": "application/json"}
    return request


async def send(browser: Browser, request: dict[str, Any], csrf: bool) -> httpx.Response:
    request = dict(request)
    headers = dict(request.pop("headers", {}))
    form = request.pop("form", None)
    if csrf:
        headers["x-csrf-token"] = browser.csrf
        if form is not None:
            form = {**form, "csrf_token": browser.csrf}
    if form is not None:  # encoded by hand: a lone surrogate becomes bytes that are not UTF-8
        pairs = {k: v.encode("utf-8", "surrogatepass") for k, v in form.items()}
        request["content"] = urlencode(pairs).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    return await browser.client.request(headers=headers, **request)


# ---------------------------------------------------------------------------- the tests


@pytest.fixture
async def people(app: FastAPI, browsers: list[Browser]) -> tuple[Browser, Browser, Browser]:
    """(a stranger, a learner in a room, the signed-in teacher)."""
    teacher, learner, _, _ = await room_with_learner(app, browsers)
    stranger = Browser(app)
    browsers.append(stranger)
    return stranger, learner, teacher


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_route_answers_500(
    app: FastAPI, people: tuple[Browser, Browser, Browser], data: st.DataObject
) -> None:
    request = data.draw(requests(_routes(app)))
    who = data.draw(st.sampled_from(people))
    csrf = data.draw(st.booleans())
    resp = await send(who, request, csrf)
    assert resp.status_code < 500, (request, resp.status_code, resp.text[:500])
    health = await who.client.get("/healthz")
    assert health.status_code in (200, 503)
