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
// The plot that moves draws its 3-D scenes at the screen's own pixel density: plotly's default
// (2) draws four times the pixels on a 1x screen, and that plot is redrawn on every move. The
// base, drawn once per figure, keeps plotly's default.
const topConfig = () => ({ ...CONFIG, plotGlPixelRatio: Math.min(2, Math.max(1, window.devicePixelRatio || 1)) });
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
//
// The base also draws every 3-D scene's axes (box, grid, ticks, titles: most of a scene's
// drawing): the top draws its scenes with invisible axes at the base's ranges. A grid trace that
// moves with the sliders (`meta.moves`, the tilting plane) stays in the top layer; when its scene
// has no still grid trace, the base draws the axes around an invisible stand-in of the same
// extent, provided the layout fixes the scene's z range (the moving trace stays inside it).
const HEAVY = new Set(["surface", "heatmap", "contour", "mesh3d", "image"]);
const SCENE_TYPES = new Set(["surface", "mesh3d", "scatter3d"]);
const CLEAR = "rgba(0,0,0,0)";
const BASE_CONFIG = { displayModeBar: false, responsive: true, displaylogo: false };

const sceneOf = (t) => (SCENE_TYPES.has(t.type) ? t.scene || "scene" : null);
const still = (t) => HEAVY.has(t.type) && t.meta?.moves !== true;

// Which traces the base draws: the still grid traces (by index), and stand-ins for scenes that
// have none; null when one plot draws the figure (an animation, nothing light, nothing heavy).
function layersOf(fig) {
  if ((fig.frames || []).length) return null;
  const data = fig.data || [];
  const heavy = [];
  data.forEach((t, i) => { if (still(t)) heavy.push(i); });
  if (heavy.length === data.length) return null;
  const withGrid = new Set(heavy.map((i) => sceneOf(data[i])).filter(Boolean));
  const ghosts = [];
  for (const id of new Set(data.map(sceneOf).filter(Boolean))) {
    if (withGrid.has(id) || !Array.isArray(fig.layout?.[id]?.zaxis?.range)) continue;
    const made = standIn(id, data.filter((t) => sceneOf(t) === id));
    if (made) ghosts.push(made);
  }
  return heavy.length || ghosts.length ? { heavy, ghosts } : null;
}

// Two invisible points at opposite corners of the scene's traces: the base's scene takes the
// same ranges and aspect from them as from the traces themselves.
function standIn(scene, traces) {
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  const take = (d, values) => {
    for (const v of values) {
      if (Array.isArray(v)) take(d, v);
      else if (v !== null && Number.isFinite(Number(v))) { lo[d] = Math.min(lo[d], Number(v)); hi[d] = Math.max(hi[d], Number(v)); }
    }
  };
  for (const t of traces) {
    const rows = t.type === "surface" && Array.isArray(t.z) ? t.z : null;
    take(0, t.x ?? (rows ? [0, (rows[0]?.length || 1) - 1] : []));
    take(1, t.y ?? (rows ? [0, rows.length - 1] : []));
    take(2, t.z || []);
  }
  if (![...lo, ...hi].every(Number.isFinite)) return null;
  const have = window.Plotly.descentTraces;
  if (have && !have.includes("scatter3d")) {
    return { ...traces[0], opacity: 0, hoverinfo: "skip", showlegend: false, meta: undefined };
  }
  return {
    type: "scatter3d", scene, mode: "markers", x: [lo[0], hi[0]], y: [lo[1], hi[1]], z: [lo[2], hi[2]],
    marker: { size: 1, opacity: 0 }, hoverinfo: "skip", showlegend: false,
  };
}

