// A lesson page: wires sliders, code cells, plots and exercises to the page's WebSocket.
import { typeset } from "descent/math";
import { LessonSocket } from "./socket.js";
import { queuePatch, showFigure } from "./plots.js";
import { Cells } from "./cells.js";
import { AutoSave, loadSavedWork, resumeLink, showRoom } from "./savedwork.js";

const data = JSON.parse(document.getElementById("lesson-data").textContent);
const $ = (sel) => document.querySelector(sel);
let seq = 0;
const state = { lastPatchSeq: 0, figures: 0, patches: 0 };
window.descent = state;

typeset(document.getElementById("lesson"));

function pageMessage(text) {
  const p = $("#page-message");
  p.textContent = text || "";
  p.hidden = !text;
}

function setBadge(sel, text, cls) {
  const el = $(sel);
  el.textContent = text;
  el.className = `badge ${cls || ""}`;
}

// The learner's saved code comes first, so the kernel runs what the editors show.
const saved = await loadSavedWork(data.slug);
const cells = new Cells(data.slug, data.cells, { onRun: run, saved, autosave: new AutoSave(data.slug, saved) });
showRoom(saved);
resumeLink();

function run(cell) {
  const out = document.querySelector(`[data-output="${cell}"]`);
  if (out) { out.textContent = "Running…"; out.dataset.ok = ""; }
  socket.send({ type: "run", cell, code: cells.code(cell), seq: ++seq });
}

// Sliders: every input event is sent at once; the server keeps only the newest values.
for (const input of document.querySelectorAll("input[data-slider]")) {
  const name = input.dataset.slider;
  const readout = document.querySelector(`output[data-readout="${name}"]`);
  const decimals = (Number(input.step).toFixed(10).replace(/0+$/, "").split(".")[1] || "").length;
  const show = () => { readout.textContent = Number(input.value).toFixed(decimals); };
  show();
  input.addEventListener("input", () => {
    show();
    socket.send({ type: "slide", values: { [name]: Number(input.value) }, seq: ++seq });
  });
}

function plotDiv(id) { return document.getElementById(`plot-${id}`); }

function showReadouts(plot, readouts) {
  const box = document.querySelector(`[data-readouts="${plot}"]`);
  if (!box || !readouts) return;
  box.textContent = Object.entries(readouts)
    .map(([k, v]) => `${k} = ${Number.isInteger(v) ? v : Number(v).toPrecision(5)}`).join("   ·   ");
}

function plotError(plot, text) {
  const p = document.querySelector(`[data-plot-error="${plot}"]`);
  if (!p) return;
  p.textContent = text || "";
  p.hidden = !text;
  plotDiv(plot)?.classList.toggle("stale", Boolean(text));
}

const handlers = {
  ready(msg) {
    setBadge("#device", msg.device === "cpu" ? "CPU" : `GPU (${msg.device})`);
    pageMessage("");
  },
  status(msg) {
    const labels = { starting: "Starting…", idle: "Ready", busy: "Running…", waiting: "Waiting for a free CPU…",
                     dead: "Kernel stopped", full: "Server full", refused: "Code refused" };
    setBadge("#kernel-status", labels[msg.state] || msg.state, msg.state);
    document.body.dataset.kernel = msg.state;
    if (msg.message && ["dead", "full", "refused"].includes(msg.state)) pageMessage(msg.message);
  },
  figure(msg) {
    plotError(msg.plot, "");
    state.figures += 1;
    showFigure(plotDiv(msg.plot), msg.figure);
    showReadouts(msg.plot, msg.readouts);
  },
  patch(msg) {
    plotError(msg.plot, "");
    state.patches += 1;
    state.lastPatchSeq = Math.max(state.lastPatchSeq, msg.seq);
    queuePatch(plotDiv(msg.plot), msg.patch);
    showReadouts(msg.plot, msg.readouts);
  },
  plot_error(msg) { plotError(msg.plot, msg.message); },
  output(msg) { progressShown.delete(msg.cell); cells.showOutput(msg); },
  progress(msg) { showProgress(msg); },
  check_result(msg) {
    const v = document.querySelector(`[data-verdict="${msg.exercise}"]`);
    v.innerHTML = withCode(msg.message);
    v.dataset.passed = String(msg.passed);
    document.querySelector(`[data-exercise="${msg.exercise}"]`).classList.toggle("done", msg.passed);
    if (!msg.passed) revealHint(msg.exercise);
  },
  error(msg) { pageMessage(msg.message); },
  train_state(msg) {
    const box = document.querySelector(`[data-train="${msg.plot}"]`);
    if (!box) return;
    box.dataset.playing = String(msg.playing);
    box.querySelector('[data-train-action="play"]').textContent = msg.playing ? "Pause" : "Play";
  },
  pong() {},
};

