"""Pages, JSON endpoints and assets of an app built in process (no lifespan, so no kernels),
read by parsing the HTML rather than grepping it."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import plotly
import pytest
from fastapi import FastAPI
from html_tree import Element, parse_html
from live_server import ROOT

from app.config import Settings
from app.content.loader import load_catalogue
from app.content.model import Catalogue, Lesson
from app.server import create_app

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
ASSET_URL = re.compile(r"^/assets/(?P<hash>[0-9a-f]{12})/(?P<name>[\w./-]+)$")
ONE_YEAR = 365 * 24 * 3600


@pytest.fixture(scope="module")
def catalogue(settings: Settings) -> Catalogue:
    return load_catalogue(settings.lessons_dir)


@pytest.fixture(scope="module")
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # ASGITransport does not run the lifespan, so no zygote or kernel starts for these tests.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def page(client: httpx.AsyncClient, path: str) -> Element:
    resp = await client.get(path)
    assert resp.status_code == 200, (path, resp.status_code)
    assert resp.headers["content-type"].startswith("text/html")
    return parse_html(resp.text)


def lesson_ids(catalogue: Catalogue) -> list[str]:
    return [lesson.slug for lesson in catalogue.lessons]


def asset_refs(tree: Element) -> list[str]:
    """Every URL a page loads: stylesheets, scripts, and the import map's modules."""
    refs = [el.attrs["href"] for el in tree.find_all("link", href=True)]
    refs += [el.attrs["src"] for el in tree.find_all("script", src=True)]
    for el in tree.find_all("script", type="importmap"):
        refs += json.loads(el.text)["imports"].values()
    return [ref for ref in refs if not ref.startswith("data:")]


def asset_file(name: str) -> Path:
    return PLOTLY_JS if name == "vendor/plotly.min.js" else ROOT / "static" / name


# ----------------------------------------------------------------------------- index


