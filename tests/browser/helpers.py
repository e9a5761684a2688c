"""What the lesson browser tests do over and over, as a learner would: open a lesson and wait for
its kernel, type code into an editor, press Run or Check, move a slider with the keyboard, and
read what the page shows (outputs, readouts, plot data, messages).

Every wait is for a condition on the page, with a generous timeout: the test machine is shared,
and a lesson's first load starts a kernel and runs all of its cells."""

from __future__ import annotations

import math
from typing import Any

from live_server import LiveServer

WAIT_MS = 30_000
"""Most waits: a slider move, a Run, a Check, a training frame."""
LOAD_MS = 90_000
"""A lesson's first load: kernel start plus every cell (torch and sklearn lessons train)."""

# Plot data as plain lists (plotly keeps typed arrays and arrays of rows; both are copied).
READ_PLOT = """sel => {
  const div = document.querySelector(sel);
  const row = (r) => (r != null && typeof r === "object" ? Array.from(r) : r);
  const list = (v) => (v == null ? null : Array.from(v, row));
  return (div.data || []).map((t) => ({
    name: t.name ?? null, type: t.type ?? null, x: list(t.x), y: list(t.y), z: list(t.z),
  }));
}"""

# Every plot of the page drawn (or showing why not), the kernel idle, every cell done.
LESSON_SETTLED = """() => {
  if (document.body.dataset.kernel !== "idle") return false;
  for (const div of document.querySelectorAll("[data-plot]")) {
    const id = div.dataset.plotId;
    const err = document.querySelector(`[data-plot-error="${id}"]`);
    const drawn = Boolean(div.data && div.data.length);
    if (!drawn && (!err || err.hidden)) return false;
  }
  for (const out of document.querySelectorAll("[data-output]")) {
    if (out.dataset.ok === "") return false;  // a Run still going
  }
  return true;
}"""

# A lesson page's problems as the learner sees them.
PAGE_PROBLEMS = """() => {
  const shown = (el) => el && !el.hidden && el.textContent.trim() !== "";
  const problems = [];
  const msg = document.getElementById("page-message");
  if (shown(msg)) problems.push(`page message: ${msg.textContent.trim()}`);
  for (const el of document.querySelectorAll("[data-plot-error]")) {
    if (shown(el)) problems.push(`plot ${el.dataset.plotError}: ${el.textContent.trim()}`);
  }
  for (const out of document.querySelectorAll("[data-output]")) {
    const cell = out.dataset.output;
    if (out.dataset.ok === "false") problems.push(`cell ${cell}: ${out.textContent.trim()}`);
  }
  for (const div of document.querySelectorAll("[data-plot]")) {
    if (!(div.data && div.data.length)) problems.push(`plot ${div.dataset.plotId} not drawn`);
  }
  return problems;
}"""

# The readouts under a plot, "label = value   ·   label = value", as {label: number}.
READOUTS = """plot => {
  const box = document.querySelector(`[data-readouts="${plot}"]`);
  const out = {};
  for (const part of (box ? box.textContent : "").split("·")) {
    const i = part.lastIndexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = Number(part.slice(i + 1));
  }
  return out;
}"""

READOUT_IS = (
    """([plot, label, want, tol]) => {
  const read = """
    + READOUTS
    + """;
  const got = read(plot)[label];
  return got !== undefined && Math.abs(got - want) <= tol * Math.max(1, Math.abs(want));
}"""
)

# The text of a cell's editor: CodeMirror's own document when it can be reached (its lines
# outside the visible part are not in the DOM), else the lines on screen.
EDITOR_TEXT = """cell => {
  const content = document.querySelector(`[data-editor="${cell}"] .cm-content`);
  const view = content && content.cmTile && content.cmTile.root && content.cmTile.root.view;
  if (view) return view.state.doc.toString();
  return Array.from(content.querySelectorAll(".cm-line"), (l) => l.textContent).join("\\n");
}"""