// Check messages are plain text in which `backticks` mark code.
function withCode(text) {
  const esc = text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  return esc.replace(/`([^`]+)`/g, "<code>$1</code>");
}

// Long work in a cell calls progress(done, total): a bar, the count and the time left.
const progressShown = new Map();
function showProgress(msg) {
  // A cell's progress shows in its output; a plot's (a slow landscape) under the plot.
  const box = document.querySelector(`[data-output="${msg.cell}"]`)
    || document.querySelector(`[data-readouts="${msg.cell}"]`);
  if (!box) return;
  const now = performance.now();
  let state = progressShown.get(msg.cell);
  if (!state || msg.done < state.done) {
    state = { start: now, done: msg.done, first: msg.done };
    progressShown.set(msg.cell, state);
    box.textContent = "";
    const bar = document.createElement("progress");
    const text = document.createElement("span");
    text.className = "progress-text";
    box.append(bar, text);
  }
  state.done = msg.done;
  const bar = box.querySelector("progress");
  const text = box.querySelector(".progress-text");
  if (!bar || !text) return;
  let words = msg.label ? `${msg.label}: ` : "";
  if (msg.total > 0) {
    bar.max = msg.total;
    bar.value = msg.done;
    const n = (v) => (Number.isInteger(v) ? v : Math.round(v));
    words += `${n(msg.done)} of ${n(msg.total)}`;
    const rate = (msg.done - state.first) / ((now - state.start) / 1000);
    if (rate > 0 && msg.done < msg.total) words += `, about ${Math.ceil((msg.total - msg.done) / rate)} s left`;
  } else {
    bar.removeAttribute("value");
    words += `${msg.done}`;
  }
  text.textContent = ` ${words} (press Stop to end it)`;
}

function revealHint(id) {
  const next = document.querySelector(`[data-hints="${id}"] li[hidden]`);
  if (next) next.hidden = false;
}

for (const b of document.querySelectorAll("[data-check]")) {
  b.addEventListener("click", () => {
    const id = b.dataset.check;
    document.querySelector(`[data-verdict="${id}"]`).textContent = "Checking…";
    socket.send({ type: "check", exercise: id, seq: ++seq });
  });
}
for (const b of document.querySelectorAll("[data-hint]")) {
  b.addEventListener("click", () => revealHint(b.dataset.hint));
}
for (const b of document.querySelectorAll("[data-solution]")) {
  b.addEventListener("click", () => {
    const pre = document.querySelector(`[data-solution-text="${b.dataset.solution}"]`);
    pre.hidden = !pre.hidden;
  });
}
for (const box of document.querySelectorAll("[data-train]")) {
  const plot = box.dataset.train;
  const speed = () => Number(box.querySelector("[data-train-speed]").value);
  for (const b of box.querySelectorAll("[data-train-action]")) {
    b.addEventListener("click", () => {
      let action = b.dataset.trainAction;
      if (action === "play" && box.dataset.playing === "true") action = "pause";
      if (action !== "play") plotError(plot, "");
      socket.send({ type: "train", plot, action, speed: speed() });
    });
  }
}
$("#export").addEventListener("click", async () => {
  const res = await fetch(`/lessons/${data.slug}/notebook`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ cells: cells.all() }),
  });
  if (!res.ok) { pageMessage("The notebook could not be made. Try again."); return; }
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: `${data.slug}.ipynb` });
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
});
$("#restart").addEventListener("click", () => socket.send({ type: "restart" }));
$("#interrupt").addEventListener("click", () => socket.send({ type: "interrupt" }));

const scheme = location.protocol === "https:" ? "wss" : "ws";
const socket = new LessonSocket(`${scheme}://${location.host}/ws/lessons/${data.slug}`, {
  onMessage: (msg) => handlers[msg.type]?.(msg),
  onOpen: () => {
    // A fresh connection means a fresh kernel: send the page's code and current slider values.
    socket.send({ type: "open", cells: cells.all() });
    const values = {};
    for (const input of document.querySelectorAll("input[data-slider]")) values[input.dataset.slider] = Number(input.value);
    if (Object.keys(values).length) socket.send({ type: "slide", values, seq: ++seq });
  },
  onState: (s, code, reason) => {
    document.body.dataset.connection = s;
    if (s === "open") setBadge("#connection", "Connected", "ok");
    else if (s === "lost" && reason && (code === 1008 || code === 1013)) {
      // Refused by the server (another site's page, no cookie, the room's kernel cap): say why.
      setBadge("#connection", "Not connected", "dead");
      pageMessage(reason);
    } else if (s === "lost") setBadge("#connection", "Connection lost, reconnecting…", "dead");
    else setBadge("#connection", "Connecting…", "starting");
  },
});
