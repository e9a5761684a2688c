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
  return window.Plotly.react(div, fig.data, fig.layout, CONFIG);
}

export function applyPatch(div, patch) {
  if (!div.data) return Promise.resolve();
  const steps = [patch, ...(patch.extra || [])];
  return Promise.all(steps.map((p) => window.Plotly.restyle(div, decodeArrays(p.data), p.traces)));
}
