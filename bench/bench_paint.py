"""Keypress → painted plot in Chromium, beside a marimo app that draws the same figure (issue 15).

What a learner sees, measured in the browser: Debian's Chromium, headless (software rendering,
WebGL through SwiftShader), driven by Playwright. Each figure is opened twice, as a Descent lesson
page and as a marimo app (`marimo run`, installed into the bench's own virtualenv
`bench/.marimo-venv`, never the product's) that draws the same traces with the same sliders, and
the two are driven turn about in the same run, so both see the same machine:

* keypress → painted frame, p50/p95: a slider is focused and ArrowRight / ArrowLeft pressed
  (alternately, so the value stays where the lesson put it), then the bench waits for the first
  painted frame in which every plot the slider drives shows the new value (Descent's slider is an
  <input type=range>; marimo's is a Radix slider, the focusable `[role=slider]` thumb inside
  `<marimo-slider>`'s shadow root, which the arrow keys step the same way). The measured plots
  are in sight: a lesson page draws a plot out of sight only when it comes into view or the
  slider rests, so where a lesson's plots are far apart each is its own figure, looked at (scrolled
  to the middle of the screen, the slider keeping the keys) on both products;
* a held key: keydown repeats at 33/s (an OS repeats a key about 30 times a second) for 3 s
  (Playwright's `keyboard.down` again and again, which Chromium dispatches as repeated keydowns);
  updates/s = value changes painted between the first and the last keydown, counted on every
  plot (and on both the 2-D and the 3-D part of a plot that has both) and the smallest count
  kept; lag = last keydown → the first painted frame that shows the final value everywhere.
  Each product holds the key twice, turn about (on a busy machine one hold differs from the
  next), and the table gives the range;
* training Play on `gradient-descent`: painted frames per second (frames whose descent path
  changed), beside the frames the server sent; the marimo app plays the same descent (5 steps a
  frame, at most 40 frames/s, as the server paces) by `mo.output.replace` in a loop.

How a painted frame is seen, in the page (an init script, before any page script runs):

1. `performance.now()` in a capture-phase keydown listener on window is the key's time.
2. What a plot shows is read from plotly's own drawn state (`gd._fullData`, the traces the last
   draw used) by a reader per figure: the fitted line's slope, the landscape marker's w, the w
   implied by the slice along b (the slope of that parabola), the plane's tilt along x1, the
   descent path's length. A MutationObserver on the plot (its container, or the marimo output's
   shadow root) re-reads the 2-D part after every DOM/SVG change; a wrapper around WebGL's
   `drawArrays`/`drawElements` re-reads the 3-D part after every WebGL draw on a canvas inside the
   plot (a 3-D scene changes no DOM; its value counts as shown once a draw used it). Before
   measuring, every reader must find the slider's starting value in its plot, so a reader that
   does not fit a figure (a changed figure, a new front end) says so instead of timing nothing.
3. Which frame paints a change: `requestAnimationFrame` is wrapped, so the page knows when a
   rendering step has begun (its first animation-frame callback) and, through a 1-px sentinel
   that each frame resizes and a ResizeObserver (whose callbacks run after layout, just before
   paint), when its script part has ended. A change made inside that window is in this frame;
   one made anywhere else (a WebSocket message, a React commit, a restyle in a task) is in the
   next frame, and the bench asks for one. The frame's time is taken in the first task after the
   rendering step (a MessageChannel message posted during it), i.e. when the main thread has
   painted and committed the frame; the compositor shows it at its next display refresh.

A figure or a product that cannot be measured (no marimo, a page that does not load, a plot the
reader cannot read) prints a row saying why instead of stopping the run.

Goal (issue 15, item 5; ../shared/design.md "Figures to reach"): Descent at most half of
marimo's keypress → painted latency on every figure; item 2: p50 ≤ 50 ms, ≥ 30 updates/s while a
key is held, Play ≥ 30 painted frames/s.

    .venv/bin/python bench/bench_paint.py [--quick] [--n 25] [--hold 3] [--server-root DIR]
                                          [--before DIR | --no-marimo] [--only NAME]

`--server-root` starts the server from another checkout (e.g. a worktree of the last commit
that works) with this checkout's `.venv`. `--before DIR` measures a second Descent, served from
the checkout DIR, turn about with this one in place of marimo: before and after a change in one
run, on the same machine at the same moments (a busy machine moves every figure a lot between
runs). The first run creates `bench/.marimo-venv` (pip install marimo plotly numpy; a minute or
so); `--no-marimo` measures Descent alone.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import PYTHON, ROOT, free_port, percentile, process

MARIMO_VENV = ROOT / "bench" / ".marimo-venv"
CHROMIUM = Path(os.environ.get("DESCENT_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1100, "height": 1000}
GOAL_RATIO, GOAL_P50_MS, GOAL_UPS, GOAL_PLAY = 0.5, 50.0, 30.0, 30.0
# Keydowns per second while a key is held: an OS repeats a key about 30 times a second; a little
# more here, so that a page that paints every value shows at least the 30 updates/s of the goal.
REPEAT_RATE = 33.0
LOAD_S, WAIT_S = 90.0, 20.0

# --------------------------------------------------------------------------- the figures


@dataclass(frozen=True)
class Plot:
    """One plot a slider drives: how to read the value it shows, and where it is on each side."""

    reader: str  # a key of READERS in INSTRUMENT
    descent: str  # the plot's id in the lesson (the element #plot-<id>)
    marimo: int  # the index of its <marimo-plotly> output in the app
    params: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Figure:
    name: str
    slug: str  # the lesson (lessons/<slug>/)
    app: str  # the marimo app's file name (MARIMO_APPS)
    slider: str  # the Descent slider's name
    marimo_slider: int  # the index of the <marimo-slider> in the app
    value: float  # where the lesson puts the slider
    lo: float
    hi: float
    step: float
    plots: tuple[Plot, ...]
    #: The plot the learner looks at while pressing keys (scrolled to the middle of the screen
    #: after the slider is focused); None: wherever focusing the slider scrolled the page.
    #: Every measured plot of a figure must be in sight there: a lesson page draws a plot out
    #: of sight only once it comes into view or the slider rests.
    view: Plot | None = None


# The lessons' data: 8 points near y = 0.6 x + 0.3.
DATA = [(1, 0.85), (2, 1.43), (3, 1.92), (4, 2.59), (5, 3.20), (6, 3.82), (7, 4.38), (8, 4.97)]
DATA_SUMS = {"sx": float(sum(x for x, _ in DATA)), "sy": sum(y for _, y in DATA), "n": 8.0}

# The gradient lesson's slice along b and its landscape are 2,700 px apart on the page: a learner
# sees one or the other while holding a key, so each is measured in sight, on its own.
SLICE_B = Plot("slice_b", "slice-b", 1, DATA_SUMS)
GRADIENT_LANDSCAPE = Plot("landscape", "landscape", 2)

FIGURES = [
    Figure("the-line: line", "the-line", "line.py", "w", 0, 1.0, -10, 10, 0.1,
           (Plot("line", "line", 0),)),
    Figure("the-loss-landscape: 3-D surface + contour, line", "the-loss-landscape",
           "landscape.py", "w", 0, 1.0, -10, 10, 0.01,
           (Plot("landscape", "landscape", 0), Plot("line", "line", 1))),
    Figure("the-gradient: slice along b", "the-gradient", "gradient.py", "w", 0,
           1.5, -2.5, 2.5, 0.01, (SLICE_B,), view=SLICE_B),
    Figure("the-gradient: landscape", "the-gradient", "gradient.py", "w", 0,
           1.5, -2.5, 2.5, 0.01, (GRADIENT_LANDSCAPE,), view=GRADIENT_LANDSCAPE),
    Figure("several-inputs: 3-D plane", "several-inputs", "plane.py", "w1", 0, 0.0, -10, 10,
           0.1, (Plot("plane", "plane", 0),)),
]  # fmt: skip
PLAY_SLUG, PLAY_PLOT, PLAY_APP, PLAY_SPEED = "gradient-descent", "descent", "descent.py", 5

# The exercise of the descent lesson done, so that Play moves: train(iterations) calls update().
TRAIN_SOLVED = "def train(iterations):\n    for _ in range(iterations):\n        update()\n"

# --------------------------------------------------------------------------- in the page

INSTRUMENT = r"""
(() => {
  if (window.__paint) return;
  const raf = window.requestAnimationFrame.bind(window);
  const chan = new MessageChannel();
  const tasks = [];
  chan.port1.onmessage = () => { const f = tasks.shift(); if (f) f(); };
  const post = (f) => { tasks.push(f); chan.port2.postMessage(null); };
  const S = {
    inFrame: false, cur: null, waiting: false, sentinel: null, flip: false, glPending: false,
    plots: [], frames: [], keys: [], waiters: [], docObserver: null,
    countMessages: null, messages: [],
  };
  window.__paint = S;

  // ---- frames: inside a rendering step from its first rAF callback until the ResizeObserver
  const frameEnd = () => { S.inFrame = false; S.cur = null; };
  const frameStart = () => {
    if (S.inFrame) return;
    S.inFrame = true;
    if (S.sentinel) { S.flip = !S.flip; S.sentinel.style.width = S.flip ? "2px" : "1px"; }
    post(frameEnd);  // in case the ResizeObserver did not run
  };
  window.requestAnimationFrame = function (cb) {
    return raf((ts) => { frameStart(); return cb(ts); });
  };
  window.addEventListener("keydown", () => { S.keys.push(performance.now()); }, true);
  // Messages that reach the page's sockets and match S.countMessages, with their times.
  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        const re = S.countMessages;
        if (re && typeof e.data === "string" && re.test(e.data)) S.messages.push(performance.now());
      });
    }
  };

  const snapshot = () => {
    if (!S.cur) {
      const rec = { t: 0, vals: null };
      S.cur = rec;
      post(() => {
        rec.t = performance.now();
        S.frames.push(rec);
        for (const w of S.waiters.slice()) w(rec);
      });
    }
    S.cur.vals = S.plots.map((p) => p.parts.map((part) => p.shown[part]));
  };
  const changed = () => {
    if (S.inFrame) snapshot();
    else if (!S.waiting) {
      S.waiting = true;
      window.requestAnimationFrame(() => { S.waiting = false; snapshot(); });
    }
  };

  // ---- what a plot shows, from plotly's drawn traces
  const lines = (t) => t.type === "scatter" && t.mode === "lines" && t.x && t.x.length > 2;
  const one = (type, mode) => (t) => t.type === type && (!mode || t.mode === mode)
    && t.x && t.x.length === 1;
  const num = (v) => (v == null || !Number.isFinite(Number(v)) ? null : Number(v));
  const READERS = {
    line: { svg: (ts) => {
      const t = ts.find(lines);
      if (!t) return null;
      const n = t.x.length - 1;
      return num((t.y[n] - t.y[0]) / (t.x[n] - t.x[0]));
    } },
    landscape: {
      svg: (ts) => { const t = ts.find(one("scatter", "markers")); return t ? num(t.x[0]) : null; },
      gl: (ts) => { const t = ts.find(one("scatter3d")); return t ? num(t.x[0]) : null; },
    },
    // L(w, b) along b is the parabola 1/2 sum (w x_i + b - y_i)^2, whose slope is
    // w sum x + n b - sum y: a central difference (exact on a parabola) gives w.
    slice_b: { svg: (ts, q) => {
      const t = ts.find(lines);
      if (!t) return null;
      const i = Math.floor(t.x.length / 2);
      const d = (t.y[i + 1] - t.y[i - 1]) / (t.x[i + 1] - t.x[i - 1]);
      return num((d - q.n * t.x[i] + q.sy) / q.sx);
    } },
    plane: { gl: (ts) => {
      const t = ts.find((t) => t.type === "surface");
      if (!t || !t.z || !t.z.length || !t.x) return null;
      const row = t.z[0], n = row.length - 1;
      return num((row[n] - row[0]) / (t.x[n] - t.x[0]));
    } },
    training: { svg: (ts) => {
      const t = ts.find((t) => t.name === "path");
      if (!t || !t.x) return null;
      const n = t.x.length;
      return n ? num(n * 10 + Number(t.x[n - 1])) : 0;
    } },
  };

  // ---- where a plot is: Descent's plot box, or a marimo output's shadow root
  const locate = (spec) => {
    if (spec.descent) {
      const el = document.getElementById(`plot-${spec.descent}`);
      if (!el) return { roots: [], gds: [] };
      const box = el.closest("figure") || el.parentElement || el;
      return { roots: [box], gds: Array.from(box.querySelectorAll(".js-plotly-plot")) };
    }
    const host = document.querySelectorAll("marimo-plotly")[spec.marimo];
    if (!host) return { roots: [], gds: [] };
    const sr = host.shadowRoot;
    if (!sr) return { roots: [host], gds: [] };
    return { roots: [host, sr], gds: Array.from(sr.querySelectorAll(".js-plotly-plot")) };
  };
  // Scroll a plot to the middle of the screen (the focused slider keeps the keys).
  S.look = (spec) => {
    const { roots } = locate(spec);
    if (roots[0]) roots[0].scrollIntoView({ block: "center", behavior: "instant" });
  };
  const read = (p, part) => {
    try {
      const ts = p.gds.flatMap((gd) => gd._fullData || []);
      return READERS[p.spec.reader][part](ts, p.spec.params || {});
    } catch (e) { return null; }
  };
  const sameList = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const ALL = { subtree: true, childList: true, attributes: true, characterData: true };
  const bind = (p) => {
    const where = locate(p.spec);
    if (sameList(where.roots, p.roots) && sameList(where.gds, p.gds)) return false;
    if (p.observer) p.observer.disconnect();
    p.roots = where.roots;
    p.gds = where.gds;
    p.observer = new MutationObserver(() => {
      if (p.parts.includes("svg")) p.shown.svg = read(p, "svg");
      changed();
    });
    for (const r of p.roots) p.observer.observe(r, ALL);
    return true;
  };
  const glDraw = (canvas) => {
    if (!S.plots.length || !(canvas instanceof Node)) return;
    for (const p of S.plots) {
      if (p.parts.includes("gl") && p.gds.some((gd) => gd.contains(canvas))) p.glDirty = true;
    }
    if (S.glPending) return;
    S.glPending = true;
    queueMicrotask(() => {
      S.glPending = false;
      let any = false;
      for (const p of S.plots) {
        if (p.glDirty) { p.glDirty = false; p.shown.gl = read(p, "gl"); any = true; }
      }
      if (any) changed();
    });
  };
  const DRAWS = ["drawArrays", "drawElements", "drawArraysInstanced", "drawElementsInstanced"];
  for (const ctx of [window.WebGLRenderingContext, window.WebGL2RenderingContext]) {
    if (!ctx) continue;
    for (const name of DRAWS) {
      const orig = ctx.prototype[name];
      if (typeof orig !== "function") continue;
      ctx.prototype[name] = function (...args) {
        glDraw(this.canvas);
        return orig.apply(this, args);
      };
    }
  }

  // ---- the bench's calls
  S.watch = (specs) => {
    if (!S.sentinel) {
      S.sentinel = document.createElement("div");
      S.sentinel.setAttribute("aria-hidden", "true");
      S.sentinel.style.cssText = "position:fixed;left:0;top:0;width:1px;height:1px;"
        + "visibility:hidden;pointer-events:none";
      document.body.appendChild(S.sentinel);
      new ResizeObserver(() => { if (S.inFrame) frameEnd(); }).observe(S.sentinel);
    }
    for (const p of S.plots) if (p.observer) p.observer.disconnect();
    S.plots = specs.map((spec) => ({
      spec, roots: [], gds: [], observer: null, glDirty: false, shown: { svg: null, gl: null },
      parts: Object.keys(READERS[spec.reader]),
    }));
    const problems = [];
    for (const p of S.plots) {
      bind(p);
      for (const part of p.parts) p.shown[part] = read(p, part);
      const where = p.spec.descent ? `plot ${p.spec.descent}` : `marimo output ${p.spec.marimo}`;
      if (!p.gds.length) problems.push(`${where}: no plotly figure`);
      else for (const part of p.parts) {
        if (p.shown[part] === null) {
          problems.push(`${where}: the ${p.spec.reader} reader finds no ${part} value`);
        }
      }
    }
    if (!S.docObserver) {
      // marimo may replace an output element: follow it.
      S.docObserver = new MutationObserver(() => {
        for (const p of S.plots) {
          if (!bind(p)) continue;
          for (const part of p.parts) p.shown[part] = read(p, part);
          changed();
        }
      });
      S.docObserver.observe(document.body, { subtree: true, childList: true });
    }
    return { problems, shown: S.plots.map((p) => p.parts.map((part) => p.shown[part])) };
  };
  S.reset = () => { S.frames = []; S.keys = []; S.messages = []; };
  const near = (v, target, tol) => v !== null && Math.abs(v - target) <= tol;
  const matches = (rec, target, tol) => rec.vals
    && rec.vals.every((vs) => vs.every((v) => near(v, target, tol)));
  // The time of the first painted frame after `after` that shows `target` on every plot.
  S.waitFor = (target, tol, after, timeoutMs) => new Promise((resolve) => {
    const found = S.frames.find((f) => f.t > after && matches(f, target, tol));
    if (found) { resolve(found.t); return; }
    let timer = null;
    const drop = (w) => { S.waiters = S.waiters.filter((x) => x !== w); };
    const w = (rec) => {
      if (rec.t <= after || !matches(rec, target, tol)) return;
      clearTimeout(timer);
      drop(w);
      resolve(rec.t);
    };
    timer = setTimeout(() => { drop(w); resolve(null); }, timeoutMs);
    S.waiters.push(w);
  });
  // For each plot part, ms from `after` to the first painted frame that shows `target` there.
  S.firstParts = (target, tol, after) => {
    const first = [];
    for (const f of S.frames) {
      if (f.t <= after || !f.vals) continue;
      f.vals.flat().forEach((v, i) => {
        if (first[i] === undefined) first[i] = null;
        if (first[i] === null && near(v, target, tol)) first[i] = f.t - after;
      });
    }
    return first;
  };
  // Resolve once no plot has changed for `quietMs` (at most `capMs`).
  S.quiet = (quietMs, capMs) => new Promise((resolve) => {
    const start = performance.now();
    const tick = () => {
      const now = performance.now();
      const last = S.frames.length ? S.frames[S.frames.length - 1].t : 0;
      if (now - Math.max(last, start) >= quietMs || now - start >= capMs) resolve(now - start);
      else setTimeout(tick, 15);
    };
    tick();
  });
})();
"""

# Descent: every plot drawn (or showing why not), the kernel idle, every cell done.
LESSON_SETTLED = """() => {
  if (document.body.dataset.kernel !== "idle") return false;
  for (const div of document.querySelectorAll("[data-plot]")) {
    const id = div.dataset.plotId;
    const err = document.querySelector(`[data-plot-error="${id}"]`);
    const drawn = Boolean(div.data && div.data.length);
    if (!drawn && (!err || err.hidden)) return false;
  }
  for (const out of document.querySelectorAll("[data-output]")) {
    if (out.dataset.ok === "") return false;
  }
  return true;
}"""

MARIMO_READY = """([plots, sliders]) => {
  const hosts = document.querySelectorAll("marimo-plotly");
  const have = document.querySelectorAll("marimo-slider").length;
  if (hosts.length < plots || have < sliders) return false;
  for (const h of hosts) {
    const gd = h.shadowRoot && h.shadowRoot.querySelector(".js-plotly-plot");
    if (!gd || !gd._fullData || !gd._fullData.length) return false;
  }
  return true;
}"""

# The text of a cell's editor (CodeMirror's own document when it can be reached), and a paste
# into it, as tests/browser/helpers.py does.
EDITOR_TEXT = """cell => {
  const content = document.querySelector(`[data-editor="${cell}"] .cm-content`);
  const view = content && content.cmTile && content.cmTile.root && content.cmTile.root.view;
  if (view) return view.state.doc.toString();
  return Array.from(content.querySelectorAll(".cm-line"), (l) => l.textContent).join("\\n");
}"""
PASTE = """([cell, text]) => {
  const content = document.querySelector(`[data-editor="${cell}"] .cm-content`);
  const data = new DataTransfer();
  data.setData("text/plain", text);
  const paste = {clipboardData: data, bubbles: true, cancelable: true};
  content.dispatchEvent(new ClipboardEvent("paste", paste));
}"""

# --------------------------------------------------------------------------- the marimo apps

_HEAD = '''import marimo

app = marimo.App(width="medium")


@app.cell
def _():
    import math

    import marimo as mo
    import numpy as np
    import plotly.graph_objects as go

    DATA = np.array(__DATA__)
    LAYOUT = {
        "margin": {"l": 50, "r": 20, "t": 20, "b": 45},
        "font": {"family": "system-ui, sans-serif", "size": 13},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#fbfbfd",
        "showlegend": False,
        "uirevision": "keep",
    }

    def loss(w, b):
        total = 0
        for x_i, y_i in DATA:
            gap = w * x_i + b - y_i
            total = total + gap**2
        return total / 2

    def grid(ws, bs):
        z = 0.5 * ((ws[None, :, None] * DATA[:, 0] + bs[:, None, None] - DATA[:, 1]) ** 2).sum(-1)
        return z, np.log1p(z)

    def arrow(w0, b0, gw, gb, wr, br):
        norm = math.hypot(gw / (wr[1] - wr[0]), gb / (br[1] - br[0]))
        s = 0.18 / norm if norm else 0.0
        return [w0, w0 + gw * s], [b0, b0 + gb * s]

    def landscape(w0, b0, ws, bs, z, c, arrows):
        """The landscape plot of the lessons: surface, contour, both markers, the arrows."""
        traces = [
            go.Surface(x=ws, y=bs, z=z, surfacecolor=c, colorscale="Viridis",
                       showscale=False, opacity=0.95),
            go.Contour(x=ws, y=bs, z=c, colorscale="Viridis", showscale=False,
                       contours={"coloring": "heatmap", "start": math.ceil(c.min()),
                                 "end": math.floor(c.max()), "size": 1},
                       line={"width": 0.5}, hoverinfo="skip"),
            go.Scatter3d(x=[w0], y=[b0], z=[loss(w0, b0)], mode="markers",
                         marker={"size": 5, "color": "#e4572e"}, name="you"),
            go.Scatter(x=[w0], y=[b0], mode="markers", name="(w, b)",
                       marker={"size": 11, "color": "#e4572e",
                               "line": {"color": "#fff", "width": 2}}),
        ]
        for (ax, ay), color, name in arrows:
            traces.append(go.Scatter(x=ax, y=ay, mode="lines+markers", name=name,
                                     line={"color": color, "width": 3},
                                     marker={"symbol": "arrow", "angleref": "previous",
                                             "size": [0, 14], "color": color}))
        layout = dict(LAYOUT, height=460)
        layout["margin"] = dict(LAYOUT["margin"], l=10)
        layout["scene"] = {
            "domain": {"x": [0.04, 0.5], "y": [0, 1]},
            "xaxis": {"title": {"text": "w"}}, "yaxis": {"title": {"text": "b"}},
            "zaxis": {"title": {"text": "loss"}},
            "camera": {"eye": {"x": 1.5, "y": -1.5, "z": 1.0}},
        }
        layout["xaxis"] = {"domain": [0.58, 1], "title": {"text": "w"},
                           "range": [float(ws[0]), float(ws[-1])]}
        layout["yaxis"] = {"title": {"text": "b"}, "range": [float(bs[0]), float(bs[-1])]}
        return go.Figure(data=traces, layout=layout)

    def curve(x, y, height, xr, yr, data=False):
        traces = [go.Scatter(x=x, y=y, mode="lines", name="y",
                             line={"color": "#2f6fdf", "width": 3})]
        if data:
            traces.append(go.Scatter(x=DATA[:, 0], y=DATA[:, 1], mode="markers", name="data",
                                     marker={"color": "#e4572e", "size": 9}))
        layout = dict(LAYOUT, height=height)
        layout["xaxis"] = {"range": xr, "zeroline": True}
        layout["yaxis"] = {"range": yr, "zeroline": True} if yr else {"zeroline": True}
        return go.Figure(data=traces, layout=layout)

    return DATA, LAYOUT, arrow, curve, go, grid, landscape, loss, math, mo, np

'''

_TAIL = """

