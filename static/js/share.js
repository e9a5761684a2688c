// Share links: a snapshot of the lesson as the learner sees it (code, sliders, data, how far
// each training plot got). Opening one (/s/<id> -> /lessons/<slug>?share=<id>) shows that
// state as the visitor's own copy: their own kernel, and their own saved work for what they edit.

function csrf() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}

// The snapshot the page was opened with, or null (with words on the page when it is gone).
export async function loadShare() {
  const id = new URLSearchParams(location.search).get("share");
  if (!id) return null;
  try {
    const resp = await fetch(`/api/shared/${encodeURIComponent(id)}`, { credentials: "same-origin" });
    const body = await resp.json();
    if (!resp.ok) return { gone: body.detail || "This link does not work." };
    return body;
  } catch {
    return { gone: "The shared state could not be loaded." };
  }
}

// The shared code in place of the visitor's (their saved versions are kept, so their edits
// save to their own work), and the shared slider values in the inputs before the page opens.
export function applyShareBefore(shared, saved) {
  if (!shared || shared.gone) return saved;
  const cells = { ...(saved?.cells || {}) };
  for (const [id, code] of Object.entries(shared.cells || {})) {
    cells[id] = { code, version: cells[id]?.version || 0 };
  }
  for (const [name, value] of Object.entries(shared.values || {})) {
    const input = document.querySelector(`input[data-slider="${name}"]`);
    if (input) input.value = String(value);
  }
  return { ...(saved || {}), cells };
}

// Once the kernel ran the code: the shared data, then each training plot's iterations.
export class ShareReplay {
  constructor(shared, send, dataPanel) {
    this.shared = shared && !shared.gone ? shared : null;
    this.send = send;
    this.dataPanel = dataPanel;
    this.step = this.shared ? "start" : "done";
  }

  onIdle() {
    if (this.step !== "start") return;
    if (this.shared.data && this.dataPanel) {
      this.step = "data";
      this.dataPanel.sendBytes(new TextEncoder().encode(this.shared.data), "the shared data");
    } else this.train();
  }

  onDataState() { if (this.step === "data") this.train(); }

  train() {
    this.step = "done";
    for (const [plot, iterations] of Object.entries(this.shared.train || {})) {
      if (iterations > 0) this.send({ type: "train", plot, action: "step", speed: iterations });
    }
  }
}

export function setupShare({ slug, snapshot }) {
  const make = document.getElementById("share-make");
  if (!make) return;
  const out = document.getElementById("share-link");
  const said = document.getElementById("share-state");
  const list = document.getElementById("share-links");
  const api = `/api/share/${encodeURIComponent(slug)}`;
  const headers = { "content-type": "application/json", "x-csrf-token": csrf() };

  async function refresh() {
    const resp = await fetch(api, { credentials: "same-origin" }).catch(() => null);
    if (!resp?.ok) return;
    const { links } = await resp.json();
    list.textContent = "";
    for (const link of links) {
      const li = document.createElement("li");
      const a = Object.assign(document.createElement("a"), { href: link.url, textContent: link.url });
      const stop = Object.assign(document.createElement("button"), {
        type: "button", className: "small", textContent: "Stop sharing",
      });
      stop.dataset.stopShare = link.id;
      stop.setAttribute("aria-label", `Stop sharing ${link.url}`);
      stop.addEventListener("click", async () => {
        const r = await fetch(`${api}/${encodeURIComponent(link.id)}`, {
          method: "DELETE", credentials: "same-origin", headers,
        }).catch(() => null);
        said.textContent = r?.ok ? "That link no longer works." : "The link could not be stopped; try again.";
        refresh();
      });
      li.append(a, " ", stop);
      list.append(li);
    }
  }

  document.getElementById("share").addEventListener("toggle", (e) => { if (e.target.open) refresh(); });
  make.addEventListener("click", async () => {
    make.disabled = true;
    try {
      const resp = await fetch(api, {
        method: "POST", credentials: "same-origin", headers, body: JSON.stringify(snapshot()),
      });
      const body = await resp.json().catch(() => ({}));
      if (resp.ok) {
        out.value = body.url;
        out.hidden = false;
        out.select();
        said.textContent = "Anyone with this link sees this lesson as you see it now.";
      } else said.textContent = `No link was made: ${body.detail || resp.statusText}`;
      refresh();
    } catch {
      said.textContent = "No link was made: no connection to the server.";
    } finally {
      make.disabled = false;
    }
  });
}
