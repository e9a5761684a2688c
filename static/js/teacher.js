// The teacher's room page: the live class landscape and the roster.
//
// The landscape is one plotly figure: the lesson's loss surface (or the plain (w, b) plane) and
// one marker per learner. The server sends all points at most every 200 ms; the page draws the
// newest snapshot once per animation frame, whatever arrived in between.
import { decodeArrays } from "./plots.js";

const room = document.getElementById("room");
const roomId = room.dataset.room;
const lesson = room.dataset.lesson;
const div = document.getElementById("class-landscape");
const caption = document.getElementById("landscape-caption");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
const state = { updates: 0, points: [], seq: 0, surface: null, names: {}, titles: {}, drawn: false, showNames: false };
// Learners' names are text: plotly's labels read a little HTML, so its marks are escaped.
const plotlyText = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
// Dots told apart: a colour-blind-safe palette, cycled, and names shown on request.
const PALETTE = ["#d55e00", "#0072b2", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442"];
window.descentTeacher = state;
let pending = null;

function layoutFor(surface) {
  const [wName, bName] = surface.names;
  return {
    margin: { l: 55, r: 15, t: 10, b: 45 },
    xaxis: { title: { text: wName }, range: surface.w, zeroline: false },
    yaxis: { title: { text: bName }, range: surface.b, zeroline: false },
    showlegend: false,
    height: 420,
    paper_bgcolor: "rgba(0,0,0,0)",
  };
}

function drawSurface(surface) {
  state.surface = surface;
  const traces = [];
  if (surface.contour) traces.push({ ...decodeArrays(surface.contour), hoverinfo: "skip", showscale: false });
  traces.push({
    type: "scatter", mode: "markers", x: [], y: [], text: [], name: "learners",
    hovertemplate: "%{text}<br>w = %{x:.3f}<br>b = %{y:.3f}<extra></extra>",
    marker: { size: 12, color: [], opacity: 0.9, line: { color: "#fff", width: 1.5 } },
    textposition: "top center",
    textfont: { color: "#1d2230", size: 12 },
  });
  window.Plotly.newPlot(div, traces, layoutFor(surface), {
    responsive: true, displaylogo: false, modeBarButtonsToRemove: ["sendDataToCloud", "sendChartToCloud"],
  }).then(() => { for (const b of div.querySelectorAll(".modebar-btn")) b.tabIndex = -1; });
  state.drawn = true;
  if (state.points.length) schedule(state.points);
  caption.textContent = surface.note || captionText();
}

function colourIndex(id) {
  const ids = Object.keys(state.names).sort();
  const i = ids.indexOf(String(id));
  return (i < 0 ? 0 : i) % PALETTE.length;
}

document.getElementById("show-names")?.addEventListener("change", (ev) => {
  state.showNames = ev.target.checked;
  if (state.points.length) schedule(state.points);
});

function captionText() {
  const n = state.points.length;
  const what = state.surface?.contour ? "on the lesson's loss landscape" : "in the (w, b) plane";
  return `${n} learner${n === 1 ? "" : "s"} ${what}; each dot moves as its learner drags a slider or trains.`;
}

function schedule(points) {
  const first = pending === null;
  pending = points;
  if (first) requestAnimationFrame(drawPoints);
}

function drawPoints() {
  const points = pending;
  pending = null;
  if (!state.drawn || points === null) return;
  const trace = div.data.length - 1;
  window.Plotly.restyle(div, {
    x: [points.map((p) => p[1])],
    y: [points.map((p) => p[2])],
    text: [points.map((p) => plotlyText(state.names[p[0]] || "learner"))],
    "marker.color": [points.map((p) => PALETTE[colourIndex(p[0])])],
    mode: state.showNames ? "markers+text" : "markers",
  }, [trace]);
  div.dataset.points = String(points.length);
  caption.textContent = state.surface?.note || captionText();
}

const handlers = {
  surface(msg) {
    if (msg.surface) drawSurface(msg.surface);
    else caption.textContent = "This lesson has no (w, b) sliders to show.";
  },
  points(msg) {
    if (msg.lesson !== lesson || msg.seq <= state.seq) return;
    state.seq = msg.seq;
    state.updates += 1;
    state.points = msg.points;
    schedule(msg.points);
  },
};

function connect(delay = 500) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/ws/teacher/rooms/${roomId}?lesson=${encodeURIComponent(lesson)}`;
  const ws = new WebSocket(url);
  ws.onmessage = (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    handlers[msg.type]?.(msg);
  };
  ws.onopen = () => { caption.textContent = state.surface ? captionText() : "Computing the landscape…"; };
  ws.onclose = (ev) => {
    caption.textContent = ev.reason || "Connection lost, reconnecting…";
    setTimeout(() => connect(Math.min(delay * 2, 5000)), delay);
  };
}

// ------------------------------------------------------------------ roster

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function actionForm(learner, action, label, confirmText) {
  const form = el("form", { method: "post", action: `/teacher/rooms/${roomId}/learners/${learner}/${action}`, class: "inline" });
  form.append(el("input", { type: "hidden", name: "csrf_token", value: csrf }));
  form.append(el("button", { type: "submit", class: action === "remove" ? "small danger" : "small" }, label));
  if (confirmText) form.dataset.confirm = confirmText;
  return form;
}

function renderRoster(data) {
  const tbody = document.querySelector("#roster tbody");
  if (!tbody) return;
  state.names = Object.fromEntries(data.learners.map((l) => [l.id, l.name]));
  state.titles = Object.fromEntries(data.lessons.map((l) => [l.slug, l.title]));
  tbody.replaceChildren();
  for (const l of data.learners) {
    const tr = el("tr", { "data-learner": l.id });
    const th = el("th", { scope: "row", class: "name-col" });
    th.append(el("a", { href: `/teacher/rooms/${roomId}/learners/${l.id}` }, l.name));
    tr.append(th);
    const online = el("td", { class: "online" });
    if (l.online) {
      online.append(el("span", { class: "dot on", "aria-hidden": "true" }), document.createTextNode(state.titles[l.online] || l.online));
    }
    else online.append(el("span", { class: "muted" }, "offline"));
    tr.append(online, el("td", { class: "num" }, String(l.passed)));
    for (const lesson of data.lessons) {
      const lr = l.lessons[lesson.slug];
      const td = el("td", { class: `progress-cell${lr.opened ? " opened" : ""}`, title: `${lesson.title}${lr.opened ? `: ${lr.runs} runs` : ""}` });
      for (const [ex, st] of Object.entries(lr.exercises)) {
        td.append(el("span", { class: `ex ${st}`, title: `${ex}: ${st}`, role: "img", "aria-label": `${ex}: ${st}` }));
      }
      if (!Object.keys(lr.exercises).length && lr.opened) td.append(el("span", { class: "seen", role: "img", "aria-label": "opened" }, "·"));
      tr.append(td);
    }
    const actions = el("td", { class: "actions" });
    actions.append(actionForm(l.id, "restart", "Restart kernel"), actionForm(l.id, "remove", "Remove", `Remove ${l.name} from this room?`));
    tr.append(actions);
    tbody.append(tr);
  }
  if (!data.learners.length) {
    const td = el("td", { colspan: String(data.lessons.length + 4), class: "muted" }, "Nobody has joined yet. Show the code or the link above.");
    tbody.append(el("tr")).append(td);
  }
  if (state.points.length) schedule(state.points);
}

async function refreshRoster() {
  try {
    const resp = await fetch(`/api/teacher/rooms/${roomId}/roster`, { credentials: "same-origin" });
    if (resp.ok) renderRoster(await resp.json());
  } catch { /* the next refresh tries again */ }
}

document.addEventListener("submit", (ev) => {
  const text = ev.target.dataset?.confirm;
  if (text && !window.confirm(text)) ev.preventDefault();
});

refreshRoster();
setInterval(refreshRoster, 3000);
connect();
