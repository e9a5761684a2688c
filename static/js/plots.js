// Plotly figures: a whole figure when the code behind a plot changed, a restyle per slider move.
// Every figure is drawn with keyboard users in mind: plotly's toolbar takes no tab stops, an
// animation's play, pause and scrubber are real HTML controls, and 3-D plots turn with keys.
import { cleanNumbers } from "./format.js";
import { fitToWidth } from "./layout.js";
import { scheduleDescription } from "./describe.js";
import { setupDrag } from "./drag.js";
import { noteFrame, noteStart, scrubOnHover } from "./history.js";

// Large arrays arrive as base64 float32 ({dtype, bdata, shape}); plain lists otherwise.
// Non-finite numbers become gaps, so no axis ever shows NaN or Infinity.
export function decodeArrays(value) {
  if (Array.isArray(value)) return value.map(decodeArrays);
  if (value && typeof value === "object") {
    if (typeof value.bdata === "string" && value.dtype === "f4") {
      const bytes = Uint8Array.from(atob(value.bdata), (c) => c.charCodeAt(0));
      const flat = Array.from(new Float32Array(bytes.buffer), (v) => (Number.isFinite(v) ? v : null));
      const shape = value.shape || [flat.length];
      if (shape.length === 2) {
        const [rows, cols] = shape;
        return Array.from({ length: rows }, (_, r) => flat.slice(r * cols, (r + 1) * cols));
      }
      return flat;
    }
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = decodeArrays(v);
    return out;
  }
  return cleanNumbers(value);
}

const CONFIG = {
  displaylogo: false,
  responsive: true,
  modeBarButtonsToRemove: ["sendDataToCloud", "sendChartToCloud"],
};
const CAMERA = { x: 1.25, y: 1.25, z: 1.25 };
const reduceMotion = () => window.matchMedia?.("(prefers-reduced-motion: reduce)").matches;

// The page loads a partial plotly.js holding only the trace types its lesson draws
// (static/src/plotly-bundles.json); a figure with another type is a bug worth shouting about.
export const missingTraces = new Set();
function checkTraces(fig) {
  const have = window.Plotly.descentTraces;
  if (!have) return;
  for (const t of fig.data || []) {
    const type = t.type || "scatter";
    if (!have.includes(type) && !missingTraces.has(type)) {
      missingTraces.add(type);
      console.error(`plotly bundle "${window.Plotly.descentBundle}" cannot draw ${type} traces`);
    }
  }
}

// ------------------------------------------------------------------ two layers
//
// What does not move is never redrawn. A figure with grid traces (surface, heat map, contour)
// and lighter ones (markers, arrows, lines, paths) is drawn as two stacked plotly graphs that
// share the axes: the base (under) holds only the grid traces and is drawn once per figure; the
// plot itself (on top, #plot-<id>, transparent) holds every trace of the figure at the server's
// indices, the grid ones with `visible: false`, so a patch restyles only the light layer and
// plotly never recomputes nor repaints the heavy one. The top layer takes the pointer (hover,
// turning a 3-D view, zoom) and the base follows its cameras and axis ranges.
const HEAVY = new Set(["surface", "heatmap", "contour", "mesh3d", "image"]);
const CLEAR = "rgba(0,0,0,0)";
const BASE_CONFIG = { displayModeBar: false, responsive: true, displaylogo: false };

function heavyTraces(fig) {
  if ((fig.frames || []).length) return null;
  const data = fig.data || [];
  const heavy = [];
  data.forEach((t, i) => { if (HEAVY.has(t.type)) heavy.push(i); });
  return heavy.length && heavy.length < data.length ? heavy : null;
}

// `fromPatch`: a frame of a run (or a scrubbed one), not a new figure from the server.
export function showFigure(div, figure, { fromPatch = false } = {}) {
  if (!fromPatch) noteStart(div, figure);
  const fig = decodeArrays(figure);
  checkTraces(fig);
  const original = fig.layout || {};
  div._descentLayout = original;
  const heavy = heavyTraces(fig);
  const layout = animationControls(div, fig, fitToWidth(original, div.clientWidth || window.innerWidth));
  if (heavy) return drawLayers(div, fig.data, layout, heavy);
  dropBase(div);
  const drawn = window.Plotly.react(div, { data: fig.data, layout, frames: fig.frames || [], config: CONFIG });
  return Promise.resolve(drawn).then(() => afterDraw(div));
}

