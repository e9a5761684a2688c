"""Static assets under content-hashed URLs, served with long cache headers.

Everything the page loads comes from here: our own files in `static/`, the front-end bundle
built from npm into `static/build/`, and plotly.js from the plotly package's own copy.
"""

from __future__ import annotations

import hashlib
import mimetypes
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


def serve_asset(hash_: str, name: str) -> Response:
    path = resolve(name)
    if not path.is_file():
        raise HTTPException(404)
    if hash_ != digest(version_key(name)):
        # An old page asking for an asset that has since changed: serve it, but do not cache.
        return FileResponse(path, headers={"Cache-Control": "no-cache"})
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".js":
        media = "text/javascript"
    return FileResponse(path, media_type=media, headers={"Cache-Control": IMMUTABLE})


def check_assets(names: list[str]) -> None:
    for name in names:
        digest(name)


REQUIRED = [
    "vendor/plotly.min.js",
    "build/editor.js",
    "build/math.js",
    "build/katex/katex.min.css",
    "css/descent.css",
    "js/lesson.js",
]
