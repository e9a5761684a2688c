// Plots for screen readers: each plot is a figure with a name, a short description written from
// its numbers (updated politely as they change), and a table of the numbers behind it.
import { fmt } from "./format.js";

const KIND_NAMES = {
  line: "line plot", sigmoid: "sigmoid curve", plane: "3-D plane", sigmoid_surface: "3-D sigmoid surface",
  landscape: "loss landscape", tangent: "curve and tangent", training: "training plot", series: "line chart",
  paths: "paths", race: "optimizer race", images: "images", net_landscape: "network loss landscape",
  network: "network diagram",
};
const DELAY_MS = 500;
const MAX_ROWS = 200;
const lastReadouts = new Map();
const timers = new Map();

const nums = (v) => (v == null ? [] : Array.from(v, Number));
const finite = (a) => a.filter(Number.isFinite);
const isGrid = (t) => ["surface", "heatmap", "contour"].includes(t.type);

export function setupPlot(div) {
  const kind = div.dataset.plot;
  const id = div.dataset.plotId;
  // A figure, not an img: plotly's toolbar buttons live inside, and an img may hold no controls.
  div.setAttribute("role", "figure");
  div.setAttribute("aria-label", `${KIND_NAMES[kind] || "plot"} ${id}`);
  div.setAttribute("aria-describedby", `plot-desc-${id}`);
  const details = document.querySelector(`[data-plot-numbers="${id}"]`);
  details?.addEventListener("toggle", () => { if (details.open) renderTable(div); });
}

export function noteReadouts(plot, readouts) {
  if (readouts) lastReadouts.set(plot, readouts);
}

// Describe the plot a moment after its last change, so a screen reader is not flooded while a
// slider moves; the table, when open, follows too.
export function scheduleDescription(div) {
  if (!div) return;
  clearTimeout(timers.get(div));
  timers.set(div, setTimeout(() => {
    const box = document.getElementById(`plot-desc-${div.dataset.plotId}`);
    if (box) {
      const text = describe(div);
      if (box.textContent !== text) box.textContent = text;
    }
    if (document.querySelector(`[data-plot-numbers="${div.dataset.plotId}"]`)?.open) renderTable(div);
  }, DELAY_MS));
}

function readout(plot, ...labels) {
  const r = lastReadouts.get(plot) || {};
  for (const l of labels) if (l in r) return r[l];
  return undefined;
}

function curveWords(t) {
  const x = nums(t.x), y = nums(t.y);
  const pts = x.map((xv, i) => [xv, y[i]]).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  if (pts.length < 2) return "";
  const [x0, y0] = pts[0], [x1, y1] = pts[pts.length - 1];
  let lo = pts[0], hi = pts[0];
  for (const p of pts) { if (p[1] < lo[1]) lo = p; if (p[1] > hi[1]) hi = p; }
  return `${t.name || "curve"} goes from ${fmt(y0)} at x = ${fmt(x0)} to ${fmt(y1)} at x = ${fmt(x1)}, lowest ${fmt(lo[1])} at x = ${fmt(lo[0])}, highest ${fmt(hi[1])} at x = ${fmt(hi[0])}.`;
}

function lineWords(t) {
  const x = nums(t.x), y = nums(t.y);
  const n = x.length;
  if (n < 2 || !Number.isFinite(y[0]) || !Number.isFinite(y[n - 1])) return curveWords(t);
  const slope = (y[n - 1] - y[0]) / (x[n - 1] - x[0]);
  const intercept = y[0] - slope * x[0];
  const name = t.name ? `The line ${plain(t.name)}` : "The line";
  return `${name} has slope ${fmt(slope)} and crosses x = 0 at ${fmt(intercept)}.`;
}

function gridWords(t) {
  const z = (t.z ? Array.from(t.z, (row) => finite(nums(row))) : []).flat();
  if (!z.length) return "";
  const x = finite(nums(t.x)), y = finite(nums(t.y));
  const span = (a, name) => (a.length ? `${name} from ${fmt(Math.min(...a))} to ${fmt(Math.max(...a))}` : "");
  const what = t.type === "surface" ? "A 3-D surface" : t.type === "contour" ? "A contour map" : "A heat map";
  const over = [span(x, "x"), span(y, "y")].filter(Boolean).join(" and ");
  return `${what}${over ? ` over ${over}` : ""}; its values go from ${fmt(Math.min(...z))} to ${fmt(Math.max(...z))}.`;
}

function direction(gw, gb, names) {
  const part = (g, n) => (Math.abs(g) < 1e-12 ? "" : `${g > 0 ? "larger" : "smaller"} ${n}`);
  const parts = [part(gw, names[0]), part(gb, names[1])].filter(Boolean);
  return parts.length ? parts.join(" and ") : "nowhere: it is zero";
}

