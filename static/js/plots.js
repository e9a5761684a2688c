// Plotly figures: a whole figure when the code behind a plot changed, a restyle per slider move.

// Large arrays arrive as base64 float32 ({dtype, bdata, shape}); plain lists otherwise.
export function decodeArrays(value) {
  if (Array.isArray(value)) return value.map(decodeArrays);
  if (value && typeof value === "object") {
    if (typeof value.bdata === "string" && value.dtype === "f4") {
      const bytes = Uint8Array.from(atob(value.bdata), (c) => c.charCodeAt(0));
      const flat = Array.from(new Float32Array(bytes.buffer));
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
  return value;
}

const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"] };

export function showFigure(div, figure) {
  const fig = decodeArrays(figure);
  return window.Plotly.react(div, { data: fig.data, layout: fig.layout, frames: fig.frames || [], config: CONFIG });
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
