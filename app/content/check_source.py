"""What the checks are, read from their source without running it: the web process never imports
or executes a check (they run in kernels, and a lesson's checks.py is the teacher's code).

For each `@check("name", mistakes=(...), expressions=...)` in the toolkit (app/kernel/checks/)
or in a bundle's checks.py: its name, the named mistakes it recognises and whether it takes
formulas. A bundle's checks.py is compiled for its syntax and walked for its registrations and
imports; a problem is a LessonError naming the file and the line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from app.content.errors import LessonError

TOOLKIT = Path(__file__).resolve().parent.parent / "kernel" / "checks"
#: The one module of the app a lesson's checks.py may import.
PUBLIC = "app.kernel.checks"


@dataclass(frozen=True)
class CheckSpec:
    """One check as its source declares it."""

    name: str
    mistakes: tuple[str, ...]
    expressions: bool
    path: Path
    line: int


def _literal(node: ast.expr, names: dict[str, ast.expr]) -> object:
    """A literal, following module-level names and `tuple(...)`/`list(...)` of a literal; the keys
    of a dict literal stand for the dict (`tuple(SLIPS)` where SLIPS is a dict of messages)."""
    if isinstance(node, ast.Name) and node.id in names:
        return _literal(names[node.id], names)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("tuple", "list")
        and len(node.args) == 1
    ):
        return _literal(node.args[0], names)
    if isinstance(node, ast.Dict):
        return tuple(_literal(k, names) for k in node.keys if k is not None)
    return ast.literal_eval(node)


def _is_check(deco: ast.expr) -> bool:
    func = deco.func if isinstance(deco, ast.Call) else deco
    return (isinstance(func, ast.Name) and func.id == "check") or (
        isinstance(func, ast.Attribute) and func.attr == "check"
    )


def _spec(path: Path, deco: ast.Call, names: dict[str, ast.expr]) -> CheckSpec:
    def fail(problem: str) -> LessonError:
        return LessonError(path, deco.lineno, problem)

    first = deco.args[0] if deco.args else None
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        raise fail('@check needs the check\'s name as a plain string: @check("my_check")')
    mistakes: object = ()
    expressions: object = False
    for kw in deco.keywords:
        try:
            value = _literal(kw.value, names)
        except (ValueError, TypeError, SyntaxError, RecursionError):
            raise fail(f"@check({first.value!r}): write {kw.arg}= as a literal") from None
        if kw.arg == "mistakes":
            mistakes = value
        elif kw.arg == "expressions":
            expressions = value
        else:
            raise fail(f"@check({first.value!r}): unknown option {kw.arg}=")
    if not (isinstance(mistakes, tuple | list) and all(isinstance(m, str) for m in mistakes)):
        raise fail(f"@check({first.value!r}): mistakes= must be a list of names")
    if not isinstance(expressions, bool):
        raise fail(f"@check({first.value!r}): expressions= must be True or False")
    return CheckSpec(first.value, tuple(mistakes), expressions, path, deco.lineno)


def _imports(path: Path, tree: ast.Module) -> None:
    """A lesson's checks.py imports the toolkit, never the rest of the app (server code)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            raise LessonError(path, node.lineno, "checks.py cannot import from its folder")
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        else:
            modules = [node.module or ""]
        for module in modules:
            if (module == "app" or module.startswith("app.")) and module != PUBLIC:
                raise LessonError(
                    path,
                    node.lineno,
                    f"checks.py imports {module}: a lesson's checks may import only "
                    f"{PUBLIC} (and numpy, torch, the standard library)",
                )


def read_checks(path: Path, *, toolkit: bool = False) -> dict[str, CheckSpec]:
    """Every check a Python file registers; a LessonError for a file that is not valid Python,
    a check registered twice, one that reuses a toolkit name, or an import of server code."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise LessonError(path, 1, f"cannot read the file: {err}") from None
    try:
        compile(source, str(path), "exec", dont_inherit=True)
        tree = ast.parse(source, str(path))
    except SyntaxError as err:
        raise LessonError(path, err.lineno or 1, f"not valid Python: {err.msg}") from None
    if not toolkit:
        _imports(path, tree)
    names = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found: dict[str, CheckSpec] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for deco in node.decorator_list:
            if not _is_check(deco):
                continue
            if not isinstance(deco, ast.Call):
                raise LessonError(path, deco.lineno, '@check needs a name: @check("my_check")')
            spec = _spec(path, deco, names)
            if spec.name in found:
                first = found[spec.name].line
                raise LessonError(
                    path, spec.line, f"check {spec.name!r} is defined twice (line {first})"
                )
            if not toolkit and spec.name in toolkit_checks():
                raise LessonError(
                    path,
                    spec.line,
                    f"check {spec.name!r} has the name of a toolkit check: choose another name",
                )
            found[spec.name] = spec
    return found


@cache
def toolkit_checks() -> dict[str, CheckSpec]:
    """The toolkit's checks, usable by name from any lesson."""
    specs: dict[str, CheckSpec] = {}
    for path in sorted(TOOLKIT.glob("*.py")):
        specs.update(read_checks(path, toolkit=True))
    return specs