# Paste text into the focused editor, as Ctrl+V does (a paste event with the text on it).
PASTE = """([cell, text]) => {
  const content = document.querySelector(`[data-editor="${cell}"] .cm-content`);
  const data = new DataTransfer();
  data.setData("text/plain", text);
  const paste = {clipboardData: data, bubbles: true, cancelable: true};
  content.dispatchEvent(new ClipboardEvent("paste", paste));
}"""


def open_lesson(page: Any, server: LiveServer, slug: str) -> None:
    """Open a lesson as a new learner and wait until its kernel ran every cell and drew every
    plot."""
    page.goto(f"{server.url}/lessons/{slug}")
    page.wait_for_function(LESSON_SETTLED, timeout=LOAD_MS)


def problems(page: Any) -> list[str]:
    """Visible plot errors, failed cells, undrawn plots and page messages."""
    return list(page.evaluate(PAGE_PROBLEMS))


def open_clean_lesson(page: Any, server: LiveServer, slug: str) -> None:
    """Open a lesson and check it came up whole: every plot drawn, no error anywhere."""
    open_lesson(page, server, slug)
    found = problems(page)
    assert not found, f"{slug} loaded with problems:\n" + "\n".join(found)
    assert (
        page.locator("[data-cell][data-ready=true]").count() == page.locator("[data-cell]").count()
    )


def next_frames(page: Any) -> None:
    """Wait two animation frames: the page applies plot patches on the next frame after they
    arrive (readouts at once), so after this the plots show what the readouts say."""
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def read_plot(page: Any, plot: str) -> list[dict[str, Any]]:
    """The traces of plot `plot` (its id in the lesson), as plain lists, once pending patches
    are drawn."""
    next_frames(page)
    return list(page.evaluate(READ_PLOT, f"#plot-{plot}"))


def same_plot(a: Any, b: Any) -> bool:
    """Two plots' traces (`read_plot`) alike to the 7 significant digits the server sends: a
    short array comes as a rounded list and a longer one as float32, so the same curve sent
    whole or in pieces (a trained path) may differ in its last bits."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_plot(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_plot(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return bool(a == b)


def readouts(page: Any, plot: str) -> dict[str, float]:
    return dict(page.evaluate(READOUTS, plot))


def wait_for_readout(page: Any, plot: str, label: str, want: float, tol: float = 1e-4) -> None:
    """Wait until the readout `label` under `plot` shows `want` (to its five shown digits)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(READOUT_IS, arg=[plot, label, want, tol], timeout=WAIT_MS)
    except PlaywrightTimeout:
        raise AssertionError(
            f"the readout {label!r} under {plot} never showed {want:.6g}; "
            f"it shows {readouts(page, plot)}"
        ) from None


