// A lesson page: wires sliders, code cells, plots and exercises to the page's WebSocket.
import { typeset } from "descent/math";
import { LessonSocket } from "./socket.js";
import { missingTraces, queuePatch, refit, showFigure } from "./plots.js";
import { setupSliders } from "./sliders.js";
import { noteReadouts, scheduleDescription, setupPlot } from "./describe.js";
import { fmt } from "./format.js";
import { Cells } from "./cells.js";
import { AutoSave, loadSavedWork, resumeLink, showRoom } from "./savedwork.js";
import { progressShown, showProgress } from "./progress.js";
import { ConnectionBanner, RunTimers, markStale, markdown } from "./status.js";
import { noteOpened, notePassed } from "./marks.js";
import { setupData, storedData } from "./data.js";
import { ShareReplay, applyShareBefore, loadShare, setupShare } from "./share.js";

const data = JSON.parse(document.getElementById("lesson-data").textContent);
const $ = (sel) => document.querySelector(sel);
let seq = 0;
const state = { lastPatchSeq: 0, figures: 0, patches: 0, missingTraces };
window.descent = state;

// Messages may hold Markdown (`code`, **bold**): shown rendered, never as raw marks.
function pageMessage(text) {
  const p = $("#page-message");
  p.innerHTML = markdown(text || "");
  p.hidden = !text;
}

function setBadge(sel, text, cls) {
  const el = $(sel);
  el.textContent = text;
  el.className = `badge ${cls || ""}`;
}

// The socket opens at once, while the saved work loads and the page is set up: messages wait
// until the page is ready, and the kernel gets the page's code only then.
performance.mark("descent-js-start");
let ready = false;
let opened = false;
let restarting = false; // the last socket closed because its server was draining
const early = [];
const banner = new ConnectionBanner($("#connection-banner"));
const timers = new RunTimers(() => socket.send({ type: "interrupt" }));
const scheme = location.protocol === "https:" ? "wss" : "ws";
const socket = new LessonSocket(`${scheme}://${location.host}/ws/lessons/${data.slug}`, {
  onMessage: (msg) => (ready ? handlers[msg.type]?.(msg) : early.push(msg)),
  onOpen: () => {
    performance.mark("descent-socket-open");
    opened = true;
    if (ready) sendOpen();
  },
  onState: (s, code, reason) => {
    document.body.dataset.connection = s;
    banner.onState(s);
    if (s === "open") {
      setBadge("#connection", "Connected", "ok");
      if (restarting) pageMessage("");
      restarting = false;
    } else if (s === "lost" && reason && code === 1012) {
      // This server is draining (a restart or an update): the page reconnects to another one.
      restarting = true;
      setBadge("#connection", "Reconnecting…", "starting");
      pageMessage(reason);
      timers.stopAll();
    } else if (s === "lost" && reason && (code === 1008 || code === 1013)) {
      // Refused by the server (another site's page, no cookie, the room's kernel cap): say why.
      setBadge("#connection", "Not connected", "dead");
      pageMessage(reason);
    } else if (s === "lost") {
      setBadge("#connection", "Connection lost, reconnecting…", "dead");
      timers.stopAll();
    } else setBadge("#connection", "Connecting…", "starting");
  },
});

// A fresh connection means a fresh kernel: send the page's code and current slider values.
function sendOpen() {
  socket.send({ type: "open", cells: cells.all() });
  const values = {};
  for (const input of document.querySelectorAll("input[data-slider]")) values[input.dataset.slider] = Number(input.value);
  if (Object.keys(values).length) socket.send({ type: "slide", values, seq: ++seq });
}

