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
      const bytes = new TextEncoder().encode(this.shared.data);
      // For this page only: the visitor's own saved data, if any, stays theirs.
      const words = "The data of the shared link is in use on this page; it is saved as yours only if you change it.";
      if (!this.dataPanel.sendBytes(bytes, "", words, false)) this.train();
    } else if (this.dataPanel && this.dataPanel.source() === "yours") {
      // The link was made without data of the sharer's own: this page drops the visitor's own
      // for the lesson's (a class's data stays, as the sharer's class saw it), and keeps it for
      // their next visit.
      this.step = "data";
      this.send({ type: "data_reset", forget: false });
    } else this.train();
  }

  onDataState() { if (this.step === "data") this.train(); }

  // Each training plot replays in frames of the page's speed, as Play ran it, so that the path
  // and the loss curve show the same points as the sharer's (at most MAX_FRAMES frames).
  train() {
    this.step = "done";
    for (const [plot, iterations] of Object.entries(this.shared.train || {})) {
      const select = document.querySelector(`[data-train="${plot}"] [data-train-speed]`);
      let speed = Math.max(1, Number(select?.value) || 1);
      speed = Math.min(10_000, Math.max(speed, Math.ceil(iterations / MAX_FRAMES)));
      for (let done = 0; done < iterations; done += speed) {
        this.send({ type: "train", plot, action: "step", speed: Math.min(speed, iterations - done) });
      }
    }
  }
}

const MAX_FRAMES = 400;

export function setupShare({ slug, snapshot }) {
  const make = document.getElementById("share-make");
  if (!make) return;
  const box = document.getElementById("share");
  const out = document.getElementById("share-link");
  const said = document.getElementById("share-state");
  const list = document.getElementById("share-links");
  const title = document.getElementById("share-links-title");
  const api = `/api/share/${encodeURIComponent(slug)}`;
  const headers = { "content-type": "application/json", "x-csrf-token": csrf() };

  async function stop(link) {
    const r = await fetch(`${api}/${encodeURIComponent(link.id)}`, {
      method: "DELETE", credentials: "same-origin", headers,
    }).catch(() => null);
    if (r?.ok && out.value === link.url) { out.value = ""; out.parentElement.hidden = true; }
    await refresh();  // the list first, then the words: what is said is what is shown
    said.textContent = r?.ok ? "Stopped: that link no longer works." : "The link could not be stopped; try again.";
    make.focus();  // the button pressed is gone
  }

  async function refresh() {
    const resp = await fetch(api, { credentials: "same-origin" }).catch(() => null);
    if (!resp?.ok) return;
    const { links } = await resp.json();
    list.textContent = "";
    list.hidden = title.hidden = !links.length;
    for (const link of links) {
      const li = document.createElement("li");
      const a = Object.assign(document.createElement("a"), { href: link.url, textContent: link.url });
      const button = Object.assign(document.createElement("button"), {
        type: "button", className: "small", textContent: "Stop sharing",
      });
      button.dataset.stopShare = link.id;
      button.setAttribute("aria-label", `Stop sharing ${link.url}`);
      button.addEventListener("click", () => stop(link));
      li.append(a, " ", button);
      list.append(li);
    }
  }

  box.addEventListener("toggle", () => { if (box.open) refresh(); });
  let busy = false;  // not `disabled`: a disabled button drops the keyboard focus
  make.addEventListener("click", async () => {
    if (busy) return;
    busy = true;
    said.textContent = "Making a link…";
    try {
      const resp = await fetch(api, {
        method: "POST", credentials: "same-origin", headers, body: JSON.stringify(snapshot()),
      });
      const body = await resp.json().catch(() => ({}));
      if (resp.ok) {
        out.value = body.url;
        out.parentElement.hidden = false;
        out.focus();  // the link first, selected for copying; then the words, then the list
        out.select();
        said.textContent = "Your link is ready: anyone who opens it sees this lesson as you see it now.";
        await refresh();
      } else said.textContent = `No link was made: ${body.detail || resp.statusText}`;
    } catch {
      said.textContent = "No link was made: no connection to the server.";
    } finally {
      busy = false;
    }
  });
}
