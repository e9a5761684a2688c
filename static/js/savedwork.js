// Saved work: each edit of a code cell is saved on the server shortly after typing stops, with
// a visible state per cell. Every save names the version it started from; when another tab saved
// since, the server answers 409 and the page asks which text to keep, so nothing is overwritten
// silently. Also the room banner and the private resume link.

const DELAY_MS = 700;
const RETRY_MS = 3000;
const LABELS = {
  saved: "Saved",
  pending: "Unsaved changes…",
  saving: "Saving…",
  conflict: "Not saved: changed in another tab or browser.",
  error: "Not saved yet (no connection?); retrying…",
  refused: "Not saved",
};

function csrf() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}

export async function loadSavedWork(slug) {
  try {
    const resp = await fetch(`/api/work/${encodeURIComponent(slug)}`, {
      credentials: "same-origin", headers: { accept: "application/json" },
    });
    return resp.ok ? await resp.json() : null;
  } catch {
    return null;
  }
}

export class AutoSave {
  constructor(slug, saved) {
    this.slug = slug;
    this.version = {};
    this.cells = {};
    for (const [id, cell] of Object.entries(saved?.cells || {})) this.version[id] = cell.version;
    window.addEventListener("pagehide", () => this.flushOnLeave());
  }

  // One editable cell: where its state is shown, and how to read and replace its text.
  attach(id, box, { get, set }) {
    const indicator = document.createElement("span");
    indicator.className = "save-state";
    indicator.dataset.saveState = id;
    indicator.setAttribute("role", "status");
    box.append(indicator);
    this.cells[id] = { indicator, get, set, timer: null, saving: false, again: false, applying: false };
    if (this.version[id]) this.show(id, "saved");
  }

  show(id, state, extra) {
    const cell = this.cells[id];
    cell.state = state;
    cell.indicator.dataset.state = state;
    cell.indicator.textContent = extra || LABELS[state];
  }

  changed(id) {
    const cell = this.cells[id];
    if (!cell || cell.applying) return;
    if (cell.state === "conflict") return; // the learner decides first
    this.show(id, "pending");
    clearTimeout(cell.timer);
    cell.timer = setTimeout(() => this.save(id), DELAY_MS);
  }

  async save(id) {
    const cell = this.cells[id];
    clearTimeout(cell.timer);
    if (cell.saving) { cell.again = true; return; }
    cell.saving = true;
    const code = cell.get();
    this.show(id, "saving");
    let resp = null;
    try {
      resp = await fetch(this.url(id), this.request(code, this.version[id] || 0));
    } catch {
      resp = null;
    }
    cell.saving = false;
    if (resp === null || resp.status >= 500) {
      this.show(id, "error");
      cell.timer = setTimeout(() => this.save(id), RETRY_MS);
      return;
    }
    const body = await resp.json().catch(() => ({}));
    if (resp.ok) {
      this.version[id] = body.version;
      if (cell.again || cell.get() !== code) { cell.again = false; this.save(id); return; }
      this.show(id, "saved");
    } else if (resp.status === 409) {
      this.conflict(id, body);
    } else {
      this.show(id, "refused", `Not saved: ${body.detail || resp.statusText}`);
    }
  }

  conflict(id, theirs) {
    const cell = this.cells[id];
    cell.again = false;
    this.show(id, "conflict");
    const keep = document.createElement("button");
    keep.type = "button";
    keep.className = "small";
    keep.dataset.keepMine = id;
    keep.textContent = "Keep mine";
    keep.title = "Save the text in this tab over the other one";
    const take = document.createElement("button");
    take.type = "button";
    take.className = "small";
    take.dataset.takeTheirs = id;
    take.textContent = "Load the other version";
    cell.indicator.append(keep, take);
    keep.addEventListener("click", () => {
      this.version[id] = theirs.version;
      cell.state = "pending";
      this.save(id);
    });
    take.addEventListener("click", () => {
      this.version[id] = theirs.version;
      cell.applying = true;
      try { cell.set(theirs.code); } finally { cell.applying = false; }
      this.show(id, "saved");
    });
  }

  url(id) {
    return `/api/work/${encodeURIComponent(this.slug)}/cells/${encodeURIComponent(id)}`;
  }

  request(code, version, extra = {}) {
    return {
      method: "PUT",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf() },
      body: JSON.stringify({ code, version }),
      ...extra,
    };
  }

  // Leaving the page with a save still waiting for its timer: send it now; the browser keeps
  // the request alive after the page is gone.
  flushOnLeave() {
    for (const [id, cell] of Object.entries(this.cells)) {
      if (cell.state === "pending") {
        clearTimeout(cell.timer);
        fetch(this.url(id), this.request(cell.get(), this.version[id] || 0, { keepalive: true }))
          .catch(() => {});
      }
    }
  }
}

export function showRoom(saved) {
  const banner = document.getElementById("room-banner");
  if (!banner) return;
  if (saved?.room) {
    banner.textContent = `You are in the class “${saved.room.name}” as ${saved.room.you}. ` +
      "Your teacher sees your progress and your code.";
  } else if (saved?.notice) {
    banner.textContent = saved.notice;
  } else return;
  banner.hidden = false;
}

export function resumeLink() {
  const button = document.getElementById("resume-make");
  const out = document.getElementById("resume-link");
  if (!button || !out) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const resp = await fetch("/api/me/resume-link", {
        method: "POST", credentials: "same-origin", headers: { "x-csrf-token": csrf() },
      });
      const body = await resp.json();
      out.value = resp.ok ? body.url : `Could not make a link: ${body.detail}`;
      out.hidden = false;
      out.select();
      button.textContent = "Make a new link (the old one stops working)";
    } finally {
      button.disabled = false;
    }
  });
}
