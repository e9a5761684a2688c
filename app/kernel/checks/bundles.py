"""Finding a check inside the kernel: one of the toolkit's by name, else one of the lesson
bundle's, loaded from the bundle's `checks.py` the first time it is needed and again whenever the
file changes (kept per path, size and modification time).

Only the kernel runs a bundle's checks. The server names the bundle by the folder it sees; the
sandbox binds host paths under /tmp at `RELOCATED` + the path (as the supervisor's `inside`
does), so such a folder is looked for there first.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from pathlib import Path

from app.kernel.checks.registry import CHECKS, CheckFn, collect
from app.kernel.paths import as_seen_here

_loaded: dict[Path, tuple[tuple[int, int], dict[str, CheckFn]]] = {}


class ChecksError(Exception):
    """A bundle's checks.py that cannot be loaded, with `path:line: problem`."""


def bundle_folder(folder: str) -> Path:
    """The bundle folder as this process sees it."""
    return as_seen_here(folder)


def bundle_checks(folder: str) -> dict[str, CheckFn]:
    """The checks a bundle's checks.py registers (none when it has no checks.py)."""
    here = bundle_folder(folder)
    if not here.is_dir():
        raise ChecksError(f"{folder}: the lesson's folder is not visible inside the kernel")
    path = here / "checks.py"
    shown = Path(folder) / "checks.py"
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise ChecksError(f"{shown}:1: cannot read the file: {err}") from None
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _loaded.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    name = "lesson_checks_" + hashlib.sha256(str(path).encode()).hexdigest()[:16]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ChecksError(f"{shown}:1: cannot be loaded as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up here
    writes, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ in a bundle
    try:
        with collect() as table:
            spec.loader.exec_module(module)
    except Exception as err:
        sys.modules.pop(name, None)
        raise ChecksError(f"{shown}:{_line(err, path)}: {type(err).__name__}: {err}") from None
    finally:
        sys.dont_write_bytecode = writes
    _loaded[path] = (version, table)
    return table


def _line(err: BaseException, path: Path) -> int:
    """The line of checks.py where loading it failed."""
    if isinstance(err, SyntaxError) and err.lineno:
        return err.lineno
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == str(path)]
    return (frames[-1].lineno or 1) if frames else 1


def find_check(name: str, bundle: str = "") -> CheckFn | None:
    """The check called `name`: the toolkit's, else the one the bundle in `bundle` defines."""
    if name in CHECKS:
        return CHECKS[name]
    return bundle_checks(bundle).get(name) if bundle else None