// The learner's saved code comes first, so the kernel runs what the editors show.
const shared = await loadShare();  // a share link opened: its state, as this learner's own copy
if (shared?.gone) pageMessage(shared.gone);
const saved = applyShareBefore(shared, await loadSavedWork(data.slug));
performance.mark("descent-saved-work");
const cells = new Cells(data.slug, data.cells, { onRun: run, saved, autosave: new AutoSave(data.slug, saved) });
showRoom(saved);
resumeLink();
const dataPanel = setupData({ send: (msg) => socket.send(msg), nextSeq: () => ++seq });
const replay = new ShareReplay(shared, (msg) => socket.send(msg), dataPanel);
setupShare({ slug: data.slug, snapshot: () => ({ cells: cells.all(), values: sliderValues(), train: trained(), ...dataInUse() }) });
// Whose data the page uses, for a link made from it: the server's copy of the learner's own,
// rows it did not keep (a share link's), or none (the lesson's or the class's).
function dataInUse() {
  if (!dataPanel) return {};
  return { data_source: dataPanel.source(), data: dataPanel.unsaved() };
}
function sliderValues() {
  const values = {};
  for (const input of document.querySelectorAll("input[data-slider]")) values[input.dataset.slider] = Number(input.value);
  return values;
}
function trained() {
  const out = {};
  for (const [plot, r] of Object.entries(state.readouts || {})) if (r.iteration) out[plot] = r.iteration;
  return out;
}

function run(cell) {
  const out = document.querySelector(`[data-output="${cell}"]`);
  if (out) { out.textContent = "Running…"; out.dataset.ok = ""; }
  timers.start(cell);
  socket.send({ type: "run", cell, code: cells.code(cell), seq: ++seq });
}

// Sliders: every input event is sent at once; the server keeps only the newest values
// (static/js/sliders.js: held sliders and drags on plots are sent coarse, then once at rest).
setupSliders((msg) => socket.send({ type: "slide", ...msg, seq: ++seq }));

function plotDiv(id) { return document.getElementById(`plot-${id}`); }
for (const div of document.querySelectorAll("[data-plot]")) setupPlot(div);
// Boxes that scroll (wide math, long output) take the focus, so keys can scroll them.
function scrollersFocusable() {
  for (const el of document.querySelectorAll(".katex-display, .cell-output pre")) {
    const scrolls = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
    if (scrolls) el.tabIndex = 0;
    else el.removeAttribute("tabindex");
  }
}
scrollersFocusable();
let resizing = null;
window.addEventListener("resize", () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => {
    for (const div of document.querySelectorAll("[data-plot]")) refit(div);
    scrollersFocusable();
  }, 150);
});

function showReadouts(plot, readouts) {
  const box = document.querySelector(`[data-readouts="${plot}"]`);
  if (!box || !readouts) return;
  noteReadouts(plot, readouts);
  (state.readouts ||= {})[plot] = readouts;
  box.textContent = Object.entries(readouts).map(([k, v]) => `${k} = ${fmt(v)}`).join("   ·   ");
}

function plotError(plot, text) {
  const p = document.querySelector(`[data-plot-error="${plot}"]`);
  if (!p) return;
  // Every patch clears the error: the page is left untouched when there is none to clear (a
  // held slider would otherwise rewrite this paragraph, and restyle the page, at every move).
  if (!text && p.hidden && !p.firstChild && !plotDiv(plot)?.classList.contains("stale")) return;
  // A traceback stays as written; a sentence with `code` in it is rendered.
  const traceback = /Traceback|\n\s+File |\bline \d+/.test(text || "");
  if (traceback) p.textContent = text || "";
  else p.innerHTML = markdown(text || "");
  p.classList.toggle("sentence", !traceback);
  p.hidden = !text;
  markStale(plotDiv(plot), Boolean(text));
}