def wait_for_readouts(page: Any, plot: str, condition: str, arg: Any = None) -> None:
    """Wait until `condition`, a JS function of (readouts, arg), holds for the readouts under
    `plot`."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    script = f"([plot, arg]) => ({condition})(({READOUTS})(plot), arg)"
    try:
        page.wait_for_function(script, arg=[plot, arg], timeout=WAIT_MS)
    except PlaywrightTimeout:
        raise AssertionError(
            f"the readouts under {plot} never met {condition} (arg {arg}); "
            f"they show {readouts(page, plot)}"
        ) from None


def wait_for(page: Any, script: str, arg: Any = None, timeout: int = WAIT_MS) -> Any:
    return page.wait_for_function(script, arg=arg, timeout=timeout)


def press(page: Any, slider: str, key: str, times: int = 1) -> None:
    """Focus a slider and press a key, as a keyboard user does."""
    page.focus(f"input[type=range][data-slider='{slider}']")
    for _ in range(times):
        page.keyboard.press(key)


def editor_text(page: Any, cell: str) -> str:
    return str(page.evaluate(EDITOR_TEXT, cell))


def replace_code(page: Any, cell: str, code: str, typing: bool = True) -> None:
    """Select everything in a cell's editor and write `code` in its place.

    With `typing`, key by key as a learner types: after each Enter the editor indents by itself,
    so that indentation is selected (Shift+Home) and replaced by the line as written. Without,
    the text is pasted.
    """
    content = page.locator(f"[data-editor='{cell}'] .cm-content")
    content.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    if typing:
        for i, line in enumerate(code.split("\n")):
            if i:
                page.keyboard.press("Enter")
                page.keyboard.press("Shift+Home")
            if line:
                page.keyboard.type(line)
            else:
                page.keyboard.press("Delete")
    else:
        page.evaluate(PASTE, [cell, code])
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(f"([c, want]) => ({EDITOR_TEXT})(c) === want", arg=[cell, code])
    except PlaywrightTimeout:
        shown = editor_text(page, cell)
        raise AssertionError(f"the editor of {cell} holds\n{shown}\ninstead of\n{code}") from None


def run_cell(page: Any, cell: str) -> tuple[bool, str]:
    """Press Run and wait for the cell's output and for the plots it redraws. Returns whether the
    cell ran without error, and the output text."""
    page.click(f"[data-run='{cell}']")
    out = f"[data-output='{cell}']"
    page.wait_for_function(
        "sel => { const o = document.querySelector(sel); return o.dataset.ok === 'true' || "
        "o.dataset.ok === 'false'; }",
        arg=out,
        timeout=WAIT_MS,
    )
    page.wait_for_function("document.body.dataset.kernel === 'idle'", timeout=WAIT_MS)
    box = page.locator(out)
    return box.get_attribute("data-ok") == "true", str(box.inner_text())


def output_text(page: Any, cell: str, kind: str = "stdout") -> str:
    pre = page.locator(f"[data-output='{cell}'] pre.{kind}")
    return str(pre.inner_text()) if pre.count() else ""


def check_exercise(page: Any, exercise: str) -> tuple[bool, str]:
    """Press "Check my code" and wait for the verdict: (passed, message)."""
    verdict = f"[data-verdict='{exercise}']"
    page.click(f"[data-check='{exercise}']")
    page.wait_for_function(
        "sel => { const t = document.querySelector(sel).textContent; "
        "return t !== '' && t !== 'Checking…'; }",
        arg=verdict,
        timeout=WAIT_MS,
    )
    box = page.locator(verdict)
    return box.get_attribute("data-passed") == "true", str(box.inner_text())


def shown_hints(page: Any, exercise: str) -> list[str]:
    return [
        str(t).strip()
        for t in page.locator(f"[data-hints='{exercise}'] li:not([hidden])").all_inner_texts()
    ]


def plot_error(page: Any, plot: str) -> str:
    """The message beside a plot, or "" when it is hidden."""
    el = page.locator(f"[data-plot-error='{plot}']")
    return "" if el.is_hidden() else str(el.inner_text()).strip()


def wait_for_plot_error(page: Any, plot: str, shown: bool = True) -> str:
    state = "visible" if shown else "hidden"
    page.locator(f"[data-plot-error='{plot}']").wait_for(state=state, timeout=WAIT_MS)
    return plot_error(page, plot)


def with_solution(code: str, solution: str) -> str:
    """The cell's code with each function or class the solution defines swapped for the
    solution's version, as a learner fixes a function and keeps the rest of the cell. A solution
    that defines none of the cell's functions replaces the whole cell."""
    import ast

    def blocks(text: str) -> dict[str, tuple[int, int]]:
        found = {}
        for node in ast.parse(text).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                found[node.name] = (node.lineno - 1, int(node.end_lineno or node.lineno))
        return found

    mine, theirs = blocks(code), blocks(solution)
    shared = [name for name in theirs if name in mine]
    if not shared:
        return solution
    lines, new = code.split("\n"), solution.split("\n")
    for name in sorted(shared, key=lambda n: mine[n][0], reverse=True):
        start, end = mine[name]
        first, last = theirs[name]
        lines[start:end] = new[first:last]
    return "\n".join(lines)


def isclose(a: float, b: float, rel: float = 1e-4, abs_: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


TEACHER_PASSWORD = "correct horse battery"
"""The teacher's password on the `teacher_server` fixture's server."""
