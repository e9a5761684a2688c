// Plotly figures: a whole figure when the code behind a plot changed, a restyle per slider move.
// Every figure is drawn with keyboard users in mind: plotly's toolbar takes no tab stops, an
// animation's play, pause and scrubber are real HTML controls, and 3-D plots turn with keys.
import { cleanNumbers } from "./format.js";
import { fitToWidth } from "./layout.js";
import { scheduleDescription } from "./describe.js";

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

export function showFigure(div, figure) {
  const fig = decodeArrays(figure);
  checkTraces(fig);
  const original = fig.layout || {};
  div._descentLayout = original;
  const layout = animationControls(div, fig, fitToWidth(original, div.clientWidth || window.innerWidth));
  const drawn = window.Plotly.react(div, { data: fig.data, layout, frames: fig.frames || [], config: CONFIG });
  return Promise.resolve(drawn).then(() => afterDraw(div));
}

// Called on window resize (after plotly's own resize): a layout made for another width is redone.
export function refit(div) {
  if (!div.data || !div._descentLayout) return;
  const wanted = fitToWidth(div._descentLayout, div.clientWidth);
  if (wanted.__stacked === div.layout.__stacked) return;
  const layout = animationControls(div, { layout: div._descentLayout, frames: div._transitionData?._frames || [] }, wanted);
  window.Plotly.react(div, { data: div.data, layout, frames: div._transitionData?._frames || [], config: CONFIG });
}

function afterDraw(div) {
  if (!performance.getEntriesByName("descent-first-plot").length) performance.mark("descent-first-plot");
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

// Patches are coalesced per animation frame: the newest restyle wins, points to append are
// gathered, so a page that renders slower than frames arrive shows the newest state and never
// falls behind.
const queued = new Map();

export function queuePatch(div, patch) {
  let q = queued.get(div);
  if (!q) {
    q = { patch: null, extend: null };
    queued.set(div, q);
    requestAnimationFrame(() => flush(div));
  }
  q.patch = patch;
  if (patch.extend) {
    const data = decodeArrays(patch.extend.data);
    if (!q.extend) q.extend = { traces: patch.extend.traces, data };
    else for (const [k, cols] of Object.entries(data)) cols.forEach((pts, i) => q.extend.data[k][i].push(...pts));
  }
}

function flush(div) {
  const q = queued.get(div);
  queued.delete(div);
  if (!q || !div.data) return;
  if (q.patch.figure) {
    showFigure(div, q.patch.figure);
    return;
  }
  const { extend, ...rest } = q.patch;
  applyPatch(div, rest);
  if (q.extend) window.Plotly.extendTraces(div, q.extend.data, q.extend.traces);
}

export function applyPatch(div, patch) {
  if (!div.data) return Promise.resolve();
  const steps = [patch, ...(patch.extra || [])];
  const done = steps.map((p) => window.Plotly.restyle(div, decodeArrays(p.data), p.traces));
  if (patch.extend) {
    done.push(window.Plotly.extendTraces(div, decodeArrays(patch.extend.data), patch.extend.traces));
  }
  return Promise.all(done);
}