if __name__ == "__main__":
    app.run()
"""

MARIMO_APPS = {
    "line.py": """
@app.cell
def _(mo):
    w = mo.ui.slider(-10, 10, step=0.1, value=1, label="weight w")
    b = mo.ui.slider(-10, 10, step=0.1, value=0, label="bias b")
    mo.hstack([w, b])
    return b, w


@app.cell
def _(b, curve, np, w):
    x = np.linspace(-10, 10, 101)
    curve(x, w.value * x + b.value, 380, [-10, 10], [-10, 10])
    return
""",
    "landscape.py": """
@app.cell
def _(mo):
    w = mo.ui.slider(-10, 10, step=0.01, value=1, label="weight w")
    b = mo.ui.slider(-15, 15, step=0.01, value=0, label="bias b")
    mo.hstack([w, b])
    return b, w


@app.cell
def _(grid, np):
    ws, bs = np.linspace(-10, 10, 61), np.linspace(-15, 15, 61)
    z, c = grid(ws, bs)
    return bs, c, ws, z


@app.cell
def _(arrow, b, bs, c, landscape, loss, w, ws, z):
    h = 1e-4
    w0, b0 = w.value, b.value
    gw = (loss(w0 + h, b0) - loss(w0 - h, b0)) / (2 * h)
    gb = (loss(w0, b0 + h) - loss(w0, b0 - h)) / (2 * h)
    up = arrow(w0, b0, gw, gb, (-10, 10), (-15, 15))
    landscape(w0, b0, ws, bs, z, c, [(up, "#ffffff", "gradient")])
    return