const handlers = {
  ready(msg) {
    setBadge("#device", msg.device === "cpu" ? "CPU" : `GPU (${msg.device})`);
    pageMessage("");
  },
  status(msg) {
    if (msg.state === "idle") replay.onIdle();
    const labels = { starting: "Starting…", idle: "Ready", busy: "Running…", waiting: "Waiting for a free CPU…",
                     dead: "Kernel stopped", full: "Server full", refused: "Code refused" };
    setBadge("#kernel-status", labels[msg.state] || msg.state, msg.state);
    document.body.dataset.kernel = msg.state;
    if (["dead", "full", "refused", "starting"].includes(msg.state)) timers.stopAll();
    if (msg.message && ["dead", "full", "refused"].includes(msg.state)) pageMessage(msg.message);
  },
  figure(msg) {
    if (!state.figures) performance.mark("descent-first-figure-received");
    plotError(msg.plot, "");
    state.figures += 1;
    showFigure(plotDiv(msg.plot), msg.figure);
    showReadouts(msg.plot, msg.readouts);
    scheduleDescription(plotDiv(msg.plot));
  },
  patch(msg) {
    plotError(msg.plot, "");
    state.patches += 1;
    state.lastPatchSeq = Math.max(state.lastPatchSeq, msg.seq);
    queuePatch(plotDiv(msg.plot), msg.patch);
    showReadouts(msg.plot, msg.readouts);
    scheduleDescription(plotDiv(msg.plot));
  },
  plot_error(msg) { plotError(msg.plot, msg.message); },
  output(msg) {
    progressShown.delete(msg.cell);
    timers.stop(msg.cell);
    cells.showOutput(msg);
    scrollersFocusable();
  },
  progress(msg) { showProgress(msg); },
  check_result(msg) {
    const v = document.querySelector(`[data-verdict="${msg.exercise}"]`);
    v.innerHTML = markdown(msg.message);
    v.dataset.passed = String(msg.passed);
    document.querySelector(`[data-exercise="${msg.exercise}"]`).classList.toggle("done", msg.passed);
    if (!msg.passed) revealHint(msg.exercise);
    else notePassed(data.slug, msg.exercise);
  },
  error(msg) { pageMessage(msg.message); },
  train_state(msg) {
    const box = document.querySelector(`[data-train="${msg.plot}"]`);
    if (!box) return;
    box.dataset.playing = String(msg.playing);
    box.querySelector('[data-train-action="play"]').textContent = msg.playing ? "Pause" : "Play";
    scheduleDescription(plotDiv(msg.plot));
  },
  data_state(msg) {
    dataPanel?.state(msg);
    replay.onDataState();
  },
  pong() {},
};

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
  // The learner dragged the path's start: training starts there (and Reset goes back there).
  plotDiv(plot)?.addEventListener("descent-place", (ev) => {
    plotError(plot, "");
    socket.send({ type: "train", plot, action: "place", at: ev.detail.at, speed: speed() });
  });
  for (const b of box.querySelectorAll("[data-train-action]")) {
    b.addEventListener("click", () => {
      let action = b.dataset.trainAction;
      if (action === "play" && box.dataset.playing === "true") action = "pause";
      if (action !== "play") plotError(plot, "");
      socket.send({ type: "train", plot, action, speed: speed() });
    });
  }
}
// The data the page uses, for the notebook: rows it did not keep (a share link's), else what
// the server keeps for the learner, unless the page shows the lesson's own.
async function notebookData() {
  if (!dataPanel || dataPanel.source() === "lesson") return null;
  return dataPanel.unsaved() ?? await storedData(data.slug);
}
$("#export").addEventListener("click", async () => {
  const res = await fetch(`/lessons/${data.slug}/notebook`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ cells: cells.all(), data: await notebookData() }),
  });
  if (!res.ok) { pageMessage("The notebook could not be made. Try again."); return; }
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: `${data.slug}.ipynb` });
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
});
$("#restart")?.addEventListener("click", () => socket.send({ type: "restart" }));
$("#interrupt")?.addEventListener("click", () => socket.send({ type: "interrupt" }));

// Ready: what arrived meanwhile is handled, the kernel gets the code, and the math is typeset
// while the kernel works.
ready = true;
noteOpened(data.slug, $("#lesson-title")?.textContent || data.slug);
for (const msg of early.splice(0)) handlers[msg.type]?.(msg);
if (opened) sendOpen();
typeset(document.getElementById("lesson"));
scrollersFocusable();
