// Direct manipulation: the learner grabs the thing itself.
//
// A trace whose `meta.drag` is {x, y} (each a slider's name, or an index into the plot's own
// sliders, data-sliders; `point`: only that point of the trace, such as a walk's start) is a
// handle: dragging it moves those sliders, through the same path as
// the sliders' own moves (last write wins, `coarse` while the pointer is down, once in full at
// rest), and the sliders and their readouts follow. A trace whose `meta.drag` is "data" holds
// the lesson's data points: a point follows the pointer at once, and on release the whole table
// goes to the kernel as the learner's own data, through the data box of the page (as if pasted),
// which says whose data is in use and can go back to the lesson's. A trace whose `meta.drag` is
// {train: true, point: 0} is a training path: dragging its first point moves where training
// starts (a "descent-place" event on the plot, which the page sends as a `place`, newest wins).
import { restSliders, setSliders } from "./sliders.js";

const GRAB_PX = 16;
const TOUCH_PX = 28;  // a fingertip is wider than a pointer
const axisName = (id, letter) => `${letter}axis${String(id || letter).slice(1)}`;

export function setupDrag(div) {
  if (div._descentDrag) return;
  div._descentDrag = true;
  // Capture: the handle is taken before plotly's own zoom and pan see the press.
  div.addEventListener("pointerdown", (ev) => grab(div, ev), true);
  div.addEventListener("pointermove", (ev) => {
    if (!div._descentDragging) div.classList.toggle("can-grab", Boolean(handleAt(div, ev)));
  }, { passive: true });
  div.addEventListener("pointerleave", () => div.classList.remove("can-grab"));
}

function axesOf(div, trace) {
  const full = div._fullLayout;
  const xa = full?.[axisName(trace.xaxis, "x")], ya = full?.[axisName(trace.yaxis, "y")];
  return xa?.c2p && ya?.c2p ? { xa, ya } : null;
}

function local(div, ev) {
  const box = div.getBoundingClientRect();
  return { px: ev.clientX - box.left, py: ev.clientY - box.top };
}

// The draggable point nearest the pointer, within `radius` pixels.
export function handleAt(div, ev, radius = GRAB_PX) {
  const { px, py } = local(div, ev);
  let best = null;
  (div._fullData || []).forEach((trace) => {
    const drag = trace.meta?.drag;
    if (!drag || trace.visible !== true || trace.type !== "scatter") return;
    const axes = axesOf(div, trace);
    if (!axes) return;
    const xs = div.data[trace.index]?.x || [], ys = div.data[trace.index]?.y || [];
    const only = Number.isInteger(drag.point) ? drag.point : null;  // one point of the trace only
    for (let i = only ?? 0; i < (only === null ? xs.length : Math.min(xs.length, only + 1)); i++) {
      const x = axes.xa._offset + axes.xa.c2p(Number(xs[i])), y = axes.ya._offset + axes.ya.c2p(Number(ys[i]));
      const d = Math.hypot(x - px, y - py);
      if (Number.isFinite(d) && d <= radius && (!best || d < best.d)) best = { d, x, y, trace, i, ...axes, drag };
    }
  });
  return best;
}

function sliderName(div, key) {
  if (typeof key === "string") return key;
  const names = (div.dataset.sliders || "").split(/\s+/).filter(Boolean);
  return Number.isInteger(key) ? names[key] : undefined;
}

function grab(div, ev) {
  if (ev.button !== 0 || div._descentDragging) return;
  const h = handleAt(div, ev, ev.pointerType === "touch" ? TOUCH_PX : GRAB_PX);
  if (!h) return;
  ev.preventDefault();
  ev.stopPropagation();
  div._descentDragging = true;
  div.classList.add("grabbing");
  div.setPointerCapture?.(ev.pointerId);
  // The handle keeps where the finger or pointer took it: it does not jump under it.
  const at = local(div, ev);
  const off = { x: h.x - at.px, y: h.y - at.py };
  const toData = (e) => {
    const { px, py } = local(div, e);
    return { x: h.xa.p2c(px + off.x - h.xa._offset), y: h.ya.p2c(py + off.y - h.ya._offset) };
  };
  const placing = Boolean(h.drag.train);
  const names = h.drag === "data" || placing ? [] : ["x", "y"].map((k) => sliderName(div, h.drag[k]));
  let frame = null, last = null;
  const apply = (coarse) => {
    frame = null;
    if (!last) return;
    if (h.drag === "data") movePoint(div, h.trace.index, h.i, last);
    else if (placing) place(div, last);
    else {
      const values = {};
      if (names[0] !== undefined) values[names[0]] = last.x;
      if (names[1] !== undefined) values[names[1]] = last.y;
      setSliders(values, { coarse });
    }
  };
  const move = (e) => {
    last = toData(e);
    if (!frame) frame = requestAnimationFrame(() => apply(true));
  };
  const end = (e) => {
    div.removeEventListener("pointermove", move, true);
    div.removeEventListener("pointerup", end, true);
    div.removeEventListener("pointercancel", end, true);
    if (frame) cancelAnimationFrame(frame);
    if (e.type === "pointerup") last = toData(e);
    apply(true);
    div._descentDragging = false;
    div.classList.remove("grabbing");
    if (h.drag === "data") sendData(div, h.trace.index);
    else restSliders(names.filter(Boolean));
  };
  div.addEventListener("pointermove", move, true);
  div.addEventListener("pointerup", end, true);
  div.addEventListener("pointercancel", end, true);
}

// Where training starts, to the page (which knows the plot's id and the socket).
function place(div, at) {
  if (!Number.isFinite(at.x) || !Number.isFinite(at.y)) return;
  div.dispatchEvent(new CustomEvent("descent-place", { bubbles: true, detail: { at: [at.x, at.y] } }));
}

// ------------------------------------------------------------------ data points

function movePoint(div, trace, i, at) {
  const t = div.data[trace];
  const xs = Array.from(t.x, Number), ys = Array.from(t.y, Number);
  xs[i] = round(at.x);
  ys[i] = round(at.y);
  window.Plotly.restyle(div, { x: [xs], y: [ys] }, [trace]);
}

const round = (v) => Number(Number(v).toPrecision(4));

// The dragged table, as the learner would paste it, through the page's data box.
function sendData(div, trace) {
  const t = div.data[trace];
  const rows = Array.from(t.x, (x, k) => `${round(x)},${round(t.y[k])}`);
  const paste = document.getElementById("data-paste");
  const load = document.getElementById("data-load");
  if (!paste || !load) return;
  paste.value = `${rows.join("\n")}\n`;
  load.click();
}