@app.cell
def _(b, curve, np, w):
    x = np.linspace(-1, 10, 101)
    curve(x, w.value * x + b.value, 300, [-1, 10], [-2, 10], data=True)
    return
""",
    "gradient.py": """
@app.cell
def _(mo):
    w = mo.ui.slider(-2.5, 2.5, step=0.01, value=1.5, label="weight w")
    b = mo.ui.slider(-15, 15, step=0.1, value=8, label="bias b")
    mo.hstack([w, b])
    return b, w


@app.cell
def _(b, curve, loss, np):
    xw = np.linspace(-2.5, 2.5, 101)
    curve(xw, [loss(x, b.value) for x in xw], 300, [-2.5, 2.5], None)
    return


@app.cell
def _(curve, loss, np, w):
    xb = np.linspace(-15, 15, 101)
    curve(xb, [loss(w.value, x) for x in xb], 300, [-15, 15], None)
    return


@app.cell
def _(grid, np):
    ws, bs = np.linspace(-2.5, 2.5, 61), np.linspace(-15, 15, 61)
    z, c = grid(ws, bs)
    return bs, c, ws, z


@app.cell
def _(DATA, arrow, b, bs, c, landscape, w, ws, z):
    w0, b0 = w.value, b.value
    gap = w0 * DATA[:, 0] + b0 - DATA[:, 1]
    yours = arrow(w0, b0, 0.0, float(gap.sum()), (-2.5, 2.5), (-15, 15))
    true = arrow(w0, b0, float((gap * DATA[:, 0]).sum()), float(gap.sum()), (-2.5, 2.5),
                 (-15, 15))
    landscape(w0, b0, ws, bs, z, c,
              [(yours, "#ffffff", "your gradient"), (true, "#ffb000", "autograd gradient")])
    return