function ensureBase(div) {
  if (div._descentBase) return div._descentBase;
  const stack = document.createElement("div");
  stack.className = "plot-stack";
  div.before(stack);
  const base = document.createElement("div");
  base.className = "plot-base";
  base.setAttribute("aria-hidden", "true");
  stack.append(base, div);
  div._descentBase = base;
  return base;
}

function dropBase(div) {
  const base = div._descentBase;
  if (!base?._descentIndex) return;
  base._descentIndex = null;
  window.Plotly.purge(base);
  base.replaceChildren();
}

// Every trace of the figure, the grid ones as the base draws them.
function allTraces(div) {
  const index = div._descentBase?._descentIndex;
  if (!index) return div.data;
  return div.data.map((t, i) => (index.has(i) ? div._descentBase.data[index.get(i)] : t));
}

// The axes and 3-D scenes a grid trace sits on: the base owns their ranges and draws them; every
// other axis belongs to the top layer (it may autorange on the moving traces, as a loss curve
// does while training).
const axisName = (id, letter) => `${letter}axis${String(id || letter).slice(1)}`;
function heavyAxes(data, heavy) {
  const owned = new Set();
  for (const i of heavy) {
    const t = data[i];
    if (t.type === "surface" || t.type === "mesh3d") owned.add(t.scene || "scene");
    else { owned.add(axisName(t.xaxis, "x")); owned.add(axisName(t.yaxis, "y")); }
  }
  return owned;
}

function drawLayers(div, data, layout, heavy) {
  const base = ensureBase(div);
  base._descentIndex = new Map(heavy.map((i, k) => [i, k]));
  const owned = heavyAxes(data, heavy);
  div._descentOwned = owned;
  base.style.height = `${layout.height || div.clientHeight}px`;
  const under = { ...layout, showlegend: false };
  for (const key of Object.keys(layout)) {
    if (/^[xy]axis\d*$/.test(key) && !owned.has(key)) under[key] = { ...layout[key], visible: false };
    else if (/^scene\d*$/.test(key) && !owned.has(key)) delete under[key];
  }
  const drawn = window.Plotly.react(base, { data: heavy.map((i) => data[i]), layout: under, config: BASE_CONFIG });
  return Promise.resolve(drawn).then(() => {
    const top = data.map((t, i) => (base._descentIndex.has(i) ? { ...t, visible: false } : t));
    return window.Plotly.react(div, { data: top, layout: overlayLayout(layout, base, owned), config: CONFIG });
  }).then(() => {
    followTop(div);
    afterDraw(div);
  });
}

// The top layer's layout: the base's plot area, and on the base's axes and scenes its ranges and
// 3-D aspect with nothing drawn but the traces (the base draws those axes, titles, backgrounds).
function overlayLayout(layout, base, owned) {
  const full = base._fullLayout;
  const size = full._size;
  const out = {
    ...layout, paper_bgcolor: CLEAR, plot_bgcolor: CLEAR, title: { text: "" },
    annotations: [], shapes: [], images: [],
    margin: { l: size.l, r: size.r, t: size.t, b: size.b, pad: size.p || 0, autoexpand: false },
  };
  for (const key of owned) {
    const ax = full[key];
    if (/^[xy]axis\d*$/.test(key) && ax?.range) {
      out[key] = { ...(layout[key] || {}), type: ax.type, range: ax.range.slice(), autorange: false, visible: false, automargin: false };
    } else if (/^scene\d*$/.test(key) && ax?.xaxis) {
      const axis = (a) => ({ ...(layout[key]?.[a] || {}), type: ax[a].type, range: ax[a].range.slice(), autorange: false, visible: false });
      out[key] = {
        ...(layout[key] || {}), bgcolor: CLEAR, aspectmode: "manual", aspectratio: { ...ax.aspectratio },
        xaxis: axis("xaxis"), yaxis: axis("yaxis"), zaxis: axis("zaxis"),
      };
    }
  }
  return out;
}