function landscapeWords(div, plot) {
  const data = div.data || [];
  const marker = data.find((t) => t.name === "(w, b)") || data.find((t) => t.type === "scatter" && t.mode === "markers");
  const names = [div.layout?.xaxis?.title?.text || "w", div.layout?.yaxis?.title?.text || "b"].map(plain);
  const out = [];
  if (marker && nums(marker.x).length) {
    const w = nums(marker.x)[0], b = nums(marker.y)[0];
    const loss = readout(plot, "loss");
    out.push(`The marker stands at ${names[0]} = ${fmt(w)}, ${names[1]} = ${fmt(b)}${loss === undefined ? "" : `, where the loss is ${fmt(loss)}`}.`);
  }
  const gw = readout(plot, "your ∂L/∂w", "∂L/∂w"), gb = readout(plot, "your ∂L/∂b", "∂L/∂b");
  if (gw !== undefined && gb !== undefined) {
    out.push(`The gradient points toward ${direction(gw, gb, names)}; its size is ${fmt(Math.hypot(gw, gb))}. Downhill is the opposite way.`);
  }
  const trained = data.find((t) => t.name === "trained weights");
  if (trained) out.push("The trained weights sit at the centre, where both directions are zero.");
  return out.join(" ");
}

function trainingWords(div, plot) {
  const box = document.querySelector(`[data-train="${plot}"]`);
  const state = box?.dataset.playing === "true" ? "Training is playing" : "Training is paused";
  const r = lastReadouts.get(plot) || {};
  const at = "iteration" in r ? ` at iteration ${fmt(r.iteration)}` : "";
  const vals = ["w", "b", "loss"].filter((k) => k in r).map((k) => `${k} = ${fmt(r[k])}`);
  return `${state}${at}${vals.length ? `: ${vals.join(", ")}` : ""}.`;
}

function raceWords(div) {
  const heads = (div.data || []).filter((t) => (t.name || "").endsWith(" now"));
  const at = heads.map((t) => `${t.name.slice(0, -4)} at (${fmt(nums(t.x)[0])}, ${fmt(nums(t.y)[0])})`);
  const step = div.dataset.frame ? `Step ${div.dataset.frame}: ` : "";
  return at.length ? `${step}${at.join("; ")}.` : "";
}

const plain = (s) => String(s || "").replace(/<[^>]*>/g, "");

export function describe(div) {
  const kind = div.dataset.plot, plot = div.dataset.plotId;
  const data = div.data || [];
  if (!data.length) return "Not drawn yet.";
  const words = [];
  if (kind === "landscape" || kind === "net_landscape") words.push(landscapeWords(div, plot));
  else if (kind === "training") words.push(trainingWords(div, plot));
  else if (kind === "race") words.push(raceWords(div));
  if (kind === "line" || kind === "training") {
    const line = data.find((t) => t.type === "scatter" && String(t.mode || "lines").includes("lines") && t.name !== "residuals");
    if (line) words.push(lineWords(line));
  } else if (["sigmoid", "tangent", "series", "paths", "network"].includes(kind)) {
    for (const t of data.filter((d) => d.type === "scatter" && String(d.mode || "lines").includes("lines")).slice(0, 3)) {
      words.push(t.name === "tangent" ? lineWords(t) : curveWords(t));
    }
  } else if (!words.join("")) {
    const grid = data.find(isGrid);
    if (grid) words.push(gridWords(grid));
  }
  const points = data.find((t) => t.name === "data");
  if (points) words.push(`${nums(points.x).length} data points.`);
  const r = lastReadouts.get(plot);
  const text = words.filter(Boolean).join(" ");
  if (r && kind !== "training" && !text.includes("loss is")) {
    const shown = Object.entries(r).map(([k, v]) => `${k} = ${fmt(v)}`).join(", ");
    if (shown) return `${text} Readouts: ${shown}.`.trim();
  }
  return text || `${data.length} traces.`;
}

// ------------------------------------------------------------------ the numbers as a table

function cell(tag, text) {
  const el = document.createElement(tag);
  el.textContent = text;
  return el;
}

function traceTable(t, index) {
  const table = document.createElement("table");
  table.className = "numbers";
  const name = plain(t.name) || `trace ${index + 1}`;
  table.append(cell("caption", `${name} (${t.type || "scatter"})`));
  if (isGrid(t)) {
    const z = t.z ? Array.from(t.z, (row) => nums(row)) : [];
    const words = gridWords(t) || "no values";
    const row = document.createElement("tr");
    row.append(cell("td", `${z.length} rows × ${z[0]?.length || 0} columns. ${words}`));
    table.append(row);
    return table;
  }
  const cols = ["x", "y", "z"].filter((k) => t[k] != null && t[k].length !== undefined);
  const head = document.createElement("tr");
  for (const c of cols) head.append(Object.assign(cell("th", c), { scope: "col" }));
  table.append(head);
  const n = Math.min(MAX_ROWS, ...cols.map((c) => t[c].length));
  for (let i = 0; i < n; i++) {
    const tr = document.createElement("tr");
    for (const c of cols) tr.append(cell("td", fmt(Number(t[c][i]))));
    table.append(tr);
  }
  if (cols.length && t[cols[0]].length > MAX_ROWS) table.append(cell("caption", `first ${MAX_ROWS} of ${t[cols[0]].length} points`));
  return table;
}

export function renderTable(div) {
  const box = document.querySelector(`[data-plot-table="${div.dataset.plotId}"]`);
  if (!box) return;
  box.replaceChildren(...(div.data || []).map(traceTable));
  const r = lastReadouts.get(div.dataset.plotId);
  if (r && Object.keys(r).length) {
    const table = document.createElement("table");
    table.className = "numbers";
    table.append(cell("caption", "readouts"));
    for (const [k, v] of Object.entries(r)) {
      const tr = document.createElement("tr");
      tr.append(Object.assign(cell("th", k), { scope: "row" }), cell("td", fmt(v)));
      table.append(tr);
    }
    box.append(table);
  }
}