""",
    "plane.py": """
@app.cell
def _(mo):
    w1 = mo.ui.slider(-10, 10, step=0.1, value=0, label="weight w1")
    w2 = mo.ui.slider(-10, 10, step=0.1, value=0, label="weight w2")
    b = mo.ui.slider(-10, 10, step=0.1, value=0, label="bias b")
    mo.hstack([w1, w2, b])
    return b, w1, w2


@app.cell
def _(LAYOUT, b, go, np, w1, w2):
    x1 = x2 = np.linspace(-10, 10, 31)
    zz = w1.value * x1[None, :] + w2.value * x2[:, None] + b.value
    layout = dict(LAYOUT, height=440, margin={"l": 0, "r": 0, "t": 0, "b": 0})
    layout["scene"] = {
        "xaxis": {"title": {"text": "x1"}}, "yaxis": {"title": {"text": "x2"}},
        "zaxis": {"title": {"text": "y"}, "range": [-150, 150]},
        "camera": {"eye": {"x": 1.6, "y": -1.6, "z": 0.9}}, "aspectmode": "cube",
    }
    go.Figure(go.Surface(x=x1, y=x2, z=zz, colorscale="Viridis", showscale=False,
                         cmin=-150, cmax=150), layout=layout)
    return
""",
    "descent.py": """
@app.cell
def _(mo):
    play = mo.ui.run_button(label="Play")
    play
    return (play,)


