// Scrub a finished run: a training plot keeps, in the page, the frames it received (bounded in
// memory), and once training is paused the learner can go back through them: a range input under
// the plot (keyboard-usable) or the pointer over the loss curve shows that iteration's line, its
// point on the landscape and on the loss curve, and its readouts, in every view of the plot at
// once. Replay plays the run again from the start, at the chosen speed, without the kernel.
import { decodeArrays, showFigure } from "./plots.js";
import { fmt } from "./format.js";

const MAX_FRAMES = 2000;   // past this, every other older frame's drawing is dropped (its readouts stay)
const runs = new Map();    // div -> run

function runOf(div) {
  let run = runs.get(div);
  if (!run) {
    run = { frames: [], extended: [], marks: null, at: null, timer: null, bar: null };
    runs.set(div, run);
  }
  return run;
}

const trainBox = (div) => document.querySelector(`[data-train="${div.dataset.plotId}"]`);
const readoutsOf = (div) => window.descent?.readouts?.[div.dataset.plotId] || {};
const playing = (div) => trainBox(div)?.dataset.playing === "true";

// A whole figure from the server (code or data changed): the run starts again from it.
export function noteStart(div, figure) {
  if (!trainBox(div)) return;
  const run = runOf(div);
  stopReplay(div);
  run.frames = [];
  run.extended = [];
  run.marks = null;
  run.at = null;
  // The readouts arrive right after the figure.
  queueMicrotask(() => { run.frames.push({ figure, readouts: { ...readoutsOf(div) } }); update(div); });
}

// A frame: a patch (new line, points appended to the path and the loss curve) or a whole figure.
export function noteFrame(div, patch) {
  if (!trainBox(div)) return;
  const run = runOf(div);
  if (run.at !== null) leave(div);
  const { extend, ...set } = patch;
  if (!patch.figure && !extend) {  // Reset: the path starts again from its first point
    run.frames = [];
    run.extended = [];
  }
  if (extend) run.extended = extend.traces;
  const frame = patch.figure ? { figure: patch.figure } : { set };
  queueMicrotask(() => {
    frame.readouts = { ...readoutsOf(div) };
    run.frames.push(frame);
    if (run.frames.length > MAX_FRAMES) thin(run);
    update(div);
  });
}

function thin(run) {
  const half = Math.floor(run.frames.length / 2);
  for (let i = 1; i < half; i += 2) { run.frames[i].set = null; run.frames[i].figure = null; }
}

// ------------------------------------------------------------------ the controls

function update(div) {
  const run = runOf(div);
  const bar = run.bar || makeBar(div, run);
  const n = run.frames.length;
  bar.hidden = playing(div) || n < 2;
  bar.range.max = String(Math.max(0, n - 1));
  if (run.at === null) {
    bar.range.value = String(n - 1);
    label(div, n - 1);
  }
}

function makeBar(div, run) {
  const id = div.dataset.plotId;
  const bar = document.createElement("div");
  bar.className = "scrub";
  bar.dataset.scrub = id;
  bar.hidden = true;
  const label = Object.assign(document.createElement("label"), { htmlFor: `scrub-${id}`, textContent: "Go back through the run" });
  const range = Object.assign(document.createElement("input"), { type: "range", id: `scrub-${id}`, min: "0", step: "1", value: "0" });
  range.dataset.scrubRange = id;
  const out = document.createElement("output");
  out.htmlFor = `scrub-${id}`;
  const replay = Object.assign(document.createElement("button"), { type: "button", className: "small", textContent: "Replay" });
  replay.dataset.replay = id;
  const speedLabel = Object.assign(document.createElement("label"), { htmlFor: `replay-speed-${id}`, textContent: "speed" });
  const speed = Object.assign(document.createElement("select"), { id: `replay-speed-${id}` });
  for (const [fps, words] of [[5, "5 frames/s"], [15, "15 frames/s"], [30, "30 frames/s"], [60, "60 frames/s"], [240, "240 frames/s"]]) {
    speed.append(new Option(words, String(fps), fps === 30, fps === 30));
  }
  bar.append(label, range, out, replay, speedLabel, speed);
  Object.assign(bar, { range, out, replay, speed });
  const readouts = document.querySelector(`[data-readouts="${id}"]`);
  if (readouts) readouts.before(bar);
  else (div.closest(".plot-stack") || div).after(bar);
  run.bar = bar;

  range.addEventListener("input", () => { stopReplay(div); show(div, Number(range.value)); });
  replay.addEventListener("click", () => (run.timer ? stopReplay(div) : startReplay(div)));
  // Play and Pause: the controls hide while training plays and come back after it.
  const box = trainBox(div);
  if (box) new MutationObserver(() => update(div)).observe(box, { attributes: true, attributeFilter: ["data-playing"] });
  return bar;
}

