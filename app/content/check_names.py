"""The names of every exercise check, read from the checks' source without importing it: the
checks run in kernels and import torch, which the web process does not need to load."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

APP = Path(__file__).resolve().parent.parent
SOURCES = [APP / "kernel" / "checks.py", *sorted((APP / "lesson_checks").glob("*.py"))]


@cache
def check_names() -> frozenset[str]:
    """Every name registered with `@check("name")` in the check modules."""
    names: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            for deco in node.decorator_list:
                if (
                    isinstance(deco, ast.Call)
                    and isinstance(deco.func, ast.Name)
                    and deco.func.id == "check"
                    and deco.args
                    and isinstance(deco.args[0], ast.Constant)
                    and isinstance(deco.args[0].value, str)
                ):
                    names.add(deco.args[0].value)
    return frozenset(names)
