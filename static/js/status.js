// What the page tells the learner about its state: a banner that follows the scroll when the
// connection is lost (and says the kernel is fresh once it is back), plots greyed while they no
// longer match their sliders, a Stop button and a timer on a running cell, and messages written
// in Markdown shown rendered.

const esc = (text) => String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

// A small, safe subset of Markdown: paragraphs, line breaks, `code`, **bold**, *emphasis*.
// Everything is escaped first, so no message can inject markup.
export function markdown(text) {
  const inline = (s) => esc(s)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^*\w])\*([^*\s][^*]*)\*(?!\w)/g, "$1<em>$2</em>")
    .replace(/\n/g, "<br>");
  const paras = String(text || "").trim().split(/\n\s*\n/);
  return paras.length > 1 ? paras.map((p) => `<p>${inline(p)}</p>`).join("") : inline(paras[0] || "");
}

export class ConnectionBanner {
  constructor(el) {
    this.el = el;
    this.lost = false;
    this.timer = null;
  }

  show(text, kind) {
    clearTimeout(this.timer);
    this.el.textContent = text;
    this.el.dataset.kind = kind;
    this.el.hidden = false;
  }

  hide() { this.el.hidden = true; }

  // The socket's state: while it is lost every plot is greyed (its sliders may have moved since).
  onState(state) {
    if (state === "lost" && !this.lost) {
      this.lost = true;
      this.show("Connection lost: reconnecting… Your code stays in this page; plots are greyed until they are up to date again.", "lost");
      for (const div of document.querySelectorAll("[data-plot]")) markStale(div, true);
    } else if (state === "open" && this.lost) {
      this.lost = false;
      this.show("Connected again. Your kernel is fresh: the lesson's cells ran again with the code on this page.", "back");
      this.timer = setTimeout(() => this.hide(), 8000);
    }
  }
}

export function markStale(div, stale) {
  if (!div) return;
  div.classList.toggle("stale", stale);
  if (stale) div.dataset.stale = "true";
  else delete div.dataset.stale;
}

// A running cell: its own Stop button and a timer, from Run until its output arrives.
export class RunTimers {
  constructor(onStop) {
    this.running = new Map();
    for (const b of document.querySelectorAll("[data-stop]")) b.addEventListener("click", () => onStop(b.dataset.stop));
  }

  start(cell) {
    this.stop(cell);
    const timer = document.querySelector(`[data-timer="${cell}"]`);
    const stop = document.querySelector(`[data-stop="${cell}"]`);
    const t0 = performance.now();
    const tick = () => { if (timer) timer.textContent = `running ${((performance.now() - t0) / 1000).toFixed(1)} s`; };
    tick();
    if (timer) timer.hidden = false;
    if (stop) stop.hidden = false;
    this.running.set(cell, setInterval(tick, 100));
  }

  stop(cell) {
    clearInterval(this.running.get(cell));
    this.running.delete(cell);
    const timer = document.querySelector(`[data-timer="${cell}"]`);
    const stop = document.querySelector(`[data-stop="${cell}"]`);
    if (timer) timer.hidden = true;
    if (stop) {
      if (stop.contains(document.activeElement)) document.querySelector(`[data-run="${cell}"]`)?.focus();
      stop.hidden = true;
    }
  }

  stopAll() { for (const cell of [...this.running.keys()]) this.stop(cell); }
}