// The base follows what the learner does to the top layer on the base's axes: a 3-D view
// turned, axes zoomed or panned (coalesced to one relayout per animation frame).
const FOLLOW = /^(scene\d*)\.(camera|aspectratio)|^([xy]axis\d*)\.(range|autorange)/;
function followTop(div) {
  if (div._descentFollow || !div.on) return;
  div._descentFollow = true;
  let pending = null;
  const forward = (ev) => {
    const base = div._descentBase;
    if (!base?._descentIndex || !ev) return;
    const update = {};
    for (const [k, v] of Object.entries(ev)) {
      const m = FOLLOW.exec(k);
      if (m && div._descentOwned?.has(m[1] || m[3])) update[k] = v;
    }
    if (!Object.keys(update).length) return;
    const first = !pending;
    pending = { ...(pending || {}), ...update };
    if (!first) return;
    requestAnimationFrame(() => {
      const u = pending;
      pending = null;
      Promise.resolve(window.Plotly.relayout(base, u)).then(() => {
        if (!Object.keys(u).some((k) => k.endsWith("autorange"))) return;
        // Autoscale: the base's ranges (which see the grid traces) are the ones both show.
        const ranges = {};
        for (const key of div._descentOwned) {
          if (/^[xy]axis\d*$/.test(key) && base._fullLayout[key]) ranges[`${key}.range`] = base._fullLayout[key].range.slice();
        }
        return window.Plotly.relayout(div, ranges);
      }).catch(() => {});
    });
  };
  div.on("plotly_relayouting", forward);
  div.on("plotly_relayout", forward);
}

// Called on window resize (after plotly's own resize): a layout made for another width is redone.
export function refit(div) {
  if (!div.data || !div._descentLayout) return;
  const wanted = fitToWidth(div._descentLayout, div.clientWidth);
  const index = div._descentBase?._descentIndex;
  if (index) {
    // The base's automatic margins may have changed with the width: the layers are redrawn.
    drawLayers(div, allTraces(div), wanted, [...index.keys()]);
    return;
  }
  if (wanted.__stacked === div.layout.__stacked) return;
  const layout = animationControls(div, { layout: div._descentLayout, frames: div._transitionData?._frames || [] }, wanted);
  window.Plotly.react(div, { data: div.data, layout, frames: div._transitionData?._frames || [], config: CONFIG });
}

function afterDraw(div) {
  if (!performance.getEntriesByName("descent-first-plot").length) performance.mark("descent-first-plot");
  setupDrag(div);
  scrubOnHover(div);
  traceToggles(div);
  // plotly's toolbar is for the mouse: keyboard users get the table and the controls instead.
  for (const b of div.querySelectorAll(".modebar-btn, .modebar a")) b.tabIndex = -1;
  const three = (div.data || []).some((t) => t.type === "surface" || t.type === "scatter3d");
  if (three && !div._descentKeys) {
    div._descentKeys = true;
    div.tabIndex = 0;
    div.setAttribute("aria-keyshortcuts", "ArrowLeft ArrowRight ArrowUp ArrowDown + -");
    div.setAttribute("aria-label", `${div.getAttribute("aria-label")}; arrow keys turn it, + and - zoom`);
    div.addEventListener("keydown", (ev) => turn(div, ev));
  }
  if (!div._descentAfterplot && div.on) {
    div._descentAfterplot = true;
    div.on("plotly_afterplot", () => {
      for (const b of div.querySelectorAll(".modebar-btn, .modebar a")) b.tabIndex = -1;
    });
    div.on("plotly_animatingframe", (ev) => {
      const bar = div.parentElement?.querySelector(`[data-anim="${div.dataset.plotId}"]`);
      const i = bar ? bar.anim.names.indexOf(String(ev.name)) : -1;
      if (i >= 0) { bar.range.value = String(i); showFrame(div, bar, i); }
    });
  }
}

