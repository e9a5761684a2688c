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


@cache
def digest(name: str) -> str:
    path = resolve(name)
    if not path.is_file():
        raise MissingAsset(f"{name} is missing; run `make setup` to build the front-end bundle")
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def version_key(name: str) -> str:
    """KaTeX's fonts are versioned with its stylesheet, which refers to them by relative URL."""
    return "build/katex/katex.min.css" if name.startswith("build/katex/") else name


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
