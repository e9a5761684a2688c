"""The import graph of `app/` has no cycles: neither between its packages (web, session,
classroom, supervisor, kernel, ...) nor between its modules. Imports are read from the source
with `ast`, at module level and inside functions alike; only imports under `if TYPE_CHECKING:`
are left out, since they never run."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from live_server import ROOT

APP = ROOT / "app"
Graph = dict[str, set[str]]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(APP.rglob("*.py")) if "__pycache__" not in p.parts}


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import under `node`, except in the body of `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and is_type_checking(child.test):
            for orelse in child.orelse:
                yield from import_nodes(ast.Module(body=[orelse], type_ignores=[]))
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        yield from import_nodes(child)


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of app/ that module `name` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from a.b import c` imports the module a.b.c when there is one, else a name of a.b.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        for target in targets:
            while target and target not in known:  # `import a.b.c` where c is not a module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def module_graph() -> Graph:
    found = modules()
    known = set(found)
    return {name: imported(name, path, known) for name, path in found.items()}


def package_of(module: str) -> str:
    """app.web.socket -> app.web; a top-level module (app.protocol) is its own node."""
    parts = module.split(".")
    return ".".join(parts[:2])


def package_graph(graph: Graph) -> Graph:
    packages: Graph = {}
    for module, targets in graph.items():
        edges = packages.setdefault(package_of(module), set())
        edges |= {package_of(t) for t in targets} - {package_of(module)}
    return packages


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each as a path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def describe(graph: Graph, component: list[str]) -> str:
    members = set(component)
    edges = [f"{a} -> {b}" for a in component for b in sorted(graph[a] & members)]
    return "; ".join(edges)


# ----------------------------------------------------------------------------- the graph reader


def test_the_reader_sees_function_imports_and_skips_type_checking_blocks(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from app import config\n"
        "if TYPE_CHECKING:\n"
        "    from app.web import socket\n"
        "def later():\n"
        "    import app.protocol\n"
        "    from .assets import asset_url\n"
    )
    path = tmp_path / "pages.py"
    path.write_text(source)
    known = {"app", "app.config", "app.protocol", "app.web", "app.web.assets", "app.web.socket"}
    assert imported("app.web.pages", path, known) == {
        "app.config",
        "app.protocol",
        "app.web.assets",
    }


def test_cycles_are_found_with_their_members() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


# ----------------------------------------------------------------------------- app/


def test_app_packages_import_each_other_without_cycles() -> None:
    graph = package_graph(module_graph())
    assert {"app.web", "app.session", "app.classroom", "app.supervisor"} <= set(graph)
    found = cycles(graph)
    assert not found, "import cycles between packages: " + " | ".join(
        describe(graph, c) for c in found
    )


def test_app_modules_import_each_other_without_cycles() -> None:
    graph = module_graph()
    found = cycles(graph)
    assert not found, "import cycles between modules: " + " | ".join(
        describe(graph, c) for c in found
    )


def test_the_web_and_session_layers_never_import_the_classroom() -> None:
    """The classroom plugs into them through the interfaces they define."""
    graph = module_graph()
    for module, targets in graph.items():
        if package_of(module) in ("app.web", "app.session"):
            assert not {t for t in targets if package_of(t) == "app.classroom"}, module