// A trace whose `meta.toggle` is a sentence starts hidden and gets a checkbox under the plot
// that shows it (the squares on the gaps); the choice outlasts new figures.
function traceToggles(div) {
  const wanted = [];
  (div.data || []).forEach((t, i) => { if (typeof t.meta?.toggle === "string") wanted.push([i, t.meta.toggle]); });
  if (!wanted.length) return;
  const id = div.dataset.plotId;
  const anchor = document.querySelector(`[data-readouts="${id}"]`);
  for (const [i, words] of wanted) {
    let box = document.querySelector(`[data-toggle="${id}-${i}"]`);
    if (!box) {
      box = document.createElement("label");
      box.className = "trace-toggle";
      box.dataset.toggle = `${id}-${i}`;
      const check = Object.assign(document.createElement("input"), { type: "checkbox" });
      box.append(check, ` ${words}`);
      (anchor || div).before(box);
      check.addEventListener("change", () => {
        window.Plotly.restyle(div, { visible: check.checked }, [i]);
        scheduleDescription(div);
      });
    }
    const on = box.querySelector("input").checked;
    if ((div.data[i].visible === true) !== on) window.Plotly.restyle(div, { visible: on }, [i]);
  }
}

// Arrow keys turn every 3-D scene of the plot around its vertical axis or tilt it; + and - zoom.
function turn(div, ev) {
  const step = { ArrowLeft: [-1, 0, 1], ArrowRight: [1, 0, 1], ArrowUp: [0, 1, 1], ArrowDown: [0, -1, 1],
                 "+": [0, 0, 0.85], "=": [0, 0, 0.85], "-": [0, 0, 1.18] }[ev.key];
  if (!step) return;
  ev.preventDefault();
  const update = {};
  for (const key of Object.keys(div._fullLayout || {}).filter((k) => /^scene\d*$/.test(k))) {
    const eye = div._fullLayout[key].camera?.eye || CAMERA;
    const r = Math.hypot(eye.x, eye.y) * step[2];
    const angle = Math.atan2(eye.y, eye.x) + step[0] * (Math.PI / 12);
    const z = Math.max(-2.5, Math.min(2.5, eye.z * step[2] + step[1] * 0.25));
    update[`${key}.camera.eye`] = { x: r * Math.cos(angle), y: r * Math.sin(angle), z };
  }
  if (Object.keys(update).length) window.Plotly.relayout(div, update);
}

// ------------------------------------------------------------------ animations (the race)

// An animated figure's plotly buttons and slider are drawn inside the SVG, out of keyboard
// reach: they are taken out of the layout and replaced by a Play/Pause button and a scrubber.
function animationControls(div, fig, layout) {
  const frames = fig.frames || [];
  const menus = layout.updatemenus, sliders = layout.sliders;
  const bar = div.parentElement?.querySelector(`[data-anim="${div.dataset.plotId}"]`);
  if (!frames.length || !(menus || sliders)) { bar?.remove(); return layout; }
  const out = { ...layout };
  delete out.updatemenus;
  delete out.sliders;
  // The room plotly kept under the axes for its own slider is not needed any more.
  out.margin = { ...(layout.margin || {}), b: Math.min(layout.margin?.b ?? 80, 55) };
  const play = menus?.[0]?.buttons?.find((b) => b.method === "animate" && b.args?.[0] === null)?.args?.[1]
    || { frame: { duration: 60, redraw: false }, transition: { duration: 0 }, fromcurrent: true, mode: "immediate" };
  const prefix = sliders?.[0]?.currentvalue?.prefix || "step ";
  const names = frames.map((f) => String(f.name));
  const controls = bar || makeBar(div);
  controls.anim = { names, play, prefix };
  controls.range.max = String(names.length - 1);
  controls.range.value = "0";
  showFrame(div, controls, 0);
  controls.setPlaying(false);
  return out;
}