// `fromPatch`: a frame of a run (or a scrubbed one), not a new figure from the server.
export function showFigure(div, figure, { fromPatch = false } = {}) {
  if (!fromPatch) noteStart(div, figure);
  if (div._descentSettle) {  // a new figure: nothing moved in place is left to hand back to plotly
    clearTimeout(div._descentSettle._descentRest);
    div._descentSettle.traces.clear();
  }
  const fig = decodeArrays(figure);
  checkTraces(fig);
  const original = fig.layout || {};
  div._descentLayout = original;
  const layers = layersOf(fig);
  const layout = animationControls(div, fig, fitToWidth(original, div.clientWidth || window.innerWidth));
  if (layers) return drawLayers(div, fig.data, layout, layers);
  dropBase(div);
  const drawn = window.Plotly.react(div, { data: fig.data, layout, frames: fig.frames || [], config: topConfig() });
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
function heavyAxes(data, layers) {
  const owned = new Set(layers.ghosts.map((g) => g.scene));
  for (const i of layers.heavy) {
    const t = data[i];
    if (sceneOf(t)) owned.add(sceneOf(t));
    else { owned.add(axisName(t.xaxis, "x")); owned.add(axisName(t.yaxis, "y")); }
  }
  return owned;
}

function drawLayers(div, data, layout, layers) {
  const base = ensureBase(div);
  const { heavy, ghosts } = layers;
  base._descentIndex = new Map(heavy.map((i, k) => [i, k]));
  const owned = heavyAxes(data, layers);
  div._descentOwned = owned;
  base.style.height = `${layout.height || div.clientHeight}px`;
  const under = { ...layout, showlegend: false };
  for (const key of Object.keys(layout)) {
    if (/^[xy]axis\d*$/.test(key) && !owned.has(key)) under[key] = { ...layout[key], visible: false };
    else if (/^scene\d*$/.test(key) && !owned.has(key)) delete under[key];
  }
  const drawn = window.Plotly.react(base, { data: [...heavy.map((i) => data[i]), ...ghosts], layout: under, config: BASE_CONFIG });
  return Promise.resolve(drawn).then(() => {
    const top = data.map((t, i) => (base._descentIndex.has(i) ? { ...t, visible: false } : t));
    return window.Plotly.react(div, { data: top, layout: overlayLayout(layout, base, owned), config: topConfig() });
  }).then(() => {
    followTop(div);
    coarseSurfaces(div);
    afterDraw(div);
  });
}

// A surface in the top layer moves with the sliders. plotly refines every surface to at least
// 120 rows and columns (smoother shading for a still one); redrawn on every move, that is most
// of a 3-D update in software WebGL (a 31 x 31 plane: 60 ms a move against 15). The grid the
// server sends is drawn as it is (a plane or a smooth surface loses nothing); the index scale is
// reset too, as plotly maps a hovered vertex back to the data with it.
function coarseSurfaces(div) {
  const full = div._fullLayout;
  for (const id of full?._subplots?.gl3d || []) {
    const scene = full[id]?._scene;
    let changed = false;
    for (const trace of Object.values(scene?.traces || {})) {
      if (trace.refineData !== true || !trace.surface) continue;
      Object.assign(trace, { refineData: false, dataScaleX: 1, dataScaleY: 1 });
      changed = true;
    }
    if (changed && scene.plotArgs) scene.plot(...scene.plotArgs);
  }
}

// The top layer's layout: the base's plot area, and on the base's axes and scenes its ranges and
// 3-D aspect with nothing drawn but the traces (the base draws those axes, titles, backgrounds).
function overlayLayout(layout, base, owned) {
  const full = base._fullLayout;
  const size = full._size;
  // The top paints the plot area's background only when the base has no 2-D axes to paint.
  const flat = [...owned].some((k) => /^[xy]axis\d*$/.test(k));
  const out = {
    ...layout, paper_bgcolor: CLEAR, plot_bgcolor: flat ? CLEAR : layout.plot_bgcolor, title: { text: "" },
    annotations: [], shapes: [], images: [],
    margin: { l: size.l, r: size.r, t: size.t, b: size.b, pad: size.p || 0, autoexpand: false },
  };
  for (const key of owned) {
    const ax = full[key];
    if (/^[xy]axis\d*$/.test(key) && ax?.range) {
      out[key] = { ...(layout[key] || {}), type: ax.type, range: ax.range.slice(), autorange: false, visible: false, automargin: false };
    } else if (/^scene\d*$/.test(key) && ax?.xaxis) {
      // A hair wider than the base's box: a surface lying on its floor or ceiling (a sigmoid
      // at 0 and 1) is not clipped in specks by rounding; a shift of a hundredth of a pixel.
      const axis = (a) => {
        const [r0, r1] = ax[a].range, pad = (r1 - r0) * 1e-5;
        return { ...(layout[key]?.[a] || {}), type: ax[a].type, range: [r0 - pad, r1 + pad], autorange: false, visible: false };
      };
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
  if (div._descentBase?._descentIndex) {
    // The base's automatic margins may have changed with the width: the layers are redrawn.
    const data = allTraces(div);
    const layers = layersOf({ data, layout: div._descentLayout });
    if (layers) {
      drawLayers(div, data, wanted, layers);
      return;
    }
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
  watchSight(div);
  let q = queued.get(div);
  if (!q) {
    q = { figure: null, set: new Map(), ext: new Map(), frame: false, rest: 0 };
    queued.set(div, q);
  }
  if (patch.figure) {
    q.figure = patch.figure;
    q.set.clear();
    q.ext.clear();
  } else {
    collect(q, patch);
  }
  schedule(div, q);
}

// A plot out of sight keeps its newest patches, coalesced as above, until it comes into view or
// its patches have paused for UNSEEN_REST_MS: while a key is held on a long page, the plots the
// learner is not looking at cost the page nothing, and none shows an old value for longer than
// it takes to scroll to it or to let go of the key. Whole figures are never held back. "In
// sight" has a margin of half a screen, so a plot about to scroll in is already drawn.
// A held key repeats every 30-40 ms: a pause of 100 ms means it was let go.
const UNSEEN_REST_MS = 100;
const inSight = new WeakMap();
let sight = null;
function watchSight(div) {
  if (sight === null) {
    sight = "IntersectionObserver" in window
      ? new IntersectionObserver((entries) => {
        for (const e of entries) {
          inSight.set(e.target, e.isIntersecting);
          if (e.isIntersecting) drawSoon(e.target);
        }
      }, { rootMargin: "50% 0px" })
      : false;
  }
  if (sight && !inSight.has(div)) {
    inSight.set(div, true);  // until the observer's first word on it
    sight.observe(div);
  }
}

function schedule(div, q) {
  if (q.frame) return;
  if (inSight.get(div) === false && !q.figure) {
    clearTimeout(q.rest);
    q.rest = setTimeout(() => drawSoon(div), UNSEEN_REST_MS);
    return;
  }
  drawSoon(div);
}

function drawSoon(div) {
  const q = queued.get(div);
  if (!q || q.frame) return;
  clearTimeout(q.rest);
  q.frame = true;
  requestAnimationFrame(() => flush(div));
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

// The fast paths below when every changed trace can take one; else one restyle of the top layer
// (and one of the base when a grid trace changed).
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
  const unseen = traces.filter((t) => staysUnseen(div, per, t));
  const flat = traces.filter((t) => !unseen.includes(t) && movesOnly(div, per, t));
  const deep = traces.filter((t) => !unseen.includes(t) && !flat.includes(t) && glMovesOnly(div, per, t));
  if (unseen.length + flat.length + deep.length === traces.length) {
    for (const t of unseen) for (const [a, v] of per.get(t)) div.data[t][a] = v;
    const done = [];
    if (flat.length) done.push(moveTraces(div, per, flat));
    if (deep.length) moveScenes(div, per, deep);
    return Promise.all(done);
  }
  const done = [window.Plotly.restyle(div, restyleOf(per, traces), traces)];
  const base = div._descentBase;
  const index = base?._descentIndex;
  const under = index ? traces.filter((t) => index.has(t)) : [];
  if (under.length) done.push(window.Plotly.restyle(base, restyleOf(per, under), under.map((t) => index.get(t))));
  return Promise.all(done);
}

// The fast paths. New x and y for 2-D scatter traces only (a fitted line, a path, a loss curve,
// a marker) are moved in place (slide, below) or, when that cannot be, drawn by plotly's
// transition machinery without a transition, which redraws those traces alone, not the axes nor
// the other traces: a quarter of a restyle's work. An axis that autoranges is rescaled at most
// four times a second, and once more after the last move.
const MOVES = new Set(["x", "y"]);
const NOW = { frame: { duration: 0, redraw: false }, transition: { duration: 0 }, mode: "immediate" };
function movesOnly(div, per, t) {
  const full = div._fullData?.[t];
  // A trace emptied (the autograd arrow once the gradients agree) is hidden by a restyle.
  return full?.type === "scatter" && full.visible === true
    && [...per.get(t)].every(([a, v]) => MOVES.has(a) && !isEmpty(v));
}

// A trace that shows nothing before and after (hidden by the learner's choice, or empty and
// staying empty, as the autograd arrow while the learner's gradient agrees) only keeps the
// values, for when it shows again.
const isEmpty = (v) => Array.isArray(v) && v.length === 0;
function staysUnseen(div, per, t) {
  const full = div._fullData?.[t];
  if (!full || per.get(t).has("visible") || div._descentBase?._descentIndex?.has(t)) return false;
  return div.data[t].visible === false || (full.visible === false && [...per.get(t).values()].every(isEmpty));
}

// New coordinates of a 3-D trace (the marker on the landscape, the tilting plane) of the same
// size as before go straight to its scene: the scene alone is redrawn, with the traces it has,
// instead of a restyle that recomputes and redraws the whole figure (the 2-D panels beside it
// too). What a restyle would recompute besides does not change here: a marker's colours, a
// surface's colour range when it is fixed or comes from `surfacecolor`.
const DEEP = { scatter3d: new Set(["x", "y", "z"]), surface: new Set(["z"]) };
const sameShape = (a, b) => Array.isArray(a) && Array.isArray(b) && a.length === b.length
  && (!Array.isArray(a[0]) || a.every((row, i) => sameShape(row, b[i])));
function glMovesOnly(div, per, t) {
  const full = div._fullData?.[t];
  const scene = full && div._fullLayout?.[full.scene]?._scene;
  if (!scene?.plot || scene.glplot?.contextLost || full.visible !== true || !DEEP[full.type]) return false;
  if (full.type === "surface" && !(full.cauto === false || full.surfacecolor)) return false;
  for (const [a, v] of per.get(t)) {
    if (!DEEP[full.type].has(a) || !sameShape(v, full[a])) return false;
  }
  return true;
}

function moveScenes(div, per, traces) {
  const scenes = new Set();
  for (const t of traces) {
    const full = div._fullData[t];
    for (const [a, v] of per.get(t)) {
      div.data[t][a] = v;
      full[a] = v;
    }
    scenes.add(full.scene);
  }
  const fullLayout = div._fullLayout;
  for (const id of scenes) {
    const scene = fullLayout[id]._scene;
    const data = div._fullData.filter((d) => d.scene === id);
    const drawn = data.map((d) => (traces.includes(d.index) && planeCorners(d)) || d);
    if (redrawMoved(scene, drawn.filter((d) => traces.includes(d.index)))) fullAtRest(div, scene, id);
    else {
      scene.plot(drawn, fullLayout, div.layout);
      if (drawn.some((d, i) => d !== data[i])) fullAtRest(div, scene, id);
    }
  }
}

// Lighter still, while a slider moves a scene whose axes keep their ranges (the top layer's,
// fixed at the base's): the moved traces' WebGL objects are updated and the scene drawn once,
// without what plotly's scene.plot adds to every draw: a second pass of every trace into the
// hover-picking buffer and a synchronous readPixels of it (a stall of the whole pipeline in
// software WebGL), the tick marks and text of axes nobody sees, the container's style set again.
// The data scale of the last full plot is kept (positions and bounds use the same one, so the
// picture is the same). What hover reads is stale while the slider moves: the full plot is made
// once the slider has rested SETTLE_MS (fullAtRest). Returns false where that cannot be done.
function redrawMoved(scene, moved) {
  const glplot = scene?.glplot;
  const layout = scene?.fullSceneLayout;
  if (!glplot?.redraw || !Array.isArray(glplot.objects) || !scene.plotArgs || !scene.traces || !layout) return false;
  if (["xaxis", "yaxis", "zaxis"].some((a) => layout[a]?.autorange !== false)) return false;
  const objects = moved.map((d) => scene.traces[d.uid]);
  if (!moved.length || objects.some((o, i) => !o?.update || o.data?.type !== moved[i].type || moved[i].visible !== true || moved[i]._length === 0)) return false;
  moved.forEach((d, i) => objects[i].update(d));
  // Nothing is dirty for the scene's own render loop: the one draw below leaves the picking
  // buffer as it was (redraw() marks the scene dirty, not the picking).
  for (const obj of glplot.objects) obj.dirty = false;
  const onrender = glplot.onrender;
  glplot.onrender = null;
  try {
    glplot.redraw();
  } finally {
    glplot.onrender = onrender;
  }
  return true;
}

// A surface that is a plane (z = a + b x + c y at every point, to the float32 rounding it
// travelled in) is drawn from its four corners while it moves: the same picture, from 4
// vertices instead of 961, a third less of the plane's redraw in software WebGL. Its whole grid
// is drawn again once it has rested SETTLE_MS (fullAtRest), for hover to read values at every grid point.
function planeCorners(full) {
  const { x, y, z } = full;
  if (full.type !== "surface" || full.surfacecolor || !Array.isArray(x) || !Array.isArray(y)) return null;
  const m = z?.length, n = z?.[0]?.length;
  if (!(m > 2 || n > 2) || x.length !== n || y.length !== m || Array.isArray(x[0]) || Array.isArray(y[0])) return null;
  const z0 = z[0][0];
  const bx = (z[0][n - 1] - z0) / (x[n - 1] - x[0]), cy = (z[m - 1][0] - z0) / (y[m - 1] - y[0]);
  let big = 0;
  for (const row of z) for (const v of row) big = Math.max(big, Math.abs(v));
  const tol = 1e-5 * (1 + big);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const v = z[i][j];
      if (v === null || !(Math.abs(v - (z0 + bx * (x[j] - x[0]) + cy * (y[i] - y[0]))) <= tol)) return null;
    }
  }
  const corners = [[z0, z[0][n - 1]], [z[m - 1][0], z[m - 1][n - 1]]];
  return { ...full, x: [x[0], x[n - 1]], y: [y[0], y[m - 1]], z: corners, _xlength: 2, _ylength: 2 };
}

// The whole scene as plotly draws it (the plane's whole grid, the hover-picking buffer, the
// data scale), once the slider has rested SETTLE_MS.
function fullAtRest(div, scene, id) {
  whenRested(div, scene, () => {
    if (div._fullLayout?.[id]?._scene !== scene || scene.glplot.contextLost) return;
    scene.plot(div._fullData.filter((d) => d.scene === id), div._fullLayout, div.layout);
  });
}

// `then` once no patch of `div` has waited for SETTLE_MS (the slider has rested); a later call
// for the same `owner` replaces an earlier one still waiting.
function whenRested(div, owner, then) {
  clearTimeout(owner._descentRest);
  const check = () => {
    if (queued.has(div)) {  // moving again: wait for rest
      owner._descentRest = setTimeout(check, SETTLE_MS);
      return;
    }
    owner._descentRest = 0;
    then();
  };
  owner._descentRest = setTimeout(check, SETTLE_MS);
}

function moveTraces(div, per, traces) {
  const slid = traces.filter((t) => slide(div, t, per.get(t)));
  const rest = traces.filter((t) => !slid.includes(t));
  let done = Promise.resolve();
  if (rest.length) {
    const data = rest.map((t) => Object.fromEntries(per.get(t)));
    done = Promise.resolve(window.Plotly.animate(div, { data, traces: rest }, NOW)).catch(() => {});
  }
  if (slid.length) settleLater(div, slid);
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

// Faster still, while a slider moves: a simple scatter trace (markers, straight lines between
// them, the arrowheads that point along the line; no fill, text nor error bars) that keeps its
// number of points is moved in the SVG plotly drew for it, with the axes' own transforms: its
// points are translated (and arrowheads turned), its line redrawn, and plotly's own record of
// the points (what hover reads) updated. plotly's transition (which recomputes the defaults and
// calcdata of the whole figure, most of a move's script) draws it once more when the slider
// has rested for SETTLE_MS, so what plotly holds and shows is its own again.
const SETTLE_MS = 150;
const FAR_PX = 1e5;
function slide(div, t, attrs) {
  const full = div._fullData?.[t];
  if (!full || full.type !== "scatter" || full.visible !== true) return false;
  if ((full.fill && full.fill !== "none") || String(full.mode).includes("text")) return false;
  if ((full.line?.shape || "linear") !== "linear" || full.error_x?.visible || full.error_y?.visible) return false;
  const xa = div._fullLayout[axisName(full.xaxis, "x")], ya = div._fullLayout[axisName(full.yaxis, "y")];
  const xs = attrs.get("x") ?? full.x, ys = attrs.get("y") ?? full.y;
  const n = full._length;
  const numeric = (ax) => ax?.c2p && (ax.type === "linear" || ax.type === "log");
  if (!numeric(xa) || !numeric(ya) || !n || xs?.length !== n || ys?.length !== n) return false;
  const group = [...div.querySelectorAll(".scatterlayer > .trace")].find((g) => g.__data__?.[0]?.trace === full);
  const cd = group?.__data__;
  if (!cd || cd.length !== n) return false;
  const px = [], py = [];
  for (let i = 0; i < n; i++) {
    const x = xa.c2p(Number(xs[i])), y = ya.c2p(Number(ys[i]));
    if (!(Math.abs(x) < FAR_PX && Math.abs(y) < FAR_PX)) return false;
    px.push(x);
    py.push(y);
  }
  const lines = group.querySelectorAll("path.js-line");
  const points = group.querySelectorAll("path.point");
  const mode = String(full.mode);
  if (lines.length !== (mode.includes("lines") && n > 1 ? 1 : 0)) return false;
  if (points.length !== (mode.includes("markers") ? n : 0)) return false;
  if (![...points].every((el, i) => el.__data__ === cd[i])) return false;
  const along = full.marker?.angleref === "previous";
  const heading = (i, xsPx, ysPx) => (i ? (Math.atan2(ysPx[i] - ysPx[i - 1], xsPx[i] - xsPx[i - 1]) * 180) / Math.PI : 0);
  if (along) {
    // The angle each arrowhead was drawn at, from the points plotly last drew it for.
    const ox = cd.map((d) => xa.c2p(d.x)), oy = cd.map((d) => ya.c2p(d.y));
    points.forEach((el, i) => {
      const d = el.getAttribute("d");
      if (el._descentDrawn?.d !== d) el._descentDrawn = { d, angle: heading(i, ox, oy) };
    });
  }
  const r = (v) => Math.round(v * 100) / 100;
  if (lines.length) lines[0].setAttribute("d", `M${px.map((x, i) => `${r(x)},${r(py[i])}`).join("L")}`);
  points.forEach((el, i) => {
    const turn = along && i ? heading(i, px, py) - el._descentDrawn.angle : 0;
    el.setAttribute("transform", `translate(${r(px[i])},${r(py[i])})${turn ? ` rotate(${r(turn)})` : ""}`);
  });
  cd.forEach((d, i) => { d.x = Number(xs[i]); d.y = Number(ys[i]); });
  for (const [a, v] of attrs) {
    div.data[t][a] = v;
    full[a] = v;
  }
  return true;
}

function settleLater(div, traces) {
  const s = (div._descentSettle ||= { traces: new Set() });
  for (const t of traces) s.traces.add(t);
  whenRested(div, s, () => {
    const moved = [...s.traces].filter((t) => t < (div.data?.length ?? 0));
    s.traces.clear();
    if (!moved.length) return;
    const data = moved.map((t) => ({ x: div.data[t].x, y: div.data[t].y }));
    Promise.resolve(window.Plotly.animate(div, { data, traces: moved }, NOW)).catch(() => {});
  });
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
