// Figures on narrow screens: panels that sit side by side (a 3-D view beside its top view, the
// three panels of a training plot) are stacked one above the other, each the full width.

const NARROW_PX = 640;
const PANEL_PX = 300;
const GAP = 0.06;
const ZOOM_OUT = 1.35;

function panels(layout) {
  const found = [];
  for (const [key, value] of Object.entries(layout)) {
    if (!value || typeof value !== "object") continue;
    const axis = /^xaxis(\d*)$/.exec(key);
    if (axis && Array.isArray(value.domain)) {
      found.push({ key, y: `yaxis${axis[1]}`, x: value.domain, kind: "axis" });
    } else if (/^scene\d*$/.test(key) && value.domain?.x) {
      found.push({ key, x: value.domain.x, kind: "scene" });
    }
  }
  return found.sort((a, b) => a.x[0] - b.x[0]);
}

function sideBySide(list, layout) {
  if (list.length < 2 || list.length > 3) return false;
  for (const p of list) {
    const y = p.kind === "scene" ? layout[p.key].domain.y : layout[p.y]?.domain;
    if (y && (y[0] > 0.05 || y[1] < 0.95)) return false; // already in rows
  }
  return list.every((p, i) => i === 0 || p.x[0] >= list[i - 1].x[1] - 0.01);
}

// The layout to draw at `width` px: the original, or its panels stacked (marked __stacked).
export function fitToWidth(layout, width) {
  const list = panels(layout);
  if (!(width > 0 && width < NARROW_PX) || !sideBySide(list, layout)) return layout;
  const n = list.length;
  const margin = layout.margin || {};
  const out = {
    ...layout, __stacked: true, height: n * PANEL_PX + 60,
    margin: { ...margin, l: Math.max(margin.l ?? 0, 55), r: Math.max(margin.r ?? 0, 10) },
  };
  list.forEach((p, i) => {
    const top = 1 - i / n - (i ? GAP / 2 : 0);
    const bottom = 1 - (i + 1) / n + (i < n - 1 ? GAP : 0);
    if (p.kind === "scene") {
      // A little further away, so the axis titles and tick labels fit the narrow panel.
      const camera = layout[p.key].camera || {};
      const eye = camera.eye || { x: 1.25, y: 1.25, z: 1.25 };
      const far = { x: eye.x * ZOOM_OUT, y: eye.y * ZOOM_OUT, z: eye.z * ZOOM_OUT };
      out[p.key] = { ...layout[p.key], domain: { x: [0, 1], y: [bottom, top] }, camera: { ...camera, eye: far } };
    } else {
      out[p.key] = { ...layout[p.key], domain: [0, 1] };
      out[p.y] = { ...(layout[p.y] || {}), domain: [bottom, top] };
    }
  });
  return out;
}