@app.cell
def _(DATA, LAYOUT, go, grid, loss, mo, np, play):
    import time

    ws, bs = np.linspace(-2.5, 2.5, 61), np.linspace(-15, 15, 61)
    _, c = grid(ws, bs)
    xs = np.linspace(0, 9, 50)

    def figure(path_w, path_b, losses):
        w0, b0 = path_w[-1], path_b[-1]
        layout = dict(LAYOUT, height=420)
        layout["grid"] = {"rows": 1, "columns": 3, "pattern": "independent"}
        layout["xaxis"] = {"domain": [0, 0.3], "title": {"text": "x"}}
        layout["xaxis2"] = {"domain": [0.37, 0.67], "title": {"text": "w"}, "range": [-2.5, 2.5]}
        layout["yaxis2"] = {"title": {"text": "b"}, "range": [-15, 15], "anchor": "x2"}
        layout["xaxis3"] = {"domain": [0.75, 1], "title": {"text": "iteration"}}
        layout["yaxis3"] = {"title": {"text": "loss"}, "type": "log", "anchor": "x3"}
        return go.Figure(data=[
            go.Scatter(x=xs, y=w0 * xs + b0, mode="lines", name="fit",
                       line={"color": "#2f6fdf", "width": 3}),
            go.Scatter(x=DATA[:, 0], y=DATA[:, 1], mode="markers", name="data",
                       marker={"color": "#e4572e", "size": 8}),
            go.Contour(x=ws, y=bs, z=c, colorscale="Viridis", showscale=False, xaxis="x2",
                       yaxis="y2", contours={"coloring": "heatmap", "start": 1, "end": 8,
                                             "size": 1}, line={"width": 0.5}, hoverinfo="skip"),
            go.Scatter(x=path_w, y=path_b, mode="lines+markers", name="path", xaxis="x2",
                       yaxis="y2", line={"color": "#ffffff", "width": 2},
                       marker={"size": 5, "color": "#ffffff"}),
            go.Scatter(x=list(range(len(losses))), y=losses, mode="lines", name="loss",
                       xaxis="x3", yaxis="y3", line={"color": "#7b3fbf", "width": 2}),
        ], layout=layout)

    w, b, lr = 0.0, 0.0, 0.003
    path_w, path_b, losses = [w], [b], [loss(w, b)]
    mo.output.replace(figure(path_w, path_b, losses))
    if play.value:
        end = time.monotonic() + __PLAY_S__
        while time.monotonic() < end:
            start = time.monotonic()
            for _ in range(__SPEED__):
                gap = w * DATA[:, 0] + b - DATA[:, 1]
                w, b = w - lr * float((gap * DATA[:, 0]).sum()), b - lr * float(gap.sum())
            path_w.append(w)
            path_b.append(b)
            losses.append(loss(w, b))
            mo.output.replace(figure(path_w, path_b, losses))
            time.sleep(max(0.0, 1 / 40 - (time.monotonic() - start)))
    return
