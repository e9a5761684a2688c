"""Where the sandbox shows a host path. The sandbox's own /tmp hides the host's, so a host path
under /tmp (a teacher's lesson folder there, a server run from a temporary checkout) is bound
at RELOCATED + the path; every other bound path keeps its place. Used by both sides of the
sandbox: the supervisor to bind, the kernel to find what was bound."""

from __future__ import annotations

from pathlib import Path

RELOCATED = "/run/descent"


def inside(path: str | Path) -> str:
    """The path at which a bound host path appears inside the sandbox."""
    text = str(path)
    return RELOCATED + text if text == "/tmp" or text.startswith("/tmp/") else text


def as_seen_here(path: str) -> Path:
    """A host path as this process sees it: relocated inside the sandbox when it was bound
    there, else unchanged (outside the sandbox, or a sandbox without bubblewrap)."""
    moved = Path(inside(path))
    return moved if str(moved) != path and moved.exists() else Path(path)