function makeBar(div) {
  const id = div.dataset.plotId;
  const bar = document.createElement("div");
  bar.className = "anim-controls";
  bar.dataset.anim = id;
  const button = document.createElement("button");
  button.type = "button";
  button.dataset.animPlay = id;
  const label = document.createElement("label");
  label.textContent = "Step";
  label.htmlFor = `anim-${id}`;
  const range = Object.assign(document.createElement("input"), { type: "range", id: `anim-${id}`, min: "0", step: "1" });
  range.dataset.animStep = id;
  const out = document.createElement("output");
  out.htmlFor = `anim-${id}`;
  bar.append(button, label, range, out);
  div.after(bar);
  Object.assign(bar, { range, out, playing: false });
  bar.setPlaying = (on) => {
    bar.playing = on;
    button.textContent = on ? "Pause" : "Play";
    button.setAttribute("aria-label", on ? "Pause the race" : "Play the race");
    div.dataset.playing = String(on);
  };
  button.addEventListener("click", () => {
    if (bar.playing) {
      stop(div);
      bar.setPlaying(false);
      return;
    }
    if (Number(range.value) >= bar.anim.names.length - 1) jump(div, bar, 0);
    bar.setPlaying(true);
    const opts = reduceMotion() ? { ...bar.anim.play, transition: { duration: 0 } } : bar.anim.play;
    // An animation stopped by Pause or the scrubber rejects its promise: that is no error.
    Promise.resolve(window.Plotly.animate(div, bar.anim.names.slice(Number(range.value)), opts))
      .catch(() => {}).finally(() => bar.setPlaying(false));
  });
  range.addEventListener("input", () => {
    if (bar.playing) {
      stop(div);
      bar.setPlaying(false);
    }
    jump(div, bar, Number(range.value));
  });
  return bar;
}

function stop(div) {
  Promise.resolve(window.Plotly.animate(div, [null], { frame: { duration: 0, redraw: false }, mode: "immediate" }))
    .catch(() => {});
}

function jump(div, bar, i) {
  showFrame(div, bar, i);
  const still = { frame: { duration: 0, redraw: false }, transition: { duration: 0 }, mode: "immediate" };
  Promise.resolve(window.Plotly.animate(div, [bar.anim.names[i]], still)).catch(() => {});
}

function showFrame(div, bar, i) {
  const name = bar.anim.names[i] ?? "";
  bar.out.textContent = `${bar.anim.prefix}${name}`;
  bar.range.setAttribute("aria-valuetext", `${bar.anim.prefix}${name}`);
  div.dataset.frame = name;
  scheduleDescription(div);
}

// Patches are coalesced per animation frame and applied in one plotly call per layer: every
// restyle is kept per trace and attribute (the newest wins), points to append are gathered
// after it, so a page that renders slower than frames arrive shows the newest state and never
// falls behind.
const queued = new Map();

export function queuePatch(div, patch) {
  noteFrame(div, patch);
  let q = queued.get(div);
  if (!q) {
    q = { figure: null, set: new Map(), ext: new Map() };
    queued.set(div, q);
    requestAnimationFrame(() => flush(div));
  }
  if (patch.figure) {
    q.figure = patch.figure;
    q.set.clear();
    q.ext.clear();
    return;
  }
  collect(q, patch);
}

function collect(q, patch) {
  for (const step of [patch, ...(patch.extra || [])]) {
    if (!step?.data || !step.traces) continue;
    for (const [attr, values] of Object.entries(step.data)) {
      step.traces.forEach((t, i) => {
        const v = Array.isArray(values) ? values[i % values.length] : values;
        if (v === undefined) return;
        if (!q.set.has(t)) q.set.set(t, new Map());
        q.set.get(t).set(attr, v);
        q.ext.get(t)?.delete(attr);  // a restyle replaces what was to be appended before it
      });
    }
  }
  if (patch.extend) {
    for (const [attr, cols] of Object.entries(patch.extend.data)) {
      patch.extend.traces.forEach((t, i) => {
        if (!q.ext.has(t)) q.ext.set(t, new Map());
        const list = q.ext.get(t);
        if (!list.has(attr)) list.set(attr, []);
        list.get(attr).push(cols[i]);
      });
    }
  }
}

function flush(div) {
  const q = queued.get(div);
  queued.delete(div);
  if (!q || !div.data) return;
  if (q.figure) {
    const drawn = showFigure(div, q.figure, { fromPatch: true });
    if (!q.set.size && !q.ext.size) return drawn;
    return drawn.then(() => applyQueued(div, q));
  }
  return applyQueued(div, q);
}

const asArray = (v) => (v == null ? [] : Array.from(v));