// The pointer over the loss curve (or the path) scrubs too (called once the plot is drawn).
export function scrubOnHover(div) {
  if (div._descentScrubHover || !div.on || !trainBox(div)) return;
  div._descentScrubHover = true;
  div.on("plotly_hover", (ev) => {
    const run = runs.get(div);
    if (!run?.bar || playing(div) || run.frames.length < 2) return;
    const p = ev.points?.find((q) => run.extended.includes(q.curveNumber));
    if (p) { stopReplay(div); show(div, p.pointIndex); }
  });
}

function label(div, i) {
  const run = runOf(div);
  const it = run.frames[i]?.readouts?.iteration;
  const words = it === undefined ? `frame ${i}` : `iteration ${fmt(it)}`;
  run.bar.out.textContent = words;
  run.bar.range.setAttribute("aria-valuetext", words);
}

function startReplay(div) {
  const run = runOf(div);
  if (run.frames.length < 2) return;
  let i = 0;
  run.bar.replay.textContent = "Stop";
  const step = () => {
    show(div, i);
    i += 1;
    if (i >= run.frames.length) stopReplay(div);
  };
  step();
  run.timer = setInterval(step, 1000 / Number(run.bar.speed.value || 30));
}

function stopReplay(div) {
  const run = runs.get(div);
  if (!run?.timer) return;
  clearInterval(run.timer);
  run.timer = null;
  run.bar.replay.textContent = "Replay";
}

// ------------------------------------------------------------------ showing a frame

// The frame at i, or the nearest earlier one whose drawing was kept.
function drawn(run, i) {
  for (let k = i; k >= 0; k--) if (run.frames[k].set || run.frames[k].figure) return run.frames[k];
  return null;
}

function show(div, i) {
  const run = runOf(div);
  i = Math.max(0, Math.min(run.frames.length - 1, i));
  run.at = i;
  run.bar.range.value = String(i);
  label(div, i);
  const frame = drawn(run, i);
  showReadouts(div, run.frames[i].readouts);
  if (!frame || !div.data) return;
  if (!run.extended.length) {  // frames that are whole figures
    if (frame.figure) showFigure(div, frame.figure, { fromPatch: true });
    return;
  }
  restyle(div, frame.set || fromFigure(frame.figure, run.frames.find((f) => f.set)?.set), run.extended);
  mark(div, run, i);
}

// The restyle that draws a frame: its own, or (for the first frame, a whole figure) the same
// attributes read from that figure.
function fromFigure(figure, like) {
  if (!figure || !like) return null;
  const fig = decodeArrays(figure);
  const data = {};
  for (const attr of Object.keys(like.data || {})) data[attr] = like.traces.map((t) => fig.data[t]?.[attr]);
  return { traces: like.traces, data };
}

// A frame's restyle, except on the traces that grow (the path, the loss curve): those keep
// every point, and the rings mark the frame's.
function restyle(div, set, skip) {
  if (!set) return;
  for (const step of [set, ...(set.extra || [])]) {
    const keep = step.traces.map((t, k) => [t, k]).filter(([t]) => !skip.includes(t));
    if (!keep.length) continue;
    const data = {};
    for (const [attr, values] of Object.entries(step.data)) {
      data[attr] = keep.map(([, k]) => decodeArrays(Array.isArray(values) ? values[k % values.length] : values));
    }
    window.Plotly.restyle(div, data, keep.map(([t]) => t));
  }
}

// A ring on the path and on the loss curve at iteration i (traces added after the figure's).
function mark(div, run, i) {
  const xs = [], ys = [];
  for (const t of run.extended) {
    xs.push([Number(div.data[t]?.x?.[i])]);
    ys.push([Number(div.data[t]?.y?.[i])]);
  }
  if (!run.marks) {
    const first = div.data.length;
    const traces = run.extended.map((t, k) => ({
      type: "scatter", mode: "markers", name: "this iteration", hoverinfo: "skip", showlegend: false,
      xaxis: div.data[t]?.xaxis, yaxis: div.data[t]?.yaxis, x: xs[k], y: ys[k],
      marker: { size: 12, color: "rgba(0,0,0,0)", line: { color: "#e4572e", width: 3 } },
    }));
    run.marks = traces.map((_, k) => first + k);
    window.Plotly.addTraces(div, traces);
  } else {
    window.Plotly.restyle(div, { x: xs, y: ys }, run.marks);
  }
}

// Back to the newest frame (training goes on, or a new figure came).
function leave(div) {
  const run = runOf(div);
  stopReplay(div);
  if (run.marks) {
    const marks = run.marks.filter((t) => t < div.data.length);
    run.marks = null;
    if (marks.length) window.Plotly.deleteTraces(div, marks);
  }
  run.at = null;
  const last = run.frames.length ? drawn(run, run.frames.length - 1) : null;
  if (last?.set) restyle(div, last.set, run.extended);
  if (run.frames.length) showReadouts(div, run.frames[run.frames.length - 1].readouts);
}

function showReadouts(div, readouts) {
  const box = document.querySelector(`[data-readouts="${div.dataset.plotId}"]`);
  if (!box || !readouts) return;
  box.textContent = Object.entries(readouts).map(([k, v]) => `${k} = ${fmt(v)}`).join("   ·   ");
}
