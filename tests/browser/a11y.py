"""axe-core in the page: the accessibility rules (WCAG 2.x A and AA, and axe's best practices)
checked on whatever the page shows now.

axe-core comes from the npm package in node_modules (installed by `npm ci` with the front end),
never from the internet: a classroom may have none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from live_server import ROOT

AXE_JS: Path = Path(ROOT) / "node_modules" / "axe-core" / "axe.min.js"
FAILING = ("serious", "critical")
"""Impacts that fail a test; "moderate" and "minor" findings are only reported."""

RUN_AXE = """async () => {
  const result = await window.axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary || "" })),
  }));
}"""


def axe_path() -> Path:
    if not AXE_JS.is_file():
        raise AssertionError(f"{AXE_JS} is missing: run `npm ci` (axe-core is a dev dependency)")
    return AXE_JS


def violations(page: Any) -> list[dict[str, Any]]:
    """Every axe-core violation on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(axe_path()))
    return list(page.evaluate(RUN_AXE))


def describe(found: list[dict[str, Any]], limit: int = 4) -> str:
    lines = []
    for v in found:
        lines.append(f"{v['impact']}: {v['id']} ({len(v['nodes'])}×) {v['help']}")
        for node in v["nodes"][:limit]:
            summary = " ".join(node["summary"].split())[:220]
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


def assert_accessible(page: Any, where: str = "") -> list[dict[str, Any]]:
    """Fail on any serious or critical axe-core violation; return the milder ones."""
    found = violations(page)
    bad = [v for v in found if v["impact"] in FAILING]
    label = where or page.url
    assert not bad, f"axe-core found serious problems on {label}:\n{describe(bad)}"
    return [v for v in found if v["impact"] not in FAILING]
