"""Which of a lesson's plots a code cell feeds: the names the lesson's own code of the cell
defines (read with `ast` from the lesson file, never from a learner's edit) against the names a
plot's options call. Used to grey exactly the plots a failed Run leaves out of date."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import cache
from typing import Any

from app.content.model import Plot


@cache
def defined_names(code: str) -> frozenset[str]:
    """Functions, classes and variables the code binds at its top level."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return frozenset()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return frozenset(names)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def plots_fed_by(code: str, plots: Iterable[Plot]) -> list[Plot]:
    """The plots whose options name something `code` defines."""
    names = defined_names(code)
    return [p for p in plots if names & {s for s in _strings(p.options) if s.isidentifier()}]
