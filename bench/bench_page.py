"""Page weight and first plot: each lesson with its partial plotly.js bundle beside the same lesson
with the whole plotly.js (`?plotly=full`), in the same run, in Debian's Chromium.

Starts the real server (`python -m app`) on a free port. For each lesson and each bundle, a fresh
browser (cold cache) opens the page, then opens it again (warm cache: every asset is served
under a content hash with `immutable`, so the browser asks nothing again). Measured from the
navigation's start:

* JS: bytes of JavaScript the page fetched over the wire (compressed) and decoded;
* HTML+CSS: when the page's own HTML and stylesheets had arrived;
* first plot: when the first plotly figure was drawn (the page's `descent-first-plot` mark),
  which includes the learner's kernel starting and running the lesson's cells.

Goals (issue 11): the line lesson's JavaScript under a third of the full bundle's page, and on a
warm cache the first plot within 1.5x the time of the page's own HTML and CSS. `--network
fast4g` throttles the connection (9 Mbit/s, 40 ms) the way a school's wifi might.

    .venv/bin/python bench/bench_page.py [--runs 3] [--all] [--network fast4g] [lesson ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from live_server import LiveServer, start_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
LESSONS = ["the-line", "the-loss-landscape", "gradient-descent", "optimizers", "several-inputs"]
NETWORKS = {"fast4g": {"latency": 40, "downloadThroughput": 9e6 / 8, "uploadThroughput": 1.5e6 / 8}}
GOAL_BYTES, GOAL_WARM = 1 / 3, 1.5

MEASURE = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const res = performance.getEntriesByType("resource");
  const js = res.filter((r) => r.name.endsWith(".js"));
  const css = res.filter((r) => r.name.endsWith(".css"));
  const plot = performance.getEntriesByName("descent-first-plot")[0];
  return {
    jsWire: js.reduce((a, r) => a + r.transferSize, 0),
    jsBytes: js.reduce((a, r) => a + r.decodedBodySize, 0),
    htmlCss: Math.max(nav.responseEnd, ...css.map((r) => r.responseEnd)),
    firstPlot: plot ? plot.startTime : null,
    bundle: window.Plotly ? window.Plotly.descentBundle || "full" : "none",
  };
}"""


def visit(page: Any, url: str) -> dict[str, Any]:
    page.goto(url)
    page.wait_for_function(
        "() => performance.getEntriesByName('descent-first-plot').length > 0", timeout=120_000
    )
    return dict(page.evaluate(MEASURE))


def measure(
    browser: Any, server: LiveServer, slug: str, full: bool, network: str
) -> list[dict[str, Any]]:
    """A cold visit then a warm one, in a fresh browser context."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    if network:
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {"offline": False, **NETWORKS[network]})
    url = f"{server.url}/lessons/{slug}" + ("?plotly=full" if full else "")
    try:
        return [visit(page, url), visit(page, url)]
    finally:
        context.close()


def median(rows: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lessons", nargs="*", help=f"lesson slugs (default: {' '.join(LESSONS)})")
    parser.add_argument("--runs", type=int, default=3, help="visits per lesson, bundle and cache")
    parser.add_argument("--all", action="store_true", help="every lesson of the catalogue")
    parser.add_argument("--network", choices=sorted(NETWORKS), default="", help="throttle")
    opts = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "server.log")
        try:
            slugs = opts.lessons or LESSONS
            if opts.all:
                slugs = [lesson["slug"] for lesson in server.get_json("/api/lessons")]
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                report(browser, server, slugs, opts.runs, opts.network)
                browser.close()
        finally:
            server.stop()


def report(browser: Any, server: LiveServer, slugs: list[str], runs: int, network: str) -> None:
    print(f"page weight and first plot, median of {runs} runs, network: {network or 'local'}")
    head = f"{'lesson':22} {'bundle':6} {'JS wire':>9} {'JS':>9} {'cold plot':>10} "
    head += f"{'warm plot':>10} {'HTML+CSS':>9} {'warm/HTML':>9}"
    print(head)
    for slug in slugs:
        results: dict[bool, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
        for full in (False, True):
            cold: list[dict[str, Any]] = []
            warm: list[dict[str, Any]] = []
            for _ in range(runs):
                first, again = measure(browser, server, slug, full, network)
                cold.append(first)
                warm.append(again)
            results[full] = (cold, warm)
            ratio = median(warm, "firstPlot") / median(warm, "htmlCss")
            print(
                f"{slug:22} {cold[0]['bundle']:6} {median(cold, 'jsWire') / 1024:8.0f}K "
                f"{median(cold, 'jsBytes') / 1024:8.0f}K {median(cold, 'firstPlot'):8.0f}ms "
                f"{median(warm, 'firstPlot'):8.0f}ms {median(warm, 'htmlCss'):7.0f}ms "
                f"{ratio:8.2f}x"
            )
        part, whole = results[False][0], results[True][0]
        share = median(part, "jsBytes") / median(whole, "jsBytes")
        wire = median(part, "jsWire") / median(whole, "jsWire")
        verdict = ""
        if slug == "the-line":  # the goal is set on the line lesson
            verdict = " (goal met)" if share < GOAL_BYTES else " (goal missed)"
        print(f"{'':22} JS vs the full bundle: {share:.2f}, {wire:.2f} on the wire{verdict}")


if __name__ == "__main__":
    main()