// One restyle of the top layer (and one of the base when a grid trace changed).
function applyQueued(div, q) {
  const per = new Map();
  for (const [t, attrs] of q.set) per.set(t, new Map([...attrs].map(([a, v]) => [a, decodeArrays(v)])));
  for (const [t, attrs] of q.ext) {
    for (const [attr, chunks] of attrs) {
      const added = chunks.flatMap((c) => asArray(decodeArrays(c)));
      if (!added.length) continue;
      if (!per.has(t)) per.set(t, new Map());
      const now = per.get(t).has(attr) ? per.get(t).get(attr) : div.data[t]?.[attr];
      per.get(t).set(attr, asArray(now).concat(added));
    }
  }
  const traces = [...per.keys()].filter((t) => t < div.data.length);
  if (!traces.length) return Promise.resolve();
  if (movesOnly(div, per, traces)) return moveTraces(div, per, traces);
  const done = [window.Plotly.restyle(div, restyleOf(per, traces), traces)];
  const base = div._descentBase;
  const index = base?._descentIndex;
  const under = index ? traces.filter((t) => index.has(t)) : [];
  if (under.length) done.push(window.Plotly.restyle(base, restyleOf(per, under), under.map((t) => index.get(t))));
  return Promise.all(done);
}

// The fast path: new x and y for 2-D scatter traces only (a fitted line, a path, a loss curve,
// a marker) are drawn by plotly's transition machinery without a transition, which redraws
// those traces alone, not the axes nor the other traces: a quarter of a restyle's work. An axis
// that autoranges is rescaled at most four times a second, and once more after the last move.
const MOVES = new Set(["x", "y"]);
const NOW = { frame: { duration: 0, redraw: false }, transition: { duration: 0 }, mode: "immediate" };
function movesOnly(div, per, traces) {
  const full = div._fullData;
  return Boolean(full) && traces.every((t) => full[t]?.type === "scatter" && full[t].visible === true
    && [...per.get(t).keys()].every((a) => MOVES.has(a)));
}

function moveTraces(div, per, traces) {
  const data = traces.map((t) => Object.fromEntries(per.get(t)));
  const done = Promise.resolve(window.Plotly.animate(div, { data, traces }, NOW)).catch(() => {});
  const auto = new Set();
  for (const t of traces) {
    const trace = div._fullData[t];
    for (const letter of ["x", "y"]) {
      const key = axisName(trace[`${letter}axis`], letter);
      const ax = div._fullLayout[key];
      if (ax?.autorange && outOfRange(ax, per.get(t).get(letter) ?? div.data[t][letter])) auto.add(key);
    }
  }
  if (auto.size) rescale(div, auto);
  return done;
}

function outOfRange(ax, values) {
  const log = ax.type === "log";
  let lo = Infinity, hi = -Infinity, n = 0;
  for (const v of values || []) {
    const num = Number(v);
    if (!Number.isFinite(num) || (log && num <= 0)) continue;
    const l = log ? Math.log10(num) : num;
    if (l < lo) lo = l;
    if (l > hi) hi = l;
    n += 1;
  }
  if (!n) return false;
  const [r0, r1] = [Math.min(...ax.range), Math.max(...ax.range)];
  // Outside the range, or (a run started again) using less than half of it.
  return lo < r0 || hi > r1 || (n > 2 && hi - lo < 0.5 * (r1 - r0));
}

function rescale(div, keys) {
  const s = (div._descentRescale ||= { keys: new Set(), timer: null, last: 0 });
  for (const k of keys) s.keys.add(k);
  if (s.timer) return;
  s.timer = setTimeout(() => {
    s.timer = null;
    s.last = performance.now();
    const update = {};
    for (const k of s.keys) update[`${k}.autorange`] = true;
    s.keys.clear();
    if (div.data) window.Plotly.relayout(div, update);
  }, Math.max(40, 250 - (performance.now() - s.last)));
}

function restyleOf(per, traces) {
  const attrs = new Set();
  for (const t of traces) for (const a of per.get(t).keys()) attrs.add(a);
  const update = {};
  for (const a of attrs) update[a] = traces.map((t) => (per.get(t).has(a) ? per.get(t).get(a) : undefined));
  return update;
}

// A patch applied at once (tests, replays): the same single batched update.
export function applyPatch(div, patch) {
  if (!div.data) return Promise.resolve();
  const q = { figure: null, set: new Map(), ext: new Map() };
  collect(q, patch);
  return applyQueued(div, q);
}