""",
}


def write_apps(folder: Path, play_s: float) -> None:
    head = _HEAD.replace("__DATA__", repr(DATA))
    for name, body in MARIMO_APPS.items():
        body = body.replace("__PLAY_S__", f"{play_s:g}").replace("__SPEED__", str(PLAY_SPEED))
        (folder / name).write_text(head + body.lstrip("\n") + _TAIL)


# --------------------------------------------------------------------------- processes


def get(url: str, timeout: float = 2) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return bytes(resp.read())
    except (OSError, urllib.error.URLError):
        return None


@contextlib.contextmanager
def descent_server(root: Path, tmp: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """`python -m app` from `root` on a free port; with DESCENT_SANDBOX=weak when the host
    refuses the strict sandbox (the bench measures the page, not the sandbox)."""
    python = PYTHON if PYTHON.exists() else Path(sys.executable)
    sandbox = os.environ.get("DESCENT_SANDBOX", "strict")
    for attempt in range(2):
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DESCENT_")}
        env.update(
            DESCENT_HOST="127.0.0.1",
            DESCENT_PORT=str(port),
            DESCENT_DATA_DIR=str(tmp / f"data{attempt}"),
            DESCENT_LOG_LEVEL="warning",
            DESCENT_SANDBOX=sandbox,
        )
        url = f"http://127.0.0.1:{port}"

        def up(url: str = url) -> bool:
            return get(url + "/healthz") is not None

        with process([str(python), "-m", "app"], root, env, tmp / f"server{attempt}.log", up):
            state = dict(json.loads(get(url + "/healthz") or b"{}"))
            if state.get("sandbox") == "refused" and sandbox != "weak":
                sandbox = "weak"
                continue
            yield url, state
            return
    raise RuntimeError("the server refuses learner code even with DESCENT_SANDBOX=weak")


def marimo_python(quiet: bool = False) -> tuple[Path | None, str]:
    """The bench's own marimo (bench/.marimo-venv), created once; or None and why not."""
    python = MARIMO_VENV / "bin" / "python"
    marker = MARIMO_VENV / ".installed"
    if not marker.exists():
        if not quiet:
            print(f"creating {MARIMO_VENV.relative_to(ROOT)} (pip install marimo plotly numpy)…")
        base = getattr(sys, "_base_executable", sys.executable)
        try:
            shutil.rmtree(MARIMO_VENV, ignore_errors=True)
            pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            for cmd, limit in (
                ([base, "-m", "venv", str(MARIMO_VENV)], 300),
                ([*pip, "marimo", "plotly", "numpy"], 900),
            ):
                subprocess.run(cmd, timeout=limit, check=True, capture_output=True, text=True)
        except subprocess.CalledProcessError as err:
            tail = (err.stderr or err.stdout or "").strip().splitlines()[-1:]
            return None, f"marimo could not be installed into {MARIMO_VENV.name}: {err} {tail}"
        except (OSError, subprocess.SubprocessError) as err:
            return None, f"marimo could not be installed into {MARIMO_VENV.name}: {err}"
        marker.touch()
    try:
        out = subprocess.run(
            [str(python), "-c", "import marimo, plotly; print(marimo.__version__)"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as err:
        return None, f"marimo does not import from {MARIMO_VENV.name}: {err}"
    return python, out.stdout.strip()


@contextlib.contextmanager
def marimo_server(python: Path, apps: Path, tmp: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    marimo = python.parent / "marimo"
    cmd = [str(marimo), "run", str(apps), "--headless", "--no-token", "--port", str(port)]
    cmd += ["--session-ttl", "2", "--no-sandbox"]
    env = {**os.environ, "MARIMO_SKIP_UPDATE_CHECK": "1"}
    with process(cmd, apps, env, tmp / "marimo.log", lambda: get(url + "/") is not None):
        yield url


# --------------------------------------------------------------------------- one side


@dataclass
class Held:
    keys: int
    seconds: float
    ups: float  # value changes painted per second, the slowest plot part
    lag_ms: float | None  # last key -> final value painted everywhere (None: never)


@dataclass
class Result:
    single: list[float] = field(default_factory=list)  # ms
    misses: int = 0  # presses whose value was never painted within WAIT_S
    held: list[Held] = field(default_factory=list)
    parts: dict[int, list[float]] = field(default_factory=dict)  # ms per plot part
    error: str = ""


class Side:
    """One product's page for one figure: its slider, its plots, and the measurements.
    `marimo`: the page is a marimo app (else a Descent lesson page, this checkout's or
    another's)."""

    def __init__(
        self, name: str, page: Page, figure: Figure, slider: str, marimo: bool = False
    ) -> None:
        self.name, self.page, self.figure, self.slider = name, page, figure, slider
        self.marimo = marimo
        self.decimals = max(0, -math.floor(math.log10(figure.step) + 1e-9))
        self.tol = figure.step * 0.3
        self.value = figure.value
        self.result = Result()

    def specs(self) -> list[dict[str, Any]]:
        out = []
        for p in self.figure.plots:
            where: dict[str, Any] = {"marimo": p.marimo} if self.marimo else {"descent": p.descent}
            out.append({"reader": p.reader, "params": p.params, **where})
        return out

    def watch(self) -> None:
        got = self.page.evaluate("specs => window.__paint.watch(specs)", self.specs())
        if got["problems"]:
            raise RuntimeError("; ".join(got["problems"]))
        for shown in got["shown"]:
            for v in shown:
                if v is None or abs(v - self.value) > self.tol:
                    raise RuntimeError(
                        f"a plot shows {v} where the slider is at {self.value}: the reader "
                        "does not match this figure"
                    )

    def focus(self) -> None:
        self.page.bring_to_front()
        view = self.figure.view
        if view is None:
            self.page.focus(self.slider)
            return
        # The keys go to the slider while the learner looks at the plot: focus without scrolling
        # back to the slider, then the plot to the middle of the screen (once: it stays there).
        self.page.locator(self.slider).first.evaluate("el => el.focus({preventScroll: true})")
        where = {"marimo": view.marimo} if self.marimo else {"descent": view.descent}
        self.page.evaluate("spec => window.__paint.look(spec)", where)

    def target(self, keys: int, direction: int) -> float:
        f = self.figure
        return round(min(f.hi, max(f.lo, self.value + direction * keys * f.step)), self.decimals)

    def press(self, direction: int) -> float | None:
        """One keypress; ms to the painted frame showing the new value (None: never)."""
        page = self.page
        self.focus()
        page.evaluate("() => window.__paint.reset()")
        target = self.target(1, direction)
        page.keyboard.press("ArrowRight" if direction > 0 else "ArrowLeft")
        got = page.evaluate(
            "([v, tol, ms]) => { const S = window.__paint; const k = S.keys[S.keys.length - 1];"
            " return S.waitFor(v, tol, k, ms).then((t) => ({all: t === null ? null : t - k,"
            " parts: S.firstParts(v, tol, k)})); }",
            [target, self.tol, WAIT_S * 1e3],
        )
        self.value = target
        page.evaluate("() => window.__paint.quiet(120, 3000)")
        if got["all"] is None:
            return None
        for i, ms in enumerate(got["parts"]):
            if ms is not None:
                self.result.parts.setdefault(i, []).append(float(ms))
        return float(got["all"])

    def hold(self, seconds: float) -> Held:
        """Hold the arrow key for `seconds` (keydown repeated at REPEAT_RATE)."""
        page, f = self.page, self.figure
        direction = 1 if f.hi - self.value >= self.value - f.lo else -1
        start_value = self.value
        key = "ArrowRight" if direction > 0 else "ArrowLeft"
        self.focus()
        page.evaluate("() => window.__paint.reset()")
        room = round((f.hi - self.value if direction > 0 else self.value - f.lo) / f.step)
        count = max(2, min(round(seconds * REPEAT_RATE), room - 1))
        start = time.perf_counter()
        for i in range(count):
            page.keyboard.down(key)
            pause = start + (i + 1) / REPEAT_RATE - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        page.keyboard.up(key)
        keys = int(page.evaluate("() => window.__paint.keys.length"))
        target = self.target(keys, direction)
        final = page.evaluate(
            "([v, tol, ms]) => { const S = window.__paint;"
            " return S.waitFor(v, tol, S.keys[S.keys.length - 1], ms); }",
            [target, self.tol, WAIT_S * 1e3],
        )
        log = page.evaluate(
            "() => ({keys: window.__paint.keys, "
            "frames: window.__paint.frames.map((f) => [f.t, f.vals])})"
        )
        self.value = target
        page.evaluate("() => window.__paint.quiet(150, 5000)")
        k0, k1 = log["keys"][0], log["keys"][-1]
        parts = sum(len(v) for v in log["frames"][0][1]) if log["frames"] else 0
        changes = [0] * parts
        last: list[Any] = [start_value] * parts
        for t, vals in log["frames"]:
            flat = [v for plot in vals for v in plot]
            for i, v in enumerate(flat):
                if v is not None and last[i] is not None and abs(v - last[i]) > 1e-9 and t <= k1:
                    changes[i] += 1
                last[i] = v if v is not None else last[i]
        span = (k1 - k0) / 1e3
        ups = min(changes) / span if changes and span > 0 else 0.0
        lag = None if final is None else float(final) - k1
        return Held(len(log["keys"]), span, ups, lag)


def load_descent(page: Page, url: str, slug: str) -> None:
    resp = page.goto(f"{url}/lessons/{slug}")
    if resp is None or not resp.ok:
        raise RuntimeError(f"/lessons/{slug} answered {resp.status if resp else 'nothing'}")
    page.wait_for_function(LESSON_SETTLED, timeout=LOAD_S * 1e3)


def load_marimo(page: Page, url: str, app: str, plots: int, sliders: int) -> None:
    resp = page.goto(f"{url}/?file={app}")
    if resp is None or not resp.ok:
        raise RuntimeError(f"marimo's /?file={app} answered {resp.status if resp else 'nothing'}")
    page.wait_for_function(MARIMO_READY, arg=[plots, sliders], timeout=LOAD_S * 1e3)


def short(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    first = text[0] if text else type(err).__name__
    return f"{type(err).__name__}: {first}"[:150]


@dataclass(frozen=True)
class Other:
    """What Descent is measured against, turn about: marimo, or another Descent checkout."""

    name: str  # its column in the table: "marimo", "before"
    url: str | None  # None: not measured (`why`)
    marimo: bool
    why: str = ""


def descent_side(browser: Browser, name: str, url: str, figure: Figure) -> tuple[Side, Any]:
    ctx = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    ctx.add_init_script(INSTRUMENT)
    page = ctx.new_page()
    side = Side(name, page, figure, f"input[type=range][data-slider='{figure.slider}']")
    try:
        load_descent(page, url, figure.slug)
        side.watch()
    except Exception as err:
        side.result.error = short(err)
    return side, ctx


def measure_figure(
    browser: Browser,
    figure: Figure,
    descent_url: str,
    other: Other,
    n: int,
    warmup: int,
    hold_s: float,
) -> dict[str, Result]:
    """Both products' pages for one figure, driven turn about."""
    sides: list[Side] = []
    results: dict[str, Result] = {}
    contexts = []
    try:
        side, ctx = descent_side(browser, "Descent", descent_url, figure)
        contexts.append(ctx)
        results["Descent"] = side.result
        sides.append(side)
        if other.url is None:
            results[other.name] = Result(error=f"not measured ({other.why})")
        elif not other.marimo:
            side, ctx = descent_side(browser, other.name, other.url, figure)
            contexts.append(ctx)
            results[other.name] = side.result
            sides.append(side)
        else:
            ctx = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
            contexts.append(ctx)
            ctx.add_init_script(INSTRUMENT)
            page = ctx.new_page()
            thumb = f"marimo-slider >> nth={figure.marimo_slider} >> [role=slider]"
            side = Side(other.name, page, figure, thumb, marimo=True)
            results[other.name] = side.result
            try:
                plots = max(p.marimo for p in figure.plots) + 1
                load_marimo(page, other.url, figure.app, plots, figure.marimo_slider + 1)
                side.watch()
            except Exception as err:
                side.result.error = short(err)
            sides.append(side)

        for i in range(warmup + n):
            direction = 1 if i % 2 == 0 else -1
            for side in sides if i % 2 == 0 else sides[::-1]:
                if side.result.error:
                    continue
                try:
                    ms = side.press(direction)
                except Exception as err:
                    side.result.error = short(err)
                    continue
                if i < warmup:
                    continue
                if ms is None:
                    side.result.misses += 1
                else:
                    side.result.single.append(ms)
        # Held keys turn about too, twice each when there is time: the busier the machine, the
        # more one hold differs from the next; the table shows the last of each.
        for _ in range(2 if hold_s <= 3 else 1):
            for side in sides:
                if not side.result.error:
                    try:
                        side.result.held.append(side.hold(hold_s))
                    except Exception as err:
                        side.result.error = short(err)
    finally:
        for ctx in contexts:
            with contextlib.suppress(Exception):
                ctx.close()
    return results


# --------------------------------------------------------------------------- Play


@dataclass
class Play:
    painted: float | None = None  # painted frames per second
    sent: float | None = None  # frames the server sent per second (Descent)
    frames: int = 0
    error: str = ""


def painted_rate(page: Page, t0: float, t1: float) -> tuple[float | None, int]:
    """Frames between t0 and t1 (page time) whose descent path changed: per second, and how many."""
    frames = page.evaluate("() => window.__paint.frames.map((f) => [f.t, f.vals[0][0]])")
    times, last = [], None
    for t, v in frames:
        if v is not None and v != last and t0 <= t <= t1:
            times.append(t)
        last = v if v is not None else last
    if len(times) < 2:
        return None, len(times)
    return (len(times) - 1) / ((times[-1] - times[0]) / 1e3), len(times)


def play_descent(browser: Browser, url: str, play_s: float) -> Play:
    out = Play()
    ctx = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    try:
        ctx.add_init_script(INSTRUMENT)
        page = ctx.new_page()
        load_descent(page, url, PLAY_SLUG)
        code = str(page.evaluate(EDITOR_TEXT, "loop"))
        solved = re.sub(
            r"def train\(iterations(?:=\d+)?\):\n(?:[ \t]+.*(?:\n|$))+", TRAIN_SOLVED, code
        )
        if solved == code:
            raise RuntimeError("no `def train(iterations)` in the loop cell to complete")
        page.click("[data-editor='loop'] .cm-content")
        page.keyboard.press("Control+a")
        page.keyboard.press("Delete")
        page.evaluate(PASTE, ["loop", solved])
        page.click("[data-run='loop']")
        page.wait_for_function(
            "() => document.querySelector(\"[data-output='loop']\").dataset.ok === 'true'"
            " && document.body.dataset.kernel === 'idle'",
            timeout=WAIT_S * 1e3,
        )
        got = page.evaluate(
            "specs => window.__paint.watch(specs)", [{"reader": "training", "descent": PLAY_PLOT}]
        )
        if got["problems"]:
            raise RuntimeError("; ".join(got["problems"]))
        page.select_option(f"[data-train='{PLAY_PLOT}'] [data-train-speed]", str(PLAY_SPEED))
        button = f"[data-train='{PLAY_PLOT}'] [data-train-action='play']"
        # The training plot's patches, as they reach the page.
        patch = rf'^(?=[^]*"type":\s*"patch")(?=[^]*"plot":\s*"{PLAY_PLOT}")'
        page.evaluate("src => { window.__paint.countMessages = new RegExp(src); }", patch)
        page.evaluate("() => window.__paint.reset()")
        t0 = float(page.evaluate("() => performance.now()"))
        page.click(button)
        time.sleep(play_s)
        t1 = float(page.evaluate("() => performance.now()"))
        page.click(button)  # Pause
        out.painted, out.frames = painted_rate(page, t0, t1)
        got = page.evaluate("() => window.__paint.messages")
        inside = [t for t in got if t0 <= t <= t1]
        if len(inside) > 1:
            out.sent = (len(inside) - 1) / ((inside[-1] - inside[0]) / 1e3)
    except Exception as err:
        out.error = short(err)
    finally:
        with contextlib.suppress(Exception):
            ctx.close()
    return out


def play_marimo(browser: Browser, url: str | None, play_s: float, why: str = "") -> Play:
    out = Play()
    if url is None:
        out.error = f"not measured ({why})"
        return out
    ctx = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    try:
        ctx.add_init_script(INSTRUMENT)
        page = ctx.new_page()
        load_marimo(page, url, PLAY_APP, 1, 0)
        got = page.evaluate(
            "specs => window.__paint.watch(specs)", [{"reader": "training", "marimo": 0}]
        )
        if got["problems"]:
            raise RuntimeError("; ".join(got["problems"]))
        page.evaluate("() => window.__paint.reset()")
        t0 = float(page.evaluate("() => performance.now()"))
        page.locator("marimo-button button").first.click()
        time.sleep(play_s)
        t1 = float(page.evaluate("() => performance.now()"))
        out.painted, out.frames = painted_rate(page, t0, t1)
    except Exception as err:
        out.error = short(err)
    finally:
        with contextlib.suppress(Exception):
            ctx.close()
    return out


# --------------------------------------------------------------------------- the table


PART_NAMES = {
    "line": ("",),
    "landscape": (" 2-D", " 3-D"),
    "slice_b": ("",),
    "plane": (" 3-D",),
    "training": ("",),
}


def cell_single(r: Result) -> str:
    if r.error:
        return "—"
    if not r.single:
        return f"never painted ({r.misses})"
    text = f"{percentile(r.single, 50):.0f} / {percentile(r.single, 95):.0f}"
    return text + (f" ({r.misses} never)" if r.misses else "")


def span(values: list[float], unit: str) -> str:
    lo, hi = f"{min(values):.0f}", f"{max(values):.0f}"
    return f"{lo}{unit}" if lo == hi else f"{lo}–{hi}{unit}"


def cell_held(r: Result) -> str:
    """Updates/s and lag of each hold, as a range when the holds differ."""
    if r.error or not r.held:
        return "—"
    lags = [h.lag_ms for h in r.held if h.lag_ms is not None]
    never = len(lags) < len(r.held)
    lag = "never" if not lags else span(lags, " ms") + (", once never" if never else "")
    return f"{span([h.ups for h in r.held], '/s')}, lag {lag}"


def parts_note(fig: Figure, r: Result) -> str:
    """p50 per plot part, where a figure has more than one."""
    names = [f"{p.descent}{suffix}" for p in fig.plots for suffix in PART_NAMES[p.reader]]
    if len(names) < 2 or not r.parts:
        return ""
    shown = [
        f"{name} {percentile(r.parts[i], 50):.0f}" for i, name in enumerate(names) if r.parts.get(i)
    ]
    return ", ".join(shown)


def report(
    rows: list[tuple[Figure, dict[str, Result]]],
    play: tuple[Play, Play],
    header: str,
    other: str,
    other_note: str,
) -> None:
    """The table: Descent beside `other` ("marimo", or "before": another Descent checkout)."""
    print(header)
    print()
    table: list[tuple[str, ...]] = []
    notes: list[str] = []
    met = {True: "met", False: "MISSED"}
    for fig, res in rows:
        d, m = res["Descent"], res[other]
        ratio, goals = "—", []
        if d.single and m.single:
            r50 = percentile(d.single, 50) / percentile(m.single, 50)
            ratio = f"{r50:.2f}x"
            if other == "marimo":
                goals.append(f"<=0.5x {met[r50 <= GOAL_RATIO]}")
        if d.single:
            goals.append(f"p50<=50 {met[percentile(d.single, 50) <= GOAL_P50_MS]}")
        if d.held:
            slowest = min(h.ups for h in d.held)
            goals.append(f">=30/s {met[slowest >= GOAL_UPS]}")
        table.append(
            (
                fig.name,
                cell_single(d),
                cell_single(m),
                ratio,
                cell_held(d),
                cell_held(m),
                ", ".join(goals),
            )
        )
        for who, result in res.items():
            if result.error:
                notes.append(f"{fig.name}, {who}: {result.error}")
            elif note := parts_note(fig, result):
                notes.append(f"{fig.name}, {who}: p50 ms by plot part: {note}")
    dp, mp = play
    descent_play = "—" if dp.painted is None else f"{dp.painted:.0f}/s"
    if dp.painted is not None and dp.sent is not None:
        descent_play += f" (server sent {dp.sent:.0f}/s)"
    table.append(
        (
            "gradient-descent: Play, painted frames/s",
            descent_play,
            "—" if mp.painted is None else f"{mp.painted:.0f}/s",
            "—" if dp.painted is None or not mp.painted else f"{dp.painted / mp.painted:.2f}x",
            "",
            "",
            "" if dp.painted is None else f">=30/s {met[dp.painted >= GOAL_PLAY]}",
        )
    )
    for who, p in (("Descent", dp), (other, mp)):
        if p.error:
            notes.append(f"Play, {who}: {p.error}")
        elif p.painted is None:
            notes.append(f"Play, {who}: {p.frames} painted frame(s) changed the path")
    head = (
        "figure",
        "Descent p50 / p95 ms",
        f"{other} p50 / p95 ms",
        f"D/{other[0]} p50",
        "key held: Descent",
        f"key held: {other}",
        "goals (Descent)",
    )
    widths = [max(len(row[i]) for row in [*table, head]) for i in range(len(head))]
    line = "  ".join(f"{h:<{w}}" for h, w in zip(head, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in table:
        print("  ".join(f"{c:<{w}}" for c, w in zip(row, widths, strict=True)).rstrip())
    print()
    print(
        f"key held: value changes painted per second while the key repeats at {REPEAT_RATE:.0f}/s"
        " (the slowest plot part), and the lag from the last keydown to the final value painted"
        " everywhere; one range over the holds of the run (each product held in turn)."
    )
    print(
        "goals (issue 15): keypress -> painted p50 <= 0.5x marimo's and <= 50 ms; >= 30 updates/s"
        " while a key is held (in every hold); Play >= 30 painted frames/s."
    )
    if other_note:
        print(f"{other}: {other_note}")
    for note in notes:
        print(f"  {note}")


def chromium_version() -> str:
    try:
        out = subprocess.run(
            [str(CHROMIUM), "--version"], capture_output=True, text=True, timeout=30
        ).stdout
        return " ".join(out.split()[:2]) or "Chromium"
    except (OSError, subprocess.SubprocessError):
        return "Chromium"


def git_head(root: Path) -> str:
    """The commit the server runs, and whether the checkout has changes on top of it."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return (head or "?") + (" with uncommitted changes" if dirty else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="n=8, 1.5 s hold, 2 s Play")
    parser.add_argument("--n", type=int, default=None, help="measured keypresses (25)")
    parser.add_argument("--hold", type=float, default=None, help="seconds a key is held (3)")
    parser.add_argument("--play", type=float, default=None, help="seconds of Play (4)")
    parser.add_argument("--server-root", type=Path, default=ROOT, help="checkout to serve from")
    parser.add_argument("--no-marimo", action="store_true", help="measure Descent alone")
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="a checkout of Descent to measure turn about instead of marimo (e.g. a worktree "
        "of the last commit): before and after in one run",
    )
    parser.add_argument("--only", default="", help="figures whose name contains this")
    args = parser.parse_args()
    n = args.n or (8 if args.quick else 25)
    warmup = 2 if args.quick else 3
    hold_s = args.hold or (1.5 if args.quick else 3.0)
    play_s = args.play or (2.0 if args.quick else 4.0)
    figures = [f for f in FIGURES if args.only in f.name]

    if not CHROMIUM.exists():
        print(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
        return 1
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("Playwright for Python is not installed in this environment (pip install playwright)")
        return 1

    marimo: Path | None = None
    marimo_note = "not measured (--no-marimo)"
    if args.before is not None:
        marimo_note = ""
    elif not args.no_marimo:
        marimo, marimo_note = marimo_python()
        if marimo is not None:
            marimo_note = f"marimo {marimo_note} from {MARIMO_VENV.relative_to(ROOT)}"

    load = os.getloadavg()
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="descent-paint-")))
        try:
            descent_url, state = stack.enter_context(descent_server(args.server_root, tmp))
        except RuntimeError as err:
            print(f"the Descent server did not start: {err}")
            return 1
        marimo_url: str | None = None
        other = Other("marimo", None, True, "no marimo")
        if args.before is not None:
            before = tmp / "before"
            before.mkdir()
            try:
                before_url, _ = stack.enter_context(descent_server(args.before, before))
            except RuntimeError as err:
                print(f"the Descent server from {args.before} did not start: {err}")
                return 1
            other = Other("before", before_url, False)
            marimo_note = f"Descent served from {args.before.resolve()} ({git_head(args.before)})"
        elif marimo is not None:
            apps = tmp / "apps"
            apps.mkdir()
            write_apps(apps, play_s + 1.0)
            try:
                marimo_url = stack.enter_context(marimo_server(marimo, apps, tmp))
                other = Other("marimo", marimo_url, True)
            except RuntimeError as err:
                marimo_note = f"the marimo server did not start: {short(err)}"
                other = Other("marimo", None, True, "the marimo server did not start")
        pw = stack.enter_context(sync_playwright())
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        stack.callback(browser.close)
        rows = []
        for fig in figures:
            rows.append((fig, measure_figure(browser, fig, descent_url, other, n, warmup, hold_s)))
        play = (
            play_descent(browser, descent_url, play_s),
            play_marimo(browser, other.url, play_s, other.why)
            if other.marimo or other.url is None
            else play_descent(browser, other.url, play_s),
        )

    root = args.server_root.resolve()
    where = "" if root == ROOT else f" from {root}"
    header = (
        f"Descent page paint bench, {datetime.date.today().isoformat()}: {chromium_version()} "
        f"headless (software rendering), {os.cpu_count()} CPUs; n={n} keypresses per figure and "
        f"product (after {warmup} warm-up), key held {hold_s:g} s, Play {play_s:g} s; server "
        f"{git_head(root)}{where}, sandbox {state.get('sandbox', '?')}; load average "
        f"{load[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end; "
        f"{time.perf_counter() - started:.0f} s"
    )
    report(rows, play, header, other.name, marimo_note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