async def test_index_lists_tracks_and_lessons_in_order_with_summaries(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    tree = await page(client, "/")
    tracks = tree.find_all("section", class_="track")
    assert [t.attrs["id"] for t in tracks] == [f"track-{t}" for t, _, _ in catalogue.by_track()]
    for section, (track, title, lessons) in zip(tracks, catalogue.by_track(), strict=True):
        assert title in section.find("h2").text
        items = section.find("ol").find_all("li")
        assert [li.find("a").attrs["href"] for li in items] == [
            f"/lessons/{lesson.slug}" for lesson in lessons
        ]
        assert [li.find("a").text for li in items] == [
            f"{track}{lesson.order} {lesson.title}" for lesson in lessons
        ]
        assert [li.find("p").text for li in items] == [lesson.summary for lesson in lessons]


async def test_index_starts_with_the_line_then_several_inputs_then_the_sigmoid(
    client: httpx.AsyncClient,
) -> None:
    track_a = (await page(client, "/")).find("section", id="track-A")
    hrefs = [a.attrs["href"] for a in track_a.find_all("a")]
    assert hrefs[:3] == ["/lessons/the-line", "/lessons/several-inputs", "/lessons/the-sigmoid"]


# ----------------------------------------------------------------------------- lesson pages


async def test_lesson_pages_link_previous_and_next_lesson(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    lessons = catalogue.lessons
    for i, lesson in enumerate(lessons):
        nav = (await page(client, f"/lessons/{lesson.slug}")).find("nav", class_="prev-next")
        prev = nav.find_all("a", rel="prev")
        nxt = nav.find_all("a", rel="next")
        if i == 0:
            assert not prev
        else:
            assert [a.attrs["href"] for a in prev] == [f"/lessons/{lessons[i - 1].slug}"]
            assert lessons[i - 1].title in prev[0].text
        if i == len(lessons) - 1:
            assert not nxt
        else:
            assert [a.attrs["href"] for a in nxt] == [f"/lessons/{lessons[i + 1].slug}"]
            assert lessons[i + 1].title in nxt[0].text


async def test_the_line_has_no_previous_and_leads_to_several_inputs(
    client: httpx.AsyncClient,
) -> None:
    nav = (await page(client, "/lessons/the-line")).find("nav", class_="prev-next")
    assert not nav.find_all("a", rel="prev")
    assert nav.find("a", rel="next").attrs["href"] == "/lessons/several-inputs"


async def test_lesson_page_shows_title_and_track(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    for lesson in catalogue.lessons:
        tree = await page(client, f"/lessons/{lesson.slug}")
        assert tree.find("h1").text == lesson.title
        assert tree.find("title").text.startswith(lesson.title)
        assert tree.find("article", id="lesson").attrs["data-slug"] == lesson.slug


def check_slider(tree: Element, lesson: Lesson, name: str) -> None:
    slider = lesson.sliders[name]
    (inp,) = tree.find_all("input", data_slider=name)
    assert inp.attrs["type"] == "range"
    assert inp.attrs["aria-label"] == name
    numbers = {k: float(inp.attrs[k]) for k in ("min", "max", "step", "value")}
    assert numbers == {
        "min": slider.min,
        "max": slider.max,
        "step": slider.step,
        "value": slider.value,
    }
    (label,) = tree.find_all("label", for_=inp.attrs["id"])
    assert label.text == slider.label
    (readout,) = tree.find_all("output", for_=inp.attrs["id"])
    assert float(readout.text) == slider.value


async def test_every_slider_is_a_labelled_range_with_a_readout(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    for lesson in catalogue.lessons:
        tree = await page(client, f"/lessons/{lesson.slug}")
        ranges = tree.find_all("input", type="range")
        assert [el.attrs["data-slider"] for el in ranges] == list(lesson.sliders)
        for name in lesson.sliders:
            check_slider(tree, lesson, name)


async def test_the_line_has_w_and_b_sliders_labelled_for_people(client: httpx.AsyncClient) -> None:
    tree = await page(client, "/lessons/the-line")
    w = tree.find("input", aria_label="w")
    assert tree.find("label", for_=w.attrs["id"]).text == "weight w"
    b = tree.find("input", aria_label="b")
    assert tree.find("label", for_=b.attrs["id"]).text == "bias b"


async def test_every_plot_container_names_its_kind(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    for lesson in catalogue.lessons:
        tree = await page(client, f"/lessons/{lesson.slug}")
        shown = {
            el.attrs["data-plot-id"]: el.attrs["data-plot"]
            for el in tree.find_all("div", data_plot=True)
        }
        assert shown == {pid: plot.kind for pid, plot in lesson.plots.items()}


@pytest.mark.parametrize(
    ("slug", "kinds"),
    [
        ("the-line", ["line"]),
        ("several-inputs", ["plane"]),
        ("the-sigmoid", ["sigmoid", "sigmoid_surface"]),
    ],
)
async def test_first_lessons_show_their_plot_kinds(
    client: httpx.AsyncClient, slug: str, kinds: list[str]
) -> None:
    tree = await page(client, f"/lessons/{slug}")
    assert [el.attrs["data-plot"] for el in tree.find_all("div", data_plot=True)] == kinds


async def test_locked_code_cell_is_shown_read_only(client: httpx.AsyncClient) -> None:
    cell = (await page(client, "/lessons/the-line")).find("section", data_cell="model")
    assert cell.attrs["data-editable"] == "false"
    assert "def y(x, w, b):" in cell.find("pre").text
    assert not cell.find_all("button", data_run=True)


async def test_math_is_left_for_katex_in_the_prose(client: httpx.AsyncClient) -> None:
    prose = " ".join(
        el.text for el in (await page(client, "/lessons/the-line")).find_all("div", class_="prose")
    )
    assert "$$y(x) = w\\,x + b$$" in prose
    assert "$w$" in prose


async def test_page_data_for_the_script_matches_the_lesson(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    lesson = catalogue.get("the-line")
    assert lesson is not None
    data = json.loads(
        (await page(client, "/lessons/the-line")).find("script", id="lesson-data").text
    )
    assert data["slug"] == "the-line"
    assert data["sliders"]["w"] == {"min": -10, "max": 10}
    assert data["cells"]["model"]["editable"] is False
    assert data["plots"] == {"line": "line"}


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("path", ["/lessons/no-such-lesson", "/nowhere", "/lessons/"])
async def test_unknown_address_gets_the_404_page(client: httpx.AsyncClient, path: str) -> None:
    resp = await client.get(path)
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/html")
    tree = parse_html(resp.text)
    assert tree.find("h1").text == "Page not found"
    assert tree.find("a", href="/").text
    assert tree.find_all("link", rel="stylesheet"), "the 404 page is styled like the others"


async def test_unknown_lesson_404_names_the_slug(client: httpx.AsyncClient) -> None:
    resp = await client.get("/lessons/no-such-lesson")
    assert "no-such-lesson" in parse_html(resp.text).find("section", class_="error-page").text


async def test_unknown_api_address_answers_json_404(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/nothing")
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/json"


# ----------------------------------------------------------------------------- JSON


async def test_healthz_answers_json(client: httpx.AsyncClient, catalogue: Catalogue) -> None:
    resp = await client.get("/healthz")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert body["status"] == "ok"
    assert body["lessons"] == len(catalogue.lessons)
    assert body["kernels"] == 0
    assert body["sandbox"] in ("strict", "weak", "refused")


async def test_api_lessons_is_the_catalogue_in_order(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    resp = await client.get("/api/lessons")
    assert resp.status_code == 200
    items = resp.json()
    assert [i["slug"] for i in items] == lesson_ids(catalogue)
    for item, lesson in zip(items, catalogue.lessons, strict=True):
        assert item["title"] == lesson.title
        assert item["summary"] == lesson.summary
        assert (item["track"], item["order"]) == (lesson.track, lesson.order)
        assert item["sliders"] == list(lesson.sliders)
        assert item["plots"] == {pid: p.kind for pid, p in lesson.plots.items()}
        assert (await client.get(item["url"])).status_code == 200


# ----------------------------------------------------------------------------- assets


def content_hash(name: str) -> str:
    """A file's own hash; our ES modules import each other by relative URL, so they share the
    hash of all of static/js."""
    if not name.startswith("js/"):
        return hashlib.sha256(asset_file(name).read_bytes()).hexdigest()[:12]
    static = ROOT / "static"
    h = hashlib.sha256()
    for f in sorted(p for p in (static / "js").rglob("*") if p.is_file()):
        h.update(f.relative_to(static).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


async def test_every_asset_has_a_content_hashed_url_and_is_cached_forever(
    client: httpx.AsyncClient,
) -> None:
    refs = asset_refs(await page(client, "/lessons/the-line"))
    assert len(refs) >= 6, refs
    for ref in refs:
        m = ASSET_URL.match(ref)
        assert m, f"{ref} is not a content-hashed asset URL"
        expected = content_hash(m["name"])
        assert m["hash"] == expected, f"{ref}: hash does not match the file's content"
        resp = await client.get(ref)
        assert resp.status_code == 200, ref
        cache = resp.headers["cache-control"]
        assert "immutable" in cache, (ref, cache)
        assert int(re.search(r"max-age=(\d+)", cache)[1]) >= ONE_YEAR  # type: ignore[index]


async def test_scripts_are_served_as_javascript(client: httpx.AsyncClient) -> None:
    tree = await page(client, "/lessons/the-line")
    for el in tree.find_all("script", src=True):
        assert (
            (await client.get(el.attrs["src"]))
            .headers["content-type"]
            .startswith("text/javascript")
        )


async def test_plotly_is_a_partial_bundle_of_the_plotly_packages_version(
    client: httpx.AsyncClient,
) -> None:
    """The line lesson loads the smallest plotly.js bundle that draws its plots (scatter only),
    built from npm's plotly.js of exactly the version the Python plotly package ships, and sent
    precompressed."""
    (src,) = [r for r in asset_refs(await page(client, "/lessons/the-line")) if "plotly" in r]
    assert src.endswith("/build/plotly/plotly-basic.js"), src
    async with client.stream("GET", src, headers={"Accept-Encoding": "br, gzip"}) as resp:
        raw = b"".join([chunk async for chunk in resp.aiter_raw()])
        assert resp.headers["content-encoding"] in ("br", "gzip")
    bundle = (await client.get(src)).content
    assert len(raw) < len(bundle) / 2
    assert len(bundle) < PLOTLY_JS.stat().st_size / 2  # far less than the whole plotly.js
    shipped = re.search(rb"plotly\.js v(\d+\.\d+\.\d+)", PLOTLY_JS.read_bytes()[:200])
    assert shipped, "the Python package's plotly.min.js names no version"
    assert b'.version="' + shipped[1] + b'"' in bundle


async def test_katex_fonts_named_by_its_stylesheet_are_served(client: httpx.AsyncClient) -> None:
    (css,) = [r for r in asset_refs(await page(client, "/lessons/the-line")) if "katex" in r]
    fonts = re.findall(r"url\(([^)]+)\)", (await client.get(css)).text)
    assert fonts
    for font in sorted(set(fonts))[:6]:
        resp = await client.get(urljoin(css, font))
        assert resp.status_code == 200, font
        assert "immutable" in resp.headers["cache-control"]


async def test_asset_asked_for_with_an_old_hash_is_served_but_not_cached(
    client: httpx.AsyncClient,
) -> None:
    resp = await client.get("/assets/000000000000/css/descent.css")
    assert resp.status_code == 200
    assert resp.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/assets/000000000000/css/missing.css",
        "/assets/000000000000/..%2F..%2Fapp%2Fconfig.py",
        "/assets/000000000000/..%2F..%2Fpyproject.toml",
    ],
    ids=["missing", "app-source", "outside-static"],
)
async def test_nothing_outside_the_assets_is_served(client: httpx.AsyncClient, path: str) -> None:
    resp = await client.get(path)
    assert resp.status_code == 404
    assert "Settings" not in resp.text and "[project]" not in resp.text


async def test_no_page_refers_to_another_site(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    paths = ["/", "/lessons/no-such-lesson", *(f"/lessons/{s}" for s in lesson_ids(catalogue))]
    outside: list[str] = []
    for path in paths:
        tree = parse_html((await client.get(path)).text)
        urls = asset_refs(tree) + [
            el.attrs[attr]
            for attr in ("href", "src", "action")
            for el in tree.find_all(None, **{attr: True})
        ]
        outside += [f"{path}: {u}" for u in urls if re.match(r"^(https?:)?//", u.strip())]
    assert not outside, outside


async def test_no_stylesheet_loads_anything_from_another_site(client: httpx.AsyncClient) -> None:
    tree = await page(client, "/lessons/the-line")
    for href in (el.attrs["href"] for el in tree.find_all("link", rel="stylesheet")):
        css = (await client.get(href)).text
        assert not re.search(r"(url\(|@import)\s*['\"]?(https?:)?//", css), href


async def test_big_pages_are_gzipped(client: httpx.AsyncClient) -> None:
    resp = await client.get("/lessons/the-line", headers={"Accept-Encoding": "gzip"})
    assert resp.headers.get("content-encoding") == "gzip"
