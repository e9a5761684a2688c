"""Static assets under content-hashed URLs, served with long cache headers.

Everything the page loads comes from here: our own files in `static/`, the front-end bundle
built from npm into `static/build/`, and plotly.js from the plotly package's own copy.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import plotly
from fastapi import HTTPException
from fastapi.responses import FileResponse, Response

from app.config import ROOT

STATIC = ROOT / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
#: Logical names that live outside `static/`.
EXTERNAL = {"vendor/plotly.min.js": PLOTLY_JS}
IMMUTABLE = "public, max-age=31536000, immutable"


class MissingAsset(Exception):
    """An asset the pages need is absent, usually because the front-end bundle was not built."""


def resolve(name: str) -> Path:
    path = EXTERNAL.get(name) or (STATIC / name)
    path = path.resolve()
    if name not in EXTERNAL and STATIC.resolve() not in path.parents:
        raise HTTPException(404)
    return path


#: Files that refer to each other by relative URL share one version: the hash of the group.
GROUPS = {
    "build/katex/": "build/katex/katex.min.css",  # the stylesheet names its fonts
    "js/": "js/",  # our ES modules import each other as ./name.js
}


@cache
def digest(name: str) -> str:
    if name.endswith("/"):
        files = sorted(p for p in (STATIC / name).rglob("*") if p.is_file())
        h = hashlib.sha256()
        for f in files:
            h.update(f.relative_to(STATIC).as_posix().encode() + b"\0" + f.read_bytes())
        return h.hexdigest()[:12]
    path = resolve(name)
    if not path.is_file():
        raise MissingAsset(f"{name} is missing; run `make setup` to build the front-end bundle")
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def version_key(name: str) -> str:
    """The name whose hash versions `name`: its group's, or its own."""
    for prefix, key in GROUPS.items():
        if name.startswith(prefix):
            return key
    return name


def asset_url(name: str) -> str:
    """The URL of an asset, with its content hash, for templates."""
    return f"/assets/{digest(version_key(name))}/{name}"


def serve_asset(hash_: str, name: str, accept_encoding: str = "") -> Response:
    if "\x00" in name:  # no file has one; the file system refuses to look it up
        raise HTTPException(404)
    path = resolve(name)
    if not path.is_file():
        raise HTTPException(404)
    if hash_ != digest(version_key(name)):
        # An old page asking for an asset that has since changed: serve it, but do not cache.
        return FileResponse(path, headers={"Cache-Control": "no-cache"})
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".js":
        media = "text/javascript"
    headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
    # The build leaves brotli and gzip copies beside its bundles: sent as they are.
    accepted = {part.split(";")[0].strip() for part in accept_encoding.lower().split(",")}
    for encoding, suffix in (("br", ".br"), ("gzip", ".gz")):
        packed = path.with_name(path.name + suffix)
        if encoding in accepted and packed.is_file():
            headers["Content-Encoding"] = encoding
            return FileResponse(packed, media_type=media, headers=headers)
    return FileResponse(path, media_type=media, headers=headers)


def check_assets(names: list[str]) -> None:
    for name in names:
        digest(name)


#: Which partial plotly.js bundles the build makes, and which trace types each plot kind draws.
PLOTLY_BUNDLES = STATIC / "src" / "plotly-bundles.json"
FULL_PLOTLY = "vendor/plotly.min.js"


@cache
def plotly_spec() -> dict[str, dict[str, list[str]]]:
    spec: dict[str, dict[str, list[str]]] = json.loads(PLOTLY_BUNDLES.read_text(encoding="utf-8"))
    return spec


def plotly_bundle(kinds: Iterable[str]) -> str:
    """The asset name of the smallest plotly.js bundle that draws every one of `kinds` (plot
    kinds, or trace types prefixed "trace:"); the full bundle for a kind it does not know."""
    spec = plotly_spec()
    need: set[str] = set()
    for kind in kinds:
        traces = [kind[6:]] if kind.startswith("trace:") else spec["kinds"].get(kind)
        if traces is None:
            return FULL_PLOTLY
        need.update(traces)
    for name, traces in spec["bundles"].items():
        if need <= set(traces):
            asset = f"build/plotly/plotly-{name}.js"
            return asset if (STATIC / asset).is_file() else FULL_PLOTLY
    return FULL_PLOTLY


REQUIRED = [
    "vendor/plotly.min.js",
    "build/plotly/plotly-2d.js",
    "build/editor.js",
    "build/math.js",
    "build/katex/katex.min.css",
    "css/descent.css",
    "js/lesson.js",
]
